"""The images, built with the tiny model, probed over HTTP on 127.0.0.1.

The default image is the toolkit's session fixture `weaviate_dev_reranker_image`
(weaviate_dev.testing.pytest_plugin; the root conftest gives it the tiny model): reranker/ built
through `reranker_image.ensure` with the model of `weaviate_dev_reranker_model_dir` and the
default engine (openvino), on the configured base image (or its local Debian stand-in), or
reused when its labels say it holds exactly that. The model is exported to ONNX here, where
torch is, so neither that build nor the `onnx` one downloads torch; the `torch` image (the
CrossEncoder reference) carries it. Containers are always removed. Scores are compared with
the CrossEncoder's: exactly (1e-4) by containers started in fp32 (`REDUCED_PRECISION=off`),
and by the stated reduced-precision bar where the image is left to choose its precision.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
import requests
from image_helpers import (FP32, RANKING_QUERIES, assert_exact, assert_ranks_alike,
                           bridge_gateway, contains, engine_image, host_url, ranking_documents,
                           rerank_each, running, wait_ready)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image_reference(weaviate_dev_reranker_model_dir):
    """CrossEncoder on exactly the model directory baked into the image."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(weaviate_dev_reranker_model_dir))


@pytest.fixture
def container(weaviate_dev_reranker_image: str, weaviate_dev_docker):
    with running(weaviate_dev_reranker_image, weaviate_dev_docker,
                 environment=FP32) as container:
        yield container


def test_image_serves_the_protocol(container, image_reference):
    from weaviate_dev.core.waiting import http_probe, wait_until

    started = time.monotonic()
    url = host_url(container)
    took = wait_until(http_probe(f"{url}/.well-known/ready", expect=lambda s: s == 204),
                      what="reranker container ready", timeout=180,
                      logs=lambda: container.logs(tail=50).decode(errors="replace"))
    print(f"container start -> ready: {time.monotonic() - started:.1f} s (probing {took:.1f} s)")

    assert requests.get(f"{url}/.well-known/live", timeout=5).status_code == 204
    meta = requests.get(f"{url}/meta", timeout=5)
    assert meta.status_code == 200
    assert meta.json()["model"]["sbert_ce_default_activation_function"] \
        == "torch.nn.modules.linear.Identity"

    docs = ["frank herbert wrote dune", "", "東京 🎉", "cats", "paris", "dune " * 300,
            "the author of dune is frank herbert", "dogs"]
    body = json.dumps({"query": "who wrote dune", "documents": docs, "property": ""}).encode()
    response = requests.post(f"{url}/rerank", data=body, timeout=30)  # no Content-Type
    assert response.status_code == 200, response.text
    scores = [s["score"] for s in response.json()["scores"]]
    assert_exact(scores, image_reference.predict([["who wrote dune", d] for d in docs]))
    logs = container.logs().decode(errors="replace")
    assert "openvino engine" in logs, logs[-2000:]  # the default engine
    for absent in ("torch", "onnxruntime"):  # only what the engine needs
        code, output = container.exec_run(["python", "-c", f"import {absent}"])
        assert code != 0 and f"No module named '{absent}'".encode() in output
    bad = requests.post(f"{url}/rerank", data=b'{"query": 1}', timeout=10)
    assert bad.status_code == 400 and "error" in bad.json()

    # Runs as the non-root user; the HEALTHCHECK probe reports healthy.
    exit_code, output = container.exec_run(["id", "-u"])
    assert (exit_code, output.strip()) == (0, b"10001")
    # Nothing of the build is left (the CA bundle, the locked files).
    assert container.exec_run(["test", "-e", "/build"]).exit_code == 1
    exit_code, output = container.exec_run(["python", "-m", "reranker.healthcheck"])
    assert exit_code == 0, output

    def healthy() -> str | None:
        container.reload()
        status = container.attrs["State"]["Health"]["Status"]
        return None if status == "healthy" else f"health status {status}"

    wait_until(healthy, what="docker HEALTHCHECK healthy", timeout=60, interval=1,
               logs=lambda: json.dumps(container.attrs["State"].get("Health"), indent=1))


