"""The reranker's metrics in a real Prometheus, after reranked queries through Weaviate.

A Prometheus (its image, or a stand-in around Debian's prometheus package: no registry here)
scrapes the session's reranker every second on the Docker network. Three GraphQL queries with
`_additional { rerank }` make Weaviate send three POST /rerank (fewer than 32 objects each);
Prometheus' query API then answers the reranker's own counts, and a non-zero rate. Grafana
cannot be installed here, so its "reranker" dashboard is proven against the same Prometheus: every
panel's query (Grafana's interval macros filled in as Grafana fills them) answers data.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from integration_tests.conftest import COLLECTION, graphql

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

RERANKS = 'reranker_requests_total{endpoint="/rerank",status="200"}'
DASHBOARD = Path(__file__).resolve().parents[1] / "compose" / "grafana" / "reranker" / \
    "reranker.json"
# What Grafana puts for its macros on a dashboard of the last few minutes scraped every second
# (its $__rate_interval is at least four scrape intervals; 1m is what the panels use).
GRAFANA_MACROS = {"$__rate_interval": "1m", "$__interval": "15s", "$__interval_ms": "15000",
                  "$__range": "5m", "$__range_s": "300", "$__range_ms": "300000"}


def reranker_count(reranker_url: str) -> float:
    """The reranker's own count of answered POST /rerank, from its /metrics."""
    text = requests.get(f"{reranker_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (sample.name == "reranker_requests_total"
                    and sample.labels == {"endpoint": "/rerank", "status": "200"}):
                return sample.value
    return 0.0


def prometheus_value(prometheus, expression: str) -> float | None:
    result = prometheus.query(expression)
    return float(result[0]["value"][1]) if result else None


def wait_for_value(prometheus, expression: str, value: float, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while prometheus_value(prometheus, expression) != value:
        assert time.monotonic() < deadline, (expression, prometheus.query(expression), value)
        time.sleep(0.5)


def test_prometheus_counts_the_reranks_weaviate_sent(weaviate_dev_prometheus, weaviate_dev_reranker,
                                                     weaviate_dev_weaviate, book_collection):
    query = (f'{{ Get {{ {COLLECTION}(bm25: {{query: "dune"}}, limit: 5) {{ title '
             f'_additional {{ rerank(property: "description", query: "Who wrote Dune?") '
             f'{{ score }} }} }} }} }}')
    graphql(weaviate_dev_weaviate.http_url, query)  # the schema's rerank field is there
    before = reranker_count(weaviate_dev_reranker.url)
    # Prometheus has the series before the counted queries (a series' first sample is no
    # increase, and rate() would say 0)
    wait_for_value(weaviate_dev_prometheus, f"sum({RERANKS})", before)
    for _ in range(3):
        answer = graphql(weaviate_dev_weaviate.http_url, query)
        assert not answer.get("errors"), answer
    after = reranker_count(weaviate_dev_reranker.url)
    assert after - before == 3  # one request per query: fewer than 32 objects

    wait_for_value(weaviate_dev_prometheus, f"sum({RERANKS})", after)
    assert prometheus_value(weaviate_dev_prometheus, f"sum(rate({RERANKS}[1m]))") > 0
    pairs = prometheus_value(weaviate_dev_prometheus, "sum(reranker_pairs_scored_total)")
    info = weaviate_dev_prometheus.query("reranker_engine_info")
    assert pairs and pairs >= 15 and info and info[0]["metric"]["job"] == "reranker"


def panel_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of a dashboard, Grafana's macros filled in."""
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            # longest first: $__interval_ms before $__interval
            for macro in sorted(GRAFANA_MACROS, key=len, reverse=True):
                expr = expr.replace("${" + macro[1:] + "}", GRAFANA_MACROS[macro])
                expr = expr.replace(macro, GRAFANA_MACROS[macro])
            assert "$" not in expr, f"{panel['title']}: a variable this test does not fill: {expr}"
            queries.append((panel["title"], expr))
    return queries


def test_grafanas_macros_are_filled_in_and_an_unknown_variable_is_refused():
    panel = {"title": "t", "targets": [
        {"expr": "rate(x[$__rate_interval]) / ${__interval_ms} + $__interval"}]}
    assert panel_queries({"panels": [panel]}) == [("t", "rate(x[1m]) / 15000 + 15s")]
    panel["targets"][0]["expr"] = 'x{job="$job"}'
    with pytest.raises(AssertionError, match="a variable this test does not fill"):
        panel_queries({"panels": [panel]})


def test_every_panel_of_the_dashboard_shows_data(weaviate_dev_prometheus, weaviate_dev_reranker,
                                                 weaviate_dev_weaviate, book_collection):
    """Traffic as Weaviate sends it, one request with a document cut at the model's limit
    and one bad request (the error panel's); then every panel's query answers a non-empty,
    finite result within a minute (the panels' rate window)."""
    query = (f'{{ Get {{ {COLLECTION}(bm25: {{query: "dune"}}, limit: 5) {{ title '
             f'_additional {{ rerank(property: "description", query: "Who wrote Dune?") '
             f'{{ score }} }} }} }} }}')
    queries = panel_queries(json.loads(DASHBOARD.read_text()))
    assert len(queries) >= 10  # the dashboard's panels, each with its queries
    # Prometheus holds the reranker's series before the traffic, so rates see it as increase.
    wait_for_value(weaviate_dev_prometheus, "count(up{job=\"reranker\"} == 1)", 1)
    time.sleep(3)
    deadline = time.monotonic() + 60
    while True:
        for _ in range(3):
            assert not graphql(weaviate_dev_weaviate.http_url, query).get("errors")
        long = requests.post(f"{weaviate_dev_reranker.url}/rerank", timeout=60,
                             json={"query": "who wrote dune", "documents": ["dune " * 2000]})
        assert long.status_code == 200, long.text
        bad = requests.post(f"{weaviate_dev_reranker.url}/rerank", data=b"{", timeout=10)
        assert bad.status_code == 400
        time.sleep(3)  # a few scrapes
        empty = [(title, expr, weaviate_dev_prometheus.query(expr)) for title, expr in queries]
        empty = [(title, expr, result) for title, expr, result in empty
                 if not result or not all(math.isfinite(float(sample["value"][1]))
                                          for sample in result)]
        if not empty or time.monotonic() > deadline:
            break
    assert not empty, "panels without data:\n" + "\n".join(
        f"  {title}: {expr} -> {result}" for title, expr, result in empty)
