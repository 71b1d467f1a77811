"""`weaviate-dev restart` end to end: the CLI as a subprocess against the real Docker engine.

The reranker image is the session's `weaviate_dev_reranker_image` (built from reranker/ with a
tiny test model by weaviate_dev.testing.pytest_plugin); WEAVIATE_DEV_TEST_RERANKER_IMAGE names an
existing image instead, for quick local runs. Everything runs under its own compose project and is
taken down after each test, so that other suites can use 127.0.0.1:8009 afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest
import requests

from integration_tests.conftest import port_is_free, weaviate_dev_cli

pytestmark = pytest.mark.docker

PROJECT = "weaviate-dev-itest"
RERANKER_URL = "http://127.0.0.1:8009"
CLI_TIMEOUT = 900  # the first restart may build nothing, but a slow machine loads a model


@pytest.fixture(scope="module")
def restart_image(cli_reranker_image) -> str:
    return cli_reranker_image


def weaviate_dev(*args: str, image: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, WEAVIATE_DEV_RERANKER_IMAGE=image)
    env.pop("WEAVIATE_DEV_BIND_ADDRESS", None)
    return weaviate_dev_cli(*args, env=env, cwd=cwd, timeout=CLI_TIMEOUT)


def docker_lines(*args: str) -> list[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                            check=True)
    return result.stdout.split()


def project_leftovers() -> dict[str, list[str]]:
    label = f"label=com.docker.compose.project={PROJECT}"
    return {"containers": docker_lines("ps", "-aq", "--filter", label),
            "networks": docker_lines("network", "ls", "-q", "--filter", label)}


def status(image: str) -> list[dict]:
    result = weaviate_dev("status", "--json", "-p", PROJECT, image=image)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def project(restart_image):
    """Our compose project: 8009 must be free before; everything is taken down after."""
    assert port_is_free(8009), "127.0.0.1:8009 is taken before the test (another suite?)"
    try:
        yield restart_image
    finally:
        weaviate_dev("down", "-p", PROJECT, image=restart_image)
        assert project_leftovers() == {"containers": [], "networks": []}


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    for name in ("data", "data-weaviate-5", "backups-weaviate-0", "src"):
        (ws / name).mkdir(parents=True)
        (ws / name / "f").write_text("x")
    (ws / "schema_state.json").write_text("{}")
    (ws / "data-weaviate-9").symlink_to(outside, target_is_directory=True)
    return ws


def restart(image: str, workspace, *flags: str) -> subprocess.CompletedProcess:
    return weaviate_dev("restart", "-p", PROJECT, "--workspace", str(workspace), *flags,
                        image=image)


def rerank_works() -> None:
    documents = ["Dune was written by Frank Herbert.", "Bread needs flour.", "A third one."]
    response = requests.post(f"{RERANKER_URL}/rerank", timeout=60,
                             json={"query": "who wrote dune", "documents": documents,
                                   "property": ""})
    assert response.status_code == 200, response.text
    scores = response.json()["scores"]
    assert [s["document"] for s in scores] == documents
    assert all(isinstance(s["score"], float) for s in scores)


def reranker_rows(rows: list[dict]) -> list[tuple]:
    return sorted((r["service"], r["state"], r["ready"], tuple(r["ports"])) for r in rows)


def test_restart_reranker_is_ready_and_a_second_restart_gives_the_same_state(project,
                                                                            workspace):
    first = restart(project, workspace, "--reranker")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "reranker-transformers ready" in first.stderr
    assert sorted(p.name for p in workspace.iterdir()) == ["src"]
    assert (workspace.parent / "outside" / "keep.txt").read_text() == "keep"
    rerank_works()
    state_after_first = reranker_rows(status(project))
    assert state_after_first == [("reranker-transformers", "running", "yes",
                                  ("127.0.0.1:8009->8080/tcp",))]

    second = restart(project, workspace, "--reranker")
    assert second.returncode == 0, second.stdout + second.stderr
    assert reranker_rows(status(project)) == state_after_first
    rerank_works()


def test_down_leaves_no_container_or_network(project, workspace):
    up = restart(project, workspace, "--reranker", "--keep-data")
    assert up.returncode == 0, up.stdout + up.stderr
    assert project_leftovers()["containers"]
    down = weaviate_dev("down", "-p", PROJECT, image=project)
    assert down.returncode == 0, down.stderr
    assert project_leftovers() == {"containers": [], "networks": []}
    assert (workspace / "data").is_dir()  # --keep-data, and down never deletes state


def test_taken_port_is_a_clear_error_and_starts_nothing(project, workspace):
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 8009))
        blocker.listen(1)
        result = restart(project, workspace, "--reranker")
    assert result.returncode == 1
    assert "127.0.0.1:8009 (for reranker-transformers) is taken" in result.stderr
    assert f"held by process {os.getpid()} " in result.stderr
    assert "nothing was stopped, deleted or started" in result.stderr
    assert project_leftovers()["containers"] == []
    assert (workspace / "data" / "f").exists()  # no state was deleted
