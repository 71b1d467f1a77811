"""The HTTP protocol through Flask's test client, on the tiny model and the real engine."""

from __future__ import annotations

import json
import logging
import random
import threading

import numpy as np
import pytest

from reranker.app import create_app
from reranker.engine import register_engine
from reranker.settings import Settings

QUERY = "who wrote dune"
DOCS = ["frank herbert wrote dune", "paris is the capital of france", "cats and dogs",
        "dune is a science fiction novel", "the desert planet", "blue water music"]


def post(client, body, **kwargs):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/rerank", data=data, **kwargs)


def expected(reference, query, documents):
    return reference.predict([[query, d] for d in documents], show_progress_bar=False)


# --- health and meta -------------------------------------------------------------------

def test_live_is_204_empty(client):
    response = client.get("/.well-known/live")
    assert response.status_code == 204
    assert response.data == b""


def test_ready_is_204_when_loaded(client):
    response = client.get("/.well-known/ready")
    assert response.status_code == 204
    assert response.data == b""


def test_meta_is_the_model_config(client, tiny_model_dir):
    response = client.get("/meta")
    assert response.status_code == 200
    model = response.get_json()["model"]
    on_disk = json.loads((tiny_model_dir / "config.json").read_text())
    assert model["architectures"] == ["BertForSequenceClassification"]
    assert model["vocab_size"] == on_disk["vocab_size"]
    assert model["sbert_ce_default_activation_function"] == "torch.nn.modules.linear.Identity"


# --- scoring ---------------------------------------------------------------------------

def test_rerank_shape_and_scores_equal_crossencoder_predict(client, reference):
    response = post(client, {"query": QUERY, "documents": DOCS, "property": ""})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["query", "scores", "property", "score"]
    assert body["query"] == QUERY and body["property"] is None and body["score"] is None
    assert [s["document"] for s in body["scores"]] == DOCS
    got = np.array([s["score"] for s in body["scores"]])
    np.testing.assert_allclose(got, expected(reference, QUERY, DOCS), atol=1e-5, rtol=0)
    assert len(set(np.round(got, 4))) == len(DOCS), "the tiny model should separate these docs"


def test_scores_are_raw_logits_not_sigmoid(client):
    # The identity activation of ms-marco models: scores leave (0, 1) on this model.
    body = post(client, {"query": QUERY, "documents": DOCS}).get_json()
    assert any(not 0.0 < s["score"] < 1.0 for s in body["scores"])


