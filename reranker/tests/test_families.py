"""Every family a drop-in must serve, on every engine, from a read-only model directory.

Each family's tiny random cross-encoder (`reranker.testing.FAMILIES`: its architecture, its
kind of tokenizer trained offline, its activation) is served by every engine from a read-only
directory (one without write permission; for root, whom that does not stop, a read-only bind
mount), whoever runs the tests: the fp32 engines give CrossEncoder's scores within 1e-4, the
reduced-precision ones rank like it (their real bar is `python -m bench parity` on the bench
model), and the ONNX export takes exactly the model's own inputs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from reranker.engine import load_engine
from reranker.engines.onnx_store import read_stamp
from reranker.engines.precision_check import spearman
from reranker.settings import Settings
from reranker.testing import FAMILIES, make_tiny_cross_encoder
from reranker.testing.corpus import SENTENCES

QUERY = "who wrote dune"
DOCUMENTS = [*SENTENCES, "", "a", "dogs " * 50, "Frank Herbert " * 400]  # the last: truncated
FP32_ENGINES = ("onnx", "openvino-fp32", "torch-batched", "torch")
REDUCED_ENGINES = ("openvino", "onnx-int8", "torch-bf16")
# The inputs each family's graph takes, and whether its last layer runs for [CLS] only.
EXPECTED_GRAPH = {
    "bert": (["input_ids", "token_type_ids", "attention_mask"], True),
    "distilbert": (["input_ids", "attention_mask"], True),
    "electra": (["input_ids", "token_type_ids", "attention_mask"], True),
    "xlm-roberta": (["input_ids", "attention_mask"], True),
    "camembert": (["input_ids", "attention_mask"], True),
    "roberta": (["input_ids", "attention_mask"], True),
    "deberta-v2": (["input_ids", "attention_mask"], False),  # type_vocab_size 0: types unused
    "modernbert": (["input_ids", "attention_mask"], False),  # mean pooling reads every token
}
TOKENIZER_KINDS = {"wordpiece": "WordPiece", "unigram": "Unigram", "bpe": "BPE"}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request, tmp_path_factory, read_only_dir):
    """(name, the family's tiny model, read-only, CrossEncoder's scores)."""
    from sentence_transformers import CrossEncoder

    name = request.param
    model = make_tiny_cross_encoder(tmp_path_factory.mktemp(name) / "model", family=name)
    expected = CrossEncoder(str(model)).predict([[QUERY, d] for d in DOCUMENTS])
    with read_only_dir(model) as read_only:
        yield name, read_only, expected


def test_the_tiny_model_is_of_its_family(family):
    name, model, expected = family
    config = json.loads((model / "config.json").read_text())
    tokenizer = json.loads((model / "tokenizer.json").read_text())
    assert config["model_type"] == name
    assert tokenizer["model"]["type"] == TOKENIZER_KINDS[FAMILIES[name].kind]
    assert np.std(expected) > 0.1  # scores spread: parity checks below can fail
    if FAMILIES[name].sigmoid:  # no activation configured, one label: CrossEncoder's sigmoid
        assert "sbert_ce_default_activation_function" not in config
        assert 0 < expected.min() and expected.max() < 1
    else:
        assert expected.min() < 0 or expected.max() > 1  # raw logits (identity)


@pytest.mark.parametrize("engine", FP32_ENGINES)
def test_fp32_engines_give_the_crossencoders_scores(family, engine):
    name, model, expected = family
    got = load_engine(Settings(model_dir=model, engine=engine)).score(QUERY, DOCUMENTS)
    np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=f"{name} on {engine}")


@pytest.mark.parametrize("engine", REDUCED_ENGINES)
def test_reduced_precision_engines_rank_like_the_crossencoder(family, engine):
    name, model, expected = family
    got = np.asarray(load_engine(Settings(model_dir=model, engine=engine))
                     .score(QUERY, DOCUMENTS))
    assert got.shape == expected.shape and np.isfinite(got).all()
    # Measured 0.99-1.0 on every family; a wrong order gives ~0.
    assert spearman(got, expected) >= 0.95, f"{name} on {engine}"


@pytest.mark.parametrize("engine", ["onnx", "openvino-fp32"])
def test_long_inputs_are_cut_where_the_crossencoder_cuts_them(family, engine):
    """XLM-RoBERTa (bge-reranker-v2-m3's 8,192 tokens) and ModernBERT (8,192) included."""
    from sentence_transformers import CrossEncoder

    name, model, _ = family
    reference = CrossEncoder(str(model))
    limit = reference.tokenizer.model_max_length
    documents = ["dune " * (limit + 500), "spice " * (limit // 3)]
    expected = reference.predict([[QUERY, d] for d in documents])
    served = load_engine(Settings(model_dir=model, engine=engine))
    assert served.max_length == limit
    np.testing.assert_allclose(served.score(QUERY, documents), expected, atol=1e-4)


def test_the_export_takes_the_models_own_inputs(family, export_cache):
    name, model, _ = family
    engine = load_engine(Settings(model_dir=model, engine="onnx"))
    stamp = read_stamp(engine_dir(engine))
    inputs, first_token = EXPECTED_GRAPH[name]
    assert sorted(stamp["inputs"]) == sorted(inputs)
    assert stamp["first_token"] is first_token and stamp["model_type"] == name
    layer = "first token only" if first_token else "the whole graph"
    assert layer in engine.graph  # what the start log says
    assert engine_dir(engine).is_relative_to(export_cache)  # not in the (read-only) model dir


def engine_dir(engine):
    return engine.graph_path.parent
