"""Find, identify and check the model that our reranker image bakes in, before any build.

The image takes a local model directory (`WEAVIATE_DEV_MODEL_DIR`) or a Hugging Face model
(`WEAVIATE_DEV_MODEL_NAME`, at `WEAVIATE_DEV_MODEL_REVISION` or main; `HF_ENDPOINT` for a
mirror, `HF_TOKEN` or a login for a gated or private one). `resolve` turns either into a
`ModelSource` within seconds, before anything slow starts:

- a directory: the files the engine loads from it (the reranker's own selection, `download.
  wanted_files`; for an engine of an ONNX export the directory's own current export instead of
  its torch weights) and the digest of those files (cached by stat: `digests`);
- a hub model: the commit its revision points to now (the hub answers through
  huggingface_hub: `hub`) and the files of that commit. A missing model or revision, or a
  gated model without access, stops here with one line. When the hub cannot be reached (no
  connection, a timeout, a server error; HF_HUB_OFFLINE=1), the newest commit remembered for
  that revision is used instead (`remembered`), and a line says so; only when none is
  remembered does it stop. A revision that is a commit id (40 hex characters) is used without
  asking the hub.

The image's label records the ModelSource, and a later run compares the configured model with
it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import digests, hub, remembered, shared_code

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")
SKIPPED_DIRS = (".git/", ".cache/")


@dataclass(frozen=True)
class ModelSource:
    """One model at one version: a directory's files and their digest, or a hub commit."""

    kind: str  # "directory" or "hub"
    name: str  # the directory's path, or the hub model id
    revision: str  # directory: sha256 of its files; hub: the commit
    files: tuple[str, ...]  # what the image takes (relative names)
    needs_export: bool = False  # the files are torch weights an ONNX engine must export first

    @property
    def key(self) -> str:
        """The text that identifies the model's content: `sha256:<digest>` of a directory's
        files (so a copied directory is the same model), or `name@commit`."""
        return f"sha256:{self.revision}" if self.kind == "directory" \
            else f"{self.name}@{self.revision}"

    def describe(self) -> str:
        """Return the model for people: `org/name@<commit>` or `directory D (sha256 ...)`."""
        if self.kind == "directory":
            return f"directory {self.name} (sha256 {self.revision[:12]})"
        return f"{self.name}@{self.revision}"


def resolve(settings: Settings) -> ModelSource:
    """Identify the configured model and return it; raise DevError (one line) when it cannot
    be found."""
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if settings.model_dir:
        return local_model(settings, onnx_file)
    return hub_model(settings, onnx_file)


def identity(settings: Settings) -> tuple:
    """Return the settings that `resolve` depends on: two settings with the same identity name
    the same model."""
    return (settings.model_dir, settings.model_name, settings.model_revision,
            settings.hf_endpoint, settings.hf_hub_offline, settings.reranker_engine,
            settings.project_root)


# --- a local directory --------------------------------------------------------------------


def local_model(settings: Settings, onnx_file: str | None) -> ModelSource:
    """Return the ModelSource of WEAVIATE_DEV_MODEL_DIR; raise DevError when the directory is
    not a model that the image can serve."""
    model_dir = settings.model_dir
    if not (model_dir / "config.json").is_file():
        raise DevError(f"WEAVIATE_DEV_MODEL_DIR={model_dir} is not a model directory (no "
                       "config.json): give a cross-encoder saved with save_pretrained")
    refuse_remote_code(model_dir)
    files, needs_export = select_local(model_dir, onnx_file, settings.project_root)
    digest = digests.directory_digest(model_dir, files, settings.cache_dir,
                                           settings.project_root)
    return ModelSource("directory", str(model_dir), digest, tuple(files), needs_export)


def select_local(model_dir: Path, onnx_file: str | None,
                 project_root: Path) -> tuple[list[str], bool]:
    """Return the files that an image of this engine takes from model_dir, and whether they
    must be exported to ONNX first. An ONNX engine takes the directory's own export when it
    has the engine's file and is current (the repository's own export, or ours made from the
    weights beside it)."""
    names = sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*")
                   if p.is_file() and not p.relative_to(model_dir).as_posix()
                   .startswith(SKIPPED_DIRS))
    download = shared_code.module(project_root, "download")
    everything = download.wanted_files(names)
    if onnx_file is None:
        return everything, False
    export = f"onnx/{onnx_file}"
    if export in names and export_is_current(model_dir, project_root):
        extras = [f"{export}_data", "onnx/export.json"]
        return sorted([n for n in everything if not n.endswith(WEIGHT_SUFFIXES)] + [export]
                      + [n for n in extras if n in names]), False
    return everything, True


def export_is_current(model_dir: Path, project_root: Path) -> bool:
    """Return whether the directory's ONNX export can be used, by the engines' own rule
    (onnx_store): a repository's export (without our stamp) is used as it is; ours only when it
    was made from the weights beside it."""
    store = shared_code.module(project_root, "onnx_store")
    onnx_dir = store.shipped_dir(model_dir)
    if store.read_stamp(onnx_dir) is None:
        return True
    return store.is_current(onnx_dir, store.source_fingerprint(model_dir))


