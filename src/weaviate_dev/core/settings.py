"""Read the toolkit's settings from the environment, once, into one frozen object.

Every setting that a machine without a registry or model hub needs (base image, pip index, CA
bundle, local model directory, image names) is read here, with a default that works on a
laptop with internet access. Nothing else in the toolkit reads these variables.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from weaviate_dev.core import tree
from weaviate_dev.core.errors import UsageError

WEAVIATE_VERSION = "1.39.0"
DEFAULT_WEAVIATE_IMAGE = f"cr.weaviate.io/semitechnologies/weaviate:{WEAVIATE_VERSION}"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_MODEL_NAME = "cross-encoder/ms-marco-MiniLM-L-6-v2"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
# Names of images we build ourselves when the real ones cannot be pulled.
LOCAL_BASE_IMAGE = "weaviate-dev/debian-base:bookworm"
LOCAL_WEAVIATE_IMAGE = f"weaviate-dev/weaviate:{WEAVIATE_VERSION}"
DEFAULT_RERANKER_IMAGE = "weaviate-dev/reranker-transformers:latest"
DEFAULT_PROMETHEUS_IMAGE = "prom/prometheus:v2.46.0"
LOCAL_PROMETHEUS_IMAGE = "weaviate-dev/prometheus:debian"
# The reranker's engine table (names, factories, extras, the default; docs/reranker.md), below
# the project root. Read as data: the toolkit's own venv does not have the reranker package.
RERANKER_ENGINE_TABLE = Path("reranker", "src", "reranker", "engine_table.json")
# The reranker's REDUCED_PRECISION values (reranker/src/reranker/settings.py), the default first.
REDUCED_PRECISION = ("check", "on", "off")


@dataclass(frozen=True)
class RerankerEngines:
    """The values of the reranker image's ENGINE build argument, and the default one."""

    names: tuple[str, ...]
    default: str
    onnx_files: Mapping[str, str] = field(default_factory=dict)  # engine -> the file it runs
    extras: Mapping[str, str] = field(default_factory=dict)  # engine -> the extra it installs

    @property
    def onnx_engines(self) -> frozenset[str]:
        """The engines that run the model's ONNX export."""
        return frozenset(self.onnx_files)

    def onnx_file(self, engine: str) -> str | None:
        """Return the ONNX file that `engine` runs (model.onnx, model_int8.onnx); None for a
        torch engine."""
        return self.onnx_files.get(engine)

    @classmethod
    def read(cls, project_root: Path) -> "RerankerEngines":
        """Read the engine table of the reranker that `project_root` builds.

        A root without a reranker/ (a scratch root) takes the table of the checkout this
        package runs from, so that settings for other commands can still be built there.
        """
        for root in dict.fromkeys((project_root, tree.project_root())):
            path = root / RERANKER_ENGINE_TABLE
            if path.is_file():
                table = json.loads(path.read_text())
                onnx = {name: row["onnx_file"] for name, row in table["engines"].items()
                        if row.get("onnx_file")}
                extras = {name: row["extra"] for name, row in table["engines"].items()}
                return cls(tuple(table["engines"]), table["default"], onnx, extras)
        raise UsageError(f"no reranker engine table at {project_root / RERANKER_ENGINE_TABLE}: "
                         "WEAVIATE_DEV_ROOT must be a weaviate-dev checkout")

    def image(self, engine: str) -> str:
        """Return the image for an engine: tagged `latest` for the default engine, else with
        the engine's name."""
        if engine == self.default:
            return DEFAULT_RERANKER_IMAGE
        return DEFAULT_RERANKER_IMAGE.rsplit(":", 1)[0] + f":{engine}"


PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")


def parse_platform(value: str | None) -> str | None:
    """Return the Docker platform `value` ("linux/arm64") after checking its form; None when
    unset. Raises UsageError for a malformed one."""
    if value is None:
        return None
    if not PLATFORM.match(value):
        raise UsageError(f"WEAVIATE_DEV_PLATFORM={value!r}: give a Docker platform such as "
                         "linux/arm64 or linux/amd64")
    return value


