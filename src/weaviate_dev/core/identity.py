"""Tell whether a process recorded earlier is still the same process. The records of
`weaviate-dev run` (weaviate/running.py, through groups.Member) and the test sweep
(testing/sweep.py) both use this one rule.

A pid alone cannot tell: by the time another command looks, the pid may belong to another
process. So a process is recorded with its start time as psutil gives it (seconds since the
epoch) and with the system's boot time at that moment. Later it counts as the same process
when its pid runs and its start time matches the record within SLACK seconds, counted either
from the epoch or from the boot.

Both are compared because a step of the wall clock (NTP correcting a clock that was off, a
virtual machine resumed, `date -s`) moves one of them. On Linux psutil computes a start time
as the boot time plus the clock ticks between boot and the start, and the boot time is the
wall clock minus the uptime: a step moves the start time of every process by the step, while
the time since boot stays. On macOS the kernel keeps each start as a wall-clock time, which a
step does not move, while the boot time moves. One of the two matches on every system. Another
process could only pass by getting the same pid within SLACK seconds of the recorded start, or,
after a reboot, at the same second after boot.

A zombie counts as gone. A process we may not inspect counts as the recorded one, so that
nothing of it is deleted or forgotten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

# Linux gives the boot time in whole seconds, and slow NTP corrections can move it by one.
SLACK = 2.0


@dataclass(frozen=True)
class Identity:
    """A process as recorded: pid, start time, and the boot time when the start was read."""

    pid: int
    started: float  # seconds since the epoch; 0 when unknown (never alive)
    boot: float | None = None  # the boot time (seconds since the epoch) then; None: unknown

    @classmethod
    def of(cls, pid: int) -> "Identity | None":
        """Return the process that runs as `pid` now; None when there is none (gone, a zombie,
        or hidden from us)."""
        try:
            return _read(pid)
        except psutil.AccessDenied:
            return None

    @classmethod
    def current(cls) -> "Identity":
        """Return this process."""
        me = cls.of(os.getpid())
        assert me is not None
        return me

    @classmethod
    def from_boot_ticks(cls, pid: int, ticks: int) -> "Identity":
        """Return a process whose start was recorded as clock ticks after boot (field 22 of
        Linux's process status), as weaviate-dev recorded it before it used psutil."""
        return cls(pid, ticks / os.sysconf("SC_CLK_TCK"), boot=0.0)

    def matches(self, now: "Identity") -> bool:
        """Return whether `now` (the process running as this pid) started when this record
        says."""
        if self.pid != now.pid or not self.started:
            return False
        if abs(now.started - self.started) < SLACK:
            return True
        if self.boot is None or now.boot is None:
            return False
        return abs((now.started - now.boot) - (self.started - self.boot)) < SLACK

    def alive(self) -> bool:
        """Return whether the recorded process still runs."""
        try:
            now = _read(self.pid)
        except psutil.AccessDenied:
            return True
        return now is not None and self.matches(now)


def _read(pid: int) -> Identity | None:
    """Read the process running as `pid` now; None when there is none or it is a zombie.
    Raises psutil.AccessDenied when we may not look at it."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return None
            started = process.create_time()
        return Identity(pid, started, psutil.boot_time())
    except psutil.NoSuchProcess:  # ZombieProcess too
        return None
