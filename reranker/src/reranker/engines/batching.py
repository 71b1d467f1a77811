"""Cross-request batching: chunks that arrive together are scored in one pass.

Weaviate sends a query's documents as several concurrent 32-document requests, and several
queries may overlap. `Coalescer` puts every request on a queue; one worker thread takes all
that is waiting (up to `max_pairs`, after a short `gather_seconds` window so that the
sibling chunks of a query, sent at the same moment, join the first), scores the pairs together — so the engine can sort them
by length across requests and pad less — and hands each request its own scores back, in its
input order. Requests that arrive while a pass runs form the next one.
The single worker also serialises the model and its tokenizer, which are not shared safely
between threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

Pairs = list[tuple[str, str]]
ScorePairs = Callable[[Pairs], Sequence[float]]


class Coalescer:
    """Runs `score_pairs` on one worker thread over the union of waiting requests."""

    def __init__(self, score_pairs: ScorePairs, *, max_pairs: int = 256,
                 gather_seconds: float = 0.005, name: str = "coalescer") -> None:
        self._score_pairs = score_pairs
        self._max_pairs = max_pairs
        self._gather_seconds = gather_seconds
        self._queue: queue.SimpleQueue[tuple[Pairs, Future] | None] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    def score(self, query: str, documents: list[str]) -> list[float]:
        """Scores for `documents` against `query`, in input order (blocks until done)."""
        if not documents:
            return []
        future: Future = Future()
        self._queue.put(([(query, d) for d in documents], future))
        return future.result()

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._queue.put(None)
        self._worker.join(timeout=30)

    def _take_batch(self) -> tuple[list[tuple[Pairs, Future]], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch, size = [first], len(first[0])
        deadline = time.monotonic() + self._gather_seconds
        while size < self._max_pairs:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # finish this batch, then stop
                break
            batch.append(item)
            size += len(item[0])
        return batch, False

    def _run(self) -> None:
        while True:
            batch, stop = self._take_batch()
            if stop:
                return
            pairs = [pair for item_pairs, _ in batch for pair in item_pairs]
            try:
                scores = list(self._score_pairs(pairs))
                if len(scores) != len(pairs):
                    raise RuntimeError(f"engine gave {len(scores)} scores for {len(pairs)} pairs")
            except BaseException as exc:  # noqa: BLE001 - every waiting request gets the error
                for _, future in batch:
                    future.set_exception(exc)
                continue
            start = 0
            for item_pairs, future in batch:
                future.set_result([float(s) for s in scores[start : start + len(item_pairs)]])
                start += len(item_pairs)
