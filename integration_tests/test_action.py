"""The composite action (`action.yml`), run here as GitHub's runner runs it: its steps with the
inputs a workflow gives, `$GITHUB_OUTPUT` and `$GITHUB_PATH` (integration_tests/action_runner.py).

The model input is a directory in the workspace: a tiny cross-encoder with its ONNX export
(what a repository with its own model would give). The action installs the toolkit into a venv
of its own under the runner's temp directory (`make toolkit`), builds the reranker image from
that directory, starts the reranker and a Weaviate image in the background and sets its
outputs. Then, as our own workflow does (.github/workflows/ci.yml, job `action`), its client
step reranks through those outputs with weaviate-client v4, checking every score against the
reranker's; a GraphQL rerank through `weaviate-url` answers the same. Finally the README's
example ends with `weaviate-dev down` under `if: always()`: no process, container or port is
left.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from integration_tests.action_runner import Runner
from integration_tests.conftest import (busy_ports, dev_environment, graphql, leftovers,
                                        reranker_scores)
from weaviate_dev.services.docker import engine, local_images

pytestmark = [pytest.mark.docker, pytest.mark.weaviate]

REPO = Path(__file__).resolve().parents[1]
PORTS = (8009, 8080, 50051, 7946, 8300, 2112, 6060)
QUERY = "a novel about a desert planet"


def workflow_steps(path: Path, job: str) -> list[dict]:
    return yaml.safe_load(path.read_text())["jobs"][job]["steps"]


def readme_example_steps() -> list[dict]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", (REPO / "README.md").read_text(), re.S | re.M)
    [example] = [block for block in blocks if "weaviate-dev down" in block and "uses:" in block]
    return yaml.safe_load(example)["jobs"]["test"]["steps"]


@pytest.fixture
def model_in_workspace(tmp_path) -> Path:
    """A workspace holding models/tiny: the tiny cross-encoder and its ONNX export."""
    from reranker.engines.onnx_export import export
    from reranker.testing import make_tiny_cross_encoder

    model = make_tiny_cross_encoder(tmp_path / "workspace" / "models" / "tiny", seed=3)
    export(model, int8=False)  # into models/tiny/onnx: the image needs no export of its own
    return tmp_path / "workspace"


@pytest.fixture
def runner(weaviate_dev_settings, model_in_workspace, tmp_path):
    """A runner for one job; what it started is taken down at the end whatever happened."""
    tag = f"weaviate-dev/reranker-transformers:test-action-{uuid.uuid4().hex[:8]}"
    env = dev_environment(weaviate_dev_settings, model_in_workspace, PORTS,
                          WEAVIATE_DEV_RERANKER_IMAGE=tag)  # a workflow's `env:` would set it
    for key in ("VIRTUAL_ENV", "WEAVIATE_DEV_WEAVIATE_IMAGE", "WEAVIATE_DEV_MODEL_DIR",
                "WEAVIATE_DEV_MODEL_NAME", "WEAVIATE_DEV_WEAVIATE_BIN"):
        env.pop(key, None)  # the action sets what it needs; nothing of the test venv leaks in
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if not p.startswith(sys.prefix))
    job = Runner(model_in_workspace, tmp_path / "runner-temp", env)
    yield job
    down = job.temp / "weaviate-dev" / "venv" / "bin" / "weaviate-dev"
    if leftovers("weaviate-dev") or busy_ports([8080], patience=0):
        subprocess.run([str(down) if down.exists() else "weaviate-dev", "down"], env=env,
                       capture_output=True, timeout=300)
    if local_images.image_present(tag):
        engine.client().images.remove(tag, force=True)


def test_the_actions_outputs_rerank_and_the_last_step_leaves_nothing(runner, tmp_path):
    outputs = runner.action(REPO, {"model": "models/tiny"}, step_id="weaviate")
    assert outputs == {"weaviate-url": "http://127.0.0.1:8080", "grpc-port": "50051",
                       "reranker-url": "http://127.0.0.1:8009"}, "\n".join(runner.logs)
    started = json.loads((runner.temp / "weaviate-dev" / "workspace" / "started.json")
                         .read_text())
    assert started["reranker"]["model"].startswith(
        f"directory {runner.workspace / 'models' / 'tiny'} (sha256 ")
    assert started["reranker"]["engine"] == "openvino"
    pids = [node["pid"] for node in started["nodes"]]
    assert len(pids) == 1 and all(psutil.pid_exists(pid) for pid in pids)

    # our workflow's client step, with its env from the action's outputs
    [client] = [step for step in workflow_steps(REPO / ".github/workflows/ci.yml", "action")
                if "rerank_with_client.py" in step.get("run", "")]
    runner.run(client, workspace=REPO)
    assert "every score is the reranker's" in runner.logs[-1], runner.logs[-1]

    # GraphQL through weaviate-url: the class the client step made is gone; make one here
    url, reranker = outputs["weaviate-url"], outputs["reranker-url"]
    passages = ["Dune is a novel about a desert planet.", "Berlin is in Germany.",
                "Cats sleep a lot.", "Arrakis is the desert planet of Dune."]
    schema = {"class": "ActionBook", "vectorizer": "none",
              "moduleConfig": {"reranker-transformers": {}},
              "properties": [{"name": "text", "dataType": ["text"]}]}
    assert requests.post(f"{url}/v1/schema", json=schema, timeout=30).status_code == 200
    objects = [{"class": "ActionBook", "properties": {"text": text},
                "vector": [float(i == j) for j in range(4)]} for i, text in enumerate(passages)]
    assert requests.post(f"{url}/v1/batch/objects", json={"objects": objects},
                         timeout=30).status_code == 200
    query = ('{ Get { ActionBook(limit: 10) { text _additional { rerank(property: "text", '
             f'query: "{QUERY}") {{ score }} }} }} }} }}')
    for _ in range(50):  # the class's rerank field appears shortly after the class
        body = graphql(url, query)
        if "errors" not in body:
            break
    rows = body["data"]["Get"]["ActionBook"]
    truth = reranker_scores(reranker, QUERY, [row["text"] for row in rows])
    scores = [row["_additional"]["rerank"][0]["score"] for row in rows]
    assert len(rows) == 4 and all(abs(a - b) <= 1e-4 for a, b in zip(scores, truth))
    assert scores == sorted(scores, reverse=True)

    # the README example's last step
    last = readme_example_steps()[-1]
    assert last == {"name": "Stop Weaviate and the reranker", "if": "always()",
                    "run": "weaviate-dev down"}
    runner.run(last)
    print("\n".join(line for log in runner.logs for line in log.splitlines()[:1]))
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids)
    assert leftovers("weaviate-dev") == []
    assert not [c for c in engine.client().containers.list(all=True)
                if c.name.startswith("weaviate-dev-run-")]
    assert busy_ports(PORTS, patience=15) == ""
