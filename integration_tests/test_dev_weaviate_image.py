"""`weaviate-dev dev` on a machine with Docker but no Weaviate checkout, no binary and no Go:
Weaviate's image at the pinned version, pulled because it is missing, and a rerank through it.

The pull is real: a local registry (`local_registry.py`) holds our local Weaviate image under
the name the toolkit pulls (WEAVIATE_DEV_WEAVIATE_IMAGE points at it, as a mirror would); Go
is hidden from PATH, HOME and the toolkit's cache are empty, so no binary can be found.
"""

from __future__ import annotations

import os

import pytest
import requests

from integration_tests.conftest import Cli, busy_ports, leftovers, reranker_scores
from integration_tests.local_registry import LocalRegistry
from weaviate_dev.services.docker import engine, local_images

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

PORTS = (8009, 8080, 50051, 7946, 8300)
WEAVIATE = "http://127.0.0.1:8080"


def without_go(path: str) -> str:
    return os.pathsep.join(d for d in path.split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "go")))


def test_dev_without_go_pulls_weaviates_image_and_reranks(weaviate_dev_settings,
                                                          weaviate_dev_weaviate_image,
                                                          cli_reranker_image, tmp_path):
    busy = busy_ports(PORTS)
    assert not busy, busy
    assert leftovers("weaviate-dev") == []
    client = engine.client()
    with LocalRegistry(weaviate_dev_settings.cache_dir) as registry:
        pulled = registry.push(client, weaviate_dev_weaviate_image,
                               f"semitechnologies/weaviate:{weaviate_dev_settings.weaviate_version}")
        client.images.remove(pulled)  # what the toolkit must pull
        env = dict(os.environ, PATH=without_go(os.environ["PATH"]),
                   HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"),
                   WEAVIATE_DEV_WEAVIATE_IMAGE=pulled,
                   WEAVIATE_DEV_RERANKER_IMAGE=cli_reranker_image)
        for key in ("WEAVIATE_DEV_WEAVIATE_BIN", "PERSISTENCE_DATA_PATH",
                    "WEAVIATE_DEV_BIND_ADDRESS"):
            env.pop(key, None)
        (tmp_path / "home").mkdir()
        cli = Cli("dev", "--workspace", str(tmp_path), env=env, cwd=tmp_path)
        try:
            cli.wait_for("Weaviate is ready")
            output = cli.output()
            assert f"pulling {pulled}" in output, output[-3000:]
            assert "no Weaviate checkout, binary or Go toolchain here" in output
            assert local_images.image_present(pulled)
            schema = {"class": "Pulled", "vectorizer": "none",
                      "moduleConfig": {"reranker-transformers": {}},
                      "properties": [{"name": "text", "dataType": ["text"]}]}
            assert requests.post(f"{WEAVIATE}/v1/schema", json=schema,
                                 timeout=30).status_code == 200
            for text in ("Frank Herbert wrote Dune", "Bread needs flour"):
                requests.post(f"{WEAVIATE}/v1/objects", timeout=30, json={
                    "class": "Pulled", "properties": {"text": text},
                    "vector": [1.0, 0.0]}).raise_for_status()
            query = ('{ Get { Pulled { text _additional { rerank(property: "text", '
                     'query: "who wrote dune") { score } } } } }')
            for _ in range(50):  # the class's GraphQL fields appear shortly after it
                answer = requests.post(f"{WEAVIATE}/v1/graphql", json={"query": query},
                                       timeout=60).json()
                if not answer.get("errors"):
                    break
            rows = answer["data"]["Get"]["Pulled"]
            got = {r["text"]: r["_additional"]["rerank"][0]["score"] for r in rows}
            texts = sorted(got)
            want = reranker_scores("http://127.0.0.1:8009", "who wrote dune", texts)
            assert [got[t] for t in texts] == pytest.approx(want, abs=1e-4), answer
        finally:
            code = cli.ctrl_c() if cli.proc.poll() is None else cli.proc.returncode
            if local_images.image_present(pulled):
                client.images.remove(pulled, force=True)
    assert code in (0, 130), cli.output()[-3000:]
    assert leftovers("weaviate-dev") == []
