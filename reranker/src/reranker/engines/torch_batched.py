"""PyTorch engines with cross-request batching: `torch-batched` (fp32) and `torch-bf16`.

Plain transformers (no sentence-transformers in the scoring path): requests are coalesced
(`batching.Coalescer`), the pairs of a pass sorted by token length and run in micro-batches of
`BATCH_SIZE`, so padding stays small; the last layer runs for the first token only
(`first_token`). `torch-bf16` runs the forward pass under CPU autocast to
bfloat16 (fast where the CPU has AVX512_BF16 or AMX; slow emulation elsewhere). Scores go
through the activation the model configures, as in sentence-transformers' CrossEncoder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from reranker.engines.batching import Coalescer, Pairs
from reranker.engines.first_token import first_token_only
from reranker.engines.onnx import activation_of, max_length_of
from reranker.settings import Settings

# Pairs per forward pass: 8 length-sorted pairs ran ~1.3x the pairs/s of 32 (docs/bench.md).
DEFAULT_BATCH_SIZE = 8


class TorchBatchedEngine:
    """transformers' sequence classifier behind a Coalescer, fp32 or bf16 autocast."""

    def __init__(self, model_dir: Path, *, bf16: bool = False,
                 batch_size: int = DEFAULT_BATCH_SIZE,
                 max_length: int | None = None, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self._torch = torch
        self._config = json.loads((self.model_dir / "config.json").read_text())
        if len(self._config.get("id2label") or {0: 0}) != 1:
            raise ValueError("a reranker needs a single-label model (num_labels=1)")
        self._activation = activation_of(self._config)
        self._max_length = max_length_of(self.model_dir, self._config, max_length)
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        self._model = AutoModelForSequenceClassification.from_pretrained(
            str(self.model_dir)).to(device).eval()
        first_token_only(self._model)  # the last layer for [CLS] only: same scores, ~14 % less work
        self._device = device
        self._bf16 = bf16
        self._coalescer = Coalescer(self._score_pairs, name="torch-batched")

    @classmethod
    def fp32(cls, settings: Settings) -> "TorchBatchedEngine":
        return cls(settings.model_dir, batch_size=settings.batch_size or DEFAULT_BATCH_SIZE,
                   max_length=settings.max_seq_length, device=settings.device)

    @classmethod
    def bf16(cls, settings: Settings) -> "TorchBatchedEngine":
        return cls(settings.model_dir, bf16=True,
                   batch_size=settings.batch_size or DEFAULT_BATCH_SIZE,
                   max_length=settings.max_seq_length, device=settings.device)

    def score(self, query: str, documents: list[str]) -> list[float]:
        return self._coalescer.score(query, documents)

    def meta(self) -> dict[str, Any]:
        return dict(self._config)

    def _score_pairs(self, pairs: Pairs) -> np.ndarray:
        torch = self._torch
        # Tokenize once, unpadded; each length-sorted micro-batch is padded to its own longest.
        encoded = self._tokenizer([q for q, _ in pairs], [d for _, d in pairs],
                                  truncation=True, max_length=self._max_length)
        order = sorted(range(len(pairs)), key=lambda i: len(encoded["input_ids"][i]))
        scores = np.empty(len(pairs), dtype=np.float64)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=self._bf16):
            for start in range(0, len(order), self.batch_size):
                part = order[start : start + self.batch_size]
                batch = self._tokenizer.pad([{k: v[i] for k, v in encoded.items()} for i in part],
                                            return_tensors="pt")
                logits = self._model(**batch.to(self._device)).logits
                scores[part] = logits[:, 0].float().cpu().numpy()
        return self._activation(scores)
