"""The reference engine: sentence-transformers `CrossEncoder` on PyTorch.

Scores are exactly `CrossEncoder(model_dir).predict(pairs)`: the activation is the one the
model configures (ms-marco models: identity, so raw logits). One lock serialises scoring:
Hugging Face fast tokenizers are not safe to share between threads ("Already borrowed"), and
on a CPU concurrent forward passes only fight over the same cores. The lock is handed on
first come, first served (`reranker.fifo`). A request that is dropped (`reranker.watch`)
leaves the wait at once, and one that is being scored stops before the next batch of
`predict`: a hook before each forward pass of the model asks, so `predict` itself, and its
scores, are untouched.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from reranker import architecture, metrics
from reranker.admission import Overloaded
from reranker.engines.base import max_length_of
from reranker.engines.text_cut import cut_texts, max_chars_of
from reranker.fifo import FifoLock
from reranker.settings import Settings
from reranker.watch import Watch


class _Stop(Exception):
    """Raised before a forward pass of a request that was dropped: `predict` stops there."""


class CrossEncoderEngine:
    """Scores (query, document) pairs with a sentence-transformers CrossEncoder."""

    precision = "fp32"  # the reference every other engine is measured against

    def __init__(self, model_dir: Path, *, device: str = "cpu", batch_size: int = 32,
                 max_length: int | None = None, max_chars: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        architecture.require_known(architecture.read_config(self.model_dir))  # one clear line
        # Heavy imports happen only when this engine is chosen.
        from sentence_transformers import CrossEncoder
        from transformers import AutoConfig
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bars in server logs
        self.batch_size = batch_size

        # What the official image's /meta shows. Read separately because sentence-transformers
        # removes its activation key from the model's in-memory config.
        self._config = AutoConfig.from_pretrained(str(self.model_dir)).to_dict()
        # As CrossEncoder truncates (the coalescing engines use the same rule).
        self.max_length = max_length_of(self.model_dir, self._config, max_length)
        self.max_chars = max_chars_of(self.max_length, max_chars)
        kwargs: dict[str, Any] = {"device": device}
        if max_length is not None:
            kwargs["max_length"] = max_length
        self._model = CrossEncoder(str(self.model_dir), **kwargs)
        self._lock = FifoLock()
        self._scoring: Watch | None = None  # the watch of the request being scored
        for module in self._forward_modules(self._model):
            module.register_forward_pre_hook(self._before_forward)

    @classmethod
    def from_settings(cls, settings: Settings) -> "CrossEncoderEngine":
        # 32 unless set: CrossEncoder.predict's own default, so scores match it exactly.
        return cls(settings.model_dir, device=settings.device,
                   batch_size=settings.batch_size or 32,
                   max_length=settings.max_seq_length, max_chars=settings.max_text_chars)

    @staticmethod
    def _forward_modules(model) -> list:
        """The transformers models inside the CrossEncoder (the classifier and its encoder):
        one of them at least is called for each batch of `predict`, whichever calls the other
        directly, in any sentence-transformers version."""
        from transformers import PreTrainedModel

        return [m for m in model.modules() if isinstance(m, PreTrainedModel)]

    def _before_forward(self, _module, _args) -> None:
        watch = self._scoring
        if watch is not None and watch.is_dropped:
            raise _Stop()

    def score(self, query: str, documents: list[str], *,
              deadline: float | None = None, watch: Watch | None = None) -> list[float]:
        if not documents:
            return []
        query, documents = cut_texts(query, documents, self.max_chars)
        pairs = [[query, document] for document in documents]
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        dropped = None if watch is None else watch.dropped
        if not self._lock.acquire(wait, until=dropped):  # busy past the deadline, or dropped
            if watch is not None and watch.is_dropped:
                raise watch.error()
            raise Overloaded.not_started()
        try:
            self._scoring = watch
            with metrics.inference():
                scores = self._model.predict(pairs, batch_size=self.batch_size,
                                             show_progress_bar=False, convert_to_numpy=True)
        except _Stop:
            assert watch is not None  # only a watched request stops
            raise watch.error() from None
        finally:
            self._scoring = None
            self._lock.release()
        metrics.pairs_scored(len(pairs))
        if scores.ndim != 1:
            raise ValueError(f"the model gives {scores.shape[1:]} scores per pair; "
                             "a reranker needs a single-label model (num_labels=1)")
        return [float(value) for value in scores]

    def meta(self) -> dict[str, Any]:
        return dict(self._config)
