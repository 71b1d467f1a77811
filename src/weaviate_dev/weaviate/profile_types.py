"""The types that `profiles` reads and returns.

A `Profile` is one profile of run_dev_server.sh as declared in profiles.yaml, with its
`Option`s and the services it needs (`Need`). A `Resolved` is a profile resolved for one
Weaviate process: everything `run` needs to start it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from weaviate_dev.weaviate import marker


@dataclass(frozen=True)
class Need:
    """A service a profile talks to: its host port and the restart flag that starts it."""

    port: int
    flag: str | None = None
    what: str | None = None

    def describe(self) -> str:
        """Return e.g. "keycloak on localhost:9090 (start it: weaviate-dev restart --keycloak)"."""
        name = self.what or self.flag or "service"
        how = f" (start it: weaviate-dev restart --{self.flag})" if self.flag else ""
        return f"{name} on localhost:{self.port}{how}"


@dataclass(frozen=True)
class Option:
    """A named variant of a profile (e.g. --contextionary): extra variables and needs."""

    name: str
    help: str
    env: Mapping[str, str]
    needs: tuple[Need, ...] = ()


@dataclass(frozen=True)
class Profile:
    """One profile name of the original script, as declared in profiles.yaml."""

    name: str
    description: str
    kind: str  # "server", "cluster" (a node of a cluster) or "helper"
    env: Mapping[str, str] = field(default_factory=dict)  # groups + own env, in order
    port: int = 8080
    timeout: str | None = "600s"
    runner: str = "go"  # "go" (a compiled tree / binary / image) or "dlv"
    cluster: str | None = None
    node: int | None = None  # node index of a cluster profile
    nodes: int | None = None  # the cluster's default voter count
    members: int | None = None  # the nodes the cluster lists (more when its voters are more)
    ours: bool = False  # a profile of weaviate-dev, not of run_dev_server.sh
    options: Mapping[str, Option] = field(default_factory=dict)
    needs: tuple[Need, ...] = ()
    notes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    replacement: str | None = None  # helpers: the command that replaces them
    then: tuple[str, ...] = ()  # helpers: manual steps after the replacement


def weaviate_ready_url(port: int) -> str:
    """Return the readiness URL of a Weaviate that `run` started on 127.0.0.1:port."""
    return f"http://127.0.0.1:{port}/v1/.well-known/ready"


@dataclass(frozen=True)
class Resolved:
    """A profile resolved for one Weaviate process: its environment, server flags, ports and
    directories."""

    profile: str
    label: str  # profile name, or "<cluster> node I" for generated nodes
    env: Mapping[str, str]
    server_args: tuple[str, ...]
    port: int
    ports: Mapping[str, int]  # every port this process listens on, by purpose
    state_dir: Path  # the profile's (or node's) own directory: data/ and backups/
    data_dir: Path
    runner: str
    needs: tuple[Need, ...]
    notes: tuple[str, ...]
    node: int | None = None
    nodes: int | None = None  # raft voters of the cluster
    members: int | None = None  # every node of the cluster, voters first

    @property
    def home(self) -> Path:
        """The directory where `run` records what it started: the cluster's directory for a
        cluster node, else the profile's state directory."""
        return self.state_dir.parent if self.node is not None else self.state_dir

    @property
    def ready_url(self) -> str:
        return weaviate_ready_url(self.port)

    @property
    def grpc(self) -> int:
        return self.ports.get("grpc", 50051)

    @property
    def data_root(self) -> Path:
        """The root of every profile's state directory (`run --data-dir`)."""
        return self.home.parent

    def make_dirs(self) -> None:
        """Create the directories Weaviate expects: state, data and filesystem backups. The
        data and backups directories made here carry run's mark (marker.py)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        marker.make(self.data_dir, self.data_root, self.label)
        if "BACKUP_FILESYSTEM_PATH" in self.env:
            marker.make(Path(self.env["BACKUP_FILESYSTEM_PATH"]), self.data_root, self.label)

    def env_lines(self) -> list[str]:
        """Return `KEY=VALUE` lines sorted by key (for --print-env)."""
        return [f"{key}={self.env[key]}" for key in sorted(self.env)]
