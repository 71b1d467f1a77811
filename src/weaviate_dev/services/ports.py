"""Host ports: is a port free to publish, and if not, who holds it.

The preflight binds each port the way Docker's proxy would (same address, no SO_REUSEPORT).
Holders are looked up, where the system lets us, among Docker containers (by published port,
`docker_engine.port_holders`) and then among processes (Linux /proc: listening socket inode ->
process). Whether something answers on a port is a probe: `waiting.tcp_probe`.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.services import docker_engine


@dataclass(frozen=True)
class PortConflict:
    """A host port we need that is taken."""

    address: str
    port: int
    service: str
    holder: str | None  # who holds it, when findable
    reason: str = "address already in use"

    def describe(self) -> str:
        who = f"held by {self.holder}" if self.holder else "holder not found"
        return f"{self.address}:{self.port} (for {self.service}) is taken: {self.reason}; {who}"


def port_is_free(address: str, port: int) -> tuple[bool, str]:
    """Try to bind address:port; (True, "") when it could be bound, else (False, reason)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR ignores sockets in TIME_WAIT (as Docker's proxy does) but still fails
        # on a listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(1)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False, "address already in use"
        return False, exc.strerror or str(exc)
    finally:
        sock.close()
    return True, ""


# --- who holds a port --------------------------------------------------------------------


def listening_inodes(port: int, proc: Path = Path("/proc")) -> set[str]:
    """Socket inodes listening on `port` (any address), from /proc/net/tcp{,6}."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(inode)
    return inodes


def process_holding(port: int, proc: Path = Path("/proc")) -> str | None:
    """"process PID (command line)" of a listener on port, when /proc lets us see it."""
    inodes = listening_inodes(port, proc)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ")
                    command = " ".join(cmdline.decode(errors="replace").split())[:120]
                    return f"process {pid_dir.name} ({command})"
        except OSError:  # gone, or not ours to look at
            continue
    return "a process we may not inspect"


def find_holder(port: int, containers: dict[int, str] | None = None) -> str | None:
    """Best description of who holds port: a container if one publishes it, else a process."""
    if containers and port in containers:
        return containers[port]
    return process_holding(port)


def preflight(
    bindings: Iterable[tuple[str, int, str]],
    *,
    ignore_ports: Iterable[int] = (),
    is_free: Callable[[str, int], tuple[bool, str]] = port_is_free,
    containers: Callable[[], dict[int, str]] | None = None,
) -> list[PortConflict]:
    """Check every (address, port, service); return the conflicts (empty when all are free).

    `ignore_ports` are ports held by our own compose project, which `down` frees first.
    """
    ignored = set(ignore_ports)
    conflicts = []
    publishers: dict[int, str] | None = None
    for address, port, service in bindings:
        if port in ignored:
            continue
        free, reason = is_free(address, port)
        if free:
            continue
        if publishers is None:
            publishers = (containers or docker_engine.port_holders)()
        conflicts.append(PortConflict(address, port, service, find_holder(port, publishers),
                                      reason))
    return conflicts
