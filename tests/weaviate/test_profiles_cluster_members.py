"""Every member of a cluster is in RAFT_JOIN, voters first; our reranker cluster; the list of
cluster profiles that `run --all-nodes` accepts.

Weaviate 1.39.0 with CLUSTER_IN_LOCALHOST resolves a raft peer's port from RAFT_JOIN and falls
back to its *own* raft port for a peer it does not find there: a non-voter left out of
RAFT_JOIN (the original's fourth-node, the gcs nodes 2 and 3) was dialled at the leader's own
address and the cluster lost its leader (observed; see docs/run.md). Voters are the first
RAFT_BOOTSTRAP_EXPECT names of RAFT_JOIN, so listing the others after them is safe.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from weaviate_dev.core.errors import UsageError
from weaviate_dev.weaviate.profiles import ProfileCatalog


@pytest.fixture(scope="module")
def catalog() -> ProfileCatalog:
    return ProfileCatalog.load()


def join(n: int) -> str:
    return ",".join(f"weaviate-{j}:{8300 + 2 * j}" for j in range(n))


@pytest.mark.parametrize("name", ["local-development", "second-node", "third-node",
                                  "fourth-node"])
def test_development_nodes_all_know_the_fourth_node(catalog, name):
    plan = catalog.resolve(name, data_root=Path("/s"))
    assert plan.env["RAFT_JOIN"] == join(4)
    assert plan.members == 4 and plan.nodes == 3
    voter = plan.node < 3
    assert ("RAFT_BOOTSTRAP_EXPECT" in plan.env) == voter


@pytest.mark.parametrize("name", ["local-gcs", "local-gcs-2", "local-gcs-3"])
def test_gcs_nodes_all_know_each_other(catalog, name):
    plan = catalog.resolve(name, data_root=Path("/s"))
    assert plan.env["RAFT_JOIN"] == join(3) and plan.members == 3 and plan.nodes == 1


def test_members_grow_with_the_voters_and_with_the_node_index(catalog):
    assert catalog.resolve("local-development", data_root=Path("/s"),
                           nodes=5).env["RAFT_JOIN"] == join(5)
    assert catalog.resolve("local-first-rbac", data_root=Path("/s"),
                           node=4).env["RAFT_JOIN"] == join(5)
    two = catalog.resolve("local-development", data_root=Path("/s"), nodes=2)
    assert two.env["RAFT_JOIN"] == join(4) and two.env["RAFT_BOOTSTRAP_EXPECT"] == "2"


def test_the_reranker_cluster_is_ours_and_reranks_through_our_one_reranker(catalog):
    profile = catalog.get("local-reranker-cluster")
    assert profile.ours and profile.kind == "cluster" and profile.cluster == "reranker"
    for node in range(3):
        plan = catalog.resolve("local-reranker-cluster", data_root=Path("/s"), node=node)
        assert plan.env["RERANKER_INFERENCE_API"] == "http://localhost:8009"
        assert plan.env["ENABLE_MODULES"] == "reranker-transformers"
        assert plan.env["DEFAULT_VECTORIZER_MODULE"] == "none"
        assert plan.env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "true"
        assert plan.env["RAFT_BOOTSTRAP_EXPECT"] == "3" and plan.env["RAFT_JOIN"] == join(3)
        assert [need.port for need in plan.needs] == [8009]
        assert plan.state_dir == Path("/s/reranker-cluster") / f"weaviate-{node}"
    assert not any(catalog.get(n).ours for n in catalog.names() if n != "local-reranker-cluster")


def test_cluster_heads_name_every_cluster_once(catalog):
    assert catalog.cluster_heads() == ["local-development", "local-first-rbac", "first-s3",
                                       "local-gcs", "local-reranker-cluster"]


def test_members_of_a_cluster(catalog):
    assert catalog.members("second-node") == (3, 4)  # (voters, nodes): fourth-node a non-voter
    assert catalog.members("local-gcs-2") == (1, 3)
    assert catalog.members("local-reranker-cluster", nodes=5) == (5, 5)
    assert catalog.members("local-development", nodes=2) == (2, 4)
    with pytest.raises(UsageError, match="not a cluster profile.*cluster profiles: "
                                         "local-development, .*local-reranker-cluster"):
        catalog.members("local-single-node")
    with pytest.raises(UsageError, match="unknown profile 'nope'.*cluster profiles: "
                                         "local-development"):
        catalog.members("nope")
