"""OpenVINO engines against the CrossEncoder reference, on the tiny test model.

`openvino-fp32` meets the fp32 bar (|diff| <= 1e-4). `openvino` computes in the CPU plugin's
own precision (bf16 where the CPU has AVX512_BF16 or AMX: this machine) when that ranks like
fp32 on this model (`precision_check`), else in fp32; the reduced-precision bar over the real
benchmark set is `python -m bench parity` (docs/bench.md).
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


def test_the_default_keeps_the_cpus_reduced_precision_only_where_it_ranks_like_fp32(
        tiny_model_dir, expected, caplog):
    """bf16 (this CPU: AMX) moves the tiny model's wide random scores enough to reorder the
    probe pairs: the default engine computes in fp32 and says why. REDUCED_PRECISION=on keeps
    the plugin's choice unchecked, =off is fp32."""
    import logging

    import openvino as ov

    has_bf16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    with caplog.at_level(logging.INFO, logger="reranker.engines.openvino"):
        checked = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino"))
    assert checked.precision == "fp32"
    if has_bf16:
        assert "bf16 does not rank like fp32 on this model (Spearman min" in caplog.text
    np.testing.assert_allclose(checked.score(QUERY, DOCUMENTS), expected, atol=1e-4)
    unchecked = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino",
                                     reduced_precision="on"))
    assert unchecked.precision == ("bf16" if has_bf16 else "fp32")
    got = np.asarray(unchecked.score(QUERY, DOCUMENTS))
    assert np.corrcoef(got, expected)[0, 1] >= 0.98  # a wrong order gives a correlation ~0
    assert load_engine(Settings(model_dir=tiny_model_dir, engine="openvino",
                                reduced_precision="off")).precision == "fp32"


def test_concurrent_requests_get_their_own_scores(tiny_model_dir, reference):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino-fp32"))
    queries = [f"{word} dune" for word in ("who", "what", "cats", "paris", "spice", "author")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: engine.score(q, DOCUMENTS), queries))
    for query, got in zip(queries, results):
        np.testing.assert_allclose(got, reference.predict([[query, d] for d in DOCUMENTS]),
                                   atol=1e-4)
    assert engine.score(QUERY, []) == []


@pytest.mark.parametrize("name", ["openvino-fp32", "onnx"])
def test_a_pass_runs_only_the_micro_batches_still_wanted(tiny_model_dir, expected, name):
    """Between the micro-batches of a pass the engine asks whether any of the next one's pairs
    is still wanted (`wanted`): the others are not run, the rest score as always."""
    from reranker import metrics

    engine = load_engine(Settings(model_dir=tiny_model_dir, engine=name, batch_size=2))
    pairs = [(QUERY, d) for d in DOCUMENTS]
    keep = {0, 1, 2}  # documents still wanted; the others' request has gone
    asked: list[list[int]] = []

    def wanted(indices) -> bool:
        asked.append(sorted(indices))
        return any(i in keep for i in indices)

    scored_before = metrics.PAIRS._value.get()  # noqa: SLF001
    scores = engine._score_pairs(pairs, wanted)  # noqa: SLF001
    parts = sorted({tuple(part) for part in asked})  # openvino asks again as it starts one
    run = [part for part in parts if any(i in keep for i in part)]
    assert len(parts) == 5 and len(run) < len(parts)  # 10 pairs in 5 micro-batches
    ran = sorted(i for part in run for i in part)
    np.testing.assert_allclose(scores[ran], expected[ran], atol=1e-4)
    skipped = sorted(set(range(len(pairs))) - set(ran))
    assert np.isnan(scores[skipped]).all()
    assert metrics.PAIRS._value.get() - scored_before == len(ran)  # noqa: SLF001


def test_openvino_asks_again_as_a_micro_batch_would_start(tiny_model_dir, expected):
    """The queue keeps two micro-batches in flight and pads the next meanwhile: a request
    dropped between the padding and the start is not run either."""
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="openvino-fp32",
                                  batch_size=2))
    pairs = [(QUERY, d) for d in DOCUMENTS]
    seen: dict[tuple[int, ...], int] = {}

    def wanted(indices) -> bool:  # every micro-batch is dropped after its first question
        part = tuple(sorted(indices))
        seen[part] = seen.get(part, 0) + 1
        return seen[part] == 1

    scores = engine._score_pairs(pairs, wanted)  # noqa: SLF001
    assert len(seen) == 5 and set(seen.values()) == {2}
    assert np.isnan(scores).all()
