"""Does a reduced precision rank like fp32 on this model? Checked once, when the engine starts.

OpenVINO's CPU plugin computes in bf16 on x86 CPUs with AVX512_BF16/AMX and in fp16 on ARM:
about twice the speed, and on the ms-marco MiniLM models within the reduced-precision parity
bar of docs/bench.md. Not on every model: on a bge-reranker-v2-m3-shaped one (24 layers,
random weights) bf16 missed the bar (Spearman mean 0.990 per query). So the `openvino` engine
scores `QUERIES` x `DOCUMENTS` probe pairs in both precisions at start and keeps the reduced
one only when it ranks like fp32 by the bar's own lines: per-query Spearman at least
`SPEARMAN_MIN`, mean at least `SPEARMAN_MEAN`, and every document of the reduced top `TOP`
within `TIE_SLACK` of the query's score range from fp32's top-`TOP` floor (a near-tie may
swap, a real miss may not). The probe texts are English prose that every Python has: the
docstrings of `SOURCES` (a query: one's summary line; its documents: the opening paragraphs of
all of them). `REDUCED_PRECISION` (settings) skips the check: `on` keeps the plugin's choice,
`off` computes in fp32.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SOURCES = (json.dumps, json.loads, os.walk, os.path.join, shutil.copytree, shutil.rmtree,
           subprocess.run, subprocess.Popen.communicate, textwrap.wrap, textwrap.dedent,
           functools.lru_cache, functools.partial, itertools.groupby, itertools.product,
           collections.Counter, collections.namedtuple)
QUERIES, DOCUMENTS = 4, len(SOURCES)
SPEARMAN_MIN, SPEARMAN_MEAN = 0.98, 0.995
TOP, TIE_SLACK = 3, 0.01


def probe_pairs() -> list[list[tuple[str, str]]]:
    """QUERIES queries (summary lines of SOURCES, spread over them), each with every source's
    opening paragraph (at most 80 words) as its documents."""
    paragraphs = []
    for source in SOURCES:
        opening = " ".join((source.__doc__ or "").strip().split("\n\n")[:2])
        paragraphs.append(" ".join(opening.split()[:80]))
    step = len(SOURCES) // QUERIES
    return [[(paragraphs[q * step].split(".")[0], paragraph) for paragraph in paragraphs]
            for q in range(QUERIES)]


@dataclass(frozen=True)
class Verdict:
    spearman_min: float
    spearman_mean: float
    top_held: int  # queries whose top TOP holds
    queries: int

    @property
    def ranks_alike(self) -> bool:
        return (self.spearman_min >= SPEARMAN_MIN and self.spearman_mean >= SPEARMAN_MEAN
                and self.top_held == self.queries)

    def summary(self) -> str:
        return (f"Spearman min {self.spearman_min:.4f} / mean {self.spearman_mean:.4f}, "
                f"top-{TOP} held {self.top_held}/{self.queries}, "
                f"{self.queries * DOCUMENTS} probe pairs")


def compare(reduced: Sequence[np.ndarray], fp32: Sequence[np.ndarray]) -> Verdict:
    rhos = [spearman(r, f) for r, f in zip(reduced, fp32)]
    held = sum(top_holds(r, f) for r, f in zip(reduced, fp32))
    return Verdict(min(rhos), float(np.mean(rhos)), held, len(rhos))


def check(score_reduced: Callable[[list], np.ndarray],
          score_fp32: Callable[[list], np.ndarray]) -> Verdict:
    """Score every probe query's pairs with both (each a function of one query's pairs)."""
    queries = probe_pairs()
    return compare([np.asarray(score_reduced(q)) for q in queries],
                   [np.asarray(score_fp32(q)) for q in queries])


def spearman(a, b) -> float:
    """Spearman's rank correlation of two score lists (the bench's parity uses it too).

    Tied scores share their average rank, as in scipy.stats.spearmanr. A constant list has no
    order: against another constant one that is the same (no) order, 1.0; against a spread one
    the order is lost, 0.0 (where the formula would give NaN, which passes no bar unnoticed
    only by luck)."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    spread_a, spread_b = (ra * ra).sum(), (rb * rb).sum()
    if spread_a == 0 or spread_b == 0:
        return 1.0 if spread_a == spread_b else 0.0
    return float((ra * rb).sum() / np.sqrt(spread_a * spread_b))


def average_ranks(scores) -> np.ndarray:
    """The 1-based ranks of `scores`, tied scores sharing the mean of the ranks they span."""
    _, inverse, counts = np.unique(np.asarray(scores, dtype=np.float64),
                                        return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # a group of tied values spans ranks ends-counts+1 .. ends
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def top_holds(scores, reference, k: int = TOP, slack: float = TIE_SLACK) -> bool:
    """Every document of the top-k by `scores` scores, by `reference`, at least the
    reference's k-th score minus `slack` of its score range (a near-tie may swap, a real miss
    may not)."""
    reference = np.asarray(reference)
    floor = np.sort(reference)[::-1][k - 1] - slack * float(np.ptp(reference))
    return bool((reference[np.argsort(-np.asarray(scores), kind="stable")[:k]] >= floor).all())
