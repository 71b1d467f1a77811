"""Engines for tests that run the server in a subprocess (importable via PYTHONPATH).

`ENGINE=reranker_test_engines:slow` scores every request after holding one lock for
SLOW_ENGINE_SECONDS (default 1): requests pile up the way Weaviate's parallel chunks do.
`ENGINE=reranker_test_engines:until_dropped` works on every request for SLOW_ENGINE_SECONDS,
unless it is dropped before (then it answers the drop at once).
"""

from __future__ import annotations

import os
import threading
import time


class SlowEngine:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()

    def score(self, query: str, documents: list[str], *, deadline=None,
              watch=None) -> list[float]:
        with self._lock:
            time.sleep(self.seconds)
        return [float(len(d)) for d in documents]

    def meta(self) -> dict:
        return {"model_type": "slow-test-engine"}


def slow(settings) -> SlowEngine:
    return SlowEngine(float(os.environ.get("SLOW_ENGINE_SECONDS", "1")))


class UntilDroppedEngine(SlowEngine):
    def score(self, query: str, documents: list[str], *, deadline=None,
              watch=None) -> list[float]:
        if watch is not None:
            try:
                reason = watch.dropped.result(timeout=self.seconds)
            except TimeoutError:
                reason = None
            if reason is not None:
                raise watch.error()
        else:
            time.sleep(self.seconds)
        return [float(len(d)) for d in documents]


def until_dropped(settings) -> UntilDroppedEngine:
    return UntilDroppedEngine(float(os.environ.get("SLOW_ENGINE_SECONDS", "1")))
