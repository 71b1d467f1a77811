"""Long texts: an engine reads at most MAX_TEXT_CHARS characters of a query or document (16 x
the model's token limit unless set) — the rest never reaches the tokenizer — and ordinary long
prose still scores exactly as the reference CrossEncoder scores it uncut."""

from __future__ import annotations

import argparse
import collections
import inspect
import json
import logging
import subprocess

import numpy as np
import pytest

from reranker.engine import load_engine
from reranker.settings import Settings

WIDE = "\U00020000"  # 4 bytes in UTF-8, a token of its own in WordPiece
QUERY = "who wrote dune"
# ~20,000 characters of English prose: longer than the cut (16 x 512), and far past the
# 512 tokens that the model reads.
PROSE = " ".join(inspect.getdoc(m) for m in (argparse, json, logging, collections, subprocess))
PROSE = (PROSE + " ") * (20_000 // len(PROSE) + 1)

ENGINES = ["onnx", "openvino", "torch-batched", "torch"]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tiny_model_dir, xdg_cache):
    return load_engine(Settings(model_dir=tiny_model_dir, engine=request.param,
                                onnx_cache_dir=xdg_cache / "reranker" / "onnx"))


@pytest.fixture
def received(engine, monkeypatch) -> list[tuple[str, str]]:
    """Every (query, document) pair the engine hands its tokenizer: a coalescing engine's
    `_tokenize`, the CrossEncoder's `predict` (which tokenizes inside)."""
    seen: list[tuple[str, str]] = []
    if hasattr(engine, "_tokenize"):
        inner = engine._tokenize

        def tokenize(pairs):
            seen.extend(pairs)
            return inner(pairs)

        monkeypatch.setattr(engine, "_tokenize", tokenize)
    else:
        model = engine._model
        inner = model.predict

        def predict(pairs, **kwargs):
            seen.extend(tuple(p) for p in pairs)
            return inner(pairs, **kwargs)

        monkeypatch.setattr(model, "predict", predict)
    return seen


def test_the_cut_is_16_characters_per_token_of_the_models_limit(engine):
    assert engine.max_length == 512 and engine.max_chars == 16 * 512


def test_a_text_of_millions_of_characters_is_cut_before_the_tokenizer(engine, received):
    document = "dune " + WIDE * 2_400_000
    [whole] = engine.score(QUERY, [document])
    assert [(len(q), len(d)) for q, d in received] == [(len(QUERY), 8192)]
    assert received[0][1] == document[:8192]  # the first 8,192 characters, as they were
    [cut] = engine.score(QUERY, [document[:8192]])
    assert whole == cut


def test_a_long_query_is_cut_too(engine, received):
    query = "dune " * 500_000
    assert len(engine.score(query, ["a", "b"])) == 2
    assert [(len(q), d) for q, d in received] == [(8192, "a"), (8192, "b")]
    assert all(q == query[:8192] for q, _ in received)


def test_ordinary_long_prose_scores_as_the_reference_scores_it_uncut(engine, reference):
    documents = [PROSE, PROSE[5000:], "frank herbert wrote dune"]
    assert min(map(len, documents[:2])) > 8192
    expected = reference.predict([[QUERY, d] for d in documents], show_progress_bar=False)
    tolerance = 1e-2 if getattr(engine, "precision", "fp32") != "fp32" else 1e-4
    np.testing.assert_allclose(engine.score(QUERY, documents), expected, atol=tolerance)


@pytest.mark.parametrize("name", ["onnx", "torch"])
def test_max_text_chars_sets_the_cut(tiny_model_dir, xdg_cache, name):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine=name, max_text_chars=100,
                                  onnx_cache_dir=xdg_cache / "reranker" / "onnx"))
    assert engine.max_chars == 100
    assert engine.score(QUERY, ["x" * 100 + " dune"]) == engine.score(QUERY, ["x" * 100])
