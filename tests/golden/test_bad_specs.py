"""Golden bad specs: each ``specs/NAME.yaml`` fails with exactly the diagnostics (code and
line, in document order) listed in ``specs/NAME.expected.json``, written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage_gen.errors import SpecError
from coverage_gen.spec import load_spec

SPECS = Path(__file__).resolve().parent / "specs"
CASES = sorted(SPECS.glob("*.yaml"))


def test_every_bad_spec_has_an_expectation() -> None:
    assert CASES, f"no golden specs in {SPECS}"
    missing = [p.name for p in CASES if not p.with_suffix(".expected.json").is_file()]
    assert not missing


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_spec_diagnostics(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    got = [{"code": d.code, "line": d.loc.line} for d in exc.value.diagnostics]
    assert got == expected["diagnostics"]
    assert all(d.loc.file == str(path) for d in exc.value.diagnostics)
