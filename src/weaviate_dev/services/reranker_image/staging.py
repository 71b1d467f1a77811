"""The model files an image build takes, had on the host without copying a model around.

- A hub model is downloaded here, outside the image build, into the user's own Hugging Face
  cache (`hub.download`: the commit `model.resolve` found, the files the engine needs; files
  already there, from an earlier build or another tool, are not downloaded again), and the
  build context reads them from there. A token (HF_TOKEN, or the one a login saved) is used
  by that download only: never a build argument, a layer or the image's history.
- For an engine of an ONNX export, torch weights are exported here when this Python has torch
  and the reranker package (tests, CI, a developer's full venv), into
  `<cache>/exports/<model>-<recipe>-<file>/`, kept for the next build; the image then gets the
  export instead of the weights and needs no torch. Without torch here the weights go in and
  the image build exports them in a stage of its own.

Two processes that stage the same model take turns (a lock per download or export, in
`<cache>/locks/`): the second waits, then finds the work done. An export is written into a
scratch directory named after its process and renamed into place when complete; what a killed
run left is removed by the next (`leftovers`).

`files(...)` answers (name in the model directory, file on disk) pairs for the build context.
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


def files(settings: Settings, model: ModelSource) -> list[tuple[str, Path]]:
    """The model's files for the build context, after any download or export it needs."""
    leftovers.sweep(settings)
    model = image_model.with_files(settings, model)
    if model.kind == "directory":
        staged = [(name, Path(model.name) / name) for name in model.files]
    else:
        staged = fetch(settings, model)
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if model.needs_export and onnx_file and can_export_here():
        export = export_here(settings, model, staged, onnx_file)
        staged = [(n, p) for n, p in staged if not n.endswith(WEIGHT_SUFFIXES)]
        staged += [(f"onnx/{p.name}", p) for p in sorted(export.iterdir())
                   if p.is_file() and p.name != COMPLETE]
    return staged


def fetch(settings: Settings, model: ModelSource) -> list[tuple[str, Path]]:
    """The hub model's files at its commit, from the Hugging Face cache (downloaded into it
    when missing)."""
    with one_at_a_time(settings, f"hub-{_slug(model)}", f"downloading {model.describe()}"):
        cached = hub.cached_files(settings, model.name, model.revision, model.files)
        if cached is not None:
            say(f"model {model.describe()}: from the Hugging Face cache {settings.hf_hub_cache}")
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
    """Hold the lock of one download or export while entered; another process doing the same
    waits (and says so), then finds it done."""
    def waiting() -> None:
        say(f"waiting for another weaviate-dev process that is {doing}")

    with locks.held(settings.cache_dir / "locks" / f"{key}.lock", on_wait=waiting):
        yield


def _slug(model: ModelSource) -> str:
    """The model as part of a file name: `org--name-<commit's first 12>`, or a directory's
    digest (a hub commit is checked to be one before it becomes a path)."""
    if model.kind == "directory":
        return model.revision[:32]
    commit = hub.checked_commit(model.revision, model.name)
    return f"{model.name.replace('/', '--')}-{commit[:12]}"


def can_export_here() -> bool:
    return bool(importlib.util.find_spec("torch") and importlib.util.find_spec("reranker"))


def export_here(settings: Settings, model: ModelSource, staged: list[tuple[str, Path]],
                onnx_file: str) -> Path:
    """The model's ONNX export for `onnx_file`, made here with torch (once per model, recipe
    and file; kept in the cache). The weights are read where they lie (symlinked)."""
    store = shared_code.module(settings.project_root, "onnx_store")
    key = f"{_slug(model)}-recipe{store.RECIPE}-{onnx_file}"
    target = settings.cache_dir / "exports" / key
    with one_at_a_time(settings, f"export-{key}", f"exporting {model.describe()} to ONNX"):
        if (target / COMPLETE).is_file():
            say(f"ONNX export of {model.describe()}: from the cache {target}")
            return target
        say(f"exporting {model.describe()} to ONNX here for ENGINE={settings.reranker_engine} "
            "(the image needs no torch)")
        _export(settings, model, staged, store, target)
    return target


def _export(settings: Settings, model: ModelSource, staged: list[tuple[str, Path]], store,
            target: Path) -> None:
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
    """A failed child's reason: its last line starting with `prefix`, else its last line."""
    lines = [line for line in exc.output.splitlines() if line.strip()]
    if prefix:
        tagged = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
        if tagged:
            return tagged[-1]
    return lines[-1] if lines else str(exc)
