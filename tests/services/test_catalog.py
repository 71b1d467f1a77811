"""The services as compose/docker-compose.yml defines them (ports, x-weaviate-dev blocks)."""

from pathlib import Path

import pytest
import yaml

from weaviate_dev.cli.main import build_parser
from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.services.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
BIND = "${WEAVIATE_DEV_BIND_ADDRESS:-127.0.0.1}"

# Every flag of the original restart_dev_environment.sh and the services it started.
ORIGINAL_FLAGS = {
    "contextionary": ["contextionary"],
    "keycloak": ["keycloak"],
    "transformers": ["t2v-transformers"],
    "transformers-passage-query": ["t2v-transformers-passage", "t2v-transformers-query"],
    "qna": ["qna-transformers"],
    "sum": ["sum-transformers"],
    "image": ["i2v-neural"],
    "ner": ["ner-transformers"],
    "spellcheck": ["text-spellcheck"],
    "clip": ["multi2vec-clip"],
    "bind": ["multi2vec-bind"],
    "reranker": ["reranker-transformers"],
    "gpt4all": ["t2v-gpt4all"],
    "prometheus": ["prometheus", "grafana"],
    "s3": ["backup-s3"],
    "gcs": ["backup-gcs"],
    "azure": ["backup-azure"],
    "ollama": ["ollama"],
    "model2vec": ["text2vec-model2vec"],
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def compose_doc():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def parse_flags(*argv):
    args = build_parser().parse_args(["restart", *argv])
    return sorted(set(args.flags or []))


@pytest.mark.parametrize("flag,services", sorted(ORIGINAL_FLAGS.items()))
def test_every_original_flag_starts_its_services(catalog, flag, services):
    assert [s.name for s in catalog.select(parse_flags(f"--{flag}"))] == services


def test_no_flag_starts_nothing_not_even_contextionary(catalog):
    assert catalog.select(parse_flags()) == []


def test_transformers_no_longer_implies_anything_else(catalog):
    names = [s.name for s in catalog.select(parse_flags("--transformers", "--qna"))]
    assert names == ["t2v-transformers", "qna-transformers"]


def test_ollama_works_in_any_position(catalog):
    first = catalog.select(parse_flags("--ollama", "--s3", "--reranker"))
    last = catalog.select(parse_flags("--s3", "--reranker", "--ollama"))
    middle = catalog.select(parse_flags("--s3", "--ollama", "--reranker", "--ollama"))
    assert first == last == middle
    assert [s.name for s in first] == ["reranker-transformers", "backup-s3", "ollama"]


@pytest.mark.parametrize("bad", ["--s3x", "--rer", "--transformer", "--ollamax", "reranker"])
def test_unknown_or_abbreviated_flags_are_rejected(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["restart", bad])
    assert exc.value.code == 2
    assert bad in capsys.readouterr().err


def test_voyagemulti_is_a_clear_error(catalog):
    with pytest.raises(UsageError, match="multi2vec-voyageai"):
        catalog.select(parse_flags("--voyagemulti", "--reranker"))


def test_reranker_on_8009(catalog):
    reranker = catalog.service("reranker-transformers")
    assert [(p.host, p.container) for p in reranker.ports] == [(8009, 8080)]
    assert reranker.probe.path == "/.well-known/ready"
    assert reranker.url("0.0.0.0") == "http://127.0.0.1:8009"


def test_every_compose_service_is_defined_once_there(catalog, compose_doc):
    compose_services = compose_doc["services"]
    assert sorted(compose_services) == sorted(s.name for s in catalog.services)
    for service in catalog.services:
        expected = [f"{BIND}:{p.host}:{p.container}" for p in service.ports]
        assert compose_services[service.name]["ports"] == expected, service.name


def test_the_reranker_tells_weaviate_where_it_is(catalog):
    reranker = catalog.service("reranker-transformers")
    assert reranker.weaviate_env() == {"RERANKER_INFERENCE_API": "http://localhost:8009"}
    assert reranker.weaviate_env(in_network=True) == {
        "RERANKER_INFERENCE_API": "http://reranker-transformers:8080"}


def test_no_two_services_share_a_host_port(catalog):
    ports = [p for s in catalog.services for p in s.host_ports]
    assert len(ports) == len(set(ports))
    assert {9090, 9091, 9092} <= set(ports)  # the three that used to clash on 9090


def override(tmp_path, services) -> Path:
    path = tmp_path / "override.yml"
    path.write_text(yaml.safe_dump({"services": services}))
    return path


def test_an_override_file_moves_a_port_and_adds_a_service(tmp_path):
    catalog = load_catalog([override(tmp_path, {
        "reranker-transformers": {"ports": ["127.0.0.1:18009:8080"], "x-weaviate-dev": {
            "flag": "reranker", "timeout": 5, "weaviate-env": {"X": "http://{host}:{port}"}}},
        "mine": {"image": "me:1", "ports": ["9999:80"]},  # no x-weaviate-dev: not ours
        "extra": {"image": "me:2", "ports": ["7777:80"],
                  "x-weaviate-dev": {"flag": "extra", "timeout": 5}},
    })])
    assert catalog.service("reranker-transformers").weaviate_env() == {
        "X": "http://localhost:18009"}
    assert catalog.service("extra").probe.kind == "tcp"
    with pytest.raises(UsageError, match="unknown service 'mine'"):
        catalog.service("mine")


def test_a_host_port_published_twice_is_refused(tmp_path):
    bad = override(tmp_path, {"other": {"image": "x:1", "ports": ["8009:80"],
                                        "x-weaviate-dev": {"flag": "other", "timeout": 1}}})
    with pytest.raises(DevError, match="8009 is published by both reranker-transformers "
                                       "and other"):
        load_catalog([bad])


@pytest.mark.parametrize("entry, problem", [
    ({"ports": ["8009"], "x-weaviate-dev": {"flag": "a", "timeout": 1}}, "not HOST:CONTAINER"),
    ({"ports": ["1:2"], "x-weaviate-dev": {"flag": "a"}}, "timeout"),
    ({"x-weaviate-dev": {"flag": "a", "timeout": 1}}, "publishes no port"),
    ({"ports": ["1:2"], "x-weaviate-dev": {"flag": "a", "timeout": 1,
                                           "probe": {"kind": "udp"}}}, "unknown probe"),
])
def test_a_malformed_definition_names_the_service(tmp_path, entry, problem):
    with pytest.raises(DevError, match=f"service 'bad' .*{problem}"):
        load_catalog([override(tmp_path, {"bad": entry})])


def test_compose_file_images_are_pinned(compose_doc):
    assert "version" not in compose_doc
    for name, service in compose_doc["services"].items():
        image = service["image"]
        if name == "reranker-transformers":
            assert image == "${WEAVIATE_DEV_RERANKER_IMAGE:-weaviate-dev/reranker-transformers:latest}"
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, (name, image)


def test_reranker_is_built_from_our_reranker_dir(compose_doc):
    build = compose_doc["services"]["reranker-transformers"]["build"]
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT / "reranker"
    assert {"BASE_IMAGE", "MODEL_NAME", "LOCAL_MODEL_DIR", "CA_BUNDLE", "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL"} <= set(build["args"])
    dockerfile = (ROOT / "reranker" / "Dockerfile").read_text()
    for arg in build["args"]:  # every argument we pass is one the Dockerfile declares
        assert f"ARG {arg}" in dockerfile, arg


def test_containers_calling_the_host_can_resolve_it(compose_doc):
    for name, service in compose_doc["services"].items():
        text = yaml.safe_dump(service)
        mounted = [v.split(":")[0] for v in service.get("volumes", []) if v.startswith("./")]
        calls_host = "host.docker.internal" in text or any(
            "host.docker.internal" in (COMPOSE_FILE.parent / m).read_text()
            for m in mounted if (COMPOSE_FILE.parent / m).is_file())
        if calls_host:
            assert "host.docker.internal:host-gateway" in service.get("extra_hosts", []), name


def test_mounted_config_files_exist(compose_doc):
    for name, service in compose_doc["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (COMPOSE_FILE.parent / source).exists(), (name, source)


def test_state_paths_cover_what_the_original_forgot(catalog):
    patterns = catalog.state_paths
    assert {"data", "connector_state.json", "schema_state.json"} <= set(patterns)
    assert "data-weaviate-[0-9]*" in patterns and "backups-*" in patterns


def test_compose_builds_the_engine_tables_default(compose_doc):
    from weaviate_dev.core.settings import RerankerEngines

    engine = compose_doc["services"]["reranker-transformers"]["build"]["args"]["ENGINE"]
    assert engine == "${WEAVIATE_DEV_RERANKER_ENGINE:-%s}" % RerankerEngines.read(ROOT).default
