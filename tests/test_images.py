import tarfile

import pytest

from weaviate_dev import images
from weaviate_dev.errors import DevError
from weaviate_dev.settings import Settings


def settings(**overrides):
    base = Settings.from_env({})
    return Settings(**{**base.__dict__, **overrides})


def members(context):
    context.seek(0)
    with tarfile.open(fileobj=context) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_reranker_context_stages_ca_bundle_and_model(tmp_path):
    ca = tmp_path / "corp.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    context, args = images.reranker_context(
        settings(ca_bundle=ca, pip_index_url="https://idx/simple"), model)
    names = members(context)
    assert "Dockerfile" in names
    assert "certs/ca-bundle.crt" in names and args["CA_BUNDLE"] == "certs/ca-bundle.crt"
    assert "models/local/config.json" in names and args["LOCAL_MODEL_DIR"] == "models/local"
    assert args["PIP_INDEX_URL"] == "https://idx/simple"
    assert not any(n.startswith("tests") or "__pycache__" in n for n in names)
    assert all(m.mtime == 0 for m in names.values()), "cache keys must not depend on mtimes"


def test_reranker_context_without_extras_downloads_the_model_name():
    context, args = images.reranker_context(settings(ca_bundle=None), None)
    names = members(context)
    assert "LOCAL_MODEL_DIR" not in args and "CA_BUNDLE" not in args
    assert args["MODEL_NAME"] == "cross-encoder/ms-marco-MiniLM-L-6-v2"
    assert args["ENGINE"] == "openvino"  # the engine table's default
    assert not any(n.startswith("models/local") for n in names)


def test_reranker_context_passes_the_engine_and_package_index():
    _, args = images.reranker_context(
        settings(ca_bundle=None, reranker_engine="onnx", pip_index_url="https://pypi.example"),
        None)
    assert (args["ENGINE"], args["PIP_INDEX_URL"]) == ("onnx", "https://pypi.example")


def test_reranker_context_rejects_a_directory_without_a_model(tmp_path):
    with pytest.raises(DevError, match="not a model directory"):
        images.reranker_context(settings(ca_bundle=None), tmp_path)


@pytest.mark.parametrize("text, expected", [
    ("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n",
     "http://mirror.example/debian"),
])
def test_debian_mirror_from_deb822_sources(tmp_path, monkeypatch, text, expected):
    sources = tmp_path / "debian.sources"
    sources.write_text(text)
    real_path = images.Path

    def fake_path(p):
        return sources if str(p).endswith("debian.sources") else real_path(p)

    monkeypatch.setattr(images, "Path", fake_path)
    assert images.debian_mirror(settings(debian_mirror=None)) == expected


def test_debian_mirror_setting_wins():
    assert images.debian_mirror(settings(debian_mirror="http://m/d")) == "http://m/d"


class FakeImages:
    def __init__(self, present, pullable=()):
        self.present, self.pullable, self.pulled = set(present), set(pullable), []


def test_ensure_image_prefers_present_then_pull_then_local_build(monkeypatch):
    state = FakeImages(present=[], pullable=[])
    built = []
    monkeypatch.setattr(images.docker_engine, "image_present", lambda ref: ref in state.present)
    monkeypatch.setattr(images.docker_engine, "pull", lambda ref: ref in state.pullable)

    def build():
        built.append(1)
        state.present.add("local:1")

    assert images.ensure_image("real:1", "local:1", build) == "local:1"
    assert built == [1]
    assert images.ensure_image("real:1", "local:1", build) == "local:1"
    assert built == [1], "an existing stand-in is not built again"
    state.pullable.add("real:1")
    assert images.ensure_image("real:1", "local:1", build) == "real:1"
