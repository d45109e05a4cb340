"""Importing the package or starting the CLI must not load the solver stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("ortools", "numba", "networkx", "pyarrow")


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_import_package_is_light() -> None:
    assert not _loaded_after("import coverage_gen") & set(HEAVY)


def test_cli_help_is_light() -> None:
    loaded = _loaded_after("import coverage_gen.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
