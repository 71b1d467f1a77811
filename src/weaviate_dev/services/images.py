"""The images the environment needs, each had the cheapest way that works here.

An image is used as named if it is present or can be pulled. When the registry cannot be
reached, we build a stand-in under a local name: a Debian base image (debootstrap) and our
reranker image from reranker/ (the Weaviate image around a binary: `weaviate.image`).
Every function is idempotent: an image that exists is not built again.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import CommandFailed, DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_PROMETHEUS_IMAGE,
    LOCAL_BASE_IMAGE,
    LOCAL_PROMETHEUS_IMAGE,
    Settings,
)
from weaviate_dev.services import cross_build, docker_engine

BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
# Paths of reranker/ never sent to the image build.
_RERANKER_EXCLUDES = {"tests", "__pycache__", ".pytest_cache", "models", "certs"}


def ensure_image(ref: str, fallback: str, build, platform: str | None = None) -> str:
    """ref if present or pullable (for `platform`, when given); else `fallback`, built with
    `build()` if it is missing."""
    if usable(ref, platform) or (ref != fallback and docker_engine.pull(ref, platform)
                                 and usable(ref, platform)):
        return ref
    if ref != fallback:
        say(f"using the local stand-in {fallback} for {ref}")
    if not usable(fallback, platform):
        build()
    return fallback


def usable(ref: str, platform: str | None) -> bool:
    """The image is here, and of `platform`'s architecture when one is asked for (an amd64
    python:3.11-slim must not become the base of an arm64 build)."""
    found = docker_engine.image_platform(ref)
    return found is not None and (platform is None
                                  or cross_build.arch(found) == cross_build.arch(platform))


def foreign_platform(settings: Settings) -> str | None:
    """settings.platform when it is not the engine's own (then builds go through BuildKit)."""
    return settings.platform if cross_build.is_foreign(settings.platform) else None


# --- base image -------------------------------------------------------------------------


def debian_mirror(settings: Settings) -> str:
    """The mirror for debootstrap: the setting, else the host's apt sources, else Debian's."""
    if settings.debian_mirror:
        return settings.debian_mirror
    for source in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1:
                return words[1]
            if words[:1] == ["deb"]:
                return next(w for w in words[1:] if not w.startswith("["))
    return "http://deb.debian.org/debian"


