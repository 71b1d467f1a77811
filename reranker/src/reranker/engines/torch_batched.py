"""PyTorch engines with cross-request batching: `torch-batched` (fp32) and `torch-bf16`.

Plain transformers (no sentence-transformers in the scoring path); coalescing, length-sorted
micro-batches (`BATCH_SIZE`, default 8) and the model's activation come from
`base.BatchingEngine`. The last layer runs for the first token only (`first_token`).
`torch-bf16` runs the forward pass under CPU autocast to bfloat16 (fast where the CPU has
AVX512_BF16 or AMX; slow emulation elsewhere).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reranker import architecture
from reranker.engines.base import BatchingEngine
from reranker.engines.batching import Pairs
from reranker.engines.first_token import first_token_only
from reranker.settings import Settings


class TorchBatchedEngine(BatchingEngine):
    """`torch-batched`: transformers' sequence classifier in fp32."""

    # 8 length-sorted pairs per pass ran ~1.3x the pairs/s of 32 (docs/bench.md).
    default_batch_size = 8
    bf16 = False

    def _load(self, settings: Settings) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        architecture.require_known(self._config)  # one clear line, not transformers' traceback
        self._torch = torch
        self._device = settings.device
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        self._model = AutoModelForSequenceClassification.from_pretrained(
            str(self.model_dir)).to(self._device).eval()
        first_token_only(self._model)  # the last layer for [CLS] only: same scores, ~14 % less work

    def _tokenize(self, pairs: Pairs) -> tuple[list[dict[str, Any]], list[int]]:
        # Unpadded: each micro-batch is padded to its own longest pair in _forward.
        encoded = self._tokenizer([q for q, _ in pairs], [d for _, d in pairs],
                                  truncation=True, max_length=self.max_length)
        features = [{k: v[i] for k, v in encoded.items()} for i in range(len(pairs))]
        return features, [len(ids) for ids in encoded["input_ids"]]

    def _forward(self, features: list[dict[str, Any]]) -> np.ndarray:
        torch = self._torch
        batch = self._tokenizer.pad(features, return_tensors="pt").to(self._device)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=self.bf16):
            logits = self._model(**batch).logits
        return logits[:, 0].float().cpu().numpy()


class TorchBf16Engine(TorchBatchedEngine):
    """`torch-bf16`: the same, the forward pass under bfloat16 autocast."""

    bf16 = True
    precision = "bf16"
