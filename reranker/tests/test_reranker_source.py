"""The package's source as text: the docs it cites are in this repository, no constant is dead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "reranker" / "src" / "reranker"
# Where a constant of the package may be used: its own code, its tests, the benchmark, the toolkit.
USERS = ("reranker/src", "reranker/tests", "bench", "src", "tests", "tools")
# A cited Markdown page: "docs/bench.md", "/some/machine/docs/x.md".
CITED_DOC = re.compile(r"(?<![\w./-])(/?[\w./-]*docs/[\w.-]+\.md)")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def constants(path: Path) -> list[str]:
    """The names a module assigns at its top level."""
    names = []
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def test_cited_docs_are_pages_of_this_repository():
    cited = {(path.name, doc) for path in modules() for doc in CITED_DOC.findall(path.read_text())}
    assert ("protocol.py", "docs/reranker.md") in cited  # the pattern finds citations
    for module, doc in sorted(cited):
        assert not doc.startswith("/"), f"{module} cites a path on some machine: {doc}"
        assert (REPO / doc).is_file(), f"{module} cites {doc}, which this repository lacks"


def test_every_module_constant_is_used_somewhere():
    text = "\n".join(p.read_text() for folder in USERS for p in (REPO / folder).rglob("*.py"))
    dead = [f"{path.relative_to(PACKAGE)}: {name}" for path in modules()
            for name in constants(path) if len(re.findall(rf"\b{re.escape(name)}\b", text)) < 2]
    assert not dead, f"assigned but never read: {dead}"
