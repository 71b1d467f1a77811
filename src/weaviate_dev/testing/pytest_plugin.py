"""pytest fixtures: a real Weaviate reranking through a reranker container.

Enable in any project with `pytest_plugins = ["weaviate_dev.testing.pytest_plugin"]` (root conftest)
or `pytest -p weaviate_dev.testing.pytest_plugin`. Session-scoped fixtures, in start order:

    weaviate_dev_settings   Settings.from_env(): image names, Weaviate version (one place)
    docker_engine           a docker SDK client
    reranker_model_dir      a local model to bake in (default: WEAVIATE_DEV_MODEL_DIR; None
                            means the image downloads WEAVIATE_DEV_MODEL_NAME) — override it
    reranker_image_tag      the tag to build the reranker as — override it
    reranker_image          reranker/ built as that tag (cached layers make rebuilds quick)
    weaviate_image          the Weaviate image, or a local stand-in built from its Go module
    weaviate_network        one Docker network for both containers
    reranker_container      RerankerContainer, ready (alias `reranker-transformers`)
    weaviate_container      WeaviateContainer pointed at it, ready
    weaviate_client         a weaviate-client v4 client
    prometheus_container    a Prometheus scraping the reranker's /metrics every second (its
                            image, or a stand-in around Debian's prometheus package)

When Docker or Weaviate cannot be had these fixtures skip with the reason, except under
CI=true, where they fail: a CI run must never pass by skipping its integration suite.

Every container and network made here carries the run's label, and at the start of each
session whatever a run that died left is removed (testing/sweep.py; testcontainers' reaper
would need an image to pull).
"""

from __future__ import annotations

import pytest
from testcontainers.core.network import Network

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import docker_engine as docker_engine_module
from weaviate_dev.services import images
from weaviate_dev.testing import sweep
from weaviate_dev.testing.containers import (RERANKER_SERVICE, PrometheusContainer,
                                             RerankerContainer, WeaviateContainer)
from weaviate_dev.weaviate import image


_SWEPT = pytest.StashKey[list]()  # what the session's start removed, for the header


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter writes the header
def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove what test runs that died (SIGKILL, the OOM killer, a CI timeout) left: their
    labelled containers and networks, their temporary directories (testing/sweep.py)."""
    client = docker_engine_module.client() if docker_engine_module.answers() else None
    session.config.stash[_SWEPT] = sweep.sweep(client)


def pytest_report_header(config: pytest.Config) -> list[str]:
    swept = config.stash.get(_SWEPT, [])
    if not swept:
        return []
    return [f"weaviate-dev: removed {len(swept)} leftovers of test runs no longer alive:",
            *(f"  {line}" for line in swept)]


def unavailable(settings: Settings, reason: str):
    """Skip (laptop) or fail (CI) because a prerequisite of the integration suite is missing."""
    if settings.ci:
        pytest.fail(f"integration prerequisite missing under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def weaviate_dev_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def docker_engine(weaviate_dev_settings):
    """The docker SDK client of weaviate_dev.services.docker_engine (shared: not closed here)."""
    try:
        return docker_engine_module.client()
    except DevError as exc:
        unavailable(weaviate_dev_settings, str(exc))


@pytest.fixture(scope="session")
def reranker_model_dir(weaviate_dev_settings):
    return weaviate_dev_settings.model_dir


@pytest.fixture(scope="session")
def reranker_image_tag(weaviate_dev_settings) -> str:
    return weaviate_dev_settings.reranker_image


@pytest.fixture(scope="session")
def reranker_image(weaviate_dev_settings, docker_engine, reranker_model_dir,
                   reranker_image_tag) -> str:
    try:
        return images.build_reranker_image(weaviate_dev_settings, tag=reranker_image_tag,
                                           model_dir=reranker_model_dir)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot build the reranker image: {exc}")


@pytest.fixture(scope="session")
def weaviate_image(weaviate_dev_settings, docker_engine) -> str:
    try:
        return image.ensure_weaviate_image(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot get a Weaviate image: {exc}")


@pytest.fixture(scope="session")
def weaviate_network(docker_engine):
    network = Network(docker_network_kw={"labels": sweep.labels()}).create()
    try:
        yield network
    finally:
        network.remove()


@pytest.fixture(scope="session")
def reranker_container(reranker_image, weaviate_network):
    # Containers are context managers: removed on exit, also when a test failed.
    with RerankerContainer(reranker_image).with_network(weaviate_network) as container:
        yield container


@pytest.fixture(scope="session")
def weaviate_container(weaviate_image, reranker_container, weaviate_network):
    with WeaviateContainer(weaviate_image).with_network(weaviate_network) as container:
        yield container


@pytest.fixture(scope="session")
def weaviate_client(weaviate_container):
    client = weaviate_container.connect()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def prometheus_container(weaviate_dev_settings, reranker_container, weaviate_network):
    try:
        prometheus = images.ensure_prometheus_image(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot get a Prometheus image: {exc}")
    target = f"{RERANKER_SERVICE}:{reranker_container.port}"  # its network alias
    with PrometheusContainer(prometheus, [target]).with_network(weaviate_network) as container:
        yield container
