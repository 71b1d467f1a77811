"""Record each Weaviate process that `weaviate-dev run` starts, where `weaviate-dev down` in
another terminal can find it.

A record is kept in the profile's state directory, or for cluster nodes in the cluster's
(`DATA/<cluster>-cluster/running.json`), so that `run --all-nodes`, a node restarted with
`run --node I` and nodes started one per terminal all write to the same file. Each record
names the node's process group (pid, start time and boot time: core/identity.py) and its
owner, the weaviate-dev process that waits for it. Fields that a later version adds are
ignored when a record is read. `down` asks each owner to stop (SIGTERM, as Ctrl-C does), then
stops whatever is left itself and removes the containers left behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from weaviate_dev.core.identity import Identity
from weaviate_dev.weaviate import groups

FILE = "running.json"
LOCK = ".running.lock"
OWNER_EXTRA = 15.0  # an owner stops its nodes within their grace; give it this much more


@dataclass(frozen=True)
class Record:
    """One running Weaviate: its process group, its owner, and where it answers and logs."""

    label: str
    index: int | None
    pid: int
    started: float  # identity.Identity.started: seconds since the epoch (see `identity_of`)
    owner: int
    owner_started: float
    http: int
    grpc: int
    log: str | None = None
    container: str | None = None  # `docker run --name` of an image node
    boot: float | None = None  # the boot time when `started` was read
    owner_boot: float | None = None

    @classmethod
    def of(cls, label: str, member: groups.Member, *, owner: groups.Member, http: int,
           grpc: int, index: int | None = None, log: Path | None = None,
           container: str | None = None) -> "Record":
        """Return the record of `member`, a node that `owner` started."""
        node, parent = member.identity, owner.identity
        return cls(label=label, index=index, pid=node.pid, started=float(node.started),
                   boot=node.boot, owner=parent.pid, owner_started=float(parent.started),
                   owner_boot=parent.boot, http=http, grpc=grpc,
                   log=str(log) if log else None, container=container)

    def member(self) -> groups.Member:
        """Return the node's process."""
        return groups.Member(identity_of(self.pid, self.started, self.boot))

    def owner_member(self) -> groups.Member:
        """Return the owner's process."""
        return groups.Member(identity_of(self.owner, self.owner_started, self.owner_boot))

    def alive(self) -> bool:
        """Return whether the node still runs."""
        return self.member().alive()

    def owner_alive(self) -> bool:
        """Return whether the owner still runs."""
        return self.owner_member().alive()


def identity_of(pid: int, started: float | int, boot: float | None) -> Identity:
    """Return the Identity of a recorded process. Records written before weaviate-dev used
    psutil (before 2026-12-05) store the start as whole clock ticks after boot and no boot
    time: an integer, where psutil's start time is a float."""
    if boot is None and isinstance(started, int):
        return Identity.from_boot_ticks(pid, started)
    return Identity(pid, float(started), boot)


FIELDS = frozenset(f.name for f in fields(Record))


class RunFile:
    """The run records of one state directory (running.json). Every change is made under an
    exclusive lock."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / FILE

    @contextmanager
    def _edit(self) -> Iterator[list[Record]]:
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            yield records
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps([asdict(r) for r in records], indent=1) + "\n")
            temporary.replace(self.path)

    def _read(self) -> list[Record]:
        try:
            return [Record(**{key: value for key, value in item.items() if key in FIELDS})
                    for item in json.loads(self.path.read_text())]
        except (OSError, ValueError, TypeError):
            return []

    def records(self) -> list[Record]:
        """Return the records in the file ([] when there is none or it cannot be read)."""
        return self._read()

    def add(self, record: Record) -> None:
        """Record a process; it replaces an earlier record of the same node or pid."""
        with self._edit() as records:
            records[:] = [r for r in records if r.pid != record.pid
                          and (record.index is None or r.index != record.index)]
            records.append(record)

    def remove(self, pid: int) -> None:
        """Remove the record of `pid`."""
        with self._edit() as records:
            records[:] = [r for r in records if r.pid != pid]

    def forget_dead(self) -> None:
        """Remove the records of nodes that no longer run."""
        with self._edit() as records:
            records[:] = [r for r in records if r.alive()]


def recorded(data_root: Path) -> list[RunFile]:
    """Return a RunFile for every state directory under data_root that has a record."""
    return [RunFile(path.parent) for path in sorted(Path(data_root).glob(f"*/{FILE}"))]


def remove_container(name: str) -> bool:
    """Remove the container of an image node; return False when there is none or no Docker
    engine answers."""
    from weaviate_dev.services.docker import containers, engine

    return engine.answers() and containers.remove_container(name)


def stop_all(data_root: Path, *, grace: float = 30.0) -> list[Record]:
    """Stop every Weaviate recorded under data_root; return the records that were running."""
    files = recorded(data_root)
    live = [record for run_file in files for record in run_file.records() if record.alive()]
    owners = {r.owner_member() for r in live if r.owner != os.getpid()}
    asked = [owner for owner in owners if groups.signal_owner(owner, signal.SIGTERM)]
    groups.wait_gone(asked, grace + OWNER_EXTRA)
    groups.stop([record.member() for record in live], grace=grace)
    for record in live:
        if record.container:
            remove_container(record.container)
    for run_file in files:
        run_file.forget_dead()
    return live
