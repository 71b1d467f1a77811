"""Overload through Flask's test client: 503 with Retry-After, the queue's bound and deadline,
what /metrics counts, and the bytes in flight given back after every answer."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reranker.app import create_app
from reranker.settings import Settings
from test_admission import waiting


class HeldEngine:
    """Scores a document as its length; the first request is held until `release` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.seen: list[str] = []

    def score(self, query, documents, *, deadline=None, watch=None):
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(10)
        self.seen.append(query)
        return [float(len(d)) for d in documents]

    def meta(self):
        return {}


def post(app, data: bytes):
    """POST /rerank, the answer read to its end and closed, as a WSGI server does (the
    request holds its place until then)."""
    return app.test_client().post("/rerank", data=data, buffered=True)


def body(query: str = "q", documents=("a", "bb")) -> bytes:
    return json.dumps({"query": query, "documents": list(documents)}).encode()


def settings_of(tiny_model_dir, **limits) -> Settings:
    return Settings(model_dir=tiny_model_dir, max_documents=100, max_body_bytes=64 * 1024,
                    **limits)


class Held:
    """A request posted in a thread and held by the engine; `.response` once answered."""

    def __init__(self, app, engine: HeldEngine, data: bytes) -> None:
        self.response = None
        self._thread = threading.Thread(target=self._post, args=(app, data))
        self._thread.start()
        assert engine.entered.wait(10), "the held request never reached the engine"

    def _post(self, app, data) -> None:
        self.response = post(app, data)

    def join(self):
        self._thread.join(10)
        return self.response


