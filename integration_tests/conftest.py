"""Fixtures for the end-to-end suites: a `Book` collection in the session's Weaviate.

The containers come from `weaviate_dev.testing.pytest_plugin` (its fixtures `weaviate_dev_*`,
registered by the package's entry point). Every test here talks to a real Weaviate whose
reranker-transformers module calls our reranker.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from weaviate_dev.services import ports
from weaviate_dev.services.docker import containers
from weaviate_dev.testing.cli_process import CliProcess

DATA = Path(__file__).parent / "data" / "books.jsonl"
COLLECTION = "Book"
VECTOR_DIMENSIONS = 16


def book_vector(index: int) -> list[float]:
    """A deterministic unit vector per book (our own vectors; no vectorizer module runs)."""
    rng = random.Random(index)
    values = [rng.gauss(0, 1) for _ in range(VECTOR_DIMENSIONS)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def reranker_scores(reranker_url: str, query: str, documents: list[str]) -> list[float]:
    """What our reranker says, asked directly (the ground truth Weaviate must pass on)."""
    response = requests.post(f"{reranker_url}/rerank", timeout=60,
                             json={"query": query, "documents": documents, "property": ""})
    response.raise_for_status()
    return [item["score"] for item in response.json()["scores"]]


def graphql(weaviate_url: str, query: str) -> dict:
    response = requests.post(f"{weaviate_url}/v1/graphql", json={"query": query}, timeout=120)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="session")
def books() -> list[dict]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 100, "the test collection must hold at least 100 passages"
    return rows


@pytest.fixture(scope="session")
def book_collection(weaviate_dev_weaviate, weaviate_dev_client, books):
    """The `Book` class, created through the raw schema API, filled through the v4 client."""
    from weaviate.classes.data import DataObject

    schema = {
        "class": COLLECTION,
        "vectorizer": "none",
        "moduleConfig": {"reranker-transformers": {}},
        "properties": [
            {"name": "title", "dataType": ["text"]},
            {"name": "author", "dataType": ["text"]},
            {"name": "genre", "dataType": ["text"]},
            {"name": "description", "dataType": ["text"]},
            {"name": "year", "dataType": ["int"]},
        ],
    }
    response = requests.post(f"{weaviate_dev_weaviate.http_url}/v1/schema", json=schema, timeout=30)
    assert response.status_code == 200, response.text
    collection = weaviate_dev_client.collections.get(COLLECTION)
    result = collection.data.insert_many(
        [DataObject(properties=book, vector=book_vector(i)) for i, book in enumerate(books)])
    assert not result.errors, result.errors
    assert len(collection) == len(books)
    return collection


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when host:port could be published (the toolkit's own preflight check)."""
    return ports.port_is_free(host, port)[0]


def busy_ports(wanted, patience: float = 10.0) -> str:
    """'' when every port of `wanted` is free; else which are not and the sockets holding them
    (`ss`). A connection this process leaked (a pool not yet collected) may hold one as its
    local port: collected and checked again for up to `patience` seconds first."""
    deadline = time.monotonic() + patience
    while True:
        busy = [port for port in wanted if not port_is_free(port)]
        if not busy or time.monotonic() >= deadline:
            break
        gc.collect()
        time.sleep(0.5)
    if not busy:
        return ""
    try:
        sockets = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
    except OSError:  # no iproute2 here: the ports alone
        sockets = ""
    holders = [line for line in sockets.splitlines()
               if any(f":{port} " in line for port in busy)]
    return f"{busy} taken before the test (another suite?):\n" + "\n".join(holders)


def weaviate_dev_cli(*args: str, env: dict, cwd=None,
                     timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `weaviate-dev ARGS` as a user would, in a subprocess (output captured)."""
    return subprocess.run([sys.executable, "-m", "weaviate_dev", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def cli_reranker_image(request) -> str:
    """The reranker image the CLI suites start through compose: the session's test image, or
    for quick local reruns an existing one named by WEAVIATE_DEV_TEST_RERANKER_IMAGE."""
    return (os.environ.get("WEAVIATE_DEV_TEST_RERANKER_IMAGE")
            or request.getfixturevalue("weaviate_dev_reranker_image"))


def Cli(*args: str, env: dict, cwd: Path) -> CliProcess:  # noqa: N802 - reads as a class
    """`python -m weaviate_dev ARGS` in its own process group, output in a log file."""
    return CliProcess.weaviate_dev(*args, env=env, cwd=cwd)


def dev_environment(settings, cwd: Path, ports, **variables: str) -> dict:
    """The environment of a `weaviate-dev dev` started as a user starts it: a Weaviate binary
    at hand (else the suite is unavailable), `ports` and the default compose project free,
    `variables` set, no data path, bind address, hostname or engine inherited."""
    from weaviate_dev.core.errors import DevError
    from weaviate_dev.testing.pytest_plugin import unavailable
    from weaviate_dev.weaviate import source as weaviate_source

    try:
        weaviate_source.locate(settings, cwd=cwd)
    except DevError as exc:
        unavailable(settings, f"no Weaviate binary for `weaviate-dev run`: {exc}")
    busy = busy_ports(ports)
    assert not busy, busy
    assert leftovers("weaviate-dev") == [], "the default compose project is in use"
    env = dict(os.environ, **variables)
    for key in ("PERSISTENCE_DATA_PATH", "WEAVIATE_DEV_BIND_ADDRESS", "CLUSTER_HOSTNAME",
                "WEAVIATE_DEV_RERANKER_ENGINE"):
        env.pop(key, None)
    return env


def leftovers(project: str) -> list[str]:
    """Containers and networks of a compose project."""
    return containers.project_leftovers(project)
