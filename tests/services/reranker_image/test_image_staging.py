"""A model's files for the image, had on the host: a hub model downloaded outside the build
(the reranker's own download script, pinned to the resolved commit, the token in its
environment only), torch weights exported here for an ONNX engine; both kept in the cache."""

from __future__ import annotations

import dataclasses
import json

import pytest

from reranker.testing.fake_hub import FakeHub
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import staging
from weaviate_dev.services.reranker_image import model as image_model


def settings(tmp_path, **overrides) -> Settings:
    base = Settings.from_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    return dataclasses.replace(base, **{"ca_bundle": None, **overrides})


@pytest.fixture
def tiny(weaviate_dev_reranker_model_dir):
    """The session's tiny model (the root conftest makes it once)."""
    return weaviate_dev_reranker_model_dir


def test_a_hub_model_is_downloaded_once_from_its_commit(tmp_path, tiny, capsys):
    with FakeHub({"org/tiny": tiny}, gated={"org/tiny": "hf_ok"}) as hub:
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          hf_token="hf_ok", reranker_engine="torch")
        model = image_model.resolve(wanted)
        staged = staging.files(wanted, model)
        requests_made = len(hub.log)
        again = staging.files(wanted, model)
        assert len(hub.log) == requests_made  # from the cache, no request
    assert [name for name, _ in staged] == list(model.files)
    for name, path in staged:
        assert path.read_bytes() == (tiny / name).read_bytes()
    assert all(path.parent.name == model.revision or model.revision in str(path)
               for _, path in staged)
    assert again == staged
    assert "from the download cache" in capsys.readouterr().err
    downloads = [p for m, p, _ in hub.log if "/resolve/" in p]
    assert downloads and all(f"/resolve/{model.revision}/" in p for p in downloads)


def test_a_failed_download_is_one_line_and_leaves_no_partial_model(tmp_path, tiny):
    from weaviate_dev.core.errors import DevError

    with FakeHub({"org/tiny": tiny}) as hub:
        wanted = settings(tmp_path, model_name="org/tiny", hf_endpoint=hub.url,
                          reranker_engine="torch")
        model = image_model.resolve(wanted)
        gone = dataclasses.replace(model, revision="f" * 40)  # a commit the hub never had
        with pytest.raises(DevError) as failed:
            staging.files(wanted, gone)
    assert "RevisionNotFoundError" in str(failed.value) and "\n" not in str(failed.value)
    cache = tmp_path / "cache" / "weaviate-dev" / "models" / "org--tiny"
    assert not (cache / gone.revision).exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".partial-")]


def test_torch_weights_are_exported_here_once_for_an_onnx_engine(tmp_path, tiny, capsys,
                                                                  monkeypatch):
    wanted = settings(tmp_path, model_dir=tiny, reranker_engine="openvino")
    model = image_model.resolve(wanted)
    assert model.needs_export
    staged = dict(staging.files(wanted, model))
    assert "model.safetensors" not in staged and "onnx/model.onnx" in staged
    stamp = json.loads(staged["onnx/export.json"].read_text())
    assert stamp["source"] and stamp["model_type"] == "bert"
    assert not (tiny / "onnx").exists()  # the user's directory is never written
    monkeypatch.setattr(staging.process, "run",
                        lambda *a, **k: pytest.fail("exported a second time"))
    assert dict(staging.files(wanted, model)) == staged
    assert "ONNX export of" in capsys.readouterr().err
