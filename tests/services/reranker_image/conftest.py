"""The image pipeline's tests: never the developer's own Hugging Face login or token; hub
repositories to serve."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(autouse=True)
def no_login(tmp_path, monkeypatch):
    """No HF_TOKEN and no saved login: a test that wants one sets it."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH",
                        str(tmp_path / "no-login" / "token"))


@pytest.fixture
def make_repository(tmp_path):
    """make_repository(name, weights): a model repository as the hub holds one (config,
    tokenizer, safetensors weights of those bytes) in tmp_path/name."""

    def make(name: str, weights: bytes = b"weights"):
        root = tmp_path / name
        root.mkdir()
        (root / "config.json").write_text(json.dumps({"model_type": "bert"}))
        (root / "tokenizer.json").write_text("{}")
        (root / "model.safetensors").write_bytes(weights)
        return root

    return make
