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
