"""GET /metrics: Prometheus' text format, counting what the requests and the model did."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reranker import metrics
from reranker.app import create_app
from reranker.settings import Settings


def samples(client) -> dict[tuple, float]:
    """(sample name, labels...) -> value, from GET /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            values[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return values


def delta(before, after, key) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
def onnx_client(tiny_model_dir):
    from reranker.engine import load_engine

    settings = Settings(model_dir=tiny_model_dir, engine="onnx", max_documents=100)
    return create_app(settings, engine=load_engine(settings)).test_client()


def test_a_rerank_is_counted_from_request_to_tokens(onnx_client):
    before = samples(onnx_client)
    docs = ["frank herbert wrote dune", "cats", "dune " * 600]  # the last is cut at 512
    response = onnx_client.post("/rerank", data=json.dumps({"query": "who wrote dune",
                                                            "documents": docs}))
    assert response.status_code == 200
    after = samples(onnx_client)
    ok = ("reranker_requests_total", ("endpoint", "/rerank"), ("status", "200"))
    assert delta(before, after, ok) == 1
    assert delta(before, after, ("reranker_documents_per_request_sum",)) == 3
    assert delta(before, after, ("reranker_pairs_scored_total",)) == 3
    assert delta(before, after, ("reranker_truncated_pairs_total",)) == 1
    assert delta(before, after, ("reranker_tokens_per_pair_count",)) == 3
    assert delta(before, after, ("reranker_inference_seconds_count",)) == 1
    assert delta(before, after, ("reranker_queue_wait_seconds_count",)) == 1
    assert delta(before, after, ("reranker_batch_pairs_sum",)) == 3  # micro-batches of 4
    assert delta(before, after, ("reranker_request_seconds_count", ("endpoint", "/rerank"))) == 1


def test_errors_and_unknown_paths_are_counted_without_new_series_per_path(onnx_client):
    before = samples(onnx_client)
    assert onnx_client.post("/rerank", data=b"{").status_code == 400
    assert onnx_client.get("/no/such/path-1").status_code == 404
    assert onnx_client.get("/no/such/path-2").status_code == 404
    after = samples(onnx_client)
    bad = ("reranker_requests_total", ("endpoint", "/rerank"), ("status", "400"))
    other = ("reranker_requests_total", ("endpoint", "other"), ("status", "404"))
    assert delta(before, after, bad) == 1 and delta(before, after, other) == 2
    assert not any("path-1" in str(key) for key in after)


def test_the_engine_says_what_it_is(tiny_model_dir):
    from reranker.loader import EngineLoader

    settings = Settings(model_dir=tiny_model_dir, engine="onnx")
    loader = EngineLoader()
    loader.start(settings).join(60)
    assert loader.engine is not None
    values = samples(create_app(settings, engine=loader.engine).test_client())
    info = ("reranker_engine_info", ("engine", "onnx"), ("model", str(tiny_model_dir)),
            ("model_type", "bert"), ("precision", "fp32"))
    assert values[info] == 1


def test_the_start_line_and_engine_info_name_the_model_the_image_says(tiny_model_dir, tmp_path,
                                                                        caplog):
    """MODEL_INFO (the image build writes it) names the model in the start line and in the
    engine_info metric: the hub id and commit here, as a hub model's image has it."""
    import logging

    from reranker.loader import EngineLoader

    info = tmp_path / "model-info.json"
    info.write_text(json.dumps({"model": "org/tiny", "revision": "c0ffee" * 6 + "abcd",
                                "description": "org/tiny@c0ffeec0ffee"}))
    settings = Settings(model_dir=tiny_model_dir, engine="onnx", model_info=info)
    loader = EngineLoader()
    with caplog.at_level(logging.INFO, logger="reranker.loader"):
        loader.start(settings).join(60)
    assert loader.engine is not None
    assert "serving org/tiny@c0ffeec0ffee: engine onnx, fp32, loaded in" in caplog.text
    values = samples(create_app(settings, engine=loader.engine).test_client())
    assert values[("reranker_engine_info", ("engine", "onnx"), ("model", "org/tiny@c0ffeec0ffee"),
                   ("model_type", "bert"), ("precision", "fp32"))] == 1
    info.write_text("not json")  # a broken file costs only the nicer name
    assert Settings(model_dir=tiny_model_dir, model_info=info).model_description == \
        str(tiny_model_dir)


def test_metrics_off_records_nothing_and_serves_no_metrics(tiny_model_dir, engine):
    client = create_app(Settings(model_dir=tiny_model_dir, metrics=False),
                        engine=engine).test_client()
    try:
        before = metrics.PAIRS._value.get()
        assert client.post("/rerank", data=json.dumps(
            {"query": "q", "documents": ["a", "b"]})).status_code == 200
        assert metrics.PAIRS._value.get() == before
        response = client.get("/metrics")
        assert response.status_code == 404 and "METRICS=off" in response.get_json()["error"]
    finally:
        metrics.configure(True)


def test_the_dashboard_queries_only_metrics_the_reranker_exports(onnx_client):
    """compose/grafana/reranker/reranker.json (Grafana's "reranker" dashboard): every series
    a panel asks Prometheus for is one GET /metrics serves."""
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "compose" / "grafana"
                            / "reranker" / "reranker.json").read_text())
    onnx_client.post("/rerank", data=json.dumps({"query": "q", "documents": ["a", "b"]}))
    onnx_client.get("/missing")  # an error series too
    exported = {key[0] for key in samples(onnx_client)}
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\breranker_[a-z_]+", target["expr"])}
    assert asked and asked <= exported, sorted(asked - exported)
    titles = " / ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for topic in ("requests per second", "p50 / p95 / p99", "queue wait vs model time",
                  "pairs per forward pass", "errors"):
        assert topic in titles


def test_the_overload_series_are_exported_from_the_start(onnx_client):
    values = samples(onnx_client)
    for reason in ("queue_full", "timeout"):
        assert ("reranker_requests_rejected_total", ("reason", reason)) in values
    for name in ("reranker_requests_in_flight", "reranker_bytes_in_flight",
                 "reranker_requests_queued"):
        assert (name,) in values, name
