"""Docker Compose: find a compose command and build its command lines for our project.

Works with the Compose v2 plugin (`docker compose`) and with the standalone `docker-compose`
(v1.29 on Debian). Every command names the project (`-p`, fixed so that down/status/logs find
what restart started) and the compose files (`-f`). Commands run through weaviate_dev.process.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from weaviate_dev import process
from weaviate_dev.errors import DevError
from weaviate_dev.settings import Settings

DEFAULT_PROJECT = "weaviate-dev"
PLUGIN = ("docker", "compose")
STANDALONE = ("docker-compose",)


def default_compose_file(settings: Settings) -> Path:
    return settings.project_root / "compose" / "docker-compose.yml"


def find_compose_command(
    run: Callable = process.run, which: Callable[[str], str | None] = shutil.which
) -> tuple[str, ...]:
    """("docker", "compose") when the plugin answers, else ("docker-compose",); DevError if
    neither exists."""
    if which("docker"):
        result = run([*PLUGIN, "version"], check=False, capture=True, timeout=30)
        if result.returncode == 0:
            return PLUGIN
    if which("docker-compose"):
        return STANDALONE
    raise DevError("no Docker Compose found: install the `docker compose` plugin or "
                   "`docker-compose` (Debian/Ubuntu: apt-get install docker-compose)")


def compose_environment(settings: Settings, workspace: Path) -> dict[str, str]:
    """The variables compose/docker-compose.yml interpolates, from our settings."""
    env = {
        "WEAVIATE_DEV_BIND_ADDRESS": settings.bind_address,
        "WEAVIATE_DEV_WORKSPACE": str(workspace),
        "WEAVIATE_DEV_RERANKER_IMAGE": settings.reranker_image,
        "WEAVIATE_DEV_BASE_IMAGE": settings.base_image,
        "WEAVIATE_DEV_MODEL_NAME": settings.model_name,
        "WEAVIATE_DEV_RERANKER_ENGINE": settings.reranker_engine,
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
        argv = [*self.command, "-p", self.project]
        for path in self.files:
            argv += ["-f", str(path)]
        return argv + list(args)

    def down_argv(self) -> list[str]:
        return self.argv("down", "--remove-orphans")

    def up_argv(self, services: Sequence[str]) -> list[str]:
        # --no-build: images we build are built before `up` (weaviate_dev.images); compose
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
        """The last `lines` log lines of a service (evidence for a failed wait)."""
        result = self.run(self.logs_argv([service], tail=lines), check=False, capture=True,
                          timeout=60)
        return (result.stdout or "").rstrip() or "(no log output)"


def check_files(files: Sequence[Path]) -> None:
    """Every compose file must exist (checked before anything acts)."""
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise DevError(f"compose file(s) not found: {', '.join(missing)}")


# --- what the engine knows about our project ------------------------------------------------


def check_engine(run: Callable = process.run) -> str:
    """The Docker engine's version; DevError when no engine answers."""
    result = run(["docker", "version", "--format", "{{.Server.Version}}"], check=False,
                 capture=True, timeout=30)
    if result.returncode != 0:
        detail = (result.stdout or "").strip().splitlines()[-1:] or ["no answer"]
        raise DevError(f"the Docker engine does not answer ({detail[0]}); start it "
                       "(or run `weaviate-dev setup`)")
    return (result.stdout or "").strip()


def image_present(ref: str, run: Callable = process.run) -> bool:
    return run(["docker", "image", "inspect", ref], check=False, capture=True,
               timeout=30).returncode == 0


@dataclass(frozen=True)
class ContainerState:
    """One container of the project, as `status` shows it."""

    service: str
    name: str
    state: str  # running, exited, ...
    health: str  # healthy/unhealthy/starting from a Docker health check, else "-"
    ports: tuple[str, ...]  # "127.0.0.1:8009->8080/tcp"


def _label_filter(project: str) -> str:
    return f"label=com.docker.compose.project={project}"


def project_containers(project: str, run: Callable = process.run) -> list[ContainerState]:
    """All containers (running or not) of a compose project, by the labels compose sets."""
    ids = run(["docker", "ps", "-aq", "--filter", _label_filter(project)], capture=True,
              timeout=30).stdout.split()
    if not ids:
        return []
    details = json.loads(run(["docker", "inspect", *ids], capture=True, timeout=30).stdout)
    states = []
    for item in details:
        labels = item.get("Config", {}).get("Labels") or {}
        state = item.get("State", {})
        ports = []
        for container_port, bindings in sorted((item.get("NetworkSettings", {})
                                                .get("Ports") or {}).items()):
            for binding in bindings or []:
                ports.append(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}"
                             f"->{container_port}")
        states.append(ContainerState(
            service=labels.get("com.docker.compose.service", "?"),
            name=item.get("Name", "").lstrip("/"),
            state=state.get("Status", "?"),
            health=(state.get("Health") or {}).get("Status", "-"),
            ports=tuple(ports),
        ))
    return sorted(states, key=lambda s: (s.service, s.name))


def project_networks(project: str, run: Callable = process.run) -> list[str]:
    result = run(["docker", "network", "ls", "-q", "--filter", _label_filter(project)],
                 capture=True, timeout=30)
    return result.stdout.split()
