"""Write (or check) the generated parts of docs/architecture.md from the code itself.

    python tools/architecture.py           # rewrite the generated parts of the page
    python tools/architecture.py --check   # exit 1 when the page is out of date

Two parts of the page are generated, each between a BEGIN and an END comment line:

- `rooms`: every module of src/weaviate_dev, room by room, with the first sentence of its
  docstring. A module added, moved or described anew shows up here on the next run.
- `imports`: which room imports which (counted from the code, imports inside functions
  included), the picture tests/test_imports.py keeps one-way.

The walk through a `make dev` below them is written by hand; tests/test_architecture.py checks
that every function it names exists and that the steps come in the order the code calls them.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "weaviate_dev"
PAGE = ROOT / "docs" / "architecture.md"
ROOMS = ("cli", "weaviate", "services", "testing", "core")


def first_sentence(path: Path) -> str:
    """The first sentence of a module's docstring, on one line ("" when it has none)."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(":").strip()


def folders() -> list[Path]:
    """Every folder of the package that is a room or a part of one, rooms first."""
    found = [PACKAGE / room for room in ROOMS]
    for room in list(found):
        found += sorted(p for p in room.rglob("*") if p.is_dir() and (p / "__init__.py").is_file())
    return found


def rooms_table() -> list[str]:
    """The generated table: one row per module, grouped by folder."""
    lines = ["| folder | module | what it does (its docstring's first sentence) |",
             "|---|---|---|"]
    for folder in folders():
        name = folder.relative_to(PACKAGE).as_posix() + "/"
        modules = sorted(folder.glob("*.py"), key=lambda p: (p.name != "__init__.py", p.name))
        for index, module in enumerate(modules):
            label = f"`{name}`" if index == 0 else ""
            sentence = first_sentence(module).replace("|", "\\|")
            lines.append(f"| {label} | `{module.name}` | {sentence} |")
    return lines


def imports_table() -> list[str]:
    """The generated list of room-to-room imports."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_imports import graph, room  # the one reading of the import graph

    edges: dict[str, set[str]] = {}
    for module, others in graph().items():
        for other in others:
            a, b = room(module), room(other)
            if a and b and a != b:
                edges.setdefault(a, set()).add(b)
    return [f"- `{a}/` imports " + ", ".join(f"`{b}/`" for b in sorted(edges[a]))
            for a in ROOMS if a in edges] + [f"- `{a}/` imports no other room"
                                             for a in ROOMS if a not in edges]


PARTS = {"rooms": rooms_table, "imports": imports_table}


def render(page: str) -> str:
    """The page with every generated part written anew."""
    for name, make in PARTS.items():
        begin = f"<!-- BEGIN generated: {name} (python tools/architecture.py) -->"
        end = f"<!-- END generated: {name} -->"
        pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
        if not pattern.search(page):
            raise SystemExit(f"{PAGE}: no {begin!r} ... {end!r} section")
        page = pattern.sub(lambda _: "\n".join([begin, *make(), end]), page)
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and print a diff when the page is stale")
    args = parser.parse_args(argv)
    old = PAGE.read_text()
    new = render(old)
    if args.check:
        if new != old:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), str(PAGE), "generated"))
            print("docs/architecture.md is out of date: run `python tools/architecture.py`")
            return 1
        return 0
    PAGE.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
