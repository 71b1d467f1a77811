"""The model our reranker image bakes in: checked before any build starts.

The image takes a local model directory (`WEAVIATE_DEV_MODEL_DIR`) or downloads
`WEAVIATE_DEV_MODEL_NAME` from the Hugging Face hub (`HF_ENDPOINT` for a mirror) during the
build. A build that cannot reach the hub fails minutes in, deep in a traceback; so before
building, `require_model` asks the hub about the model (seconds) and otherwise stops with one
line naming the model, what was tried and the two fixes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings

TIMEOUT = (5, 10)  # connect, read (seconds): the check must answer long before a build would


def hub_url(settings: Settings) -> str:
    """The hub API address that describes the model (what huggingface_hub asks first)."""
    return f"{settings.hf_endpoint.rstrip('/')}/api/models/{settings.model_name}"


def require_model(settings: Settings) -> str:
    """Where the image's model comes from, e.g. "local directory /m"; DevError if nowhere."""
    if settings.model_dir:
        if not (settings.model_dir / "config.json").is_file():
            raise DevError(f"WEAVIATE_DEV_MODEL_DIR={settings.model_dir} is not a model "
                           "directory (no config.json): give a cross-encoder saved with "
                           "save_pretrained")
        refuse_remote_code(settings.model_dir)
        return f"local directory {settings.model_dir}"
    url = hub_url(settings)
    try:
        response = requests.get(url, timeout=TIMEOUT, verify=_verify(settings.ca_bundle))
    except requests.RequestException as exc:
        problem = f"GET {url} failed ({_reason(exc)})"
    else:
        if response.status_code == 200:
            return f"{settings.model_name} from {settings.hf_endpoint}"
        problem = f"GET {url} answered {response.status_code}"
    raise DevError(f"the reranker image needs the model {settings.model_name}, and it cannot "
                   f"be had: {problem}. Fix: WEAVIATE_DEV_MODEL_DIR=/path/to/model (a "
                   "cross-encoder saved with save_pretrained), or network access to the hub "
                   "(HF_ENDPOINT for a mirror)")


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
