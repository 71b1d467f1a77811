"""What Weaviate does at the edges of reranking (documented in docs/integration.md)."""

from __future__ import annotations

import pytest

from integration_tests.conftest import COLLECTION, graphql, reranker_scores

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]


def _get(weaviate_url: str, rerank_args: str, search: str = "wizard school") -> dict:
    return graphql(weaviate_url, f"""{{ Get {{ {COLLECTION}(bm25: {{query: "{search}"}},
        limit: 5) {{ title description year
        _additional {{ rerank({rerank_args}) {{ score }} }} }} }} }}""")


def test_rerank_without_a_query_scores_against_an_empty_query(
        book_collection, weaviate_dev_weaviate, weaviate_dev_reranker):
    body = _get(weaviate_dev_weaviate.http_url, 'property: "description"')
    assert "errors" not in body, body
    objects = body["data"]["Get"][COLLECTION]
    assert objects
    # Weaviate does not fall back to the bm25 query: it sends query "" to the reranker.
    expected = reranker_scores(weaviate_dev_reranker.url, "", [o["description"] for o in objects])
    got = [o["_additional"]["rerank"][0]["score"] for o in objects]
    assert got == pytest.approx(sorted(expected, reverse=True), abs=1e-4)


def test_rerank_on_a_non_text_property(book_collection, weaviate_dev_weaviate,
                                       weaviate_dev_reranker):
    body = _get(weaviate_dev_weaviate.http_url, 'property: "year", query: "an old book"')
    assert "errors" not in body, body
    objects = body["data"]["Get"][COLLECTION]
    assert objects
    # An int property is not text: Weaviate sends an empty document for every object.
    got = [o["_additional"]["rerank"][0]["score"] for o in objects]
    empty_doc_score = reranker_scores(weaviate_dev_reranker.url, "an old book", [""])[0]
    assert got == pytest.approx([empty_doc_score] * len(objects), abs=1e-4)
