"""Build images for another platform (`WEAVIATE_DEV_PLATFORM`, e.g. linux/arm64 on x86).

Two things make it possible: BuildKit, through Docker's buildx plugin (the classic builder
that the docker SDK drives cannot build for another architecture), and an emulator that runs
the other architecture's programs during the build's RUN steps (qemu, registered with the
kernel's binfmt_misc with the F flag). Docker Desktop (macOS, Windows) has both. On a bare
Debian/Ubuntu machine (root), `weaviate-dev setup cross` installs Debian's qemu-user-static,
registers it, and builds buildx from its Go module (`BUILDX_MODULE@BUILDX_VERSION`, pinned)
into Docker's CLI plugin folder. Each step is skipped when it is already done.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import install as docker_install
from weaviate_dev.services.docker import engine

BUILDX_MODULE = "github.com/docker/buildx/cmd/buildx"
BUILDX_VERSION = "v0.19.3"
PLUGIN_DIR = Path.home() / ".docker" / "cli-plugins"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
# Docker's architecture names -> qemu's (binfmt entries are named qemu-<name>) and Debian's.
QEMU = {"arm64": "aarch64", "amd64": "x86_64"}
DEBIAN = {"arm64": "arm64", "amd64": "amd64"}


def arch(platform: str) -> str:
    """Return the architecture of a platform: linux/arm64 -> arm64."""
    return platform.split("/")[1]


def is_foreign(platform: str | None) -> bool:
    """Return True when the engine's own (classic) builder cannot build images for
    `platform`."""
    return bool(platform) and arch(platform) != arch(engine.native_platform())


def buildx_ready() -> bool:
    """Return True when Docker's buildx plugin works."""
    result = process.run(["docker", "buildx", "version"], check=False, capture=True)
    return result.returncode == 0


def emulator_ready(platform: str) -> bool:
    """Return True when an emulator can run `platform`'s programs: a binfmt_misc entry with
    the F flag (fixed: usable inside containers), or no binfmt_misc here (Docker Desktop
    emulates in its VM)."""
    if not BINFMT.is_dir() or not _local_engine():
        return True
    entry = BINFMT / f"qemu-{QEMU.get(arch(platform), arch(platform))}"
    try:
        text = entry.read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1] for line in text.splitlines()
                  if line.startswith("flags:")), "")
    return text.startswith("enabled") and "F" in flags


def missing(platform: str) -> list[str]:
    """Return what this machine still lacks to build for `platform` (empty when ready)."""
    return ([] if buildx_ready() else ["the buildx plugin (BuildKit)"]) + \
        ([] if emulator_ready(platform) else [f"an emulator for {platform}"])


def ensure(settings: Settings) -> str:
    """Set this machine up to build images for settings.platform (default linux/arm64):
    install buildx and register an emulator when missing. Returns a line saying what is
    ready."""
    platform = settings.platform or "linux/arm64"
    if not buildx_ready():
        install_buildx(settings)
    if not emulator_ready(platform):
        register_emulator(platform)
    if missing(platform):
        raise DevError(f"cannot build for {platform}: {', '.join(missing(platform))} missing")
    return f"BuildKit and an emulator for {platform}"


def install_buildx(settings: Settings) -> Path:
    """Build buildx from its Go module at the pinned version, install it as Docker's CLI
    plugin, and return the plugin's path."""
    gobin = settings.cache_dir / f"buildx-{BUILDX_VERSION}"
    binary = gobin / "buildx"
    if not binary.is_file():
        say(f"building buildx {BUILDX_VERSION} from its Go module (a minute or two)")
        started = time.monotonic()
        go = process.which("go")
        if not go:
            raise DevError("building buildx needs Go (>= 1.22): install it, or install Docker's "
                           "buildx plugin yourself")
        process.run([go, "install", "-ldflags",
                     f"-X github.com/docker/buildx/version.Version={BUILDX_VERSION}",
                     f"{BUILDX_MODULE}@{BUILDX_VERSION}"],
                    env=dict(os.environ, GOBIN=str(gobin)), capture=True)
        say(f"buildx built in {time.monotonic() - started:.0f}s")
    PLUGIN_DIR.mkdir(parents=True, exist_ok=True)
    target = PLUGIN_DIR / "docker-buildx"
    shutil.copy2(binary, target)
    target.chmod(0o755)
    return target


def register_emulator(platform: str) -> None:
    """Install Debian's qemu-user-static and register it with binfmt_misc (as root, on
    Debian/Ubuntu)."""
    name = QEMU.get(arch(platform), arch(platform))
    if not process.which(f"qemu-{name}-static"):
        docker_install.install_packages(("qemu-user-static", "binfmt-support"))
    if not (BINFMT / "register").exists():
        process.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], capture=True)
    # Installed before binfmt_misc was mounted, the package registered nothing: enable it.
    process.run(["update-binfmts", "--enable", f"qemu-{name}"], check=False, capture=True)


def _local_engine() -> bool:
    """Return True when the engine runs on this machine's kernel (not in Docker Desktop's
    VM)."""
    host = os.environ.get("DOCKER_HOST", "")
    return (not host or host.startswith("unix://")) and \
        "Docker Desktop" not in str(engine.client().info().get("OperatingSystem", ""))
