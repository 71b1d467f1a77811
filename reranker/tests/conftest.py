"""Shared fixtures: one tiny cross-encoder per session, the real engine on it, a test client."""

from __future__ import annotations

from pathlib import Path

import pytest

from reranker.app import create_app
from reranker.settings import Settings
from reranker.testing import make_tiny_cross_encoder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="session")
def engine(tiny_model_dir: Path):
    from reranker.engines.crossencoder import CrossEncoderEngine

    return CrossEncoderEngine(tiny_model_dir, batch_size=32)


@pytest.fixture(scope="session")
def reference(tiny_model_dir: Path):
    """An independent CrossEncoder on the same directory: what scores must equal."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(tiny_model_dir), device="cpu")


@pytest.fixture
def settings(tiny_model_dir: Path) -> Settings:
    return Settings(model_dir=tiny_model_dir, max_documents=100, max_body_bytes=64 * 1024)


@pytest.fixture
def client(settings: Settings, engine):
    return create_app(settings, engine=engine).test_client()
