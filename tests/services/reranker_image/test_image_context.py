"""The reranker image's build context: reranker/ without tests or caches, the CA bundle, the
model's files from where they lie, written as a tar file on disk."""

from __future__ import annotations

import dataclasses
import tarfile

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import context as image_context


def settings(**overrides) -> Settings:
    return dataclasses.replace(Settings.from_env({}), **{"ca_bundle": None, **overrides})


def members(path):
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_the_context_holds_reranker_the_ca_bundle_and_the_model_files(tmp_path):
    ca = tmp_path / "corp.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (tmp_path / "export.onnx").write_bytes(b"graph")
    (model / "link.onnx").symlink_to(tmp_path / "export.onnx")  # a hub snapshot's links
    target = tmp_path / "context.tar"
    args = image_context.write(target, settings(ca_bundle=ca), [
        ("config.json", model / "config.json"), ("onnx/model.onnx", model / "link.onnx")])
    names = members(target)
    assert "Dockerfile" in names and "src/reranker/app.py" in names
    assert "requirements/openvino.txt" in names
    assert "certs/ca-bundle.crt" in names and args["CA_BUNDLE"] == "certs/ca-bundle.crt"
    assert names["models/local/onnx/model.onnx"].isfile()  # the link's target, not a link
    assert names["models/local/onnx/model.onnx"].size == 5
    assert args["LOCAL_MODEL_DIR"] == "models/local"
    assert not any(n.startswith("tests") or "__pycache__" in n for n in names)
    assert all(m.mtime == 0 and m.uid == 0 for m in names.values()), \
        "cache keys must not depend on owners or times"


def test_without_a_model_the_context_points_nowhere(tmp_path):
    args = image_context.write(tmp_path / "c.tar", settings())
    assert args == {}
    assert not any(n.startswith("models/local") for n in members(tmp_path / "c.tar"))


@pytest.mark.parametrize("name", ["../escape", "/abs/path"])
def test_a_model_file_may_not_land_outside_the_model_directory(tmp_path, name):
    (tmp_path / "f").write_text("x")
    with pytest.raises(DevError, match="would land outside"):
        image_context.write(tmp_path / "c.tar", settings(), [(name, tmp_path / "f")])


def test_the_source_digest_follows_the_reranker_sources_and_nothing_else(tmp_path):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(Settings.from_env({}).project_root / "reranker", root / "reranker",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    copy = settings(project_root=root)
    digest = image_context.source_digest(copy)
    (root / "reranker" / "tests" / "test_more.py").write_text("# tests are not sent\n")
    (root / "reranker" / "src" / "reranker" / "__pycache__").mkdir(exist_ok=True)
    (root / "reranker" / "src" / "reranker" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert image_context.source_digest(copy) == digest
    loader = root / "reranker" / "src" / "reranker" / "loader.py"
    loader.write_text(loader.read_text() + "# edited\n")
    assert image_context.source_digest(copy) != digest
