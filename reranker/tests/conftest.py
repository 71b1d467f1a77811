"""Shared fixtures: one tiny cross-encoder per session, the real engine on it, a test client."""

from __future__ import annotations

import contextlib
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
def read_only_dir(tmp_path_factory: pytest.TempPathFactory):
    """read_only_dir(directory): a context manager giving the directory read-only, for any user.

    The directory itself with every write bit taken away (given back on exit); where that does
    not stop this user's writes (root, whom no file mode stops), a read-only bind mount of it
    instead, as Docker's `:ro` (needs mount(8); skipped with the reason where it cannot be
    made). Either way a write into it fails, which is checked first: serving from it proves
    that nothing writes into a model directory.
    """

    @contextlib.contextmanager
    def read_only(source: Path):
        with _without_write_bits(source):
            stopped = _write_fails(source)
            if stopped:
                yield source
        if not stopped:
            with _mounted_read_only(source, tmp_path_factory) as target:
                assert _write_fails(target), f"{target} is mounted read-only, yet writable"
                yield target

    return read_only


def _write_fails(directory: Path) -> bool:
    probe = directory / ".write-probe"
    try:
        probe.write_text("x")
    except OSError:
        return True
    probe.unlink()
    return False


@contextlib.contextmanager
def _without_write_bits(source: Path):
    paths = [source, *source.rglob("*")]
    modes = {path: path.stat().st_mode for path in paths}
    for path in reversed(paths):  # files before their directory
        path.chmod(modes[path] & ~0o222)
    try:
        yield
    finally:
        for path in paths:
            path.chmod(modes[path])


@contextlib.contextmanager
def _mounted_read_only(source: Path, tmp_path_factory: pytest.TempPathFactory):
    target = tmp_path_factory.mktemp("read-only")
    bound = subprocess.run(["mount", "--bind", str(source), str(target)],
                           capture_output=True, text=True)
    if bound.returncode != 0:
        pytest.skip(f"file modes do not stop this user's writes (root) and no read-only bind "
                    f"mount can be made here: {bound.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], check=True)
        yield target
    finally:
        # lazily: engines the test made may still map files of it (safetensors, ONNX)
        subprocess.run(["umount", "--lazy", str(target)], check=True)
