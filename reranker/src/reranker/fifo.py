"""A lock taken in the order it was asked for.

`threading.Lock` promises no order: when it is released, any waiting thread may get it, and a
thread that asks just then may get it before all of them. `FifoLock` hands the lock on to the
longest-waiting thread at release, so requests that wait for the model are served first come,
first served. A wait may end early: at its timeout, or when a given future completes (the
request was dropped, see `reranker.watch`).
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future


class _Waiter:
    __slots__ = ("woken", "granted")

    def __init__(self) -> None:
        self.woken = threading.Event()
        self.granted = False


class FifoLock:
    """A mutual-exclusion lock handed on first come, first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[_Waiter] = deque()

    def acquire(self, timeout: float | None = None, until: Future | None = None) -> bool:
        """Take the lock after every thread that asked before; False when `timeout` seconds
        pass first, or `until` completes first (the lock is then not held)."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            waiter = _Waiter()
            self._waiters.append(waiter)
        if until is not None:
            until.add_done_callback(lambda _: waiter.woken.set())
        waiter.woken.wait(timeout)
        with self._mutex:
            if waiter.granted:  # handed on, perhaps just as the wait ended
                return True
            self._waiters.remove(waiter)
            return False

    def release(self) -> None:
        """Hand the lock to the longest-waiting thread, or free it."""
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld FifoLock")
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True  # stays held: it passes straight to the waiter
                waiter.woken.set()
            else:
                self._held = False

    def __enter__(self) -> "FifoLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
