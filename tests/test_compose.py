"""Compose command lines for both flavours, and finding the compose command."""

import subprocess
from pathlib import Path

import pytest

from weaviate_dev import compose
from weaviate_dev.errors import DevError
from weaviate_dev.settings import Settings

FILE = Path("/repo/compose/docker-compose.yml")


def result(code):
    return subprocess.CompletedProcess([], code, stdout="")


@pytest.mark.parametrize("command,prefix", [
    (compose.PLUGIN, ["docker", "compose"]),
    (compose.STANDALONE, ["docker-compose"]),
])
def test_argv_for_both_flavours(command, prefix):
    c = compose.Compose(command=command, files=(FILE,), project="weaviate-dev")
    head = prefix + ["-p", "weaviate-dev", "-f", str(FILE)]
    assert c.down_argv() == head + ["down", "--remove-orphans"]
    assert c.up_argv(["reranker-transformers", "keycloak"]) == head + [
        "up", "-d", "--no-build", "reranker-transformers", "keycloak"]
    assert c.logs_argv(["keycloak"], tail=50) == head + [
        "logs", "--no-color", "--tail", "50", "keycloak"]
    assert c.logs_argv(["keycloak"], follow=True) == head + ["logs", "--no-color", "-f",
                                                             "keycloak"]


def test_override_files_follow_ours_and_project_is_overridable():
    override = Path("/elsewhere/override.yml")
    c = compose.Compose(command=compose.STANDALONE, files=(FILE, override), project="mine")
    assert c.down_argv() == ["docker-compose", "-p", "mine", "-f", str(FILE), "-f",
                             str(override), "down", "--remove-orphans"]


def test_plugin_preferred_when_it_answers():
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        return result(0)

    found = compose.find_compose_command(run=run, which=lambda name: f"/usr/bin/{name}")
    assert found == compose.PLUGIN
    assert calls == [["docker", "compose", "version"]]


def test_standalone_when_plugin_is_missing():
    found = compose.find_compose_command(run=lambda argv, **kw: result(1),
                                         which=lambda name: f"/usr/bin/{name}")
    assert found == compose.STANDALONE


def test_no_compose_at_all_is_a_clear_error():
    with pytest.raises(DevError, match="no Docker Compose found"):
        compose.find_compose_command(run=lambda argv, **kw: result(1), which=lambda name: None)


def test_compose_environment_carries_settings(tmp_path):
    settings = Settings(project_root=tmp_path, bind_address="0.0.0.0",
                        reranker_image="me/reranker:1", pip_index_url="https://pypi.example",
                        reranker_engine="onnx")
    env = compose.compose_environment(settings, tmp_path / "ws")
    assert env["WEAVIATE_DEV_BIND_ADDRESS"] == "0.0.0.0"
    assert env["WEAVIATE_DEV_RERANKER_IMAGE"] == "me/reranker:1"
    assert env["WEAVIATE_DEV_WORKSPACE"] == str(tmp_path / "ws")
    assert env["WEAVIATE_DEV_PIP_INDEX_URL"] == "https://pypi.example"
    assert "WEAVIATE_DEV_PIP_EXTRA_INDEX_URL" not in env
    assert env["WEAVIATE_DEV_RERANKER_ENGINE"] == "onnx"


def test_missing_compose_file_is_named(tmp_path):
    with pytest.raises(DevError, match="nowhere.yml"):
        compose.check_files([tmp_path / "nowhere.yml"])


def test_engine_not_answering_is_a_clear_error():
    def run(argv, **kw):
        return subprocess.CompletedProcess(argv, 1, stdout="Cannot connect to the Docker daemon")

    with pytest.raises(DevError, match="Docker engine does not answer"):
        compose.check_engine(run=run)
