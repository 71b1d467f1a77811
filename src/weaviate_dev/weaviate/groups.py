"""Stop the process groups that weaviate-dev starts, one per Weaviate node.

Each node runs in a session of its own, so a Ctrl-C in the terminal reaches only weaviate-dev,
which then stops every node itself, in order. A member is a group leader known by its pid
*and* its start time: by the time `weaviate-dev down` in another terminal looks, the pid may
belong to another process (core/identity.py decides whether it is still the same one).
Stopping sends SIGINT (Weaviate's clean shutdown), then SIGTERM, then SIGKILL, each after its
grace period, or at once when the user asks again (a second Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from weaviate_dev.core import process
from weaviate_dev.core.identity import Identity

POLL = 0.1
KILL_WAIT = 10.0  # after SIGKILL only the kernel is left to wait for


@dataclass(frozen=True)
class Member:
    """A group leader: our own child (popen) or a process another weaviate-dev started."""

    identity: Identity  # its pid and start time (core/identity.py)
    popen: subprocess.Popen | None = field(default=None, compare=False, repr=False)

    @property
    def pid(self) -> int:
        """The leader's process id."""
        return self.identity.pid

    @classmethod
    def of(cls, popen: subprocess.Popen) -> "Member":
        """Return the member for a child that we started."""
        return cls(Identity.of(popen.pid) or Identity(popen.pid, 0.0), popen)

    @classmethod
    def current(cls) -> "Member":
        """Return this weaviate-dev process, the owner of the nodes it starts."""
        return cls(Identity.current())

    def alive(self) -> bool:
        """Return whether the leader still runs."""
        if self.popen is not None:  # our child: poll() also reaps it
            return self.popen.poll() is None
        return self.identity.alive()


def signal_owner(member: Member, sig: int) -> bool:
    """Send `sig` to the process itself (not its group) if it is still the process we
    recorded; return whether it was sent."""
    if not member.alive():
        return False
    try:
        os.kill(member.pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_gone(members: Iterable[Member], timeout: float,
              requests: Callable[[], int] = lambda: 0) -> bool:
    """Wait until no member is alive and return True; return False when `timeout` passes or
    requests() changes first."""
    members = list(members)
    asked = requests()
    deadline = time.monotonic() + timeout
    while any(m.alive() for m in members):
        if time.monotonic() >= deadline or requests() != asked:
            return False
        time.sleep(POLL)
    return True


def stop(members: Iterable[Member], *, grace: float = 30.0, term_grace: float = 10.0,
         requests: Callable[[], int] = lambda: 0) -> float:
    """Stop every member's group: SIGINT, then SIGTERM after `grace` seconds, then SIGKILL
    after `term_grace` more (each step at once when requests() counts a new request). Return
    the seconds it took."""
    members = list(members)
    started = time.monotonic()
    for sig, seconds in ((signal.SIGINT, grace), (signal.SIGTERM, term_grace),
                         (signal.SIGKILL, KILL_WAIT)):
        alive = [m for m in members if m.alive()]
        if not alive:
            break
        for member in alive:
            process.signal_group(member.pid, sig)
        wait_gone(alive, seconds, requests)
    for member in members:
        if member.popen is not None and member.popen.poll() is None:
            member.popen.wait(timeout=KILL_WAIT)
    return time.monotonic() - started
