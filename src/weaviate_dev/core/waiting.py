"""Wait until something is ready: every wait has a timeout, prints progress, and shows
evidence when it fails."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import requests

from weaviate_dev.core.errors import WaitTimeout
from weaviate_dev.core.progress import write

# A probe returns None when ready, or a short string saying why it is not ready yet.
Probe = Callable[[], "str | None"]


def http_probe(url: str, *, expect: Callable[[int], bool] = lambda s: 200 <= s < 300,
               timeout: float = 2.0) -> Probe:
    """Return a probe that GETs `url` and passes when `expect(status)` is true."""

    def probe() -> str | None:
        try:
            status = requests.get(url, timeout=timeout).status_code
        except requests.RequestException as exc:
            return f"GET {url}: {type(exc).__name__}"
        return None if expect(status) else f"GET {url}: HTTP {status}"

    return probe


def tcp_probe(host: str, port: int, timeout: float = 1.0) -> Probe:
    """Return a probe that passes when host:port accepts a TCP connection."""

    def probe() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except OSError as exc:
            return f"connect {host}:{port}: {exc.strerror or exc}"

    return probe


def wait_until(
    probe: Probe,
    *,
    what: str,
    timeout: float,
    interval: float = 0.5,
    logs: Callable[[], str] | None = None,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Call `probe` until it reports ready; return the seconds it took.

    On timeout, raises WaitTimeout naming `what`, the last reason, and the tail of `logs()`.
    `progress` is called about every 5 s with a status line (default: print to stderr).
    """
    report = progress or (lambda line: write(line.rstrip("\n") + "\n"))
    start = clock()
    last_report = start
    reason = "not probed yet"
    while True:
        reason = probe()
        now = clock()
        if reason is None:
            return now - start
        if now - start >= timeout:
            break
        if now - last_report >= 5:
            report(f"  waiting for {what} ({now - start:.0f}s/{timeout:.0f}s): {reason}")
            last_report = now
        sleep(interval)
    message = f"{what} was not ready after {timeout:.0f}s (last check: {reason})"
    if logs is not None:
        try:
            tail = logs()
        except Exception as exc:  # evidence gathering must not hide the timeout
            tail = f"(could not read logs: {exc})"
        message += f"\n--- last log lines ---\n{tail}"
    raise WaitTimeout(message)
