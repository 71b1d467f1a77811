"""Root conftest: points the toolkit's pytest plugin at a tiny test model, and keeps the
suites' Weaviate data out of the user's own.

`weaviate-dev restart` (and so `dev`) deletes the data of every `run` profile under
$XDG_DATA_HOME/weaviate-dev, as the original deleted the dev server's data: the session sets
XDG_DATA_HOME to a directory of its own, so that running the tests never deletes a
developer's collections (every command the suites start inherits it).

The plugin itself (`weaviate_dev.testing.pytest_plugin`) comes in through its pytest11 entry
point, as it does for any project that installs the package. Our suites never download a
model: the reranker image is built with a small random cross-encoder that `reranker.testing`
creates (same code path as a real model).
"""

import os

import pytest

TEST_RERANKER_TAG = "weaviate-dev/reranker-transformers:test-tiny"

# The tests that use what a machine has only once: the ports of the dev environment (8009, 8080,
# 50051, ...), the compose project `weaviate-dev`, `run`'s records and Weaviate processes.
HOST_LANE = ("integration_tests/", "tests/cli/", "tests/weaviate/", "tests/testing/")


@pytest.hookimpl(optionalhook=True)  # xdist's hook: only its controller knows it
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs two lanes at once (`pytest -n 2 --dist loadscope`, pytest-xdist): the
    tests under HOST_LANE one after another in one lane, and every other module as a whole
    (its module fixtures, such as a built image, made once) in whichever lane is free. The
    host lane waits for Weaviate and Docker most of its time; the other lane fills that time.
    (xdist's own `loadgroup` marks do not reach its scheduler under pytest 9.2.)"""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "host" if path.startswith(HOST_LANE) else path

    return Lanes(config, log)


@pytest.fixture(scope="session")
def weaviate_dev_reranker_model_dir(tmp_path_factory):
    from reranker.testing import make_tiny_cross_encoder

    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-cross-encoder"), seed=0)


@pytest.fixture(scope="session")
def weaviate_dev_reranker_image_tag():
    return TEST_RERANKER_TAG


@pytest.fixture(scope="session", autouse=True)
def own_data_home(tmp_path_factory):
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data-home"))
    yield
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


def pytest_sessionstart(session):
    """Our suites make containers outside the plugin's fixtures too (the image tests): what a
    killed run of ours left goes before anything starts (testing/sweep.py)."""
    from weaviate_dev.services.docker import engine
    from weaviate_dev.testing import sweep

    if engine.answers():
        sweep.sweep_once(engine.client(), session.config)
