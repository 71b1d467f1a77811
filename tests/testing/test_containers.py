"""Container definitions without Docker: what Weaviate and the reranker are started with."""

import pytest

from weaviate_dev.testing.containers import RerankerContainer, WeaviateContainer


class FakeDockerClient:
    """Stands in for testcontainers' client, which would connect to an engine at once."""

    def __init__(self, **kwargs):
        self.client = self

    def close(self):
        pass


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    import testcontainers.core.container as tc

    monkeypatch.setattr(tc, "DockerClient", FakeDockerClient)


def test_reranker_is_published_on_loopback_under_weaviates_alias():
    container = RerankerContainer("img")
    assert container.ports == {"8080/tcp": ("127.0.0.1",)}
    assert container._network_aliases == ["reranker-transformers"]
    assert container.ready_path == "/.well-known/ready"


def test_weaviate_reranks_through_the_alias_without_a_vectorizer():
    container = WeaviateContainer("img")
    assert container.env["ENABLE_MODULES"] == "reranker-transformers"
    assert container.env["RERANKER_INFERENCE_API"] == "http://reranker-transformers:8080"
    assert container.env["DEFAULT_VECTORIZER_MODULE"] == "none"
    assert container.env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "true"
    assert set(container.ports) == {"8080/tcp", "50051/tcp"}
    assert all(binding == ("127.0.0.1",) for binding in container.ports.values())
    assert container.ready_path == "/v1/.well-known/ready"


def test_the_containers_follow_the_reranker_services_definition(monkeypatch, tmp_path):
    """One place to change a port: compose/docker-compose.yml (here an override moves it)."""
    from weaviate_dev.services import catalog as services
    from weaviate_dev.testing import containers

    moved = tmp_path / "moved.yml"
    moved.write_text("services:\n  reranker-transformers:\n    ports: ['8009:9000']\n"
                     "    x-weaviate-dev: {flag: reranker, timeout: 5, weaviate-env: "
                     "{RERANKER_INFERENCE_API: 'http://{host}:{port}'}}\n")
    monkeypatch.setattr(containers, "load_catalog",
                        lambda: services.load_catalog([moved]))
    assert RerankerContainer("img").ports == {"9000/tcp": ("127.0.0.1",)}
    assert WeaviateContainer("img").env["RERANKER_INFERENCE_API"] == \
        "http://reranker-transformers:9000"


def test_stop_after_the_container_is_gone_is_harmless():
    import docker.errors

    class Removed:
        def remove(self, **kwargs):
            raise docker.errors.NotFound("no such container")

    container = RerankerContainer("img")
    container._container = Removed()  # a failed start removed it already
    container.stop()
    container.stop()
    assert container._container is None
