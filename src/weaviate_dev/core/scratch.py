"""Scratch directories named after the process that makes them, removed once it is gone.

A download, an export or a build context is written into a scratch directory first and
renamed into place when complete, or removed on the way out. A process that is SIGKILLed (the
OOM killer, `kill -9`, a closed laptop lid that ends in a reboot) removes nothing, and its
scratch, often gigabytes, would stay in the cache for ever. So every scratch directory is named
`<prefix><pid>-<start>-<random>`, after the process that made it (its pid and its start time in
hundredths of a second since the epoch, as the test sweep names its directories), and `sweep`
removes those whose maker no longer runs. A directory of a live process (another terminal's
build) is never touched; a name that is not ours to read is left alone.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil

# Two start times this close belong to one process (as weaviate/groups.py allows): Linux
# derives a start time from the boot time in whole seconds, which a clock step moves.
START_SLACK = 2.0


def maker_is_alive(pid: int, started: float) -> bool:
    """Whether the process `pid` that started at `started` (seconds since the epoch, as psutil
    gives it) still runs. A pid now held by another process (another start time) or a zombie
    is gone; a process we may not inspect counts as alive (its work is never removed)."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return False
            return abs(process.create_time() - started) < START_SLACK
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def maker_tag() -> str:
    """This process as a scratch name carries it: `<pid>-<start in hundredths of a second>`."""
    me = psutil.Process()
    return f"{me.pid}-{round(me.create_time() * 100)}"


def directory(parent: Path, prefix: str) -> tempfile.TemporaryDirectory:
    """A scratch directory in `parent` named after this process, removed on the way out
    (a context manager: `with directory(...) as path`)."""
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{maker_tag()}-", dir=parent)


def maker_of(path: Path, prefix: str) -> tuple[int, float] | None:
    """(pid, start time in seconds) of the process that made the scratch `path`; None when its
    name does not carry one."""
    pid, _, rest = path.name[len(prefix):].partition("-")
    started, _, _ = rest.partition("-")
    if not (path.name.startswith(prefix) and pid.isdigit() and started.isdigit()):
        return None
    return int(pid), int(started) / 100


@dataclass
class Swept:
    """What `sweep` removed."""

    paths: list[Path]
    freed: int  # bytes

    def __bool__(self) -> bool:
        return bool(self.paths)


def sweep(parent: Path, prefix: str) -> Swept:
    """Remove the scratch directories in `parent` whose maker no longer runs."""
    removed, freed = [], 0
    for path in sorted(parent.glob(f"{prefix}*")) if parent.is_dir() else []:
        maker = maker_of(path, prefix)
        if maker is None or not path.is_dir() or path.is_symlink() or maker_is_alive(*maker):
            continue
        size = size_of(path)
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
            freed += size
    return Swept(removed, freed)


def size_of(root: Path) -> int:
    """The bytes of the files under `root` (symlinks not followed)."""
    total = 0
    for folder, _, names in os.walk(root):  # symlinked folders are not entered
        for name in names:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return total
