"""docs/architecture.md tells the truth about the code.

Its module table and import list are generated (`tools/architecture.py`): the page must be
current. Its walk through a `make dev` is written by hand: every function it names must exist,
and the steps under a function must be calls that function makes, in the order it makes them.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
STEP = re.compile(r"^(?P<tree>[\s│├└─]*)(?P<words>.*?)\s{2,}(?P<path>\S+\.py):(?P<name>[\w.]+)$")


def architecture_tool():
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "tools" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_parts_of_the_page_are_current():
    assert architecture_tool().main(["--check"]) == 0, \
        "docs/architecture.md is stale: run `python tools/architecture.py`"


def test_a_stale_page_would_be_found():
    tool = architecture_tool()
    page = PAGE.read_text()
    emptied = re.sub(r"(<!-- BEGIN generated: rooms[^\n]*\n).*?(<!-- END generated: rooms)",
                     r"\1\2", page, flags=re.S)
    assert emptied != page and tool.render(emptied) == page


@dataclass
class Step:
    words: str
    path: str
    name: str
    depth: int
    children: list["Step"] = field(default_factory=list)


def walks(text: str) -> list[Step]:
    """The trees of the page's code blocks whose lines name `path.py:function`."""
    roots = []
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        stack: list[Step] = []
        for line in block.splitlines():
            match = STEP.match(line)
            if not match:
                continue
            step = Step(match["words"], match["path"], match["name"], len(match["tree"]))
            while stack and stack[-1].depth >= step.depth:
                stack.pop()
            (stack[-1].children if stack else roots).append(step)
            stack.append(step)
    return roots


def definition(path: str, name: str) -> ast.AST | None:
    """The function (or Class.method) `name` in the file, or the import that names it."""
    tree = ast.parse((ROOT / path).read_text())
    scope: list[ast.AST] = tree.body
    *outer, last = name.split(".")
    for part in outer:
        found = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == part]
        if not found:
            return None
        scope = found[0].body
    for node in scope:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == last:
            return node
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == last
                                                    for a in node.names):
            return node
    return None


def calls_in_order(function: ast.AST) -> list[str]:
    """The names of the calls in a function's body in the order they run (`a.b.c(...)`
    counts as `c`; a call's arguments run before it)."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            visit(child)
        if isinstance(node, ast.Call):
            target = node.func
            if isinstance(target, ast.Attribute):
                names.append(target.attr)
            elif isinstance(target, ast.Name):
                names.append(target.id)

    visit(function)
    return names


def problems(roots: list[Step]) -> list[str]:
    found = []

    def check(step: Step) -> None:
        node = definition(step.path, step.name)
        if node is None:
            found.append(f"{step.path}:{step.name} does not exist")
            return
        if step.children and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            calls, at = calls_in_order(node), 0
            for child in step.children:
                called = child.name.split(".")[-1]
                try:
                    at = calls.index(called, at) + 1
                except ValueError:
                    found.append(f"{step.path}:{step.name} does not call {called}() after "
                                 "the steps listed before it")
        for child in step.children:
            check(child)

    for root in roots:
        check(root)
    return found


def test_the_walk_names_real_functions_in_the_order_the_code_calls_them():
    roots = walks(PAGE.read_text())
    assert len(roots) >= 4 and sum(len(r.children) for r in roots) >= 15
    assert problems(roots) == []


@pytest.mark.parametrize("change, problem", [
    (lambda text: text.replace("restart.py:make_plan\n", "restart.py:make_plans\n"),
     "restart.py:make_plans does not exist"),
    (lambda text: text.replace(
        "   ├─ compose down                        src/weaviate_dev/services/compose.py:Compose.down_argv\n"
        "   ├─ delete the workspace's state        src/weaviate_dev/core/state.py:remove_state\n",
        "   ├─ delete the workspace's state        src/weaviate_dev/core/state.py:remove_state\n"
        "   ├─ compose down                        src/weaviate_dev/services/compose.py:Compose.down_argv\n"),
     "does not call"),
])
def test_a_walk_that_drifts_from_the_code_would_be_found(change, problem):
    changed = change(PAGE.read_text())
    assert changed != PAGE.read_text()
    found = problems(walks(changed))
    assert any(problem in line for line in found), found
