"""Make sure a Docker engine runs: use one that answers, else install one (Debian/Ubuntu,
as root) and start it.

On a laptop with Docker Desktop nothing here acts. On a bare Debian machine (our CI) this
installs Debian's docker.io, docker-compose and debootstrap and starts dockerd in the
background, logging to a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.waiting import wait_until
from weaviate_dev.services.docker import containers, engine

APT_PACKAGES = ("docker.io", "docker-compose", "debootstrap")
DOCKERD_LOG = Path("/var/log/weaviate-dev-dockerd.log")


def missing_tools() -> list[str]:
    """Return the host programs the environment needs that are missing."""
    missing = [] if process.which("dockerd") or engine.answers() else ["dockerd"]
    try:
        containers.compose_command()
    except DevError:
        missing.append("docker compose")
    return missing


def install_packages(packages=APT_PACKAGES) -> None:
    """Install `packages` with apt-get (needs root on Debian/Ubuntu)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise DevError("no Docker engine answers, and this is not a Debian/Ubuntu root shell "
                       "where we could install one: install Docker (Docker Desktop, or your "
                       "distribution's docker.io and docker-compose) and start it")
    say(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    process.run(["apt-get", "update", "-qq"], env=env, capture=True)
    process.run(["apt-get", "install", "-y", "-qq", *packages], env=env, capture=True)


def start_engine(timeout: float = 60) -> None:
    """Start dockerd in the background and wait until it answers."""
    say(f"starting dockerd (log: {DOCKERD_LOG})")
    log = DOCKERD_LOG.open("ab")
    daemon = process.spawn(["dockerd"], stdout=log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True)

    def probe() -> str | None:
        if daemon.poll() is not None:
            raise DevError(f"dockerd exited with code {daemon.returncode}:\n{log_tail()}")
        return None if engine.answers() else "docker ping failed"

    wait_until(probe, what="the Docker engine", timeout=timeout, logs=log_tail)


def log_tail(lines: int = 50) -> str:
    """Return the last `lines` lines of dockerd's log."""
    return "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])


def ensure_engine() -> None:
    """Make sure a Docker engine runs and a compose command exists, installing and starting
    what is missing."""
    if engine.answers() and not missing_tools():
        say("the Docker engine is running")
        return
    needed = [p for p in APT_PACKAGES if not process.which(_program_of(p))]
    if needed:
        install_packages(needed)
    if not engine.answers():
        start_engine()
    say("the Docker engine is running")


def _program_of(package: str) -> str:
    return {"docker.io": "dockerd"}.get(package, package)
