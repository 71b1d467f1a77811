"""uv.lock and the requirement files exported from it are current with pyproject.toml.

`make lock` writes them (tools/lock.py); this suite fails as soon as a dependency changes in a
pyproject.toml without a new lock, or an exported file is edited by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK_TOOL = ROOT / "tools" / "lock.py"
PROJECT_FILES = ("pyproject.toml", "uv.lock", "reranker/pyproject.toml", "reranker/requirements")


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LOCK_TOOL), "--check", "--root", str(root)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the files the lock is made from."""
    for name in PROJECT_FILES:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return tmp_path


def test_the_lock_and_its_exports_are_current():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_an_edited_export_is_found(project):
    locked = project / "reranker" / "requirements" / "onnx.txt"
    locked.write_text(locked.read_text().replace("flask==", "flask==0.0.0.dev0+", 1))
    result = check(project)
    assert result.returncode == 1
    assert "reranker/requirements/onnx.txt differs from uv.lock" in result.stderr
    assert "make lock" in result.stderr


def test_a_new_dependency_without_a_new_lock_is_found(project):
    pyproject = project / "reranker" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        '"numpy>=1.24",', '"numpy>=1.24",\n    "six>=1.16",', 1))
    result = check(project)
    assert result.returncode == 1
    assert "uv.lock is out of date with pyproject.toml" in result.stderr


def test_the_makefile_installs_only_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    logical_lines = makefile.replace("\\\n", " ").splitlines()
    # One pip install: uv itself, hash-pinned; every other install is `uv sync --locked`.
    [bootstrap] = [line for line in logical_lines if "pip install" in line]
    assert "--require-hashes" in bootstrap and "reranker/requirements/uv.txt" in bootstrap
    assert "SYNC := $(UV) sync --locked" in makefile and "$(UV) pip" not in makefile
