"""Helpers of the image tests: run a container, wait for it, compare its scores.

A plain module (not a conftest): the image test modules import what they use from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid

import numpy as np

@contextlib.contextmanager
def running(image: str, docker_engine, volumes=None, platform=None):
    from weaviate_dev.testing import sweep

    container = docker_engine.containers.run(
        image, detach=True, name=f"weaviate-dev-reranker-test-{uuid.uuid4().hex[:8]}",
        ports={"8080/tcp": ("127.0.0.1", None)}, volumes=volumes, platform=platform,
        labels=sweep.labels())  # removed by the next run, should this one die first
    try:
        yield container
    finally:
        container.remove(force=True)


def engine_image(settings, engine: str, tag: str, model_dir) -> str:
    from weaviate_dev.services import images

    settings = dataclasses.replace(settings, reranker_engine=engine)
    return images.build_reranker_image(settings, tag=f"{tag}-{engine}", model_dir=model_dir)


def precision_of(container) -> str:
    """What the engine in the container computes in, from its start line."""
    logs = container.logs().decode(errors="replace")
    for precision in ("bf16", "int8", "fp16"):
        if f", {precision}, " in logs:
            return precision
    return "fp32"


def assert_scores_match(scores, expected, precision: str) -> None:
    """fp32: the CrossEncoder's scores within 1e-4. Reduced precision (bf16 where the CPU has
    it): the same ranking in substance (correlation >= 0.98), no score off by more than a
    fifth of the range (the tiny model's wide random weights are harsh on bf16: ~0.1 here)."""
    scores, expected = np.asarray(scores), np.asarray(expected)
    if precision == "fp32":
        np.testing.assert_allclose(scores, expected, atol=1e-4)
        return
    assert np.corrcoef(scores, expected)[0, 1] >= 0.98, (scores, expected)
    assert np.abs(scores - expected).max() <= 0.2 * np.ptp(expected), (scores, expected)


def wait_ready(container, timeout: float = 180) -> str:
    from weaviate_dev.core.waiting import http_probe, wait_until

    url = host_url(container)
    wait_until(http_probe(f"{url}/.well-known/ready", expect=lambda s: s == 204),
               what="reranker container ready", timeout=timeout,
               logs=lambda: container.logs(tail=50).decode(errors="replace"))
    return url


def host_url(container) -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
    return f"http://127.0.0.1:{binding['HostPort']}"


def bridge_gateway(docker_engine) -> str:
    """The host's address on Docker's default bridge: where a build's RUN reaches the host."""
    import ipaddress

    [config] = docker_engine.networks.get("bridge").attrs["IPAM"]["Config"]
    return config.get("Gateway") or str(ipaddress.ip_network(config["Subnet"])[1])
