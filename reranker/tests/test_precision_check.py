"""The reduced-precision check: the bar's lines on probe pairs, and the probe itself."""

from __future__ import annotations

import numpy as np

from reranker.engines import precision_check


def test_the_probe_is_english_prose_a_query_with_its_own_document_among_others():
    queries = precision_check.probe_pairs()
    assert len(queries) == precision_check.QUERIES
    for pairs in queries:
        assert len(pairs) == precision_check.DOCUMENTS
        query = pairs[0][0]
        assert 3 <= len(query.split()) and any(query in document for _, document in pairs)
        assert all(10 <= len(document.split()) <= 80 for _, document in pairs)


def test_equal_rankings_are_alike_a_swapped_top_is_not():
    rng = np.random.default_rng(0)
    fp32 = [rng.normal(size=16) for _ in range(4)]
    assert precision_check.compare(fp32, fp32).ranks_alike
    jitter = [s + rng.normal(scale=1e-4, size=16) for s in fp32]
    assert precision_check.compare(jitter, fp32).ranks_alike
    swapped = [s.copy() for s in fp32]
    first, last = np.argmax(swapped[0]), np.argmin(swapped[0])
    swapped[0][[first, last]] = swapped[0][[last, first]]  # the best document now ranks last
    verdict = precision_check.compare(swapped, fp32)
    assert not verdict.ranks_alike and verdict.top_held == 3
    assert "top-3 held 3/4" in verdict.summary()


def test_a_swap_inside_the_top_keeps_the_top_but_costs_spearman():
    fp32 = [np.linspace(0, 1, 16)]
    near = fp32[0].copy()
    near[[15, 14]] = near[[14, 15]]  # the top two change places: still the same top three
    verdict = precision_check.compare([near], fp32)
    assert verdict.top_held == 1 and verdict.spearman_min < 1


def test_spearman_gives_tied_scores_their_average_rank():
    # Ranks with ties averaged: [1.5, 1.5, 3, 4] against [1, 2, 3, 4] (scipy's value: 0.9487).
    assert abs(precision_check.spearman([0.1, 0.1, 0.5, 0.9], [1, 2, 3, 4]) - 0.9486833) < 1e-6
    # Tied in both lists the same way: the same ranking, whatever order argsort breaks ties in.
    assert precision_check.spearman([2, 1, 1, 3], [5, 0, 0, 7]) == 1.0


def test_spearman_of_constant_scores_is_a_number_not_nan():
    constant, spread = [0.5] * 6, [0.1, 0.4, 0.2, 0.9, 0.3, 0.7]
    assert precision_check.spearman(constant, constant) == 1.0  # no order, and none lost
    assert precision_check.spearman(constant, spread) == 0.0  # the order is lost entirely
    assert precision_check.spearman(spread, constant) == 0.0
    verdict = precision_check.compare([np.asarray(constant)], [np.asarray(spread)])
    assert not verdict.ranks_alike and verdict.spearman_min == 0.0
