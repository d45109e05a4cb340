"""Shared fixtures: paths to the team's shared data and examples."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BENCHMARKS = SHARED / "data" / "benchmarks"
SAMPLES = SHARED / "data" / "samples"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def benchmarks_dir() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.fail(f"shared benchmark data not found at {BENCHMARKS}")
    return BENCHMARKS


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES
