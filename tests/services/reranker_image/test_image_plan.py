"""Our reranker image holds what is configured: its labels against the wanted spec, a build
only when they differ (with the reason), a name the user gave used as given, a build streamed
from disk and cleaned up after. Docker is faked; the model and the sources are real files."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images, reranker_image
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


STAGE = "weaviate-dev.reranker.stage"


@pytest.fixture
def docker(monkeypatch):
    """Docker faked: images by tag and by id with their labels; builds and removals recorded.
    A build of the `model` target makes a model stage image; a whole build makes the image
    and reports its stages (the builder and the three stages it leaves behind)."""
    state = type("Engine", (), {})()
    state.images, state.by_id, state.builds, state.removed = {}, {}, [], []
    state.base_id = "sha256:base-1"

    def build(stream, *, tag, buildargs, labels=None, dockerfile="Dockerfile", target=None,
              tag_result=True):
        import tarfile

        assert stream.fileno() >= 0, "the context must stream from a file on disk"
        with tarfile.open(fileobj=stream) as tar:
            names = tar.getnames()
        state.builds.append({"tag": tag, "args": dict(buildargs), "names": names,
                             "target": target, "labels": dict(labels or {})})
        stages = {"sha256:builder": "builder", "sha256:empty-model": "model",
                  "sha256:export": "export", "sha256:exported": "exported"}
        for image, stage in stages.items():
            state.by_id[image] = {STAGE: stage}
        if target == "model":
            image = f"sha256:model-stage-{len(state.builds)}"
            state.by_id[image] = {STAGE: "model", **labels}
            return Built(tag, image, ("sha256:builder",))
        state.images[tag] = ("sha256:new", dict(labels))
        return Built(tag, "sha256:new", tuple(stages))

    def image_labels(ref):
        if ref in state.images:
            return dict(state.images[ref][1])
        return dict(state.by_id[ref]) if ref in state.by_id else None

    def image_id(ref):
        if ref == "base:1":
            return state.base_id
        return state.images[ref][0] if ref in state.images else None

    def with_labels(labels):
        return [i for i, have in state.by_id.items() if labels.items() <= have.items()][::-1]

    monkeypatch.setattr(local_images, "image_labels", image_labels)
    monkeypatch.setattr(local_images, "image_id", image_id)
    monkeypatch.setattr(local_images, "with_labels", with_labels)
    monkeypatch.setattr(engine, "native_platform", lambda: "linux/amd64")
    monkeypatch.setattr(builds, "build", build)
    monkeypatch.setattr(local_images, "remove_unused",
                        lambda ids: state.removed.append(list(ids)) or 7_000_000_000)
    monkeypatch.setattr(image_build.images, "ensure_base_image", lambda s: "base:1")
    monkeypatch.setattr(images, "present_base_image", lambda s: ("base:1", state.base_id))
    return state


def finals(state) -> list[dict]:
    """The builds of whole images (not of a model stage alone)."""
    return [b for b in state.builds if b["target"] is None]


LEFTOVERS = ["sha256:empty-model", "sha256:export", "sha256:exported"]


def settings(root, tmp_path, **overrides) -> Settings:
    base = Settings.from_env({"WEAVIATE_DEV_ROOT": str(root),
                              "XDG_CACHE_HOME": str(tmp_path / "cache")})
    return dataclasses.replace(base, **{"ca_bundle": None, "reranker_engine": "torch",
                                        **overrides})


def test_a_missing_image_is_built_labelled_with_what_it_holds(root, tmp_path, docker, capsys):
    model = make_model(tmp_path / "bert")
    wanted = settings(root, tmp_path, model_dir=model)
    assert reranker_image.ensure(wanted, tag="r:1") == "r:1"
    model_stage, build = docker.builds
    assert model_stage["target"] == "model"
    assert "models/local/model.safetensors" in model_stage["names"]
    assert "models/local/README.md" not in model_stage["names"]
    labels = docker.images["r:1"][1]
    source = image_model.resolve(wanted)
    assert labels["weaviate-dev.reranker.model"] == source.describe()
    assert labels["weaviate-dev.reranker.model_key"] == source.key
    assert labels["weaviate-dev.reranker.engine"] == "torch"
    assert labels["weaviate-dev.reranker.base"] == docker.base_id  # the id, not the name
    assert labels["weaviate-dev.reranker.base_name"] == "base:1"
    assert model_stage["args"]["MODEL_DESCRIPTION"] == source.describe()
    assert build["args"]["MODEL_FROM"] == "sha256:model-stage-1"
    assert docker.removed == [LEFTOVERS]  # its own leftover stages, by label; nothing replaced
    err = capsys.readouterr().err
    assert "reranker image: r:1: not found: building it with model directory" in err
    assert "removed this build's leftover stages: 7000 MB freed" in err


def test_the_same_model_and_source_reuse_the_image(root, tmp_path, docker, capsys):
    model = make_model(tmp_path / "bert")
    wanted = settings(root, tmp_path, model_dir=model)
    reranker_image.ensure(wanted, tag="r:1")
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    assert len(finals(docker)) == 1
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
    assert len(finals(docker)) == 2
    assert [b["target"] for b in docker.builds] == ["model", None, "model", None]
    err = capsys.readouterr().err
    a, b = image_model.resolve(first).describe(), image_model.resolve(second).describe()
    assert f"rebuilding: model {a} -> {b}" in err
    assert docker.removed[-2:] == [LEFTOVERS, ["sha256:image-a"]]
    assert "removed the image that weaviate-dev/reranker-transformers:latest replaced" in err


def test_an_edited_reranker_source_rebuilds(root, tmp_path, docker, capsys):
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    app = root / "reranker" / "src" / "reranker" / "app.py"
    app.write_text(app.read_text() + "\n# a pulled change\n")
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    assert len(finals(docker)) == 2
    assert "rebuilding: the reranker's source" in capsys.readouterr().err


def test_another_engine_rebuilds(root, tmp_path, docker, capsys, monkeypatch):
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    other = dataclasses.replace(wanted, reranker_engine="onnx")
    monkeypatch.setattr(reranker_image.staging, "can_export_here", lambda: False)
    reranker_image.ensure(other, tag="r:1")
    assert "rebuilding: engine torch -> onnx" in capsys.readouterr().err
    assert len(finals(docker)) == 2


def test_an_image_without_our_labels_is_rebuilt(root, tmp_path, docker, capsys):
    docker.images["r:1"] = ("sha256:official", {"maintainer": "someone"})
    reranker_image.ensure(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                          tag="r:1")
    assert "r:1: has no weaviate-dev labels: rebuilding it" in capsys.readouterr().err
    assert docker.removed[-1] == ["sha256:official"]


def test_an_image_the_user_named_is_used_as_given(root, tmp_path, docker, capsys, monkeypatch):
    docker.images["mine:1"] = ("sha256:mine", reranker_image.ImageSpec(
        "org/other@abc", "org/other@abc", "onnx", "linux/amd64", "x", "sha256:b").labels())
    given = dataclasses.replace(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                                reranker_image="mine:1", reranker_image_given=True)
    monkeypatch.setattr(image_model, "resolve",
                        lambda s: pytest.fail("a given, present image needs no model"))
    assert reranker_image.ensure(given) == "mine:1"
    assert docker.builds == []
    assert ("reranker image: mine:1: used as it is (WEAVIATE_DEV_RERANKER_IMAGE): built with "
            "model org/other@abc, engine onnx, linux/amd64") in capsys.readouterr().err
    docker.images["official:1"] = ("sha256:o", {})
    assert reranker_image.ensure(dataclasses.replace(given, reranker_image="official:1"))
    assert "no weaviate-dev labels (not built by us)" in capsys.readouterr().err


def test_an_image_the_user_named_is_built_when_missing(root, tmp_path, docker):
    given = dataclasses.replace(settings(root, tmp_path, model_dir=make_model(tmp_path / "m")),
                                reranker_image="mine:2", reranker_image_given=True)
    reranker_image.ensure(given)
    assert [b["tag"] for b in finals(docker)] == ["mine:2"]


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
    assert [b["tag"] for b in finals(docker)] == ["r:1"]


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


def test_a_source_edit_reuses_the_model_stage_and_sends_no_model(root, tmp_path, docker,
                                                                  capsys):
    """The model stage (the model's layers) is built once and found by its label: after a
    source edit, only the image is built again, on the same model stage, from a context that
    holds no model file."""
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m", b"w" * 1000))
    reranker_image.ensure(wanted, tag="r:1")
    app = root / "reranker" / "src" / "reranker" / "app.py"
    app.write_text(app.read_text() + "\n# a one-line edit\n")
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    first_stage, first, second = docker.builds
    assert [first_stage["target"], first["target"], second["target"]] == ["model", None, None]
    assert second["args"]["MODEL_FROM"] == first["args"]["MODEL_FROM"] == "sha256:model-stage-1"
    assert not [n for n in second["names"] if n.startswith("models/local")]
    assert second["args"]["LOCAL_MODEL_DIR"] == ""
    err = capsys.readouterr().err
    assert "the model's layers are reused (model stage model-stage-" in err
    assert docker.removed[-1] == LEFTOVERS


def test_the_model_stage_is_built_again_when_what_it_holds_changes(root, tmp_path, docker):
    """Another model, a changed download script or another base image each make a new model
    stage: its key covers everything the stage takes."""
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    download = root / "reranker" / "src" / "reranker" / "download.py"
    download.write_text(download.read_text() + "\n# changed\n")
    reranker_image.ensure(wanted, tag="r:1")
    docker.base_id = "sha256:base-2"
    reranker_image.ensure(wanted, tag="r:1")
    assert [b["target"] for b in docker.builds] == ["model", None] * 3
    keys = {b["labels"]["weaviate-dev.reranker.model_stage"] for b in docker.builds
            if b["target"] == "model"}
    assert len(keys) == 3


def test_an_updated_base_image_rebuilds_and_says_so(root, tmp_path, docker, capsys):
    """The base image is labelled by its id: the same name pulled or built again (another
    id) rebuilds the image, saying so."""
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    assert "current" in reranker_image.plan(wanted, "r:1").describe()
    docker.base_id = "sha256:0123456789abcdef"
    capsys.readouterr()
    reranker_image.ensure(wanted, tag="r:1")
    assert ("rebuilding: base image changed (base:1 base-1 -> base:1 0123456789ab)"
            in capsys.readouterr().err)
    assert docker.images["r:1"][1]["weaviate-dev.reranker.base"] == "sha256:0123456789abcdef"
    assert len(finals(docker)) == 2


def test_a_missing_base_image_does_not_by_itself_rebuild(root, tmp_path, docker, monkeypatch):
    """A base image removed since (to be pulled or built again when a build needs it) is no
    reason to rebuild an image that is otherwise current."""
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"))
    reranker_image.ensure(wanted, tag="r:1")
    monkeypatch.setattr(images, "present_base_image", lambda s: None)
    assert reranker_image.plan(wanted, "r:1").action == "use"


def test_weights_exported_in_the_build_go_in_one_build_without_a_kept_stage(
        root, tmp_path, docker, monkeypatch):
    """Torch weights for an ONNX engine where this Python cannot export them: the build's
    export stage exports them, so the model goes in one build (MODEL_FROM=exported) and its
    stages, the torch export stage too, are removed afterwards."""
    monkeypatch.setattr(reranker_image.staging, "can_export_here", lambda: False)
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"),
                      reranker_engine="openvino")
    reranker_image.ensure(wanted, tag="r:1")
    [build] = docker.builds
    assert build["target"] is None and build["args"]["MODEL_FROM"] == "exported"
    assert "models/local/model.safetensors" in build["names"]
    assert build["args"]["LOCAL_MODEL_DIR"] == "models/local"
    assert docker.removed == [LEFTOVERS]


def test_index_credentials_reach_no_build_argument_and_no_printed_line(root, tmp_path, docker,
                                                                       monkeypatch, capsys):
    """WEAVIATE_DEV_PIP_INDEX_URL with a password: the build gets a stand-in URL without it
    and the relay's address as http_proxy (a predefined proxy argument, which Docker keeps out
    of the image's history); the lines printed show the index masked."""
    from weaviate_dev.services.docker import engine as docker_engine

    monkeypatch.setattr(docker_engine, "host_for_builds", lambda: ("127.0.0.1", "127.0.0.1"))
    wanted = settings(root, tmp_path, model_dir=make_model(tmp_path / "m"),
                      pip_index_url="https://user:s3cret@pypi.example.com/simple",
                      pip_extra_index_url="https://tok3n@extra.example.com/simple")
    reranker_image.ensure(wanted, tag="r:1")
    err = capsys.readouterr().err
    assert "s3cret" not in err and "tok3n" not in err
    assert ("package indexes through a relay: PIP_INDEX_URL=https://user:***@pypi.example.com"
            "/simple, PIP_EXTRA_INDEX_URL=https://***@extra.example.com/simple") in err
    for build in docker.builds:
        args = build["args"]
        assert "s3cret" not in json.dumps(args) and "tok3n" not in json.dumps(args)
        assert args["PIP_INDEX_URL"].startswith("http://index-")
        assert args["PIP_INDEX_URL"].endswith(".weaviate-dev.invalid/simple")
        assert args["http_proxy"].startswith("http://weaviate-dev:")
        assert args["http_proxy"] == args["HTTP_PROXY"]
        assert "s3cret" not in json.dumps(build["labels"])
    # The stand-in is the same for every build, so Docker's cache keeps the dependency layers.
    stand_ins = {b["args"]["PIP_INDEX_URL"] for b in docker.builds}
    assert len(stand_ins) == 1


def test_the_model_stage_key_covers_every_source_file_its_stages_read(root):
    """The `builder` and `model` stages of the Dockerfile copy from src/ only the files
    `MODEL_STAGE_SOURCES` names (so that the model stage's key covers them); every other
    source file is copied after them (its edit reuses the model stage)."""
    import re

    dockerfile = (root / "reranker" / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)
    early = "".join(s for s in stages if re.match(r"\S+ AS (builder|model)\n", s))
    copied = {word for line in re.findall(r"^COPY (.+)$", early, flags=re.M)
              for word in line.split()[:-1] if not word.startswith("--")}
    from_src = {c for c in copied if c.startswith("src/")}
    assert from_src == set(image_build.MODEL_STAGE_SOURCES) - {"Dockerfile"}
    assert copied - from_src <= {"certs/", "requirements/", "${LOCAL_MODEL_DIR:-models/README.md}"}


def test_two_processes_building_one_image_take_turns(root, tmp_path, docker, capsys,
                                                     monkeypatch):
    """`make dev` in two terminals, or the two lanes of `make test`: both find the image
    missing; the second waits for the first's build and then uses its image."""
    import threading

    model = make_model(tmp_path / "bert")
    wanted = settings(root, tmp_path, model_dir=model)
    first, second = reranker_image.plan(wanted, "r:1"), reranker_image.plan(wanted, "r:1")
    assert first.action == second.action == "build"
    building, release = threading.Event(), threading.Event()
    real_build = image_build.build

    def slow_build(*args, **kwargs):
        building.set()
        assert release.wait(10)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(image_build, "build", slow_build)
    thread = threading.Thread(target=first.apply)
    thread.start()
    assert building.wait(10)
    threading.Timer(0.5, release.set).start()
    assert second.apply() == "r:1"
    thread.join(10)
    assert len(finals(docker)) == 1
    err = capsys.readouterr().err
    assert "waiting for another weaviate-dev process that is building r:1" in err
    assert "reranker image: r:1: built meanwhile by another process" in err
