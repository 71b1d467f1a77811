"""Testcontainers for a Weaviate that reranks through a reranker sidecar.

`RerankerContainer` runs a reranker-transformers image (ours or the official one) the way
compose defines the `reranker-transformers` service (its name as network alias, its container
port). `WeaviateContainer` runs Weaviate with the reranker module pointed at it, using the
variables that service defines for Weaviate on a Docker network. Both publish their ports on
127.0.0.1 only and wait for their ready endpoint with a timeout; when a start fails, the
container is removed and the error shows its log tail.

    with Network() as net, RerankerContainer(image).with_network(net) as reranker, \
         WeaviateContainer(weaviate_image).with_network(net) as weaviate:
        client = weaviate.connect()

`PrometheusContainer` scrapes given targets (the reranker's GET /metrics) on such a network.

This module needs the package's `test` extra (testcontainers, and weaviate-client for
`connect()`), so the pytest plugin imports it only in the fixtures that start containers.
Each container carries the run's label (`sweep.labels`), so the next run removes any
container that a killed run left behind.
"""

from __future__ import annotations

import docker.errors
from testcontainers.core.container import DockerContainer

from weaviate_dev.core.errors import WaitTimeout
from weaviate_dev.core.waiting import http_probe, wait_until
from weaviate_dev.services.catalog import Service, load_catalog
from weaviate_dev.testing import sweep

RERANKER_SERVICE = "reranker-transformers"
# Weaviate's own ports inside its image.
WEAVIATE_HTTP_PORT = 8080
WEAVIATE_GRPC_PORT = 50051
LOG_TAIL_LINES = 50


class _ProbedContainer(DockerContainer):
    """A container whose ports are published on loopback; `start()` returns once its ready
    URL answers."""

    ready_path = "/"
    ready_timeout = 120.0
    probe_port = 8080

    def __init__(self, image: str, **kwargs) -> None:
        # The run's label: should the run die before it removes the container, the next one
        # does (sweep.py).
        kwargs["labels"] = {**(kwargs.get("labels") or {}), **sweep.labels()}
        super().__init__(image, **kwargs)
        self.start_seconds: float | None = None

    def publish(self, port: int) -> "_ProbedContainer":
        """Publish a container port on a random 127.0.0.1 port."""
        self.ports[f"{port}/tcp"] = ("127.0.0.1",)
        return self

    def host_port(self, port: int) -> int:
        """Return the 127.0.0.1 port that container `port` is published on (it changes after
        a restart)."""
        container = self.get_wrapped_container()
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise WaitTimeout(f"{self.image}: port {port} is not published (is it running?)")
        return int(bindings[0]["HostPort"])

    def url_for(self, port: int) -> str:
        """Return the base URL of container `port` from the host."""
        # Ports are published on loopback only, so the host is always 127.0.0.1.
        return f"http://127.0.0.1:{self.host_port(port)}"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last `lines` lines of the container's log."""
        stdout, stderr = self.get_logs()
        text = (stdout + stderr).decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def ready_probe(self):
        """Return the probe that passes once the container is ready."""
        return http_probe(self.url_for(self.probe_port) + self.ready_path)

    def start(self) -> "_ProbedContainer":
        """Start the container and wait until it is ready; remove it again if that fails."""
        super().start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container; safe to call twice (a failed start already removed it)."""
        if self._container is None:
            return
        try:
            super().stop(force=force, delete_volume=delete_volume)
        except docker.errors.NotFound:
            pass
        finally:
            self._container = None

    def wait_ready(self, timeout: float | None = None) -> float:
        """Wait for the ready endpoint and return the seconds it took; raise WaitTimeout with
        the log tail when it never answers."""

        def probe() -> str | None:
            container = self.get_wrapped_container()
            container.reload()
            if container.status in ("exited", "dead"):
                raise WaitTimeout(f"{self.image} exited while starting:\n{self.log_tail()}")
            return self.ready_probe()()

        self.start_seconds = wait_until(
            probe, what=f"{self.image} at {self.ready_path}",
            timeout=timeout or self.ready_timeout, logs=self.log_tail)
        return self.start_seconds


def reranker_service() -> Service:
    """Return the reranker service as compose/docker-compose.yml defines it."""
    return load_catalog().service(RERANKER_SERVICE)


class RerankerContainer(_ProbedContainer):
    """A reranker-transformers inference container, ready when /.well-known/ready returns
    204."""

    ready_path = "/.well-known/ready"

    def __init__(self, image: str, **kwargs) -> None:
        super().__init__(image, **kwargs)
        service = reranker_service()
        self.port = service.ports[0].container
        self.publish(self.port)
        self.with_network_aliases(service.name)

    def ready_probe(self):
        return http_probe(self.url_for(self.port) + self.ready_path,
                          expect=lambda status: status == 204)

    @property
    def url(self) -> str:
        """The base URL from the host (it changes when the container is restarted)."""
        return self.url_for(self.port)


class WeaviateContainer(_ProbedContainer):
    """Weaviate with the reranker-transformers module, anonymous access and no vectorizer.

    Start the reranker first: Weaviate keeps its port closed until the reranker is ready.
    `reranker_env` replaces the variables that point Weaviate at the reranker on a Docker
    network.
    """

    ready_path = "/v1/.well-known/ready"
    ready_timeout = 180.0  # Weaviate itself gives the reranker up to 120 s

    def __init__(self, image: str, *, reranker_env: dict[str, str] | None = None,
                 **kwargs) -> None:
        super().__init__(image, **kwargs)
        self.publish(WEAVIATE_HTTP_PORT)
        self.publish(WEAVIATE_GRPC_PORT)
        self.with_envs(**(reranker_env or reranker_service().weaviate_env(in_network=True)))
        self.with_envs(
            ENABLE_MODULES="reranker-transformers",
            DEFAULT_VECTORIZER_MODULE="none",
            AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED="true",
            PERSISTENCE_DATA_PATH="/var/lib/weaviate",
            CLUSTER_HOSTNAME="node1",
            DISABLE_TELEMETRY="true",
            LOG_LEVEL="info",
        )

    @property
    def http_url(self) -> str:
        """Weaviate's HTTP URL from the host."""
        return self.url_for(WEAVIATE_HTTP_PORT)

    @property
    def grpc_port(self) -> int:
        """The host port of Weaviate's gRPC API."""
        return self.host_port(WEAVIATE_GRPC_PORT)

    def connect(self):
        """Return a weaviate-client v4 client for this server; the caller must close it."""
        import weaviate

        return weaviate.connect_to_local(
            host="127.0.0.1",
            port=self.host_port(WEAVIATE_HTTP_PORT),
            grpc_port=self.grpc_port,
        )


