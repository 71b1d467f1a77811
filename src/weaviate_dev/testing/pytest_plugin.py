"""pytest fixtures that start a real Weaviate which reranks through a reranker container.

Installing the package registers this plugin (a `pytest11` entry point named after this
module): no conftest line is needed. `pytest_plugins = ["weaviate_dev.testing.pytest_plugin"]`
in a conftest, or `pytest -p weaviate_dev.testing.pytest_plugin`, names the same plugin and
changes nothing; `pytest -p no:weaviate_dev.testing.pytest_plugin` turns it off.

Every fixture is session-scoped and named `weaviate_dev_*`, so none can shadow or be shadowed
by a project's own. `pytest --fixtures` describes each one; this is how they depend on each
other:

    weaviate_dev_settings, weaviate_dev_docker
    weaviate_dev_reranker_image     built with weaviate_dev_reranker_model_dir as
                                    weaviate_dev_reranker_image_tag (override those two)
    weaviate_dev_weaviate_image
    weaviate_dev_network -> weaviate_dev_reranker -> weaviate_dev_weaviate -> weaviate_dev_client
                                                  -> weaviate_dev_prometheus

The container fixtures need the `test` extra (testcontainers, weaviate-client). pytest loads
this module in every run of every project in an environment where the package is installed,
so it imports only the toolkit's core: each fixture imports what it uses (the docker SDK, the
extra's modules). Without the extra, every pytest run works as before, and a test that asks
for a container fixture fails with one line: pip install 'weaviate-dev[test]'.

When there is no Docker engine, or an image can be neither pulled nor built, these fixtures
skip with the reason, except under CI=true, where they fail: a CI run must never pass by
skipping its integration suite.

Every container and network made here carries the run's label (testing/sweep.py;
testcontainers' reaper would need an image to pull). Before the first one is made, the plugin
removes whatever a run that died (SIGKILL, the OOM killer, a CI timeout) left behind and
prints what it removed. A session that starts no container does none of this: loading the
plugin does not contact Docker.
"""

from __future__ import annotations

import importlib.util

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings

# What the container fixtures import that only the `test` extra installs.
TEST_EXTRA_MODULES = {"testcontainers": "testcontainers", "weaviate": "weaviate-client"}


