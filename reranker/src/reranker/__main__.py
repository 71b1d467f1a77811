"""`python -m reranker`: flags + environment -> Settings -> the production server.

Every flag mirrors an environment variable of `reranker.settings.OPTIONS`; a flag wins over
its variable. Example: `python -m reranker --model-dir ./model --host 127.0.0.1 --port 8009`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

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
    return parser


def resolve_settings(argv: Sequence[str] | None, environ: dict[str, str]) -> Settings:
    """Settings from the environment with the given flags laid over it."""
    args = build_parser().parse_args(argv)
    merged = dict(environ)
    for option in OPTIONS:
        value = getattr(args, option.field)
        if value is not None:
            merged[option.env] = value
    return Settings.from_env(merged)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = resolve_settings(argv, dict(os.environ))
    except SettingsError as exc:
        print(f"reranker: {exc}", file=sys.stderr)
        return 2
    if not settings.model_dir.is_dir():
        print(f"reranker: model directory {settings.model_dir} does not exist "
              "(set MODEL_DIR or --model-dir)", file=sys.stderr)
        return 2
    from reranker.serve import run  # gunicorn only when actually serving

    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
