"""The layers of src/laminar depend downward only (see DESIGN.md), read with ``ast``.

Every ``import`` counts, also those inside functions and under ``TYPE_CHECKING``:
a lazy import hides a cycle from the interpreter, not from the design.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
LOWER = ("sse", "formats", "connectors", "runtime", "sinks")
UPPER = ("sql", "observability", "cli", "cli_sql", "cli_commands", "api")
# The HTTP face of observability runs SQL statements; the rest reads runtime hooks only.
OBSERVABILITY_FACES = {"laminar.observability.server"}
# Private names still imported across packages, each with the change that ends it.
KNOWN_PRIVATE: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    name: str | None  # the imported name (from … import name), None for `import x`
    line: int


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    modules = {}
    for path in sorted((SRC / "laminar").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


MODULES = _modules()


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports() -> list[Import]:
    found = []
    for module, (path, is_package) in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [
                    Import(module, alias.name, None, node.lineno)
                    for alias in node.names
                    if alias.name.split(".")[0] == "laminar"
                ]
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(module, is_package, node)
                if target.split(".")[0] != "laminar":
                    continue
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    if submodule in MODULES:  # from laminar.formats import json
                        found.append(Import(module, submodule, None, node.lineno))
                    else:
                        found.append(Import(module, target, alias.name, node.lineno))
    return found


IMPORTS = _imports()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _package(module: str) -> str:
    return module if MODULES[module][1] else module.rpartition(".")[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_is_read() -> None:
    """Guards the other tests against passing on an empty or misread graph."""
    assert {"laminar.sql.engine", "laminar.runtime.operator", "laminar.cli"} <= set(MODULES)
    assert any(
        (i.source, i.target, i.name) == ("laminar.sql.engine", "laminar.sql.parser",
                                         "parse_statements")
        for i in IMPORTS
    )
    assert any(i.target == "laminar.formats.json" for i in IMPORTS)  # from pkg import module
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        if imp.target in MODULES and imp.target != imp.source:
            edges[imp.source].add(imp.target)
    assert _cycles(edges) == []


def test_no_private_names_across_packages() -> None:
    crossing = {
        (imp.source, imp.target, imp.name)
        for imp in IMPORTS
        if imp.name
        and imp.name.startswith("_")
        and not imp.name.startswith("__")
        and imp.target in MODULES
        and _package(imp.source) != _package(imp.target)
    }
    assert crossing - KNOWN_PRIVATE == set()


@pytest.mark.parametrize("layer", LOWER)
def test_lower_layers_never_import_the_upper_ones(layer: str) -> None:
    upward = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if _layer(imp.source) == layer and _layer(imp.target) in UPPER
    ]
    assert upward == []


def test_observability_reads_runtime_hooks_not_the_sql_layer() -> None:
    into_sql = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if _layer(imp.source) == "observability"
        and imp.source not in OBSERVABILITY_FACES
        and _layer(imp.target) == "sql"
    ]
    assert into_sql == []
