"""The installed toolkit runs the main job: a venv holding the wheel alone (no extra, no
checkout), `weaviate-dev dev` in an empty directory outside the repository with a local model:
the reranker image is built from the assets the wheel carries, Weaviate starts, a rerank goes
through GraphQL with the reranker's scores, and Ctrl-C leaves nothing.

The model holds its own ONNX export (as hub repositories publish it), so the image build needs
no torch; the Weaviate binary is the one `weaviate-dev setup` built.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from integration_tests.conftest import busy_ports, dev_environment, leftovers, reranker_scores
from tests.test_packaging import build_wheel, venv_with
from weaviate_dev.services.docker import engine, local_images
from weaviate_dev.testing.cli_process import CliProcess

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

PORTS = (8009, 8080, 50051, 7946, 8300)
WEAVIATE = "http://127.0.0.1:8080"
TAG = "weaviate-dev/reranker-transformers:test-from-wheel"


@pytest.fixture
def exported_model(weaviate_dev_reranker_model_dir, tmp_path) -> Path:
    """The tiny model as a hub repository ships it: config, tokenizer, onnx/model.onnx."""
    from reranker.engines.onnx_graph import export_fp32

    model = tmp_path / "model"
    shutil.copytree(weaviate_dev_reranker_model_dir, model,
                    ignore=shutil.ignore_patterns("*.safetensors", "onnx"))
    export_fp32(weaviate_dev_reranker_model_dir, model / "onnx", first_token=False)
    return model


def test_the_installed_wheel_alone_brings_up_a_reranking_weaviate(
        weaviate_dev_settings, exported_model, tmp_path):
    wheel = build_wheel(tmp_path / "wheel")
    venv = venv_with(wheel, tmp_path / "venv", f"weaviate-dev {wheel[0]}")
    assert not (venv / "bin" / "pytest").exists()  # no test extra
    if local_images.image_present(TAG):
        engine.client().images.remove(TAG, force=True)
    outside = Path(tempfile.mkdtemp(prefix="weaviate-dev-outside-"))  # not below the repo
    env = dev_environment(weaviate_dev_settings, outside, PORTS,
                          WEAVIATE_DEV_MODEL_DIR=str(exported_model),
                          WEAVIATE_DEV_RERANKER_IMAGE=TAG)
    env.pop("WEAVIATE_DEV_ROOT", None)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    cli = CliProcess([str(venv / "bin" / "weaviate-dev"), "dev"], env=env, cwd=outside)
    try:
        cli.wait_for("Weaviate is ready")
        output = cli.output()
        assert f"{venv}/lib/" in output and "site-packages/weaviate_dev/assets" in output, \
            output[-3000:]
        assert f"reranker image: {TAG}: not found: building it" in output
        schema = {"class": "Wheel", "vectorizer": "none",
                  "moduleConfig": {"reranker-transformers": {}},
                  "properties": [{"name": "text", "dataType": ["text"]}]}
        assert requests.post(f"{WEAVIATE}/v1/schema", json=schema, timeout=30).ok
        texts = ["Frank Herbert wrote Dune", "Bread needs flour"]
        for text in texts:
            requests.post(f"{WEAVIATE}/v1/objects", timeout=30, json={
                "class": "Wheel", "properties": {"text": text}, "vector": [1.0, 0.0]}
            ).raise_for_status()
        query = ('{ Get { Wheel { text _additional { rerank(property: "text", '
                 'query: "who wrote dune") { score } } } } }')
        for _ in range(50):
            answer = requests.post(f"{WEAVIATE}/v1/graphql", json={"query": query},
                                   timeout=60).json()
            if not answer.get("errors"):
                break
        got = {r["text"]: r["_additional"]["rerank"][0]["score"]
               for r in answer["data"]["Get"]["Wheel"]}
        want = reranker_scores("http://127.0.0.1:8009", "who wrote dune", sorted(texts))
        assert [got[t] for t in sorted(texts)] == pytest.approx(want, abs=1e-4), answer
    finally:
        code = cli.ctrl_c() if cli.proc.poll() is None else cli.proc.returncode
        shutil.rmtree(outside, ignore_errors=True)
        if local_images.image_present(TAG):
            engine.client().images.remove(TAG, force=True)
    assert code in (0, 130), cli.output()[-3000:]
    assert leftovers("weaviate-dev") == [] and not busy_ports(PORTS)
