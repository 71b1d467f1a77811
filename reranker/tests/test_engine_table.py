"""The engine table (engine_table.json): its factories import, its extras exist, and what each
engine's image installs (the locked requirements of reranker/pyproject.toml's extras,
reranker/requirements/<extra>.txt, exported from uv.lock)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from reranker.engine import ENGINES, resolve_factory
from reranker.engine_table import DEFAULT_ENGINE, EXTRAS, FACTORIES, TABLE_FILE, extra_of, main
from reranker.settings import Settings

RERANKER = Path(__file__).resolve().parents[1]
LOCKED = RERANKER / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def pinned(extra: str) -> dict[str, str]:
    """name -> version of every requirement in the extra's locked file."""
    found = {}
    for line in (LOCKED / f"{extra}.txt").read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_the_server_registers_exactly_the_tables_engines():
    assert set(FACTORIES) == set(EXTRAS) and len(FACTORIES) >= 5
    assert {name: ENGINES[name] for name in FACTORIES} == FACTORIES
    assert DEFAULT_ENGINE in FACTORIES and Settings().engine == DEFAULT_ENGINE


@pytest.mark.parametrize("engine", sorted(FACTORIES))
def test_every_factory_of_the_table_imports(engine):
    assert callable(resolve_factory(engine))


def test_every_extra_of_the_table_is_declared_and_locked():
    declared = tomllib.loads((RERANKER / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for extra in set(EXTRAS.values()) | {"export"}:
        assert extra in declared, f"reranker/pyproject.toml declares no extra {extra!r}"
        assert pinned(extra), f"no pinned requirement in requirements/{extra}.txt"


def test_the_image_builds_the_tables_default_engine():
    dockerfile = (RERANKER / "Dockerfile").read_text()
    assert re.search(r"^ARG ENGINE=(\S+)$", dockerfile, re.M)[1] == DEFAULT_ENGINE
    # The builder stage runs the table's script with nothing else of the package beside it.
    assert "COPY src/reranker/engine_table.py src/reranker/engine_table.json /build/" in dockerfile


def test_the_script_runs_alone_with_the_table(tmp_path):
    for path in (TABLE_FILE.with_suffix(".py"), TABLE_FILE):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    result = subprocess.run([sys.executable, "-I", str(tmp_path / "engine_table.py"),
                             "--extra-of", "onnx-int8"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "onnx\n", "")


def test_the_wheel_carries_the_table(tmp_path):
    # From a copy: a build leaves build/ behind, and a stale one would hide a missing file.
    source = tmp_path / "source"
    shutil.copytree(RERANKER, source, ignore=shutil.ignore_patterns(
        "build", "tests", "models", "certs", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "--quiet", "--wheel-dir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("reranker-*.whl")
    assert "reranker/engine_table.json" in zipfile.ZipFile(wheel).namelist()


@pytest.mark.parametrize("extra", ["torch", "onnx", "export"])
def test_every_locked_requirement_is_exact_and_hashed(extra):
    lines = (LOCKED / f"{extra}.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith((" ", "#"))]
    for index, line in enumerate(lines):
        if line in requirements:
            assert PIN.match(line), f"not an exact pin: {line}"
            assert lines[index + 1].strip().startswith("--hash=sha256:"), f"no hash: {line}"
    assert "triton" not in pinned(extra)  # torch.compile's compiler: 1 GB no engine loads


def test_onnx_engines_install_no_torch():
    assert {"onnxruntime", "tokenizers", "flask", "gunicorn", "numpy"} <= set(pinned("onnx"))
    assert not set(pinned("onnx")) & {"torch", "sentence-transformers", "transformers", "onnx"}


def test_torch_engines_install_sentence_transformers_and_no_onnx_runtime():
    assert {"sentence-transformers", "torch", "flask"} <= set(pinned("torch"))
    assert not set(pinned("torch")) & {"onnxruntime", "onnx"}


def test_export_has_what_onnx_export_imports_at_the_onnx_images_versions():
    export = pinned("export")
    assert {"sentence-transformers", "torch", "onnx", "onnxruntime"} <= set(export)
    shared = set(export) & set(pinned("onnx"))
    assert {name: export[name] for name in shared} == {n: pinned("onnx")[n] for n in shared}


def test_the_script_prints_an_engines_extra(capsys):
    assert main(["--extra-of", "torch-bf16"]) == 0
    assert capsys.readouterr().out.strip() == "torch"


def test_unknown_engines_are_refused():
    with pytest.raises(SystemExit, match="not an engine the image knows"):
        extra_of("tensorflow")
