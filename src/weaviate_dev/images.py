"""The images the environment needs, each had the cheapest way that works here.

An image is used as named if it is present or can be pulled. When the registry cannot be
reached, we build a stand-in under a local name: a Debian base image (debootstrap), a Weaviate
image around a binary built from Weaviate's Go module, and our reranker image from reranker/.
Every function is idempotent: an image that exists is not built again.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors

from weaviate_dev import process, weaviate_build
from weaviate_dev.errors import DevError
from weaviate_dev.settings import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_WEAVIATE_IMAGE,
    LOCAL_BASE_IMAGE,
    LOCAL_WEAVIATE_IMAGE,
    Settings,
)

BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
# Paths of reranker/ never sent to the image build.
_RERANKER_EXCLUDES = {"tests", "__pycache__", ".pytest_cache", "models", "certs"}


def say(message: str) -> None:
    """Progress for a human watching a long step."""
    print(f"[weaviate-dev] {message}", file=sys.stderr, flush=True)


def docker_client() -> docker.DockerClient:
    """A client for the engine in the environment, or a DevError saying none answers."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise DevError(
            f"no Docker engine answers ({exc}); start one, or run `weaviate-dev setup`"
        ) from exc
    return client


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def try_pull(client: docker.DockerClient, ref: str) -> bool:
    """Pull ref; False (quietly) when the registry cannot be reached or lacks it."""
    say(f"pulling {ref}")
    try:
        client.images.pull(ref)
    except docker.errors.APIError as exc:
        say(f"cannot pull {ref}: {exc.explanation or exc}")
        return False
    return True


def ensure_image(client: docker.DockerClient, ref: str, fallback: str, build) -> str:
    """ref if present or pullable; else `fallback`, built with `build()` if it is missing."""
    if image_exists(client, ref) or (ref != fallback and try_pull(client, ref)):
        return ref
    if ref != fallback:
        say(f"using the local stand-in {fallback} for {ref}")
    if not image_exists(client, fallback):
        build()
    return fallback


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


def build_base_image(settings: Settings, client: docker.DockerClient, tag: str) -> str:
    """A minimal Debian bookworm with Python 3.11 (at /usr/bin/python3), via debootstrap."""
    mirror = debian_mirror(settings)
    say(f"building base image {tag} with debootstrap from {mirror} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="weaviate-dev-rootfs-") as tmp:
        rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
        process.run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
                     "bookworm", rootfs, mirror], capture=True)
        process.run(["tar", "-C", rootfs, "-cf", tarball, "."], capture=True)
        repository, _, version = tag.rpartition(":")
        client.api.import_image_from_file(
            str(tarball), repository=repository, tag=version,
            changes=["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'],
        )
    return tag


def ensure_base_image(settings: Settings, client: docker.DockerClient) -> str:
    """The base image for our builds: the configured one, or a local Debian stand-in."""
    wanted = settings.base_image
    fallback = LOCAL_BASE_IMAGE if wanted in (DEFAULT_BASE_IMAGE, LOCAL_BASE_IMAGE) else wanted
    return ensure_image(client, wanted, fallback,
                        lambda: build_base_image(settings, client, fallback))


# --- builds from a context tarball ------------------------------------------------------


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def build_from_context(client: docker.DockerClient, context: io.BytesIO, *, tag: str,
                       buildargs: dict[str, str], dockerfile: str = "Dockerfile") -> str:
    """Run a classic-builder build of an in-memory context; stream progress; raise on error."""
    context.seek(0)
    log = BuildLog(tag)
    stream = client.api.build(fileobj=context, custom_context=True, tag=tag, rm=True,
                              forcerm=True, buildargs=buildargs, dockerfile=dockerfile,
                              decode=True)
    for chunk in stream:
        if "error" in chunk:
            raise DevError(log.failure(chunk["error"]))
        log.add(chunk.get("stream", ""))
    return tag


class BuildLog:
    """A build's output by step: progress lines as steps start, the failing step's tail."""

    TAIL_LINES = 15
    STEP_WIDTH = 100  # a step's Dockerfile line is cut here (a RUN can be 20 lines long)

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.step = ""
        self.lines: list[str] = []

    def add(self, text: str) -> None:
        for line in text.splitlines():
            if line.startswith("Step "):
                self.step, self.lines = self._short(line), []
                say(f"{self.tag}: {self.step}")
            elif line.strip() and not line.startswith(" ---> "):
                self.lines.append(line.rstrip())

    def failure(self, error: str) -> str:
        """One message: which step failed, how, and the last lines it printed."""
        code = re.search(r"returned a non-zero code: (\d+)", error)
        how = f"exit code {code[1]}" if code else self._short(error.strip())
        tail = "\n".join(f"  | {line}" for line in self.lines[-self.TAIL_LINES:])
        where = f" at {self.step}" if self.step else ""
        return f"building {self.tag} failed{where} ({how})" + (
            f"; its last lines:\n{tail}" if tail else "")

    def _short(self, line: str) -> str:
        line = " ".join(line.split())
        return line if len(line) <= self.STEP_WIDTH else line[: self.STEP_WIDTH - 3] + "..."


# --- Weaviate ---------------------------------------------------------------------------


def build_weaviate_image(settings: Settings, client: docker.DockerClient, tag: str) -> str:
    """Package a weaviate-server binary (built from the Go module if needed) as an image."""
    binary = weaviate_build.ensure_binary(settings)
    base = ensure_base_image(settings, client)
    say(f"building {tag} from {binary} on {base}")
    dockerfile = (Path(__file__).parent / "images" / "weaviate.Dockerfile").read_bytes()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        _add_bytes(tar, "Dockerfile", dockerfile)
        tar.add(str(binary), arcname="weaviate-server")
    return build_from_context(client, context, tag=tag, buildargs={"BASE_IMAGE": base})


def ensure_weaviate_image(settings: Settings, client: docker.DockerClient) -> str:
    """The Weaviate image: the configured one, or one built around a local binary."""
    wanted = settings.weaviate_image
    fallback = (LOCAL_WEAVIATE_IMAGE
                if wanted in (DEFAULT_WEAVIATE_IMAGE, LOCAL_WEAVIATE_IMAGE) else wanted)
    return ensure_image(client, wanted, fallback,
                        lambda: build_weaviate_image(settings, client, fallback))


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
                         model_dir: Path | None = None,
                         client: docker.DockerClient | None = None) -> str:
    """Build reranker/Dockerfile as `tag` (default: settings.reranker_image).

    model_dir bakes a local model in (offline builds); otherwise settings.model_name is
    downloaded during the build. The base image is settings.base_image or its local stand-in.
    """
    client = client or docker_client()
    tag = tag or settings.reranker_image
    context, buildargs = reranker_context(settings, model_dir or settings.model_dir)
    buildargs["BASE_IMAGE"] = ensure_base_image(settings, client)
    say(f"building {tag} ({json.dumps({k: v for k, v in buildargs.items()})})")
    return build_from_context(client, context, tag=tag, buildargs=buildargs)

