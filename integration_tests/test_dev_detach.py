"""`weaviate-dev dev --detach --json` as a script runs it: it exits 0 once the reranker and
Weaviate (one node, or three with raft whole) are ready, with one JSON object on stdout; a
GraphQL rerank through each printed URL answers with the reranker's scores; the nodes run on
after the command, `status` and `logs` find them, and `weaviate-dev down` leaves no process,
container or port. A start that fails (a taken port, a model that cannot be found) exits
non-zero with the reason and leaves nothing.
"""

from __future__ import annotations

import json
import os
import socket
import time

import psutil
import pytest
import requests

from integration_tests.conftest import (book_vector, busy_ports, dev_environment, graphql,
                                        leftovers, reranker_scores, weaviate_dev_cli)

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

QUERY = "a novel about a desert planet and its spice"


def ports(nodes: int) -> list[int]:
    """Every port the reranker and `nodes` Weaviate nodes take (the cluster port scheme)."""
    if nodes == 1:
        return [8009, 8080, 50051, 7946, 7947, 8300, 8301, 2112, 6060]
    return [8009, *(p + i for i in range(nodes) for p in (8080, 50051, 2112, 6060)),
            *(p + 2 * i + j for i in range(nodes) for p in (7100, 8300) for j in (0, 1))]


def gone(pids) -> bool:
    return not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids)


@pytest.fixture
def detached(cli_reranker_image, weaviate_dev_settings, tmp_path):
    """Run `weaviate-dev ARGS` with the environment of a fresh `dev`; `down` at the end if
    anything is left."""
    (tmp_path / "ws").mkdir()
    env = {}

    def prepare(nodes: int = 1) -> None:
        """Check that the ports of `nodes` nodes are free, and make the environment."""
        env.update(dev_environment(weaviate_dev_settings, tmp_path, ports(nodes),
                                   WEAVIATE_DEV_RERANKER_IMAGE=cli_reranker_image))

    def cli(*args: str, nodes: int = 1, **variables: str):
        if not env:
            prepare(nodes)
        return weaviate_dev_cli(*args, env={**env, **variables}, cwd=tmp_path, timeout=900)

    cli.prepare = prepare
    cli.data = tmp_path / "data"
    cli.ws = str(tmp_path / "ws")
    yield cli
    if env and (leftovers("weaviate-dev") or busy_ports([8080], patience=0)):
        cli("down", "--data-dir", str(cli.data))


def rerank_through(url: str, reranker: str, collection: str) -> None:
    """GraphQL `_additional { rerank }` through url answers the reranker's own scores."""
    query = (f'{{ Get {{ {collection}(limit: 20) {{ description _additional {{ '
             f'rerank(property: "description", query: "{QUERY}") {{ score }} }} }} }} }}')
    for _ in range(50):  # a node adds the class's rerank field shortly after the class
        body = graphql(url, query)
        if "errors" not in body:
            break
        time.sleep(0.2)
    assert "errors" not in body, body
    rows = body["data"]["Get"][collection]
    expected = reranker_scores(reranker, QUERY, [row["description"] for row in rows])
    scores = [row["_additional"]["rerank"][0]["score"] for row in rows]
    assert len(rows) >= 5 and all(abs(a - b) <= 1e-4 for a, b in zip(scores, expected))
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1


@pytest.mark.parametrize("nodes", [1, 3])
def test_detach_json_is_ready_reranks_and_down_leaves_nothing(detached, books, nodes):
    extra = ["--nodes", str(nodes)] if nodes > 1 else []
    started = time.monotonic()
    result = detached("dev", "--detach", "--json", "--workspace", detached.ws, "--data-dir",
                      str(detached.data), *extra, nodes=nodes)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)  # stdout holds the JSON object alone
    print(f"dev --detach with {nodes} node(s): ready and exited in {took:.1f}s")
    assert "Weaviate cluster is ready" in result.stderr if nodes > 1 else \
        "Weaviate is ready" in result.stderr
    assert [node["http"] for node in report["nodes"]] == \
        [f"http://127.0.0.1:{8080 + i}" for i in range(nodes)]
    assert [node["grpc_port"] for node in report["nodes"]] == [50051 + i for i in range(nodes)]
    assert report["weaviate_url"] == "http://127.0.0.1:8080" and report["grpc_port"] == 50051
    assert report["reranker_url"] == "http://127.0.0.1:8009"
    assert report["reranker"]["engine"] == "openvino" and report["reranker"]["model"]
    assert report["down"] == f"weaviate-dev down --data-dir {detached.data}"
    pids = [node["pid"] for node in report["nodes"]]
    assert not gone(pids) and all(os.getsid(pid) == pid for pid in pids)

    collection = f"DetachedBook{nodes}"
    schema = {"class": collection, "vectorizer": "none",
              "moduleConfig": {"reranker-transformers": {}},
              "properties": [{"name": "description", "dataType": ["text"]}]}
    first = report["weaviate_url"]
    assert requests.post(f"{first}/v1/schema", json=schema, timeout=60).status_code == 200
    objects = [{"class": collection, "vector": book_vector(i),
                "properties": {"description": book["description"]}}
               for i, book in enumerate(books[:40])]
    response = requests.post(f"{first}/v1/batch/objects", json={"objects": objects}, timeout=120)
    assert response.status_code == 200, response.text
    for node in report["nodes"]:
        rerank_through(node["http"], report["reranker_url"], collection)

    status = detached("status", "--json", "--data-dir", str(detached.data))
    rows = json.loads(status.stdout)
    assert sorted(r["container"] for r in rows if r["kind"] == "run") == \
        sorted(f"pid {pid}" for pid in pids)
    assert all(r["state"] == "running" and r["ready"] == "yes" for r in rows), rows
    logs = detached("logs", "weaviate", "-n", "3", "--data-dir", str(detached.data))
    assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 3 * nodes, logs.stderr

    down = detached("down", "--data-dir", str(detached.data))
    assert down.returncode == 0, down.stderr
    assert gone(pids)
    assert leftovers("weaviate-dev") == []
    assert busy_ports(ports(nodes), patience=15) == ""


def test_a_failed_start_exits_with_the_reason_and_leaves_nothing(detached, tmp_path):
    detached.prepare()
    with socket.socket() as blocker:  # Weaviate's port, taken once the reranker runs
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        blocker.bind(("127.0.0.1", 8080))
        blocker.listen(1)
        result = detached("dev", "--detach", "--json", "--workspace", detached.ws,
                          "--data-dir", str(detached.data))
        assert result.returncode == 1
        assert result.stdout == ""
        assert "127.0.0.1:8080 (for http) is taken" in result.stderr, result.stderr[-3000:]
        assert f"held by process {os.getpid()} " in result.stderr
        assert "reranker ready at http://127.0.0.1:8009" in result.stderr  # it had started
        assert leftovers("weaviate-dev") == []
        assert busy_ports([8009], patience=15) == ""
    empty = tmp_path / "no-model"
    empty.mkdir()
    result = detached("dev", "--detach", "--json", "--workspace", detached.ws,
                      WEAVIATE_DEV_MODEL_DIR=str(empty), WEAVIATE_DEV_RERANKER_IMAGE="")
    assert result.returncode == 1 and result.stdout == ""
    assert "weaviate-dev dev: error: " in result.stderr and str(empty) in result.stderr
    assert "reranker ready" not in result.stderr and leftovers("weaviate-dev") == []
