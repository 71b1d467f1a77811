"""Whether anyone still waits for a request: its client's connection, and REQUEST_TIMEOUT.

A client that gives up closes its connection (Weaviate's module client does when its own
timeout passes, then it may retry). Scoring the rest of that request is work for nobody, and
it holds up every request behind it. `Watcher` follows the requests in flight from one daemon
thread per process: every `period` seconds it polls their sockets at once (one `poll()` call)
and drops a request

- whose connection reads end-of-file: the client closed it (POLLRDHUP on Linux; elsewhere a
  readable socket whose peek gives no byte), or it was reset;
- or whose deadline (its arrival plus REQUEST_TIMEOUT) has passed.

A dropped request's `Watch.dropped` future completes with the reason ("client_gone" or
"deadline"). The request's thread, waiting for a place or for the model, wakes at once and
answers `Dropped` (503; nobody reads it when the client has gone), and the model's worker
leaves the rest of the request's pairs unscored: it checks before each pass and between the
micro-batches of a pass (`engines/batching.py`, `engines/base.py`). Nothing is ever read from
a watched socket. A client that still waits keeps its connection open and is never dropped
for it; one that shuts down only its sending side and then reads (HTTP clients do not) would
look gone.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from concurrent.futures import Future, InvalidStateError

log = logging.getLogger("reranker.watch")

CLIENT_GONE = "client_gone"
DEADLINE = "deadline"

# What poll() reports for a connection that reads end-of-file or is broken. POLLRDHUP (Linux)
# reports the peer's FIN even with unread bytes before it; without it a readable socket is
# peeked.
_RDHUP = getattr(select, "POLLRDHUP", 0)
_BROKEN = select.POLLHUP | select.POLLERR | select.POLLNVAL | _RDHUP


class Dropped(Exception):
    """A request nobody waits for any more: the rest of it is not scored. Answered 503."""

    def __init__(self, reason: str, why: str) -> None:
        self.reason = reason  # what /metrics counts it as
        self.why = why
        self.message = f"request dropped: {why}; the rest of its documents were not scored"
        super().__init__(self.message)


class Watch:
    """One request's watch: its socket (or None), its deadline (or None), and `dropped`, a
    future that completes with the reason when the request is dropped."""

    __slots__ = ("sock", "deadline", "request_timeout", "dropped")

    def __init__(self, sock: socket.socket | None = None, deadline: float | None = None,
                 request_timeout: float = 0.0) -> None:
        self.sock = sock
        self.deadline = deadline  # time.monotonic()
        self.request_timeout = request_timeout  # for the message
        self.dropped: Future[str] = Future()

    @property
    def is_dropped(self) -> bool:
        return self.dropped.done()

    def drop(self, reason: str) -> bool:
        """Drop the request for `reason`; False when it was dropped already (the first reason
        stays)."""
        try:
            self.dropped.set_result(reason)
        except InvalidStateError:
            return False
        return True

    def error(self) -> Dropped:
        """The exception that answers a dropped request."""
        reason = self.dropped.result(timeout=0)
        if reason == DEADLINE:
            return Dropped(reason, "not answered within REQUEST_TIMEOUT "
                                   f"({self.request_timeout:g} s)")
        return Dropped(reason, "the client closed its connection")


def reads_end_of_file(sock: socket.socket) -> bool:
    """Whether a readable socket is at end-of-file (or broken), peeking one byte: nothing is
    taken from it."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset, or closed under us: nobody to answer either way
        return True


def gone(watches: list[Watch]) -> list[Watch]:
    """The watches whose connections read end-of-file or are broken, in one poll() call."""
    by_fd: dict[int, Watch] = {}
    found = []
    for watch in watches:
        if watch.sock is None:
            continue
        fd = watch.sock.fileno()
        if fd < 0:  # closed: nobody to answer
            found.append(watch)
        else:
            by_fd[fd] = watch
    if not by_fd:
        return found
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN | _RDHUP)
    for fd, events in poller.poll(0):
        watch = by_fd[fd]
        if events & _BROKEN or (events & select.POLLIN and not _RDHUP
                                and watch.sock is not None and reads_end_of_file(watch.sock)):
            found.append(watch)
    return found


def sweep(watches: list[Watch], now: float | None = None) -> list[Watch]:
    """Drop the watches whose deadline has passed or whose client has gone; the newly dropped."""
    now = time.monotonic() if now is None else now
    dropped = [w for w in watches
               if w.deadline is not None and now >= w.deadline and w.drop(DEADLINE)]
    return dropped + [w for w in gone([w for w in watches if not w.is_dropped])
                      if w.drop(CLIENT_GONE)]


class Watcher:
    """Follows the requests in flight from one daemon thread (started with the first watch)."""

    def __init__(self, *, request_timeout: float = 0.0, period: float = 0.1) -> None:
        self.request_timeout = request_timeout  # 0: no deadline
        self.period = period
        self._watches: set[Watch] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket | None, arrived: float | None = None) -> Watch:
        """Follow a request that arrived at `arrived` (time.monotonic(); default now) on
        `sock` (None: only its deadline) until `forget`."""
        deadline = None
        if self.request_timeout:
            deadline = (time.monotonic() if arrived is None else arrived) + self.request_timeout
        watch = Watch(sock, deadline, self.request_timeout)
        if sock is None and deadline is None:
            return watch  # nothing to follow
        with self._changed:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-watcher",
                                                daemon=True)
                self._thread.start()
            self._changed.notify()
        return watch

    def forget(self, watch: Watch) -> None:
        """Stop following `watch` (its answer is being written); before its socket closes."""
        with self._changed:
            self._watches.discard(watch)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._watches:
                    self._changed.wait()
                watches = list(self._watches)
            try:
                sweep(watches)
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad socket
                log.exception("checking the requests in flight failed")
            time.sleep(self.period)
