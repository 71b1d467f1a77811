"""The engine registry and the reference CrossEncoder engine."""

from __future__ import annotations

import numpy as np
import pytest

from reranker.engine import ENGINES, Engine, EngineError, load_engine, resolve_factory
from reranker.settings import Settings


def test_torch_is_the_default_engine():
    assert Settings().engine in ENGINES


def test_unknown_engine_names_the_known_ones():
    with pytest.raises(EngineError, match="unknown engine 'nope'.*torch"):
        resolve_factory("nope")


def test_module_factory_strings_resolve():
    assert resolve_factory("reranker.engines.crossencoder:CrossEncoderEngine.from_settings")


def test_unimportable_factory_is_an_engine_error():
    with pytest.raises(EngineError, match="cannot be imported"):
        resolve_factory("reranker.no_such_module:factory")


def test_load_engine_builds_the_crossencoder(tiny_model_dir, reference):
    engine = load_engine(Settings(model_dir=tiny_model_dir, engine="torch", batch_size=2))
    assert isinstance(engine, Engine)
    docs = ["a", "dune", "", "cats and dogs", "frank herbert"]
    np.testing.assert_allclose(engine.score("q", docs),
                               reference.predict([["q", d] for d in docs]), atol=1e-5)
    assert engine.score("q", []) == []


def test_max_seq_length_truncates(tiny_model_dir):
    short = load_engine(Settings(model_dir=tiny_model_dir, max_seq_length=8))
    full = load_engine(Settings(model_dir=tiny_model_dir))
    head = "dune desert planet spice"
    a, b = head + " cats", head + " paris"  # differ only after token 8
    s_short, s_full = short.score("q", [a, b]), full.score("q", [a, b])
    assert s_short[0] == pytest.approx(s_short[1], abs=1e-6)
    assert s_full[0] != pytest.approx(s_full[1], abs=1e-6)


def test_multi_label_models_are_refused(tmp_path):
    from reranker.engines.crossencoder import CrossEncoderEngine
    from transformers import BertConfig, BertForSequenceClassification

    from reranker.testing import make_tiny_cross_encoder

    directory = make_tiny_cross_encoder(tmp_path / "m")
    config = BertConfig.from_pretrained(directory)
    config.num_labels = 3
    BertForSequenceClassification(config).save_pretrained(directory)
    with pytest.raises(ValueError, match="single-label"):
        CrossEncoderEngine(directory).score("q", ["a"])


def test_a_missing_engine_package_names_the_extra_to_install(tiny_model_dir):
    def factory(settings):
        raise ModuleNotFoundError("No module named 'sentence_transformers'",
                                  name="sentence_transformers")

    saved = ENGINES["torch"]
    ENGINES["torch"] = factory
    try:
        with pytest.raises(EngineError, match=r"'sentence_transformers'.*reranker\[torch\]"):
            load_engine(Settings(model_dir=tiny_model_dir, engine="torch"))
    finally:
        ENGINES["torch"] = saved
