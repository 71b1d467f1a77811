"""The test runner of composite actions (integration_tests/action_runner.py) does what GitHub's
runner does with what our action uses, and refuses what it does not know."""

from __future__ import annotations

import os
import textwrap

import pytest

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
