"""Our GitHub files, checked offline: `.github/workflows/ci.yml`, the README's example workflow
and `action.yml`.

- actionlint (built by github_tools.py) lints the workflows: their expressions and contexts,
  the inputs and outputs of `uses: ./` against action.yml, and every `run:` script through
  shellcheck (Debian's);
- shellcheck checks action.yml's own `run:` scripts as GitHub runs them (`bash -e -o
  pipefail`): actionlint reads no action metadata;
- check-jsonschema validates action.yml against the GitHub Actions schema and the workflows
  against the workflow schema (SchemaStore's, shipped with it: no network);
- the README's inputs table and example agree with action.yml.
A broken copy of each file fails its checks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from github_tools import actionlint as build_actionlint

from weaviate_dev.core.errors import DevError
from weaviate_dev.testing.pytest_plugin import unavailable

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
CI = REPO / ".github" / "workflows" / "ci.yml"
README = REPO / "README.md"
OUTPUTS = {"weaviate-url", "grpc-port", "reranker-url"}


@pytest.fixture(scope="session")
def shellcheck(weaviate_dev_settings) -> str:
    found = shutil.which("shellcheck")
    if found is None:
        unavailable(weaviate_dev_settings, "shellcheck is not installed (Debian: apt-get install "
                                           "shellcheck); actionlint would skip run: scripts")
    return found


@pytest.fixture(scope="session")
def actionlint(weaviate_dev_settings, shellcheck):
    """lint(dir, *files) -> (exit code, output): actionlint in `dir` with shellcheck on."""
    try:
        binary = build_actionlint(weaviate_dev_settings)
    except DevError as exc:
        unavailable(weaviate_dev_settings, f"actionlint cannot be built: {exc}")

    def lint(directory: Path, *files: str) -> tuple[int, str]:
        result = subprocess.run([str(binary), "-no-color", "-shellcheck", shellcheck, *files],
                                cwd=directory, capture_output=True, text=True, timeout=120)
        return result.returncode, result.stdout + result.stderr

    return lint


def readme_example() -> str:
    """The README's example workflow: its yaml block that uses the action."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", README.read_text(), re.S | re.M)
    [example] = [block for block in blocks if "weaviate-dev down" in block and "uses:" in block]
    return example


def repository(tmp_path: Path, workflow: str, action: str | None = None) -> Path:
    """A copy of the repository's GitHub files: action.yml (or `action`) and one workflow."""
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".git").mkdir()  # where actionlint sees a repository, and so finds `uses: ./`
    (root / "action.yml").write_text(action if action is not None else ACTION.read_text())
    (root / ".github" / "workflows" / "ci.yml").write_text(workflow)
    return root


def schema(name: str, path: Path) -> tuple[int, str]:
    """check-jsonschema with its copy of a SchemaStore schema (github-workflows,
    github-actions)."""
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                             f"vendor.{name}", str(path)], capture_output=True, text=True,
                            timeout=120)
    return result.returncode, result.stdout + result.stderr


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- actionlint ------------------------------------------------------------------------------


def test_the_workflows_pass_actionlint(actionlint, tmp_path):
    assert actionlint(REPO, ".github/workflows/ci.yml") == (0, "")
    example = repository(tmp_path, readme_example())
    assert actionlint(example, ".github/workflows/ci.yml") == (0, "")


@pytest.mark.parametrize("old, new, finding", [
    ("run: make test\n", "run: make test $TARGETS\n", "SC2086"),  # shellcheck is on
    ("          nodes: ${{ matrix.nodes }}", "          node: ${{ matrix.nodes }}",
     'input "node" is not defined in action "weaviate-dev"'),
    ("steps.weaviate.outputs.grpc-port", "steps.weaviate.outputs.grpc",
     'property "grpc" is not defined'),
    ("      - name: Stop Weaviate and the reranker\n        if: always()",
     "      - name: Stop Weaviate and the reranker\n        if: always(",
     "unexpected end of input"),
], ids=["shellcheck", "unknown-input", "unknown-output", "expression"])
def test_a_broken_ci_workflow_fails_actionlint(actionlint, tmp_path, old, new, finding):
    broken = repository(tmp_path, replaced(CI.read_text(), old, new))
    code, output = actionlint(broken, ".github/workflows/ci.yml")
    assert code == 1 and finding in output, output


def test_a_broken_readme_example_fails_actionlint(actionlint, tmp_path):
    broken = replaced(readme_example(), "${{ steps.weaviate.outputs.reranker-url }}",
                      "${{ step.weaviate.outputs.reranker-url }}")
    code, output = actionlint(repository(tmp_path, broken), ".github/workflows/ci.yml")
    assert code == 1 and 'undefined variable "step"' in output, output


# --- shellcheck on action.yml's run: scripts ------------------------------------------------


def action_scripts(text: str) -> dict[str, str]:
    steps = yaml.safe_load(text)["runs"]["steps"]
    return {step["name"]: step["run"] for step in steps if "run" in step}


