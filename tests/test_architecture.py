"""The layer rule and the heavy-dependency rule, checked by reading the source (AST)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coverage_gen"

# Lower number = lower layer; a module may import its own layer or lower ones.
LAYERS = {
    "errors": 0, "_seed": 0,
    "spec": 1,
    "graph": 1,  # networkx table graph; imports spec.model only
    "engine": 2,
    "expand": 3,
    "sinks": 4, "report": 4, "verify": 4,
    "infer": 4,
    "api": 5, "library": 5,
    "cli": 6, "pytest_plugin": 6, "__main__": 6,
}
# Heavy third-party packages and the only modules allowed to import them.
HEAVY = {
    "ortools": {"engine/cpsat.py"},
    "numba": {"engine/_kernels.py", "engine/_greedy_kernels.py", "engine/_oracle_kernels.py", "engine/oracle.py"},
    "networkx": {"graph.py"},
    "pyarrow": {"sinks/parquet.py"},
    "matplotlib": {"report/html.py"},
    "duckdb": {"sinks/duckdb.py"},
}
# The independent checker must not share code with the engine it checks.
FORBIDDEN = {"verify": {"engine", "expand"}}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_respects_layers(path: Path) -> None:
    if path.name == "__init__.py" and path.parent == PACKAGE:
        return  # the package root re-exports the public API lazily
    own = _top(path)
    assert own in LAYERS, f"{path.relative_to(PACKAGE)} is in no layer; add it to LAYERS"
    for name in _imports(path):
        if not name.startswith("coverage_gen."):
            continue
        target = name.split(".")[1]
        assert target in LAYERS, f"unknown layer {target}"
        assert LAYERS[target] <= LAYERS[own], f"{own} (layer {LAYERS[own]}) imports {name}"
        assert target not in FORBIDDEN.get(own, set()), f"{own} must not import {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_heavy_dependencies_stay_in_their_module(path: Path) -> None:
    rel = path.relative_to(PACKAGE).as_posix()
    for name in _imports(path):
        root = name.split(".")[0]
        if root in HEAVY:
            assert rel in HEAVY[root], f"{rel} imports {root}; only {sorted(HEAVY[root])} may"
