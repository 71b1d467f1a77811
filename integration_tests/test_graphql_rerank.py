"""Rerank through raw GraphQL `_additional { rerank }`: Weaviate returns our reranker's scores."""

from __future__ import annotations

import pytest

from integration_tests.conftest import COLLECTION, graphql, reranker_scores

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

TOLERANCE = 1e-4


def rerank_query(search: str, rerank_query: str | None, *, prop: str = "description",
                 limit: int = 10) -> str:
    query_arg = f', query: "{rerank_query}"' if rerank_query is not None else ""
    return f"""{{ Get {{ {COLLECTION}(bm25: {{query: "{search}"}}, limit: {limit}) {{
        title description year
        _additional {{ rerank(property: "{prop}"{query_arg}) {{ score }} }} }} }} }}"""


@pytest.mark.parametrize("search, question", [
    ("dune desert planet", "Which novel is about politics on a desert planet?"),
    ("python programming", "How do I learn to program in Python?"),
    ("murder detective", "a detective solving a murder"),
])
def test_every_object_carries_the_rerankers_score_sorted(
        book_collection, weaviate_dev_weaviate, weaviate_dev_reranker, search, question):
    body = graphql(weaviate_dev_weaviate.http_url, rerank_query(search, question))
    assert "errors" not in body, body
    objects = body["data"]["Get"][COLLECTION]
    assert objects, f"bm25 '{search}' found nothing"

    got = []
    for obj in objects:
        rerank = obj["_additional"]["rerank"]
        assert isinstance(rerank, list) and len(rerank) == 1, rerank
        got.append(rerank[0]["score"])
    expected = reranker_scores(weaviate_dev_reranker.url, question,
                               [o["description"] for o in objects])
    for title, g, e in zip((o["title"] for o in objects), got, expected):
        assert abs(g - e) <= TOLERANCE, f"{title}: Weaviate {g} vs reranker {e}"
    assert got == sorted(got, reverse=True), "results are not sorted by rerank score"
    assert len(set(round(s, 6) for s in got)) > 1, "all scores equal: the check would be blind"


def test_reranking_more_than_one_chunk_of_32(book_collection, weaviate_dev_weaviate,
                                              weaviate_dev_reranker, books):
    """≥ 100 objects: Weaviate splits them into 32-document requests sent concurrently."""
    question = "books about space exploration"
    body = graphql(weaviate_dev_weaviate.http_url, f"""{{ Get {{ {COLLECTION}(
        nearVector: {{vector: {[0.25] * 16}}}, limit: {len(books)}) {{
        title description
        _additional {{ rerank(property: "description", query: "{question}") {{ score }} }} }} }} }}""")
    assert "errors" not in body, body
    objects = body["data"]["Get"][COLLECTION]
    assert len(objects) == len(books) >= 100
    by_title = {o["title"]: o["_additional"]["rerank"][0]["score"] for o in objects}
    assert len(by_title) == len(books), "an object is missing or duplicated"
    expected = reranker_scores(weaviate_dev_reranker.url, question,
                               [b["description"] for b in books])
    for book, score in zip(books, expected):
        assert abs(by_title[book["title"]] - score) <= TOLERANCE, book["title"]


def test_meta_shows_the_rerankers_meta(weaviate_dev_weaviate, weaviate_dev_reranker):
    import requests

    weaviate_meta = requests.get(f"{weaviate_dev_weaviate.http_url}/v1/meta", timeout=10).json()
    ours = requests.get(f"{weaviate_dev_reranker.url}/meta", timeout=10).json()
    assert weaviate_meta["modules"]["reranker-transformers"] == ours
    assert ours["model"]["architectures"] == ["BertForSequenceClassification"]
