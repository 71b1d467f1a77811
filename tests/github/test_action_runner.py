"""The test runner of composite actions (integration_tests/action_runner.py) does what GitHub's
runner does with what our action uses, and refuses what it does not know."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from integration_tests.action_runner import Runner, StepFailed, parse_outputs

ACTION = textwrap.dedent("""\
    name: t
    description: a test action
    inputs:
      greeting: {description: g, default: hello}
      who: {description: w, required: true}
    outputs:
      said: {description: s, value: "${{ steps.say.outputs.said }}"}
      tool: {description: t, value: "${{ steps.use.outputs.tool }}"}
    runs:
      using: composite
      steps:
        - name: install
          shell: bash
          env:
            BIN: ${{ runner.temp }}/bin
          run: |
            mkdir -p "$BIN"
            printf '#!/bin/sh\\necho tool-ran\\n' > "$BIN/the-tool"
            chmod +x "$BIN/the-tool"
            echo "$BIN" >> "$GITHUB_PATH"
        - name: say
          id: say
          shell: bash
          env:
            GREETING: ${{ inputs.greeting }}
            WHO: ${{ inputs.who }}
          run: |
            where="$(basename "$PWD"), from $(basename "$GITHUB_ACTION_PATH")"
            echo "said=$GREETING, $WHO (in $where)" >> "$GITHUB_OUTPUT"
        - name: use
          id: use
          shell: bash
          run: echo "tool=$(the-tool)" >> "$GITHUB_OUTPUT"
""")


@pytest.fixture
def job(tmp_path):
    (tmp_path / "action").mkdir()
    (tmp_path / "action" / "action.yml").write_text(ACTION)
    (tmp_path / "workspace").mkdir()
    return Runner(tmp_path / "workspace", tmp_path / "temp", os.environ)


def test_inputs_outputs_and_path_reach_the_steps_after(job, tmp_path):
    outputs = job.action(tmp_path / "action", {"who": "world"}, step_id="t")
    assert outputs == {"said": "hello, world (in workspace, from action)", "tool": "tool-ran"}
    assert job.steps["t"] == outputs
    later = job.run({"name": "later", "env": {"SAID": "${{ steps.t.outputs.said }}"},
                     "run": 'echo "$SAID"; the-tool'})
    assert later == {} and job.logs[-1].endswith("hello, world (in workspace, from action)\n"
                                                 "tool-ran\n")


def test_unknown_inputs_and_expressions_fail(job, tmp_path):
    with pytest.raises(AssertionError, match="inputs the action does not have: {'whom'}"):
        job.action(tmp_path / "action", {"who": "x", "whom": "y"})
    with pytest.raises(AssertionError, match=r"does not know: \$\{\{ github.sha \}\}"):
        job.run({"run": "echo ${{ github.sha }}"})


def test_a_step_runs_with_errexit_and_pipefail(job):
    with pytest.raises(StepFailed, match="exited with 1:\nbefore"):
        job.run({"name": "pipe", "run": "echo before; false | cat; echo not reached"})


def test_outputs_take_both_forms():
    text = "a=1\nb<<EOF\nline one\nline=two\nEOF\nc=x=y\n"
    assert parse_outputs(text) == {"a": "1", "b": "line one\nline=two", "c": "x=y"}


FAKE_TOOLKIT = textwrap.dedent("""\
    #!/bin/sh
    # weaviate-dev as the action calls it: the arguments and settings it got, then a report
    {{ echo "$*"; env | grep '^WEAVIATE_DEV_' | sort; }} > "$FAKE_CALLS"
    echo '{{"weaviate_url": "http://127.0.0.1:8080", "grpc_port": 50051,
           "reranker_url": "http://127.0.0.1:8009", "nodes": []}}'
    echo "a progress line" >&2
""")


@pytest.mark.parametrize("with_, argv, settings", [
    ({}, "dev --detach --json --image --workspace {state}",
     ["WEAVIATE_DEV_MODEL_NAME=cross-encoder/ms-marco-MiniLM-L-6-v2",
      "WEAVIATE_DEV_RERANKER_ENGINE=openvino",
      "WEAVIATE_DEV_WEAVIATE_IMAGE=cr.weaviate.io/semitechnologies/weaviate:1.39.0"]),
    ({"model": "models/mine", "nodes": 3, "engine": "onnx", "weaviate-version": "1.38.2"},
     "dev --detach --json --image --workspace {state} --nodes 3",
     ["WEAVIATE_DEV_MODEL_DIR={workspace}/models/mine", "WEAVIATE_DEV_RERANKER_ENGINE=onnx",
      "WEAVIATE_DEV_WEAVIATE_IMAGE=cr.weaviate.io/semitechnologies/weaviate:1.38.2"]),
], ids=["defaults", "a-directory-and-a-cluster"])
def test_the_actions_start_step_turns_inputs_into_the_command(tmp_path, executable, with_, argv,
                                                              settings):
    """Our action's start step, with a fake toolkit in the venv the install step makes."""
    repo = Path(__file__).resolve().parents[2]
    action = yaml.safe_load((repo / "action.yml").read_text())
    [start] = [step for step in action["runs"]["steps"] if step.get("id") == "start"]
    workspace = tmp_path / "workspace"
    (workspace / "models" / "mine").mkdir(parents=True)
    job = Runner(workspace, tmp_path / "temp", {**{k: v for k, v in os.environ.items()
                                                   if not k.startswith("WEAVIATE_DEV_")},
                                                "FAKE_CALLS": str(tmp_path / "calls")})
    venv = tmp_path / "temp" / "weaviate-dev" / "venv" / "bin"
    executable(venv / "weaviate-dev", FAKE_TOOLKIT.format())
    (venv / "python").symlink_to(sys.executable)
    inputs = {name: str(spec["default"]) for name, spec in action["inputs"].items()}
    inputs.update({name: str(value) for name, value in with_.items()})
    outputs = job.run(start, inputs=inputs, action_path=repo)
    assert outputs == {"weaviate-url": "http://127.0.0.1:8080", "grpc-port": "50051",
                       "reranker-url": "http://127.0.0.1:8009"}
    state = tmp_path / "temp" / "weaviate-dev" / "workspace"
    called, *seen = (tmp_path / "calls").read_text().splitlines()
    assert called == argv.format(state=state)
    assert seen == [line.format(workspace=workspace) for line in settings]
    assert "a progress line" in job.logs[-1]
