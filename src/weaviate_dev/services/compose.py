"""Build Docker Compose command lines for our project, and the variables our compose file
reads.

Works with the Compose v2 plugin (`docker compose`) and with the standalone `docker-compose`
(v1.29 on Debian); `containers.compose_command` finds which. Every command names the project
(`-p`, fixed so that down/status/logs find what restart started) and the compose files (`-f`).
Commands run through weaviate_dev.core.process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from weaviate_dev.core import process, tree
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import containers

DEFAULT_PROJECT = "weaviate-dev"


def default_compose_file(settings: Settings) -> Path:
    """Return the path of our compose file under the configured project root."""
    return tree.compose_file(settings.project_root)


def compose_environment(settings: Settings, workspace: Path) -> dict[str, str]:
    """Return the variables that compose/docker-compose.yml reads, with values from our
    settings."""
    env = {
        "WEAVIATE_DEV_BIND_ADDRESS": settings.bind_address,
        "WEAVIATE_DEV_WORKSPACE": str(workspace),
        "WEAVIATE_DEV_RERANKER_IMAGE": settings.reranker_image,
        "WEAVIATE_DEV_BASE_IMAGE": settings.base_image,
        "WEAVIATE_DEV_PROMETHEUS_IMAGE": settings.prometheus_image,
        "WEAVIATE_DEV_MODEL_NAME": settings.model_name,
        "WEAVIATE_DEV_MODEL_REVISION": settings.model_revision or "",
        "WEAVIATE_DEV_RERANKER_ENGINE": settings.reranker_engine,
        "WEAVIATE_DEV_RERANKER_REDUCED_PRECISION": settings.reranker_reduced_precision,
    }
    env.update({f"WEAVIATE_DEV_{name}": url for name, url in settings.download_sources().items()})
    return env


@dataclass(frozen=True)
class Compose:
    """Command lines for one compose project; `run` executes them through process.run."""

    command: tuple[str, ...]
    files: tuple[Path, ...]
    project: str = DEFAULT_PROJECT
    env: Mapping[str, str] = field(default_factory=dict)  # added to the caller's environment

    def argv(self, *args: str) -> list[str]:
        """Return `docker compose -p PROJECT -f FILE... ARGS...`."""
        argv = [*self.command, "-p", self.project]
        for path in self.files:
            argv += ["-f", str(path)]
        return argv + list(args)

    def down_argv(self) -> list[str]:
        return self.argv("down", "--remove-orphans")

    def up_argv(self, services: Sequence[str]) -> list[str]:
        # --no-build: images we build are built before `up` (weaviate_dev.services.images); compose
        # must never start a build of its own.
        return self.argv("up", "-d", "--no-build", *services)

    def logs_argv(self, services: Sequence[str], *, tail: int | None = None,
                  follow: bool = False) -> list[str]:
        args = ["logs", "--no-color"]
        if tail is not None:
            args += ["--tail", str(tail)]
        if follow:
            args.append("-f")
        return self.argv(*args, *services)

    def run(self, argv: Sequence[str], **kwargs):
        """Run one of our command lines with the compose variables set."""
        return process.run(argv, env={**os.environ, **self.env}, **kwargs)

    def logs_tail(self, service: str, lines: int = 50) -> str:
        """Return the last `lines` log lines of a service (shown when a wait fails)."""
        result = self.run(self.logs_argv([service], tail=lines), check=False, capture=True,
                          timeout=60)
        return (result.stdout or "").rstrip() or "(no log output)"


def check_files(files: Sequence[Path]) -> None:
    """Raise DevError naming each compose file that does not exist (checked before anything
    starts)."""
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise DevError(f"compose file(s) not found: {', '.join(missing)}")


# --- the Compose of a project ---------------------------------------------------------------


def for_project(settings: Settings, *, workspace: Path, project: str = DEFAULT_PROJECT,
                overrides: Sequence[Path] = ()) -> Compose:
    """Return the Compose for `project` over our compose file and any override files after
    it."""
    files = (default_compose_file(settings), *overrides)
    check_files(files)
    return Compose(command=containers.compose_command(), files=files, project=project,
                   env=compose_environment(settings, workspace))
