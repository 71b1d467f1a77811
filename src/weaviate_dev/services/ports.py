"""Check that host ports are free to publish and, when one is not, find what uses it.

`preflight` binds each port the way Docker's proxy would (same address, no SO_REUSEPORT).
Where the system allows, it looks for the holder among Docker containers (by published port,
`containers.port_holders`) and then among processes (psutil's listening sockets and their
owners, on Linux, macOS and Windows). To check whether something answers on a port, use
`waiting.tcp_probe`.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

from weaviate_dev.services.docker import containers as docker_containers


@dataclass(frozen=True)
class PortConflict:
    """A host port we need that is taken."""

    address: str
    port: int
    service: str
    holder: str | None  # who holds it, when findable
    reason: str = "address already in use"

    def describe(self) -> str:
        """Return one line naming the port, the service that needs it, and its holder."""
        who = f"held by {self.holder}" if self.holder else "holder not found"
        return f"{self.address}:{self.port} (for {self.service}) is taken: {self.reason}; {who}"


def port_is_free(address: str, port: int) -> tuple[bool, str]:
    """Try to bind address:port; return (True, "") when that works, else (False, reason)."""
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


def listening_pids(port: int) -> set[int | None]:
    """Return the pids of the processes listening on TCP `port` (any address). None stands
    for a listener whose process we may not see (another user's, without root). A socket
    shared by forked workers appears once, under any one of them."""
    try:
        sockets = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:  # macOS: the system-wide table needs root
        return {candidate.pid for candidate in psutil.process_iter() if listens(candidate, port)}
    return {s.pid for s in sockets if _listens_on(s, port)}


def listens(process: psutil.Process, port: int) -> bool:
    """Return True when `process` listens on TCP `port` (False when we may not look: another
    user's process, or one that has exited)."""
    try:
        return any(_listens_on(s, port) for s in process.net_connections(kind="tcp"))
    except psutil.Error:
        return False


def _listens_on(sock, port: int) -> bool:
    return sock.status == psutil.CONN_LISTEN and bool(sock.laddr) and sock.laddr.port == port


def process_holding(port: int) -> str | None:
    """Return "process PID (command line)" for the process listening on `port`, "a process
    we may not inspect" when the system hides it, or None when nothing listens."""
    pids = listening_pids(port)
    if not pids:
        return None
    for pid in sorted(p for p in pids if p is not None):
        try:
            command = " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:  # gone, or not ours to look at
            continue
        return f"process {pid} ({' '.join(command.split())[:120]})"
    return "a process we may not inspect"


def find_holder(port: int, containers: dict[int, str] | None = None) -> str | None:
    """Describe what uses `port`: the container that publishes it, else the process that
    listens on it."""
    if containers and port in containers:
        return containers[port]
    return process_holding(port)


def preflight(
    bindings: Iterable[tuple[str, int, str]],
    *,
    ignore_ports: Iterable[int] = (),
    is_free: Callable[[str, int], tuple[bool, str]] | None = None,
    containers: Callable[[], dict[int, str]] | None = None,
) -> list[PortConflict]:
    """Check every (address, port, service); return the conflicts (empty when all are free).

    `ignore_ports` are ports held by our own compose project, which `down` frees first.
    `is_free` defaults to `port_is_free`, looked up at call time (so tests can replace it).
    """
    is_free = is_free or port_is_free
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
            publishers = (containers or docker_containers.port_holders)()
        conflicts.append(PortConflict(address, port, service, find_holder(port, publishers),
                                      reason))
    return conflicts
