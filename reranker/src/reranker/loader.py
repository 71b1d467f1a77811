"""Loads the engine once per process, in the background, and reports its state.

The server answers `/.well-known/live` at once and `/.well-known/ready` with 503 until the model
is loaded, instead of refusing connections while a large model loads (and instead of keeping a
gunicorn worker from reporting to its arbiter). A failed load is kept for the ready endpoint and
handed to `on_failure`, which the production server uses to stop the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from reranker import metrics
from reranker.engine import Engine, EngineError, load_engine
from reranker.settings import Settings

log = logging.getLogger("reranker.loader")


def describe(engine: Engine, settings: Settings) -> None:
    """The engine_info metric: which engine serves which model, in what precision."""
    metrics.engine_loaded(settings.engine, getattr(engine, "precision", "fp32"),
                          settings.model_description,
                          str(engine.meta().get("model_type", "?")))


class EngineLoader:
    """Holds the process's engine: given up front, or loaded by `start()` in a thread."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine
        self._error: str | None = None
        self._ready = threading.Event()
        if engine is not None:
            self._ready.set()

    @property
    def engine(self) -> Engine | None:
        return self._engine if self._ready.is_set() else None

    @property
    def error(self) -> str | None:
        """Why loading failed, or None."""
        return self._error

    def wait(self, timeout: float) -> bool:
        """Block until the engine is loaded (True) or `timeout` seconds pass (False)."""
        return self._ready.wait(timeout)

    def start(self, settings: Settings,
              on_failure: Callable[[BaseException], None] | None = None) -> threading.Thread:
        """Load `settings.engine` for `settings.model_dir` in a daemon thread."""

        def load() -> None:
            started = time.monotonic()
            log.info("loading engine %r from %s on %s", settings.engine, settings.model_dir,
                     settings.device)
            try:
                engine = load_engine(settings)
            except BaseException as exc:  # noqa: BLE001 - reported, then handed on
                self._error = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, EngineError):  # a known reason, said in one line
                    log.error("loading the model from %s failed: %s", settings.model_dir, exc)
                else:
                    log.exception("loading the model from %s failed", settings.model_dir)
                if on_failure is not None:
                    on_failure(exc)
                return
            self._engine = engine
            describe(engine, settings)
            self._ready.set()
            log.info("serving %s: engine %s, %s, loaded in %.1f s", settings.model_description,
                     settings.engine, getattr(engine, "precision", "fp32"),
                     time.monotonic() - started)

        thread = threading.Thread(target=load, name="engine-loader", daemon=True)
        thread.start()
        return thread
