"""The one place that talks to Docker: the engine, images, containers, compose detection.

Through one docker SDK client per process (an image lookup takes 1.5 ms through it against
15 ms through the CLI, measured); compose is a program of its own, so for compose this module
only finds the command (`docker compose` plugin, else `docker-compose`) that `compose.Compose`
then runs. Everything raises DevError with a message a user can act on.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import docker
import docker.errors

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say

PLUGIN = ("docker", "compose")
STANDALONE = ("docker-compose",)
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"

_client: docker.DockerClient | None = None


# --- the engine -------------------------------------------------------------------------


def client() -> docker.DockerClient:
    """The client for the engine in the environment (made once); DevError if none answers."""
    global _client
    if _client is None:
        try:
            candidate = docker.from_env()
            candidate.ping()
        except docker.errors.DockerException as exc:
            raise DevError(f"no Docker engine answers ({exc}); start one, or run "
                           "`weaviate-dev setup engine`") from exc
        _client = candidate
    return _client


def answers() -> bool:
    """Whether an engine answers now (a failure is not remembered: it may start later)."""
    try:
        client()
    except DevError:
        return False
    return True


def version() -> str:
    """The engine's version; DevError when no engine answers."""
    return str(client().version().get("Version", "?"))


def native_platform() -> str:
    """The engine's own platform, as Docker names it: "linux/amd64", "linux/arm64"."""
    info = client().version()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(info.get("Arch", ""), info.get("Arch"))
    return f"{info.get('Os', 'linux')}/{arch}"


# --- images -----------------------------------------------------------------------------


def image_present(ref: str) -> bool:
    return image_id(ref) is not None


def image_id(ref: str | None) -> str | None:
    """The id of a local image ("sha256:..."); None when there is none."""
    if not ref:
        return None
    try:
        return client().images.get(ref).id
    except docker.errors.ImageNotFound:
        return None


def image_labels(ref: str) -> dict[str, str] | None:
    """A local image's labels ({} when it has none); None when there is no such image."""
    try:
        attrs = client().images.get(ref).attrs
    except docker.errors.ImageNotFound:
        return None
    return dict((attrs.get("Config") or {}).get("Labels") or {})


def image_platform(ref: str) -> str | None:
    """"os/arch" of a local image; None when there is no such image."""
    try:
        attrs = client().images.get(ref).attrs
    except docker.errors.ImageNotFound:
        return None
    return f"{attrs.get('Os', 'linux')}/{attrs.get('Architecture', '?')}"


def pull(ref: str, platform: str | None = None) -> bool:
    """Pull ref (for `platform`); False (quietly) when the registry cannot be reached or lacks
    it."""
    say(f"pulling {ref}" + (f" for {platform}" if platform else ""))
    try:
        client().images.pull(ref, platform=platform)
    except docker.errors.APIError as exc:
        say(f"cannot pull {ref}: {exc.explanation or exc}")
        return False
    return True


@dataclass(frozen=True)
class Built:
    """A finished build: its tag, the image's id, and the images its other stages left
    (untagged, no longer needed once the build is done)."""

    tag: str
    image_id: str | None = None
    leftovers: tuple[str, ...] = ()


def build(context: BinaryIO, *, tag: str, buildargs: dict[str, str],
          dockerfile: str = "Dockerfile", labels: dict[str, str] | None = None,
          target: str | None = None, tag_result: bool = True) -> Built:
    """A classic-builder build of a context tarball (any binary file object: a tar file on
    disk is streamed, never read whole); progress by step; on failure a DevError naming the
    failing step and showing its last lines. `labels` go on the final image; `target` builds
    that stage only (its layers then serve later builds from the cache); `tag_result=False`
    leaves the result untagged (`tag` only names the build in its lines).

    The image is tagged only after the whole build succeeded here: the engine goes on with a
    build whose client went away (Ctrl-C), and must then leave an untagged image, not `tag`.
    """
    context.seek(0)
    log = BuildLog(tag)
    stream = client().api.build(fileobj=context, custom_context=True, rm=True, forcerm=True,
                                buildargs=buildargs, dockerfile=dockerfile, decode=True,
                                labels=labels or None, target=target)
    for chunk in stream:
        if "error" in chunk:
            raise DevError(log.failure(chunk["error"]))
        log.add(chunk.get("stream", ""))
    if not log.image_id:
        raise DevError(f"building {tag}: the engine did not say which image it built")
    image = client().images.get(log.image_id)
    if tag_result:
        image.tag(*split_tag(tag))
    kept = {layer.get("Id") for layer in client().api.history(image.id)}
    leftovers = tuple(step for step in reversed(log.step_images)
                      if not any(k and k.split(":")[-1].startswith(step) for k in kept))
    return Built(tag, image.id, leftovers)


