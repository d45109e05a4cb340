"""The calibration script (benchmarks/calibrate.py) measures a real greedy and walk."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "calibrate.py"


def _calibrate():
    spec = importlib.util.spec_from_file_location("calibrate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measures_units_per_second_on_a_constrained_model() -> None:
    r = _calibrate().measure("vendor", 2, 2_000_000)
    assert r["rows"] <= r["greedy_rows"]
    assert r["greedy_units_per_s"] > 0 and r["walk_units_per_s"] > 0


def test_prints_one_line_per_instance(capsys) -> None:
    assert _calibrate().main(["1e5", "CA_3^4:2", "CA_2^10:3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [["CA_3^4", "2"], ["CA_2^10", "3"]]
