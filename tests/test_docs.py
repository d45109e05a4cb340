"""The README is executed: its Python blocks run, its spec parses, and every `coverage-gen`
command in its shell blocks runs (in a scratch folder laid out like a checkout) and exits 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coverage_gen.spec import parse_spec
from tests.conftest import EXAMPLES, ROOT, SHARED

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text(encoding="utf-8")) if lang == language]


def _commands() -> list[str]:
    lines = [line.split("  #")[0].strip() for block in _blocks("bash") for line in block.splitlines()]
    return [line for line in lines if line.startswith("coverage-gen ")]


def test_readme_opens_with_install_and_test_commands() -> None:
    first = _blocks("bash")[0].splitlines()
    assert "coverage-gen generate examples/" in first[0]
    assert "pytest" in first[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert first[1] in ci, ".ci/run must run exactly the README's test command"


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_blocks_run(index: int) -> None:
    exec(compile(_blocks("python")[index], f"README.md python block {index}", "exec"), {})


def test_spec_example_parses() -> None:
    specs = [b for b in _blocks("yaml") if "tables:" in b]
    assert specs
    for text in specs:
        spec = parse_spec(text, file="README.md")
        assert spec.tables


def test_shell_commands_run_in_order(tmp_path: Path) -> None:
    work = tmp_path / "checkout"
    work.mkdir()
    (work / "examples").symlink_to(EXAMPLES)
    (tmp_path / "shared").symlink_to(SHARED)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = _commands()
    assert len(commands) >= 5
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
