"""A real 3-node Weaviate cluster (real processes, real raft) reranking through our reranker.

One cluster for the whole module, started as a user starts it: `weaviate-dev dev --nodes 3`
(our reranker on 127.0.0.1:8009 through compose, then `run local-reranker-cluster --all-nodes`
with the weaviate-server binary `weaviate-dev setup` builds). The tests run in order and share
it: a replicated collection reranks through each node; one node is SIGKILLed, the others still
rerank at consistency ONE, and the node started again with its data rejoins and answers the
same; finally Ctrl-C on the command leaves no node, no reranker and no taken port behind.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests

from integration_tests.conftest import (Cli, book_vector, dev_environment, graphql, leftovers,
                                        port_is_free, reranker_scores)
from weaviate_dev.weaviate import raft

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

NODES = 3
RERANKER = "http://127.0.0.1:8009"
HTTP = [f"http://127.0.0.1:{8080 + i}" for i in range(NODES)]
# every port the cluster and the reranker take (cluster_node_env's scheme)
PORTS = [8009, *(p + i for i in range(NODES) for p in (8080, 50051, 2112, 6060)),
         *(p + 2 * i + j for i in range(NODES) for p in (7100, 8300) for j in (0, 1))]
COLLECTION = "ClusterBook"
QUERY = "a novel about a desert planet and its spice"
SEARCH = "novel"
START_TIMEOUT = 600
REJOIN_TIMEOUT = 180


@pytest.fixture(scope="module")
def cluster(cli_reranker_image, weaviate_dev_settings, tmp_path_factory):
    """`weaviate-dev dev --nodes 3`, ready; what is left is killed and taken down at the end."""
    home = tmp_path_factory.mktemp("cluster")
    env = dev_environment(weaviate_dev_settings, home, PORTS,
                          WEAVIATE_DEV_RERANKER_IMAGE=cli_reranker_image)
    (home / "ws").mkdir()
    data = home / "data"
    started = time.monotonic()
    cli = Cli("dev", "--nodes", str(NODES), "--workspace", str(home / "ws"),
              "--data-dir", str(data), env=env, cwd=home)
    state = {"cli": cli, "env": env, "home": home, "data": data, "others": []}
    try:
        cli.wait_for("Weaviate cluster is ready", timeout=START_TIMEOUT)
        state["ready_seconds"] = time.monotonic() - started
        yield state
    finally:
        for other in [*state["others"], cli]:
            other.kill()
        if leftovers("weaviate-dev"):
            Cli("down", "--workspace", str(home / "ws"), "--data-dir", str(data),
                env=env, cwd=home).proc.wait(timeout=300)


def rerank_query(consistency: str = "QUORUM") -> str:
    return (f'{{ Get {{ {COLLECTION}(bm25: {{query: "{SEARCH}"}}, limit: 20, '
            f'consistencyLevel: {consistency}) {{ description _additional {{ id '
            f'rerank(property: "description", query: "{QUERY}") {{ score }} }} }} }} }}')


def reranked(url: str, consistency: str = "QUORUM", attempts: int = 50) -> list[tuple]:
    """(id, description, score) rows of the rerank query through one node. A node rebuilds its
    GraphQL schema asynchronously after a class is created: retry briefly until `rerank` is
    queryable there."""
    for _ in range(attempts):
        body = graphql(url, rerank_query(consistency))
        if "errors" not in body:
            break
        time.sleep(0.2)
    assert "errors" not in body, body
    rows = body["data"]["Get"][COLLECTION]
    return [(r["_additional"]["id"], r["description"], r["_additional"]["rerank"][0]["score"])
            for r in rows]


def assert_reranker_scores(rows: list[tuple]) -> None:
    """Each score is the reranker's own (|diff| <= 1e-4), and the rows are sorted by it."""
    assert len(rows) >= 5
    expected = reranker_scores(RERANKER, QUERY, [description for _, description, _ in rows])
    for (_, description, score), truth in zip(rows, expected):
        assert abs(score - truth) <= 1e-4, description
    scores = [score for _, _, score in rows]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1


def whole(timeout: float) -> float:
    return raft_wait(raft.probe(HTTP[0], voters=[f"weaviate-{i}" for i in range(NODES)]),
                     timeout)


def raft_wait(probe, timeout: float) -> float:
    from weaviate_dev.core.waiting import wait_until

    return wait_until(probe, what="the 3-node cluster", timeout=timeout, interval=0.2,
                      progress=lambda line: None)


def records(data) -> list[dict]:
    return json.loads((data / "reranker-cluster" / "running.json").read_text())


