"""Shared fixtures: one tiny cross-encoder per session, the real engine on it, a test client."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from reranker.app import create_app
from reranker.settings import Settings
from reranker.testing import make_tiny_cross_encoder


@pytest.fixture(scope="session")
def xdg_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def export_cache(xdg_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Serve-time ONNX exports go to the user's XDG cache: in these tests, to one of their own
    (shared by the session, so each model is exported once), never to ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg_cache))
    return xdg_cache / "reranker" / "onnx"


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


@pytest.fixture(scope="session")
def read_only_mount(tmp_path_factory: pytest.TempPathFactory):
    """read_only_mount(directory): a context manager giving a read-only bind mount of it.

    Root may write anywhere, whatever the file modes say: only a read-only mount (as Docker's
    `:ro`) proves that nothing writes into a model directory. Needs root and mount(8).
    """
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (run as root, as CI does)")

    @contextlib.contextmanager
    def mount(source: Path):
        target = tmp_path_factory.mktemp("read-only")
        subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], check=True)
            probe = target / ".write-probe"
            with pytest.raises(OSError):  # the mount really is read-only
                probe.write_text("x")
            yield target
        finally:
            # lazily: engines the test made may still map files of it (safetensors, ONNX)
            subprocess.run(["umount", "--lazy", str(target)], check=True)

    return mount
