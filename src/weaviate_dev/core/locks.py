"""Lock a file while one process builds something that another process would build too.

Two `go build`s of one tree at once (a background prebuild and `run --debug`, two terminals)
would each compile everything: Go's build cache is shared but does not wait for work in
progress. The second takes the lock after the first and then finds every package compiled.
The kernel drops the lock when its holder dies (flock), so a killed build never wedges the
next one. POSIX (Linux, macOS).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def held(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing); `on_wait()` is called once
    when another process holds it, before waiting for it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def is_held(path: Path) -> bool:
    """Whether a process holds the lock on `path` now (flock, as `held` and the filelock
    package take it); a missing file is a lock nobody holds."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
