"""What each engine's image installs: the locked requirements of reranker/pyproject.toml's
extras (reranker/requirements/<extra>.txt, exported from uv.lock)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reranker.engine import ENGINES
from reranker.requirements import EXTRAS, extra_of, main

LOCKED = Path(__file__).resolve().parents[1] / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def pinned(extra: str) -> dict[str, str]:
    """name -> version of every requirement in the extra's locked file."""
    found = {}
    for line in (LOCKED / f"{extra}.txt").read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_every_registered_engine_has_an_extra_with_a_locked_file():
    assert set(EXTRAS) == set(ENGINES)
    for extra in set(EXTRAS.values()) | {"export"}:
        assert pinned(extra), f"no pinned requirement in requirements/{extra}.txt"


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