def test_a_replicated_collection_reranks_through_every_node(cluster, books):
    assert sorted(r["index"] for r in records(cluster["data"])) == [0, 1, 2]
    schema = {"class": COLLECTION, "vectorizer": "none",
              "replicationConfig": {"factor": NODES},
              "moduleConfig": {"reranker-transformers": {}},
              "properties": [{"name": "title", "dataType": ["text"]},
                             {"name": "description", "dataType": ["text"]}]}
    response = requests.post(f"{HTTP[0]}/v1/schema", json=schema, timeout=60)
    assert response.status_code == 200, response.text
    objects = [{"class": COLLECTION, "vector": book_vector(i),
                "properties": {"title": b["title"], "description": b["description"]}}
               for i, b in enumerate(books)]
    response = requests.post(f"{HTTP[0]}/v1/batch/objects?consistency_level=ALL",
                             json={"objects": objects}, timeout=120)
    assert response.status_code == 200, response.text
    assert all("errors" not in (o.get("result") or {}) for o in response.json())
    answers = {}
    for node, url in enumerate(HTTP):
        rows = reranked(url)
        assert_reranker_scores(rows)
        answers[node] = rows
        # every node holds every object itself (replication factor 3), read from its replica
        some = [row[0] for row in rows]
        for object_id in some:
            got = requests.get(f"{HTTP[0]}/v1/objects/{COLLECTION}/{object_id}",
                               params={"node_name": f"weaviate-{node}"}, timeout=30)
            assert got.status_code == 200, (node, got.text)
    assert answers[0] == answers[1] == answers[2]
    cluster["answers"] = answers[2]


def test_a_killed_node_leaves_reranking_to_the_others_and_rejoins_with_its_data(cluster, capsys):
    assert "answers" in cluster, "needs the collection of the test before"
    cli, data = cluster["cli"], cluster["data"]
    [node2] = [r for r in records(data) if r["index"] == 2]
    killed = time.monotonic()
    os.kill(node2["pid"], signal.SIGKILL)

    def detected() -> str | None:
        nodes = requests.get(f"{HTTP[0]}/v1/nodes", timeout=10).json()["nodes"]
        status = {n["name"]: n["status"] for n in nodes}
        return None if status.get("weaviate-2") != "HEALTHY" else "weaviate-2 still HEALTHY"

    raft_wait(detected, 60)
    detect_seconds = time.monotonic() - killed
    voters = [f"weaviate-{i}" for i in range(NODES)]
    gone = raft.probe(HTTP[0], voters=voters)
    raft_wait(lambda: None if gone() else "raft still whole", 60)
    raft_seconds = time.monotonic() - killed
    cli.wait_for("node 2 (http://127.0.0.1:8082) was killed by SIGKILL", timeout=30)
    reported_seconds = time.monotonic() - killed
    for url in HTTP[:2]:
        rows = reranked(url, consistency="ONE")
        assert_reranker_scores(rows)
        assert rows == cluster["answers"]

    hint = cli.output().split("Start it again with its data: ")[1].splitlines()[0]
    argv = hint.split()
    assert argv[:6] == ["weaviate-dev", "run", "local-reranker-cluster", "--node", "2",
                        "--nodes"], hint
    restarted = time.monotonic()
    again = Cli(*argv[1:], env=cluster["env"], cwd=cluster["home"])
    cluster["others"].append(again)
    again.wait_for("Weaviate is ready", timeout=REJOIN_TIMEOUT)
    ready_seconds = time.monotonic() - restarted
    rejoin_seconds = ready_seconds + whole(REJOIN_TIMEOUT)
    cli.wait_for("node 2 runs again", timeout=30)
    rows = reranked(HTTP[2], consistency="ONE")
    assert_reranker_scores(rows)
    assert rows == cluster["answers"]  # its own data, the same answers
    with capsys.disabled():
        print(f"\n[cluster] 3 nodes ready {cluster['ready_seconds']:.1f}s after `dev --nodes 3`;"
              f" SIGKILL seen in /v1/nodes after {detect_seconds:.1f}s, in raft statistics "
              f"after {raft_seconds:.1f}s, reported by the "
              f"command after {reported_seconds:.1f}s; restarted node ready after "
              f"{ready_seconds:.1f}s, raft whole again after {rejoin_seconds:.1f}s")


def test_ctrl_c_stops_every_node_and_the_reranker(cluster):
    cli, data = cluster["cli"], cluster["data"]
    pids = [r["pid"] for r in records(data)]
    assert len(pids) == NODES  # ours and the restarted one
    stopped = time.monotonic()
    code = cli.ctrl_c()
    assert code == 0, cli.output()[-4000:]
    for other in cluster["others"]:
        assert other.proc.wait(timeout=60) == 0, other.output()[-3000:]
    assert records(data) == []
    assert leftovers("weaviate-dev") == []
    busy = [port for port in PORTS if not port_is_free(port)]
    assert not busy, cli.output()[-3000:]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    print(f"\n[cluster] Ctrl-C: every node and the reranker gone in "
          f"{time.monotonic() - stopped:.1f}s")
