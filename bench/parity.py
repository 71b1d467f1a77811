"""Engine parity over the benchmark set: every query's 96 (query, document) pairs.

The reference is sentence-transformers' CrossEncoder on the same model (cached next to the
model, keyed by corpus). The bar (docs/bench.md), per engine against the reference:

- fp32 engines: max |score difference| <= 1e-4;
- reduced precision (bf16, int8), every line:
  - NDCG@10 retained >= 99.5 % of the reference's, with graded labels the corpus gives (2: a
    passage of the query's own object, 1: of the same module, 0: any other);
  - Spearman per query: mean >= 0.995, minimum >= 0.98;
  - tie-aware top-10: every document in the engine's top-10 has a reference score no lower
    than the reference's 10th score minus 1 % of that query's score range, for every query
    (a near-tie may swap; a real miss may not).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reranker.engines import precision_check
from reranker.engines.precision_check import SPEARMAN_MEAN, SPEARMAN_MIN, TIE_SLACK

# The Spearman lines and the tie slack are the ones the openvino engine checks its reduced
# precision against at start (reranker/engines/precision_check.py): one bar, one place.
FP32_MAX_DIFF = 1e-4
NDCG_RETAINED = 0.995
TOP = 10


@dataclass
class Parity:
    engine: str
    max_abs_diff: float
    spearman_min: float
    spearman_mean: float
    ndcg: float  # mean NDCG@10 of the engine
    ndcg_reference: float  # and of the reference
    tie_aware_top10: int  # queries whose top-10 passes the tie-aware check
    queries: int
    seconds: float
    precision: str = "fp32"  # what the engine computed in: which bar applies

    @property
    def fp32(self) -> bool:
        return self.precision == "fp32"

    @property
    def ndcg_retained(self) -> float:
        return self.ndcg / self.ndcg_reference

    def failures(self, fp32: bool | None = None) -> list[str]:
        """The lines of the bar this engine misses (empty: it passes); the bar of its own
        precision unless `fp32` says which."""
        if self.fp32 if fp32 is None else fp32:
            return ([] if self.max_abs_diff <= FP32_MAX_DIFF
                    else [f"max |diff| {self.max_abs_diff:.2e} > {FP32_MAX_DIFF:g}"])
        missed = []
        if self.ndcg_retained < NDCG_RETAINED:
            missed.append(f"NDCG@10 retained {self.ndcg_retained:.2%} < {NDCG_RETAINED:.1%}")
        if self.spearman_mean < SPEARMAN_MEAN:
            missed.append(f"Spearman mean {self.spearman_mean:.4f} < {SPEARMAN_MEAN}")
        if self.spearman_min < SPEARMAN_MIN:
            missed.append(f"Spearman min {self.spearman_min:.4f} < {SPEARMAN_MIN}")
        if self.tie_aware_top10 < self.queries:
            missed.append(f"tie-aware top-10 {self.tie_aware_top10}/{self.queries}")
        return missed

    def passes(self, fp32: bool | None = None) -> bool:
        return not self.failures(fp32)


def spearman(a, b) -> float:
    """Spearman's rank correlation: the engine's start-time precision check's own."""
    return precision_check.spearman(a, b)


def ndcg_at(scores, grades: Sequence[int], k: int = TOP) -> float:
    """NDCG@k of the ranking `scores` give, with graded relevance (gain 2^grade - 1)."""
    grades = np.asarray(grades, dtype=np.float64)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    ideal = np.sort(grades)[::-1][:k]
    best = float(((2 ** ideal - 1) * discounts[: len(ideal)]).sum())
    if best == 0:
        return 1.0
    return float(((2 ** grades[order] - 1) * discounts[: len(order)]).sum()) / best


def top10_holds(scores, reference, k: int = TOP, slack: float = TIE_SLACK) -> bool:
    """Every document of the engine's top-k scores, by the reference, at least the reference's
    k-th score minus `slack` of the reference's score range for this query (the precision
    check's rule, at this bar's k)."""
    return precision_check.top_holds(scores, reference, k, slack)


def measure(engine: str, scores: Sequence[np.ndarray], reference: Sequence[np.ndarray],
            grades: Sequence[Sequence[int]], seconds: float = 0.0,
            precision: str = "fp32") -> Parity:
    """The parity figures of one engine's scores against the reference's, query by query."""
    rhos = [spearman(s, r) for s, r in zip(scores, reference)]
    return Parity(
        engine=engine,
        max_abs_diff=max(float(np.max(np.abs(s - r))) for s, r in zip(scores, reference)),
        spearman_min=min(rhos),
        spearman_mean=float(np.mean(rhos)),
        ndcg=float(np.mean([ndcg_at(s, g) for s, g in zip(scores, grades)])),
        ndcg_reference=float(np.mean([ndcg_at(r, g) for r, g in zip(reference, grades)])),
        tie_aware_top10=sum(top10_holds(s, r) for s, r in zip(scores, reference)),
        queries=len(reference), seconds=seconds, precision=precision)


def engine_scores(engine_name: str, model_dir: Path, corpus
                  ) -> tuple[list[np.ndarray], float, str]:
    """Every query's scores, the seconds they took, and the precision the engine ran in."""
    from reranker.engine import load_engine
    from reranker.settings import Settings

    engine = load_engine(Settings(model_dir=model_dir, engine=engine_name))
    engine.score(corpus.queries[0].text, list(corpus.queries[0].documents[:4]))  # warm-up
    started = time.monotonic()
    scores = [np.asarray(engine.score(q.text, list(q.documents))) for q in corpus.queries]
    return scores, time.monotonic() - started, getattr(engine, "precision", "fp32")


def reference_scores(model_dir: Path, corpus) -> list[np.ndarray]:
    cache = model_dir / f"reference-{corpus.fingerprint}.npy"
    if cache.exists():
        return list(np.load(cache))
    scores, _, _ = engine_scores("torch", model_dir, corpus)
    try:
        np.save(cache, np.stack(scores))
    except OSError:
        pass
    return scores


def compare(engine_name: str, model_dir: Path, corpus) -> Parity:
    reference = reference_scores(model_dir, corpus)
    scores, seconds, precision = engine_scores(engine_name, model_dir, corpus)
    return measure(engine_name, scores, reference, [q.grades for q in corpus.queries], seconds,
                   precision)


def format_parity(p: Parity) -> str:
    pairs = p.queries * 96
    return (f"{p.engine:<14} [{p.precision}] max|diff|={p.max_abs_diff:.2e}  NDCG@10 {p.ndcg:.4f} "
            f"({p.ndcg_retained:.2%} of the reference's {p.ndcg_reference:.4f})  "
            f"Spearman min={p.spearman_min:.4f} mean={p.spearman_mean:.4f}  "
            f"tie-aware top-10: {p.tie_aware_top10}/{p.queries}  "
            f"in-process {pairs / max(p.seconds, 1e-9):.0f} pairs/s (sequential requests)")
