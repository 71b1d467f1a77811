"""What the `weaviate-dev run` suites share: the reranker they start with `weaviate-dev restart
--reranker`, the environment the CLI runs in, a collection to rerank, the pinned Weaviate
module's source tree (the writable copy `weaviate-dev setup` builds its binary from, so a
compile of it finds Go's build cache warm), and waiting for a line of the CLI's output."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from integration_tests.conftest import busy_ports, weaviate_dev_cli
from weaviate_dev.core.errors import DevError
from weaviate_dev.testing.pytest_plugin import unavailable
from weaviate_dev.weaviate import build as weaviate_build, source as weaviate_source

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
# A binary compiles nothing, but loads modules only once the reranker is ready; a source
# tree is compiled first (~20 s to link after the binary build; minutes where Go's build cache
# is cold, e.g. a debug build).
READY_TIMEOUT = {"binary": 240, "source": 900}
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
    busy = busy_ports((8009, 8080, 50051))
    assert not busy, busy
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


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, timeout: float,
                  count: int = 1) -> float:
    """Seconds until `text` is in the log `count` times; fails when the CLI exits first."""
    started = time.monotonic()
    while log.read_text(errors="replace").count(text) < count:
        if proc.poll() is not None:
            pytest.fail(f"weaviate-dev run exited with {proc.returncode} before '{text}':\n"
                        + log.read_text(errors="replace")[-4000:])
        if time.monotonic() - started > timeout:
            pytest.fail(f"no '{text}' (x{count}) after {timeout}s:\n"
                        + log.read_text(errors="replace")[-4000:])
        time.sleep(0.25)
    return time.monotonic() - started


def stop_leftover(proc: subprocess.Popen) -> None:
    """After a test, whatever happened: the CLI stopped (SIGTERM, then SIGKILL)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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




@pytest.fixture
def source_tree(weaviate_dev_settings) -> Path:
    """The pinned module's writable source copy (a Weaviate source tree without .git)."""
    try:
        source = weaviate_build.ensure_source(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"no Weaviate source tree to compile: {exc}")
    assert not (source / ".git").exists()  # a module copy: build info must cope without git
    return source
