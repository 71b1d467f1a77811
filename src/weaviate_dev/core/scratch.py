"""Make scratch directories named after the process that makes them, and remove them once
that process is gone.

A download, an export or a build context is written into a scratch directory first and
renamed into place when complete, or removed on the way out. A process that is SIGKILLed (the
OOM killer, `kill -9`, a closed laptop lid that ends in a reboot) removes nothing, and its
scratch, often gigabytes, would stay in the cache for ever. So every scratch directory is named
`<prefix><pid>-<start>.<boot>-<random>`, after the process that made it (its pid, its start
time and the boot time, as the test sweep names its directories), and `sweep` removes those
whose maker no longer runs (core/identity.py decides). A directory of a live process (another
terminal's build) is never touched, and a name we cannot read is left alone.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from weaviate_dev.core.identity import Identity


def maker_is_alive(pid: int, started: float, boot: float | None = None) -> bool:
    """Return whether the process `pid` that started at `started` (seconds since the epoch,
    with the boot time `boot` then, when known) still runs, by the one rule of
    core/identity.py."""
    return Identity(pid, started, boot).alive()


def maker_tag() -> str:
    """Return the part of a scratch directory's name that names this process:
    `<pid>-<start>.<boot>`, both times in hundredths of a second since the epoch (as the test
    sweep names its directories)."""
    me = Identity.current()
    return f"{me.pid}-{round(me.started * 100)}.{round((me.boot or 0) * 100)}"


def directory(parent: Path, prefix: str) -> tempfile.TemporaryDirectory:
    """Return a scratch directory in `parent`, named after this process, as a context manager
    (`with directory(...) as path`); the directory is removed on the way out."""
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{maker_tag()}-", dir=parent)


def maker_of(path: Path, prefix: str) -> tuple[int, float, float | None] | None:
    """Return (pid, start time, boot time) in seconds of the process that made the scratch
    `path` (no boot time in names of earlier versions); None when its name carries none."""
    pid, _, rest = path.name[len(prefix):].partition("-")
    times, _, _ = rest.partition("-")
    started, _, boot = times.partition(".")
    if not (path.name.startswith(prefix) and pid.isdigit() and started.isdigit()
            and (boot.isdigit() or not boot)):
        return None
    return int(pid), int(started) / 100, int(boot) / 100 if boot else None


@dataclass
class Swept:
    """The scratch directories that `sweep` removed, and the bytes that freed."""

    paths: list[Path]
    freed: int  # bytes

    def __bool__(self) -> bool:
        return bool(self.paths)


def sweep(parent: Path, prefix: str) -> Swept:
    """Remove the scratch directories in `parent` whose maker no longer runs; return what
    was removed."""
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
    """Return the total size in bytes of the files under `root` (symlinks not followed)."""
    total = 0
    for folder, _, names in os.walk(root):  # symlinked folders are not entered
        for name in names:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return total
