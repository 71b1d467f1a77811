"""`make dev`'s path with bge-reranker-v2-m3's architecture: a real Weaviate reranks through it.

`weaviate-dev dev` (what `make dev` runs) with WEAVIATE_DEV_MODEL_DIR set to a tiny
XLM-RoBERTa cross-encoder (SentencePiece tokenizer, no token_type_ids, 8,192 tokens, no
activation configured: CrossEncoder's sigmoid) builds our reranker image with the default
engine from it, starts it (in fp32: WEAVIATE_DEV_RERANKER_REDUCED_PRECISION=off) and a
Weaviate reranking through it. A GraphQL `_additional { rerank }` query answers CrossEncoder's
scores (within 1e-4), in 0..1; the model directory is left as it was;
Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import uuid

import numpy as np
import pytest
import requests

from integration_tests.conftest import (Cli, book_vector, dev_environment, graphql, leftovers,
                                        port_is_free)
from weaviate_dev.services.docker import engine, local_images

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

COLLECTION = "MultilingualBook"
QUERY = "Qui a écrit Dune ?"
PASSAGES = ["Frank Herbert a écrit Dune, un roman de science-fiction.",
            "Dune is a novel about a desert planet and its spice.",
            "Berlin ist die Hauptstadt Deutschlands.",
            "東京は日本の首都です。",
            "Madrid es la capital de España.",
            "Cats and dogs are good friends.",
            "Кто написал роман «Дюна»? Фрэнк Герберт."]
PORTS = (8009, 8080, 50051, 7946, 8300)


def snapshot(directory):
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def xlmr_model(tmp_path):
    from reranker.testing import make_tiny_cross_encoder

    return make_tiny_cross_encoder(tmp_path / "xlmr", family="xlm-roberta")


@pytest.fixture
def dev_env(weaviate_dev_settings, tmp_path, xlmr_model):
    tag = f"weaviate-dev/reranker-transformers:test-xlmr-{uuid.uuid4().hex[:8]}"
    # fp32: the check below is exact, whatever this CPU could compute in
    yield dev_environment(weaviate_dev_settings, tmp_path, PORTS,
                          WEAVIATE_DEV_MODEL_DIR=str(xlmr_model),
                          WEAVIATE_DEV_RERANKER_IMAGE=tag,
                          WEAVIATE_DEV_RERANKER_REDUCED_PRECISION="off")
    if local_images.image_present(tag):
        engine.client().images.remove(tag, force=True)


def create_collection(url: str) -> None:
    schema = {"class": COLLECTION, "vectorizer": "none",
              "moduleConfig": {"reranker-transformers": {}},
              "properties": [{"name": "text", "dataType": ["text"]}]}
    response = requests.post(f"{url}/v1/schema", json=schema, timeout=30)
    assert response.status_code == 200, response.text
    objects = [{"class": COLLECTION, "properties": {"text": text}, "vector": book_vector(i)}
               for i, text in enumerate(PASSAGES)]
    response = requests.post(f"{url}/v1/batch/objects", json={"objects": objects}, timeout=60)
    assert response.status_code == 200 and not any(o.get("result", {}).get("errors")
                                                   for o in response.json()), response.text


def reranked(url: str) -> dict[str, float]:
    query = (f'{{ Get {{ {COLLECTION}(limit: 20) {{ text _additional {{ '
             f'rerank(property: "text", query: "{QUERY}") {{ score }} }} }} }} }}')
    for _ in range(50):  # the schema's GraphQL fields appear shortly after the class
        answer = graphql(url, query)
        if not answer.get("errors"):
            break
    assert not answer.get("errors"), answer
    rows = answer["data"]["Get"][COLLECTION]
    return {row["text"]: row["_additional"]["rerank"][0]["score"] for row in rows}


def test_make_dev_with_an_xlm_roberta_model_reranks_through_weaviate(dev_env, xlmr_model,
                                                                      tmp_path):
    from sentence_transformers import CrossEncoder

    before = snapshot(xlmr_model)
    expected = dict(zip(PASSAGES, CrossEncoder(str(xlmr_model)).predict(
        [[QUERY, text] for text in PASSAGES])))
    (tmp_path / "ws").mkdir()
    cli = Cli("dev", "--workspace", str(tmp_path / "ws"), "--data-dir", str(tmp_path / "data"),
              env=dev_env, cwd=tmp_path)
    try:
        cli.wait_for("Weaviate is ready")
        output = cli.output()
        assert f"reranker model: directory {xlmr_model} (sha256 " in output, output[-3000:]
        logs = engine.client().containers.list(
            filters={"label": "com.docker.compose.project=weaviate-dev"})[0].logs().decode()
        assert "xlm-roberta: the last layer for the first token only; inputs input_ids, " \
               "attention_mask" in logs, logs[-3000:]
        create_collection("http://127.0.0.1:8080")
        scores = reranked("http://127.0.0.1:8080")
        assert set(scores) == set(PASSAGES)
        got = np.array([scores[text] for text in PASSAGES])
        want = np.array([expected[text] for text in PASSAGES], dtype=np.float64)
        assert ((0 < got) & (got < 1)).all()  # sigmoid, as CrossEncoder applies it
        np.testing.assert_allclose(got, want, atol=1e-4)  # CrossEncoder's scores
        assert snapshot(xlmr_model) == before  # the user's model directory is untouched
    finally:
        code = cli.ctrl_c() if cli.proc.poll() is None else cli.proc.returncode
    assert code in (0, 130), cli.output()[-3000:]
    assert leftovers("weaviate-dev") == [], cli.output()[-3000:]
    assert all(port_is_free(port) for port in PORTS)
