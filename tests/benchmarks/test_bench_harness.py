"""The benchmark harness (benchmarks/bench_cover.py) runs, verifies and reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_cover.py"
DATA = ROOT.parent / "shared" / "data" / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    if not DATA.is_dir():
        pytest.fail(f"shared benchmark data not found at {DATA}")
    spec = importlib.util.spec_from_file_location("bench_cover", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cover"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_cover", None)


def _table_rows(markdown: str) -> list[dict[str, str]]:
    """The first results table as dicts keyed by its header."""
    lines = [ln for ln in markdown.splitlines() if ln.startswith("| instance | t |")]
    assert lines, "no results table"
    start = markdown.splitlines().index(lines[0])
    body = markdown.splitlines()[start:]
    head = [c.strip() for c in body[0].strip("|").split("|")]
    rows = []
    for line in body[2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(head, (c.strip() for c in line.strip("|").split("|")))))
    return rows


def test_harness_runs_and_verifies_two_tiny_instances(bench, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    code = bench.main([
        "--budget", "1", "--only", "CA_3^4", "--only", "CA_2^10", "--strength", "3",
        "--peers", "none", "--peer-cache", "", "--out", str(out), "--quiet",
    ])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Covering-array benchmark results")
    assert "Command: `python benchmarks/bench_cover.py --budget 1" in text
    rows = _table_rows(text)
    assert {(r["instance"], r["t"]) for r in rows} == {("CA_3^4", "3"), ("CA_2^10", "3")}
    for row in rows:
        assert row["verified"] == "yes", row
        assert int(row["ours"]) >= int(row["LB ref"])
    assert "Target CA(3; 4^6) = 64" in text  # the target list is always there
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert all(r["ours"]["1"]["verify"]["ok"] for r in data["records"])


def test_constraints_evaluated_on_partial_rows(bench) -> None:
    from coverage_gen.spec import load_model

    model, _ = load_model(DATA / "vendor.txt")
    rules = bench._RuleEvaluator(model)
    n = len(rules.names)

    def ok(*prefix: str) -> bool:
        cells = list(prefix) + [""] * (n - len(prefix))
        return rules.check(cells, lambda f: f < len(prefix))

    assert ok("DE")  # Currency still unknown: undecided counts as OK
    assert not ok("DE", "USD")  # Eurozone countries invoice in EUR
    assert ok("DE", "EUR")
    assert not ok("US", "CNY")  # CNY only for Chinese vendors


def test_peer_cells_report_incomplete_and_violating_output(bench) -> None:
    ok = {"status": "ok", "size": 12, "verify": {"status": "ok", "ok": True}}
    bad = {"status": "ok", "size": 11,
           "verify": {"status": "ok", "ok": False, "missing": 68, "violating_rows": 2}}
    assert bench.peer_cell(ok) == ("12", 12)
    assert bench.peer_cell(bad) == ("11 incomplete (68 missing), violates (2 rows)", None)
    assert bench.peer_cell({"status": "timeout", "timeout": 120}) == ("timeout >120s", None)


def _record(name: str, pict: int | None, greedy_rows: int, greedy_s: float) -> dict:
    ours = {"status": "ok", "size": greedy_rows, "verify": {"status": "ok", "ok": True},
            "phases": [{"name": "greedy", "rows_after": greedy_rows, "seconds": greedy_s}]}
    return {"instance": {"name": name, "file": f"{name}.txt", "strength": 3, "pict": pict,
                         "best_known": None, "lower_bound": 1},
            "peers": {}, "ours": {"10": ours}}


def test_greedy_target_checks_time_even_where_pict_gave_no_array(bench) -> None:
    records = [_record("Small", 100, 105, 0.1), _record("Huge", None, 400, 7.9),
               _record("Loose", 100, 120, 0.1)]
    line = next(x for x in bench.summarise(records, "10") if x.startswith("Target greedy"))
    assert "1/3 instances" in line and "NOT met" in line
    assert "Huge t=3 (greedy 400 PICT timed out, 7.9 s)" in line
    assert "Loose t=3 (greedy 120 vs PICT 100" in line
