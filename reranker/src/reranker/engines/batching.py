"""Cross-request batching: chunks that arrive together are scored in one pass, and no pass is
larger than its budget.

Weaviate sends a query's documents as several concurrent 32-document requests, and several
queries may overlap. `Coalescer` puts every request on a queue; one worker thread forms passes
and scores each with one call, so the engine can sort a query's pairs by length across its
chunks and pad less. A pass is the oldest waiting request plus the waiting requests for the
same query text, after a short `gather_seconds` window so that the sibling chunks, sent at the
same moment, join it. Other queries wait for the next pass: a burst of queries is answered one
after another in arrival order (the first after one query's work, not after the whole burst's),
at no cost in speed, since one query already fills many micro-batches. Under a steady load of
N clients latency is N queries' work either way. Each request gets its own scores back, in its
input order. The single worker also serialises the model and its tokenizer, which are not
shared safely between threads.

A pass holds at most `max_pairs` pairs and `max_tokens` tokens, counted before tokenizing as
the texts' UTF-8 bytes (`text_tokens`): no tokenizer makes a token of less than one byte, so
this bounds what tokenizing a pass allocates, truncation's overflow included. A request larger
than that — the first one too — is scored in slices, one pass after another (one pair at
least per pass). A request may carry a deadline: when no pass has started on it by then, it
leaves the queue unscored and its caller gets `Overloaded`. Once started, it runs to its end
unless it is dropped (its `Watch`: the client has gone, or REQUEST_TIMEOUT has passed; see
`reranker.watch`): its caller gets `Dropped` at once, and the worker scores no more of it —
no pass takes it, and a pass under way skips the micro-batches that hold only pairs of
dropped requests (`score_pairs`' `wanted`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from itertools import islice

from reranker import metrics
from reranker.admission import Overloaded
from reranker.watch import Watch

Pairs = list[tuple[str, str]]
# Whether any of these pairs (indices into the pass) is still wanted by a request.
Wanted = Callable[[Sequence[int]], bool]
# A pass: its pairs and `wanted` -> one score per pair (any value for a pair not wanted).
ScorePairs = Callable[[Pairs, Wanted], Sequence[float]]


def all_wanted(_indices: Sequence[int]) -> bool:
    return True


def text_tokens(text: str) -> int:
    """The most tokens `text` can become: its UTF-8 bytes (a token, even a byte-level piece,
    covers at least one byte). A lone surrogate, which JSON may carry, counts 3."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class _Job:
    """One request on the queue: its pairs and their token bounds, how many of them passes
    have taken, and the scores of the slices done so far."""

    __slots__ = ("query", "pairs", "costs", "taken", "scores", "future", "queued_at", "watch")

    def __init__(self, query: str, documents: list[str], watch: Watch | None = None) -> None:
        query_cost = text_tokens(query)
        self.query = query
        self.pairs: Sequence[tuple[str, str]] = [(query, d) for d in documents]
        self.costs: Sequence[int] = [query_cost + text_tokens(d) for d in documents]
        self.taken = 0
        self.scores: list[float] = []
        self.future: Future = Future()
        self.queued_at = time.perf_counter()
        self.watch = watch

    @property
    def dropped(self) -> bool:
        """Nobody waits for it any more: the rest of it is not scored."""
        return self.watch is not None and self.watch.is_dropped


Part = tuple[_Job, int, int]  # a job's pairs [start, end) in one pass


