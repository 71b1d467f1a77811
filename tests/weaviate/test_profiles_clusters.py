"""Cluster profiles generated from a node index: ports unique across nodes, consistent scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from weaviate_dev.core.errors import UsageError
from weaviate_dev.weaviate.port_scheme import ClusterPorts, check_cluster_ports, cluster_node_env
from weaviate_dev.weaviate.profiles import ProfileCatalog


@pytest.fixture(scope="module")
def catalog() -> ProfileCatalog:
    return ProfileCatalog.load()


CLUSTER_HEADS = ["local-development", "local-first-rbac", "first-s3", "local-gcs"]


@pytest.mark.parametrize("head", CLUSTER_HEADS)
@pytest.mark.parametrize("nodes", range(1, 8))
def test_ports_unique_across_all_nodes(catalog, head, nodes):
    owner: dict[int, str] = {}
    dirs = set()
    for index in range(nodes):
        plan = catalog.resolve(head, data_root=Path("/s"), node=index, nodes=nodes)
        assert plan.port == 8080 + index
        assert plan.ports["grpc"] == 50051 + index
        assert plan.ports["metrics"] == 2112 + index
        assert plan.ports["pprof"] == 6060 + index
        assert plan.ports["gossip"] == 7100 + 2 * index and plan.ports["data"] == 7101 + 2 * index
        assert plan.ports["raft"] == 8300 + 2 * index and plan.ports["raft-rpc"] == 8301 + 2 * index
        for purpose, port in plan.ports.items():
            assert port not in owner, f"{port}: node {index} {purpose} vs {owner.get(port)}"
            owner[port] = f"node {index} {purpose}"
        dirs.add(plan.env["PERSISTENCE_DATA_PATH"])
        # the environment tells Weaviate exactly these ports
        env = plan.env
        assert plan.server_args[plan.server_args.index("--port") + 1] == str(plan.port)
        assert env["CLUSTER_GOSSIP_BIND_PORT"] == str(plan.ports["gossip"])
        assert env["CLUSTER_DATA_BIND_PORT"] == str(plan.ports["data"])
        assert env["CLUSTER_HOSTNAME"] == f"weaviate-{index}"
        if index:
            assert env["GRPC_PORT"] == str(plan.ports["grpc"])
            assert env["RAFT_PORT"] == str(plan.ports["raft"])
            assert env["RAFT_INTERNAL_RPC_PORT"] == str(plan.ports["raft-rpc"])
            assert env["PROMETHEUS_MONITORING_PORT"] == str(plan.ports["metrics"])
            assert env["GO_PROFILING_PORT"] == str(plan.ports["pprof"])
            assert env["CLUSTER_JOIN"] == "localhost:7100"
        else:
            assert "CLUSTER_JOIN" not in env and "GRPC_PORT" not in env
        members = max(nodes, catalog.get(head).members)  # non-voters are named too
        assert env["RAFT_JOIN"] == ",".join(f"weaviate-{j}:{8300 + 2 * j}" for j in range(members))
        assert env["RAFT_BOOTSTRAP_EXPECT"] == str(nodes)
    assert len(dirs) == nodes


def test_node_beyond_the_voters_joins_as_non_voter(catalog):
    plan = catalog.resolve("local-development", data_root=Path("/s"), node=5)
    assert plan.nodes == 3 and plan.port == 8085
    assert "RAFT_BOOTSTRAP_EXPECT" not in plan.env
    assert plan.env["RAFT_JOIN"] == ",".join(f"weaviate-{j}:{8300 + 2 * j}" for j in range(6))
    assert plan.label == "development cluster node 5"


def test_named_node_profiles_equal_the_generated_nodes(catalog):
    for index, name in enumerate(["local-development", "second-node", "third-node",
                                  "fourth-node"]):
        named = catalog.resolve(name, data_root=Path("/s"))
        generated = catalog.resolve("local-development", data_root=Path("/s"), node=index)
        assert named.env == generated.env and named.server_args == generated.server_args


def test_port_overrides_shift_metrics_and_pprof(catalog):
    env = {"PROMETHEUS_MONITORING_PORT": "3000", "GO_PROFILING_PORT": "7000"}
    plan = catalog.resolve("local-development", data_root=Path("/s"), environ=env, node=2)
    assert plan.env["PROMETHEUS_MONITORING_PORT"] == "3002"
    assert plan.env["GO_PROFILING_PORT"] == "7002"
    head = catalog.resolve("local-development", data_root=Path("/s"), environ=env)
    assert head.env["PROMETHEUS_MONITORING_PORT"] == "3000"


def test_colliding_layouts_are_refused():
    ports = [cluster_node_env(i, 500, ClusterPorts(), metrics=2112, pprof=6060)[1]
             for i in range(500)]
    with pytest.raises(UsageError, match="used twice"):
        check_cluster_ports(ports)


@pytest.mark.parametrize("kwargs, message", [
    ({"node": -1}, "--node must be 0 or more"),
    ({"nodes": 0}, "--nodes must be 1 or more"),
])
def test_bad_node_arguments(catalog, kwargs, message):
    with pytest.raises(UsageError, match=message):
        catalog.resolve("local-development", data_root=Path("/s"), **kwargs)


def test_node_flags_only_for_clusters(catalog):
    with pytest.raises(UsageError, match="only apply to cluster profiles"):
        catalog.resolve("local-openai", data_root=Path("/s"), node=1)


def test_single_node_ports_include_server_defaults(catalog):
    plan = catalog.resolve("local-openai", data_root=Path("/s"))
    assert dict(plan.ports) == {"http": 8080, "grpc": 50051, "metrics": 2112, "pprof": 6060,
                                "gossip": 7946, "data": 7947, "raft": 8300, "raft-rpc": 8301}
    plan = catalog.resolve("local-single-node", data_root=Path("/s"))
    assert (plan.ports["gossip"], plan.ports["data"]) == (7100, 7101)
    assert catalog.resolve("local-mcp", data_root=Path("/s")).ports["http"] == 8082