def build_for(context: BinaryIO, *, tag: str, buildargs: dict[str, str],
              platform: str, labels: dict[str, str] | None = None) -> Built:
    """A BuildKit build (`docker buildx build`) of a context tarball for `platform`, loaded
    into the engine as `tag`. The classic builder cannot build another architecture's image
    (a COPY after a RUN fails with "failed to get destination image"), and the SDK drives
    only that builder: this runs the buildx plugin, its progress on the terminal; the image is
    tagged only when the whole build succeeded."""
    argv = ["docker", "buildx", "build", "--platform", platform, "--load", "--progress",
            "plain", "-t", tag]
    for name, value in sorted(buildargs.items()):
        argv += ["--build-arg", f"{name}={value}"]
    for name, value in sorted((labels or {}).items()):
        argv += ["--label", f"{name}={value}"]
    say(f"building {tag} for {platform} with BuildKit")
    context.seek(0)
    code = process.run_with_stdin([*argv, "-"], context)
    if code != 0:
        raise DevError(f"building {tag} for {platform} failed (docker buildx exit code {code}; "
                       "its output is above)")
    return Built(tag, image_id(tag))


def remove_unused(ids) -> int:
    """Remove each image of `ids` that has no tag, no child image and no container (its
    untagged parents go with it, as `docker rmi` does); the bytes that freed. Images still
    tagged or in use are kept, each said in one line."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return 0
    api = client().api
    sizes = {image["Id"]: (image.get("ParentId") or "", image.get("Size") or 0)
             for image in api.images(all=True)}
    freed = 0
    for ref in wanted:
        try:
            attrs = api.inspect_image(ref)
        except docker.errors.NotFound:
            continue  # gone with an earlier one
        if attrs.get("RepoTags"):
            continue  # tagged again (e.g. the same build twice): not ours to remove
        try:
            deleted = api.remove_image(attrs["Id"], force=False, noprune=False)
        except docker.errors.APIError as exc:
            if exc.status_code == 409 and "child" not in str(exc.explanation or ""):
                say(f"kept {attrs['Id'][:19]}: {exc.explanation or exc}")
            continue
        for entry in deleted or []:
            gone = entry.get("Deleted")
            if gone in sizes:
                parent, size = sizes[gone]
                freed += size - (sizes.get(parent, ("", 0))[1] if parent else 0)
    return freed


def split_tag(ref: str) -> tuple[str, str]:
    """("repo/name", "tag") of "repo/name:tag"; the tag "latest" when ref names none."""
    repository, sep, version = ref.rpartition(":")
    if not sep or "/" in version:  # no tag, or a registry port ("host:5000/name")
        return ref, "latest"
    return repository, version


def import_rootfs(tarball: Path, tag: str, changes: list[str]) -> str:
    """`docker import` of a root filesystem tarball as `tag` (a base image without a registry)."""
    repository, version_tag = split_tag(tag)
    client().api.import_image_from_file(str(tarball), repository=repository, tag=version_tag,
                                        changes=changes)
    return tag


class BuildLog:
    """A build's output by step: progress lines as steps start, the failing step's tail."""

    TAIL_LINES = 15
    STEP_WIDTH = 100  # a step's Dockerfile line is cut here (a RUN can be 20 lines long)

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.step = ""
        self.lines: list[str] = []
        self.image_id: str | None = None  # from "Successfully built <id>"
        self.step_images: list[str] = []  # each step's image (" ---> <id>"), in order

    def add(self, text: str) -> None:
        for line in text.splitlines():
            built = re.match(r"Successfully built ([0-9a-f]+)", line)
            if built:
                self.image_id = built[1]
            step_image = re.fullmatch(r" ---> ([0-9a-f]{12,64})\s*", line)
            if step_image:
                self.step_images.append(step_image[1])
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


# --- containers -------------------------------------------------------------------------


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
        client().containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        return False
    return True


def _of_project(project: str) -> dict[str, str]:
    """The filter for what compose made for `project` (it labels containers and networks)."""
    return {"label": f"{COMPOSE_PROJECT_LABEL}={project}"}


def project_containers(project: str) -> list[ContainerState]:
    """All containers (running or not) of a compose project, by the label compose sets."""
    found = client().containers.list(all=True, filters=_of_project(project))
    return sorted((_state(c) for c in found), key=lambda s: (s.service, s.name))


def project_leftovers(project: str) -> list[str]:
    """Names of the containers (any state) and networks a compose project still has."""
    return ([c.name for c in project_containers(project)]
            + [n.name for n in client().networks.list(filters=_of_project(project))])


def port_holders() -> dict[int, str]:
    """Host port -> "Docker container NAME (compose project P)" for every running container;
    empty when no engine answers (then nothing of Docker's can hold a port)."""
    if not answers():
        return {}
    holders: dict[int, str] = {}
    for container in client().containers.list():
        labels = container.labels or {}
        project = labels.get(COMPOSE_PROJECT_LABEL)
        label = f"Docker container {container.name}" + (
            f" (compose project {project})" if project else "")
        for port in _state(container).host_ports:
            holders.setdefault(port, label)
    return holders


# --- compose ----------------------------------------------------------------------------


def compose_command(run: Callable = process.run,
                    which: Callable[[str], str | None] = shutil.which) -> tuple[str, ...]:
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
