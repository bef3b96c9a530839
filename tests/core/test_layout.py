"""The package's layout: no import circles, and `playground/` never imports Streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "playground"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """The playground modules `path` imports when it is imported (not those imported inside functions)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known and name != me}


def import_graph() -> dict[str, set[str]]:
    paths = list(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    return {module_name(p): top_level_imports(p, known) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles between modules, ignoring the edge from a package to its own submodules (that is
    how a package's __init__ gathers them, not a circle)."""
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if target.startswith(node + "."):
                continue
            if state.get(target) == "open":
                found.append(trail[trail.index(target):] + [target] if target in trail else [node, target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_circle_finder_finds_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"p": {"p.x"}, "p.x": {"p"}}) == [] and cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_package():
    graph = import_graph()
    assert "playground.cli.commands" in graph["playground.cli"]  # the graph sees relative imports
    assert graph["playground.cli.commands"] >= {"playground.cli.lab", "playground.runstore.store"}
    assert not any(m.startswith("playground.cli") for m in graph["playground.cli.lab"] - {"playground.cli.progress",
                                                                                          "playground.cli.train_flags"})
    assert cycles(graph) == []


def test_the_library_never_imports_streamlit():
    for path in PACKAGE.rglob("*.py"):
        assert "import streamlit" not in path.read_text(), path
