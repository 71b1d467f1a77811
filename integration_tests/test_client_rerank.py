"""Rerank through weaviate-client v4 (gRPC): bm25, near_vector and hybrid searches."""

from __future__ import annotations

import pytest

from integration_tests.conftest import book_vector, reranker_scores

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

QUESTION = "Which book explains evolution by natural selection?"


def searches():
    """(name, call) pairs: each call takes (collection, rerank) and runs one kind of search."""
    return [
        ("bm25", lambda c, r: c.query.bm25(query="evolution species", limit=10, rerank=r)),
        ("near_vector", lambda c, r: c.query.near_vector(near_vector=book_vector(7), limit=10,
                                                         rerank=r)),
        ("hybrid", lambda c, r: c.query.hybrid(query="natural selection", vector=book_vector(3),
                                               alpha=0.5, limit=10, rerank=r)),
    ]


@pytest.mark.parametrize("name, search", searches(), ids=[name for name, _ in searches()])
def test_rerank_score_is_the_rerankers(book_collection, weaviate_dev_reranker, name, search):
    from weaviate.classes.query import Rerank

    response = search(book_collection, Rerank(prop="description", query=QUESTION))
    objects = response.objects
    assert objects, f"{name} returned nothing"
    got = [o.metadata.rerank_score for o in objects]
    assert all(score is not None for score in got), f"{name}: rerank_score missing: {got}"
    expected = reranker_scores(weaviate_dev_reranker.url, QUESTION,
                               [o.properties["description"] for o in objects])
    for obj, g, e in zip(objects, got, expected):
        assert abs(g - e) <= 1e-4, f"{name} {obj.properties['title']}: {g} vs {e}"
    assert got == sorted(got, reverse=True), f"{name}: not sorted by rerank score"


def test_without_rerank_there_is_no_rerank_score(book_collection):
    response = book_collection.query.bm25(query="evolution", limit=3)
    assert response.objects
    assert all(o.metadata.rerank_score is None for o in response.objects)
