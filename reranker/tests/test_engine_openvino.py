"""OpenVINO engines against the CrossEncoder reference, on the tiny test model.

`openvino-fp32` meets the fp32 bar (|diff| <= 1e-4). `openvino` computes in the CPU plugin's
own precision: bf16 where the CPU has AVX512_BF16 or AMX (this machine), fp32 elsewhere; its
reduced-precision bar over the real benchmark set is `python -m bench parity` (docs/bench.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from reranker.engine import load_engine
from reranker.settings import Settings

QUERY = "who wrote dune"
DOCUMENTS = ["frank herbert wrote dune", "", "cats and dogs", "spice and sand worms " * 6,
             "paris", "the author of dune is frank herbert", "a", "dogs", "東京 🎉",
             "dune " * 600]  # past the position limit: truncated like the CrossEncoder


@pytest.fixture(scope="module")
def expected(reference):
    return reference.predict([[QUERY, d] for d in DOCUMENTS])


def test_fp32_matches_the_crossencoder(tiny_model_dir, expected):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino-fp32"))
    assert engine.precision == "fp32"
    np.testing.assert_allclose(engine.score(QUERY, DOCUMENTS), expected, atol=1e-4)


def test_the_default_runs_in_the_cpus_precision_and_ranks_like_the_reference(tiny_model_dir,
                                                                             expected):
    import openvino as ov

    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino"))
    has_bf16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    assert engine.precision == ("bf16" if has_bf16 else "fp32")
    got = np.asarray(engine.score(QUERY, DOCUMENTS))
    # bf16 keeps 8 significant bits: the tiny model's wide random weights move scores by ~0.2
    # of a 2.2 range; a wrong order gives a correlation near 0.
    assert np.corrcoef(got, expected)[0, 1] >= 0.98
    assert np.abs(got - expected).max() <= (1e-4 if not has_bf16 else 0.2 * np.ptp(expected))


def test_concurrent_requests_get_their_own_scores(tiny_model_dir, reference):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino-fp32"))
    queries = [f"{word} dune" for word in ("who", "what", "cats", "paris", "spice", "author")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: engine.score(q, DOCUMENTS), queries))
    for query, got in zip(queries, results):
        np.testing.assert_allclose(got, reference.predict([[query, d] for d in DOCUMENTS]),
                                   atol=1e-4)
    assert engine.score(QUERY, []) == []
