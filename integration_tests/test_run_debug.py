"""`weaviate-dev run local-reranker-transformers --debug` end to end, as a contributor debugs.

A debug build of a real Weaviate source tree (the pinned module's) runs under Delve, headless;
through Delve's JSON-RPC API (what IDEs speak) the test sets a breakpoint in the reranker
module's client function that sends a rank request, asks Weaviate for `_additional { rerank }`,
sees the goroutine stopped at that file:line, continues, and gets the reranked answer. Ctrl-C
then leaves no Delve, no Weaviate and no port behind.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from integration_tests.conftest import port_is_free
from integration_tests.delve_rpc import Delve
from integration_tests.run_support import (  # noqa: F401 (cli_env, reranker: fixtures)
    DOCUMENTS, READY_TIMEOUT, STOP_TIMEOUT, cli_env, fill_collection, graphql_rerank, reranker,
    reranker_scores, source_tree, stop_leftover, wait_for_line)

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

CLIENT = "modules/reranker-transformers/clients/ranker.go"
FUNCTION = ("github.com/weaviate/weaviate/modules/reranker-transformers/clients."
            "(*client).performRank")


def processes_running(fragment: str) -> list[str]:
    """Command lines of the processes whose command line contains `fragment` (psutil: no
    pgrep needed, any OS)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or ())  # None: gone meanwhile, or not ours
        if fragment in line:
            found.append(line)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_breakpoint_in_the_reranker_client_is_hit_by_a_graphql_rerank(
        reranker, cli_env, tmp_path, source_tree, capsys):
    port = free_port()
    log = tmp_path / "run.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weaviate_dev", "run", "local-reranker-transformers",
             "--debug", "--debug-port", str(port), "--weaviate-src", str(source_tree),
             "--data-dir", str(tmp_path / "data")],
            env=cli_env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    delve = None
    try:
        wait_for_line(log, "Weaviate is ready", proc, READY_TIMEOUT["source"])
        ready_seconds = time.monotonic() - started
        text = log.read_text()
        assert f"attach with `dlv connect 127.0.0.1:{port}`" in text
        assert "compiling a debug build (-gcflags 'all=-N -l')" in text
        fill_collection()

        delve = Delve(f"127.0.0.1:{port}", timeout=120)
        delve.call("Command", name="halt")  # it runs (--continue): stop it to set a breakpoint
        breakpoint_ = delve.call("CreateBreakpoint", Breakpoint={"functionName": FUNCTION})
        breakpoint_ = breakpoint_["Breakpoint"]
        assert breakpoint_["file"] == str(source_tree / CLIENT)
        continued = delve.send("Command", name="continue")
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(graphql_rerank)  # blocks while Weaviate is stopped
            state = delve.receive(continued)["State"]  # returns when a breakpoint is hit
            thread = state["currentThread"]
            assert (thread["file"], thread["line"]) == (breakpoint_["file"], breakpoint_["line"])
            assert thread["breakPoint"]["id"] == breakpoint_["id"] and thread["goroutineID"]
            assert not answer.done()  # the query waits on the stopped goroutine
            delve.call("ClearBreakpoint", Id=breakpoint_["id"])
            delve.send("Command", name="continue")  # its answer comes at the next stop: none
            rows = answer.result(timeout=120)
        texts = [text for text, _ in rows]
        assert sorted(texts) == sorted(DOCUMENTS)
        expected = dict(zip(texts, reranker_scores(texts)))
        for text, score in rows:
            assert score == pytest.approx(expected[text], rel=1e-5, abs=1e-5), text

        stop_started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=STOP_TIMEOUT)
        stop_seconds = time.monotonic() - stop_started
        assert code == 0, log.read_text(errors="replace")[-3000:]
        assert port_is_free(8080) and port_is_free(50051) and port_is_free(port)
        leftovers = processes_running("debug/weaviate-server") + processes_running("/dlv exec ")
        assert not leftovers, leftovers
    finally:
        if delve is not None:
            threading.Thread(target=delve.close, daemon=True).start()
        stop_leftover(proc)
    with capsys.disabled():
        print(f"\n[weaviate-dev run --debug] ready after {ready_seconds:.1f}s (debug build "
              f"included), stopped {stop_seconds:.1f}s after SIGINT")
