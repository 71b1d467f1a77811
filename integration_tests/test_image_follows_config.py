"""The reranker image is what you configured, walked as a user walks it: one clone, the
default image name, one command after another.

`weaviate-dev restart --reranker` with a BERT model, `down`, the same with an XLM-RoBERTa
model: the second restart says why it rebuilds, `/meta` is XLM-RoBERTa's, the first image is
gone and what that freed is said; a third restart with the same model uses the image as it
is; an edited `reranker/src` file (a copy of the project, WEAVIATE_DEV_ROOT) is rebuilt into
the image and its edit is in the running server's log. The default tag is the user's own:
an image of that name from before the test is put back afterwards.
"""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from integration_tests.conftest import busy_ports, leftovers, weaviate_dev_cli
from weaviate_dev.core.settings import DEFAULT_RERANKER_IMAGE
from weaviate_dev.services.docker import engine, local_images

pytestmark = pytest.mark.docker

RERANKER = "http://127.0.0.1:8009"
KEPT = DEFAULT_RERANKER_IMAGE.rsplit(":", 1)[0] + ":kept-during-tests"


@pytest.fixture
def default_tag():
    """The default tag, free for the test; the user's own image of that name put back after."""
    client = engine.client()
    before = local_images.image_id(DEFAULT_RERANKER_IMAGE)
    if before:
        client.images.get(before).tag(*local_images.split_tag(KEPT))
        client.images.remove(DEFAULT_RERANKER_IMAGE)
    try:
        yield DEFAULT_RERANKER_IMAGE
    finally:
        if local_images.image_present(DEFAULT_RERANKER_IMAGE):
            client.images.remove(DEFAULT_RERANKER_IMAGE, force=True)
        if before:
            client.images.get(KEPT).tag(*local_images.split_tag(DEFAULT_RERANKER_IMAGE))
            client.images.remove(KEPT)


@pytest.fixture
def user_env(tmp_path):
    busy = busy_ports([8009])
    assert not busy, busy
    assert leftovers("weaviate-dev") == [], "the default compose project is in use"
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg-data"))
    for key in ("WEAVIATE_DEV_RERANKER_IMAGE", "WEAVIATE_DEV_RERANKER_ENGINE",
                "WEAVIATE_DEV_BIND_ADDRESS", "WEAVIATE_DEV_MODEL_NAME"):
        env.pop(key, None)
    yield env
    weaviate_dev_cli("down", env=env, cwd=tmp_path)
    assert leftovers("weaviate-dev") == []


def restart(env, cwd, **variables) -> str:
    result = weaviate_dev_cli("restart", "--reranker", "--workspace", str(cwd),
                              env={**env, **variables}, cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stderr


def model_type() -> str:
    return requests.get(f"{RERANKER}/meta", timeout=10).json()["model"]["model_type"]


def reranker_logs() -> str:
    [container] = engine.client().containers.list(
        filters={"label": "com.docker.compose.project=weaviate-dev"})
    return container.logs().decode(errors="replace")


def test_a_changed_model_or_source_is_rebuilt_into_the_image(default_tag, user_env, tmp_path):
    from reranker.testing import make_tiny_cross_encoder

    bert = make_tiny_cross_encoder(tmp_path / "bert")
    xlmr = make_tiny_cross_encoder(tmp_path / "xlmr", family="xlm-roberta")
    first = restart(user_env, tmp_path, WEAVIATE_DEV_MODEL_DIR=str(bert))
    assert f"reranker image: {default_tag}: not found: building it" in first, first[-3000:]
    assert model_type() == "bert"
    assert f"reranker-transformers serves directory {bert} (sha256 " in first
    bert_image = local_images.image_id(default_tag)
    weaviate_dev_cli("down", env=user_env, cwd=tmp_path)

    second = restart(user_env, tmp_path, WEAVIATE_DEV_MODEL_DIR=str(xlmr))
    assert f"reranker image: {default_tag}: rebuilding: model directory {bert} (sha256 " \
        in second, second[-3000:]
    assert f"-> directory {xlmr} (sha256 " in second and "MB freed" in second
    assert model_type() == "xlm-roberta"
    assert local_images.image_id(bert_image) is None, "the replaced image is left behind"

    third = restart(user_env, tmp_path, WEAVIATE_DEV_MODEL_DIR=str(xlmr))
    assert f"reranker image: {default_tag}: current: model directory {xlmr}" in third
    assert "building" not in third and model_type() == "xlm-roberta"

    from weaviate_dev.core import tree

    project = tmp_path / "project"  # a clone whose reranker/src a `git pull` changed
    for part in ("reranker", "compose"):
        shutil.copytree(tree.project_root() / part, project / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tests"))
    loader = project / "reranker" / "src" / "reranker" / "loader.py"
    loader.write_text(loader.read_text().replace('"serving %s: engine',
                                                 '"(pulled) serving %s: engine'))
    fourth = restart(user_env, tmp_path, WEAVIATE_DEV_MODEL_DIR=str(xlmr),
                     WEAVIATE_DEV_ROOT=str(project))
    assert f"reranker image: {default_tag}: rebuilding: the reranker's source" in fourth, \
        fourth[-3000:]
    assert f"(pulled) serving directory {xlmr} (sha256 " in reranker_logs()


def test_a_hub_model_once_built_restarts_without_the_hub(default_tag, user_env, tmp_path):
    """A fake hub serves a model; `restart --reranker` builds it; `down`; the hub stops; the
    same restart is ready again, with one line naming the commit remembered for `main`."""
    from reranker.testing import make_tiny_cross_encoder
    from reranker.testing.fake_hub import FakeHub

    model = make_tiny_cross_encoder(tmp_path / "tiny")
    env = {**user_env, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HF_HOME": str(tmp_path / "hf-home"), "WEAVIATE_DEV_MODEL_NAME": "org/tiny"}
    for key in ("WEAVIATE_DEV_MODEL_DIR", "WEAVIATE_DEV_MODEL_REVISION", "HF_HUB_OFFLINE",
                "HF_TOKEN", "HF_HUB_CACHE"):
        env.pop(key, None)
    with FakeHub({"org/tiny": model}) as hub:
        commit = hub.commit("org/tiny")
        first = restart(env, tmp_path, HF_ENDPOINT=hub.url)
        assert f"reranker model: org/tiny@{commit}" in first, first[-3000:]
        assert f"downloading org/tiny@{commit} (" in first
        assert (tmp_path / "hf-home" / "hub" / "models--org--tiny" / "snapshots" / commit
                / "config.json").is_file()
    weaviate_dev_cli("down", env=env, cwd=tmp_path)

    second = restart(env, tmp_path, HF_ENDPOINT=hub.url)  # nothing listens there now
    [line] = [line for line in second.splitlines() if "could not be reached" in line]
    assert f"the hub {hub.url} could not be reached (Connection refused): using " \
           f"org/tiny@{commit}, the commit main pointed to when the hub was last reached" in line
    assert f"reranker image: {default_tag}: current: model org/tiny@{commit}" in second
    assert "building" not in second and "downloading" not in second
    assert f"serving org/tiny@{commit}: engine openvino" in reranker_logs()
