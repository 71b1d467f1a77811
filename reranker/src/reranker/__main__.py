"""`python -m reranker`: flags + environment -> Settings -> the production server.

Every flag mirrors an environment variable of `reranker.settings.OPTIONS`; a flag wins over
its variable. Example: `python -m reranker --model-dir ./model --host 127.0.0.1 --port 8009`.
`--check` loads the engine, scores one pair and exits instead of serving (the image build runs
it, so a model the engine cannot load fails the build, not the container).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence

from reranker.settings import OPTIONS, Settings, SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reranker",
        description="Serve a cross-encoder with Weaviate's reranker-transformers protocol.",
    )
    for option in OPTIONS:
        default = "the model's own" if option.default is None else option.default
        parser.add_argument(option.flag, dest=option.field, metavar=option.env,
                            help=f"{option.help} (env {option.env}, default {default})")
    parser.add_argument("--check", action="store_true",
                        help="load the engine, score one pair, print it and exit (no server)")
    return parser


def resolve_settings(argv: Sequence[str] | None, environ: dict[str, str]) -> Settings:
    """Settings from the environment with the given flags laid over it."""
    return _parse(argv, environ)[0]


def _parse(argv: Sequence[str] | None, environ: dict[str, str]) -> tuple[Settings, bool]:
    args = build_parser().parse_args(argv)
    merged = dict(environ)
    for option in OPTIONS:
        value = getattr(args, option.field)
        if value is not None:
            merged[option.env] = value
    return Settings.from_env(merged), args.check


def check(settings: Settings) -> int:
    """Load the configured engine on the model and score one pair."""
    from reranker.engine import load_engine

    try:
        score = load_engine(settings).score("a query", ["a document"])
    except Exception as exc:  # any failure to load or score is what the check reports
        print(f"reranker: engine {settings.engine!r} cannot score with {settings.model_dir}: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"model check: engine {settings.engine}, {settings.model_dir}, "
          f"score of a test pair {score[0]:.4f}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings, check_only = _parse(argv, dict(os.environ))
    except SettingsError as exc:
        print(f"reranker: {exc}", file=sys.stderr)
        return 2
    if not settings.model_dir.is_dir():
        print(f"reranker: model directory {settings.model_dir} does not exist "
              "(set MODEL_DIR or --model-dir)", file=sys.stderr)
        return 2
    if check_only:
        return check(settings)
    with metrics_dir(settings.workers):
        from reranker.serve import run  # gunicorn only when actually serving

        run(settings)
    return 0


@contextlib.contextmanager
def metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, PROMETHEUS_MULTIPROC_DIR: each worker counts in files of this
    directory and /metrics sums them (reranker.metrics). Set before prometheus-client is
    imported. One the user gave is theirs; one made here is removed when the server exits
    (by the arbiter that made it: the workers are forks of this process and leave through
    here too)."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    made, owner = tempfile.mkdtemp(prefix="reranker-metrics-"), os.getpid()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    try:
        yield
    finally:
        if os.getpid() == owner:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