def unavailable(settings: Settings, reason: str):
    """Skip the test (or fail it under CI=true) because a prerequisite of the integration
    suite is missing."""
    if settings.ci:
        pytest.fail(f"integration prerequisite missing under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def require_test_extra() -> None:
    """Fail in one line, naming the pip command, when the `test` extra is not installed."""
    missing = [dist for module, dist in TEST_EXTRA_MODULES.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        # The command first: pytest's short summary cuts the line at the terminal's width.
        pytest.fail("pip install 'weaviate-dev[test]': the weaviate_dev container fixtures "
                    f"need {' and '.join(missing)}, which that extra installs", pytrace=False)


@pytest.fixture(scope="session")
def weaviate_dev_settings() -> Settings:
    """The toolkit's settings, read from the environment (Settings.from_env()): image names,
    Weaviate version, model."""
    return Settings.from_env()


@pytest.fixture(scope="session")
def weaviate_dev_docker(weaviate_dev_settings):
    """The toolkit's docker SDK client (weaviate_dev.services.docker.engine). It is shared,
    so it is not closed here."""
    from weaviate_dev.services.docker import engine

    try:
        return engine.client()
    except DevError as exc:
        unavailable(weaviate_dev_settings, str(exc))


@pytest.fixture(scope="session")
def weaviate_dev_reranker_model_dir(weaviate_dev_settings):
    """A local model directory to bake into the reranker image (default:
    WEAVIATE_DEV_MODEL_DIR). With None, the image build downloads WEAVIATE_DEV_MODEL_NAME.
    Override it in a conftest."""
    return weaviate_dev_settings.model_dir


@pytest.fixture(scope="session")
def weaviate_dev_reranker_image_tag(weaviate_dev_settings) -> str:
    """The tag to build the reranker image as. Override it in a conftest."""
    return weaviate_dev_settings.reranker_image


@pytest.fixture(scope="session")
def weaviate_dev_reranker_image(weaviate_dev_settings, weaviate_dev_docker,
                                weaviate_dev_reranker_model_dir,
                                weaviate_dev_reranker_image_tag) -> str:
    """The reranker image, tagged weaviate_dev_reranker_image_tag, with the model of
    weaviate_dev_reranker_model_dir baked in. It is built when the labels of the image with
    that tag do not match the configured model, source, engine and platform; otherwise the
    existing image is used."""
    from weaviate_dev.services import reranker_image

    try:
        return reranker_image.ensure(weaviate_dev_settings,
                                     tag=weaviate_dev_reranker_image_tag,
                                     model_dir=weaviate_dev_reranker_model_dir)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot build the reranker image: {exc}")


@pytest.fixture(scope="session")
def weaviate_dev_weaviate_image(weaviate_dev_settings, weaviate_dev_docker) -> str:
    """The Weaviate image, or a local stand-in built from its Go module."""
    from weaviate_dev.weaviate import image

    try:
        return image.ensure_weaviate_image(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot get a Weaviate image: {exc}")


@pytest.fixture(scope="session")
def weaviate_dev_network(request):
    """One Docker network for the containers (a testcontainers Network)."""
    # Every container fixture asks for this one first, and it checks the extra before it asks
    # for Docker (which may skip) and before any image is built (minutes): a missing extra is
    # what the test reports, with or without Docker.
    require_test_extra()
    docker = request.getfixturevalue("weaviate_dev_docker")  # skips (fails under CI) without it
    from testcontainers.core.network import Network

    from weaviate_dev.testing import sweep

    sweep.sweep_once(docker, request.config)
    network = Network(docker_network_kw={"labels": sweep.labels()}).create()
    try:
        yield network
    finally:
        network.remove()


@pytest.fixture(scope="session")
def weaviate_dev_reranker(weaviate_dev_network, weaviate_dev_reranker_image):
    """A ready RerankerContainer of weaviate_dev_reranker_image, on the network as
    `reranker-transformers`."""
    from weaviate_dev.testing.containers import RerankerContainer

    # Containers are context managers: removed on exit, also when a test failed.
    with RerankerContainer(weaviate_dev_reranker_image).with_network(
            weaviate_dev_network) as container:
        yield container


@pytest.fixture(scope="session")
def weaviate_dev_weaviate(weaviate_dev_network, weaviate_dev_reranker,
                          weaviate_dev_weaviate_image):
    """A ready WeaviateContainer that reranks through weaviate_dev_reranker."""
    from weaviate_dev.testing.containers import WeaviateContainer

    with WeaviateContainer(weaviate_dev_weaviate_image).with_network(
            weaviate_dev_network) as container:
        yield container


@pytest.fixture(scope="session")
def weaviate_dev_client(weaviate_dev_weaviate):
    """A weaviate-client v4 client connected to weaviate_dev_weaviate (closed at the end of
    the session)."""
    client = weaviate_dev_weaviate.connect()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def weaviate_dev_prometheus(weaviate_dev_network, weaviate_dev_reranker, weaviate_dev_settings):
    """A PrometheusContainer that scrapes the reranker's /metrics every second (the
    Prometheus image, or a stand-in built from Debian's prometheus package)."""
    from weaviate_dev.services import images
    from weaviate_dev.testing.containers import RERANKER_SERVICE, PrometheusContainer

    try:
        prometheus = images.ensure_prometheus_image(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"cannot get a Prometheus image: {exc}")
    target = f"{RERANKER_SERVICE}:{weaviate_dev_reranker.port}"  # its network alias
    with PrometheusContainer(prometheus, [target]).with_network(
            weaviate_dev_network) as container:
        yield container
