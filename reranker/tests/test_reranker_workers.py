"""`python -m reranker` with WORKERS=2: a worker killed is replaced, /metrics stays right, and
the metrics directory the server made is gone when it exits."""

from __future__ import annotations

import json
import os
import signal
import time

import psutil
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from test_reranker_serve import TESTS_DIR, serve

WAIT = 120  # seconds for a worker to be replaced and load (a loaded machine; never reached)


def engine_info_pids(url: str) -> set[int]:
    """The workers whose reranker_engine_info /metrics reports (liveall: one sample each)."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return {int(sample.labels["pid"])
            for family in text_string_to_metric_families(text)
            if family.name == "reranker_engine_info" for sample in family.samples}


def reranks_counted(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "reranker_requests_total"
               and sample.labels.get("endpoint") == "/rerank")


def settle(server, want) -> tuple[set[int], set[int]]:
    """Wait until the arbiter's workers and the workers /metrics reports agree with `want`."""
    deadline = time.monotonic() + WAIT
    while True:
        workers = {child.pid for child in psutil.Process(server.process.pid).children()}
        reported = engine_info_pids(server.url)
        if want(workers, reported) or time.monotonic() > deadline:
            return workers, reported
        time.sleep(0.2)


def test_a_killed_worker_is_replaced_and_metrics_forget_only_its_gauges(tmp_path,
                                                                        tiny_model_dir):
    env = {"WORKERS": "2", "ENGINE": "reranker_test_engines:slow", "SLOW_ENGINE_SECONDS": "0",
           "TMPDIR": str(tmp_path),  # where the server makes its metrics directory
           "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        [metrics_dir] = tmp_path.glob("reranker-metrics-*")
        workers, reported = settle(server, lambda w, r: len(w) == 2 and r == w)
        assert len(workers) == 2 and reported == workers, server.log_tail()
        body = json.dumps({"query": "q", "documents": ["a", "bb"]})
        for _ in range(6):
            assert requests.post(f"{server.url}/rerank", data=body, timeout=10).ok
        assert reranks_counted(server.url) == 6

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        workers, reported = settle(
            server, lambda w, r: len(w) == 2 and victim not in w and r == w)
        assert victim not in workers and len(workers) == 2, server.log_tail()
        assert reported == workers, f"engine_info of {reported - workers} (dead) still summed"
        assert reranks_counted(server.url) == 6  # the dead worker's counts stay in the sums
        assert metrics_dir.is_dir()
    assert server.process.returncode is not None
    assert not metrics_dir.exists(), "the metrics directory outlived the server"


def test_a_metrics_directory_given_by_the_user_is_left_alone(tmp_path, tiny_model_dir):
    given = tmp_path / "given"
    given.mkdir()
    env = {"WORKERS": "2", "ENGINE": "reranker_test_engines:slow",
           "PROMETHEUS_MULTIPROC_DIR": str(given),
           "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    with serve(tmp_path, tiny_model_dir, env) as server:
        server.wait_ready()
        assert requests.get(f"{server.url}/metrics", timeout=10).ok
        assert any(given.iterdir())  # the workers count there
    assert given.is_dir() and any(given.iterdir())


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    """A failed test must not leave workers behind (serve() stops the arbiter only)."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    for child in psutil.Process().children(recursive=True):
        if child.pid not in before:
            child.kill()