def refuse_remote_code(model_dir: Path) -> None:
    """Raise DevError when the model needs its repository's own code, which neither the
    official image nor ours runs, so that the user learns it before a build starts."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise DevError(f"WEAVIATE_DEV_MODEL_DIR={model_dir}: config.json cannot be read "
                       f"({exc})") from None
    if isinstance(config, dict) and config.get("auto_map"):
        name = (config.get("architectures") or ["an unnamed architecture"])[0]
        raise DevError(f"WEAVIATE_DEV_MODEL_DIR={model_dir}: {name} (model_type "
                       f"{config.get('model_type')!r}) needs its repository's own code "
                       "(auto_map in config.json), which the reranker image does not run "
                       "with any engine, ENGINE=torch included (trust_remote_code is off, as "
                       "in the official image)")


# --- a hub model --------------------------------------------------------------------------


def hub_model(settings: Settings, onnx_file: str | None) -> ModelSource:
    """Return the hub model at the commit its revision points to now, as the hub answers.
    When the hub cannot be reached, use the newest commit remembered for that revision and
    print a line that says so. A revision that is a commit id is used as it is, and the hub is
    not asked when HF_HUB_OFFLINE=1."""
    name, revision = settings.model_name, settings.model_revision or "main"
    if hub.COMMIT.fullmatch(revision):
        return hub_source(settings, revision, remembered.files_of(settings, name, revision),
                          onnx_file)
    if settings.hf_hub_offline:
        return from_memory(settings, onnx_file, "HF_HUB_OFFLINE=1: the hub is not asked")
    try:
        commit, files = hub.model_files(settings, name, revision)
    except hub.Unreachable as exc:
        return from_memory(settings, onnx_file,
                           f"the hub {settings.hf_endpoint} could not be reached ({exc})")
    remembered.remember(settings, name, revision, commit, files)
    return hub_source(settings, commit, files, onnx_file)


def from_memory(settings: Settings, onnx_file: str | None, why: str) -> ModelSource:
    """Return the newest commit remembered for the configured revision, and print a line that
    names it and `why` the hub was not asked; raise DevError when no commit is remembered."""
    name, revision = settings.model_name, settings.model_revision or "main"
    found = remembered.recall(settings, name, revision)
    if found is None:
        raise unavailable(settings, f"{why}, and no commit of it at {revision} is remembered "
                                    "here (a commit is remembered once a build has reached "
                                    "the hub)")
    say(f"{why}: using {name}@{found.commit}, {found.source}")
    return hub_source(settings, found.commit, found.files, onnx_file)


def hub_source(settings: Settings, commit: str, files: list[str] | tuple[str, ...],
               onnx_file: str | None) -> ModelSource:
    """Return the ModelSource of a hub commit whose files are `files`: every file of the
    commit, or none when they are not known here (`with_files` asks the hub for them when a
    build needs them)."""
    name = settings.model_name
    if not files:
        return ModelSource("hub", name, commit, ())
    download = shared_code.module(settings.project_root, "download")
    wanted = download.wanted_files(list(files), onnx=onnx_file == "model.onnx")
    if "config.json" not in wanted:
        raise DevError(f"{name}@{commit} has no config.json: is it a transformers model?")
    return ModelSource("hub", name, commit, tuple(wanted),
                       needs_export=onnx_file is not None
                       and not any(f.startswith("onnx/") for f in wanted))


def with_files(settings: Settings, model: ModelSource) -> ModelSource:
    """Return `model` with the files a build takes. For a hub commit whose files are not known
    here (a revision given as a commit, a commit remembered from an image), the hub is asked
    for them."""
    if model.kind != "hub" or model.files:
        return model
    settings = replace(settings, model_name=model.name)
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if settings.hf_hub_offline:
        raise DevError(f"building an image of {model.describe()} needs the list of its files, "
                       "which is not known here, and HF_HUB_OFFLINE=1 keeps the hub from "
                       "being asked: unset HF_HUB_OFFLINE once the hub can be reached")
    try:
        commit, files = hub.model_files(settings, model.name, model.revision)
    except hub.Unreachable as exc:
        raise unavailable(settings, f"the hub {settings.hf_endpoint} could not be reached to "
                                    f"list the files of {model.revision} ({exc})") from None
    remembered.remember(settings, model.name, None, commit, files)
    return hub_source(settings, commit, files, onnx_file)


def unavailable(settings: Settings, problem: str) -> DevError:
    """Return the error for a model that cannot be found, with the ways to fix that."""
    return DevError(f"the reranker image needs the model {settings.model_name}, and it cannot "
                    f"be found: {problem}. Fix: WEAVIATE_DEV_MODEL_DIR=/path/to/model (a "
                    "cross-encoder saved with save_pretrained), or network access to the hub "
                    "(HF_ENDPOINT for a mirror)")
