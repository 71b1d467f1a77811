"""Read the service definitions from compose/docker-compose.yml, one definition per service.

A service's ports come from its compose `ports:`, everything else from its `x-weaviate-dev`
block: the restart flag that starts it, readiness probe and timeout, help, and the environment
it gives Weaviate (`weaviate-env`, with {host} and {port} filled in for where Weaviate runs).
`restart`, `run` profiles, `dev`, `status` and the testcontainers fixtures all read them here,
so a port is changed in one place. This module only loads the definitions, selects services
and makes readiness probes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from weaviate_dev.core import tree, waiting
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.core.state import check_relative

EXTENSION = "x-weaviate-dev"
PROBE_KINDS = ("http", "tcp")
# "${WEAVIATE_DEV_BIND_ADDRESS:-127.0.0.1}:8009:8080", "127.0.0.1:8009:8080/tcp", "8009:8080"
_PORT = re.compile(r"^(?:.*:)?(?P<host>\d+):(?P<container>\d+)(?:/tcp)?$")


@dataclass(frozen=True)
class PortMap:
    """A published port: host port -> container port."""

    host: int
    container: int


@dataclass(frozen=True)
class ProbeSpec:
    """How to check that a service is ready, through its first host port."""

    kind: str  # "http" or "tcp"
    path: str = "/"
    expect: str = "2xx"  # "2xx" or "any"


@dataclass(frozen=True)
class Service:
    """One compose service: its name is also its hostname and network alias in compose."""

    name: str
    flag: str
    ports: tuple[PortMap, ...]
    probe: ProbeSpec
    timeout: float
    help: str = ""
    weaviate_env_template: Mapping[str, str] = field(default_factory=dict)

    @property
    def host_ports(self) -> tuple[int, ...]:
        """The host ports the service publishes, in the compose file's order."""
        return tuple(p.host for p in self.ports)

    def url(self, address: str) -> str:
        """Return the service's base URL from the host, through its first published port."""
        return f"http://{probe_host(address)}:{self.ports[0].host}"

    def weaviate_env(self, *, in_network: bool = False,
                     host: str = "localhost") -> dict[str, str]:
        """Return the environment variables Weaviate needs to reach this service: from the
        host (`host` and the published port), or with `in_network` from a container on the
        same Docker network (the service name and the container port)."""
        if in_network:
            host, port = self.name, self.ports[0].container
        else:
            port = self.ports[0].host
        return {key: value.format(host=host, port=port)
                for key, value in self.weaviate_env_template.items()}

    def readiness_probe(self, address: str) -> waiting.Probe:
        """Return a probe for waiting.wait_until that checks the host port bound on
        `address`."""
        if self.probe.kind == "tcp":
            return waiting.tcp_probe(probe_host(address), self.ports[0].host)
        if self.probe.expect == "any":
            expect = lambda status: True  # noqa: E731 - any HTTP answer means it serves
        else:
            expect = lambda status: 200 <= status < 300  # noqa: E731
        return waiting.http_probe(self.url(address) + self.probe.path, expect=expect)


def probe_host(address: str) -> str:
    """Return the address the host uses to reach a port bound on `address` (loopback for a
    port bound on all interfaces)."""
    return "127.0.0.1" if address in ("0.0.0.0", "", "::") else address


@dataclass(frozen=True)
class ServiceCatalog:
    """Every service, the flags that start them, the flags we reject, and the workspace state
    that `down` deletes."""

    services: tuple[Service, ...]
    unsupported_flags: dict[str, str]
    state_paths: tuple[str, ...]

    def flags(self) -> dict[str, list[Service]]:
        """Return each flag with the services it starts, in the compose file's order."""
        result: dict[str, list[Service]] = {}
        for service in self.services:
            result.setdefault(service.flag, []).append(service)
        return result

    def service(self, name: str) -> Service:
        """Return the service called `name`; raise UsageError listing the known ones when
        there is none."""
        for service in self.services:
            if service.name == name:
                return service
        known = ", ".join(s.name for s in self.services)
        raise UsageError(f"unknown service {name!r} (known: {known})")

    def select(self, chosen: Iterable[str]) -> list[Service]:
        """Return the services that a set of flags (names without "--") starts, in the
        file's order.

        Order and repetition of the flags do not matter. A flag listed as unsupported raises
        UsageError with its reason; an unknown flag raises UsageError too.
        """
        chosen = set(chosen)
        for flag in sorted(chosen):
            if flag in self.unsupported_flags:
                raise UsageError(self.unsupported_flags[flag])
        flags = self.flags()
        unknown = sorted(chosen - set(flags))
        if unknown:
            raise UsageError(f"unknown service flag(s): {', '.join('--' + f for f in unknown)}")
        return [s for s in self.services if s.flag in chosen]


def load_catalog(overrides: Sequence[Path] = ()) -> ServiceCatalog:
    """Load the services of our compose file and of the `overrides` files after it (a
    service defined again there replaces ours). Raises DevError naming a malformed
    definition."""
    services: dict[str, Service] = {}
    unsupported: dict[str, str] = {}
    state_paths: list[str] = []
    for path in (tree.compose_file(), *overrides):
        document = _read(Path(path))
        extension = document.get(EXTENSION) or {}
        unsupported.update(extension.get("unsupported_flags") or {})
        state_paths += [str(p) for p in extension.get("state_paths") or ()]
        for name, entry in (document.get("services") or {}).items():
            if isinstance(entry, dict) and EXTENSION in entry:
                services[name] = _service(path, name, entry)
    seen_ports: dict[int, str] = {}
    for service in services.values():
        for port in service.host_ports:
            if port in seen_ports:
                raise DevError(f"host port {port} is published by both {seen_ports[port]} "
                               f"and {service.name}")
            seen_ports[port] = service.name
    for pattern in state_paths:
        check_relative(pattern)
    return ServiceCatalog(services=tuple(services.values()), unsupported_flags=unsupported,
                          state_paths=tuple(dict.fromkeys(state_paths)))


def _read(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DevError(f"cannot read the compose file {path}: {exc}") from exc
    return document if isinstance(document, dict) else {}


def _service(path: Path, name: str, entry: dict) -> Service:
    spec = entry[EXTENSION]
    try:
        ports = tuple(_port(str(p)) for p in entry.get("ports") or ())
        probe = ProbeSpec(**(spec.get("probe") or {"kind": "tcp"}))
        service = Service(name=name, flag=str(spec["flag"]), ports=ports, probe=probe,
                          timeout=float(spec["timeout"]), help=str(spec.get("help", "")),
                          weaviate_env_template={str(k): str(v) for k, v in
                                                 (spec.get("weaviate-env") or {}).items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise DevError(f"{path}: service {name!r} is malformed: {exc}") from exc
    if probe.kind not in PROBE_KINDS or probe.expect not in ("2xx", "any"):
        raise DevError(f"{path}: service {name!r} has an unknown probe {probe}")
    if not ports:
        raise DevError(f"{path}: service {name!r} publishes no port")
    return service


def _port(text: str) -> PortMap:
    match = _PORT.match(text.strip())
    if not match:
        raise ValueError(f"port {text!r} is not HOST:CONTAINER")
    return PortMap(int(match["host"]), int(match["container"]))
