"""Admission control: how much of `POST /rerank` the server holds at once, and for how long.

A request is *in flight* from the moment it is admitted — before its body is read — until its
answer has been written: its body, the texts decoded from it, its place in the model's queue
and its answer all live in that span. `Admission` admits a request while the bodies in flight,
its own included, stay within `max_bytes` (a request alone is admitted whatever its size, up
to MAX_BODY_BYTES); otherwise the request *queues*, first come first served, for at most
`timeout` seconds. When `max_queued` requests already wait, or the wait runs out, it is refused
with `Overloaded`, which the app answers 503 with `Retry-After` at once. Each admitted request
carries its `deadline` (its arrival plus `timeout`) on to the model's queue, which refuses it
the same way if the model has not started on it by then (`engines/batching.py`). A request
dropped while it waits (its client has gone, or REQUEST_TIMEOUT passed: `reranker.watch`)
leaves the queue at once with `Dropped`.

The checks are a lock and a few additions; nothing is copied. /metrics shows the requests and
bytes in flight and the requests queued (the app counts the refusals, by reason).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from reranker import metrics
from reranker.watch import Watch

RETRY_AFTER_SECONDS = 1  # what a refused client is told: try again soon, the queue moves


class Overloaded(Exception):
    """A request refused for overload: answered 503 with Retry-After and {"error": message}.

    `reason` is what /metrics counts it as: "queue_full" (refused at once) or "timeout" (it
    waited its QUEUE_TIMEOUT, to be admitted or for the model).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    @classmethod
    def not_started(cls) -> "Overloaded":
        """The model did not start on the request by its deadline."""
        return cls("server overloaded: the model did not start on it within QUEUE_TIMEOUT; "
                   "retry later", "timeout")


@dataclass(eq=False)
class Ticket:
    """An admitted request: what it costs (bytes) and when its wait for the model ends."""

    cost: int
    deadline: float  # time.monotonic() by which the model must have started on it
    released: bool = False


@dataclass(eq=False)
class _Waiter:
    cost: int
    deadline: float
    admitted: threading.Event = field(default_factory=threading.Event)
    ticket: Ticket | None = None


class Admission:
    """Admits requests by their bytes; a bounded, first-come queue with a deadline."""

    def __init__(self, *, max_bytes: int, max_queued: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.max_queued = max_queued
        self.timeout = timeout
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._bytes = 0
        self._requests = 0

    @property
    def in_flight(self) -> int:
        return self._requests

    @property
    def bytes_in_flight(self) -> int:
        return self._bytes

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def admit(self, cost: int, watch: Watch | None = None) -> Ticket:
        """A ticket for a request of `cost` bytes, once admitted; `Overloaded` when the queue
        is full (at once) or the request waited `timeout` seconds; `watch`'s `Dropped` when
        it drops the request while it waits."""
        timeout = self.timeout
        deadline = time.monotonic() + timeout
        with self._lock:
            if not self._waiters and self._fits(cost):
                return self._take(cost, deadline)
            if len(self._waiters) >= self.max_queued:
                raise Overloaded(f"server overloaded: {len(self._waiters)} request(s) already "
                                 "wait to be admitted (MAX_QUEUED); retry later", "queue_full")
            waiter = _Waiter(cost, deadline)
            self._waiters.append(waiter)
            self._report()
        if watch is not None:
            watch.dropped.add_done_callback(lambda _: waiter.admitted.set())
        waiter.admitted.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            if waiter.ticket is None:
                self._waiters.remove(waiter)
                self._admit_waiters()  # it may have held back smaller requests behind it
                self._report()
        if watch is not None and watch.is_dropped:
            if waiter.ticket is not None:  # admitted just as it was dropped: give it back
                self.release(waiter.ticket)
            raise watch.error()
        if waiter.ticket is not None:  # admitted, perhaps just as the wait ran out
            return waiter.ticket
        raise Overloaded(f"server overloaded: not admitted within {timeout:g} s "
                         "(QUEUE_TIMEOUT); retry later", "timeout")

    def release(self, ticket: Ticket) -> None:
        """The request is answered: its bytes go back, and waiting requests move in.
        Releasing a ticket again does nothing."""
        with self._lock:
            if ticket.released:
                return
            ticket.released = True
            self._bytes -= ticket.cost
            self._requests -= 1
            self._admit_waiters()
            self._report()

    def _fits(self, cost: int) -> bool:
        return self._bytes + cost <= self.max_bytes or self._requests == 0

    def _take(self, cost: int, deadline: float) -> Ticket:
        self._bytes += cost
        self._requests += 1
        self._report()
        return Ticket(cost, deadline)

    def _admit_waiters(self) -> None:
        """Admit from the head of the queue while the head fits (in order: a large request
        is not overtaken for ever by small ones)."""
        while self._waiters and self._fits(self._waiters[0].cost):
            waiter = self._waiters.popleft()
            waiter.ticket = self._take(waiter.cost, waiter.deadline)
            waiter.admitted.set()

    def _report(self) -> None:
        metrics.admission(self._requests, self._bytes, len(self._waiters))
