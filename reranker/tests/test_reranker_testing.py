"""The tiny cross-encoder helper: loadable like a real model, small, and reproducible."""

from __future__ import annotations

import hashlib
import json

from reranker.testing import IDENTITY_ACTIVATION, make_tiny_cross_encoder


def digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_weights(tmp_path, tiny_model_dir):
    again = make_tiny_cross_encoder(tmp_path / "again")
    assert digests(again) == digests(tiny_model_dir)
    other = digests(make_tiny_cross_encoder(tmp_path / "other", seed=1))
    assert other["model.safetensors"] != digests(tiny_model_dir)["model.safetensors"]
    assert other["tokenizer.json"] == digests(tiny_model_dir)["tokenizer.json"]


def test_configured_like_ms_marco(tiny_model_dir, reference):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["sbert_ce_default_activation_function"] == IDENTITY_ACTIVATION
    assert len(config["id2label"]) == 1  # num_labels=1
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert type(reference.activation_fn).__name__ == "Identity"
    assert reference.tokenizer.model_max_length == 512


def test_small_and_world_readable(tiny_model_dir):
    files = [p for p in tiny_model_dir.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 500_000
    assert all(p.stat().st_mode & 0o444 == 0o444 for p in files)


def test_tokenizer_knows_its_words(reference):
    assert reference.tokenizer.tokenize("Dune author") == ["dune", "author"]
