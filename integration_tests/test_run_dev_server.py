"""`weaviate-dev run local-reranker-transformers` end to end, as a developer runs it.

The reranker comes up with `weaviate-dev restart --reranker` (image: the session's
`reranker_image`, or WEAVIATE_DEV_TEST_RERANKER_IMAGE for quick local runs) on 127.0.0.1:8009;
Weaviate is the weaviate-server binary that `weaviate-dev run` finds by itself (see
docs/run.md: WEAVIATE_DEV_WEAVIATE_BIN, the binary `weaviate-dev setup` builds,
~/go/bin/weaviate-server, PATH), or `go run` in a real Weaviate source tree: the pinned
module's source, copied out of Go's module cache (`weaviate_build.ensure_source`, the copy
`weaviate-dev setup` builds its binary from, so the compile is cached and `go run` only links). Then a GraphQL query must carry the reranker's own scores,
and Ctrl-C (SIGINT) must stop Weaviate cleanly with exit code 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from integration_tests.conftest import port_is_free, weaviate_dev_cli
from weaviate_dev.core.errors import DevError
from weaviate_dev.testing.pytest_plugin import unavailable
from weaviate_dev.weaviate import build as weaviate_build, source as weaviate_source

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

PROJECT = "weaviate-dev-run-itest"
WEAVIATE = "http://127.0.0.1:8080"
RERANKER = "http://127.0.0.1:8009"
COLLECTION = "RunDevDoc"
QUERY = "Who wrote the novel Dune?"
DOCUMENTS = [
    "Dune is a science fiction novel written by Frank Herbert and published in 1965.",
    "Bread is made from flour, water, yeast and a pinch of salt.",
    "Frank Herbert also wrote Dune Messiah and Children of Dune.",
    "The Hobbit is a fantasy novel by J. R. R. Tolkien.",
    "A desert planet called Arrakis is the only source of the spice melange.",
]
# A binary compiles nothing, but loads modules only once the reranker is ready; `go run`
# links first (~20 s after the binary build; minutes where Go's build cache is cold).
READY_TIMEOUT = {"binary": 240, "source": 900}
CLEAN_EXIT = {"binary": 0, "source": 1}
STOP_TIMEOUT = 60


@pytest.fixture
def cli_env(cli_reranker_image, weaviate_dev_settings, tmp_path) -> dict:
    image = cli_reranker_image
    try:
        weaviate_source.locate(weaviate_dev_settings, cwd=tmp_path)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"no Weaviate binary for `weaviate-dev run`: {exc}")
    env = dict(os.environ, WEAVIATE_DEV_RERANKER_IMAGE=image)
    for key in ("PERSISTENCE_DATA_PATH", "WEAVIATE_DEV_BIND_ADDRESS"):
        env.pop(key, None)
    return env


@pytest.fixture
def reranker(cli_env, tmp_path):
    """`weaviate-dev restart --reranker` in our own compose project; `down` afterwards."""
    for port in (8009, 8080, 50051):
        assert port_is_free(port), f"127.0.0.1:{port} is taken before the test (another suite?)"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    try:
        up = weaviate_dev_cli("restart", "--reranker", "-p", PROJECT,
                              "--workspace", str(workspace), env=cli_env, cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        yield RERANKER
    finally:
        down = weaviate_dev_cli("down", "-p", PROJECT, env=cli_env, cwd=tmp_path, timeout=300)
        assert down.returncode == 0, down.stdout + down.stderr


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            pytest.fail(f"weaviate-dev run exited with {proc.returncode} before '{text}':\n"
                        + log.read_text(errors="replace")[-4000:])
        if time.monotonic() - started > timeout:
            pytest.fail(f"no '{text}' after {timeout}s:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.25)
    return time.monotonic() - started


def reranker_scores(documents: list[str]) -> list[float]:
    response = requests.post(f"{RERANKER}/rerank", timeout=60,
                             json={"query": QUERY, "documents": documents, "property": ""})
    response.raise_for_status()
    return [item["score"] for item in response.json()["scores"]]


def fill_collection() -> None:
    schema = {"class": COLLECTION, "vectorizer": "none",
              "moduleConfig": {"reranker-transformers": {}},
              "properties": [{"name": "text", "dataType": ["text"]}]}
    response = requests.post(f"{WEAVIATE}/v1/schema", json=schema, timeout=30)
    assert response.status_code == 200, response.text
    objects = [{"class": COLLECTION, "properties": {"text": d}} for d in DOCUMENTS]
    response = requests.post(f"{WEAVIATE}/v1/batch/objects", json={"objects": objects},
                             timeout=60)
    assert response.status_code == 200, response.text
    assert all("errors" not in (o.get("result") or {}) for o in response.json()), response.text


def graphql_rerank() -> list[tuple[str, float]]:
    query = (f'{{ Get {{ {COLLECTION}(limit: 20) {{ text _additional {{ '
             f'rerank(property: "text", query: "{QUERY}") {{ score }} }} }} }} }}')
    response = requests.post(f"{WEAVIATE}/v1/graphql", json={"query": query}, timeout=120)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    rows = body["data"]["Get"][COLLECTION]
    return [(row["text"], row["_additional"]["rerank"][0]["score"]) for row in rows]


@pytest.fixture(params=["binary", "source"])
def weaviate_from(request, weaviate_dev_settings) -> tuple[str, list[str]]:
    """How `run` gets Weaviate: the binary it finds, or --weaviate-src on the module's source."""
    if request.param == "binary":
        return "binary", []
    try:
        source = weaviate_build.ensure_source(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"no Weaviate source tree for go run: {exc}")
    assert not (source / ".git").exists()  # a module copy: build info must cope without git
    return "source", ["--weaviate-src", str(source)]


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
        # `go run` exits 1 when it was interrupted, whatever its child's exit code (go's own
        # behaviour, docs/run.md); Weaviate's clean shutdown then shows in its log instead. Its
        # goroutines log concurrently while it stops, so which line comes last varies.
        assert code == CLEAN_EXIT[kind], text[-4000:]
        assert kind == "binary" or "closing raft-rpc server" in shutdown, shutdown[-2000:]
        assert "level=fatal" not in shutdown and "panic:" not in shutdown, shutdown[-2000:]
        assert port_is_free(8080) and port_is_free(50051)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    with capsys.disabled():
        print(f"\n[weaviate-dev run, {kind}] ready after {ready_seconds:.1f}s, "
              f"stopped {stop_seconds:.1f}s after SIGINT with exit code {code}")
