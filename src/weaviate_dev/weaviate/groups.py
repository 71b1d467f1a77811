"""Process groups that weaviate-dev stops: one per Weaviate node it starts.

Each node runs in a session of its own, so a Ctrl-C in the terminal reaches only weaviate-dev,
which then stops every node itself, in order. A member is a group leader known by pid *and*
start time: by the time `weaviate-dev down` in another terminal looks, a pid may belong to
someone else. Start times are psutil's (seconds since the epoch, on Linux, macOS and Windows).
Stopping is SIGINT (Weaviate's clean shutdown), then SIGTERM, then SIGKILL, each after its
grace, or at once when the user asks again (a second Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil

from weaviate_dev.core import process

POLL = 0.1
KILL_WAIT = 10.0  # after SIGKILL only the kernel is left to wait for
# Two start times this close are one process. Linux gives a start as clock ticks after boot
# plus the boot time in whole seconds, and a clock step moves that boot time by a whole second;
# a pid comes round again only after every other pid was handed out, never within seconds.
START_SLACK = 2.0


def start_time(pid: int) -> float | None:
    """When pid started (seconds since the epoch), or None when it is gone, a zombie or hidden
    from us."""
    try:
        target = psutil.Process(pid)
        with target.oneshot():
            if target.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return None
            return target.create_time()
    except psutil.Error:  # NoSuchProcess (ZombieProcess too), AccessDenied
        return None


@dataclass(frozen=True)
class Member:
    """A group leader: our own child (popen) or a process another weaviate-dev started."""

    pid: int
    started: float | None
    popen: subprocess.Popen | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, popen: subprocess.Popen) -> "Member":
        return cls(popen.pid, start_time(popen.pid), popen)

    def alive(self) -> bool:
        if self.popen is not None:  # our child: poll() also reaps it
            return self.popen.poll() is None
        if self.started is None:
            return False
        now = start_time(self.pid)
        return now is not None and abs(now - self.started) < START_SLACK


def signal_owner(member: Member, sig: int) -> bool:
    """Send sig to the process itself (not its group) if it is still the one we knew."""
    if not member.alive():
        return False
    try:
        os.kill(member.pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_gone(members: Iterable[Member], timeout: float,
              requests: Callable[[], int] = lambda: 0) -> bool:
    """Wait until no member is alive (True), timeout passes or requests() changes (False)."""
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
    """Stop every member's group: SIGINT, then SIGTERM after `grace`, then SIGKILL after
    `term_grace` (each step at once when requests() counts a new request). Seconds taken."""
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
