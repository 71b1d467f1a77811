"""The service catalog: which restart flag starts which compose service, on which host ports,
and how to tell that it is ready. The data lives in services.yaml beside this module; code
here only loads it, selects services for a set of flags, and builds readiness probes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from weaviate_dev import waiting
from weaviate_dev.errors import DevError, UsageError
from weaviate_dev.ports import tcp_probe
from weaviate_dev.state import check_relative

CATALOG_FILE = Path(__file__).with_name("services.yaml")
PROBE_KINDS = ("http", "tcp")


@dataclass(frozen=True)
class PortMap:
    """A published port: host port -> container port."""

    host: int
    container: int


@dataclass(frozen=True)
class ProbeSpec:
    """How readiness is checked, against the service's first host port."""

    kind: str  # "http" or "tcp"
    path: str = "/"
    expect: str = "2xx"  # "2xx" or "any"


@dataclass(frozen=True)
class Service:
    """One compose service of compose/docker-compose.yml."""

    name: str
    flag: str
    ports: tuple[PortMap, ...]
    probe: ProbeSpec
    timeout: float
    help: str = ""

    @property
    def host_ports(self) -> tuple[int, ...]:
        return tuple(p.host for p in self.ports)

    def url(self, address: str) -> str:
        """Base URL on the host (through the first published port)."""
        return f"http://{probe_host(address)}:{self.ports[0].host}"

    def readiness_probe(self, address: str) -> waiting.Probe:
        """A probe for waiting.wait_until, aimed at the host port bound on `address`."""
        if self.probe.kind == "tcp":
            return tcp_probe(probe_host(address), self.ports[0].host)
        if self.probe.expect == "any":
            expect = lambda status: True  # noqa: E731 - any HTTP answer means it serves
        else:
            expect = lambda status: 200 <= status < 300  # noqa: E731
        return waiting.http_probe(self.url(address) + self.probe.path, expect=expect)


def probe_host(address: str) -> str:
    """Where the host reaches a port bound on `address` (all interfaces -> loopback)."""
    return "127.0.0.1" if address in ("0.0.0.0", "", "::") else address


@dataclass(frozen=True)
class Catalog:
    """All services, the flags that start them, flags we refuse, and the state to delete."""

    services: tuple[Service, ...]
    unsupported_flags: dict[str, str]
    state_paths: tuple[str, ...]

    def flags(self) -> dict[str, list[Service]]:
        """Flag -> its services, in catalog order."""
        result: dict[str, list[Service]] = {}
        for service in self.services:
            result.setdefault(service.flag, []).append(service)
        return result

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        known = ", ".join(s.name for s in self.services)
        raise UsageError(f"unknown service {name!r} (known: {known})")

    def select(self, chosen: Iterable[str]) -> list[Service]:
        """The services for a set of flags (names without "--"), in catalog order.

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


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and check the catalog; a malformed file is a DevError naming the entry."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DevError(f"cannot read the service catalog {path}: {exc}") from exc
    services = []
    seen_ports: dict[int, str] = {}
    for name, entry in (raw.get("services") or {}).items():
        try:
            ports = tuple(PortMap(int(p["host"]), int(p["container"])) for p in entry["ports"])
            probe = ProbeSpec(**(entry.get("probe") or {"kind": "tcp"}))
            service = Service(name=name, flag=str(entry["flag"]), ports=ports, probe=probe,
                              timeout=float(entry["timeout"]), help=entry.get("help", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise DevError(f"{path}: service {name!r} is malformed: {exc}") from exc
        if probe.kind not in PROBE_KINDS or probe.expect not in ("2xx", "any"):
            raise DevError(f"{path}: service {name!r} has an unknown probe {probe}")
        if not ports:
            raise DevError(f"{path}: service {name!r} publishes no port")
        for port in service.host_ports:
            if port in seen_ports:
                raise DevError(f"{path}: host port {port} is used by both "
                               f"{seen_ports[port]} and {name}")
            seen_ports[port] = name
        services.append(service)
    state_paths = tuple(str(p) for p in raw.get("state_paths") or ())
    for pattern in state_paths:
        check_relative(pattern)
    return Catalog(services=tuple(services),
                   unsupported_flags=dict(raw.get("unsupported_flags") or {}),
                   state_paths=state_paths)