def test_the_default_image_left_to_choose_its_precision_ranks_like_the_crossencoder(
        weaviate_dev_reranker_image, weaviate_dev_docker, image_reference):
    """REDUCED_PRECISION at its default: whatever the image computes in (bf16 where the CPU
    has it and the check keeps it), its ranking meets the reduced-precision bar."""
    docs = ranking_documents()
    with running(weaviate_dev_reranker_image, weaviate_dev_docker) as container:
        scores = rerank_each(wait_ready(container), RANKING_QUERIES, docs)
    assert_ranks_alike(scores, [image_reference.predict([[q, d] for d in docs])
                                for q in RANKING_QUERIES])


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_the_other_engines_images_score_like_the_crossencoder(engine, weaviate_dev_settings,
                                                              weaviate_dev_docker, image_reference,
                                                              weaviate_dev_reranker_model_dir,
                                                              weaviate_dev_reranker_image_tag):
    image = engine_image(weaviate_dev_settings, engine, weaviate_dev_reranker_image_tag,
                         weaviate_dev_reranker_model_dir)
    size = weaviate_dev_docker.images.get(image).attrs["Size"]
    print(f"{image}: {size / 1e6:.0f} MB")
    with running(image, weaviate_dev_docker) as container:
        url = wait_ready(container)
        docs = ["frank herbert wrote dune", "", "東京 🎉", "cats", "dune " * 300]
        body = json.dumps({"query": "who wrote dune", "documents": docs}).encode()
        response = requests.post(f"{url}/rerank", data=body, timeout=30)
        assert response.status_code == 200, response.text
        scores = [s["score"] for s in response.json()["scores"]]
        np.testing.assert_allclose(
            scores, image_reference.predict([["who wrote dune", d] for d in docs]),
            atol=1e-4 if engine == "onnx" else 1e-5)
        listing = container.exec_run(["sh", "-c", "ls -R /app/models/model"]).output
        if engine == "onnx":  # the export instead of the weights; no torch
            assert "onnx engine" in container.logs().decode(errors="replace")
            code, output = container.exec_run(["python", "-c", "import torch"])
            assert code != 0 and b"No module named 'torch'" in output
            assert b"model.onnx" in listing and b"safetensors" not in listing
        else:  # the reference: the CrossEncoder on the torch weights
            code, output = container.exec_run(["python", "-c", "import sentence_transformers"])
            assert code == 0, output
            assert b"safetensors" in listing and b"model.onnx" not in listing


def test_a_repositorys_export_without_token_type_ids_serves_also_from_a_read_only_mount(
        weaviate_dev_settings, weaviate_dev_docker, weaviate_dev_reranker_image,
        weaviate_dev_reranker_image_tag, tmp_path):
    """What the image build gets from a hub repository that publishes its own ONNX export
    (XLM-RoBERTa's: input_ids and attention_mask only, no weights beside it) becomes an image
    of the default engine that scores like the CrossEncoder; and the default image serves
    such a model directory from a read-only volume (`:ro`), writing nothing into it."""
    import os
    import shutil

    from sentence_transformers import CrossEncoder

    from reranker.engines.onnx_graph import export_fp32
    from reranker.testing import make_tiny_cross_encoder
    from weaviate_dev.testing import sweep

    xlmr = make_tiny_cross_encoder(tmp_path / "xlmr", family="xlm-roberta")
    # Readable by the image's user (10001): pytest's own tmp_path is root's alone.
    hub = sweep.mkdtemp("hub-model") / "model"
    try:
        shutil.copytree(xlmr, hub, ignore=shutil.ignore_patterns("*.safetensors"))
        export_fp32(xlmr, hub / "onnx", first_token=False)
        for path in [hub.parent, *hub.rglob("*"), hub]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        docs = ["Frank Herbert a écrit Dune.", "", "東京は日本の首都です。", "cats " * 40,
                "Dune is a novel about a desert planet."]
        expected = CrossEncoder(str(xlmr)).predict([["qui a écrit dune", d] for d in docs])
        image = engine_image(weaviate_dev_settings, "openvino",
                             weaviate_dev_reranker_image_tag + "-xlmr", hub)
        mounts = {str(hub): {"bind": "/app/models/model", "mode": "ro"}}
        for run_image, volumes in ((image, None), (weaviate_dev_reranker_image, mounts)):
            with running(run_image, weaviate_dev_docker, volumes,
                         environment=FP32) as container:
                url = wait_ready(container)
                body = json.dumps({"query": "qui a écrit dune", "documents": docs}).encode()
                response = requests.post(f"{url}/rerank", data=body, timeout=30)
                assert response.status_code == 200, response.text
                scores = [s["score"] for s in response.json()["scores"]]
                assert all(0 < s < 1 for s in scores)  # sigmoid: no activation configured
                assert_exact(scores, expected)
                logs = container.logs().decode(errors="replace")
                assert "inputs input_ids, attention_mask" in logs or \
                    "the model repository's own" in logs, logs[-2000:]
        assert sorted(p.name for p in (hub / "onnx").iterdir()) == ["model.onnx"]  # untouched
    finally:
        shutil.rmtree(hub.parent, ignore_errors=True)


