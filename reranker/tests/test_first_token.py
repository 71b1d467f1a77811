"""The first-token last layer: same logits as the full model, and the export's safety net."""

from __future__ import annotations

import types

import numpy as np
import pytest

from reranker.engines import first_token, onnx_export, onnx_graph
from reranker.engines.onnx_store import FP32_NAME

PAIRS = [("who wrote dune", "frank herbert wrote dune " * 9), ("q", ""),
         ("cats", "cats and dogs"), ("a longer query than the others", "paris")]


def logits(model, tokenizer, pairs=PAIRS):
    import torch

    batch = tokenizer([q for q, _ in pairs], [d for _, d in pairs], padding=True,
                      return_tensors="pt")
    with torch.inference_mode():
        return model(**batch).logits.numpy()


@pytest.fixture(scope="module", params=sorted(first_token.MODEL_TYPES))
def family_model(request, tmp_path_factory, tiny_model_dir):
    from reranker.testing import make_tiny_cross_encoder

    if request.param == "bert":
        return tiny_model_dir
    return make_tiny_cross_encoder(tmp_path_factory.mktemp(request.param), family=request.param)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_first_token_only_gives_the_full_models_logits(family_model, attention):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(family_model))
    load = lambda: AutoModelForSequenceClassification.from_pretrained(  # noqa: E731
        str(family_model), attn_implementation=attention).eval()
    full, short = load(), load()
    assert first_token.first_token_only(short) is True
    expected = logits(full, tokenizer)
    assert np.ptp(expected) > 1e-3  # the pairs score differently: the check can fail
    np.testing.assert_allclose(logits(short, tokenizer), expected, atol=1e-5)
    # padding-free batches (sdpa may drop the mask) and a single pair
    np.testing.assert_allclose(logits(short, tokenizer, PAIRS[:1]), expected[:1], atol=1e-5)


def test_other_model_types_are_left_alone(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir))
    model.config.model_type = "deberta-v2"
    before = model.base_model.encoder.layer[-1].forward
    assert first_token.first_token_only(model) is False
    assert model.base_model.encoder.layer[-1].forward == before


def count_attention_ops(path) -> int:
    import onnx

    return sum(node.op_type == "Attention" for node in onnx.load(str(path)).graph.node)


def test_export_runs_the_last_layer_for_the_first_token(tiny_model_dir, tmp_path):
    import json

    layers = json.loads((tiny_model_dir / "config.json").read_text())["num_hidden_layers"]
    path = onnx_export.export(tiny_model_dir, tmp_path, int8=False) / FP32_NAME
    assert count_attention_ops(path) == layers - 1  # the last layer is not the fused full op
    assert onnx_graph.max_diff_to_torch(tiny_model_dir, path) <= 1e-5


def test_export_falls_back_to_the_full_layer_when_the_rewrite_is_wrong(
        tiny_model_dir, tmp_path, monkeypatch, capsys):
    import json

    def broken(model):  # a rewrite that returns the wrong numbers
        last = model.base_model.encoder.layer[-1]
        original = last.forward
        last.forward = types.MethodType(
            lambda self, h, *a, **k: original(h, *a, **k) * 1.5, last)
        return True

    monkeypatch.setattr(first_token, "first_token_only", broken)
    path = onnx_export.export(tiny_model_dir, tmp_path, int8=False) / FP32_NAME
    layers = json.loads((tiny_model_dir / "config.json").read_text())["num_hidden_layers"]
    assert "differs from the torch model" in capsys.readouterr().err
    assert count_attention_ops(path) == layers
    assert onnx_graph.max_diff_to_torch(tiny_model_dir, path) <= 1e-5
