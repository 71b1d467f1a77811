"""The model our reranker image bakes in: found, identified and checked before any build.

The image takes a local model directory (`WEAVIATE_DEV_MODEL_DIR`) or a Hugging Face model
(`WEAVIATE_DEV_MODEL_NAME`, at `WEAVIATE_DEV_MODEL_REVISION` or main; `HF_ENDPOINT` for a
mirror, `HF_TOKEN` for a gated or private one). `resolve` turns either into a `ModelSource`
within seconds, before anything slow starts:

- a directory: the files the engine loads from it (the reranker's own selection, `download.
  wanted_files`; for an engine of an ONNX export the directory's own current export instead of
  its torch weights) and the digest of those files (cached by stat: `digests`);
- a hub model: the commit its revision names now (the hub's revision API) and the files of
  that commit; a hub that cannot be reached, a missing model or revision, or a gated model
  without a token stops here with one line naming the model, what was tried and the fixes.

The ModelSource is what the image's label records and what a later run compares with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import requests

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import digests, shared_code

TIMEOUT = (5, 10)  # connect, read (seconds): the check must answer long before a build would
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
        """What identifies the model's content (a copied directory is the same model)."""
        return f"sha256:{self.revision}" if self.kind == "directory" \
            else f"{self.name}@{self.revision}"

    def describe(self) -> str:
        if self.kind == "directory":
            return f"directory {self.name} (sha256 {self.revision[:12]})"
        return f"{self.name}@{self.revision}"


def resolve(settings: Settings) -> ModelSource:
    """The configured model, identified; DevError (one line) when it cannot be had."""
    onnx_file = settings.reranker_engines.onnx_file(settings.reranker_engine)
    if settings.model_dir:
        return local_model(settings, onnx_file)
    return hub_model(settings, onnx_file)


def identity(settings: Settings) -> tuple:
    """What `resolve` depends on: two settings with the same identity name the same model."""
    return (settings.model_dir, settings.model_name, settings.model_revision,
            settings.hf_endpoint, settings.reranker_engine, settings.project_root)


# --- a local directory --------------------------------------------------------------------


def local_model(settings: Settings, onnx_file: str | None) -> ModelSource:
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
    """(the files an image of this engine takes from model_dir, whether they must be exported
    first). An ONNX engine takes the directory's own export when it holds the engine's file
    and is current (the repository's own, or ours made from the weights beside it)."""
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
    """The engines' own rule (onnx_store): a repository's export (no stamp of ours) is used as
    it is; ours only when made from the weights beside it."""
    store = shared_code.module(project_root, "onnx_store")
    onnx_dir = store.shipped_dir(model_dir)
    if store.read_stamp(onnx_dir) is None:
        return True
    return store.is_current(onnx_dir, store.source_fingerprint(model_dir))


def refuse_remote_code(model_dir: Path) -> None:
    """A model that needs its repository's own code cannot be served by the image (neither
    the official one nor ours): say so before a build starts."""
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


def hub_url(settings: Settings) -> str:
    """The hub API address that names the model's commit at the wanted revision."""
    revision = settings.model_revision or "main"
    return (f"{settings.hf_endpoint.rstrip('/')}/api/models/{settings.model_name}"
            f"/revision/{requests.utils.quote(revision, safe='')}")


def hub_model(settings: Settings, onnx_file: str | None) -> ModelSource:
    url = hub_url(settings)
    headers = {"Authorization": f"Bearer {settings.hf_token}"} if settings.hf_token else {}
    try:
        response = requests.get(url, headers=headers, timeout=TIMEOUT,
                                verify=_verify(settings.ca_bundle))
    except requests.RequestException as exc:
        raise unavailable(settings, f"GET {url} failed ({_reason(exc)})") from None
    if response.status_code in (401, 403):
        if settings.hf_token:
            raise DevError(f"the hub refused HF_TOKEN for {settings.model_name} ({url} "
                           f"answered {response.status_code}): the token has no access to "
                           "this gated or private model")
        raise DevError(f"{settings.model_name} is gated or private ({url} answered "
                       f"{response.status_code}): set HF_TOKEN to a token with access (it is "
                       "used for the download only, never stored in the image)")
    if response.status_code == 404 and \
            response.headers.get("X-Error-Code") == "RevisionNotFound":
        raise DevError(f"{settings.model_name} has no revision {settings.model_revision!r} "
                       "(WEAVIATE_DEV_MODEL_REVISION: a branch, tag or commit)")
    if response.status_code != 200:
        raise unavailable(settings, f"GET {url} answered {response.status_code}")
    try:
        info = response.json()
        commit = str(info["sha"])
        names = [str(s["rfilename"]) for s in info.get("siblings") or []]
    except (ValueError, KeyError, TypeError):
        raise unavailable(settings, f"GET {url} did not answer as a hub does") from None
    download = shared_code.module(settings.project_root, "download")
    files = download.wanted_files(names, onnx=onnx_file == "model.onnx")
    if "config.json" not in files:
        raise DevError(f"{settings.model_name}@{commit} has no config.json: is it a "
                       "transformers model?")
    return ModelSource("hub", settings.model_name, commit, tuple(files),
                       needs_export=onnx_file is not None
                       and not any(f.startswith("onnx/") for f in files))


def unavailable(settings: Settings, problem: str) -> DevError:
    return DevError(f"the reranker image needs the model {settings.model_name}, and it cannot "
                    f"be had: {problem}. Fix: WEAVIATE_DEV_MODEL_DIR=/path/to/model (a "
                    "cross-encoder saved with save_pretrained), or network access to the hub "
                    "(HF_ENDPOINT for a mirror)")


def _verify(ca_bundle: Path | None) -> str | bool:
    return str(ca_bundle) if ca_bundle else True


def _reason(exc: requests.RequestException) -> str:
    """The root cause in a few words ("Name or service not known"), not urllib3's essay."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {sum(TIMEOUT)}s"
    text = str(exc)
    errno = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno[-1].strip()
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS verification failed: set WEAVIATE_DEV_CA_BUNDLE to your proxy's CA bundle"
    return type(exc).__name__
