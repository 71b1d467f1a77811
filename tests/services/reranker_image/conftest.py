"""The image pipeline's tests: never the developer's own Hugging Face login or token."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_login(tmp_path, monkeypatch):
    """No HF_TOKEN and no saved login: a test that wants one sets it."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH",
                        str(tmp_path / "no-login" / "token"))
