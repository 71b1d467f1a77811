"""The toolkit's modules import each other without cycles, counting imports inside functions
(a function-level import is how a cycle hides; `weaviate_dev.core.progress` and `services.docker`
exist so that none is needed)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "weaviate_dev"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules} - {module_name(path)}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    packages = {name for name, p in paths.items() if p.name == "__init__.py"}
    return {name: imports_of(path, set(paths) - packages) for name, path in paths.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for other in sorted(edges.get(node, ())):
            if state.get(other) == "open":
                found.append(stack[stack.index(other):] + [other])
            elif other not in state:
                visit(other, stack + [other])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


# room -> the rooms its modules may import (their own included)
ALLOWED = {
    "core": {"core"},
    "services": {"core", "services"},
    "weaviate": {"core", "services", "weaviate"},
    "testing": {"core", "services", "weaviate", "testing"},
    "cli": {"core", "services", "weaviate", "cli"},
}


def room(module: str) -> str | None:
    """weaviate_dev.services.images -> services (None: the package's own __init__/__main__)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or parts[-1] in ALLOWED else None


def wrong_way(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} -> {other}" for module, others in edges.items() for other in others
                  if room(module) and room(other) not in ALLOWED[room(module)] | {None})


def test_every_module_lives_in_a_room():
    loose = [m for m in graph() if room(m) is None
             and m not in ("weaviate_dev", "weaviate_dev.__main__")]
    assert loose == [] and set(map(room, graph())) - {None} == set(ALLOWED)


def test_rooms_depend_one_way():
    assert wrong_way(graph()) == []


def test_a_wrong_way_import_would_be_found():
    edges = {"weaviate_dev.core.settings": {"weaviate_dev.services.images"},
             "weaviate_dev.services.images": {"weaviate_dev.weaviate.build"},
             "weaviate_dev.cli.main": {"weaviate_dev.testing.containers"},
             "weaviate_dev.weaviate.image": {"weaviate_dev.services.images"}}
    assert wrong_way(edges) == ["weaviate_dev.cli.main -> weaviate_dev.testing.containers",
                                "weaviate_dev.core.settings -> weaviate_dev.services.images",
                                "weaviate_dev.services.images -> weaviate_dev.weaviate.build"]


def test_the_graph_sees_function_level_imports():
    assert "weaviate_dev.services.images" in graph()["weaviate_dev.cli.commands.restart"]  # inside a function


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


IMAGE_PIPELINE = "weaviate_dev.services.reranker_image"


def through_the_front(edges: dict[str, set[str]], package: str) -> list[str]:
    """Imports of a package's inner modules from outside the package (its face is its
    __init__)."""
    return sorted(f"{module} -> {other}" for module, others in edges.items()
                  for other in others if other.startswith(package + ".")
                  and not module.startswith(package + ".") and module != package)


def test_the_reranker_image_pipeline_is_entered_through_its_package():
    """restart, dev, setup, status and the fixtures call the functions of
    services/reranker_image/__init__.py, never its inner modules."""
    assert through_the_front(graph(), IMAGE_PIPELINE) == []


def test_an_import_of_an_inner_module_would_be_found():
    edges = {"weaviate_dev.cli.commands.restart": {f"{IMAGE_PIPELINE}.model", IMAGE_PIPELINE},
             f"{IMAGE_PIPELINE}.plan": {f"{IMAGE_PIPELINE}.model"}}
    assert through_the_front(edges, IMAGE_PIPELINE) == [
        f"weaviate_dev.cli.commands.restart -> {IMAGE_PIPELINE}.model"]