def gauge(app, name: str, **labels) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_a_full_queue_answers_503_at_once_with_retry_after_and_json(tiny_model_dir):
    engine = HeldEngine()
    app = create_app(settings_of(tiny_model_dir, max_inflight_bytes=1, max_queued=0),
                     engine=engine)
    held = Held(app, engine, body("first"))
    response = post(app, body("second"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    error = response.get_json()["error"]
    assert "overloaded" in error and "MAX_QUEUED" in error
    assert held.response is None  # answered while the first was still being scored
    engine.release.set()
    assert held.join().status_code == 200
    assert engine.seen == ["first"]
    assert post(app, body("third")).status_code == 200


def test_a_request_waits_at_most_the_queue_timeout(tiny_model_dir):
    engine = HeldEngine()
    app = create_app(settings_of(tiny_model_dir, max_inflight_bytes=1, max_queued=4,
                                 queue_timeout=0.1), engine=engine)
    held = Held(app, engine, body("first"))
    response = post(app, body("second"))
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert "not admitted within 0.1 s (QUEUE_TIMEOUT)" in response.get_json()["error"]
    engine.release.set()
    assert held.join().status_code == 200
    assert engine.seen == ["first"]


def test_a_waiting_request_is_admitted_when_the_bytes_are_given_back(tiny_model_dir):
    engine = HeldEngine()
    app = create_app(settings_of(tiny_model_dir, max_inflight_bytes=1, max_queued=4,
                                 queue_timeout=10), engine=engine)
    admission = app.extensions["reranker.admission"]
    held = Held(app, engine, body("first"))
    second = threading.Thread(target=lambda: results.append(
        post(app, body("second"))))
    results: list = []
    second.start()
    waiting(admission, 1)
    engine.release.set()
    assert held.join().status_code == 200
    second.join(10)
    assert results[0].status_code == 200 and engine.seen == ["first", "second"]


def test_a_body_over_the_limit_is_413_not_queued(tiny_model_dir):
    engine = HeldEngine()
    settings = settings_of(tiny_model_dir, max_inflight_bytes=1, max_queued=0)
    app = create_app(settings, engine=engine)
    held = Held(app, engine, body("first"))
    huge = b'{"query": "q", "documents": ["' + b"x" * settings.max_body_bytes + b'"]}'
    response = post(app, huge)
    assert response.status_code == 413 and "MAX_BODY_BYTES" in response.get_json()["error"]
    engine.release.set()
    held.join()


def test_every_answer_gives_its_bytes_back(tiny_model_dir):
    class Failing(HeldEngine):
        def score(self, query, documents, *, deadline=None, watch=None):
            if query == "boom":
                raise RuntimeError("model exploded")
            return [0.0] * len(documents)

    app = create_app(settings_of(tiny_model_dir), engine=Failing())
    admission = app.extensions["reranker.admission"]
    assert post(app, body()).status_code == 200
    assert post(app, b"{nope").status_code == 400
    assert post(app, body("boom")).status_code == 500
    assert post(app, json.dumps({"query": "q", "property": "p"}).encode()).status_code == 200
    assert (admission.in_flight, admission.bytes_in_flight, admission.queued) == (0, 0, 0)


def test_a_request_holds_its_bytes_until_its_answer_is_written(tiny_model_dir):
    engine = HeldEngine()
    engine.entered.set()  # nothing held
    app = create_app(settings_of(tiny_model_dir), engine=engine)
    admission = app.extensions["reranker.admission"]
    data = body()
    response = app.test_client().post("/rerank", data=data)  # not yet written out
    assert response.status_code == 200
    assert (admission.in_flight, admission.bytes_in_flight) == (1, len(data))
    response.close()  # what the WSGI server does once the answer is sent
    assert (admission.in_flight, admission.bytes_in_flight) == (0, 0)


def test_overload_is_counted_in_metrics(tiny_model_dir):
    engine = HeldEngine()
    app = create_app(settings_of(tiny_model_dir, max_inflight_bytes=1, max_queued=1,
                                 queue_timeout=1.0), engine=engine)
    rejected = "reranker_requests_rejected_total"
    before = {reason: gauge(app, rejected, reason=reason) for reason in ("queue_full", "timeout")}
    first = body("first")
    held = Held(app, engine, first)
    assert gauge(app, "reranker_requests_in_flight") == 1
    assert gauge(app, "reranker_bytes_in_flight") == len(first)
    waiter: list = []
    thread = threading.Thread(target=lambda: waiter.append(
        post(app, body("second"))))
    thread.start()
    waiting(app.extensions["reranker.admission"], 1)
    assert gauge(app, "reranker_requests_queued") == 1
    assert post(app, body("third")).status_code == 503  # full
    thread.join(10)
    assert waiter[0].status_code == 503  # waited its second
    engine.release.set()
    held.join()
    assert gauge(app, rejected, reason="queue_full") == before["queue_full"] + 1
    assert gauge(app, rejected, reason="timeout") == before["timeout"] + 1
    for name in ("reranker_requests_in_flight", "reranker_bytes_in_flight",
                 "reranker_requests_queued"):
        assert gauge(app, name) == 0, name
    status = gauge(app, "reranker_requests_total", endpoint="/rerank", status="503")
    assert status >= 2


def test_the_model_wait_has_the_same_deadline(tiny_model_dir, tmp_path):
    """Admitted, but the model is busy with another query: 503 at the deadline, and the
    request is never scored."""
    from test_engine_base import IDENTITY, LengthEngine, model_dir

    class HeldLengthEngine(LengthEngine):
        def _load(self, settings):
            super()._load(settings)
            self.entered, self.release = threading.Event(), threading.Event()

        def _forward(self, documents):
            self.entered.set()
            assert self.release.wait(10)
            return super()._forward(documents)

    engine = HeldLengthEngine(Settings(model_dir=model_dir(tmp_path, **IDENTITY)))
    app = create_app(settings_of(tiny_model_dir, queue_timeout=0.2), engine=engine)
    first: list = []
    thread = threading.Thread(target=lambda: first.append(
        post(app, body("first", ["xxx"]))))
    thread.start()
    assert engine.entered.wait(10)
    response = post(app, body("second", ["yyyyy"]))
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert "did not start on it within QUEUE_TIMEOUT" in response.get_json()["error"]
    engine.release.set()
    thread.join(10)
    assert first[0].get_json()["scores"][0]["score"] == 3.0
    assert engine.batches == [[3]]  # the second request's pair never reached the model
    admission = app.extensions["reranker.admission"]
    assert (admission.in_flight, admission.bytes_in_flight) == (0, 0)


@pytest.mark.parametrize("field, value", [("max_inflight_bytes", 5), ("max_queued", 0),
                                          ("queue_timeout", 0.5)])
def test_the_limits_come_from_the_settings(tiny_model_dir, field, value):
    app = create_app(dataclasses.replace(settings_of(tiny_model_dir), **{field: value}),
                     engine=HeldEngine())
    admission = app.extensions["reranker.admission"]
    names = {"max_inflight_bytes": "max_bytes", "max_queued": "max_queued",
             "queue_timeout": "timeout"}
    assert getattr(admission, names[field]) == value


def test_a_request_past_its_request_timeout_is_dropped_counted_and_logged_once(
        tiny_model_dir, caplog):
    """The engine scores until the request is dropped (as a coalescing engine between
    passes); the answer is 503 JSON, /metrics counts it by reason, the log says it once."""
    import logging

    class UntilDropped:
        def score(self, query, documents, *, deadline=None, watch=None):
            assert watch is not None and watch.deadline is not None
            watch.dropped.result(timeout=10)
            raise watch.error()

        def meta(self):
            return {}

    app = create_app(settings_of(tiny_model_dir, request_timeout=0.05), engine=UntilDropped())
    admission = app.extensions["reranker.admission"]
    counted = {reason: gauge(app, "reranker_requests_dropped_total", reason=reason)
               for reason in ("deadline", "client_gone")}
    with caplog.at_level(logging.INFO, logger="reranker.app"):
        response = post(app, body("late"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == (
        "request dropped: not answered within REQUEST_TIMEOUT (0.05 s); the rest of its "
        "documents were not scored")
    assert gauge(app, "reranker_requests_dropped_total", reason="deadline") == \
        counted["deadline"] + 1
    assert gauge(app, "reranker_requests_dropped_total", reason="client_gone") == \
        counted["client_gone"]
    lines = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(lines) == 1 and "not answered within REQUEST_TIMEOUT" in lines[0]
    assert (admission.in_flight, admission.bytes_in_flight) == (0, 0)
