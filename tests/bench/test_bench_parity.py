"""The parity bar of `python -m bench parity` (issue 12), on hand-made scores."""

import numpy as np
import pytest

from bench import parity


def test_ndcg_counts_graded_gains_in_rank_order():
    grades = [0, 2, 1, 0]
    assert parity.ndcg_at([0.1, 0.9, 0.5, 0.0], grades) == pytest.approx(1.0)
    swapped = parity.ndcg_at([0.1, 0.5, 0.9, 0.0], grades)  # grade 1 first, then grade 2
    ideal = 3 + 1 / np.log2(3)
    assert swapped == pytest.approx((1 + 3 / np.log2(3)) / ideal)
    assert parity.ndcg_at([1, 2, 3, 4], [0, 0, 0, 0]) == 1.0  # nothing relevant: nothing lost


def test_tie_aware_top10_lets_near_ties_swap_but_not_real_misses():
    reference = np.linspace(10.0, 0.0, 96)  # range 10: slack 0.1
    reference[10] = reference[9] - 0.05  # the 11th is a near-tie of the 10th
    swapped = reference.copy()
    swapped[[9, 10]] = swapped[[10, 9]]
    assert parity.top10_holds(swapped, reference)
    missed = reference.copy()
    missed[50] = 100.0  # a document far below the 10th enters the top-10
    assert not parity.top10_holds(missed, reference)


def grades():
    return [[2] + [1] * 20 + [0] * 75 for _ in range(4)]


def test_the_reduced_precision_bar_names_each_line_missed():
    rng = np.random.default_rng(0)
    reference = [np.sort(rng.normal(size=96))[::-1] * 3 for _ in range(4)]
    close = [r + rng.normal(scale=1e-3, size=96) for r in reference]
    result = parity.measure("close", close, reference, grades())
    assert result.failures(fp32=False) == []
    assert result.failures(fp32=True) == [f"max |diff| {result.max_abs_diff:.2e} > 0.0001"]
    shuffled = [rng.permutation(r) for r in reference]
    missed = parity.measure("shuffled", shuffled, reference, grades()).failures(fp32=False)
    assert [line.split()[0] for line in missed] == ["NDCG@10", "Spearman", "Spearman",
                                                    "tie-aware"]


def test_exact_scores_pass_both_bars():
    reference = [np.arange(96, dtype=float)[::-1] for _ in range(3)]
    result = parity.measure("same", reference, reference, grades()[:3])
    assert result.passes(fp32=True) and result.passes(fp32=False)
    assert result.ndcg_retained == 1.0 and result.tie_aware_top10 == 3
