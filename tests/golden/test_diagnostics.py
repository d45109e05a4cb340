"""Golden constraint diagnostics: each ``diagnostics/NAME.txt`` PICT model (with
``NAME.seed`` as its ``/e:`` seed file when present) runs through ``api.generate_pict`` with
``--explain``; the warnings, errors and explanation must equal ``NAME.expected`` line for
line (file paths shown relative to the folder).

Regenerate after an intended change with::

    UPDATE_GOLDEN=1 python -m pytest tests/golden/test_diagnostics.py

and review the diff of the ``.expected`` files before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coverage_gen import api
from coverage_gen.errors import CoverageGenError
from coverage_gen.spec.pict import PictOptions

HERE = Path(__file__).resolve().parent / "diagnostics"
CASES = sorted(HERE.glob("*.txt"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def render(path: Path) -> str:
    seed = path.with_suffix(".seed")
    options = PictOptions(seed_file=seed if seed.is_file() else None)
    try:
        result = api.generate_pict(path, options=options, explain=True, time_limit=1.0)
    except CoverageGenError as exc:
        lines = [f"exit: {type(exc).__name__}", *(f"error: {d}" for d in exc.diagnostics)]  # type: ignore[attr-defined]
    else:
        lines = [*(f"warning: {w}" for w in result.warnings),
                 *result.explanation]
    text = "\n".join(lines) + "\n"
    return text.replace(str(HERE) + os.sep, "")


def test_every_model_has_an_expectation() -> None:
    assert CASES
    missing = [p.name for p in CASES if not p.with_suffix(".expected").is_file()]
    assert UPDATE or not missing, f"run with UPDATE_GOLDEN=1 to create {missing}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_diagnostics_match_golden(path: Path) -> None:
    got = render(path)
    expected_path = path.with_suffix(".expected")
    if UPDATE:
        expected_path.write_text(got, encoding="utf-8")
    assert got == expected_path.read_text(encoding="utf-8")
