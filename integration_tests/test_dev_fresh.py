"""Restart means fresh: every `weaviate-dev dev` (what `make dev` runs) starts an empty
Weaviate, as the original restart deleted the dev server's data; `dev --keep-data` keeps it.

Walked as a user walks it: `dev`, a collection created, Ctrl-C, `dev` again (empty), a
collection, Ctrl-C, `dev --keep-data` (still there). The data lives where `run` keeps it by
default ($XDG_DATA_HOME/weaviate-dev, the session's own: root conftest).
"""

from __future__ import annotations

import pytest
import requests

from integration_tests.conftest import Cli, dev_environment, leftovers

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

PORTS = (8009, 8080, 50051, 7946, 8300)
WEAVIATE = "http://127.0.0.1:8080"


def classes() -> list[str]:
    response = requests.get(f"{WEAVIATE}/v1/schema", timeout=30)
    response.raise_for_status()
    return sorted(c["class"] for c in response.json().get("classes") or [])


def create(name: str) -> None:
    response = requests.post(f"{WEAVIATE}/v1/schema", timeout=30,
                             json={"class": name, "vectorizer": "none"})
    assert response.status_code == 200, response.text


def test_each_dev_starts_empty_unless_keep_data(weaviate_dev_settings, cli_reranker_image,
                                                tmp_path):
    env = dev_environment(weaviate_dev_settings, tmp_path, PORTS,
                          WEAVIATE_DEV_RERANKER_IMAGE=cli_reranker_image)
    (tmp_path / "ws").mkdir()
    seen, outputs = [], []
    for extra, make in (((), "Yesterday"), ((), "Today"), (("--keep-data",), None)):
        cli = Cli("dev", "--workspace", str(tmp_path / "ws"), *extra, env=env, cwd=tmp_path)
        try:
            cli.wait_for("Weaviate is ready")
            seen.append(classes())
            if make:
                create(make)
        finally:
            code = cli.ctrl_c() if cli.proc.poll() is None else cli.proc.returncode
        assert code in (0, 130), cli.output()[-3000:]
        outputs.append(cli.output())
    assert seen == [[], [], ["Today"]], seen
    assert "deleted the data and backups of the Weaviate profiles" in outputs[1]
    assert "state: kept (--keep-data)" in outputs[2] and "deleted the data" not in outputs[2]
    assert leftovers("weaviate-dev") == []