def hub_cache(path) -> Path:
    """Return the Hugging Face cache directory, by huggingface_hub's own rule (`path(name)`
    reads a variable as an absolute path, None when unset)."""
    home = path("HF_HOME") or (path("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    return path("HF_HUB_CACHE") or home / "hub"


@dataclass(frozen=True)
class Settings:
    """The toolkit's settings. Build them with `Settings.from_env()` and pass them down; never
    read the environment again."""

    project_root: Path
    reranker_engine: str  # the engine baked into the reranker image (RerankerEngines)
    # The reranker container's REDUCED_PRECISION: check (bf16/fp16 where it ranks like fp32),
    # on, off (fp32: exactly the CrossEncoder's scores)
    reranker_reduced_precision: str = REDUCED_PRECISION[0]
    weaviate_version: str = WEAVIATE_VERSION
    weaviate_image: str = DEFAULT_WEAVIATE_IMAGE
    reranker_image: str = DEFAULT_RERANKER_IMAGE
    # WEAVIATE_DEV_RERANKER_IMAGE was set: when that image is present it is used as it is (a
    # line prints which model it was built with) and never rebuilt behind the user's back
    reranker_image_given: bool = False
    base_image: str = DEFAULT_BASE_IMAGE
    prometheus_image: str = DEFAULT_PROMETHEUS_IMAGE
    model_name: str = DEFAULT_MODEL_NAME
    model_dir: Path | None = None  # a local model directory baked in instead of MODEL_NAME
    model_revision: str | None = None  # a branch, tag or commit of model_name (None: main)
    hf_endpoint: str = DEFAULT_HF_ENDPOINT  # the hub MODEL_NAME comes from (HF_ENDPOINT: a mirror)
    hf_token: str | None = field(default=None, repr=False)  # HF_TOKEN: gated/private models
    # Where hub models are downloaded: the user's own Hugging Face cache (HF_HUB_CACHE, else
    # HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub), shared with every other tool using it
    hf_hub_cache: Path = Path.home() / ".cache" / "huggingface" / "hub"
    hf_hub_offline: bool = False  # HF_HUB_OFFLINE=1: the hub is never asked
    ca_bundle: Path | None = None  # extra CA certificates trusted by builds (proxies)
    # package indexes for image builds; often with a credential: never printed as they are
    pip_index_url: str | None = field(default=None, repr=False)
    pip_extra_index_url: str | None = field(default=None, repr=False)
    weaviate_bin: Path | None = None  # a prebuilt weaviate-server binary
    debian_mirror: str | None = None  # for building the local base image
    bind_address: str = "127.0.0.1"  # host interface for published ports
    platform: str | None = None  # build our images for this platform ("linux/arm64")
    cache_dir: Path = Path.home() / ".cache" / "weaviate-dev"  # builds kept between runs
    ci: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings from `environ` (default: os.environ); raise UsageError for an
        invalid value."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value).expanduser().resolve() if value else None

        root = path("WEAVIATE_DEV_ROOT") or tree.project_root()
        engines = RerankerEngines.read(root)
        engine = get("WEAVIATE_DEV_RERANKER_ENGINE") or engines.default
        if engine not in engines.names:
            raise UsageError(f"WEAVIATE_DEV_RERANKER_ENGINE={engine!r}: choose one of "
                             f"{', '.join(engines.names)}")
        precision = get("WEAVIATE_DEV_RERANKER_REDUCED_PRECISION") or REDUCED_PRECISION[0]
        if precision not in REDUCED_PRECISION:
            raise UsageError(f"WEAVIATE_DEV_RERANKER_REDUCED_PRECISION={precision!r}: choose one "
                             f"of {', '.join(REDUCED_PRECISION)}")
        return cls(
            project_root=root,
            weaviate_image=get("WEAVIATE_DEV_WEAVIATE_IMAGE") or DEFAULT_WEAVIATE_IMAGE,
            reranker_image=get("WEAVIATE_DEV_RERANKER_IMAGE") or engines.image(engine),
            reranker_image_given=get("WEAVIATE_DEV_RERANKER_IMAGE") is not None,
            reranker_engine=engine,
            reranker_reduced_precision=precision,
            base_image=get("WEAVIATE_DEV_BASE_IMAGE") or DEFAULT_BASE_IMAGE,
            prometheus_image=get("WEAVIATE_DEV_PROMETHEUS_IMAGE") or DEFAULT_PROMETHEUS_IMAGE,
            model_name=get("WEAVIATE_DEV_MODEL_NAME") or DEFAULT_MODEL_NAME,
            model_dir=path("WEAVIATE_DEV_MODEL_DIR"),
            model_revision=get("WEAVIATE_DEV_MODEL_REVISION"),
            hf_endpoint=get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT,
            hf_token=get("HF_TOKEN"),
            hf_hub_cache=hub_cache(path),
            hf_hub_offline=(get("HF_HUB_OFFLINE") or "").upper() in ("1", "ON", "YES", "TRUE"),
            # Builds trust what the host's pip trusts unless told otherwise (proxies).
            ca_bundle=path("WEAVIATE_DEV_CA_BUNDLE") or path("PIP_CERT"),
            pip_index_url=get("WEAVIATE_DEV_PIP_INDEX_URL"),
            pip_extra_index_url=get("WEAVIATE_DEV_PIP_EXTRA_INDEX_URL"),
            weaviate_bin=path("WEAVIATE_DEV_WEAVIATE_BIN"),
            debian_mirror=get("WEAVIATE_DEV_DEBIAN_MIRROR"),
            bind_address=get("WEAVIATE_DEV_BIND_ADDRESS") or "127.0.0.1",
            platform=parse_platform(get("WEAVIATE_DEV_PLATFORM")),
            cache_dir=(path("XDG_CACHE_HOME") or Path.home() / ".cache") / "weaviate-dev",
            ci=(get("CI") or "").lower() in ("1", "true", "yes"),
        )

    @property
    def reranker_engines(self) -> RerankerEngines:
        """The engine table of the reranker this project builds."""
        return RerankerEngines.read(self.project_root)

    def download_sources(self) -> dict[str, str]:
        """Return the reranker image's download-source build arguments that are set (package
        indexes, a hub mirror), by build-argument name (compose/docker-compose.yml reads each
        as WEAVIATE_DEV_<name>)."""
        indexes = {"PIP_INDEX_URL": self.pip_index_url,
                   "PIP_EXTRA_INDEX_URL": self.pip_extra_index_url,
                   "HF_ENDPOINT": None if self.hf_endpoint == DEFAULT_HF_ENDPOINT
                   else self.hf_endpoint}
        return {name: url for name, url in indexes.items() if url}
