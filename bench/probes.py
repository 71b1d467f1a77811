"""Probes under saturation: how long `/.well-known/live` and `/ready` take on a busy server.

`clients` (200) clients each send 32-document requests (Weaviate's chunk size, the bench
corpus' chunks in turn) back to back on a keep-alive connection of their own for `seconds`
(30 s), far more than the model can answer. Meanwhile each probe path is asked every
`interval` (0.5 s) on a new connection, as the kubelet and Docker's HEALTHCHECK do, with a
`timeout` (5 s), from a process of its own. Reported: the requests by status, each path's probes' p50, p99 and slowest,
and the probes that failed (no answer within the timeout, or not 204). The bar: p99 under 1 s
and none failing.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.load import CHUNK, check_loopback, chunks

PATHS = ("/.well-known/live", "/.well-known/ready")
GOALS = {"p99_seconds": 1.0}


@dataclass
class ProbeResult:
    clients: int
    seconds: float
    statuses: Counter = field(default_factory=Counter)  # the load's answers
    probes: dict[str, list[float]] = field(default_factory=dict)  # path -> latencies
    failed: dict[str, list[str]] = field(default_factory=dict)  # path -> what went wrong

    def take(self, probed: dict[str, tuple[list[float], list[str]]]) -> None:
        """The prober's findings (`probe_all`)."""
        for path, (latencies, failed) in probed.items():
            self.probes[path], self.failed[path] = latencies, failed

    def percentile(self, path: str, p: float) -> float:
        """Nearest-rank percentile of a path's probe latencies (failures count at their
        timeout), in seconds."""
        values = sorted(self.probes.get(path, []))
        if not values:
            return float("nan")
        rank = max(1, min(len(values), round(p / 100 * len(values) + 0.5)))
        return values[rank - 1]


def bodies(corpus) -> list[bytes]:
    """Every full 32-document chunk of the corpus, as Weaviate sends it."""
    return [json.dumps({"query": q.text, "documents": part, "property": ""}).encode()
            for q in corpus.queries for part in chunks(q.documents) if len(part) == CHUNK]


def keep_sending(url: str, work: list[bytes], start: int, until: float,
                 statuses: Counter, lock: threading.Lock) -> None:
    """POST /rerank the bodies from `start` on, one after another, until `until`."""
    host, port = check_loopback(url)
    conn = None
    index = start
    while time.monotonic() < until:
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=max(1.0, until - time.monotonic()))
        try:
            conn.request("POST", "/rerank", body=work[index % len(work)])
            response = conn.getresponse()
            response.read()
            status: int | str = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
            conn = None
        with lock:
            statuses[status] += 1
        index += 1
    if conn is not None:
        conn.close()


def probe_once(url: str, path: str, timeout: float) -> tuple[float, str]:
    """GET `path` on a new connection: seconds taken, and what was wrong ('' if 204)."""
    host, port = check_loopback(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        problem = "" if response.status == 204 else f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return min(time.monotonic() - started, timeout), problem


def probe_all(url: str, start: float, until: float, interval: float, timeout: float
              ) -> dict[str, tuple[list[float], list[str]]]:
    """Each path probed every `interval` from `start` to `until` (time.monotonic(), which is
    the machine's: the same in every process): path -> (latencies, failures)."""
    results: dict[str, tuple[list[float], list[str]]] = {path: ([], []) for path in PATHS}

    def probe(path: str) -> None:
        latencies, failed = results[path]
        tick = start
        while tick < until:
            time.sleep(max(0.0, tick - time.monotonic()))
            seconds_taken, problem = probe_once(url, path, timeout)
            latencies.append(seconds_taken)
            if problem:
                failed.append(problem)
            tick = max(tick + interval, time.monotonic())

    threads = [threading.Thread(target=probe, args=(path,)) for path in PATHS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextmanager
def probing(url: str, seconds: float, *, interval: float = 0.5, timeout: float = 5.0,
            delay: float = 1.0):
    """Probe `url` from a process of its own, as the kubelet does (a load's threads in this
    process would slow it down), from `delay` to `seconds` after entering; yields a future of
    path -> (latencies, failures)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as prober:
        prober.submit(time.monotonic).result()  # started before the load
        started = time.monotonic()
        yield prober.submit(probe_all, url, started + delay, started + seconds, interval,
                            timeout)


def run(url: str, corpus, *, clients: int = 200, seconds: float = 30.0,
        interval: float = 0.5, timeout: float = 5.0) -> ProbeResult:
    """Saturate the server and probe it meanwhile."""
    result = ProbeResult(clients, seconds)
    work = bodies(corpus)
    lock = threading.Lock()
    with probing(url, seconds, interval=interval, timeout=timeout) as probed:
        until = time.monotonic() + seconds
        senders = [threading.Thread(target=keep_sending, daemon=True,
                                    args=(url, work, i, until, result.statuses, lock))
                   for i in range(clients)]
        for sender in senders:
            sender.start()
        result.take(probed.result())
        for sender in senders:
            sender.join(timeout + 120)
    return result


def verdict(result: ProbeResult) -> list[str]:
    missed = []
    for path in PATHS:
        p99 = result.percentile(path, 99)
        if not p99 < GOALS["p99_seconds"]:
            missed.append(f"{path} p99 {p99:.2f} s (goal: under 1 s)")
        if result.failed.get(path):
            missed.append(f"{path}: {len(result.failed[path])} probe(s) failed")
    return missed


def probe_lines(result: ProbeResult) -> list[str]:
    """Each path's probes: p50, p99, slowest, failures."""
    out = []
    for path in PATHS:
        count = len(result.probes.get(path, []))
        out.append(f"  {path}: {count} probes, p50 {result.percentile(path, 50):.3f} s, "
                   f"p99 {result.percentile(path, 99):.3f} s, slowest "
                   f"{max(result.probes.get(path) or [float('nan')]):.3f} s, "
                   f"{len(result.failed.get(path, []))} failed")
        if result.failed.get(path):
            out.append(f"    first failures: {'; '.join(result.failed[path][:3])}")
    return out


def lines(label: str, result: ProbeResult) -> list[str]:
    statuses = ", ".join(f"{status}: {count}" for status, count in
                         sorted(result.statuses.items(), key=lambda kv: str(kv[0])))
    missed = verdict(result)
    return [f"probes {label}: {result.clients} clients of {CHUNK}-document requests for "
            f"{result.seconds:g} s",
            f"  the load's answers: {statuses}",
            *probe_lines(result),
            "  -> " + ("PASS" if not missed else "FAIL: " + "; ".join(missed))]
