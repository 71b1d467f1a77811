import json
from pathlib import Path

import pytest

from weaviate_dev.core.errors import UsageError
from weaviate_dev.core.settings import (DEFAULT_BASE_IMAGE, DEFAULT_RERANKER_IMAGE,
                                   DEFAULT_WEAVIATE_IMAGE, RERANKER_ENGINE_TABLE, RerankerEngines,
                                   Settings)


def test_defaults_are_the_real_images(tmp_path):
    settings = Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path)})
    assert settings.weaviate_image == DEFAULT_WEAVIATE_IMAGE
    assert settings.weaviate_image.endswith(":1.39.0")
    assert settings.base_image == DEFAULT_BASE_IMAGE == "python:3.11-slim"
    assert settings.model_dir is None and settings.ca_bundle is None
    assert settings.bind_address == "127.0.0.1"
    assert settings.ci is False


def test_every_switch_is_read(tmp_path):
    env = {
        "WEAVIATE_DEV_ROOT": str(tmp_path),
        "WEAVIATE_DEV_WEAVIATE_IMAGE": "w:1", "WEAVIATE_DEV_RERANKER_IMAGE": "r:1",
        "WEAVIATE_DEV_BASE_IMAGE": "b:1", "WEAVIATE_DEV_MODEL_NAME": "org/model",
        "WEAVIATE_DEV_MODEL_DIR": str(tmp_path / "m"), "WEAVIATE_DEV_CA_BUNDLE": "ca.pem",
        "WEAVIATE_DEV_PIP_INDEX_URL": "https://pypi.example/simple",
        "WEAVIATE_DEV_BIND_ADDRESS": "0.0.0.0", "CI": "true",
    }
    s = Settings.from_env(env)
    assert (s.weaviate_image, s.reranker_image, s.base_image, s.model_name) == (
        "w:1", "r:1", "b:1", "org/model")
    assert s.model_dir == tmp_path / "m"
    assert s.ca_bundle == Path("ca.pem").resolve()
    assert s.pip_index_url == "https://pypi.example/simple"
    assert s.bind_address == "0.0.0.0" and s.ci is True


def test_ca_bundle_falls_back_to_pips(tmp_path):
    s = Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path), "PIP_CERT": "/etc/x.crt"})
    assert s.ca_bundle == Path("/etc/x.crt")


def test_project_root_is_this_checkout():
    root = Settings.from_env({}).project_root
    assert (root / "reranker" / "Dockerfile").is_file()
    assert (root / "compose").is_dir()


def test_the_reranker_engine_picks_the_default_image_tag(tmp_path):
    base = {"WEAVIATE_DEV_ROOT": str(tmp_path)}
    default = Settings.from_env(base)
    assert (default.reranker_engine, default.reranker_image) == ("openvino",
                                                                 DEFAULT_RERANKER_IMAGE)
    onnx = Settings.from_env({**base, "WEAVIATE_DEV_RERANKER_ENGINE": "onnx"})
    assert onnx.reranker_image == "weaviate-dev/reranker-transformers:onnx"
    pinned = Settings.from_env({**base, "WEAVIATE_DEV_RERANKER_ENGINE": "onnx",
                                "WEAVIATE_DEV_RERANKER_IMAGE": "mine:1"})
    assert pinned.reranker_image == "mine:1"


def test_an_unknown_reranker_engine_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="WEAVIATE_DEV_RERANKER_ENGINE='tf'.*onnx-int8"):
        Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path),
                           "WEAVIATE_DEV_RERANKER_ENGINE": "tf"})


def write_engine_table(root: Path, default: str, *names: str) -> None:
    table = root / RERANKER_ENGINE_TABLE
    table.parent.mkdir(parents=True)
    table.write_text(json.dumps({"default": default, "engines": {
        name: {"factory": f"m:{name}", "extra": "x"} for name in names}}))


def test_the_engines_are_read_from_the_reranker_table_of_the_project_root(tmp_path):
    write_engine_table(tmp_path, "fast", "slow", "fast")
    assert RerankerEngines.read(tmp_path) == RerankerEngines(
        ("slow", "fast"), "fast", extras={"slow": "x", "fast": "x"})
    default = Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path)})
    assert (default.reranker_engine, default.reranker_image) == ("fast", DEFAULT_RERANKER_IMAGE)
    slow = Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path),
                              "WEAVIATE_DEV_RERANKER_ENGINE": "slow"})
    assert slow.reranker_image == "weaviate-dev/reranker-transformers:slow"
    with pytest.raises(UsageError, match="'onnx': choose one of slow, fast$"):
        Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path),
                           "WEAVIATE_DEV_RERANKER_ENGINE": "onnx"})


def test_this_checkouts_table_is_found_and_a_root_without_one_uses_it(tmp_path):
    own = RerankerEngines.read(Settings.from_env({}).project_root)
    assert own.default == "openvino" and {"onnx", "torch"} <= set(own.names)  # README's table
    assert "openvino" in own.onnx_engines and "torch" not in own.onnx_engines
    assert RerankerEngines.read(tmp_path) == own


def test_no_table_anywhere_is_a_usage_error(tmp_path, monkeypatch):
    from weaviate_dev.core import settings

    monkeypatch.setattr(settings.tree, "project_root", lambda: tmp_path / "installed")
    with pytest.raises(UsageError, match="no reranker engine table at .*engine_table.json"):
        Settings.from_env({"WEAVIATE_DEV_ROOT": str(tmp_path)})


def test_the_rerankers_reduced_precision_is_a_setting(tmp_path):
    base = {"WEAVIATE_DEV_ROOT": str(tmp_path)}
    assert Settings.from_env(base).reranker_reduced_precision == "check"
    off = {**base, "WEAVIATE_DEV_RERANKER_REDUCED_PRECISION": "off"}
    assert Settings.from_env(off).reranker_reduced_precision == "off"
    with pytest.raises(UsageError, match="WEAVIATE_DEV_RERANKER_REDUCED_PRECISION='fp32'.*"
                                         "check, on, off"):
        Settings.from_env({**base, "WEAVIATE_DEV_RERANKER_REDUCED_PRECISION": "fp32"})
