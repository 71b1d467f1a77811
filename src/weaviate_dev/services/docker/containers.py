"""List containers: those of a compose project, and those that publish a host port; and find
this machine's compose command (`docker compose`, else `docker-compose`).

Compose itself is a separate program, which `services.compose.Compose` runs; this module only
finds it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

import docker.errors

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.services.docker import engine

PLUGIN = ("docker", "compose")
STANDALONE = ("docker-compose",)
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerState:
    """One container, as `status` shows it."""

    service: str
    name: str
    state: str  # running, exited, ...
    health: str  # healthy/unhealthy/starting from a Docker health check, else "-"
    ports: tuple[str, ...]  # "127.0.0.1:8009->8080/tcp"
    host_ports: tuple[int, ...] = ()
    image: str = ""  # the id of the image it runs


def _state(container) -> ContainerState:
    attrs = container.attrs
    labels = attrs.get("Config", {}).get("Labels") or {}
    state = attrs.get("State", {})
    ports, host_ports = [], []
    for container_port, bindings in sorted((attrs.get("NetworkSettings", {})
                                            .get("Ports") or {}).items()):
        for binding in bindings or []:
            ports.append(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}"
                         f"->{container_port}")
            if str(binding.get("HostPort", "")).isdigit():
                host_ports.append(int(binding["HostPort"]))
    return ContainerState(
        service=labels.get(COMPOSE_SERVICE_LABEL, "?"),
        name=attrs.get("Name", "").lstrip("/"),
        state=state.get("Status", "?"),
        health=(state.get("Health") or {}).get("Status", "-"),
        ports=tuple(ports),
        host_ports=tuple(sorted(set(host_ports))),
        image=str(attrs.get("Image", "")),
    )


def remove_container(name: str) -> bool:
    """Remove container `name`, running or not; False when there is none."""
    try:
        engine.client().containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        return False
    return True


def _of_project(project: str) -> dict[str, str]:
    """Return the filter that selects what compose made for `project` (compose labels its
    containers and networks)."""
    return {"label": f"{COMPOSE_PROJECT_LABEL}={project}"}


def project_containers(project: str) -> list[ContainerState]:
    """Return every container (running or not) of a compose project, found by the label
    compose sets."""
    found = engine.client().containers.list(all=True, filters=_of_project(project))
    return sorted((_state(c) for c in found), key=lambda s: (s.service, s.name))


def project_leftovers(project: str) -> list[str]:
    """Return the names of the containers (in any state) and networks that a compose project
    still has."""
    return ([c.name for c in project_containers(project)]
            + [n.name for n in engine.client().networks.list(filters=_of_project(project))])


def port_holders() -> dict[int, str]:
    """Map each host port that a running container publishes to "Docker container NAME
    (compose project P)". Returns {} when no engine answers (then no container can hold a
    port)."""
    if not engine.answers():
        return {}
    holders: dict[int, str] = {}
    for container in engine.client().containers.list():
        labels = container.labels or {}
        project = labels.get(COMPOSE_PROJECT_LABEL)
        label = f"Docker container {container.name}" + (
            f" (compose project {project})" if project else "")
        for port in _state(container).host_ports:
            holders.setdefault(port, label)
    return holders


def compose_command(run: Callable = process.run,
                    which: Callable[[str], str | None] = shutil.which) -> tuple[str, ...]:
    """Return ("docker", "compose") when the plugin works, else ("docker-compose",); raise
    DevError when neither exists."""
    if which("docker"):
        result = run([*PLUGIN, "version"], check=False, capture=True, timeout=30)
        if result.returncode == 0:
            return PLUGIN
    if which("docker-compose"):
        return STANDALONE
    raise DevError("no Docker Compose found: install the `docker compose` plugin or "
                   "`docker-compose` (Debian/Ubuntu: apt-get install docker-compose)")
