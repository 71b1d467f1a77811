"""Where a model's ONNX export lives, and whether it is current: stamps, fingerprints, the cache.

An export is a directory holding ``model.onnx`` (with ``model.onnx_data`` beside it when the
weights pass protobuf's 2 GB limit), ``model_int8.onnx`` where made, and ``export.json``, the
stamp: the recipe and the fingerprint of the weights it was made from, the graph's inputs, and
whether the last layer runs for the first token only. Engines look for a current export

1. in ``MODEL_DIR/onnx`` (an image ships its export there, with no torch weights beside it);
2. in the export cache, ``CACHE_DIR/<fingerprint>/`` (serve-time exports: never written into
   the model directory, which is the user's and may be a read-only mount), reused on every
   later start, also after a reboot (the cache is not /tmp). Servers may share a cache and
   start at once: `publish` keeps the first complete export and never pulls a file from
   under a server that loads it.

Standard library only: this runs in images without torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FP32_NAME = "model.onnx"
INT8_NAME = "model_int8.onnx"
EXTERNAL_SUFFIX = "_data"  # model.onnx -> model.onnx_data (the weights of a graph over 2 GB)
STAMP = "export.json"
LOCK_NAME = ".publish.lock"  # held while an export is put in place (`publish`)
# Bump when the exported graph changes, so old files are redone (2: the first-token last
# layer; 3: int8 weights in 7 bits; 4: the model's own inputs, external data, stamp details).
RECIPE = 4
WEIGHT_SUFFIXES = (".safetensors", ".bin")


def shipped_dir(model_dir: Path) -> Path:
    """Where a model directory keeps its own export (and where the image build writes it)."""
    return Path(model_dir) / "onnx"


def source_fingerprint(model_dir: Path) -> str | None:
    """A hash of the recipe, config.json and the weight files; None when the weights are absent.

    (An image ships the .onnx file without the torch weights: then there is nothing to compare.)
    """
    model_dir = Path(model_dir)
    weights = sorted(p for p in model_dir.iterdir()
                     if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not weights:
        return None
    digest = hashlib.sha256(f"recipe {RECIPE}\n".encode())
    for path in [model_dir / "config.json", *weights]:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_stamp(onnx_dir: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((Path(onnx_dir) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def write_stamp(onnx_dir: Path, stamp: dict[str, Any]) -> None:
    (Path(onnx_dir) / STAMP).write_text(json.dumps({"recipe": RECIPE, **stamp}, indent=1) + "\n")


def is_current(onnx_dir: Path, source: str | None) -> bool:
    """Whether the files in `onnx_dir` were exported, by this recipe, from the weights whose
    `source_fingerprint` is `source` (None: no weights to compare with, as in the image)."""
    if source is None:
        return True
    stamp = read_stamp(onnx_dir)
    return bool(stamp) and stamp.get("source") == source


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """$XDG_CACHE_HOME (or ~/.cache)/reranker/onnx: kept across reboots, the user's own."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "reranker" / "onnx"


def cached_dir(cache_dir: Path, source: str) -> Path:
    return Path(cache_dir) / source[:32]


def publish(cache_dir: Path, source: str, make: Callable[[Path], None]) -> Path:
    """Run make(directory) in a scratch directory of the cache, then put the export in place.

    Servers that export the same weights at once (several workers, several containers on one
    cache volume) each make their own scratch export; whichever reaches the cache first is
    kept, and no file of a kept export is ever removed or replaced, since another server may
    be loading it:

    - the cache holds a current export with every file of the scratch one: it is kept, the
      scratch one discarded;
    - it holds a current export lacking some (fp32 only, where int8 is wanted too): the
      missing files are moved in beside the others, then the stamp (replaced atomically);
    - it holds nothing, or a stale export (an old stamp, none at all): the scratch directory
      takes its place, the stale one moved aside first and then deleted.

    The export itself runs unlocked; deciding and moving hold the cache's lock (an advisory
    `flock` on LOCK_NAME), so two publishers never interleave those steps.
    """
    target = cached_dir(cache_dir, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        make(scratch)
        with _locked(target.parent):
            _install(scratch, target, source)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    """The cache's publishing lock (released by the kernel, too, if the process dies)."""
    import fcntl  # POSIX only, as the server itself (gunicorn)

    with open(cache_dir / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install(scratch: Path, target: Path, source: str) -> None:
    """Put the export made in `scratch` at `target` as `publish` says (under the lock)."""
    if not is_current(target, source):
        if target.exists():  # stale: nobody serves it (readers check the stamp first)
            stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=target.parent))
            os.replace(target, stale / target.name)
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(scratch, target)
        return
    missing = [p for p in scratch.iterdir() if p.name != STAMP and not (target / p.name).exists()]
    for path in missing:  # new names only: nothing a reader may hold is touched
        os.replace(path, target / path.name)
    if missing and (scratch / STAMP).is_file():
        os.replace(scratch / STAMP, target / STAMP)  # now describes the added files too
