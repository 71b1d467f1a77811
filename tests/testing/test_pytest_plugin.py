"""The plugin never lets CI pass by skipping: a missing prerequisite fails under CI=true."""

import dataclasses

import pytest

from weaviate_dev.core.settings import Settings
from weaviate_dev.testing.pytest_plugin import unavailable


def test_missing_docker_skips_on_a_laptop():
    settings = dataclasses.replace(Settings.from_env({}), ci=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker engine"):
        unavailable(settings, "no Docker engine answers")


def test_missing_docker_fails_under_ci():
    settings = dataclasses.replace(Settings.from_env({}), ci=True)
    with pytest.raises(pytest.fail.Exception, match="CI=true: no Docker engine"):
        unavailable(settings, "no Docker engine answers")