def check_scripts(shellcheck: str, text: str, tmp_path: Path) -> list[str]:
    """shellcheck's findings in each run: script, as GitHub runs it (bash -e -o pipefail)."""
    findings = []
    for index, (name, script) in enumerate(action_scripts(text).items()):
        assert "${{" not in script, f"{name}: inputs reach scripts through env, not ${{{{ }}}}"
        path = tmp_path / f"step-{index}.sh"
        path.write_text("set -eo pipefail\n" + script)
        result = subprocess.run([shellcheck, "--shell=bash", "--format=gcc", str(path)],
                                capture_output=True, text=True)
        findings += [f"{name}: {line}" for line in result.stdout.splitlines()]
    return findings


def test_the_actions_scripts_pass_shellcheck(shellcheck, tmp_path):
    assert len(action_scripts(ACTION.read_text())) == 2
    assert check_scripts(shellcheck, ACTION.read_text(), tmp_path) == []


def test_a_broken_action_script_fails_shellcheck(shellcheck, tmp_path):
    broken = replaced(ACTION.read_text(), 'if [[ "$NODES" != 1 ]]; then',
                      "if [ $NODES != 1 ]; then")
    findings = check_scripts(shellcheck, broken, tmp_path)
    assert any("SC2086" in line for line in findings), findings


# --- the schemas ------------------------------------------------------------------------------


def test_the_files_match_the_github_schemas(tmp_path):
    example = tmp_path / "example.yml"
    example.write_text(readme_example())
    for name, path in (("github-actions", ACTION), ("github-workflows", CI),
                       ("github-workflows", example)):
        code, output = schema(name, path)
        assert code == 0, output


@pytest.mark.parametrize("name, source, old, new", [
    ("github-actions", ACTION, "  using: composite", "  using: compose"),
    ("github-actions", ACTION, "      shell: bash\n      env:\n        VENV",
     "      env:\n        VENV"),  # a composite step's run: needs its shell
    ("github-workflows", CI, "    runs-on: ubuntu-24.04\n    timeout-minutes: 60",
     "    runs_on: ubuntu-24.04\n    timeout-minutes: 60"),
    ("github-workflows", README, "        if: always()\n", "        iff: always()\n"),
], ids=["action-using", "action-shell", "workflow-runs-on", "example-step-key"])
def test_a_broken_copy_fails_its_schema(tmp_path, name, source, old, new):
    text = readme_example() if source == README else source.read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text(replaced(text, old, new))
    code, output = schema(name, broken)
    assert code == 1 and "Schema validation errors were encountered" in output, output


# --- what the README says about the action ------------------------------------------------


def readme_inputs() -> dict[str, str]:
    """The README's table of inputs: name -> default."""
    rows = re.findall(r"^\| `([a-z-]+)` \| `([^`]*)` \|", README.read_text(), re.M)
    return dict(rows)


def test_the_readme_names_the_actions_inputs_and_outputs():
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: str(spec["default"]) for name, spec in action["inputs"].items()}
    assert {name: value for name, value in readme_inputs().items() if name in inputs} == inputs
    assert set(action["outputs"]) == OUTPUTS
    for name in OUTPUTS:
        assert f"`{name}`" in README.read_text()
        assert action["outputs"][name]["value"] == f"${{{{ steps.start.outputs.{name} }}}}"
    example = yaml.safe_load(readme_example())
    [uses] = [step for step in example["jobs"]["test"]["steps"]
              if "your-org/weaviate-dev" in step.get("uses", "")]
    assert set(uses["with"]) <= set(inputs)
    assert {name: str(value) for name, value in uses["with"].items()} == \
        {name: inputs[name] for name in uses["with"]}  # the example spells out the defaults
    last = example["jobs"]["test"]["steps"][-1]
    assert last["if"] == "always()" and last["run"] == "weaviate-dev down"


def test_the_engine_input_lists_every_engine():
    table = json.loads((REPO / "reranker" / "src" / "reranker" / "engine_table.json").read_text())
    engine = yaml.safe_load(ACTION.read_text())["inputs"]["engine"]
    listed = engine["description"].split(":", 1)[1].split("(")[0]  # "a, b ... or c "
    assert {name.strip() for name in re.split(r",|\bor\b", listed)} == set(table["engines"])
    assert engine["default"] == table["default"]


def test_our_workflow_runs_make_test_and_uses_the_action_on_itself():
    workflow = yaml.safe_load(CI.read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    assert any(step.get("run") == "make test" for step in workflow["jobs"]["test"]["steps"])
    steps = workflow["jobs"]["action"]["steps"]
    [own] = [step for step in steps if step.get("uses") == "./"]
    assert own["id"] == "weaviate"
    assert any("rerank_with_client.py" in step.get("run", "") for step in steps)
    assert steps[-1]["if"] == "always()" and steps[-1]["run"] == "weaviate-dev down"
