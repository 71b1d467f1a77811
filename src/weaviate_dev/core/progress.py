"""Print progress lines for a person watching a long step, in one format for every command.

`weaviate-dev <verb>: <message>` on stderr (the verb is set by the CLI; a library user gets
`weaviate-dev: <message>`), flushed at once, so lines interleave correctly with the output of
the programs we run.

A line that cannot be written never stops the work. With the output going through a pipe
(`make dev 2>&1 | tee dev.log`), Ctrl-C ends the reader too, and every later write fails
(Python ignores SIGPIPE, so a write raises BrokenPipeError): the shutdown that follows must
still stop everything. So a failed write sends that stream (and any standard stream on the same
pipe) to /dev/null: later lines, the output of programs started later, and the interpreter's
last flush then go nowhere instead of failing.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

_prefix = "weaviate-dev"


def set_verb(verb: str | None) -> None:
    """Name the running verb in every following line (the CLI calls this once)."""
    global _prefix
    _prefix = f"weaviate-dev {verb}" if verb else "weaviate-dev"


def say(message: str) -> None:
    """Write one progress line on stderr; nothing happens when stderr cannot be written."""
    write(f"{_prefix}: {message}\n")


def write(text: str, stream: TextIO | None = None) -> bool:
    """Write text to stream (default stderr) and flush it; False when that failed (the reader
    went away, the terminal closed): the stream then goes to /dev/null (`silence`)."""
    stream = stream or sys.stderr
    try:
        stream.write(text)
        stream.flush()
        return True
    except (OSError, ValueError):  # BrokenPipeError, EIO; ValueError: a closed file
        silence(stream)
        return False


def flush_all() -> None:
    """Flush stdout and stderr, silencing a stream whose reader went away."""
    for stream in (sys.stdout, sys.stderr):
        write("", stream)


def silence(stream: TextIO) -> None:
    """Send stream, and every standard stream on the same file or pipe, to /dev/null."""
    target = _file_of(stream)
    for other in (sys.stdout, sys.stderr):
        if other is stream or (target is not None and _file_of(other) == target):
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, other.fileno())
                os.close(null)
            except (OSError, ValueError):  # no descriptor (a test's stream in memory)
                pass


def _file_of(stream: TextIO) -> tuple[int, int] | None:
    """(device, inode) of the file or pipe behind stream, or None."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_dev, status.st_ino