def hub_repository(tmp_path, family: str, monkeypatch):
    """A tiny model of `family` as a hub repository holds it: torch weights and its own ONNX
    export (XLM-RoBERTa's without token_type_ids, its weights in onnx/model.onnx_data, as a
    model over 2 GB keeps them); and the model itself, for the reference scores."""
    import shutil

    from reranker.engines import onnx_graph
    from reranker.testing import make_tiny_cross_encoder

    model = make_tiny_cross_encoder(tmp_path / "model", family=family)
    repository = tmp_path / "repository"
    shutil.copytree(model, repository)
    if family == "xlm-roberta":
        monkeypatch.setattr(onnx_graph, "EXTERNAL_DATA_BYTES", 0)
    onnx_graph.export_fp32(model, repository / "onnx", first_token=False)
    if family == "xlm-roberta":
        assert (repository / "onnx" / "model.onnx_data").is_file()
    return model, repository


@pytest.mark.parametrize("family", ["bert", "xlm-roberta"])
def test_an_image_from_the_hub_is_pinned_to_a_commit_and_takes_the_repositorys_own_export(
        family, weaviate_dev_settings, weaviate_dev_docker, weaviate_dev_reranker_image_tag,
        tmp_path, monkeypatch):
    """WEAVIATE_DEV_MODEL_NAME=<a repository> through a hub (here a fake one serving tiny
    models of the official matrix's two architectures; XLM-RoBERTa's gated, reached with
    HF_TOKEN): resolved to its commit first, then config, tokenizer and the repository's own
    onnx/model.onnx downloaded from that commit — never the torch weights; the image's label
    and the server's start line carry the commit, the token is in no layer, no history entry
    and no build argument; the image scores like the CrossEncoder."""
    from sentence_transformers import CrossEncoder

    from reranker.testing.fake_hub import FakeHub
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.reranker_image import model as image_model

    model, repository = hub_repository(tmp_path, family, monkeypatch)
    token = f"hf_secret_{family.replace('-', '_')}_token" if family == "xlm-roberta" else None
    settings = dataclasses.replace(
        weaviate_dev_settings, model_name=f"org/{family}", model_dir=None,
        reranker_engine="openvino", hf_token=token, cache_dir=tmp_path / "cache",
        hf_hub_cache=tmp_path / "hf-hub")  # the caches: this test's own
    tag = f"{weaviate_dev_reranker_image_tag}-hub-{family}"
    with FakeHub({f"org/{family}": repository},
                 gated={f"org/{family}": token} if token else None) as hub:
        settings = dataclasses.replace(settings, hf_endpoint=hub.url)
        commit = hub.commit(f"org/{family}")
        if token:
            from huggingface_hub import constants

            monkeypatch.delenv("HF_TOKEN", raising=False)  # nor the developer's own login
            monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-login"))
            with pytest.raises(image_model.DevError, match="set HF_TOKEN"):
                image_model.resolve(dataclasses.replace(settings, hf_token=None))
        assert image_model.resolve(settings).describe() == f"org/{family}@{commit}"
        image = reranker_image.ensure(settings, tag=tag)
    fetched = {path.split(f"/resolve/{commit}/")[1] for method, path, _ in hub.log
               if method == "GET" and f"/resolve/{commit}/" in path}
    assert not any("/resolve/main/" in path for _, path, _ in hub.log)
    assert "onnx/model.onnx" in fetched and "model.safetensors" not in fetched
    labels = weaviate_dev_docker.images.get(image).labels
    assert labels["weaviate-dev.reranker.model"] == f"org/{family}@{commit}"
    docs = ["frank herbert wrote dune", "", "Qui a écrit Dune ?", "cats " * 40]
    expected = CrossEncoder(str(model)).predict([["who wrote dune", d] for d in docs])
    try:
        with running(image, weaviate_dev_docker, environment=FP32) as container:
            url = wait_ready(container)
            body = json.dumps({"query": "who wrote dune", "documents": docs}).encode()
            response = requests.post(f"{url}/rerank", data=body, timeout=30)
            assert response.status_code == 200, response.text
            assert_exact([s["score"] for s in response.json()["scores"]], expected)
            assert f"serving org/{family}@{commit}: engine openvino" in \
                container.logs().decode(errors="replace")
            listing = container.exec_run(["sh", "-c", "ls -R /app/models/model"]).output
            assert b"model.onnx" in listing and b"safetensors" not in listing
            assert (b"model.onnx_data" in listing) is (family == "xlm-roberta")
        if token:
            needle = token.encode()
            history = json.dumps(weaviate_dev_docker.api.history(image)).encode()
            inspect = json.dumps(weaviate_dev_docker.api.inspect_image(image)).encode()
            assert needle not in history and needle not in inspect
            assert not contains(weaviate_dev_docker.images.get(image).save(), needle)
            assert any(auth == f"Bearer {token}" for auth in hub.authorizations)
    finally:
        weaviate_dev_docker.images.remove(image, force=True)


