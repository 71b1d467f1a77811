"""A non-editable install of the toolkit works on its own: the wheel carries compose/ and the
reranker's image sources, and every command finds them (weaviate_dev.core.tree). Its pytest
plugin (a `pytest11` entry point) is harmless in any environment it lands in: without the
`test` extra every pytest run is unaffected and a plugin fixture fails in one line naming the
extra; with it an outside project's tests get the fixtures from the installation alone, or
from the conftest line the plugin's docstring gives, both at once included.

One wheel is built for the module; each venv installs it from its own metadata, every
dependency pinned (and hash-checked) by the lock's export."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
PLUGIN = "weaviate_dev.testing.pytest_plugin"
EXTRA_HINT = "pip install 'weaviate-dev[test]'"
FIXTURES = {"weaviate_dev_settings", "weaviate_dev_docker", "weaviate_dev_reranker_model_dir",
            "weaviate_dev_reranker_image_tag", "weaviate_dev_reranker_image",
            "weaviate_dev_weaviate_image", "weaviate_dev_network", "weaviate_dev_reranker",
            "weaviate_dev_weaviate", "weaviate_dev_client", "weaviate_dev_prometheus"}
# The fixtures that start containers or talk to Weaviate: what the `test` extra is for.
EXTRA_FIXTURES = ("weaviate_dev_network", "weaviate_dev_reranker", "weaviate_dev_weaviate",
                  "weaviate_dev_client", "weaviate_dev_prometheus")
USES_A_FIXTURE = ("def test_settings_come_from_the_plugin(weaviate_dev_settings):\n"
                  "    assert weaviate_dev_settings.weaviate_version\n")


def uv(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[str, Path]:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def build_wheel(work: Path) -> tuple[str, Path]:
    """(a requirement naming the built wheel by its hash, the lock's pins as constraints)."""
    uv("build", "--wheel", "--out-dir", str(work / "dist"))
    [built] = (work / "dist").glob("weaviate_dev-*.whl")
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    constraints = work / "constraints.txt"
    constraints.write_text(uv("export", "--frozen", "--quiet", "--no-default-groups",
                              "--extra", "test", "--no-emit-workspace", "--format",
                              "requirements-txt"))
    return f"@ {built.as_uri()} --hash=sha256:{digest}", constraints


def venv_with(wheel: tuple[str, Path], path: Path, *requirements: str) -> Path:
    """A fresh venv at `path` holding `requirements`, each pinned by the lock."""
    _, constraints = wheel
    listed = path.with_suffix(".txt")
    listed.write_text("".join(f"{line}\n" for line in requirements))
    uv("venv", "--quiet", "--python", sys.executable, str(path))
    uv("pip", "install", "--quiet", "--python", str(path / "bin" / "python"),
       "-c", str(constraints), "-r", str(listed))
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel with its `test` extra (pytest, testcontainers, weaviate-client...)."""
    return venv_with(wheel, tmp_path_factory.mktemp("extra") / "venv",
                     f"weaviate-dev[test] {wheel[0]}")


@pytest.fixture(scope="module")
def bare(wheel, tmp_path_factory) -> Path:
    """The wheel without its `test` extra, and pytest: the environment of another project's
    tests (or of `make dev`'s toolkit) that happens to hold the toolkit."""
    venv = venv_with(wheel, tmp_path_factory.mktemp("bare") / "venv",
                     f"weaviate-dev {wheel[0]}", "pytest")
    absent = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.util as u; print([m for m in ('testcontainers', 'weaviate') "
         "if u.find_spec(m)])"], capture_output=True, text=True, timeout=60)
    assert absent.stdout.strip() == "[]", absent.stdout + absent.stderr  # or this proves nothing
    return venv


def run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEAVIATE_DEV_")}
    return subprocess.run([str(venv / "bin" / "weaviate-dev"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def project(path: Path, **modules: str) -> Path:
    """An outside project: `modules` (name -> source) in a folder of its own."""
    path.mkdir()
    for name, text in modules.items():
        (path / f"{name}.py").write_text(text)
    return path


def pytest_in(venv: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m pytest -q ARGS` in `folder` with `venv`'s Python. No Docker can be reached:
    a fixture that asked for it would skip, and no test here may pass by that."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEAVIATE_DEV_", "PYTEST", "PYTHONPATH"))}
    env["DOCKER_HOST"] = f"unix://{folder}/no-docker.sock"
    return subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q",
                           "-p", "no:cacheprovider", *args, str(folder)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def plugin_fixtures(listing: str) -> set[str]:
    """The fixture names `pytest --fixtures` shows as defined in the installed plugin."""
    return set(re.findall(r"^(\w+) .* -- \S*weaviate_dev/testing/pytest_plugin\.py:\d+$",
                          listing, re.MULTILINE))


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
             "from weaviate_dev.services.reranker_image import context, shared_code; "
             "s = settings.Settings.from_env(); "
             "names = [n for n, _ in context.source_files(s)]; "
             "print(tree.project_root()); "
             "print('Dockerfile' in names, 'requirements/onnx.txt' in names, "
             "callable(shared_code.module(s.project_root, 'download').wanted_files))")
    checked = subprocess.run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    root, found = checked.stdout.splitlines()
    assert root.endswith("site-packages/weaviate_dev/assets") and found == "True True True"


def test_without_the_extra_an_unrelated_projects_pytest_is_unaffected(bare, tmp_path):
    """The plugin loads without testcontainers, and a project's own fixture keeps a generic
    name the plugin once gave one of its own."""
    unrelated = project(
        tmp_path / "unrelated",
        test_own="def test_own(docker_engine):\n    assert docker_engine == 'mine'\n",
        conftest="import pytest\n\n\n@pytest.fixture\ndef docker_engine():\n    return 'mine'\n")
    result = pytest_in(bare, unrelated)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout


def test_without_the_extra_a_plugin_fixture_fails_in_one_line_naming_the_extra(bare, tmp_path):
    """Each fixture that needs the extra fails before it asks for Docker (none answers here,
    which would skip) or builds an image."""
    tests = "".join(f"def test_{name}({name}):\n    pass\n\n\n" for name in EXTRA_FIXTURES)
    asking = project(tmp_path / "asking", test_asks=tests)
    result = pytest_in(bare, asking, "-ra")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert f"{len(EXTRA_FIXTURES)} errors" in result.stdout, output[-3000:]
    assert "Traceback" not in output and "\nE " not in output, output[-3000:]
    # Each error's report is its header and one line: the message naming the extra.
    reports = re.findall(r"_+ ERROR at setup of (\w+) _+\n(.*?)\n(?=_+ ERROR|=+ )",
                         result.stdout, re.DOTALL)
    assert [name for name, _ in reports] == [f"test_{name}" for name in EXTRA_FIXTURES]
    for _, report in reports:
        assert "\n" not in report.strip() and EXTRA_HINT in report, report


def test_with_the_extra_the_fixtures_come_by_installation_alone(installed, tmp_path):
    outside = project(tmp_path / "outside", test_uses_fixtures=USES_A_FIXTURE)
    used = pytest_in(installed, outside)
    assert used.returncode == 0, used.stdout[-3000:] + used.stderr[-3000:]
    assert "1 passed" in used.stdout
    listed = pytest_in(installed, outside, "--fixtures")
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    assert plugin_fixtures(listed.stdout) == FIXTURES  # every name prefixed, from the wheel
    assert "site-packages/weaviate_dev/testing/pytest_plugin.py" in listed.stdout
    assert not list(outside.glob("conftest.py"))
    off = pytest_in(installed, outside, "--fixtures", "-p", f"no:{PLUGIN}")
    assert off.returncode == 0 and plugin_fixtures(off.stdout) == set(), off.stdout[-3000:]


def test_with_the_extra_the_docstrings_conftest_line_works_too(installed, tmp_path):
    """The entry point and `pytest_plugins = [...]` name the plugin alike: one registration."""
    outside = project(tmp_path / "outside", conftest=f"pytest_plugins = [{PLUGIN!r}]\n",
                      test_uses_fixtures=USES_A_FIXTURE)
    for args in ((), ("-p", PLUGIN)):
        used = pytest_in(installed, outside, *args)
        assert used.returncode == 0, used.stdout[-3000:] + used.stderr[-3000:]
        assert "1 passed" in used.stdout
