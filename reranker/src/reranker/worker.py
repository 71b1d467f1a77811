"""The gunicorn worker: gthread, with the health probes and /metrics on threads of their own.

gunicorn's gthread worker hands every connection that has a request to one pool of THREADS
threads, first come, first served. Under load all of them may be taken (admitted requests
wait for the model, refused ones drain their bodies), and a probe waits behind them: a
liveness probe that times out restarts the server exactly when it is busiest, and a scrape
of /metrics misses exactly the figures that matter. `ProbeLaneWorker` peeks at a request's
first bytes before it hands the connection on (nothing is read from the socket): a `GET` or
`HEAD` of `/.well-known/...` or `/metrics` whose head has arrived whole goes to
`PROBE_THREADS` threads that nothing else uses; everything else goes to the pool as before.
A connection just opened waits in the worker's poller until its first bytes arrive, instead
of on a pool thread (the keep-alive timeout bounds that wait, as for an idle connection).
"""

from __future__ import annotations

import selectors
import socket
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

PROBE_THREADS = 2
PROBE_PATHS = (b"GET /.well-known/", b"HEAD /.well-known/", b"GET /metrics ",
               b"GET /metrics?")
# A probe's head (request line and headers) is short; one that is not whole in this many
# bytes goes to the pool, where reading the rest may wait.
PROBE_HEAD_BYTES = 4096

PROBE, POOL, NOT_YET = "probe", "pool", "not yet"


def lane_of(sock: socket.socket, *, waited: bool) -> str:
    """Where a connection's next request goes, from a peek at its first bytes: PROBE,
    POOL, or NOT_YET (nothing has arrived on a connection that has not `waited` for it)."""
    try:
        head = sock.recv(PROBE_HEAD_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return POOL if waited else NOT_YET
    except OSError:
        return POOL  # the pool's thread finds out what is wrong, and answers as before
    if head.startswith(PROBE_PATHS) and b"\r\n\r\n" in head:
        return PROBE
    return POOL


class ProbeLaneWorker(ThreadWorker):
    """gthread with a lane of its own for the `/.well-known/` probes and `/metrics`."""

    def init_process(self) -> None:
        self.probe_pool = futures.ThreadPoolExecutor(max_workers=PROBE_THREADS,
                                                     thread_name_prefix="probe")
        super().init_process()

    def enqueue_req(self, conn) -> None:
        """Hand the connection's next request to a thread (in the worker's main loop)."""
        lane = POOL if self.cfg.is_ssl else lane_of(
            conn.sock, waited=conn.initialized or conn.data_ready)
        if lane == NOT_YET:
            self._wait_for_request(conn)
        elif lane == PROBE:
            done = self.probe_pool.submit(self.handle, conn)
            done.add_done_callback(
                lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
        else:
            super().enqueue_req(conn)

    def _wait_for_request(self, conn) -> None:
        """Put a new connection on the poller until its request arrives (gthread's own
        "pending" connections: closed after the keep-alive timeout)."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.probe_pool.shutdown(wait=False)

    def handle_quit(self, sig, frame) -> None:
        self.probe_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)
