"""The base of the coalescing engines: `onnx`, `onnx-int8`, `torch-batched`, `torch-bf16`.

`BatchingEngine` owns what they share: the model's config.json (what `/meta` shows; a reranker
needs one label), the activation sentence-transformers' CrossEncoder would apply, the truncation
length and the cut of long texts before tokenizing (`text_cut`), the `Coalescer` that merges
concurrent requests into passes of at most MAX_PASS_TOKENS (`batching`), and the pass
itself: the pairs tokenized once, sorted by token count and run in micro-batches of at most
`batch_size` pairs and `max_batch_tokens` padded tokens, each padded to its own longest pair, so
padding stays small, activations stay in the CPU caches, and long inputs (8,192 tokens for
bge-reranker-v2-m3) go one or two to a pass instead of exhausting memory. A subclass loads its model in `_load` and gives `_tokenize` and `_forward`
(and its own `default_batch_size`). Its class is its factory: `cls(settings)`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reranker import metrics
from reranker.engines.batching import Coalescer, Pairs, Wanted, all_wanted
from reranker.engines.text_cut import cut_texts, max_chars_of
from reranker.settings import Settings
from reranker.watch import Watch


def activation_of(config: dict[str, Any]):
    """The activation sentence-transformers would apply for this config, as a numpy function."""
    name = config.get("sbert_ce_default_activation_function")
    st_block = config.get("sentence_transformers")
    if name is None and isinstance(st_block, dict):
        name = st_block.get("activation_fn")
    if name is None:
        if config.get("num_labels", len(config.get("id2label") or {0: 0})) == 1:
            name = "torch.nn.modules.activation.Sigmoid"
        else:
            name = "torch.nn.modules.linear.Identity"
    short = name.rsplit(".", 1)[-1]
    if short == "Identity":
        return lambda x: x
    if short == "Sigmoid":
        return lambda x: 1.0 / (1.0 + np.exp(-x))
    raise ValueError(f"unsupported activation {name!r} in config.json")


# Families that number positions after the padding id: 514 positions hold 512 tokens.
OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert")


def position_limit(config: dict[str, Any]) -> int:
    """The most tokens the model's position embeddings take."""
    positions = int(config.get("max_position_embeddings", 512))
    pad = config.get("pad_token_id")
    if config.get("model_type") in OFFSET_POSITIONS and isinstance(pad, int):
        positions -= pad + 1
    return positions


def max_length_of(model_dir: Path, config: dict[str, Any], override: int | None) -> int:
    """Truncation length, as CrossEncoder's: the setting, else the tokenizer's
    model_max_length; either capped by the positions the model has."""
    positions = position_limit(config)
    if override:
        return min(override, positions)
    limit = positions
    tok_config = model_dir / "tokenizer_config.json"
    if tok_config.exists():
        value = json.loads(tok_config.read_text()).get("model_max_length")
        if isinstance(value, (int, float)) and 0 < value < 1e9:
            limit = min(int(value), positions)
    return limit


def micro_batches(lengths: Sequence[int], max_pairs: int, max_tokens: int) -> list[list[int]]:
    """The pairs' indices sorted by length, cut into passes of at most `max_pairs` pairs whose
    padded size (pairs x the longest) stays within `max_tokens` (one pair at least)."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    parts: list[list[int]] = []
    for index in order:  # ascending: the newest pair is the longest of its pass
        part = parts[-1] if parts else None
        if (part is None or len(part) >= max_pairs
                or (len(part) + 1) * lengths[index] > max_tokens):
            parts.append([index])
        else:
            part.append(index)
    return parts


class BatchingEngine(ABC):
    """A single-label cross-encoder behind a Coalescer, scored in length-sorted micro-batches."""

    # Pairs per forward pass when BATCH_SIZE is unset; each engine measures its own.
    default_batch_size: ClassVar[int]
    # Padded tokens per forward pass when MAX_BATCH_TOKENS is unset: bounds activation memory.
    default_batch_tokens: ClassVar[int] = 16384
    # The arithmetic the model runs in ("fp32", "bf16", "int8"): which parity bar applies.
    precision: str = "fp32"

    def __init__(self, settings: Settings) -> None:
        self.model_dir = Path(settings.model_dir)
        self.batch_size = settings.batch_size or self.default_batch_size
        self.batch_tokens = settings.max_batch_tokens or self.default_batch_tokens
        self._config = json.loads((self.model_dir / "config.json").read_text())
        if len(self._config.get("id2label") or {0: 0}) != 1:
            raise ValueError("a reranker needs a single-label model (num_labels=1)")
        self._activation = activation_of(self._config)
        self.max_length = max_length_of(self.model_dir, self._config, settings.max_seq_length)
        self.max_chars = max_chars_of(self.max_length, settings.max_text_chars)
        self._load(settings)
        # Last: the worker thread starts only for an engine that loaded.
        self._coalescer = Coalescer(self._score_pairs, max_tokens=settings.max_pass_tokens,
                                    name=type(self).__name__)

    def score(self, query: str, documents: list[str], *,
              deadline: float | None = None, watch: Watch | None = None) -> list[float]:
        query, documents = cut_texts(query, documents, self.max_chars)
        return self._coalescer.score(query, documents, deadline, watch)

    def meta(self) -> dict[str, Any]:
        return dict(self._config)

    def _score_pairs(self, pairs: Pairs, wanted: Wanted = all_wanted) -> np.ndarray:
        """A pass: one score per pair; a micro-batch none of whose pairs is `wanted` any more
        when its turn comes is not run (its scores are NaN)."""
        encoded, lengths = self._tokenize(pairs)
        parts = micro_batches(lengths, self.batch_size, self.batch_tokens)
        scores = np.full(len(pairs), np.nan, dtype=np.float64)
        outputs = self._forward_all([[encoded[i] for i in part] for part in parts],
                                    lambda index: wanted(parts[index]))
        run = [part for part, logits in zip(parts, outputs) if logits is not None]
        for part, logits in zip(parts, outputs):
            if logits is not None:
                scores[part] = logits
        metrics.pass_shape([lengths[i] for part in run for i in part], self.max_length,
                           map(len, run))
        return self._activation(scores)

    def _forward_all(self, batches: list[list[Any]],
                     wanted: Callable[[int], bool]) -> list[np.ndarray | None]:
        """`_forward` of every micro-batch of a pass, in order, each only if `wanted(index)`
        says so when its turn comes (None in its place otherwise); an engine that can keep
        several in flight (and prepare the next while one runs) does so here."""
        return [self._forward(batch) if wanted(index) else None
                for index, batch in enumerate(batches)]

    @abstractmethod
    def _load(self, settings: Settings) -> None:
        """Load the tokenizer and the model (truncating to `self.max_length`)."""

    @abstractmethod
    def _tokenize(self, pairs: Pairs) -> tuple[Sequence[Any], Sequence[int]]:
        """The pairs tokenized without padding, and each one's token count."""

    @abstractmethod
    def _forward(self, encoded: list[Any]) -> np.ndarray:
        """The first logit of each pair of one micro-batch, as float64."""
