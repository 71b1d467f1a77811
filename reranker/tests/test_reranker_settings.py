"""Settings: defaults, environment parsing, flags over environment."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from reranker.__main__ import build_parser, resolve_settings
from reranker.settings import OPTIONS, Settings, SettingsError


@pytest.mark.parametrize("installed, cuda, engine", [
    ({"openvino", "onnxruntime", "sentence_transformers"}, False, "openvino"),
    ({"onnxruntime", "sentence_transformers"}, False, "onnx"),
    ({"sentence_transformers"}, False, "torch"),
    (set(), False, "openvino"),  # nothing: the default, whose missing package is then named
    ({"openvino", "onnxruntime", "sentence_transformers"}, True, "torch"),
])
def test_engine_unset_is_the_fastest_installed(monkeypatch, installed, cuda, engine):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: object() if name in installed else None)
    environ = {"ENABLE_CUDA": "true"} if cuda else {}
    assert Settings.from_env(environ).engine == engine
    assert Settings.from_env({**environ, "ENGINE": "onnx"}).engine == "onnx"  # a choice wins


def test_enable_cuda_with_a_cpu_only_engine_says_which_setting_is_needed(tiny_model_dir):
    from reranker.engine import EngineError, load_engine

    with pytest.raises(EngineError, match="ENABLE_CUDA is on.*'openvino' runs on the CPU only"
                                          ".*ENGINE=torch"):
        load_engine(Settings(model_dir=tiny_model_dir, engine="openvino", enable_cuda=True))


def test_defaults():
    s = Settings.from_env({})
    assert s.model_dir == Path("/app/models/model")
    assert (s.host, s.port, s.engine) == ("127.0.0.1", 8080, "openvino")  # installed here
    assert (s.batch_size, s.max_seq_length, s.max_documents) == (None, None, 1000)
    assert s.max_body_bytes == 10 * 1024 * 1024
    assert (s.enable_cuda, s.cuda_core, s.device) == (False, "cuda:0", "cpu")
    assert (s.max_inflight_bytes, s.queue_timeout, s.max_pass_tokens) == (32 * 1024 * 1024,
                                                                          10.0, 262144)
    assert (s.max_queued, s.queue_bound) == (None, 32)  # half of THREADS (64)
    assert s.max_text_chars is None  # the engine's: 16 x the model's token limit
    assert s.request_timeout == 55.0  # above Weaviate's 50 s module timeout


def test_the_queue_bound_follows_threads_unless_set():
    assert Settings.from_env({"THREADS": "8"}).queue_bound == 4
    assert Settings.from_env({"THREADS": "8", "MAX_QUEUED": "0"}).queue_bound == 0


def test_option_table_matches_the_dataclass():
    declared = {f.name: f.default for f in fields(Settings)}
    assert {o.field: o.default for o in OPTIONS} == declared
    assert len({o.env for o in OPTIONS}) == len(OPTIONS)


def test_every_variable_is_read():
    env = {"MODEL_DIR": "/m", "HOST": "0.0.0.0", "PORT": "9000", "ENGINE": "onnx",
           "BATCH_SIZE": "8", "MAX_SEQ_LENGTH": "256", "MAX_DOCUMENTS": "64",
           "MAX_BODY_BYTES": "1000", "ENABLE_CUDA": "true", "CUDA_CORE": "cuda:1",
           "WORKERS": "2", "THREADS": "16", "LOG_LEVEL": "DEBUG", "MAX_BATCH_TOKENS": "4096",
           "ONNX_CACHE_DIR": "/cache", "MAX_INFLIGHT_BYTES": "1000000", "MAX_QUEUED": "5",
           "QUEUE_TIMEOUT": "2.5", "MAX_PASS_TOKENS": "9999", "MAX_TEXT_CHARS": "4000",
           "REQUEST_TIMEOUT": "0"}
    s = Settings.from_env(env)
    assert s == Settings(model_dir=Path("/m"), host="0.0.0.0", port=9000, engine="onnx",
                         batch_size=8, max_seq_length=256, max_documents=64,
                         max_body_bytes=1000, enable_cuda=True, cuda_core="cuda:1", workers=2,
                         threads=16, log_level="debug", max_batch_tokens=4096,
                         onnx_cache_dir=Path("/cache"), max_inflight_bytes=1_000_000,
                         max_queued=5, queue_timeout=2.5, max_pass_tokens=9999,
                         max_text_chars=4000, request_timeout=0.0)
    assert s.device == "cuda:1"


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("TRUE", True),
                                             ("0", False), ("false", False), ("", False)])
def test_enable_cuda_words(value, expected):
    assert Settings.from_env({"ENABLE_CUDA": value}).enable_cuda is expected


@pytest.mark.parametrize("env", [{"PORT": "http"}, {"PORT": "0"}, {"BATCH_SIZE": "-1"},
                                 {"ENABLE_CUDA": "maybe"}, {"MAX_DOCUMENTS": "1.5"}])
def test_bad_values_name_the_variable(env):
    [name] = env
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


@pytest.mark.parametrize("env, why", [
    ({"MAX_INFLIGHT_BYTES": "0"}, "must be a positive integer"),
    ({"MAX_INFLIGHT_BYTES": "10MB"}, "invalid literal"),
    ({"MAX_QUEUED": "-1"}, "must be 0 or a positive integer"),
    ({"QUEUE_TIMEOUT": "0"}, "must be a positive number of seconds"),
    ({"QUEUE_TIMEOUT": "-3"}, "must be a positive number of seconds"),
    ({"QUEUE_TIMEOUT": "inf"}, "must be a positive number of seconds"),
    ({"QUEUE_TIMEOUT": "nan"}, "must be a positive number of seconds"),
    ({"QUEUE_TIMEOUT": "soon"}, "could not convert"),
    ({"MAX_PASS_TOKENS": "0"}, "must be a positive integer"),
    ({"MAX_TEXT_CHARS": "-5"}, "must be a positive integer"),
    ({"REQUEST_TIMEOUT": "-1"}, "must be 0 (off) or a positive number of seconds"),
    ({"REQUEST_TIMEOUT": "inf"}, "must be 0 (off) or a positive number of seconds"),
])
def test_bad_limits_are_one_line_naming_the_variable(env, why):
    [(name, value)] = env.items()
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r}: ") and why in message and "\n" not in message


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]


def test_flags_override_the_environment():
    s = resolve_settings(["--model-dir", "/flag", "--port", "8009", "--host", "127.0.0.1"],
                         {"MODEL_DIR": "/env", "PORT": "1234", "HOST": "0.0.0.0",
                          "BATCH_SIZE": "4"})
    assert (s.model_dir, s.port, s.host, s.batch_size) == (Path("/flag"), 8009, "127.0.0.1", 4)


def test_every_option_has_a_flag():
    flags = {a.dest for a in build_parser()._actions}
    assert {o.field for o in OPTIONS} <= flags


def test_every_setting_has_a_row_in_the_docs_settings_table():
    import re

    page = Path(__file__).resolve().parents[2] / "docs" / "reranker.md"
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", page.read_text(), re.M))
    assert {o.env for o in OPTIONS} - rows == set()