def test_the_dockerfile_alone_downloads_the_revision_it_is_given(
        weaviate_dev_settings, weaviate_dev_docker, weaviate_dev_reranker_image_tag, tmp_path,
        monkeypatch):
    """`docker build --build-arg MODEL_NAME=... --build-arg MODEL_REVISION=<commit>` (plain
    docker or compose, no toolkit): the build downloads that commit's files even after main
    moved on, and the image names the commit. The fake hub listens on the Docker bridge, where
    a build's RUN reaches the host."""
    import shutil

    from reranker.testing.fake_hub import FakeHub
    from weaviate_dev.services import images
    from weaviate_dev.services.docker import builds, local_images
    from weaviate_dev.services.reranker_image import build as image_build
    from weaviate_dev.services.reranker_image import context as image_context

    model, repository = hub_repository(tmp_path, "bert", monkeypatch)
    moved = tmp_path / "moved"
    shutil.copytree(repository, moved)
    (moved / "tokenizer_config.json").write_text("{broken")
    settings = dataclasses.replace(weaviate_dev_settings, reranker_engine="openvino")
    tag = f"{weaviate_dev_reranker_image_tag}-dockerfile-revision"
    with FakeHub({"org/bert": repository}, host=bridge_gateway(weaviate_dev_docker)) as hub:
        commit = hub.commit("org/bert")
        hub.push("org/bert", moved)
        context = tmp_path / "context.tar"
        args = image_context.write(context, settings)
        args.update(BASE_IMAGE=images.ensure_base_image(settings), ENGINE="openvino",
                    MODEL_NAME="org/bert", MODEL_REVISION=commit, HF_ENDPOINT=hub.url)
        with context.open("rb") as stream:
            built = builds.build(stream, tag=tag, buildargs=args)
    try:
        with running(built.tag, weaviate_dev_docker) as container:
            wait_ready(container)
            assert f"serving org/bert@{commit}: engine openvino" in \
                container.logs().decode(errors="replace")
    finally:
        weaviate_dev_docker.images.remove(built.tag, force=True)
        local_images.remove_unused(image_build.leftover_stages(list(built.stages)))
