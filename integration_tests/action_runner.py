"""GitHub's runner, as far as our composite action and a workflow's `run:` steps need it, for
the tests that run them here.

A step's expressions are substituted (`${{ inputs.NAME }}`, `${{ steps.ID.outputs.NAME }}`,
`${{ runner.temp }}`, `${{ github.action_path }}`, `${{ github.workspace }}`,
`${{ matrix.NAME }}`); an expression it does not know fails the test: nothing is guessed. Each
`run:` is written to a file and run as `shell: bash` runs it (`bash --noprofile --norc -eo
pipefail FILE`) in the workspace, with the runner's files: `$GITHUB_OUTPUT` (the step's outputs:
`name=value` lines, or `name<<DELIMITER` ... `DELIMITER`), `$GITHUB_PATH` (directories put in
front of PATH for the steps after it) and `$GITHUB_ENV` (variables for the steps after it). A
composite action gets its inputs (the `with:` given over its defaults; an unknown one fails) and
hands back its `outputs:`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


class StepFailed(AssertionError):
    """A step exited non-zero; the message holds its output."""


class Runner:
    """One job's runner: its workspace, its temporary directory, its environment, and what
    earlier steps left for later ones (outputs by step id, PATH entries, variables)."""

    def __init__(self, workspace: Path, temp: Path, environ: Mapping[str, str],
                 matrix: Mapping[str, str] | None = None) -> None:
        self.workspace = Path(workspace)
        self.temp = Path(temp)
        self.temp.mkdir(parents=True, exist_ok=True)
        self.environ = dict(environ)
        self.matrix = dict(matrix or {})
        self.steps: dict[str, dict[str, str]] = {}
        self.paths: list[str] = []
        self.variables: dict[str, str] = {}
        self.logs: list[str] = []  # every step's output, in order
        self.count = 0

    # --- expressions -----------------------------------------------------------------------

    def value(self, expression: str, inputs: Mapping[str, str], action_path: Path | None) -> str:
        parts = expression.split(".")
        known = {("runner", "temp"): str(self.temp), ("github", "workspace"): str(self.workspace)}
        if action_path is not None:
            known[("github", "action_path")] = str(action_path)
        if tuple(parts) in known:
            return known[tuple(parts)]
        if len(parts) == 2 and parts[0] == "inputs" and parts[1] in inputs:
            return inputs[parts[1]]
        if len(parts) == 2 and parts[0] == "matrix" and parts[1] in self.matrix:
            return str(self.matrix[parts[1]])
        if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")  # as GitHub: empty if unset
        raise AssertionError("an expression the test runner does not know: "
                             f"${{{{ {expression} }}}}")

    def expand(self, text, inputs: Mapping[str, str] = {}, action_path: Path | None = None) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1), inputs, action_path), str(text))

    # --- steps -----------------------------------------------------------------------------

    def run(self, step: Mapping, *, inputs: Mapping[str, str] = {},
            action_path: Path | None = None, workspace: Path | None = None) -> dict[str, str]:
        """Run one `run:` step; its outputs (also kept under its id for later steps)."""
        condition = step.get("if")
        assert condition in (None, "always()"), \
            f"a condition the test runner does not know: {condition}"
        assert step.get("shell", "bash") == "bash", step
        self.count += 1
        files = {name: self.temp / f"_runner_file_commands/{name}_{self.count}"
                 for name in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")}
        for path in files.values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        script = self.temp / f"_temp/step_{self.count}.sh"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(self.expand(step["run"], inputs, action_path))
        env = {**self.environ, **self.variables,
               "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp),
               **{name: str(path) for name, path in files.items()},
               **{key: self.expand(value, inputs, action_path)
                  for key, value in (step.get("env") or {}).items()}}
        if action_path is not None:
            env["GITHUB_ACTION_PATH"] = str(action_path)
        env["PATH"] = os.pathsep.join([*reversed(self.paths), env.get("PATH", os.defpath)])
        started = time.monotonic()
        result = subprocess.run([*SHELL, str(script)], cwd=workspace or self.workspace, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=1800)
        self.logs.append(f"--- {step.get('name', step['run'][:40])} "
                         f"({time.monotonic() - started:.1f}s)\n{result.stdout}")
        if result.returncode:
            raise StepFailed(f"step {step.get('name')!r} exited with {result.returncode}:\n"
                             + result.stdout[-6000:])
        outputs = parse_outputs(files["GITHUB_OUTPUT"].read_text())
        self.paths += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        self.variables.update(parse_outputs(files["GITHUB_ENV"].read_text()))
        if "id" in step:
            self.steps[step["id"]] = outputs
        return outputs

    def action(self, action_path: Path, with_: Mapping[str, object], *,
               step_id: str | None = None) -> dict[str, str]:
        """Run the composite action in `action_path` with these inputs; its outputs."""
        action = yaml.safe_load((Path(action_path) / "action.yml").read_text())
        assert action["runs"]["using"] == "composite"
        declared = action.get("inputs") or {}
        unknown = set(with_) - set(declared)
        assert not unknown, f"inputs the action does not have: {unknown}"
        inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
        inputs.update({name: str(value) for name, value in with_.items()})
        inner = Runner(self.workspace, self.temp, self.environ, self.matrix)
        inner.paths, inner.variables, inner.logs, inner.count = \
            self.paths, self.variables, self.logs, self.count
        for step in action["runs"]["steps"]:
            inner.run(step, inputs=inputs, action_path=Path(action_path))
        self.count = inner.count
        outputs = {name: inner.expand(spec["value"], inputs, Path(action_path))
                   for name, spec in (action.get("outputs") or {}).items()}
        if step_id:
            self.steps[step_id] = outputs
        return outputs


def parse_outputs(text: str) -> dict[str, str]:
    """The `name=value` and `name<<DELIMITER` lines of a $GITHUB_OUTPUT or $GITHUB_ENV file."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            found[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found
