"""What each engine's image installs: reranker/pyproject.toml's extras, by engine name."""

from __future__ import annotations

from pathlib import Path

import pytest

from reranker.engine import ENGINES
from reranker.requirements import EXTRAS, extra_of, main, requirements

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def names(extra: str) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("<")[0].strip() for r in requirements(PYPROJECT, extra)}


def test_every_registered_engine_has_an_extra():
    assert set(EXTRAS) == set(ENGINES)


def test_onnx_engines_install_no_torch():
    assert "onnxruntime" in names("onnx")
    assert not names("onnx") & {"torch", "sentence-transformers", "transformers", "onnx"}


def test_torch_engines_install_sentence_transformers_and_no_onnx_runtime():
    assert "sentence-transformers" in names("torch")
    assert not names("torch") & {"onnxruntime", "onnx"}


def test_export_has_what_onnx_export_imports():
    assert {"sentence-transformers", "onnx", "onnxruntime"} <= names("export")


def test_the_script_prints_an_engines_requirements(capsys):
    assert main(["--pyproject", str(PYPROJECT), "--engine", "onnx-int8"]) == 0
    assert "onnxruntime>=1.17" in capsys.readouterr().out.splitlines()
    assert main(["--extra-of", "torch-bf16"]) == 0
    assert capsys.readouterr().out.strip() == "torch"


def test_unknown_engines_and_extras_are_refused():
    with pytest.raises(SystemExit, match="not an engine the image knows"):
        extra_of("tensorflow")
    with pytest.raises(SystemExit, match="no extra 'gpu'"):
        requirements(PYPROJECT, "gpu")
