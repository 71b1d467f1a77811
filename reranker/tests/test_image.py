"""The image, built with the tiny model, probed over HTTP on 127.0.0.1.

The image is the toolkit's session fixture `reranker_image` (weaviate_dev.pytest_plugin, enabled
in the root conftest): reranker/ built through `build_reranker_image` with the tiny model of
`reranker_model_dir`, on the configured base image (or its local Debian stand-in). The first
build takes minutes (torch); later ones reuse the layer cache. The container is always removed.
A second image is built with ENGINE=onnx from the model with its ONNX export made here: the
same protocol, no torch inside and none downloaded by its build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image_reference(reranker_model_dir):
    """CrossEncoder on exactly the model directory baked into the image."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(reranker_model_dir))


@contextlib.contextmanager
def running(image: str, docker_engine):
    container = docker_engine.containers.run(
        image, detach=True, name=f"weaviate-dev-reranker-test-{uuid.uuid4().hex[:8]}",
        ports={"8080/tcp": ("127.0.0.1", None)})
    try:
        yield container
    finally:
        container.remove(force=True)


@pytest.fixture
def container(reranker_image: str, docker_engine):
    with running(reranker_image, docker_engine) as container:
        yield container


@pytest.fixture(scope="module")
def onnx_model_dir(reranker_model_dir, tmp_path_factory):
    """The image's model with its ONNX export beside it, made here where torch is installed,
    so that the image build needs no torch (it checks the export is current and keeps it)."""
    import shutil

    from reranker.engines.onnx import onnx_file

    model = tmp_path_factory.mktemp("onnx-image") / "model"
    shutil.copytree(reranker_model_dir, model, ignore=shutil.ignore_patterns("onnx"))
    onnx_file(model, "fp32")
    return model


@pytest.fixture(scope="module")
def onnx_image(weaviate_dev_settings, docker_engine, onnx_model_dir, reranker_image_tag):
    from weaviate_dev import images

    settings = dataclasses.replace(weaviate_dev_settings, reranker_engine="onnx")
    return images.build_reranker_image(settings, tag=f"{reranker_image_tag}-onnx",
                                       model_dir=onnx_model_dir)


def wait_ready(container) -> str:
    from weaviate_dev.waiting import http_probe, wait_until

    url = host_url(container)
    wait_until(http_probe(f"{url}/.well-known/ready", expect=lambda s: s == 204),
               what="reranker container ready", timeout=180,
               logs=lambda: container.logs(tail=50).decode(errors="replace"))
    return url


def host_url(container) -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
    return f"http://127.0.0.1:{binding['HostPort']}"


def test_image_serves_the_protocol(container, image_reference):
    from weaviate_dev.waiting import http_probe, wait_until

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

    docs = ["frank herbert wrote dune", "", "東京 🎉", "cats"]
    body = json.dumps({"query": "who wrote dune", "documents": docs, "property": ""}).encode()
    response = requests.post(f"{url}/rerank", data=body, timeout=30)  # no Content-Type
    assert response.status_code == 200, response.text
    scores = [s["score"] for s in response.json()["scores"]]
    np.testing.assert_allclose(
        scores, image_reference.predict([["who wrote dune", d] for d in docs]), atol=1e-5)
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


def test_onnx_image_scores_like_the_crossencoder_without_torch(onnx_image, docker_engine,
                                                               image_reference):
    size = docker_engine.images.get(onnx_image).attrs["Size"]
    print(f"{onnx_image}: {size / 1e6:.0f} MB")
    with running(onnx_image, docker_engine) as container:
        url = wait_ready(container)
        docs = ["frank herbert wrote dune", "", "東京 🎉", "cats", "dune " * 300]
        body = json.dumps({"query": "who wrote dune", "documents": docs}).encode()
        response = requests.post(f"{url}/rerank", data=body, timeout=30)
        assert response.status_code == 200, response.text
        scores = [s["score"] for s in response.json()["scores"]]
        np.testing.assert_allclose(
            scores, image_reference.predict([["who wrote dune", d] for d in docs]), atol=1e-4)
        assert "onnx engine" in container.logs().decode(errors="replace")
        code, output = container.exec_run(["python", "-c", "import torch"])
        assert code != 0 and b"No module named 'torch'" in output
        code, output = container.exec_run(["sh", "-c", "ls /app/models/model /app/models/model/onnx"])
        assert code == 0 and b"model.onnx" in output and b"safetensors" not in output
