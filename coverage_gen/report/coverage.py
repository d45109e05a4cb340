"""The coverage report: what goes to ``coverage.json`` and the short summary on stderr.

The dict is JSON-ready (only str, int, float, bool, None, lists and dicts) with a fixed key
order, so ``json.dumps(report, indent=2)`` gives a stable, diffable file apart from timings.
"""

from __future__ import annotations

from coverage_gen.engine.result import CoveringArray, PhaseStats

REPORT_VERSION = 1
_DIGITS = 3  # seconds and ratios are rounded: more digits would be noise


def coverage_report(
    array: CoveringArray,
    factor_names: list[str],
    rule_texts: list[str],
    *,
    records: int,
    seed: int,
    time_limit: float,
) -> dict[str, object]:
    """Summarise a solved covering array and the records expanded from it."""
    return {
        "version": REPORT_VERSION,
        "strength": array.strength,
        "factors": list(factor_names),
        "rules": list(rule_texts),
        "tuples": _tuples(array),
        "rows": array.num_rows,
        "records": records,
        "lower_bound": _lower_bound(array, factor_names),
        "optimal": array.optimal,
        "proof": array.proof,
        "gap": round(array.gap, _DIGITS),
        "best_known": array.best_known,
        "exit_reason": array.exit_reason.value,
        "status": solve_status(array),
        "seed": seed,
        "time_limit": time_limit,
        "seconds": _seconds(array),
        "phases": [_phase(p) for p in array.phases],
        "dead_values": _dead_values(array, factor_names),
        "notes": list(array.notes),
    }


def _lower_bound(array: CoveringArray, factor_names: list[str]) -> dict[str, object]:
    bound = array.lower_bound
    names = [factor_names[f] for f in bound.factors]
    reason = bound.reason + (f" ({' x '.join(names)})" if names else "")
    return {"value": bound.value, "reason": reason, "factors": names}


def solve_status(array: CoveringArray) -> str:
    """OPTIMAL (size proven minimal), FEASIBLE (complete coverage) or INCOMPLETE."""
    if array.covered < array.required:
        return "INCOMPLETE"
    return "OPTIMAL" if array.optimal else "FEASIBLE"


def _tuples(array: CoveringArray) -> dict[str, object]:
    ratio = 1.0 if array.required == 0 else array.covered / array.required
    return {
        "required": array.required,
        "covered": array.covered,
        "missing": array.required - array.covered,
        "excluded": array.excluded,
        "coverage": round(ratio, 6),
    }


def _dead_values(array: CoveringArray, factor_names: list[str]) -> list[dict[str, object]]:
    """Values no valid row can hold, as factor name and value index (the engine's view)."""
    dead = getattr(array, "dead_values", ())  # absent on arrays from older engine builds
    return [{"factor": factor_names[f], "value_index": v} for f, v in dead]


def _seconds(array: CoveringArray) -> dict[str, float]:
    out = {"analysis": round(array.analysis_seconds, _DIGITS)}
    for phase in array.phases:
        # Phases may repeat (e.g. two local-search passes); their times add up.
        out[phase.name] = round(out.get(phase.name, 0.0) + phase.seconds, _DIGITS)
    out["total"] = round(array.seconds, _DIGITS)
    return out


def _phase(phase: PhaseStats) -> dict[str, object]:
    return {
        "name": phase.name,
        "rows_before": phase.rows_before,
        "rows_after": phase.rows_after,
        "seconds": round(phase.seconds, _DIGITS),
        "detail": phase.detail,
    }


def render_text(report: dict[str, object]) -> str:
    """A few human lines for stderr: coverage, size versus bound, records and time."""
    tuples = report["tuples"]
    bound = report["lower_bound"]
    seconds = report["seconds"]
    assert isinstance(tuples, dict) and isinstance(bound, dict) and isinstance(seconds, dict)
    lines = [
        f"{report['strength']}-wise coverage: {tuples['covered']}/{tuples['required']} "
        f"required tuples covered ({tuples['excluded']} excluded by rules)",
        _size_line(report, bound),
        f"{report['records']} records, seed {report['seed']}, {report['status']}"
        f"{_stop(report)} in {seconds['total']:.2f} s",
    ]
    if tuples["missing"]:
        lines.insert(1, f"WARNING: {tuples['missing']} required tuples are not covered")
    return "\n".join(lines) + "\n"


def _stop(report: dict[str, object]) -> str:
    """The stop reason, unless it only repeats the status (OPTIMAL because optimal)."""
    reason = str(report["exit_reason"])
    return "" if reason == str(report["status"]).lower() else f" (stopped: {reason})"


def _size_line(report: dict[str, object], bound: dict[str, object]) -> str:
    if report["optimal"]:
        proof = report["proof"] or bound["reason"]
        return f"{report['rows']} covering rows: proven optimal ({proof})"
    line = f"{report['rows']} covering rows; lower bound {bound['value']} ({bound['reason']})"
    gap = report["gap"]
    if isinstance(gap, (int, float)):
        line += f"; gap {gap:.1%}"
    if report["best_known"] is not None:
        line += f"; best known {report['best_known']}"
    return line
