"""Helpers of the image tests: run a container, wait for it, compare its scores.

A plain module (not a conftest): the image test modules import what they use from it. The
tests set their own bar: exact checks start the container in fp32 (`FP32`), and a server left
to choose its precision is held to the reduced-precision bar stated here (`assert_ranks_alike`),
never to a tolerance read from its log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid

import numpy as np

# Exact checks: the engine computes in fp32 whatever the CPU offers.
FP32 = {"REDUCED_PRECISION": "off"}


@contextlib.contextmanager
def running(image: str, docker_engine, volumes=None, platform=None, environment=None):
    from weaviate_dev.testing import sweep

    container = docker_engine.containers.run(
        image, detach=True, name=f"weaviate-dev-reranker-test-{uuid.uuid4().hex[:8]}",
        ports={"8080/tcp": ("127.0.0.1", None)}, volumes=volumes, platform=platform,
        environment=environment,
        labels=sweep.labels())  # removed by the next run, should this one die first
    try:
        yield container
    finally:
        container.remove(force=True)


def engine_image(settings, engine: str, tag: str, model_dir) -> str:
    from weaviate_dev.services import reranker_image

    settings = dataclasses.replace(settings, reranker_engine=engine)
    return reranker_image.ensure(settings, tag=f"{tag}-{engine}", model_dir=model_dir)


def assert_exact(scores, expected) -> None:
    """fp32 (a container started with `FP32`): the CrossEncoder's scores within 1e-4."""
    np.testing.assert_allclose(np.asarray(scores), np.asarray(expected), atol=1e-4)


# The reduced-precision bar, for a server left to choose its precision (REDUCED_PRECISION's
# default: bf16 where the CPU has it and the model ranks alike in it, else fp32): the Spearman
# lines of docs/bench.md's parity bar and the top-3 rule of the start-time check. Stated here,
# not read from the server, its log or its check.
SPEARMAN_MIN = 0.98  # each query's Spearman against the CrossEncoder
SPEARMAN_MEAN = 0.995  # their mean
TOP, TIE_SLACK = 3, 0.01  # the top 3 each within 1 % of the score range of the reference's


# What a ranking is judged on: queries over the test corpus, in several languages and lengths.
RANKING_QUERIES = ("who wrote dune", "the capital of france", "cats and dogs",
                   "a vector database", "music and film", "qui a écrit dune")


def ranking_documents() -> list[str]:
    from reranker.testing.corpus import SENTENCES

    return [*SENTENCES, "", "dune " * 300, "東京 🎉", "paris"]


def rerank_each(url: str, queries, documents: list[str]) -> list[list[float]]:
    """The server's scores of `documents` for each query, one POST /rerank each."""
    import json

    import requests

    scores = []
    for query in queries:
        body = json.dumps({"query": query, "documents": documents}).encode()
        response = requests.post(f"{url}/rerank", data=body, timeout=300)
        assert response.status_code == 200, response.text
        scores.append([s["score"] for s in response.json()["scores"]])
    return scores


def assert_ranks_alike(scores: list, expected: list) -> None:
    """Each query's scores (one list per query) rank like the CrossEncoder's by the bar."""
    from reranker.engines.precision_check import spearman, top_holds

    rhos = [spearman(s, e) for s, e in zip(scores, expected)]
    held = [top_holds(s, e, k=TOP, slack=TIE_SLACK) for s, e in zip(scores, expected)]
    assert min(rhos) >= SPEARMAN_MIN and np.mean(rhos) >= SPEARMAN_MEAN and all(held), \
        f"Spearman per query {np.round(rhos, 4).tolist()} (min {SPEARMAN_MIN}, mean " \
        f"{SPEARMAN_MEAN}), top-{TOP} held {held}"


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


def contains(chunks, needle: bytes) -> bool:
    """Whether a stream of byte chunks (`docker save`) holds `needle`, also across chunks."""
    tail = b""
    for chunk in chunks:
        if needle in tail + chunk:
            return True
        tail = (tail + chunk)[-len(needle):]
    return False
