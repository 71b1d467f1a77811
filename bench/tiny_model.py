"""The smallest benchmark model: the test suite's tiny random cross-encoder (2 layers of width 32).

Made by `reranker.testing.make_tiny_cross_encoder` (BERT, a WordPiece tokenizer trained offline,
512 positions): seconds to build, and a forward pass so cheap that a benchmark on it measures
the server around the model (HTTP, JSON, tokenizing, queueing, memory). Its scores mean nothing.
Saved to ~/.cache/weaviate-dev/bench-model-tiny ($BENCH_TINY_MODEL_DIR), never committed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.model import STAMP, cache_dir, ensure_built
from bench.texts import Corpus

RECIPE_VERSION = 1


def default_cache_dir() -> Path:
    return cache_dir("BENCH_TINY_MODEL_DIR", "bench-model-tiny")


def ensure_model(corpus: Corpus, target: Path | None = None, log=print) -> Path:
    return ensure_built(corpus, target or default_cache_dir(), RECIPE_VERSION, build_model, log)


def build_model(corpus: Corpus, target: Path, log=print) -> None:
    from reranker.testing import make_tiny_cross_encoder

    log(f"building the tiny bench model in {target}")
    shutil.rmtree(target, ignore_errors=True)
    make_tiny_cross_encoder(target)
    stamp = {"corpus": corpus.fingerprint, "recipe": RECIPE_VERSION, "shape": "tiny"}
    (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
