"""`weaviate-dev run local-reranker-transformers` end to end, as a developer runs it.

The reranker comes up with `weaviate-dev restart --reranker` (image: the session's
`weaviate_dev_reranker_image`, or WEAVIATE_DEV_TEST_RERANKER_IMAGE for quick local runs) on
127.0.0.1:8009; Weaviate is the weaviate-server binary that `weaviate-dev run` finds by itself (see
docs/run.md: WEAVIATE_DEV_WEAVIATE_BIN, the binary `weaviate-dev setup` builds,
~/go/bin/weaviate-server, PATH), or a real Weaviate source tree `run` compiles first: the
pinned module's source (run_support.source_tree). Then a GraphQL query must carry the
reranker's own scores, and Ctrl-C (SIGINT) must stop Weaviate cleanly with exit code 0.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests

from integration_tests.run_support import (  # noqa: F401 (cli_env, reranker: fixtures)
    DOCUMENTS, READY_TIMEOUT, STOP_TIMEOUT, WEAVIATE, cli_env, fill_collection, graphql_rerank,
    reranker, reranker_scores, source_tree, stop_leftover, wait_for_line)
from integration_tests.conftest import port_is_free

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]


@pytest.fixture(params=["binary", "source"])
def weaviate_from(request) -> tuple[str, list[str]]:
    """How `run` gets Weaviate: the binary it finds, or --weaviate-src on a source tree."""
    if request.param == "binary":
        return "binary", []
    return "source", ["--weaviate-src", str(request.getfixturevalue("source_tree"))]


def test_run_local_reranker_transformers_reranks_and_stops_cleanly(reranker, cli_env, tmp_path,
                                                                  weaviate_from, capsys):
    kind, flags = weaviate_from
    data = tmp_path / "data"
    log = tmp_path / "run.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weaviate_dev", "run", "local-reranker-transformers",
             "--data-dir", str(data), *flags],
            env=cli_env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_line(log, "Weaviate is ready", proc, READY_TIMEOUT[kind])
        ready_seconds = time.monotonic() - started
        assert f"local-reranker-transformers from {kind} " in log.read_text()
        assert requests.get(f"{WEAVIATE}/v1/meta", timeout=10).json()["version"] == "1.39.0"
        assert requests.get(f"{WEAVIATE}/v1/.well-known/ready", timeout=5).ok
        modules = requests.get(f"{WEAVIATE}/v1/meta", timeout=10).json()["modules"]
        # API-based modules are always listed; contextionary is off by default
        assert "reranker-transformers" in modules and "text2vec-contextionary" not in modules
        assert (data / "local-reranker-transformers" / "data").is_dir()

        fill_collection()
        rows = graphql_rerank()
        assert sorted(text for text, _ in rows) == sorted(DOCUMENTS)
        texts = [text for text, _ in rows]
        expected = dict(zip(texts, reranker_scores(texts)))
        for text, score in rows:
            assert score == pytest.approx(expected[text], rel=1e-5, abs=1e-5), text
        scores = [score for _, score in rows]
        assert scores == sorted(scores, reverse=True)  # Weaviate sorts by the reranker's score
        assert len(set(scores)) > 1  # real per-document scores (the test model is tiny/random)

        stop_started = time.monotonic()
        before_stop = len(log.read_bytes())
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=STOP_TIMEOUT)
        stop_seconds = time.monotonic() - stop_started
        text = log.read_text(errors="replace")
        shutdown = log.read_bytes()[before_stop:].decode(errors="replace")
        # a source tree runs compiled: it exits as a binary does. Weaviate's goroutines log
        # concurrently while it stops, so which line comes last varies.
        assert code == 0, text[-4000:]
        assert "closing raft-rpc server" in shutdown, shutdown[-2000:]
        assert "level=fatal" not in shutdown and "panic:" not in shutdown, shutdown[-2000:]
        assert port_is_free(8080) and port_is_free(50051)
    finally:
        stop_leftover(proc)
    with capsys.disabled():
        print(f"\n[weaviate-dev run, {kind}] ready after {ready_seconds:.1f}s, "
              f"stopped {stop_seconds:.1f}s after SIGINT with exit code {code}")
