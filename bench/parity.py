"""Engine parity over the benchmark set: every query's 96 (query, document) pairs.

The reference is sentence-transformers' CrossEncoder on the same model (cached next to the
model, keyed by corpus). For each engine: the largest |score difference|, Spearman's rank
correlation per query (minimum and mean), and how many queries keep the same top-10 set.
Issue 7's bar: fp32 engines |diff| <= 1e-4; reduced precision Spearman >= 0.99 and the same
top-10 for every query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reranker.engine import load_engine
from reranker.settings import Settings


@dataclass
class Parity:
    engine: str
    max_abs_diff: float
    spearman_min: float
    spearman_mean: float
    same_top10: int
    queries: int
    seconds: float

    def passes(self, fp32: bool) -> bool:
        if fp32:
            return self.max_abs_diff <= 1e-4
        return self.spearman_min >= 0.99 and self.same_top10 == self.queries


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x)).astype(np.float64)


def spearman(a, b) -> float:
    ra, rb = _ranks(np.asarray(a)), _ranks(np.asarray(b))
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))


def top10(scores) -> set[int]:
    return set(np.argsort(-np.asarray(scores), kind="stable")[:10].tolist())


def engine_scores(engine_name: str, model_dir: Path, corpus) -> tuple[list[np.ndarray], float]:
    engine = load_engine(Settings(model_dir=model_dir, engine=engine_name))
    engine.score(corpus.queries[0].text, list(corpus.queries[0].documents[:4]))  # warm-up
    started = time.monotonic()
    scores = [np.asarray(engine.score(q.text, list(q.documents))) for q in corpus.queries]
    return scores, time.monotonic() - started


def reference_scores(model_dir: Path, corpus) -> list[np.ndarray]:
    cache = model_dir / f"reference-{corpus.fingerprint}.npy"
    if cache.exists():
        return list(np.load(cache))
    scores, _ = engine_scores("torch", model_dir, corpus)
    try:
        np.save(cache, np.stack(scores))
    except OSError:
        pass
    return scores


def compare(engine_name: str, model_dir: Path, corpus) -> Parity:
    reference = reference_scores(model_dir, corpus)
    scores, seconds = engine_scores(engine_name, model_dir, corpus)
    diffs = [float(np.max(np.abs(s - r))) for s, r in zip(scores, reference)]
    rhos = [spearman(s, r) for s, r in zip(scores, reference)]
    same = sum(top10(s) == top10(r) for s, r in zip(scores, reference))
    return Parity(engine_name, max(diffs), min(rhos), float(np.mean(rhos)), same,
                  len(reference), seconds)


def format_parity(p: Parity) -> str:
    pairs = p.queries * 96
    return (f"{p.engine:<14} max|diff|={p.max_abs_diff:.2e}  spearman min={p.spearman_min:.4f} "
            f"mean={p.spearman_mean:.4f}  same top-10: {p.same_top10}/{p.queries}  "
            f"in-process {pairs / p.seconds:.0f} pairs/s (sequential requests)")
