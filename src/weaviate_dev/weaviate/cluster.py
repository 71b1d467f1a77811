"""Describe a whole cluster for `weaviate-dev run PROFILE --all-nodes`: each node's resolved
profile, command and log.

A cluster profile has `voters` raft voters and `count` nodes (`ProfileCatalog.members`: every
node the profile lists, or N voters with `--nodes N`). Each node gets the profile resolved for
its index, its own state directory and its own log
(`DATA/<cluster>-cluster/weaviate-I/weaviate.log`). This module starts nothing;
cluster_run.py starts, watches and stops the nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.waiting import tcp_probe
from weaviate_dev.services import ports
from weaviate_dev.weaviate import source as weaviate_source
from weaviate_dev.weaviate.profile_types import Resolved
from weaviate_dev.weaviate.profiles import ProfileCatalog
from weaviate_dev.weaviate.source import Command, WeaviateSource

LOG = "weaviate.log"


@dataclass(frozen=True)
class Node:
    """One cluster node: its resolved profile (`plan`), the command that starts it, and its
    log file."""

    plan: Resolved
    command: Command
    log: Path

    @property
    def index(self) -> int:
        return self.plan.node if self.plan.node is not None else 0

    @property
    def name(self) -> str:  # the raft/memberlist name
        return self.plan.env.get("CLUSTER_HOSTNAME", f"weaviate-{self.index}")

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.plan.port}"

    @property
    def grpc(self) -> int:
        return self.plan.grpc

    def address_line(self) -> str:
        """Return the line that tells where this node listens and logs."""
        return (f"node {self.index}  {self.http_url}  gRPC 127.0.0.1:{self.grpc}  "
                f"log {self.log}")


@dataclass(frozen=True)
class Cluster:
    """One cluster: its nodes, how many of them vote, and its home directory, where `run`
    records the processes it started."""

    name: str
    profile: str
    home: Path  # DATA/<cluster>-cluster
    nodes: tuple[Node, ...]
    voters: int
    single: bool = False  # one node of any profile (`run --detach`): no raft cluster to wait for

    @property
    def voter_names(self) -> list[str]:
        return [n.name for n in self.nodes if n.index < self.voters]

    @property
    def other_names(self) -> list[str]:
        return [n.name for n in self.nodes if n.index >= self.voters]

    def describe(self) -> str:
        """Return a short description, e.g. "the development cluster (3 nodes, 3 voters)"."""
        if self.single:
            return f"Weaviate ({self.name})"
        others = len(self.nodes) - self.voters
        return (f"the {self.name} cluster ({len(self.nodes)} nodes, {self.voters} voters"
                + (f", {others} non-voter{'s' * (others > 1)}" if others else "") + ")")


def plans(catalog: ProfileCatalog, profile: str, *, nodes: int | None, data_root: Path,
          environ: Mapping[str, str], checkout: Path | None, vectorizer: str | None,
          options=(), relative_to: Path | None = None) -> list[Resolved]:
    """Resolve `profile` for every node of its cluster and return the list. Raises
    UsageError, listing the cluster profiles, when `profile` is not one of them."""
    voters, count = catalog.members(profile, nodes)
    return [catalog.resolve(profile, data_root=data_root, environ=environ, checkout=checkout,
                            node=index, nodes=voters, options=options,
                            relative_to=relative_to, vectorizer=vectorizer)
            for index in range(count)]


def assemble(catalog: ProfileCatalog, profile: str, node_plans: list[Resolved],
             source: WeaviateSource, *, built: Path | None = None,
             command: Callable[[WeaviateSource, Resolved], Command] = weaviate_source.command
             ) -> Cluster:
    """Return the Cluster whose nodes start Weaviate from `source`. For a source tree, pass
    `built`: the binary compiled once for all nodes."""
    home = node_plans[0].home
    if source.kind == "source":
        if built is None:
            raise ValueError("a cluster from a source tree needs its compiled binary")
        source = WeaviateSource("binary", built, why=f"built from {source.path}")
    nodes = tuple(Node(plan, command(source, plan), plan.state_dir / LOG) for plan in node_plans)
    return Cluster(name=catalog.get(profile).cluster, profile=profile, home=home, nodes=nodes,
                   voters=node_plans[0].nodes)


def single(plan: Resolved, command: Command) -> Cluster:
    """One node of any profile, run the way a cluster's nodes run (`run --detach`): in a
    session of its own, its output in `weaviate.log` in its state directory."""
    node = Node(plan, command, plan.state_dir / LOG)
    return Cluster(name=plan.label, profile=plan.profile, home=plan.home, nodes=(node,),
                   voters=1, single=True)


def under_debugger(whole: Cluster, index: int, debugger, debug_binary: Path) -> Cluster:
    """Return a copy of `whole` in which node `index` runs `debug_binary` under `debugger`
    (a delve.Debugger), in the same directory with the same environment. The other nodes
    are unchanged."""
    nodes = list(whole.nodes)
    node = nodes[index]
    argv = debugger.argv(debug_binary, node.plan.server_args)
    nodes[index] = replace(node, command=replace(node.command, argv=tuple(argv)))
    return replace(whole, nodes=tuple(nodes))


def dry_run_lines(cluster: Cluster) -> list[str]:
    """Return every node's environment and exact command, in the form `run --dry-run` prints
    for one node."""
    lines = []
    for node in cluster.nodes:
        lines.append(f"# node {node.index} ({node.plan.label}): {node.http_url}, "
                     f"gRPC {node.grpc}, log {node.log}")
        lines += node.plan.env_lines()
        if node.command.cwd is not None:
            lines.append(f"cd {process.format_argv([str(node.command.cwd)])}")
        lines.append(node.command.shell_line())
    return lines


def preflight_port(port: int, purpose: str) -> None:
    """Raise DevError when `port`, which we need besides Weaviate's own (Delve's, for
    example), is already taken."""
    conflicts = ports.preflight([("127.0.0.1", port, purpose)])
    if conflicts:
        raise DevError("cannot start; nothing was started:\n"
                       + "\n".join(f"  {c.describe()}" for c in conflicts))


def preflight(plans: Sequence[Resolved], what: str) -> None:
    """Check ports and services before any of these Weaviate processes starts.

    Raises DevError, naming each port and the process that uses it, when a port is taken.
    Prints one warning for each needed service that does not answer. `run` checks its one
    node; `run --all-nodes` checks every node.
    """
    several = len(plans) > 1
    bindings = [("127.0.0.1", port, f"{f'node {plan.node} ' if several else ''}{purpose}")
                for plan in plans for purpose, port in plan.ports.items()]
    conflicts = ports.preflight(bindings)
    if conflicts:
        raise DevError(f"{what} cannot start (is another Weaviate running?); nothing was "
                       "started:\n" + "\n".join(f"  {c.describe()}" for c in conflicts))
    seen = set()
    for need in plans[0].needs:
        if need.port not in seen and tcp_probe("127.0.0.1", need.port, timeout=0.5)():
            say(f"warning: nothing answers on localhost:{need.port}: {need.describe()}")
        seen.add(need.port)
