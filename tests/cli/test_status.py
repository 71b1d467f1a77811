"""`weaviate-dev status`: rows from the project's containers; READY from the service's probe,
for services of our compose file and of override files given with -f/--file."""

import json
import socket

import pytest
import yaml

from weaviate_dev.cli import main as cli
from weaviate_dev.services import docker_engine


@pytest.fixture
def listening():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture
def one_container(monkeypatch, listening):
    state = docker_engine.ContainerState("extra", "weaviate-dev-extra-1", "running", "-",
                                         (f"127.0.0.1:{listening}->80/tcp",), (listening,))
    monkeypatch.setattr(docker_engine, "project_containers", lambda project: [state])
    monkeypatch.setattr(docker_engine, "answers", lambda: True)
    monkeypatch.setattr(docker_engine, "compose_command", lambda: docker_engine.STANDALONE)
    monkeypatch.delenv("WEAVIATE_DEV_BIND_ADDRESS", raising=False)


def status(capsys, *argv):
    assert cli.main(["status", "--json", "--data-dir", "/nonexistent-weaviate-dev", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_status_probes_a_service_defined_in_an_override_file(one_container, listening,
                                                             tmp_path, capsys):
    override = tmp_path / "extra.yml"
    override.write_text(yaml.safe_dump({"services": {"extra": {
        "image": "me:1", "ports": [f"127.0.0.1:{listening}:80"],
        "x-weaviate-dev": {"flag": "extra", "timeout": 5, "probe": {"kind": "tcp"}}}}}))
    [row] = status(capsys)
    assert (row["service"], row["ready"]) == ("extra", "-")  # not a service we know
    [row] = status(capsys, "-f", str(override))
    assert (row["service"], row["ready"]) == ("extra", "yes")


def test_a_missing_override_file_is_named(one_container, tmp_path, capsys):
    assert cli.main(["status", "--file", str(tmp_path / "nowhere.yml")]) == 1
    assert "nowhere.yml" in capsys.readouterr().err


def test_without_an_engine_status_says_so_and_still_lists_runs(monkeypatch, tmp_path, capsys):
    from weaviate_dev.core.errors import DevError

    def no_compose(*args, **kwargs):  # a fresh machine: no engine, no compose either
        raise DevError("no Docker Compose found")

    monkeypatch.setattr(docker_engine, "answers", lambda: False)
    monkeypatch.setattr(docker_engine, "compose_command", no_compose)
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no Docker engine answers" in out and "nothing running" in out
