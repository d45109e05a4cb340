"""Coverage report dict and its text summary."""

from __future__ import annotations

import json

import numpy as np

from coverage_gen.engine.result import CoveringArray, ExitReason, LowerBound, PhaseStats
from coverage_gen.report.coverage import coverage_report, render_text


def _array(**overrides: object) -> CoveringArray:
    fields: dict[str, object] = dict(
        rows=np.zeros((10, 3), dtype=np.int64),
        strength=2,
        required=30,
        excluded=3,
        covered=30,
        lower_bound=LowerBound(9, "largest t-set has 9 coverable tuples", (0, 1)),
        exit_reason=ExitReason.TIME_LIMIT,
        seconds=1.23456,
        phases=(
            PhaseStats("greedy", 0, 12, 0.1),
            PhaseStats("local search", 12, 10, 1.0, "400 steps"),
            PhaseStats("local search", 10, 10, 0.05),
        ),
        best_known=None,
        analysis_seconds=0.02,
    )
    fields.update(overrides)
    return CoveringArray(**fields)  # type: ignore[arg-type]


def _report(array: CoveringArray) -> dict[str, object]:
    return coverage_report(
        array, ["A", "B", "C"], ['IF [A]="x" THEN [B]<>"y"'], records=25, seed=4, time_limit=5.0
    )


def test_report_fields_and_json_ready() -> None:
    report = _report(_array())
    assert json.loads(json.dumps(report)) == report
    assert report["strength"] == 2
    assert report["tuples"] == {
        "required": 30,
        "covered": 30,
        "missing": 0,
        "excluded": 3,
        "coverage": 1.0,
    }
    assert report["rows"] == 10 and report["records"] == 25
    assert report["lower_bound"] == {
        "value": 9,
        "reason": "largest t-set has 9 coverable tuples (A x B)",
        "factors": ["A", "B"],
    }
    assert report["optimal"] is False and report["gap"] == 0.1
    assert report["status"] == "FEASIBLE" and report["exit_reason"] == "time limit"
    assert report["seconds"] == {
        "analysis": 0.02,
        "greedy": 0.1,
        "local search": 1.05,
        "total": 1.235,
    }
    assert report["factors"] == ["A", "B", "C"] and report["seed"] == 4
    assert len(report["phases"]) == 3  # type: ignore[arg-type]


def test_optimal_report_and_text() -> None:
    array = _array(
        rows=np.zeros((9, 3), dtype=np.int64),
        optimal=True,
        proof="CP-SAT: 8 rows infeasible",
        exit_reason=ExitReason.OPTIMAL,
    )
    report = _report(array)
    assert report["status"] == "OPTIMAL" and report["gap"] == 0.0
    text = render_text(report)
    assert "2-wise coverage: 30/30 required tuples covered (3 excluded by rules)" in text
    assert "9 covering rows: proven optimal (CP-SAT: 8 rows infeasible)" in text
    assert "WARNING" not in text and text.endswith("\n")


def test_incomplete_report_warns() -> None:
    report = _report(_array(covered=28, best_known=8))
    assert report["status"] == "INCOMPLETE"
    text = render_text(report)
    assert "WARNING: 2 required tuples are not covered" in text
    assert "gap 10.0%" in text and "best known 8" in text


def test_no_required_tuples() -> None:
    report = _report(_array(required=0, covered=0, rows=np.zeros((0, 3), dtype=np.int64)))
    assert report["tuples"]["coverage"] == 1.0  # type: ignore[index]
    assert report["gap"] == 0.0


def test_dead_values_named() -> None:
    report = _report(_array(dead_values=((1, 2),)))
    assert report["dead_values"] == [{"factor": "B", "value_index": 2}]
