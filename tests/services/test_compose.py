"""Compose command lines for both flavours, and the variables our compose file reads."""

import subprocess
from pathlib import Path

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import compose
from weaviate_dev.services.docker import containers

FILE = Path("/repo/compose/docker-compose.yml")


def result(code):
    return subprocess.CompletedProcess([], code, stdout="")


@pytest.mark.parametrize("command,prefix", [
    (containers.PLUGIN, ["docker", "compose"]),
    (containers.STANDALONE, ["docker-compose"]),
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
    c = compose.Compose(command=containers.STANDALONE, files=(FILE, override), project="mine")
    assert c.down_argv() == ["docker-compose", "-p", "mine", "-f", str(FILE), "-f",
                             str(override), "down", "--remove-orphans"]


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
    assert env["WEAVIATE_DEV_RERANKER_REDUCED_PRECISION"] == "check"


def test_the_reranker_service_computes_in_the_precision_of_the_setting():
    import yaml

    from weaviate_dev.core import tree

    definition = yaml.safe_load(tree.compose_file(Settings.from_env({}).project_root)
                                .read_text())
    service = definition["services"]["reranker-transformers"]
    assert service["environment"]["REDUCED_PRECISION"] == \
        "${WEAVIATE_DEV_RERANKER_REDUCED_PRECISION:-check}"


def test_missing_compose_file_is_named(tmp_path):
    with pytest.raises(DevError, match="nowhere.yml"):
        compose.check_files([tmp_path / "nowhere.yml"])
