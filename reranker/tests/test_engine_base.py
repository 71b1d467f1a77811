"""The coalescing engines' base, with a fake model: the pass, the config checks, the factory."""

from __future__ import annotations

import json
import threading

import pytest

from reranker.engines.base import BatchingEngine
from reranker.settings import Settings


class LengthEngine(BatchingEngine):
    """Scores a pair as its document's length; records each micro-batch's lengths."""

    default_batch_size = 3

    def _load(self, settings):
        self.batches: list[list[int]] = []

    def _tokenize(self, pairs):
        return [d for _, d in pairs], [len(d) for _, d in pairs]

    def _forward(self, documents):
        self.batches.append([len(d) for d in documents])
        return [float(len(d)) for d in documents]


def model_dir(tmp_path, **config):
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


IDENTITY = {"id2label": {"0": "LABEL_0"},
            "sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity"}


def test_a_pass_runs_length_sorted_micro_batches_and_answers_in_input_order(tmp_path):
    engine = LengthEngine(Settings(model_dir=model_dir(tmp_path, **IDENTITY)))
    documents = ["xxxxx", "x", "xxx", "", "xxxxxxx", "xx", "xxxx"]
    assert engine.score("q", documents) == [5.0, 1.0, 3.0, 0.0, 7.0, 2.0, 4.0]
    assert engine.batches == [[0, 1, 2], [3, 4, 5], [7]]
    assert engine.score("q", []) == []
    assert engine.meta() == IDENTITY


def test_batch_size_and_max_seq_length_come_from_the_settings(tmp_path):
    directory = model_dir(tmp_path, max_position_embeddings=64, **IDENTITY)
    engine = LengthEngine(Settings(model_dir=directory, batch_size=5, max_seq_length=100))
    assert (engine.batch_size, engine.max_length) == (5, 64)  # capped by the positions
    assert LengthEngine(Settings(model_dir=directory)).batch_size == 3


def test_long_pairs_go_few_to_a_pass_within_the_token_budget(tmp_path):
    engine = LengthEngine(Settings(model_dir=model_dir(tmp_path, **IDENTITY), batch_size=4,
                                   max_batch_tokens=20))
    documents = ["x" * n for n in (2, 9, 3, 10, 4, 25, 1)]
    assert engine.score("q", documents) == [float(len(d)) for d in documents]
    # padded size (pairs x the longest) <= 20, one pair at least (25 alone)
    assert engine.batches == [[1, 2, 3, 4], [9, 10], [25]]
    assert all(len(b) * max(b) <= 20 or len(b) == 1 for b in engine.batches)


@pytest.mark.parametrize("config, tokenizer_max, limit", [
    ({"model_type": "bert", "max_position_embeddings": 512}, None, 512),
    # The RoBERTa kin number positions after the padding id: 514 positions, 512 tokens.
    ({"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1}, None, 512),
    # bge-reranker-v2-m3: 8,194 positions, its tokenizer's 8,192
    ({"model_type": "xlm-roberta", "max_position_embeddings": 8194, "pad_token_id": 1}, 8192,
     8192),
    ({"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 1}, 10**30, 512),
    ({"model_type": "modernbert", "max_position_embeddings": 8192}, 8192, 8192),
])
def test_truncation_is_the_models_own_limit(tmp_path, config, tokenizer_max, limit):
    directory = model_dir(tmp_path, **config, **IDENTITY)
    if tokenizer_max:
        (directory / "tokenizer_config.json").write_text(
            json.dumps({"model_max_length": tokenizer_max}))
    assert LengthEngine(Settings(model_dir=directory)).max_length == limit


def test_the_configured_activation_is_applied(tmp_path):
    engine = LengthEngine(Settings(model_dir=model_dir(tmp_path, id2label={"0": "LABEL_0"})))
    assert engine.score("q", [""]) == [0.5]  # none configured, one label: sigmoid


def test_multi_label_models_are_refused_before_anything_starts(tmp_path):
    directory = model_dir(tmp_path, id2label={"0": "a", "1": "b", "2": "c"})
    threads = threading.active_count()
    with pytest.raises(ValueError, match="single-label"):
        LengthEngine(Settings(model_dir=directory))
    assert threading.active_count() == threads  # no coalescer left behind


def test_the_base_alone_is_no_engine(tmp_path):
    with pytest.raises(TypeError):
        BatchingEngine(Settings(model_dir=model_dir(tmp_path, **IDENTITY)))  # type: ignore[abstract]
