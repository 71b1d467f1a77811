"""The model files an image build takes, had on the host without copying a model around.

- A hub model is downloaded here, outside the image build, by the reranker's own download
  script (`reranker/src/reranker/download.py`: the commit `model.resolve` found, every
  file from it) into `<cache>/models/<org>--<name>/<commit>/`, kept for the next build. A token
  (HF_TOKEN) reaches only that download's environment: never a build argument, a layer or the
  image's history.
- For an engine of an ONNX export, torch weights are exported here when this Python has torch
  and the reranker package (tests, CI, a developer's full venv), into
  `<cache>/exports/<model>-<recipe>-<file>/`, kept for the next build; the image then gets the
  export instead of the weights and needs no torch. Without torch here the weights go in and
  the image build exports them in a stage of its own.

`files(...)` answers (name in the model directory, file on disk) pairs for the build context.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import CommandFailed, DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import shared_code
from weaviate_dev.services.reranker_image.model import WEIGHT_SUFFIXES, ModelSource

COMPLETE = ".complete"  # written last: a directory without it is an interrupted attempt


def files(settings: Settings, model: ModelSource) -> list[tuple[str, Path]]:
    """The model's files for the build context, after any download or export it needs."""
    root = Path(model.name) if model.kind == "directory" else fetch(settings, model)
    staged = [(name, root / name) for name in model.files]
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if model.needs_export and onnx_file and can_export_here():
        export = export_here(settings, model, root, staged, onnx_file)
        staged = [(n, p) for n, p in staged if not n.endswith(WEIGHT_SUFFIXES)]
        staged += [(f"onnx/{p.name}", p) for p in sorted(export.iterdir())
                   if p.is_file() and p.name != COMPLETE]
    return staged


def fetch(settings: Settings, model: ModelSource) -> Path:
    """The hub model's commit in the download cache (downloaded once)."""
    target = settings.cache_dir / "models" / model.name.replace("/", "--") / model.revision
    if (target / COMPLETE).is_file():
        say(f"model {model.describe()}: from the download cache {target}")
        return target
    download = shared_code.module(settings.project_root, "download")
    onnx = any(name.startswith("onnx/") for name in model.files)
    say(f"downloading {model.describe()} ({len(model.files)} files) into {target}")
    with _scratch(target) as tmp:
        scratch = Path(tmp)
        env = download_environment(settings, scratch)
        argv = [sys.executable, download.__file__, "--model-name", model.name, "--revision",
                model.revision, "--output", str(scratch / "model"), *(["--onnx"] if onnx else [])]
        try:
            process.run(argv, env=env, capture=True)
        except CommandFailed as exc:
            raise DevError(f"downloading {model.describe()} failed: {last_line(exc)}") from None
        (scratch / "model" / COMPLETE).write_text(model.revision + "\n")
        shutil.rmtree(target, ignore_errors=True)  # an interrupted attempt's leftovers
        os.replace(scratch / "model", target)
    return target


def download_environment(settings: Settings, scratch: Path) -> dict[str, str]:
    """The download's environment: the hub, the token, the CA bundle, a private HF_HOME."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGING_FACE_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT=settings.hf_endpoint, HF_HOME=str(scratch / "hf-home"),
               HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
    if settings.hf_token:
        env["HF_TOKEN"] = settings.hf_token
    if settings.ca_bundle:
        for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            env[name] = str(settings.ca_bundle)
    return env


def can_export_here() -> bool:
    return bool(importlib.util.find_spec("torch") and importlib.util.find_spec("reranker"))


def export_here(settings: Settings, model: ModelSource, root: Path,
                staged: list[tuple[str, Path]], onnx_file: str) -> Path:
    """The model's ONNX export for `onnx_file`, made here with torch (once per model, recipe
    and file; kept in the cache). The weights are read where they lie (symlinked)."""
    store = shared_code.module(settings.project_root, "onnx_store")
    key = model.revision[:32] if model.kind == "directory" else \
        f"{model.name.replace('/', '--')}-{model.revision[:12]}"
    target = settings.cache_dir / "exports" / f"{key}-recipe{store.RECIPE}-{onnx_file}"
    if (target / COMPLETE).is_file():
        say(f"ONNX export of {model.describe()}: from the cache {target}")
        return target
    say(f"exporting {model.describe()} to ONNX here for ENGINE={settings.reranker_engine} "
        "(the image needs no torch)")
    with _scratch(target) as tmp:
        scratch = Path(tmp)
        linked = scratch / "model"
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
        shutil.rmtree(target, ignore_errors=True)
        os.replace(export, target)
    return target


def last_line(exc: CommandFailed, prefix: str = "") -> str:
    """A failed child's reason: its last line starting with `prefix`, else its last line."""
    lines = [line for line in exc.output.splitlines() if line.strip()]
    if prefix:
        tagged = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
        if tagged:
            return tagged[-1]
    return lines[-1] if lines else str(exc)


def _scratch(target: Path) -> tempfile.TemporaryDirectory:
    """A scratch directory beside `target` (same filesystem: the result is renamed into
    place), removed on the way out whatever happened."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".partial-", dir=target.parent)
