"""The model an image bakes in, identified before any build: a directory's files and their
digest (cached by stat), or a hub model's commit (through a fake hub, the real revision API;
the hub's refusals and the offline fallback: test_image_hub.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from reranker.testing.fake_hub import FakeHub
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import digests
from weaviate_dev.services.reranker_image import model as image_model


def settings(tmp_path, **overrides) -> Settings:
    base = Settings.from_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    return dataclasses.replace(base, **{"ca_bundle": None, **overrides})


def model_dir(root, *, onnx=False, stamp=None):
    """A model directory as people have them: config, tokenizer, weights, a README, other
    formats; with its own ONNX export when asked."""
    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (root / "tokenizer.json").write_text("{}")
    (root / "model.safetensors").write_bytes(b"weights")
    (root / "README.md").write_text("# m")
    (root / "openvino").mkdir()
    (root / "openvino" / "openvino_model.xml").write_text("<net/>")
    if onnx:
        (root / "onnx").mkdir()
        (root / "onnx" / "model.onnx").write_bytes(b"graph")
        if stamp is not None:
            (root / "onnx" / "export.json").write_text(json.dumps(stamp))
    return root


def test_a_directory_is_its_loaded_files_and_their_digest(tmp_path):
    model = model_dir(tmp_path / "m")
    found = image_model.resolve(settings(tmp_path, model_dir=model, reranker_engine="torch"))
    assert found.files == ("config.json", "model.safetensors", "tokenizer.json")
    assert found.describe() == f"directory {model} (sha256 {found.revision[:12]})"
    (model / "README.md").write_text("edited")  # not loaded: the same model
    assert image_model.resolve(settings(tmp_path, model_dir=model,
                                           reranker_engine="torch")) == found
    (model / "model.safetensors").write_bytes(b"other weights")
    assert image_model.resolve(settings(tmp_path, model_dir=model,
                                           reranker_engine="torch")).key != found.key


def test_a_copied_directory_is_the_same_model(tmp_path):
    import shutil

    model = model_dir(tmp_path / "m")
    shutil.copytree(model, tmp_path / "copy")
    first = image_model.resolve(settings(tmp_path, model_dir=model, reranker_engine="torch"))
    copy = image_model.resolve(settings(tmp_path, model_dir=tmp_path / "copy",
                                           reranker_engine="torch"))
    assert copy.key == first.key and copy.name != first.name


def test_an_onnx_engine_takes_the_directorys_own_export_instead_of_the_weights(tmp_path):
    model = model_dir(tmp_path / "m", onnx=True)
    found = image_model.resolve(settings(tmp_path, model_dir=model))  # openvino
    assert found.files == ("config.json", "onnx/model.onnx", "tokenizer.json")
    assert not found.needs_export
    int8 = image_model.resolve(settings(tmp_path, model_dir=model,
                                           reranker_engine="onnx-int8"))
    assert "model.safetensors" in int8.files and int8.needs_export  # no int8 file there


def test_an_export_of_ours_made_from_other_weights_is_not_taken(tmp_path):
    model = model_dir(tmp_path / "m", onnx=True, stamp={"recipe": 4, "source": "0" * 64})
    found = image_model.resolve(settings(tmp_path, model_dir=model))
    assert "model.safetensors" in found.files and "onnx/model.onnx" not in found.files
    assert found.needs_export


def test_digests_are_remembered_by_stat(tmp_path):
    model = model_dir(tmp_path / "m")
    names = ["config.json", "model.safetensors"]
    root = Settings.from_env({}).project_root
    first = digests.DigestCache(tmp_path / "cache", root)
    digest = first.files(model, names)
    first.save()
    again = digests.DigestCache(tmp_path / "cache", root)
    assert again.files(model, names) == digest and again.hashed == 0
    (model / "config.json").write_text('{"model_type": "roberta"}')
    changed = digests.DigestCache(tmp_path / "cache", root)
    assert changed.files(model, names) != digest and changed.hashed > 0
    assert digest == digests.shared_code.module(root, "download").tree_digest(
        model_dir(tmp_path / "fresh"), names)


@pytest.fixture
def hub(tmp_path):
    repo = model_dir(tmp_path / "repo", onnx=True)
    with FakeHub({"org/open": repo, "org/gated": repo}, gated={"org/gated": "hf_ok"}) as hub:
        yield hub


def test_a_hub_model_is_its_commit_and_that_commits_files(tmp_path, hub):
    found = image_model.resolve(settings(tmp_path, model_name="org/open",
                                            hf_endpoint=hub.url))
    assert (found.kind, found.revision) == ("hub", hub.commit("org/open"))
    assert found.describe() == f"org/open@{hub.commit('org/open')}"
    assert found.files == ("config.json", "onnx/model.onnx", "tokenizer.json")
    torch = image_model.resolve(settings(tmp_path, model_name="org/open",
                                            hf_endpoint=hub.url, reranker_engine="torch"))
    assert "model.safetensors" in torch.files and not any("onnx" in f for f in torch.files)


def test_a_named_revision_is_resolved_and_a_missing_one_refused(tmp_path, hub):
    old = hub.commit("org/open")
    hub.push("org/open", model_dir(tmp_path / "pushed"))
    pinned = image_model.resolve(settings(tmp_path, model_name="org/open",
                                             hf_endpoint=hub.url, model_revision=old))
    assert pinned.revision == old != hub.commit("org/open")
    with pytest.raises(DevError, match=r"org/open has no revision 'v9' "
                                       r"\(WEAVIATE_DEV_MODEL_REVISION"):
        image_model.resolve(settings(tmp_path, model_name="org/open", hf_endpoint=hub.url,
                                        model_revision="v9"))
