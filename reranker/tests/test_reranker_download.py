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


def run_download(hub_url: str, output: Path, *args: str, repo: str = "org/model",
                 token: str | None = None):
    # Without HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: either makes the client refuse.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(output.parent / "hf-home"))
    if token:
        env["HF_TOKEN"] = token
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


def read_info(path: Path) -> dict:
    import json

    return json.loads(path.read_text())


def test_every_file_comes_from_the_commit_resolved_at_the_start(repository, tmp_path):
    """A push between two files (the hub's main moves on mid-download) mixes nothing: every
    file is the first commit's, and --info names that commit."""
    pushed = tmp_path / "pushed"
    shutil.copytree(repository, pushed)
    (pushed / "config.json").write_text('{"pushed": true}')
    (pushed / "model.safetensors").write_bytes(b"new weights")
    with FakeHub({"org/model": repository}) as hub:
        first = hub.commit("org/model")
        moved = []

        def push_once(name: str) -> None:
            if not moved:
                moved.append(hub.push("org/model", pushed))

        hub.on_file = push_once
        result = run_download(hub.url, tmp_path / "out", "--info", str(tmp_path / "info.json"))
        assert result.returncode == 0, result.stderr
        assert moved and moved[0] != first and hub.commit("org/model") == moved[0]
    for name in download.wanted_files(files(repository)):
        assert filecmp.cmp(repository / name, tmp_path / "out" / name, shallow=False), name
    info = read_info(tmp_path / "info.json")
    assert (info["model"], info["revision"]) == ("org/model", first)


def test_a_named_revision_is_downloaded_after_main_moved_on(repository, tmp_path):
    pushed = tmp_path / "pushed"
    shutil.copytree(repository, pushed)
    (pushed / "config.json").write_text('{"pushed": true}')
    with FakeHub({"org/model": repository}) as hub:
        old = hub.commit("org/model")
        hub.push("org/model", pushed)
        result = run_download(hub.url, tmp_path / "out", "--revision", old)
        unknown = run_download(hub.url, tmp_path / "other", "--revision", "f" * 40)
    assert result.returncode == 0, result.stderr
    assert filecmp.cmp(repository / "config.json", tmp_path / "out" / "config.json",
                       shallow=False)
    assert unknown.returncode != 0
    [line] = [line for line in unknown.stderr.splitlines() if line.strip()]
    assert "RevisionNotFoundError" in line


def test_a_gated_model_needs_hf_token(repository, tmp_path):
    with FakeHub({"org/gated": repository}, gated={"org/gated": "hf_secret"}) as hub:
        refused = run_download(hub.url, tmp_path / "refused", repo="org/gated")
        env_token = run_download(hub.url, tmp_path / "out", repo="org/gated", token="hf_secret")
    assert refused.returncode != 0
    [line] = [line for line in refused.stderr.splitlines() if line.strip()]
    assert "GatedRepoError" in line and "HF_TOKEN" in line
    assert env_token.returncode == 0, env_token.stderr
    assert files(tmp_path / "out") == download.wanted_files(files(repository))


def test_a_local_model_is_described_by_a_digest_of_its_files(tiny_model_dir, tmp_path):
    info_path = tmp_path / "info.json"
    assert download.main(["--local-dir", str(tiny_model_dir), "--output", str(tmp_path / "m"),
                          "--info", str(info_path)]) == 0
    info = read_info(info_path)
    assert info["sha256"] == download.tree_digest(tiny_model_dir)
    assert info["description"] == f"directory {tiny_model_dir} (sha256 {info['sha256'][:12]})"
    (tmp_path / "m" / "config.json").write_text("{}")
    assert download.tree_digest(tmp_path / "m") != info["sha256"]


def test_a_local_model_given_as_its_own_output_is_described_in_place(tiny_model_dir, tmp_path):
    """The image build copies a local model straight to its place and only describes it there
    (`--local-dir D --output D`): nothing is copied, the digest is the directory's."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    before = {p.name: p.stat().st_mtime_ns for p in model.iterdir()}
    info_path = tmp_path / "info.json"
    assert download.main(["--local-dir", str(model), "--output", str(model), "--describe",
                          "directory X (sha256 abc)", "--info", str(info_path)]) == 0
    info = read_info(info_path)
    assert info["sha256"] == download.tree_digest(tiny_model_dir)
    assert info["description"] == "directory X (sha256 abc)"
    assert {p.name: p.stat().st_mtime_ns for p in model.iterdir()} == before
