"""Soak: many 32-document requests at a fixed concurrency; errors and memory growth.

Defaults: 500 requests at 8 concurrent; it passes with zero errors and the server's RSS (its
whole process tree) after the last request under 10 % above its RSS after the 50th.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.load import Client, LoadError, chunks
from bench.rss import tree_rss


@dataclass
class SoakResult:
    requests: int
    seconds: float
    errors: list[str] = field(default_factory=list)
    rss_at_mark: int = 0
    rss_at_end: int = 0
    rss_peak: int = 0

    @property
    def growth(self) -> float:
        """Relative RSS growth from the mark to the end."""
        return (self.rss_at_end - self.rss_at_mark) / self.rss_at_mark if self.rss_at_mark else 0.0


def soak(client: Client, corpus, pid: int, *, requests: int = 500, concurrency: int = 8,
         mark: int = 50, max_seconds: float = 1800.0) -> SoakResult:
    """Send `requests` chunks of 32 documents, `concurrency` at a time, sampling RSS by count."""
    work = [(q.text, part) for q in corpus.queries for part in chunks(q.documents)]
    work = [w for w in work if len(w[1]) == 32]
    jobs = [work[i % len(work)] for i in range(requests)]
    result = SoakResult(requests=requests, seconds=0.0)
    lock = threading.Lock()
    done = 0
    deadline = time.monotonic() + max_seconds

    def one(job) -> None:
        nonlocal done
        if time.monotonic() > deadline:
            with lock:
                result.errors.append("time budget exhausted")
            return
        try:
            client.rerank(*job)
            error = None
        except LoadError as exc:
            error = str(exc)
        rss = tree_rss(pid)
        with lock:
            done += 1
            if error:
                result.errors.append(error)
            if done == mark:
                result.rss_at_mark = rss
            result.rss_peak = max(result.rss_peak, rss)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    result.seconds = time.monotonic() - started
    result.rss_at_end = tree_rss(pid)
    return result
