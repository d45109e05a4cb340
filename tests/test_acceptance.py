"""Acceptance checks from the foundation issue, on the team's shared benchmark data."""

from __future__ import annotations

import csv

from coverage_gen import api
from coverage_gen.verify.checker import check_rows
from tests.conftest import BENCHMARKS, SHARED

PICT_VENDOR_ROWS = 107  # Microsoft PICT 3.7.5, default seed (REFERENCE.csv)


def _reference(name: str, strength: int) -> dict[str, str]:
    with open(SHARED / "data" / "benchmarks" / "REFERENCE.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["file"] == name and int(row["strength"]) == strength:
                return row
    raise AssertionError(f"{name} t={strength} not in REFERENCE.csv")


def test_vendor_pairwise_beats_pict_and_is_proven_optimal() -> None:
    assert int(_reference("vendor.txt", 2)["pict_3_7_5_default"]) == PICT_VENDOR_ROWS
    result = api.generate_matrix(BENCHMARKS / "vendor.txt", strength=2)
    check = check_rows(result.model, list(result.header), [list(r) for r in result.rows], strength=2)
    assert check.ok, check.render()
    assert check.covered_tuples == check.feasible_tuples
    assert len(result.rows) < PICT_VENDOR_ROWS
    array = result.array
    # The simple bound is 100; the optimum is higher and must be proved, not assumed.
    assert array.optimal and array.lower_bound.value == len(result.rows) > 100
    assert "infeasible" in array.proof


def test_lower_bound_never_exceeds_the_array() -> None:
    for name in ("CA_3^4.txt", "Bugzilla.txt", "SPIN-S.txt"):
        result = api.generate_matrix(BENCHMARKS / name, strength=2, time_limit=1.0)
        check = check_rows(result.model, list(result.header), [list(r) for r in result.rows], strength=2)
        assert check.ok, (name, check.render())
        assert result.array.lower_bound.value <= len(result.rows)
        assert int(_reference(name, 2)["lower_bound"]) <= len(result.rows)
