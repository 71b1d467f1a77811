"""Cross-request batching: chunks that arrive together are scored in one pass.

Weaviate sends a query's documents as several concurrent 32-document requests, and several
queries may overlap. `Coalescer` puts every request on a queue; one worker thread forms passes
and scores each with one call, so the engine can sort a query's pairs by length across its
chunks and pad less. A pass is the oldest waiting request plus every waiting request for the
same query text (up to `max_pairs`), after a short `gather_seconds` window so that the sibling
chunks, sent at the same moment, join it. Other queries wait for the next pass: a burst of
queries is answered one after another in arrival order (the first after one query's work, not
after the whole burst's), at no cost in speed, since one query already fills many
micro-batches. Under a steady load of N clients latency is N queries' work either way. Each
request gets its own scores back, in its input order.
The single worker also serialises the model and its tokenizer, which are not shared safely
between threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from reranker import metrics

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
        self._pending: deque[tuple[Pairs, Future]] = deque()  # taken, not yet scored
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    def score(self, query: str, documents: list[str]) -> list[float]:
        """Scores for `documents` against `query`, in input order (blocks until done)."""
        if not documents:
            return []
        future: Future = Future()
        future.queued_at = time.perf_counter()  # type: ignore[attr-defined]  # queue wait
        self._queue.put(([(query, d) for d in documents], future))
        return future.result()

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._queue.put(None)
        self._worker.join(timeout=30)

    def _take_batch(self) -> tuple[list[tuple[Pairs, Future]], bool]:
        """The next pass: the oldest request and the waiting ones for the same query."""
        if not self._pending:
            first = self._queue.get()
            if first is None:
                return [], True
            self._pending.append(first)
            self._drain(until=time.monotonic() + self._gather_seconds)
        else:
            self._drain(until=None)
        query = self._pending[0][0][0][0]
        batch, size, rest = [], 0, deque()
        for item in self._pending:
            if item[0][0][0] == query and (not batch or size + len(item[0]) <= self._max_pairs):
                batch.append(item)
                size += len(item[0])
            else:
                rest.append(item)
        self._pending = rest
        return batch, False

    def _drain(self, until: float | None) -> None:
        """Move queued requests to `_pending`: waiting until `until`, or only those queued."""
        while not self._stopping:
            try:
                if until is None:
                    item = self._queue.get_nowait()
                else:
                    item = self._queue.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                return
            if item is None:
                self._stopping = True  # finish what is pending, then stop
                return
            self._pending.append(item)

    def _run(self) -> None:
        while True:
            if self._stopping and not self._pending:
                return
            batch, stop = self._take_batch()
            if stop:
                return
            pairs = [pair for item_pairs, _ in batch for pair in item_pairs]
            started = time.perf_counter()
            for _, future in batch:
                metrics.queue_wait(started - getattr(future, "queued_at", started))
            try:
                with metrics.inference():
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
