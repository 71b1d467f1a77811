"""Find and print the log files of the Weaviate nodes that `weaviate-dev run` started in the
background (`--detach`) or as a cluster (`--all-nodes`), for `weaviate-dev logs weaviate`.

Each such node writes its output to `weaviate.log` in its state directory, and its run record
(running.py) names that file. Nodes have the names raft gives them: `weaviate-I` for node I (a
single node is `weaviate-0`); `weaviate` means every node. Records stay until `weaviate-dev
down` or the next `run`, so the log of a node that crashed is still found.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from weaviate_dev.core.errors import DevError
from weaviate_dev.weaviate import running

ALL = "weaviate"
NODE = re.compile(r"^weaviate-(\d+)$")
POLL = 0.2


def is_weaviate(name: str) -> bool:
    """Return True for `weaviate` and `weaviate-I`, the names of Weaviate nodes (not compose
    services)."""
    return name == ALL or NODE.match(name) is not None


@dataclass(frozen=True)
class NodeLog:
    """One node's log file, with the node's name and run record."""

    name: str  # weaviate-I
    path: Path
    record: running.Record


def find(data_root: Path, names: Iterable[str]) -> list[NodeLog]:
    """Return the log file of every recorded node that `names` asks for; raise DevError when
    there is none."""
    names = list(names)
    logs = {}
    for run_file in running.recorded(data_root):
        for record in run_file.records():
            name = f"weaviate-{record.index or 0}"
            if record.log and (ALL in names or name in names):
                logs[record.log] = NodeLog(name, Path(record.log), record)
    if not logs:
        raise DevError(
            f"no log file of a Weaviate node ({', '.join(names)}) is recorded under {data_root}: "
            "only nodes that `weaviate-dev run` started with --detach or --all-nodes write "
            "one, and `weaviate-dev down` forgets them (the files stay: DATA/<profile>/"
            "weaviate.log, DATA/<cluster>-cluster/weaviate-I/weaviate.log)")
    return sorted(logs.values(), key=lambda log: (log.name, str(log.path)))


def show(logs: list[NodeLog], *, tail: int | None = None, follow: bool = False,
         out: TextIO | None = None, poll: float = POLL) -> None:
    """Print each log (its last `tail` lines), each line led by `weaviate-I | ` when there are
    several; with `follow`, keep printing what they append until every node has exited."""
    out = out or sys.stdout
    width = max(len(log.name) for log in logs)
    prefix = {log.path: f"{log.name.ljust(width)} | " if len(logs) > 1 else "" for log in logs}
    offsets, partial = {}, {}
    for log in logs:
        end = size(log.path)
        begin = 0 if tail is None else tail_start(log.path, end, tail)
        offsets[log.path], partial[log.path] = end, b""
        if not end:
            continue
        with log.path.open("rb") as file:  # line by line: a long log is never read whole
            file.seek(begin)
            while file.tell() < end:
                line = file.readline(end - file.tell())
                out.write(prefix[log.path] + line.decode(errors="replace").rstrip("\n") + "\n")
    out.flush()
    while follow:
        alive = any(log.record.alive() for log in logs)
        for log in logs:
            data = read_from(log.path, offsets[log.path])
            offsets[log.path] += len(data)
            *complete, partial[log.path] = (partial[log.path] + data).split(b"\n")
            for line in complete:
                out.write(prefix[log.path] + line.decode(errors="replace") + "\n")
        if not alive:  # every node has exited: what is left, then stop
            for log in logs:
                if partial[log.path]:
                    out.write(prefix[log.path] + partial[log.path].decode(errors="replace")
                              + "\n")
            follow = False
        out.flush()
        if follow:
            time.sleep(poll)


def size(path: Path) -> int:
    """Return the file's size in bytes, 0 when it is missing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def tail_start(path: Path, end: int, count: int, block: int = 65536) -> int:
    """Return the offset where the last `count` lines before `end` begin, reading the file
    backwards a block at a time."""
    if count <= 0 or end == 0:
        return end
    position = end
    with path.open("rb") as file:
        file.seek(end - 1)
        newlines = -1 if file.read(1) == b"\n" else 0  # the last line's own newline
        while position > 0:
            step = min(block, position)
            file.seek(position - step)
            data = file.read(step)
            index = len(data)
            while (index := data.rfind(b"\n", 0, index)) != -1:
                newlines += 1
                if newlines == count:
                    return position - step + index + 1
            position -= step
    return 0


def read_from(path: Path, offset: int) -> bytes:
    """Return the file's bytes from `offset` on (b"" when the file is missing)."""
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read()
    except FileNotFoundError:
        return b""