class Coalescer:
    """Runs `score_pairs` on one worker thread over the union of waiting requests."""

    def __init__(self, score_pairs: ScorePairs, *, max_pairs: int = 256,
                 max_tokens: int = 262144, gather_seconds: float = 0.005,
                 name: str = "coalescer") -> None:
        self._score_pairs = score_pairs
        self._max_pairs = max_pairs
        self._max_tokens = max_tokens
        self._gather_seconds = gather_seconds
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending: deque[_Job] = deque()  # taken off the queue, not finished
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    def score(self, query: str, documents: list[str], deadline: float | None = None,
              watch: Watch | None = None) -> list[float]:
        """Scores for `documents` against `query`, in input order (blocks until done).

        `deadline` (time.monotonic()): when no pass has started on the request by then,
        raise `Overloaded` instead; the request is never scored. `watch`: when it drops the
        request, raise its `Dropped` at once; the rest of the request is not scored.
        """
        if not documents:
            return []
        job = _Job(query, documents, watch)
        self._queue.put(job)
        waits = [job.future] if watch is None else [job.future, watch.dropped]
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        wait(waits, timeout, return_when=FIRST_COMPLETED)
        if not job.future.done() and job.future.cancel():  # never started: never will be
            # The worker drops a cancelled job unread: let go of the texts now, not when it
            # gets there (it may be busy for long with other passes).
            job.pairs = job.costs = ()
            if watch is not None and watch.is_dropped:
                raise watch.error()
            raise Overloaded.not_started()
        wait(waits, return_when=FIRST_COMPLETED)  # started: until it is done or dropped
        if job.future.done() or watch is None:
            return job.future.result()
        raise watch.error()

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._queue.put(None)
        self._worker.join(timeout=30)

    def _take_pass(self) -> tuple[list[Part], bool]:
        """The next pass: slices of the oldest request and of the waiting ones for the same
        query, in order, within the budgets."""
        if not self._pending:
            first = self._queue.get()
            if first is None:
                return [], True
            self._pending.append(first)
            self._drain(until=time.monotonic() + self._gather_seconds)
        else:
            self._drain(until=None)
        parts: list[Part] = []
        rest: deque[_Job] = deque()
        count = tokens = 0
        query: str | None = None
        full = False
        for job in self._pending:
            if job.dropped:
                continue  # its caller has gone: the rest of it is not scored
            if full or (query is not None and job.query != query):
                rest.append(job)
                continue
            if not job.future.running():  # not started yet (perhaps picked, none of it fitting)
                if not job.future.set_running_or_notify_cancel():
                    continue  # refused at its deadline: dropped unscored
                metrics.queue_wait(time.perf_counter() - job.queued_at)
            query = job.query
            start = end = job.taken
            while end < len(job.pairs) and (count == 0 or (
                    count < self._max_pairs and tokens + job.costs[end] <= self._max_tokens)):
                tokens += job.costs[end]
                count += 1
                end += 1
            if end > start:
                parts.append((job, start, end))
                job.taken = end
            if end < len(job.pairs):
                full = True
                rest.append(job)
        self._pending = rest
        return parts, False

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
            parts, stop = self._take_pass()
            if stop:
                return
            if not parts:  # every waiting request had been refused
                continue
            pairs = [pair for job, start, end in parts for pair in islice(job.pairs, start, end)]
            owners = [job for job, start, end in parts for _ in range(end - start)]

            def wanted(indices: Sequence[int], owners: list[_Job] = owners) -> bool:
                return any(not owners[i].dropped for i in indices)

            try:
                with metrics.inference():
                    scores = list(self._score_pairs(pairs, wanted))
                if len(scores) != len(pairs):
                    raise RuntimeError(f"engine gave {len(scores)} scores for {len(pairs)} pairs")
            except BaseException as exc:  # noqa: BLE001 - every request of the pass gets it
                failed = {id(job) for job, _, _ in parts}
                self._pending = deque(j for j in self._pending if id(j) not in failed)
                for job, _, _ in parts:
                    job.future.set_exception(exc)
                continue
            offset = 0
            for job, start, end in parts:
                done = [float(s) for s in scores[offset : offset + end - start]]
                offset += end - start
                if job.dropped:  # some of its pairs may have been skipped; nobody reads them
                    continue
                if start == 0 and end == len(job.pairs):  # the whole request in one pass
                    job.future.set_result(done)
                    continue
                job.scores.extend(done)  # a job's slices go in order
                if end == len(job.pairs):
                    job.future.set_result(job.scores)
