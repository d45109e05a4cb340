"""The one orchestrator: load → check → lower → search → expand → write → report.

No printing, no exiting: results and exceptions only. ``cli`` renders them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from coverage_gen._seed import normalise_seed, rng_for
from coverage_gen.cover.lower import Lowered, lower_model
from coverage_gen.cover.result import CoveringArray
from coverage_gen.errors import Diagnostic, InfeasibleSpecError, Location, UsageError
from coverage_gen.spec import load_model
from coverage_gen.spec.model import CombinatorialModel, Spec

if TYPE_CHECKING:
    from coverage_gen.verify.checker import CheckResult

ProgressCallback = Callable[[str, int, int, float], None]

DEFAULT_TIME_LIMIT = 5.0
DEFAULT_FORMATS = ("csv", "jsonl")


@dataclass(frozen=True, slots=True, eq=False)
class MatrixResult:
    """A covering array with its names mapped back: ``header`` and string ``rows``."""

    model: CombinatorialModel
    lowered: Lowered
    array: CoveringArray
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    warnings: tuple[Diagnostic, ...] = ()

    def report(self, *, records: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT) -> dict[str, object]:
        from coverage_gen.report.coverage import coverage_report

        return coverage_report(
            self.array,
            list(self.header),
            [c.text for c in self.model.constraints],
            records=len(self.rows) if records is None else records,
            seed=self.model.seed,
            time_limit=time_limit,
        )


@dataclass(frozen=True, slots=True, eq=False)
class GenerationResult:
    matrix: MatrixResult
    spec: Spec | None
    columns: tuple[str, ...]
    records: tuple[tuple[str, ...], ...]
    files: dict[str, Path] = field(default_factory=dict)
    report: dict[str, object] = field(default_factory=dict)


def build_matrix(
    model: CombinatorialModel,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: ProgressCallback | None = None,
) -> MatrixResult:
    """Solve ``model`` into a covering array and decode it to value strings."""
    from coverage_gen.cover.search import Unsatisfiable, build_array

    if time_limit <= 0:
        raise UsageError(f"time limit must be positive, got {time_limit}")
    lowered = lower_model(model)
    try:
        array = build_array(lowered.problem, seed=model.seed, time_limit=time_limit, progress=progress)
    except Unsatisfiable as exc:
        raise _infeasible(model, exc.conflict) from None
    rows = tuple(lowered.names.decode_row(row) for row in array.rows.tolist())
    return MatrixResult(
        model=model,
        lowered=lowered,
        array=array,
        header=lowered.names.factor_names,
        rows=rows,
        warnings=_dead_value_warnings(model, lowered, array),
    )


def generate_matrix(
    source: str | Path,
    *,
    strength: int | None = None,
    seed: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: ProgressCallback | None = None,
) -> MatrixResult:
    """Load a spec or PICT model and return its covering array (no records, no files)."""
    model, _ = load_model(source, strength=strength, seed=_seed_or_none(seed))
    return build_matrix(model, time_limit=time_limit, progress=progress)


def generate(
    source: str | Path,
    out_dir: str | Path | None = None,
    *,
    strength: int | None = None,
    seed: int | None = None,
    rows: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    formats: Sequence[str] = DEFAULT_FORMATS,
    progress: ProgressCallback | None = None,
) -> GenerationResult:
    """Run the whole pipeline; write files into ``out_dir`` when given.

    The covering rows come first; when ``rows`` asks for more, further valid rows are
    sampled uniformly at random from the valid space (every constraint still holds).
    Everything is computed before the first file is written, and each file is written to a
    temporary name and renamed, so a failing run leaves no half-written output.
    """
    if rows is not None and rows < 1:
        raise UsageError(f"--rows must be at least 1, got {rows}")
    model, spec = load_model(source, strength=strength, seed=_seed_or_none(seed))
    matrix = build_matrix(model, time_limit=time_limit, progress=progress)
    wanted = rows if rows is not None else _spec_rows(spec) or len(matrix.rows)
    extra = _sample_extra_rows(matrix, max(0, wanted - len(matrix.rows)))
    columns, records = _records(spec, matrix, extra)
    report = matrix.report(records=len(records), time_limit=time_limit)
    result = GenerationResult(matrix, spec, columns, records, {}, report)
    if out_dir is None:
        return result
    files = write_outputs(result, Path(out_dir), formats=formats)
    return GenerationResult(matrix, spec, columns, records, files, report)


def write_outputs(
    result: GenerationResult, out_dir: Path, *, formats: Sequence[str] = DEFAULT_FORMATS
) -> dict[str, Path]:
    """Write the records (one file per format) and ``coverage.json`` atomically."""
    from coverage_gen.sinks import write_table, write_text_atomic

    out_dir.mkdir(parents=True, exist_ok=True)
    table = result.spec.table.name if result.spec is not None else "matrix"
    files: dict[str, Path] = {}
    for fmt in formats:
        files[fmt] = write_table(fmt, out_dir / f"{table}.{fmt}", list(result.columns), list(result.records))
    report_text = json.dumps(result.report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    files["coverage"] = write_text_atomic(out_dir / "coverage.json", report_text)
    return files


def verify_file(
    model_source: str | Path,
    data_path: str | Path,
    *,
    strength: int | None = None,
    max_missing: int = 50,
) -> "CheckResult":
    """Independently check a CSV/TSV against a spec or PICT model (tuples and rules)."""
    from coverage_gen.verify.checker import check_rows, read_table

    model, _ = load_model(model_source, strength=strength)
    header, rows = read_table(Path(data_path))
    return check_rows(model, header, rows, strength=model.strength, max_missing=max_missing)


# --------------------------------------------------------------------------- helpers
def _seed_or_none(seed: int | None) -> int | None:
    return None if seed is None else normalise_seed(seed)


def _spec_rows(spec: Spec | None) -> int | None:
    return spec.table.rows if spec is not None else None


def _sample_extra_rows(matrix: MatrixResult, count: int) -> list[tuple[str, ...]]:
    """``count`` further valid rows, drawn by random completion of an empty row."""
    if count == 0:
        return []
    from coverage_gen.cover.oracle import RowOracle

    problem = matrix.lowered.problem
    oracle = RowOracle(problem)
    rng = rng_for(matrix.model.seed, "extra-rows")
    empty = np.full(problem.num_factors, -1, dtype=np.int64)
    extra: list[tuple[str, ...]] = []
    for _ in range(count):
        row = oracle.complete(empty.copy(), rng)
        if row is None:  # cannot happen for a satisfiable problem; guard anyway
            raise InfeasibleSpecError([])
        extra.append(matrix.lowered.names.decode_row(row.tolist()))
    return extra


def _records(
    spec: Spec | None, matrix: MatrixResult, extra: list[tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    if spec is None:  # a PICT model: the records are the matrix rows themselves
        return matrix.header, matrix.rows + tuple(extra)
    from coverage_gen.expand.records import expand_records

    records = expand_records(spec, list(matrix.rows), extra_rows=extra, seed=spec.seed)
    return tuple(records.columns), tuple(tuple(r) for r in records.rows)


def _infeasible(model: CombinatorialModel, conflict: Sequence[int]) -> InfeasibleSpecError:
    by_index = {c.index: c for c in model.constraints}
    rules = [by_index[i] for i in conflict if i in by_index]
    if not rules:
        loc = Location(model.source)
        return InfeasibleSpecError(
            [Diagnostic("unsatisfiable", loc, "the constraints admit no valid row")]
        )
    listing = "; ".join(f"line {r.loc.line}: {r.text}" for r in rules)
    diagnostics = [
        Diagnostic(
            "unsatisfiable",
            rule.loc,
            f"no row can satisfy these {len(rules)} rule(s) together: {listing}. "
            "Relax or remove one of them.",
        )
        for rule in rules[:1]
    ]
    return InfeasibleSpecError(diagnostics)


def _dead_value_warnings(
    model: CombinatorialModel, lowered: Lowered, array: CoveringArray
) -> tuple[Diagnostic, ...]:
    out = []
    for f, v in array.dead_values:
        factor = model.factors[f]
        out.append(
            Diagnostic(
                "dead-value",
                factor.loc,
                f"value {factor.values[v]!r} of {factor.name} can never occur under the rules",
                "warning",
            )
        )
    return tuple(out)

