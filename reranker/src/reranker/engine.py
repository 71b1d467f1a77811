"""The scorer protocol and the registry of engines.

An engine turns one query and its documents into one score per document, in input order,
and describes its model for `GET /meta`. Engines live in `reranker.engines.<module>`; the
registry below maps a name (the `ENGINE` setting) to "module:factory", imported only when
chosen, so an engine that needs no torch never imports it. The names and factories come from
the engine table (`engine_table.json`, with each engine's extra): to add an engine, write the
module and add a row there. `ENGINE` may also name any "module:factory" directly.

A factory is called as `factory(settings)` and returns an `Engine`. Engines must be safe to
call from many request threads at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from reranker.engine_table import CUDA_ENGINES, EXTRAS, FACTORIES
from reranker.settings import Settings
from reranker.watch import Watch


@runtime_checkable
class Engine(Protocol):
    """What the app needs from a scorer."""

    def score(self, query: str, documents: list[str], *,
              deadline: float | None = None, watch: Watch | None = None) -> list[float]:
        """One relevance score per document, in the order given (the model's activation applied).

        `deadline` (a time.monotonic() value, or None for none): when the model cannot start
        on the request by then, raise `reranker.admission.Overloaded` (answered 503) instead
        of scoring it. `watch` (`reranker.watch.Watch`, or None): once `watch.is_dropped`,
        score no more of the request and raise `watch.error()` (waiting for the model, wake
        when `watch.dropped` completes; scoring, check between passes).
        """
        ...

    def meta(self) -> dict[str, Any]:
        """The model's configuration (Hugging Face config.json) as a dict."""
        ...


EngineFactory = Callable[[Settings], Engine]

# name -> "module:callable" (or a callable, see register_engine); the callable takes Settings
# and returns an Engine.
ENGINES: dict[str, str | EngineFactory] = dict(FACTORIES)


class EngineError(RuntimeError):
    """The configured engine cannot be found or built."""


def register_engine(name: str, target: str | EngineFactory) -> None:
    """Register an engine under `name` (a "module:factory" string or a factory)."""
    ENGINES[name] = target


def resolve_factory(name: str) -> EngineFactory:
    """The factory registered as `name`, or the "module:attr.attr" it spells."""
    target: str | EngineFactory | None = ENGINES.get(name)
    if target is None:
        if ":" not in name:
            known = ", ".join(sorted(ENGINES))
            raise EngineError(f"unknown engine {name!r}; known engines: {known} "
                              "(or give 'module:factory')")
        target = name
    if callable(target):
        return target
    module_name, _, attr_path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            obj = getattr(obj, attr)
    except (ImportError, AttributeError) as exc:
        raise EngineError(f"engine {name!r} -> {target!r} cannot be imported: {exc}") from exc
    if not callable(obj):
        raise EngineError(f"engine {name!r} -> {target!r} is not callable")
    return obj


def load_engine(settings: Settings) -> Engine:
    """Build the engine named by `settings.engine` for `settings.model_dir`."""
    if settings.enable_cuda and settings.engine in EXTRAS and settings.engine not in CUDA_ENGINES:
        cuda = ", ".join(sorted(CUDA_ENGINES))
        raise EngineError(f"ENABLE_CUDA is on, but engine {settings.engine!r} runs on the CPU "
                          f"only: set ENGINE to one that runs on CUDA ({cuda}; in the image: "
                          "build it with --build-arg ENGINE=torch, or "
                          "WEAVIATE_DEV_RERANKER_ENGINE=torch)")
    factory = resolve_factory(settings.engine)
    try:
        return factory(settings)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(settings.engine)
        hint = f": pip install 'reranker[{extra}]'" if extra else ""
        raise EngineError(f"engine {settings.engine!r} needs the package {exc.name!r}, "
                          f"which is not installed{hint}") from exc
