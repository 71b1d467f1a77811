"""`weaviate-dev status`: rows from the project's containers; READY from the service's probe,
for services of our compose file and of override files given with -f/--file."""

import json
import socket

import pytest
import yaml

from weaviate_dev.cli import main as cli
from weaviate_dev.services.docker import containers, engine


@pytest.fixture
def listening():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture
def one_container(monkeypatch, listening):
    state = containers.ContainerState("extra", "weaviate-dev-extra-1", "running", "-",
                                         (f"127.0.0.1:{listening}->80/tcp",), (listening,))
    monkeypatch.setattr(containers, "project_containers", lambda project: [state])
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(containers, "compose_command", lambda: containers.STANDALONE)
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

    monkeypatch.setattr(engine, "answers", lambda: False)
    monkeypatch.setattr(containers, "compose_command", no_compose)
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no Docker engine answers" in out and "nothing running" in out


def test_status_names_what_our_reranker_serves(monkeypatch, capsys):
    from weaviate_dev.services import reranker_image
    from weaviate_dev.services.catalog import Service

    state = containers.ContainerState("reranker-transformers", "weaviate-dev-r-1", "running",
                                         "healthy", ("127.0.0.1:8009->8080/tcp",), (8009,),
                                         image="sha256:abc")
    monkeypatch.setattr(containers, "project_containers", lambda project: [state])
    monkeypatch.setattr(engine, "answers", lambda: True)
    monkeypatch.setattr(Service, "readiness_probe", lambda self, address: (lambda: None))
    asked = []
    monkeypatch.setattr(reranker_image, "describe_serving", lambda url, image: asked.append(
        (url, image)) or "org/x@c0ffee (engine openvino, bf16)")
    [row] = status(capsys)
    assert row["serves"] == "org/x@c0ffee (engine openvino, bf16)"
    assert asked == [("http://127.0.0.1:8009", "sha256:abc")]
    assert cli.main(["status", "--data-dir", "/nonexistent-weaviate-dev"]) == 0
    assert "reranker-transformers serves org/x@c0ffee (engine openvino, bf16)" in \
        capsys.readouterr().out


def test_the_engine_info_of_a_reranker_is_read_from_its_metrics():
    from weaviate_dev.services.reranker_image import serving

    text = ('# HELP reranker_engine_info what serves\n'
            'reranker_requests_total{endpoint="/rerank",status="200"} 3.0\n'
            'reranker_engine_info{engine="openvino",model="directory /m \\"x\\" (sha256 12ab)",'
            'model_type="bert",precision="bf16"} 1.0\n')
    assert serving.parse_info(text) == {
        "engine": "openvino", "model": 'directory /m "x" (sha256 12ab)', "model_type": "bert",
        "precision": "bf16"}
    assert serving.parse_info("reranker_requests_total 1\n") is None
