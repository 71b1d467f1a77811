"""Memory and CPU time of a server: a process and all its descendants (psutil).

A server is found by the TCP port it listens on (the process holding the listening socket),
or given by pid. gunicorn, uvicorn and their workers are all counted; for a Docker container
pass the pid of its main process (`docker inspect -f '{{.State.Pid}}' NAME`), since the host
port belongs to docker-proxy.
"""

from __future__ import annotations

import threading
import time

import psutil

from weaviate_dev.services.ports import listening_pids, listens


def pid_listening_on(port: int) -> int | None:
    """The top-most process holding a listening socket on `port`, or None."""
    holders = sorted(pid for pid in listening_pids(port) if pid is not None)
    if not holders:
        return None
    try:
        found = psutil.Process(holders[0])
        # gunicorn: master and workers share the socket, which the system names by any one of
        # them; the master is the top-most that holds it
        while (parent := found.parent()) is not None and listens(parent, port):
            found = parent
    except psutil.Error:  # gone meanwhile
        return None
    return found.pid


def tree(root: int) -> list[int]:
    """`root` and all its descendants that exist now."""
    try:
        top = psutil.Process(root)
        return [root, *(child.pid for child in top.children(recursive=True))]
    except psutil.Error:
        return [root]


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid` (0 when it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time `pid` has used so far, in seconds (0 when it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by `root` and its descendants that exist now, in seconds."""
    return sum(cpu_seconds(pid) for pid in tree(root))


def wait_until_idle(root: int, *, below: float = 0.1, within: float = 300.0) -> float:
    """Wait until `root`'s tree uses less than `below` CPU-seconds per second (what a load
    left queued has drained), at most `within` seconds; the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        before = tree_cpu_seconds(root)
        time.sleep(1.0)
        if tree_cpu_seconds(root) - before < below:
            break
    return time.monotonic() - started


def tree_rss(root: int) -> int:
    """RSS of `root` and its descendants, in bytes."""
    return sum(rss_bytes(pid) for pid in tree(root))


class PeakSampler:
    """Samples a process tree's RSS in a thread; `.peak` is the largest sum seen."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root, self.interval = root, interval
        self.peak = tree_rss(root)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{root}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(self.root))

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, tree_rss(self.root))
