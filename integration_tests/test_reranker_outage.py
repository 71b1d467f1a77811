"""Fault: the reranker goes away and comes back; Weaviate fails clearly, then recovers."""

from __future__ import annotations

import pytest

from integration_tests.conftest import COLLECTION, graphql

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

RERANKED = f"""{{ Get {{ {COLLECTION}(bm25: {{query: "bread baking"}}, limit: 5) {{ title
    _additional {{ rerank(property: "description", query: "how to bake bread") {{ score }} }}
    }} }} }}"""
PLAIN = f"""{{ Get {{ {COLLECTION}(bm25: {{query: "bread baking"}}, limit: 5) {{ title }} }} }}"""


def test_outage_fails_clearly_and_recovers(book_collection, weaviate_dev_weaviate,
                                           weaviate_dev_reranker):
    url = weaviate_dev_weaviate.http_url
    before = graphql(url, RERANKED)
    assert "errors" not in before, before

    weaviate_dev_reranker.get_wrapped_container().stop(timeout=10)
    try:
        during = graphql(url, RERANKED)
        assert during.get("errors"), f"a reranked query succeeded without a reranker: {during}"
        message = " ".join(e["message"] for e in during["errors"])
        assert "rerank" in message.lower(), message
        plain = graphql(url, PLAIN)
        assert "errors" not in plain, plain
        assert plain["data"]["Get"][COLLECTION], "a plain query lost its results"
    finally:
        weaviate_dev_reranker.get_wrapped_container().start()
        weaviate_dev_reranker.wait_ready()

    after = graphql(url, RERANKED)
    assert "errors" not in after, after
    scores = [o["_additional"]["rerank"][0]["score"] for o in after["data"]["Get"][COLLECTION]]
    assert scores == [o["_additional"]["rerank"][0]["score"]
                      for o in before["data"]["Get"][COLLECTION]]