class PrometheusContainer(_ProbedContainer):
    """A Prometheus that scrapes `targets` ("host:port" on the container's networks) every
    `interval` as job `job`, ready when /-/ready answers. Its configuration is written to a
    directory of its own and mounted read-only."""

    ready_path = "/-/ready"
    probe_port = 9090

    def __init__(self, image: str, targets: list[str], *, job: str = "reranker",
                 interval: str = "1s", **kwargs) -> None:
        import json

        super().__init__(image, **kwargs)
        self.config_dir = str(sweep.mkdtemp("prometheus"))
        config = {"global": {"scrape_interval": interval, "evaluation_interval": interval},
                  "scrape_configs": [{"job_name": job,
                                      "static_configs": [{"targets": targets}]}]}
        with open(f"{self.config_dir}/prometheus.yml", "w") as handle:
            json.dump(config, handle)  # YAML reads JSON
        self.with_volume_mapping(self.config_dir, "/etc/prometheus", "ro")
        self.with_command(["--config.file=/etc/prometheus/prometheus.yml",
                           "--storage.tsdb.path=/prometheus"])
        self.publish(self.probe_port)

    @property
    def url(self) -> str:
        """Prometheus' base URL from the host."""
        return self.url_for(self.probe_port)

    def query(self, expression: str) -> list[dict]:
        """Run a PromQL query through Prometheus' HTTP API and return the instant vector."""
        import requests

        response = requests.get(f"{self.url}/api/v1/query", params={"query": expression},
                                timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container and its configuration directory."""
        import shutil

        try:
            super().stop(force=force, delete_volume=delete_volume)
        finally:
            shutil.rmtree(self.config_dir, ignore_errors=True)
