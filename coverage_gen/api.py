"""The one orchestrator: load → check → lower → search → expand → write → report.

No printing, no exiting: results and exceptions only. ``cli`` renders them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from coverage_gen._seed import normalise_seed, rng_for
from coverage_gen.engine.lower import Lowered, lower_model
from coverage_gen.engine.result import CoveringArray
from coverage_gen.errors import (
    Diagnostic,
    InfeasibleSpecError,
    Location,
    SinkError,
    SpecError,
    UsageError,
    spec_error,
)
from coverage_gen.spec import load_model
from coverage_gen.spec.model import CombinatorialModel, Spec

if TYPE_CHECKING:
    from coverage_gen.expand.schema import TableSchema
    from coverage_gen.engine.problem import CoverageProblem
    from coverage_gen.spec.pict import PictOptions
    from coverage_gen.verify.checker import CheckResult
    from coverage_gen.verify.contract import ContractCheck

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

        report = coverage_report(
            self.array,
            list(self.header),
            [c.text for c in self.model.constraints],
            records=len(self.rows) if records is None else records,
            seed=self.model.seed,
            time_limit=time_limit,
        )
        if self.model.submodels:  # PICT sub-models: state the mixed requirement
            report["submodels"] = [
                {"factors": list(sm.factor_names), "strength": sm.order(self.array.strength)}
                for sm in self.model.submodels
            ]
            report["requirement"] = (
                "each sub-model's tuples at its strength, and every "
                f"{self.array.strength}-tuple with at most a sub-model's strength of factors "
                "from that sub-model"
            )
        return report


@dataclass(frozen=True, slots=True, eq=False)
class GenerationResult:
    matrix: MatrixResult
    spec: Spec | None
    columns: tuple[str, ...]
    records: tuple[tuple[str, ...], ...]
    files: dict[str, Path] = field(default_factory=dict)
    report: dict[str, object] = field(default_factory=dict)
    # multi-table specs: {table: {column: values}} (kept only when nothing was written)
    tables: dict[str, dict[str, list[object]]] = field(default_factory=dict)


def build_matrix(
    model: CombinatorialModel,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: ProgressCallback | None = None,
) -> MatrixResult:
    """Solve ``model`` into a covering array and decode it to value strings."""
    from coverage_gen.engine.search import Unsatisfiable, build_array

    if time_limit <= 0:
        raise UsageError(f"time limit must be positive, got {time_limit}")
    lowered = lower_model(model)
    try:
        array = _solve(model, lowered, build_array, time_limit=time_limit, progress=progress)
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
    check_output_options(None if out_dir is None else Path(out_dir), formats)
    multi = _multi_table_spec(source)
    if multi is not None:  # several linked tables (issue 5): expand/multi.py
        return _generate_multi(multi, out_dir, strength=strength, seed=seed,
                               time_limit=time_limit, formats=formats)
    model, spec = load_model(source, strength=strength, seed=_seed_or_none(seed))
    matrix = build_matrix(model, time_limit=time_limit, progress=progress)
    if spec is not None and spec.provenance is not None:  # missing citations (issue 7)
        matrix = dataclasses.replace(matrix, warnings=spec.provenance.warnings + matrix.warnings)
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
    """Write the records (per format), ``coverage.json`` and the contract into ``out_dir``.

    Everything is written into a staging folder inside ``out_dir`` and moved into place only
    when every file is complete, so an error or an interrupt leaves no half-written output.
    """
    check_output_options(out_dir, formats)
    with _staging(out_dir) as stage:
        if result.spec is not None and result.spec.multi_table:
            batches = ((name, cols) for name, cols in result.tables.items())
            files = _write_multi(result, batches, stage, formats)
        else:
            files = _write_single(result, stage, formats)
    return {name: out_dir / path.relative_to(stage) for name, path in files.items()}


def check_output_options(out_dir: Path | None, formats: Sequence[str]) -> None:
    """Fail before any work when the requested output cannot be written."""
    from coverage_gen.sinks import DATASET_FORMATS, dataset_writer_class

    if not formats:
        raise UsageError(f"no output format given; valid formats: {', '.join(sorted(DATASET_FORMATS))}")
    unknown = [f for f in formats if f not in DATASET_FORMATS]
    if unknown:
        raise UsageError(
            f"unknown output format {', '.join(map(repr, unknown))}; "
            f"valid formats: {', '.join(sorted(DATASET_FORMATS))}"
        )
    for fmt in formats:
        dataset_writer_class(fmt)  # a missing optional dependency fails now, not after solving
    if out_dir is None:
        return
    existing = Path(out_dir)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"cannot create output folder {out_dir}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot create output folder {out_dir}: {existing} is not writable")


@contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A private folder inside ``out_dir`` whose files move into ``out_dir`` on success."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".coverage-gen-", dir=out_dir))
    except OSError as exc:
        raise SinkError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    try:
        yield stage
        # contract.json last: while files move, a reader sees the old contract or the new one
        names = sorted((p.name for p in stage.iterdir()), key=lambda n: n == "contract.json")
        for name in names:
            os.replace(stage / name, out_dir / name)
        stage.rmdir()
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_single(result: GenerationResult, out_dir: Path, formats: Sequence[str]) -> dict[str, Path]:
    """One table (a spec's records or a model's matrix) through the dataset writers."""
    from coverage_gen.sinks import open_dataset, write_text_atomic

    schema = _single_table_schema(result)
    batch = _column_batch(schema, result.records)
    writers = [open_dataset(fmt, out_dir, [schema]) for fmt in formats]
    files: dict[str, Path] = {}
    try:
        for writer in writers:
            writer.write_batch(schema.name, batch)
        for fmt, writer in zip(formats, writers):
            files[fmt] = writer.close()[schema.name]
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    report_text = json.dumps(result.report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    files["coverage"] = write_text_atomic(out_dir / "coverage.json", report_text)
    if result.spec is not None:  # issue 7: the data contract beside the data
        files.update(write_contract(result, out_dir, files))
    return files


def _single_table_schema(result: GenerationResult) -> "TableSchema":
    from coverage_gen.expand.schema import ColumnSchema, TableSchema
    from coverage_gen.spec.multitable import column_kind

    if result.spec is None:  # a PICT matrix: values exactly as written
        return TableSchema("matrix", tuple(ColumnSchema(c, "text") for c in result.columns))
    table = result.spec.table
    tables = {table.name: table}
    return TableSchema(
        table.name,
        tuple(ColumnSchema(c, column_kind(tables, table.name, c)) for c in result.columns),  # type: ignore[arg-type]
    )


def _column_batch(schema: "TableSchema", records: Sequence[Sequence[str]]) -> dict[str, object]:
    """Row-wise string records → the column batch the dataset writers take."""
    columns = list(zip(*records)) if records else [() for _ in schema.columns]
    batch: dict[str, object] = {}
    for column, values in zip(schema.columns, columns):
        if column.kind == "integer":
            batch[column.name] = np.asarray([int(v) for v in values], dtype=np.int64)
        else:
            batch[column.name] = list(values)
    return batch


def write_contract(result: GenerationResult, out_dir: Path, files: dict[str, Path]) -> dict[str, Path]:
    """Write ``report.html``, ``contract.odcs.yaml``, ``contract.md`` and ``contract.json``
    (last: it records the sha256 and row count of every other output)."""
    from coverage_gen.report.contract import build_contract, describe_output, render_markdown
    from coverage_gen.report.html import render_html
    from coverage_gen.report.odcs import render_odcs
    from coverage_gen.sinks import write_text_atomic
    from coverage_gen.verify.contract import CONTRACT_FILE, read_records

    assert result.spec is not None
    contract = build_contract(result.spec, result.report, files, out_dir=out_dir)
    measured = contract.get("measured_on")
    if result.spec.multi_table:  # measured_on: table -> file
        from coverage_gen.report.html import render_html_multi

        data = {t: read_records(out_dir / f) for t, f in dict(measured or {}).items()}  # type: ignore[call-overload]
        page = render_html_multi(result.spec, data, contract)
    else:
        header, rows = read_records(out_dir / str(measured)) if measured else (list(result.columns), [])
        page = render_html(result.spec, header, rows, contract)
    written = {
        "html": write_text_atomic(out_dir / "report.html", page),
        "odcs": write_text_atomic(out_dir / "contract.odcs.yaml", render_odcs(result.spec, contract)),
        "contract_md": write_text_atomic(out_dir / "contract.md", render_markdown(contract)),
    }
    late = [describe_output(n, p, out_dir, result.spec) for n, p in written.items()]
    contract["outputs"] = list(contract["outputs"]) + late  # type: ignore[call-overload]
    text = json.dumps(contract, indent=2, ensure_ascii=False) + "\n"
    written["contract"] = write_text_atomic(out_dir / CONTRACT_FILE, text)
    return written


def verify_folder(out_dir: str | Path) -> "ContractCheck":
    """Re-check a generated folder against its ``contract.json``: file hashes and row
    counts, unique keys, rules, coverage (independent checker) and leakage."""
    from coverage_gen.verify.contract import CONTRACT_FILE, check_folder

    if not (Path(out_dir) / CONTRACT_FILE).is_file():
        raise spec_error(
            "no-contract", Location(str(out_dir)),
            f"{out_dir} holds no {CONTRACT_FILE}: pass a folder written by `generate -o`, "
            "or a model and a data file (`verify MODEL DATA`)",
        )
    return check_folder(out_dir)


def verify_file(
    model_source: str | Path,
    data_path: str | Path,
    *,
    strength: int | None = None,
    max_missing: int = 50,
) -> "CheckResult":
    """Independently check a CSV/TSV against a spec or PICT model (tuples and rules)."""
    from coverage_gen.verify.checker import check_rows, read_table

    model, spec = load_model(model_source, strength=strength)
    if spec is not None and spec.multi_table:
        model = _table_model_for(spec, Path(data_path))
    header, rows = read_table(Path(data_path))
    return check_rows(model, header, rows, strength=model.strength, max_missing=max_missing,
                      data_file=str(data_path))


# --------------------------------------------------------------------------- multi-table
MULTI_CHUNK_ROWS = 65_536


def _multi_table_spec(source: str | Path) -> Spec | None:
    """The spec when ``source`` is a multi-table YAML spec, else ``None``."""
    if Path(source).suffix.lower() not in (".yaml", ".yml"):
        return None
    from coverage_gen.spec import load_spec

    spec = load_spec(source)
    return spec if spec.multi_table else None


def _generate_multi(
    spec: Spec,
    out_dir: str | Path | None,
    *,
    strength: int | None,
    seed: int | None,
    time_limit: float,
    formats: Sequence[str],
) -> GenerationResult:
    """Covering arrays per table and across the parent chain, then linked records: streamed
    into one dataset writer per format, parents first (or kept in memory without out_dir)."""
    import dataclasses

    from coverage_gen.expand.multi import iter_batches, solve_tables

    if strength is not None or seed is not None:
        spec = dataclasses.replace(
            spec, strength=spec.strength if strength is None else strength,
            seed=spec.seed if seed is None else normalise_seed(seed))
    if time_limit <= 0:
        raise UsageError(f"time limit must be positive, got {time_limit}")
    solved = solve_tables(spec, time_limit=time_limit)
    matrix = _multi_matrix(spec, solved)
    if spec.provenance is not None:  # missing citations (issue 7)
        matrix = dataclasses.replace(matrix, warnings=spec.provenance.warnings + matrix.warnings)
    batches = iter_batches(spec, solved.lowered, solved.arrays, linked=solved.linked,
                           seed=spec.seed, chunk_rows=MULTI_CHUNK_ROWS)
    result = GenerationResult(matrix, spec, matrix.header, matrix.rows, {}, {})
    if out_dir is None:
        tables: dict[str, dict[str, list[object]]] = {}
        for name, cols in batches:
            into = tables.setdefault(name, {})
            for c, values in cols.items():
                into.setdefault(c, []).extend(values.tolist() if isinstance(values, np.ndarray) else values)
        counts = {t: len(next(iter(c.values()), [])) for t, c in tables.items()}
        report = _multi_report(spec, solved, matrix, counts, time_limit)
        return dataclasses.replace(result, report=report, tables=tables)
    result = dataclasses.replace(result, report=_multi_report(spec, solved, matrix, {}, time_limit))
    target = Path(out_dir)
    with _staging(target) as stage:
        staged = _write_multi(result, batches, stage, formats, solved=solved, time_limit=time_limit)
        report = json.loads(staged["coverage"].read_text("utf-8"))
    files = {name: target / path.relative_to(stage) for name, path in staged.items()}
    return dataclasses.replace(result, files=files, report=report)


def _write_multi(result: GenerationResult, batches: object, out_dir: Path,
                 formats: Sequence[str], *, solved: object = None, time_limit: float = DEFAULT_TIME_LIMIT) -> dict[str, Path]:
    from coverage_gen.expand.multi import plan_tables
    from coverage_gen.sinks import open_dataset, write_text_atomic

    assert result.spec is not None
    schemas = plan_tables(result.spec)
    writers = [open_dataset(fmt, out_dir, schemas) for fmt in formats]
    counts: dict[str, int] = {s.name: 0 for s in schemas}
    try:
        for name, cols in batches:  # type: ignore[attr-defined]
            for w in writers:
                w.write_batch(name, cols)
            counts[name] += len(next(iter(cols.values()), []))
        files: dict[str, Path] = {}
        for fmt, w in zip(formats, writers):
            for table, path in w.close().items():
                files[f"{table}.{fmt}"] = path
    except BaseException:
        for w in writers:
            w.abort()
        raise
    report = dict(result.report)
    report["table_rows"] = counts
    report["records"] = sum(counts.values())
    text = json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    files["coverage"] = write_text_atomic(out_dir / "coverage.json", text)
    files.update(write_contract(dataclasses.replace(result, report=report), out_dir, files))  # issue 7
    return files


def _multi_matrix(spec: Spec, solved: "object") -> MatrixResult:
    """The cross-table array as a ``MatrixResult`` (else the first table's own array)."""
    from coverage_gen.expand.multi import MultiSolution

    assert isinstance(solved, MultiSolution)
    if solved.across is not None and solved.across_lowered is not None and solved.across_model is not None:
        model, lowered, array = solved.across_model, solved.across_lowered, solved.across
    else:
        name = next(iter(solved.own))
        model, lowered, array = solved.models[name], solved.lowered[name], solved.own[name]
    rows = tuple(lowered.names.decode_row(r) for r in array.rows.tolist())
    return MatrixResult(model, lowered, array, lowered.names.factor_names, rows, ())


def _multi_report(spec: Spec, solved: "object", matrix: MatrixResult, counts: dict[str, int],
                  time_limit: float) -> dict[str, object]:
    """coverage.json: the cross-table array's report at the top level (so existing readers
    work), each table's own array under ``tables``, and the linked chain."""
    from coverage_gen.expand.multi import MultiSolution
    from coverage_gen.report.coverage import coverage_report

    assert isinstance(solved, MultiSolution)
    report = matrix.report(records=sum(counts.values()), time_limit=time_limit)
    report["multi_table"] = True
    report["across"] = [f"{t}.{f}" for t, f in spec.across]
    report["chain"] = [t for t, _, _ in solved.chain]
    report["table_rows"] = counts
    report["tables"] = {
        name: coverage_report(array, list(solved.lowered[name].names.factor_names),
                              [c.text for c in solved.models[name].constraints],
                              records=counts.get(name, 0), seed=spec.seed, time_limit=time_limit)
        for name, array in solved.own.items()
    }
    return report


def _table_model_for(spec: Spec, data_path: Path) -> CombinatorialModel:
    """The model of the table a data file holds, named by the file (``invoice.csv``)."""
    from coverage_gen.spec.multitable import table_model

    for table in spec.tables:
        if table.name == data_path.stem:
            return table_model(spec, table)
    names = ", ".join(t.name for t in spec.tables)
    raise spec_error(
        "unknown-table", Location(str(data_path)),
        f"{data_path.name} names no table of this multi-table spec (tables: {names}); "
        "name the file after its table, or verify the generated folder (verify OUT_DIR)",
    )


# --------------------------------------------------------------------------- helpers
def _seed_or_none(seed: int | None) -> int | None:
    return None if seed is None else normalise_seed(seed)


def _spec_rows(spec: Spec | None) -> int | None:
    return spec.table.rows if spec is not None else None


def _sample_extra_rows(matrix: MatrixResult, count: int) -> list[tuple[str, ...]]:
    """``count`` further valid rows, drawn by random completion of an empty row."""
    if count == 0:
        return []
    from coverage_gen.engine.oracle import RowOracle

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
    from coverage_gen.engine.explain import describe_rules

    by_index = {c.index: c for c in model.constraints}
    rules = [by_index[i] for i in conflict if i in by_index]
    if not rules:
        loc = Location(model.source)
        return InfeasibleSpecError(
            [Diagnostic("unsatisfiable", loc, "the constraints admit no valid row")]
        )
    listing = "; ".join(describe_rules(conflict, model.constraints))
    count = len(describe_rules(conflict, model.constraints))
    diagnostics = [
        Diagnostic(
            "unsatisfiable",
            rule.loc,
            f"no row can satisfy these {count} rule(s) together: {listing}. "
            "Relax or remove one of them.",
        )
        for rule in rules[:1]
    ]
    return InfeasibleSpecError(diagnostics)


def _solve(model: CombinatorialModel, lowered: Lowered, build_array: Callable[..., CoveringArray],
           *, time_limit: float, progress: ProgressCallback | None) -> CoveringArray:
    """The engine on ``lowered.problem``; with PICT sub-models, hierarchically
    (``cover.submodels``: each sub-model at its strength, then the whole at the main one).
    A problem past the engine's size limit becomes a ``too-large`` spec error at the model."""
    from coverage_gen.engine.tuples import ProblemTooLarge

    try:
        if model.submodels:
            from coverage_gen.engine.submodels import solve_submodels

            return solve_submodels(model, lowered, seed=model.seed, time_limit=time_limit,
                                   progress=progress)
        return build_array(lowered.problem, seed=model.seed, time_limit=time_limit,
                           progress=progress)
    except ProblemTooLarge as exc:
        raise spec_error("too-large", Location(model.source), str(exc)) from None


def _dead_value_warnings(
    model: CombinatorialModel, lowered: Lowered, array: CoveringArray
) -> tuple[Diagnostic, ...]:
    return dead_value_diagnostics(model, lowered, array.dead_values)



# --------------------------------------------------------------------------- diagnostics
EXPLAIN_TIME_LIMIT = 10.0  # seconds of core extraction per report (dead values, --explain)


def dead_value_diagnostics(
    model: CombinatorialModel,
    lowered: Lowered,
    dead_values: Sequence[tuple[int, int]],
    *,
    severity: str = "warning",
    time_limit: float = EXPLAIN_TIME_LIMIT,
) -> tuple[Diagnostic, ...]:
    """One ``dead-value`` diagnostic per value no valid row can hold, located at the value
    and naming a minimal set of rules that kills it (line and text)."""
    if not dead_values:
        return ()
    import time

    from coverage_gen.engine.explain import dead_value_causes, describe_rules

    causes = dead_value_causes(lowered.problem, dead_values, seed=model.seed,
                               deadline=time.monotonic() + time_limit)
    out = []
    for cause in causes:
        factor = model.factors[cause.factor]
        where = factor.value_locs[cause.value] if cause.value < len(factor.value_locs) else factor.loc
        rules = describe_rules(cause.core.rules or (), model.constraints)
        why = "; ".join(rules) if rules else "the rules (no core found in the time limit)"
        if not cause.core.exact:
            why += " (time limit: the set may not be minimal)"
        out.append(Diagnostic(
            "dead-value", where,
            f"value {factor.values[cause.value]!r} of [{factor.name}] can never occur; "
            f"it is excluded by {why}",
            "error" if severity == "error" else "warning",
            ctx={"factor": factor.name, "value": factor.values[cause.value],
                 "rules": list(cause.core.rules or ())},
        ))
    return tuple(out)


def strict_failure(warnings: Sequence[Diagnostic]) -> SpecError | None:
    """``--strict``: the dead-value warnings (``InfeasibleSpecError``) and missing source
    citations (``SpecError``) as errors; None when there are none."""
    dead = [d for d in warnings if d.code == "dead-value"]
    uncited = [d for d in warnings if d.code == "missing-source"]
    if not dead and not uncited:
        return None
    family = InfeasibleSpecError if dead else SpecError
    return family(
        [Diagnostic(d.code, d.loc, d.msg, "error", d.ctx) for d in dead + uncited]
    )


# --------------------------------------------------------------------------- PICT command
@dataclass(frozen=True, slots=True, eq=False)
class PictResult:
    """What ``coverage-gen pict`` prints: PICT's header and rows (negative values carry the
    prefix), warnings (seed rows, dead values), and, on request, the excluded-tuple report."""

    matrix: MatrixResult
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    warnings: tuple[Diagnostic, ...]
    seed: int
    explanation: tuple[str, ...] = ()
    explain_seconds: float = 0.0


def generate_pict(
    source: str | Path,
    *,
    strength: int | str = 2,
    seed: int = 0,
    options: "PictOptions | None" = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    explain: bool = False,
    strict: bool = False,
    explain_time_limit: float = EXPLAIN_TIME_LIMIT,
    progress: ProgressCallback | None = None,
) -> PictResult:
    """PICT's pipeline: read the model with PICT's switches, check seed rows (a row that
    breaks a rule is skipped with a warning naming its line and the rules), solve, spend
    free cells on weighted values, and decode with the negative prefix.

    ``strength`` may be ``"max"`` (every parameter). With ``strict``, dead values raise
    ``InfeasibleSpecError`` instead of warning. With ``explain``, ``PictResult.explanation``
    lists the excluded combinations each with a minimal set of rules.
    """
    import dataclasses
    import time

    from coverage_gen.engine.search import Unsatisfiable, build_array
    from coverage_gen.spec.pict import PictOptions, load_pict

    options = options or PictOptions()
    if time_limit <= 0:
        raise UsageError(f"time limit must be positive, got {time_limit}")
    t = 2 if strength == "max" else int(strength)
    model = load_pict(source, strength=t, seed=normalise_seed(seed), options=options)
    if strength == "max" and len(model.factors) != t:
        model = dataclasses.replace(model, strength=len(model.factors))
        from coverage_gen.spec.check import check_model

        check_model(model)
    lowered = lower_model(model)
    warnings = list(model.notes)
    problem = _checked_seed_rows(model, lowered, warnings, explain_time_limit)
    lowered = Lowered(problem, lowered.names)
    try:
        array = _solve(model, lowered, build_array, time_limit=time_limit, progress=progress)
    except Unsatisfiable as exc:
        raise _infeasible(model, exc.conflict) from None
    rows = _weighted_rows(model, problem, array)
    dead = dead_value_diagnostics(model, lowered, array.dead_values,
                                  time_limit=explain_time_limit)
    if strict and dead:
        failure = strict_failure(dead)
        assert failure is not None
        raise failure
    warnings += dead
    decoded = tuple(lowered.names.decode_row(row) for row in rows.tolist())
    array = dataclasses.replace(array, rows=rows)
    matrix = MatrixResult(model, lowered, array, lowered.names.factor_names, decoded, tuple(warnings))
    shown = tuple(_with_prefix(model, options, row) for row in rows.tolist())
    lines: tuple[str, ...] = ()
    seconds = 0.0
    if explain:
        t0 = time.perf_counter()
        lines = explain_exclusions(model, lowered, array, time_limit=explain_time_limit)
        seconds = time.perf_counter() - t0
    return PictResult(matrix, matrix.header, shown, tuple(warnings), model.seed, lines, seconds)


def _checked_seed_rows(
    model: CombinatorialModel, lowered: Lowered, warnings: list[Diagnostic], time_limit: float
) -> "CoverageProblem":
    """The problem keeping only the seed rows some valid row extends; one warning per
    dropped row naming the seed file line and a minimal set of rules it breaks."""
    import dataclasses
    import time

    from coverage_gen.engine.explain import describe_rules, seed_row_conflicts

    problem = lowered.problem
    if not problem.seed_rows:
        return problem
    from coverage_gen.engine.cpsat import RowModel

    if not RowModel(problem, seed=model.seed).satisfiable():
        return dataclasses.replace(problem, seed_rows=())  # the search reports the conflict
    conflicts = seed_row_conflicts(problem, problem.seed_rows, seed=model.seed,
                                   deadline=time.monotonic() + time_limit)
    bad = {c.row for c in conflicts}
    for conflict in conflicts:
        rules = describe_rules(conflict.core.rules or (), model.constraints)
        seed_row = model.seed_rows[conflict.row]
        warnings.append(Diagnostic(
            "seed-row-violates", seed_row.loc,
            "seed row breaks " + ("; ".join(rules) if rules else "the rules")
            + "; row skipped",
            "warning", ctx={"rules": list(conflict.core.rules or ())},
        ))
    kept = tuple(r for i, r in enumerate(problem.seed_rows) if i not in bad)
    return dataclasses.replace(problem, seed_rows=kept)


def _weighted_rows(model: CombinatorialModel, problem: "CoverageProblem", array: CoveringArray) -> np.ndarray:
    weights = [f.weights for f in model.factors]
    if not any(weights) or model.submodels:  # sub-models: keep their rows as solved
        return array.rows
    from coverage_gen.engine.tuples import index_for
    from coverage_gen.engine.weights import prefer_weights

    return prefer_weights(problem, index_for(problem), array.rows, weights,
                          frozen=len(problem.seed_rows))


def _with_prefix(model: CombinatorialModel, options: "PictOptions", row: Sequence[int]) -> tuple[str, ...]:
    return tuple(
        (options.negative_prefix if f.is_negative(v) else "") + f.values[v]
        for f, v in zip(model.factors, row)
    )


def explain_exclusions(
    model: CombinatorialModel,
    lowered: Lowered,
    array: CoveringArray,
    *,
    time_limit: float = EXPLAIN_TIME_LIMIT,
    limit: int = 200,
) -> tuple[str, ...]:
    """The ``--explain`` report: each excluded combination (a t-tuple, or the smallest part
    of t-tuples that already excludes them) with a minimal set of rules, as text lines."""
    import time

    from coverage_gen.engine.explain import describe_rules, describe_values, excluded_combinations
    from coverage_gen.engine.tuples import index_for

    problem = lowered.problem
    index = index_for(problem)
    coverable = index.covered_mask(array.rows)  # a complete array covers exactly these
    if model.submodels:  # a mixed-strength array need not hold every coverable t-tuple
        from coverage_gen.engine.submodels import coverable_mask

        coverable = coverable_mask(problem, index, array.rows)
    negative = [frozenset(v for v in range(len(f.values)) if f.is_negative(v)) for f in model.factors]
    report = excluded_combinations(problem, index, coverable, array.dead_values, negative,
                                   seed=model.seed, deadline=time.monotonic() + time_limit,
                                   limit=limit)
    t = problem.strength
    lines = [f"excluded {t}-tuples: {report.excluded}"]
    if report.by_dead_value:
        lines.append(f"  {report.by_dead_value} hold a dead value (see the dead-value warnings)")
    if report.by_negative_rule:
        lines.append(f"  {report.by_negative_rule} hold two negative values "
                     "(PICT negative testing: at most one per row)")
    for combo in report.combinations:
        what = describe_values(model, combo.factors, combo.values)
        plural = "tuple" if combo.tuples == 1 else "tuples"
        lines.append(f"excluded: {what} ({combo.tuples} {plural})")
        rules = describe_rules(combo.core.rules or (), model.constraints)
        lines.extend(f"  {r}" for r in rules)
        if combo.core.rules is None:
            lines.append("  (undecided within the time limit)")
        elif not combo.core.exact:
            lines.append("  (time limit: the set may not be minimal)")
    if report.unexplained:
        lines.append(f"{report.unexplained} excluded tuples not explained "
                     f"(time limit {time_limit:g}s or {limit} combinations listed)")
    lines.append(f"analysis: {'complete' if report.complete else 'bounded by the time limit'}")
    return tuple(lines)
