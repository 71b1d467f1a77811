"""How the toolkit builds the reranker image, against the real engine, with the tiny model and
the default engine (openvino): a package index with a password leaves no trace of it in the
image, its history, its labels or the toolkit's output; a source edit builds the image again
on the model's own layers; a base image updated under the same name is a reason to rebuild.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil

import pytest
from image_helpers import contains

pytestmark = pytest.mark.docker

# Unique to the run: no file of the image may hold it by chance (the source is in the image).
SECRET = "s3cret-" + secrets.token_hex(4)


@pytest.fixture
def private_index(weaviate_dev_settings):
    """A package index on the host's 127.0.0.1 that answers only user:SECRET: it passes the
    simple API of PyPI on (whose pages link to its file host, reached by the build directly)."""
    from reranker.testing.fake_index import FakeIndex, pypi_answer

    ca_bundle = weaviate_dev_settings.ca_bundle
    with FakeIndex(pypi_answer(str(ca_bundle) if ca_bundle else True), user="user",
                   password=SECRET) as index:
        yield index


def test_a_package_index_password_is_in_no_layer_history_label_or_line(
        weaviate_dev_settings, weaviate_dev_docker, weaviate_dev_reranker_model_dir,
        weaviate_dev_reranker_image_tag, private_index, capfd):
    """WEAVIATE_DEV_PIP_INDEX_URL=http://user:s3cret-<run>@127.0.0.1:PORT/simple: the
    dependencies are installed from that index (it sees the password: the toolkit's relay adds
    it), and the password is in none of the image's `docker history --no-trunc`, `docker
    inspect`, the bytes of `docker save`, nor the toolkit's output."""
    from weaviate_dev.services import reranker_image

    port = private_index.url.rsplit(":", 1)[1]
    settings = dataclasses.replace(
        weaviate_dev_settings, reranker_engine="openvino",
        pip_index_url=f"http://user:{SECRET}@127.0.0.1:{port}/simple")
    tag = f"{weaviate_dev_reranker_image_tag}-private-index"
    try:
        image = reranker_image.ensure(settings, tag=tag,
                                      model_dir=weaviate_dev_reranker_model_dir)
        output = capfd.readouterr()
        used = [path for path, auth in private_index.seen if auth == private_index.credentials]
        assert any(path.startswith("/simple/openvino/") for path in used), \
            private_index.seen[:20]  # the build installed from this index
        needle = SECRET.encode()
        history = weaviate_dev_docker.api.history(image)
        assert "index-" in json.dumps(history)  # the stand-in URL is there, the password not
        assert needle not in json.dumps(history).encode()
        assert needle not in json.dumps(weaviate_dev_docker.api.inspect_image(image)).encode()
        assert not contains(weaviate_dev_docker.images.get(image).save(), needle)
        assert SECRET not in output.out + output.err
        assert f"user:***@127.0.0.1:{port}/simple" in output.err
    finally:
        if weaviate_dev_docker.images.list(name=tag):
            weaviate_dev_docker.images.remove(tag, force=True)


@pytest.fixture
def project_copy(weaviate_dev_settings, tmp_path):
    """A copy of the project's reranker/ (its source to edit), used as the project root."""
    root = tmp_path / "root"
    shutil.copytree(weaviate_dev_settings.project_root / "reranker", root / "reranker",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tests"))
    return root


@pytest.fixture
def base_alias(weaviate_dev_settings, weaviate_dev_docker):
    """A name of our own for the base image, to be updated under that name by the test."""
    from weaviate_dev.services import images

    name = "weaviate-dev/test-base-alias:rebuild"
    base = weaviate_dev_docker.images.get(images.ensure_base_image(weaviate_dev_settings))
    base.tag(name)
    made = []
    try:
        yield name, made
    finally:
        for ref in [name, *made]:
            if weaviate_dev_docker.images.list(name=ref) or ref.startswith("sha256:"):
                try:
                    weaviate_dev_docker.images.remove(ref, force=True)
                except Exception:  # noqa: BLE001 - gone already
                    pass


def test_a_source_edit_builds_on_the_models_layers_and_an_updated_base_rebuilds(
        weaviate_dev_settings, weaviate_dev_docker, weaviate_dev_reranker_model_dir,
        weaviate_dev_reranker_image_tag, project_copy, base_alias, capfd):
    """The image is built on a model stage found by its label: after a one-line source edit
    the new image has every layer of the model stage (none made again) and the build sends no
    model. The same base name on another image (pulled or built again) says "base image
    changed"."""
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.docker import local_images
    from weaviate_dev.services.reranker_image import build as image_build

    name, made = base_alias
    settings = dataclasses.replace(weaviate_dev_settings, reranker_engine="openvino",
                                   project_root=project_copy, base_image=name)
    tag = f"{weaviate_dev_reranker_image_tag}-source-edit"
    made.append(tag)
    first = reranker_image.ensure(settings, tag=tag, model_dir=weaviate_dev_reranker_model_dir)
    first_layers = layers(weaviate_dev_docker, first)
    key = weaviate_dev_docker.images.get(first).labels[image_build.MODEL_STAGE_LABEL]
    [stage] = local_images.with_labels({image_build.MODEL_STAGE_LABEL: key,
                                        "weaviate-dev.reranker.stage": "model"})
    stage_layers = layers(weaviate_dev_docker, stage)
    assert first_layers[:len(stage_layers)] == stage_layers
    app = project_copy / "reranker" / "src" / "reranker" / "app.py"
    app.write_text(app.read_text() + "\n# a one-line edit\n")
    capfd.readouterr()
    second = reranker_image.ensure(settings, tag=tag, model_dir=weaviate_dev_reranker_model_dir)
    err = capfd.readouterr().err
    assert "rebuilding: the reranker's source" in err
    assert f"the model's layers are reused (model stage {stage[7:19]})" in err
    assert "(model stage): context" not in err  # no build of the model stage, no model sent
    second_layers = layers(weaviate_dev_docker, second)
    assert second_layers[:len(stage_layers)] == stage_layers
    assert second_layers != first_layers

    updated = weaviate_dev_docker.images.build(
        fileobj=_dockerfile(f"FROM {name}\nLABEL weaviate-dev.test=updated-base\n"),
        rm=True)[0]
    made.append(updated.id)
    updated.tag(name)
    plan = reranker_image.plan(settings, tag, model_dir=weaviate_dev_reranker_model_dir)
    assert plan.action == "build"
    assert f"base image changed ({name} " in plan.reason
    assert updated.short_id.removeprefix("sha256:") in plan.reason


def layers(docker_client, ref: str) -> list[str]:
    return docker_client.api.inspect_image(ref)["RootFS"]["Layers"]


def _dockerfile(text: str):
    import io

    return io.BytesIO(text.encode())
