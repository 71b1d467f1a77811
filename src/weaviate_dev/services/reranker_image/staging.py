"""Put the model files that an image build takes on the host, without copying a model around.

- A hub model is downloaded here, outside the image build, into the user's own Hugging Face
  cache (`hub.download`: the commit `model.resolve` found, and only the files the engine
  needs; files already there from an earlier build or another tool are not downloaded again).
  The build context reads them from there. A token (HF_TOKEN, or the one a login saved) is
  used by that download only, never as a build argument, in a layer or in the image's history.
- For an engine that runs an ONNX export, torch weights are exported here when this Python has
  torch and the reranker package (tests, CI, a developer's full venv), into
  `<cache>/exports/<model>-<recipe>-<file>/`, and kept for the next build. The image then gets
  the export instead of the weights and needs no torch. Without torch here, the weights go
  into the build and the image exports them in a stage of its own.

Two processes that stage the same model take turns (one lock per download or export, in
`<cache>/locks/`): the second waits, then finds the work done. An export is written into a
scratch directory named after its process and renamed into place when complete; the next run
removes what a killed run left (`leftovers`).

`model_files(...)` returns (name in the model directory, file on disk) pairs for the build
context.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from weaviate_dev.core import locks, process, scratch
from weaviate_dev.core.errors import CommandFailed, DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import hub, leftovers, shared_code
from weaviate_dev.services.reranker_image import model as image_model
from weaviate_dev.services.reranker_image.model import WEIGHT_SUFFIXES, ModelSource

COMPLETE = ".complete"  # written last into an export: a directory without it is unfinished


def model_files(settings: Settings, model: ModelSource) -> list[tuple[str, Path]]:
    """Return the model's files for the build context, as (name in the model directory, file
    on disk) pairs, after any download or export they need."""
    leftovers.sweep(settings)
    model = image_model.with_files(settings, model)
    if model.kind == "directory":
        staged = [(name, Path(model.name) / name) for name in model.files]
    else:
        staged = hub_files(settings, model)
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if model.needs_export and onnx_file and can_export_here():
        export = export_here(settings, model, staged, onnx_file)
        staged = [(n, p) for n, p in staged if not n.endswith(WEIGHT_SUFFIXES)]
        staged += [(f"onnx/{p.name}", p) for p in sorted(export.iterdir())
                   if p.is_file() and p.name != COMPLETE]
    return staged


def hub_files(settings: Settings, model: ModelSource) -> list[tuple[str, Path]]:
    """Return the hub model's files at its commit from the Hugging Face cache, downloading them
    into it when missing."""
    with one_at_a_time(settings, f"hub-{_slug(model)}", f"downloading {model.describe()}"):
        cached = hub.cached_files(settings, model.name, model.revision, model.files)
        if cached is not None:
            say(f"model {model.describe()}: found in the Hugging Face cache "
                f"{settings.hf_hub_cache}")
            return cached
        if settings.hf_hub_offline:
            raise DevError(f"{model.describe()} is not in the Hugging Face cache "
                           f"{settings.hf_hub_cache}, and HF_HUB_OFFLINE=1 keeps it from being "
                           "downloaded: unset HF_HUB_OFFLINE once the hub can be reached")
        say(f"downloading {model.describe()} ({len(model.files)} files) into the Hugging Face "
            f"cache {settings.hf_hub_cache}")
        try:
            return hub.download(settings, model.name, model.revision, model.files)
        except hub.Unreachable as exc:
            raise DevError(f"downloading {model.describe()} failed: the hub "
                           f"{settings.hf_endpoint} could not be reached ({exc})") from None


@contextlib.contextmanager
def one_at_a_time(settings: Settings, key: str, doing: str) -> Iterator[None]:
    """Hold the lock of one download or export while entered. Another process that wants to
    do the same waits, and prints that it waits, then finds the work done."""
    def waiting() -> None:
        say(f"waiting for another weaviate-dev process that is {doing}")

    with locks.held(settings.cache_dir / "locks" / f"{key}.lock", on_wait=waiting):
        yield


def _slug(model: ModelSource) -> str:
    """Return the model as part of a file name: `org--name-<commit's first 12>`, or a
    directory's digest (a hub commit is checked to be one before it becomes a path)."""
    if model.kind == "directory":
        return model.revision[:32]
    commit = hub.checked_commit(model.revision, model.name)
    return f"{model.name.replace('/', '--')}-{commit[:12]}"


def can_export_here() -> bool:
    """Return whether this Python can export a model to ONNX (it has torch and the reranker
    package)."""
    return bool(importlib.util.find_spec("torch") and importlib.util.find_spec("reranker"))


def export_here(settings: Settings, model: ModelSource, staged: list[tuple[str, Path]],
                onnx_file: str) -> Path:
    """Return the directory of the model's ONNX export for `onnx_file`, made here with torch
    once per model, recipe and file, and kept in the cache. The weights are read where they
    lie, through symlinks."""
    store = shared_code.module(settings.project_root, "onnx_store")
    key = f"{_slug(model)}-recipe{store.RECIPE}-{onnx_file}"
    target = settings.cache_dir / "exports" / key
    with one_at_a_time(settings, f"export-{key}", f"exporting {model.describe()} to ONNX"):
        if (target / COMPLETE).is_file():
            say(f"ONNX export of {model.describe()}: found in the cache {target}")
            return target
        say(f"exporting {model.describe()} to ONNX on the host for "
            f"ENGINE={settings.reranker_engine}, so that the image needs no torch")
        _export(settings, model, staged, store, target)
    return target


def _export(settings: Settings, model: ModelSource, staged: list[tuple[str, Path]], store,
            target: Path) -> None:
    """Export the model into a scratch directory, then move the export to `target`."""
    with scratch.directory(target.parent, leftovers.EXPORT_PREFIX) as tmp:
        linked = Path(tmp) / "model"
        for name, path in staged:
            (linked / name).parent.mkdir(parents=True, exist_ok=True)
            (linked / name).symlink_to(Path(path).resolve())
        try:
            process.run([sys.executable, "-m", "reranker.engines.onnx_export", linked,
                         "--engine", settings.reranker_engine], capture=True)
        except CommandFailed as exc:  # the export says why in its last line
            raise DevError(f"{model.describe()} cannot be baked into an "
                           f"ENGINE={settings.reranker_engine} image: "
                           f"{last_line(exc, prefix='onnx export: ')}") from None
        export = store.shipped_dir(linked)
        (export / COMPLETE).write_text(model.key + "\n")
        shutil.rmtree(target, ignore_errors=True)  # an unfinished one (no COMPLETE)
        os.replace(export, target)


def last_line(exc: CommandFailed, prefix: str = "") -> str:
    """Return why a child process failed: its last output line that starts with `prefix`
    (without the prefix), else its last line."""
    lines = [line for line in exc.output.splitlines() if line.strip()]
    if prefix:
        tagged = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
        if tagged:
            return tagged[-1]
    return lines[-1] if lines else str(exc)
