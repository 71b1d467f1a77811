"""`weaviate-dev run local-reranker-transformers --watch` end to end, with real edits.

The reranker module's client of a real Weaviate source tree (the pinned module's) is edited
while Weaviate runs: the scores it hands to Weaviate get +1000. The watch rebuilds and
restarts Weaviate on the same data, and a GraphQL rerank then says +1000; a typo keeps the
running server and shows the compiler's file:line; undoing the edit brings the scores back.
The edited file is restored afterwards (and before, should an earlier run have died mid-edit).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from integration_tests.conftest import port_is_free
from integration_tests.run_support import (  # noqa: F401 (cli_env, reranker: fixtures)
    DOCUMENTS, READY_TIMEOUT, STOP_TIMEOUT, cli_env, fill_collection, graphql_rerank, reranker,
    reranker_scores, source_tree, stop_leftover, wait_for_line)

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

CLIENT = "modules/reranker-transformers/clients/ranker.go"
SCORE_LINE = "Score:    docScores[i].Score,"
READY = "Weaviate is ready"
REBUILD_TIMEOUT = 600


@pytest.fixture
def ranker_go(source_tree, weaviate_dev_settings):
    """The client's source file, as the module has it before and after the test."""
    module = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                            check=True).stdout.strip()
    pristine = (f"{module}/github.com/weaviate/weaviate@v{weaviate_dev_settings.weaviate_version}"
                f"/{CLIENT}")
    original = open(pristine, "rb").read()
    path = source_tree / CLIENT
    path.write_bytes(original)
    assert SCORE_LINE in original.decode()
    yield path
    path.write_bytes(original)


def test_an_edit_is_live_after_the_rebuild_and_a_typo_keeps_the_server(
        reranker, cli_env, tmp_path, source_tree, ranker_go, capsys):
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weaviate_dev", "run", "local-reranker-transformers",
             "--watch", "--weaviate-src", str(source_tree), "--data-dir", str(tmp_path / "d")],
            env=cli_env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    original = ranker_go.read_text()
    try:
        wait_for_line(log, READY, proc, READY_TIMEOUT["source"])
        fill_collection()
        expected = dict(zip(DOCUMENTS, reranker_scores(DOCUMENTS)))
        for text, score in graphql_rerank():
            assert score == pytest.approx(expected[text], abs=1e-5), text

        edited = time.monotonic()
        ranker_go.write_text(original.replace(SCORE_LINE, "Score:    docScores[i].Score + 1000,"))
        wait_for_line(log, READY, proc, REBUILD_TIMEOUT, count=2)
        live_seconds = time.monotonic() - edited
        text = log.read_text()
        assert f"changed: {CLIENT}; rebuilding" in text and "restarting Weaviate" in text
        rows = graphql_rerank()  # the same data directory: the collection is still there
        assert sorted(t for t, _ in rows) == sorted(DOCUMENTS)
        for text_, score in rows:
            assert score == pytest.approx(expected[text_] + 1000, abs=1e-3), text_

        ranker_go.write_text(original.replace(SCORE_LINE, SCORE_LINE + " x x"))
        wait_for_line(log, "compile failed; the running Weaviate stays up", proc,
                      REBUILD_TIMEOUT)
        wait_for_line(log, f"{CLIENT}:", proc, 30)  # the compiler's file:line message
        for text_, score in graphql_rerank():  # the previous build still answers
            assert score == pytest.approx(expected[text_] + 1000, abs=1e-3), text_

        ranker_go.write_text(original)
        wait_for_line(log, READY, proc, REBUILD_TIMEOUT, count=3)
        for text_, score in graphql_rerank():
            assert score == pytest.approx(expected[text_], abs=1e-5), text_

        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=STOP_TIMEOUT)
        assert code == 0, log.read_text(errors="replace")[-3000:]
        assert port_is_free(8080) and port_is_free(50051)
    finally:
        stop_leftover(proc)
    with capsys.disabled():
        print(f"\n[weaviate-dev run --watch] an edit was live {live_seconds:.1f}s after the save "
              "(rebuild + restart + ready)")
