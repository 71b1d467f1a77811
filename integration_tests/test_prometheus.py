"""The reranker's metrics in a real Prometheus, after reranked queries through Weaviate.

A Prometheus (its image, or a stand-in around Debian's prometheus package: no registry here)
scrapes the session's reranker every second on the Docker network. Three GraphQL queries with
`_additional { rerank }` make Weaviate send three POST /rerank (fewer than 32 objects each);
Prometheus' query API then answers the reranker's own counts, and a non-zero rate.
"""

from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from integration_tests.conftest import COLLECTION, graphql

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

RERANKS = 'reranker_requests_total{endpoint="/rerank",status="200"}'


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
