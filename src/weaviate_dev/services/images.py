"""Provide the Docker images the environment needs, in the cheapest way that works here.

An image is used under its own name when it is present or can be pulled. When no registry
can be reached, we build a stand-in under a local name: a Debian base image (with
debootstrap) and a Prometheus image from Debian's package. (`weaviate.image` builds the
Weaviate stand-in around a binary; `reranker_image` always builds our reranker image.) An
image that exists is never built again.
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
    """Return `ref` when it is present or can be pulled (for `platform` when given); else
    return `fallback`, calling `build()` first when it is missing. Our own local names are
    never pulled; any other name is, including one the user set."""
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
    """Return True when the image is present, and of `platform`'s architecture when one is
    given (an amd64 python:3.11-slim must not become the base of an arm64 build)."""
    found = local_images.image_platform(ref)
    return found is not None and (platform is None
                                  or cross_build.arch(found) == cross_build.arch(platform))


def foreign_platform(settings: Settings) -> str | None:
    """Return settings.platform when it differs from the engine's own (builds for it go
    through BuildKit), else None."""
    return settings.platform if cross_build.is_foreign(settings.platform) else None


# --- base image -------------------------------------------------------------------------


def debian_mirror(settings: Settings) -> str:
    """Return the Debian mirror for debootstrap: the setting, else the host's apt sources,
    else deb.debian.org."""
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
    """Build image `tag`, a minimal Debian bookworm with Python 3.11 (at /usr/bin/python3),
    with debootstrap, and return the tag. With `platform`, build it for that architecture
    through its emulator (a few minutes)."""
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
    """(the configured base image, the local Debian stand-in used when that one cannot be pulled)."""
    platform = foreign_platform(settings)
    wanted = settings.base_image
    local = LOCAL_BASE_IMAGE + (f"-{cross_build.arch(platform)}" if platform else "")
    return wanted, local if wanted in (DEFAULT_BASE_IMAGE, LOCAL_BASE_IMAGE) else wanted


def ensure_base_image(settings: Settings) -> str:
    """Return the base image for our builds: the configured one, or a local Debian stand-in
    (built for settings.platform's architecture when that differs from the engine's)."""
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
    """Raise DevError naming what to install when this machine cannot build for `platform`."""
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
    """Return the Prometheus image: the configured one when present or pullable, else a
    stand-in built from Debian's prometheus package on our base image."""
    wanted = settings.prometheus_image
    fallback = (LOCAL_PROMETHEUS_IMAGE
                if wanted in (DEFAULT_PROMETHEUS_IMAGE, LOCAL_PROMETHEUS_IMAGE) else wanted)

    def build() -> str:
        base = ensure_base_image(settings)
        say(f"building {fallback} from Debian's prometheus package on {base}")
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            add_bytes(tar, "Dockerfile", PROMETHEUS_DOCKERFILE.encode())
        return builds.build(context, tag=fallback, buildargs={"BASE_IMAGE": base}).tag

    return ensure_image(wanted, fallback, build)


# --- builds from a context tarball ------------------------------------------------------


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a file called `name` with the content `data` to `tar`."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