def test_order_follows_the_documents(client):
    first = post(client, {"query": QUERY, "documents": DOCS}).get_json()["scores"]
    by_doc = {s["document"]: s["score"] for s in first}
    shuffled = DOCS[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != DOCS
    second = post(client, {"query": QUERY, "documents": shuffled}).get_json()["scores"]
    assert [s["document"] for s in second] == shuffled
    for item in second:
        assert item["score"] == pytest.approx(by_doc[item["document"]], abs=1e-5)


def test_duplicate_documents_each_get_a_score(client):
    docs = ["same text", "other", "same text"]
    scores = post(client, {"query": QUERY, "documents": docs}).get_json()["scores"]
    assert len(scores) == 3
    assert scores[0]["score"] == pytest.approx(scores[2]["score"], abs=1e-5)


def test_legacy_single_mode(client, reference):
    response = post(client, {"query": QUERY, "property": DOCS[0]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == QUERY and body["scores"] is None and body["property"] == DOCS[0]
    assert body["score"] == pytest.approx(float(expected(reference, QUERY, DOCS[:1])[0]),
                                          abs=1e-5)


def test_null_documents_is_legacy_mode(client):
    body = post(client, {"query": QUERY, "documents": None, "property": "x"}).get_json()
    assert body["scores"] is None and isinstance(body["score"], float)


@pytest.mark.parametrize("headers", [
    {},  # Weaviate sends no Content-Type
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/x-www-form-urlencoded"},
    {"Content-Type": "application/json; charset=utf-8"},
])
def test_body_is_json_whatever_the_content_type(client, headers):
    response = client.post("/rerank", data=json.dumps({"query": "q", "documents": ["d"]}),
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["scores"]) == 1


def test_empty_documents_answer_empty_scores(client):
    response = post(client, {"query": QUERY, "documents": []})
    assert response.status_code == 200
    assert response.get_json() == {"query": QUERY, "scores": [], "property": None,
                                   "score": None}


def test_empty_strings_are_scored(client, reference):
    body = post(client, {"query": "", "documents": ["", "dune"], "property": ""}).get_json()
    got = [s["score"] for s in body["scores"]]
    np.testing.assert_allclose(got, expected(reference, "", ["", "dune"]), atol=1e-5)


def test_over_long_documents_are_truncated_not_rejected(client, reference):
    long_doc = "dune desert planet spice " * 2000  # far beyond 512 tokens
    response = post(client, {"query": QUERY, "documents": [long_doc, "short"]})
    assert response.status_code == 200
    got = [s["score"] for s in response.get_json()["scores"]]
    np.testing.assert_allclose(got, expected(reference, QUERY, [long_doc, "short"]), atol=1e-5)


def test_unicode_round_trips(client, reference):
    docs = ["Ünïcödé façade", "東京タワー", "emoji 🎉🚀", "RTL עברית", "\u0000nul\u2028sep"]
    query = "¿quién escribió Dune? 🤔"
    response = post(client, {"query": query, "documents": docs})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == query
    assert [s["document"] for s in body["scores"]] == docs
    np.testing.assert_allclose([s["score"] for s in body["scores"]],
                               expected(reference, query, docs), atol=1e-5)


def test_utf16_body_is_accepted(client):
    data = json.dumps({"query": "q", "documents": ["d"]}).encode("utf-16")
    assert post(client, data).status_code == 200


def test_request_id_header_on_every_answer(client):
    assert client.get("/.well-known/live").headers["X-Request-Id"]
    assert client.get("/nope").headers["X-Request-Id"]
    assert client.get("/meta", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] \
        == "abc-123"


# --- bad input -------------------------------------------------------------------------

BAD_BODIES = {
    "empty body": (b"", 400, "empty"),
    "not json": (b"query=dune", 400, "not valid JSON"),
    "truncated json": (b'{"query": "q", "documents": ["a"', 400, "not valid JSON"),
    "invalid utf-8": (b'{"query": "\xff\xfe\xfa"}', 400, "not valid JSON"),
    "deeply nested": (b"[" * 30000 + b"]" * 30000, 400, "JSON"),
    "json array": (b'["q", "d"]', 400, "must be a JSON object, got list"),
    "json string": (b'"q"', 400, "must be a JSON object, got str"),
    "json null": (b"null", 400, "must be a JSON object, got null"),
    "query missing": ({"documents": ["a"]}, 400, "'query' is required"),
    "query null": ({"query": None, "documents": ["a"]}, 400, "'query' must be a string, got null"),
    "query number": ({"query": 3, "documents": ["a"]}, 400, "'query' must be a string, got int"),
    "query list": ({"query": ["q"], "documents": ["a"]}, 400, "'query' must be a string"),
    "documents string": ({"query": "q", "documents": "abc"}, 400,
                         "'documents' must be a list of strings, got str"),
    "documents object": ({"query": "q", "documents": {"a": 1}}, 400,
                         "'documents' must be a list of strings, got dict"),
    "null entry": ({"query": "q", "documents": ["a", None]}, 400,
                   "'documents[1]' must be a string, got null"),
    "number entry": ({"query": "q", "documents": [1]}, 400,
                     "'documents[0]' must be a string, got int"),
    "nested list entry": ({"query": "q", "documents": [["a"]]}, 400, "'documents[0]'"),
    "neither documents nor property": ({"query": "q"}, 400, "'documents'"),
    "property not string": ({"query": "q", "property": 5}, 400, "'property' must be a string"),
    "too many documents": ({"query": "q", "documents": ["d"] * 101}, 413,
                           "too many documents: 101 > limit 100"),
    "body too large": (json.dumps({"query": "q", "documents": ["x" * 70000]}), 413,
                       "too large: the limit is 65536 bytes"),
    "body one byte too large": (b" " * (64 * 1024 - 13) + b'{"query": "q"}', 413, "too large"),
}


@pytest.mark.parametrize("body, status, message", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_a_json_4xx_and_the_server_keeps_serving(client, body, status, message):
    response = post(client, body)
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert message in error
    # Still serving afterwards.
    assert post(client, {"query": "q", "documents": ["d"]}).status_code == 200


def test_body_exactly_at_the_limit_is_accepted(client):
    body = b'{"query": "q", "documents": ["d"]}'
    response = post(client, body + b" " * (64 * 1024 - len(body)))
    assert response.status_code == 200


def test_unknown_path_is_404_json(client):
    response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found: GET /no/such/path"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/rerank"), ("PUT", "/rerank"), ("DELETE", "/rerank"),
    ("POST", "/meta"), ("POST", "/.well-known/ready"), ("POST", "/.well-known/live"),
])
def test_wrong_method_is_405_json(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert response.get_json() == {"error": f"method {method} not allowed on {path}"}
    assert "Allow" in response.headers


# --- failures and loading --------------------------------------------------------------

class ExplodingEngine:
    def score(self, query, documents, *, deadline=None, watch=None):
        raise RuntimeError("tensor exploded")

    def meta(self):
        return {}


def test_engine_error_is_500_json_logged_with_request_id(settings, caplog):
    client = create_app(settings, engine=ExplodingEngine()).test_client()
    with caplog.at_level(logging.ERROR, logger="reranker.app"):
        response = post(client, {"query": "q", "documents": ["d"]})
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    error = response.get_json()["error"]
    assert request_id in error and "tensor exploded" in error
    records = [r for r in caplog.records if request_id in r.getMessage()]
    assert records and records[0].exc_info is not None, "the traceback must be logged"
    assert client.get("/.well-known/ready").status_code == 204


class WrongLengthEngine(ExplodingEngine):
    def score(self, query, documents, *, deadline=None, watch=None):
        return [0.0]


def test_engine_returning_wrong_count_is_500_not_a_misaligned_answer(settings):
    client = create_app(settings, engine=WrongLengthEngine()).test_client()
    response = post(client, {"query": "q", "documents": ["a", "b"]})
    assert response.status_code == 500
    assert "1 scores for 2 documents" in response.get_json()["error"]


def test_not_ready_until_the_engine_is_loaded(settings):
    release = threading.Event()

    def slow_factory(_settings):
        assert release.wait(10)
        return WrongLengthEngine()

    register_engine("test-blocking", slow_factory)
    app = create_app(Settings(model_dir=settings.model_dir, engine="test-blocking"))
    client = app.test_client()
    assert client.get("/.well-known/live").status_code == 204
    response = client.get("/.well-known/ready")
    assert response.status_code == 503
    assert response.get_json() == {"error": "model is still loading"}
    assert post(client, {"query": "q", "documents": ["a"]}).status_code == 503
    assert client.get("/meta").status_code == 503
    release.set()
    assert app.extensions["reranker.loader"].wait(10)
    assert client.get("/.well-known/ready").status_code == 204


def test_failed_load_is_reported_and_handed_on(settings):
    failures = []
    done = threading.Event()

    def broken(_settings):
        raise OSError("no weights here")

    def on_failure(exc):
        failures.append(exc)
        done.set()

    register_engine("test-broken", broken)
    app = create_app(Settings(model_dir=settings.model_dir, engine="test-broken"),
                     on_load_failure=on_failure)
    assert done.wait(10)
    assert isinstance(failures[0], OSError)
    response = app.test_client().get("/.well-known/ready")
    assert response.status_code == 503
    assert "failed to load: OSError: no weights here" in response.get_json()["error"]


def test_the_configured_engine_loads_the_model_dir(settings, reference):
    import dataclasses

    # the registered "torch" engine (the reference), loaded in the background
    app = create_app(dataclasses.replace(settings, engine="torch"))
    assert app.extensions["reranker.loader"].wait(60)
    body = post(app.test_client(), {"query": QUERY, "documents": DOCS}).get_json()
    np.testing.assert_allclose([s["score"] for s in body["scores"]],
                               expected(reference, QUERY, DOCS), atol=1e-5)


# --- concurrency -----------------------------------------------------------------------

def test_16_threads_x_32_documents_all_correct(settings, engine, reference):
    app = create_app(settings, engine=engine)
    rng = random.Random(3)
    words = "dune desert spice planet author novel cats water paris music the of".split()
    jobs = []
    for i in range(16):
        docs = [" ".join(rng.choices(words, k=rng.randint(0, 40))) + f" {i} {j}"
                for j in range(32)]
        jobs.append((f"query {i} {rng.choice(words)}", docs))
    results: dict[int, object] = {}
    barrier = threading.Barrier(len(jobs))

    def worker(index: int) -> None:
        query, docs = jobs[index]
        client = app.test_client()
        barrier.wait()
        try:
            response = post(client, {"query": query, "documents": docs, "property": ""})
            results[index] = (response.status_code, response.get_json())
        except Exception as exc:  # noqa: BLE001 - reported below
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == len(jobs)
    for index, (query, docs) in enumerate(jobs):
        status, body = results[index]
        assert status == 200, body
        assert body["query"] == query
        assert [s["document"] for s in body["scores"]] == docs
        np.testing.assert_allclose([s["score"] for s in body["scores"]],
                                   expected(reference, query, docs), atol=1e-5)
