"""A non-editable install of the toolkit works on its own: the wheel carries compose/ and the
reranker's image sources, and every command finds them (weaviate_dev.core.tree); its pytest
plugin registers itself (a `pytest11` entry point): an outside project's tests get the fixtures
with nothing but the package installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


def uv(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the built wheel (not editable) and the toolkit's locked dependencies, its
    `test` extra included (pytest, testcontainers, weaviate-client)."""
    work = tmp_path_factory.mktemp("wheel")
    uv("build", "--wheel", "--out-dir", str(work / "dist"))
    [wheel] = (work / "dist").glob("weaviate_dev-*.whl")
    requirements = work / "requirements.txt"
    requirements.write_text(uv("export", "--frozen", "--quiet", "--no-default-groups",
                               "--extra", "test", "--no-emit-workspace", "--format",
                               "requirements-txt"))
    venv = work / "venv"
    uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    uv("pip", "install", "--quiet", "--python", str(python), "--require-hashes",
       "-r", str(requirements))
    uv("pip", "install", "--quiet", "--python", str(python), "--no-deps", str(wheel))
    return venv


def run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEAVIATE_DEV_")}
    return subprocess.run([str(venv / "bin" / "weaviate-dev"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_restart_finds_the_packaged_compose_file(installed, tmp_path):
    result = run(installed, "restart", "--reranker", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    packaged = "site-packages/weaviate_dev/assets/compose/docker-compose.yml"
    assert packaged in result.stdout and str(ROOT) not in result.stdout
    assert "127.0.0.1:8009->8080" in result.stdout


def test_run_profiles_and_the_reranker_build_context_come_from_the_wheel(installed, tmp_path):
    result = run(installed, "run", "local-reranker-transformers", "--print-env", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "RERANKER_INFERENCE_API=http://localhost:8009" in result.stdout.splitlines()
    probe = ("from weaviate_dev.core import settings, tree; "
             "from weaviate_dev.services import reranker_context, reranker_source; "
             "s = settings.Settings.from_env(); "
             "names = [n for n, _ in reranker_context.source_files(s)]; "
             "print(tree.project_root()); "
             "print('Dockerfile' in names, 'requirements/onnx.txt' in names, "
             "callable(reranker_source.module(s.project_root, 'download').wanted_files))")
    checked = subprocess.run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    root, found = checked.stdout.splitlines()
    assert root.endswith("site-packages/weaviate_dev/assets") and found == "True True True"


def test_an_outside_project_gets_the_fixtures_without_a_conftest_line(installed, tmp_path):
    """pip install is enough: the plugin comes in through its pytest11 entry point."""
    project = tmp_path / "outside"
    project.mkdir()
    (project / "test_uses_fixtures.py").write_text(
        "def test_settings_come_from_the_plugin(weaviate_dev_settings):\n"
        "    assert weaviate_dev_settings.weaviate_version\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEAVIATE_DEV_", "PYTEST"))}
    argv = [str(installed / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    used = subprocess.run([*argv, str(project)], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)
    assert used.returncode == 0, used.stdout[-3000:] + used.stderr[-3000:]
    assert "1 passed" in used.stdout
    listed = subprocess.run([*argv, "--fixtures", str(project)], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert "weaviate_container" in listed.stdout and "reranker_container" in listed.stdout
    assert "weaviate_dev/testing/pytest_plugin.py" in listed.stdout  # from the wheel
    assert not list(project.glob("conftest.py"))
