"""torch-batched (fp32) and torch-bf16 engines against the CrossEncoder reference.

Tiny test model: fp32 must match every pair within 1e-4. The reduced-precision bar (Spearman
>= 0.99, same top-10 per query) is checked over the benchmark set by `python -m bench parity`;
here bf16 only has to keep the scores strongly correlated.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from reranker.engine import load_engine
from reranker.settings import Settings

QUERY = "who wrote dune"
DOCUMENTS = ["frank herbert wrote dune", "", "cats and dogs", "spice " * 40, "paris",
             "the author of dune is frank herbert", "a", "dogs and sand worms"]


@pytest.fixture(scope="module")
def batched(tiny_model_dir):
    return load_engine(Settings(model_dir=tiny_model_dir, engine="torch-batched", batch_size=3))


def test_fp32_matches_the_crossencoder(batched, reference):
    expected = reference.predict([[QUERY, d] for d in DOCUMENTS])
    got = np.asarray(batched.score(QUERY, DOCUMENTS))
    assert np.max(np.abs(got - expected)) <= 1e-4
    assert len(set(np.round(got, 4))) > 4


def test_concurrent_requests_keep_their_order(batched, reference):
    queries = ["who dune", "cats", "paris spice", "author"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: batched.score(q, DOCUMENTS[::-1]), queries))
    for query, got in zip(queries, results):
        np.testing.assert_allclose(got, reference.predict([[query, d] for d in DOCUMENTS[::-1]]),
                                   atol=1e-4)


def test_bf16_stays_close(tiny_model_dir, reference):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="torch-bf16"))
    expected = reference.predict([[QUERY, d] for d in DOCUMENTS])
    got = np.asarray(engine.score(QUERY, DOCUMENTS))
    assert np.corrcoef(got, expected)[0, 1] > 0.95
    assert engine.score(QUERY, []) == []
