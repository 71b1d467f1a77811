"""Assign ports to the nodes of a dev cluster: which ports node I of N listens on, and the
environment variables that set them.

profiles.yaml's `cluster_ports` gives the base ports. Node 0 keeps Weaviate's default gRPC and
raft ports, as run_dev_server.sh did; every other node shifts each port by its index, so any
node count works and no two ports collide (`check_cluster_ports` verifies this).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from weaviate_dev.core.errors import UsageError

SERVER_DEFAULT_GOSSIP = 7946  # Weaviate's memberlist default (gRPC 50051, raft 8300/8301)


@dataclass(frozen=True)
class ClusterPorts:
    """The base ports of the cluster port scheme, from profiles.yaml's `cluster_ports`."""

    http: int = 8080
    grpc: int = 50051
    gossip: int = 7100
    raft: int = 8300


def cluster_node_env(index: int, nodes: int, base: ClusterPorts, *, metrics: int, pprof: int,
                     members: int = 0) -> tuple[dict[str, str], dict[str, int]]:
    """Return the environment variables and listening ports of cluster node `index` in a
    cluster of `nodes` voters.

    Node 0 keeps the server's default gRPC and raft ports (as the original script did); every
    other node shifts each port by its index (pairs of ports shift by two). RAFT_JOIN lists
    every member, voters first (at least `members`, the voters and this node), because with
    CLUSTER_IN_LOCALHOST that is the only place Weaviate finds a peer's raft port.
    """
    if index < 0:
        raise UsageError(f"--node must be 0 or more, not {index}")
    if nodes < 1:
        raise UsageError(f"--nodes must be 1 or more, not {nodes}")
    gossip = base.gossip + 2 * index
    raft = base.raft + 2 * index
    ports = {
        "http": base.http + index,
        "grpc": base.grpc + index,
        "metrics": metrics + index,
        "pprof": pprof + index,
        "gossip": gossip,
        "data": gossip + 1,
        "raft": raft,
        "raft-rpc": raft + 1,
    }
    env = {
        "CLUSTER_IN_LOCALHOST": "true",
        "CLUSTER_GOSSIP_BIND_PORT": str(gossip),
        "CLUSTER_DATA_BIND_PORT": str(gossip + 1),
        "RAFT_JOIN": ",".join(f"weaviate-{j}:{base.raft + 2 * j}"
                              for j in range(max(nodes, members, index + 1))),
    }
    if index > 0:
        env.update({
            "CLUSTER_HOSTNAME": f"weaviate-{index}",
            "CLUSTER_JOIN": f"localhost:{base.gossip}",
            "GRPC_PORT": str(ports["grpc"]),
            "PROMETHEUS_MONITORING_PORT": str(ports["metrics"]),
            "GO_PROFILING_PORT": str(ports["pprof"]),
            "RAFT_PORT": str(raft),
            "RAFT_INTERNAL_RPC_PORT": str(raft + 1),
        })
    if index < nodes:  # voters bootstrap together; later nodes join as non-voters
        env["RAFT_BOOTSTRAP_EXPECT"] = str(nodes)
    return env, ports


def single_node_ports(env: Mapping[str, str], base: ClusterPorts) -> dict[str, int]:
    """Return the ports a single node listens on, from its variables or else Weaviate's
    defaults."""
    gossip = int(env.get("CLUSTER_GOSSIP_BIND_PORT", SERVER_DEFAULT_GOSSIP))
    raft = int(env.get("RAFT_PORT", base.raft))
    return {
        "grpc": int(env.get("GRPC_PORT", base.grpc)),
        "metrics": int(env["PROMETHEUS_MONITORING_PORT"]),
        "pprof": int(env["GO_PROFILING_PORT"]),
        "gossip": gossip,
        "data": int(env.get("CLUSTER_DATA_BIND_PORT", gossip + 1)),
        "raft": raft,
        "raft-rpc": int(env.get("RAFT_INTERNAL_RPC_PORT", raft + 1)),
    }


def check_cluster_ports(nodes_ports: Iterable[Mapping[str, int]]) -> None:
    """Raise UsageError when two listening ports of a cluster coincide."""
    owner: dict[int, str] = {}
    for index, ports in enumerate(nodes_ports):
        for purpose, port in ports.items():
            who = f"node {index} {purpose}"
            if port in owner:
                raise UsageError(f"port {port} would be used twice ({owner[port]}, {who}); "
                                 "use fewer nodes or other base ports")
            if not 0 < port < 65536:
                raise UsageError(f"port {port} ({who}) is out of range")
            owner[port] = who
