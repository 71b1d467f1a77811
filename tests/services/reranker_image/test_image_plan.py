"""Our reranker image holds what is configured: its labels against the wanted spec, a build
only when they differ (with the reason), a name the user gave used as given, a build streamed
from disk and cleaned up after. Docker is faked; the model and the sources are real files."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from weaviate_dev.core.settings import Settings
from weaviate_dev.services import reranker_image
from weaviate_dev.services.reranker_image import model as image_model
from weaviate_dev.services.docker import builds, engine, local_images
from weaviate_dev.services.reranker_image import build as image_build
from weaviate_dev.services.docker.builds import Built


@pytest.fixture
def root(tmp_path):
    """A project root of our own (a copy of reranker/), so that a test may edit its source."""
    real = Settings.from_env({}).project_root
    root = tmp_path / "root"
    shutil.copytree(real / "reranker", root / "reranker",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tests"))
    return root


def make_model(path, weights=b"weights"):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (path / "tokenizer.json").write_text("{}")
    (path / "model.safetensors").write_bytes(weights)
    return path


@pytest.fixture
def docker(monkeypatch):
    """Docker faked: images by tag with their labels; builds and removals recorded."""
    state = type("Engine", (), {})()
    state.images, state.builds, state.removed = {}, [], []

    def build(stream, *, tag, buildargs, labels=None, dockerfile="Dockerfile"):
        import tarfile

        assert stream.fileno() >= 0, "the context must stream from a file on disk"
        with tarfile.open(fileobj=stream) as tar:
            names = tar.getnames()
        state.builds.append({"tag": tag, "args": buildargs, "names": names})
        state.images[tag] = ("sha256:new", dict(labels))
        return Built(tag, "sha256:new", ("stage1", "stage2"))

    monkeypatch.setattr(local_images, "image_labels",
                        lambda ref: dict(state.images[ref][1]) if ref in state.images else None)
    monkeypatch.setattr(local_images, "image_id",
                        lambda ref: state.images[ref][0] if ref in state.images else None)
    monkeypatch.setattr(engine, "native_platform", lambda: "linux/amd64")
    monkeypatch.setattr(builds, "build", build)
    monkeypatch.setattr(local_images, "remove_unused",
                        lambda ids: state.removed.append(list(ids)) or 7_000_000_000)
    monkeypatch.setattr(image_build.images, "ensure_base_image", lambda s: "base:1")
    return state


def settings(root, tmp_path, **overrides) -> Settings:
    base = Settings.from_env({"WEAVIATE_DEV_ROOT": str(root),
                              "XDG_CACHE_HOME": str(tmp_path / "cache")})
    return dataclasses.replace(base, **{"ca_bundle": None, "reranker_engine": "torch",
                                        **overrides})


def test_a_missing_image_is_built_labelled_with_what_it_holds(root, tmp_path, docker, capsys):
    model = make_model(tmp_path / "bert")
    wanted = settings(root, tmp_path, model_dir=model)
    assert reranker_image.ensure(wanted, tag="r:1") == "r:1"
    [build] = docker.builds
    assert "models/local/model.safetensors" in build["names"]
    assert "models/local/README.md" not in build["names"]
    labels = docker.images["r:1"][1]
    source = image_model.resolve(wanted)
    assert labels["weaviate-dev.reranker.model"] == source.describe()
    assert labels["weaviate-dev.reranker.model_key"] == source.key
    assert labels["weaviate-dev.reranker.engine"] == "torch"
    assert build["args"]["MODEL_DESCRIPTION"] == source.describe()
    assert docker.removed == [["stage1", "stage2"]]  # its own stages; nothing replaced
    err = capsys.readouterr().err
    assert "reranker image: r:1: not found: building it with model directory" in err
    assert "removed this build's dangling stages: 7000 MB freed" in err


def test_the_same_model_and_source_reuse_the_image(root, tmp_path, docker, capsys):
    model = make_model(tmp_path / "bert")
    wanted = settings(root, tmp_path, model_dir=model)
    reranker_image.ensure(wanted, tag="r:1")
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    assert len(docker.builds) == 1
    assert "reranker image: r:1: current: model directory" in capsys.readouterr().err


def test_another_model_rebuilds_and_says_why(root, tmp_path, docker, capsys):
    """Model A, then model B in one clone under one tag: B is built, the reason named, the
    image A was removed (its id handed to the cleanup)."""
    first = settings(root, tmp_path, model_dir=make_model(tmp_path / "a", b"A"))
    reranker_image.ensure(first, tag="weaviate-dev/reranker-transformers:latest")
    docker.images["weaviate-dev/reranker-transformers:latest"] = (
        "sha256:image-a", docker.images["weaviate-dev/reranker-transformers:latest"][1])
    capsys.readouterr()
    second = dataclasses.replace(first, model_dir=make_model(tmp_path / "b", b"B"))
    reranker_image.ensure(second, tag="weaviate-dev/reranker-transformers:latest")
    assert len(docker.builds) == 2
    err = capsys.readouterr().err
    a, b = image_model.resolve(first).describe(), image_model.resolve(second).describe()
    assert f"rebuilding: model {a} -> {b}" in err
    assert docker.removed[-2:] == [["stage1", "stage2"], ["sha256:image-a"]]
    assert "removed the image weaviate-dev/reranker-transformers:latest replaced" in err


def test_an_edited_reranker_source_rebuilds(root, tmp_path, docker, capsys):
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    app = root / "reranker" / "src" / "reranker" / "app.py"
    app.write_text(app.read_text() + "\n# a pulled change\n")
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    assert len(docker.builds) == 2
    assert "rebuilding: the reranker's source" in capsys.readouterr().err


def test_another_engine_or_platform_rebuilds(root, tmp_path, docker, capsys, monkeypatch):
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    reranker_image.ensure(dataclasses.replace(wanted, base_image="debian:other"), tag="r:1")
    assert "rebuilding: base python:3.11-slim -> debian:other" in capsys.readouterr().err
    other = dataclasses.replace(wanted, base_image="debian:other", reranker_engine="onnx")
    monkeypatch.setattr(reranker_image.staging, "can_export_here", lambda: False)
    reranker_image.ensure(other, tag="r:1")
    assert "rebuilding: engine torch -> onnx" in capsys.readouterr().err
    assert len(docker.builds) == 3


def test_an_image_without_our_labels_is_rebuilt(root, tmp_path, docker, capsys):
    docker.images["r:1"] = ("sha256:official", {"maintainer": "someone"})
    reranker_image.ensure(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                          tag="r:1")
    assert "r:1: has no weaviate-dev labels: rebuilding it" in capsys.readouterr().err
    assert docker.removed[-1] == ["sha256:official"]


def test_an_image_the_user_named_is_used_as_given(root, tmp_path, docker, capsys, monkeypatch):
    docker.images["mine:1"] = ("sha256:mine", reranker_image.ImageSpec(
        "org/other@abc", "org/other@abc", "onnx", "linux/amd64", "x", "b").labels())
    given = dataclasses.replace(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                                reranker_image="mine:1", reranker_image_given=True)
    monkeypatch.setattr(image_model, "resolve",
                        lambda s: pytest.fail("a given, present image needs no model"))
    assert reranker_image.ensure(given) == "mine:1"
    assert docker.builds == []
    assert ("reranker image: mine:1: used as given (WEAVIATE_DEV_RERANKER_IMAGE): it holds "
            "model org/other@abc, engine onnx, linux/amd64") in capsys.readouterr().err
    docker.images["official:1"] = ("sha256:o", {})
    assert reranker_image.ensure(dataclasses.replace(given, reranker_image="official:1"))
    assert "no weaviate-dev labels (not built by us)" in capsys.readouterr().err


def test_an_image_the_user_named_is_built_when_missing(root, tmp_path, docker):
    given = dataclasses.replace(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                                reranker_image="mine:2", reranker_image_given=True)
    reranker_image.ensure(given)
    assert [b["tag"] for b in docker.builds] == ["mine:2"]


def test_a_foreign_platform_builds_with_buildkit_from_its_own_base(root, tmp_path, docker,
                                                                   monkeypatch):
    calls = []
    monkeypatch.setattr(image_build.images, "foreign_platform",
                        lambda s: s.platform if s.platform != "linux/amd64" else None)
    monkeypatch.setattr(builds, "build_for",
                        lambda stream, *, tag, buildargs, platform, labels:
                        calls.append((tag, platform, labels["weaviate-dev.reranker.platform"]))
                        or Built(tag))
    arm = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"), platform="linux/arm64")
    reranker_image.ensure(arm, tag="r:arm64")
    assert calls == [("r:arm64", "linux/arm64", "linux/arm64")] and docker.builds == []
    reranker_image.ensure(dataclasses.replace(arm, platform="linux/amd64"), tag="r:1")
    assert [b["tag"] for b in docker.builds] == ["r:1"]


def test_the_dependency_layers_of_each_extra_are_built_ahead_untagged(root, tmp_path, monkeypatch):
    """`setup reranker-dependencies`: one build of the Dockerfile's dependency stage per
    extra (openvino, onnx, torch), with the build arguments a later image build uses, so that
    its big layers come from the cache; nothing is tagged."""
    calls = []

    def build(stream, *, tag, buildargs, target=None, tag_result=True, **kwargs):
        calls.append((buildargs["ENGINE"], target, tag_result, buildargs["BASE_IMAGE"]))
        return Built(tag)

    monkeypatch.setattr(builds, "build", build)
    monkeypatch.setattr(image_build.images, "ensure_base_image", lambda s: "base:1")
    done = reranker_image.prebuild_dependencies(settings(root, tmp_path))
    assert calls == [("openvino", "builder", False, "base:1"), ("onnx", "builder", False, "base:1"),
                     ("torch", "builder", False, "base:1")]
    assert done == "openvino, onnx, torch"
    dockerfile = (root / "reranker" / "Dockerfile").read_text()
    assert f"AS {image_build.DEPENDENCY_STAGE}\n" in dockerfile
