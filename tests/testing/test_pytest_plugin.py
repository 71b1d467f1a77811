"""The plugin never lets CI pass by skipping (a missing prerequisite fails under CI=true), and
costs an environment without its `test` extra nothing: loading it imports neither that extra
nor the docker SDK, and a fixture that needs the extra says in one line how to get it."""

import dataclasses
import subprocess
import sys

import pytest

from weaviate_dev.core.settings import Settings
from weaviate_dev.testing import pytest_plugin
from weaviate_dev.testing.pytest_plugin import unavailable


def test_missing_docker_skips_on_a_laptop():
    settings = dataclasses.replace(Settings.from_env({}), ci=False)
    with pytest.raises(pytest.skip.Exception, match="no Docker engine"):
        unavailable(settings, "no Docker engine answers")


def test_missing_docker_fails_under_ci():
    settings = dataclasses.replace(Settings.from_env({}), ci=True)
    with pytest.raises(pytest.fail.Exception, match="CI=true: no Docker engine"):
        unavailable(settings, "no Docker engine answers")


def test_loading_the_plugin_imports_no_docker_sdk_and_nothing_of_the_test_extra():
    """pytest loads the plugin in every run of every project in an environment holding the
    package: it costs them no docker SDK (a third of a second) and nothing of the `test`
    extra, which may be absent (tests/test_packaging.py runs that case)."""
    probe = ("import sys, weaviate_dev.testing.pytest_plugin; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'docker', 'testcontainers', 'weaviate', 'requests'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_a_missing_extra_fails_in_one_line_naming_the_pip_command(monkeypatch):
    monkeypatch.setattr(pytest_plugin.importlib.util, "find_spec",
                        lambda name: None if name == "testcontainers" else object())
    with pytest.raises(pytest.fail.Exception) as failed:
        pytest_plugin.require_test_extra()
    message = str(failed.value)
    assert message.startswith("pip install 'weaviate-dev[test]': ") and "\n" not in message
    assert "testcontainers" in message and "weaviate-client" not in message


def test_the_extra_installed_passes_the_check():
    pytest_plugin.require_test_extra()  # this venv has the extra: no failure
