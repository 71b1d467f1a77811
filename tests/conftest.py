"""Fixtures shared by the toolkit's unit tests."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def spawned() -> list[subprocess.Popen]:
    """Processes a test started in their own process groups: append them; any still running at
    the end is killed with its whole group."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def executable():
    """Write a script (a fake program) and make it executable: executable(path, text)."""

    def write(path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
        return path

    return write


@pytest.fixture
def weaviate_tree(tmp_path) -> Path:
    """The smallest tree `run` takes for a Weaviate source tree: go.mod naming the module and
    cmd/weaviate-server (tmp_path/weaviate)."""
    root = tmp_path / "weaviate"
    (root / "cmd" / "weaviate-server").mkdir(parents=True)
    (root / "go.mod").write_text("module github.com/weaviate/weaviate\n")
    return root


@pytest.fixture
def clock_step(monkeypatch):
    """Make psutil see the wall clock stepped by `seconds` since the processes started:
    clock_step(seconds) as on Linux (every start time and the boot time move), or
    clock_step(seconds, starts_move=False) as on macOS (only the boot time moves)."""
    import psutil

    real_boot, real_start = psutil.boot_time, psutil.Process.create_time

    def step(seconds: float, *, starts_move: bool = True) -> None:
        monkeypatch.setattr(psutil, "boot_time", lambda: real_boot() + seconds)
        monkeypatch.setattr(psutil.Process, "create_time",
                            lambda self: real_start(self) + (seconds if starts_move else 0))

    return step


def boot_ticks(pid: int) -> int:
    """Linux: when pid started, in clock ticks after boot (field 22 of /proc/PID/stat), as
    weaviate-dev recorded it before it used psutil."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return int(text[text.rindex(")") + 2:].split()[19])
