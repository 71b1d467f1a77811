"""Root conftest: points the toolkit's pytest plugin at a tiny test model.

The plugin itself (`weaviate_dev.testing.pytest_plugin`) comes in through its pytest11 entry
point, as it does for any project that installs the package. Our suites never download a
model: the reranker image is built with a small random cross-encoder that `reranker.testing`
creates (same code path as a real model).
"""

import pytest

TEST_RERANKER_TAG = "weaviate-dev/reranker-transformers:test-tiny"


@pytest.fixture(scope="session")
def weaviate_dev_reranker_model_dir(tmp_path_factory):
    from reranker.testing import make_tiny_cross_encoder

    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-cross-encoder"), seed=0)


@pytest.fixture(scope="session")
def weaviate_dev_reranker_image_tag():
    return TEST_RERANKER_TAG