BASE_CHANGES = ("ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]')


def build_base_image(settings: Settings, tag: str, platform: str | None = None) -> str:
    """A minimal Debian bookworm with Python 3.11 (at /usr/bin/python3), via debootstrap; for
    another platform's architecture (through its emulator: a few minutes) when given."""
    mirror = debian_mirror(settings)
    arch = ["--arch", cross_build.DEBIAN[cross_build.arch(platform)]] if platform else []
    say(f"building base image {tag} with debootstrap from {mirror}"
        + (f" for {platform} (emulated: minutes)" if platform else " (about a minute)"))
    with tempfile.TemporaryDirectory(prefix="weaviate-dev-rootfs-") as tmp:
        rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
        process.run(["debootstrap", *arch, "--variant=minbase", f"--include={BASE_PACKAGES}",
                     "bookworm", rootfs, mirror], capture=True)
        process.run(["tar", "-C", rootfs, "-cf", tarball, "."], capture=True)
        if not platform:
            return docker_engine.import_rootfs(tarball, tag, changes=list(BASE_CHANGES))
        # `docker import` would label it with the engine's own architecture: a build from
        # scratch under --platform labels it right.
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            dockerfile = "FROM scratch\nADD rootfs.tar /\n" + "\n".join(BASE_CHANGES) + "\n"
            add_bytes(tar, "Dockerfile", dockerfile.encode())
            tar.add(str(tarball), arcname="rootfs.tar")
        return docker_engine.build_for(context, tag=tag, buildargs={}, platform=platform)


def ensure_base_image(settings: Settings) -> str:
    """The base image for our builds: the configured one, or a local Debian stand-in (of
    settings.platform's architecture when that is not the engine's own)."""
    platform = foreign_platform(settings)
    wanted = settings.base_image
    local = LOCAL_BASE_IMAGE + (f"-{cross_build.arch(platform)}" if platform else "")
    fallback = local if wanted in (DEFAULT_BASE_IMAGE, LOCAL_BASE_IMAGE) else wanted
    if platform:
        require_cross_build(platform)
    return ensure_image(wanted, fallback, lambda: build_base_image(settings, fallback, platform),
                        platform)


def require_cross_build(platform: str) -> None:
    missing = cross_build.missing(platform)
    if missing:
        raise DevError(f"WEAVIATE_DEV_PLATFORM={platform}: building for it needs "
                       f"{' and '.join(missing)}; `weaviate-dev setup cross` installs them "
                       "(Debian/Ubuntu, root; Docker Desktop has both)")


# --- Prometheus ---------------------------------------------------------------------------

PROMETHEUS_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN set -eu; apt-get update -qq; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; \\
    rm -rf /var/lib/apt/lists/*; mkdir -p /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
"""


def ensure_prometheus_image(settings: Settings) -> str:
    """The Prometheus image: the configured one if present or pullable, else a stand-in around
    Debian's prometheus package on our base image (no registry here)."""
    wanted = settings.prometheus_image
    fallback = (LOCAL_PROMETHEUS_IMAGE
                if wanted in (DEFAULT_PROMETHEUS_IMAGE, LOCAL_PROMETHEUS_IMAGE) else wanted)

    def build() -> str:
        base = ensure_base_image(settings)
        say(f"building {fallback}: Debian's prometheus package on {base}")
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            add_bytes(tar, "Dockerfile", PROMETHEUS_DOCKERFILE.encode())
        return docker_engine.build(context, tag=fallback, buildargs={"BASE_IMAGE": base})

    return ensure_image(wanted, fallback, build)


# --- builds from a context tarball ------------------------------------------------------


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


# --- reranker ---------------------------------------------------------------------------


def reranker_context(settings: Settings, model_dir: Path | None) -> tuple[io.BytesIO, dict]:
    """reranker/ as a build context, with the CA bundle and a local model staged in."""
    source = settings.project_root / "reranker"
    if not (source / "Dockerfile").is_file():
        raise DevError(f"no reranker Dockerfile at {source}")
    buildargs: dict[str, str] = {"MODEL_NAME": settings.model_name,
                                 "ENGINE": settings.reranker_engine,
                                 **settings.download_sources()}
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for child in sorted(source.iterdir()):
            if child.name in _RERANKER_EXCLUDES or child.name.startswith("."):
                continue
            tar.add(str(child), arcname=child.name, filter=_source_file)
        for readme in ("models/README.md", "certs/README.md"):
            if (source / readme).is_file():
                tar.add(str(source / readme), arcname=readme, filter=_normalised)
        if settings.ca_bundle:
            if not settings.ca_bundle.is_file():
                raise DevError(f"CA bundle {settings.ca_bundle} is not a file")
            tar.add(str(settings.ca_bundle), arcname="certs/ca-bundle.crt", filter=_normalised)
            buildargs["CA_BUNDLE"] = "certs/ca-bundle.crt"
        if model_dir:
            if not (Path(model_dir) / "config.json").is_file():
                raise DevError(f"{model_dir} is not a model directory (no config.json)")
            tar.add(str(model_dir), arcname="models/local", filter=_normalised)
            buildargs["LOCAL_MODEL_DIR"] = "models/local"
    return context, buildargs


def _source_file(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = Path(info.name).parts
    if "__pycache__" in parts or any(p.endswith(".egg-info") for p in parts):
        return None
    return _normalised(info)


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    return info


def build_reranker_image(settings: Settings, *, tag: str | None = None,
                         model_dir: Path | None = None) -> str:
    """Build reranker/Dockerfile as `tag` (default: settings.reranker_image).

    model_dir bakes a local model in (offline builds); otherwise settings.model_name is
    downloaded during the build. The base image is settings.base_image or its local stand-in.
    For an engine of an ONNX export, a local model is exported here first when this Python
    has torch and the reranker package (tests, CI, a developer's full venv), so that the
    image build downloads no torch.
    """
    tag = tag or settings.reranker_image
    model_dir = model_dir or settings.model_dir
    with tempfile.TemporaryDirectory(prefix="weaviate-dev-model-") as staging:
        if model_dir and settings.reranker_engine in settings.reranker_engines.onnx_engines:
            model_dir = export_here(model_dir, settings.reranker_engine, Path(staging))
        context, buildargs = reranker_context(settings, model_dir)
    buildargs["BASE_IMAGE"] = ensure_base_image(settings)
    say(f"building {tag} ({json.dumps(buildargs)})")
    platform = foreign_platform(settings)
    if platform:
        return docker_engine.build_for(context, tag=tag, buildargs=buildargs, platform=platform)
    return docker_engine.build(context, tag=tag, buildargs=buildargs)


def export_here(model_dir: Path, engine: str, staging: Path) -> Path:
    """A copy of model_dir holding the ONNX export `engine` runs, made with this Python's
    torch; model_dir itself when it cannot be made here (the image build exports then)."""
    if not (importlib.util.find_spec("torch") and importlib.util.find_spec("reranker")):
        return model_dir
    copy = staging / "model"
    shutil.copytree(model_dir, copy)
    say(f"exporting {model_dir} to ONNX for ENGINE={engine} here (the image needs no torch)")
    try:
        process.run([sys.executable, "-m", "reranker.engines.onnx_export", copy, "--engine",
                     engine], capture=True)
    except CommandFailed as exc:  # the export says why in its last line (never a traceback)
        lines = [line for line in exc.output.splitlines() if line.strip()]
        reason = next((line.removeprefix("onnx export: ") for line in reversed(lines)
                       if line.startswith("onnx export: ")), lines[-1] if lines else str(exc))
        raise DevError(f"{model_dir} cannot be baked into an ENGINE={engine} image: "
                       f"{reason}") from None
    return copy

