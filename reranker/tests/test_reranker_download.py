"""The image build's download (`reranker/src/reranker/download.py`) against the real
huggingface_hub client and a fake hub (`reranker.testing.fake_hub`): exactly the wanted files,
byte for byte, the repository's ONNX export with its data file instead of the weights.

download.py runs as a subprocess with HF_ENDPOINT set, as in `docker build`: huggingface_hub
reads HF_ENDPOINT once, at import.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reranker import download
from reranker.testing.fake_hub import FakeHub

DOWNLOAD = Path(download.__file__)


@pytest.fixture(scope="module")
def repository(tmp_path_factory, tiny_model_dir) -> Path:
    """The tiny model plus what hub repositories also carry: their own ONNX export (with a
    data file), other weights and formats, a README."""
    directory = tmp_path_factory.mktemp("repo") / "model"
    shutil.copytree(tiny_model_dir, directory, ignore=shutil.ignore_patterns("onnx"))
    (directory / "onnx").mkdir()
    (directory / "onnx" / "model.onnx").write_bytes(os.urandom(30_000))
    (directory / "onnx" / "model.onnx_data").write_bytes(os.urandom(12 << 20))  # LFS, chunks
    (directory / "openvino").mkdir()
    (directory / "openvino" / "openvino_model.xml").write_text("<net/>")
    (directory / "pytorch_model.bin").write_bytes(os.urandom(5_000))
    (directory / "README.md").write_text("# tiny\n")
    return directory


def files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                  if p.is_file())


def run_download(hub_url: str, output: Path, *args: str, repo: str = "org/model"):
    # Without HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: either makes the client refuse.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(output.parent / "hf-home"))
    return subprocess.run([sys.executable, str(DOWNLOAD), "--model-name", repo, "--output",
                           str(output), *args], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("onnx", [False, True], ids=["weights", "onnx-export"])
def test_the_download_fetches_exactly_the_wanted_files(repository, tmp_path, onnx):
    wanted = download.wanted_files(files(repository), onnx=onnx)
    assert ("model.safetensors" in wanted) is not onnx
    assert {"onnx/model.onnx", "onnx/model.onnx_data"} <= set(wanted) or not onnx
    with FakeHub({"org/model": repository}, page_size=3) as hub:  # pages: the Link header
        result = run_download(hub.url, tmp_path / "out", *(["--onnx"] if onnx else []))
    assert result.returncode == 0, result.stderr
    assert files(tmp_path / "out") == wanted  # huggingface_hub's .cache/ removed too
    for name in wanted:
        assert filecmp.cmp(repository / name, tmp_path / "out" / name, shallow=False), name


def test_a_missing_repository_fails_with_the_clients_error(repository, tmp_path):
    with FakeHub({"org/model": repository}) as hub:
        result = run_download(hub.url, tmp_path / "out", repo="org/missing")
    assert result.returncode != 0 and "RepositoryNotFoundError" in result.stderr
