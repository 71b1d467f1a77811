"""The images the environment needs, each had the cheapest way that works here.

An image is used as named if it is present or can be pulled. When the registry cannot be
reached, we build a stand-in under a local name: a Debian base image (debootstrap) and a
Prometheus around Debian's package (the Weaviate image around a binary: `weaviate.image`; our
reranker image, which is always ours: `reranker_image`). Every function is idempotent: an
image that exists is not built again.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_PROMETHEUS_IMAGE,
    LOCAL_BASE_IMAGE,
    LOCAL_PROMETHEUS_IMAGE,
    Settings,
)
from weaviate_dev.services.docker import cross_build
from weaviate_dev.services.docker import builds, local_images

BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"


# Our own images' names: never in a registry, so never pulled.
LOCAL_PREFIX = "weaviate-dev/"


def ensure_image(ref: str, fallback: str, build, platform: str | None = None) -> str:
    """ref if present or pullable (for `platform`, when given; any name but our own local
    ones, a name the user set included); else `fallback`, built with `build()` if it is
    missing."""
    if usable(ref, platform) or (not ref.startswith(LOCAL_PREFIX)
                                 and local_images.pull(ref, platform)
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
    found = local_images.image_platform(ref)
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
            return local_images.import_rootfs(tarball, tag, changes=list(BASE_CHANGES))
        # `docker import` would label it with the engine's own architecture: a build from
        # scratch under --platform labels it right.
        context = Path(tmp) / "context.tar"
        with tarfile.open(context, mode="w") as tar:
            dockerfile = "FROM scratch\nADD rootfs.tar /\n" + "\n".join(BASE_CHANGES) + "\n"
            add_bytes(tar, "Dockerfile", dockerfile.encode())
            tar.add(str(tarball), arcname="rootfs.tar")
        with context.open("rb") as stream:
            return builds.build_for(stream, tag=tag, buildargs={},
                                           platform=platform).tag


def base_image_names(settings: Settings) -> tuple[str, str]:
    """(the configured base image, the local Debian stand-in used when that cannot be had)."""
    platform = foreign_platform(settings)
    wanted = settings.base_image
    local = LOCAL_BASE_IMAGE + (f"-{cross_build.arch(platform)}" if platform else "")
    return wanted, local if wanted in (DEFAULT_BASE_IMAGE, LOCAL_BASE_IMAGE) else wanted


def ensure_base_image(settings: Settings) -> str:
    """The base image for our builds: the configured one, or a local Debian stand-in (of
    settings.platform's architecture when that is not the engine's own)."""
    platform = foreign_platform(settings)
    wanted, fallback = base_image_names(settings)
    if platform:
        require_cross_build(platform)
    return ensure_image(wanted, fallback, lambda: build_base_image(settings, fallback, platform),
                        platform)


def present_base_image(settings: Settings) -> tuple[str, str] | None:
    """(name, id) of the base image a build would use now, when it is present; None when it
    would first have to be pulled or built (nothing is pulled or built here)."""
    platform = foreign_platform(settings)
    for ref in dict.fromkeys(base_image_names(settings)):
        if usable(ref, platform):
            found = local_images.image_id(ref)
            if found:
                return ref, found
    return None


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
        return builds.build(context, tag=fallback, buildargs={"BASE_IMAGE": base}).tag

    return ensure_image(wanted, fallback, build)


# --- builds from a context tarball ------------------------------------------------------


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
