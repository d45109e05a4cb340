"""Command line: parse arguments, call ``api``, render results, map errors to exit codes.

Data goes to files or stdout; logs, progress and diagnostics go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from coverage_gen import api
from coverage_gen.errors import (
    CoverageGenError,
    Diagnostic,
    InfeasibleSpecError,
    SinkError,
    SpecError,
    UsageError,
)

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_INFEASIBLE = 4
EXIT_INTERNAL = 5


def _fail(exc: CoverageGenError) -> NoReturn:
    """Render a library error on stderr and exit with its family's code."""
    if isinstance(exc, SpecError):
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)  # "file:line:col (path): error: ..."
        if not exc.diagnostics:
            click.echo(f"error: {exc}", err=True)
        code = EXIT_INFEASIBLE if isinstance(exc, InfeasibleSpecError) else EXIT_BAD_INPUT
    elif isinstance(exc, UsageError):
        click.echo(f"error: {exc}", err=True)
        code = EXIT_USAGE
    else:
        kind = "could not write output" if isinstance(exc, SinkError) else "internal error"
        click.echo(f"error: {kind}: {exc}", err=True)
        code = EXIT_INTERNAL
    sys.exit(code)


class _Progress:
    """One self-overwriting status line on a TTY; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, phase: str, rows: int, lower: int, elapsed: float) -> None:
        if not self.enabled:
            return
        line = f"{phase:<12} {rows:>7} rows  lower bound {lower:>7}  {elapsed:7.1f}s"
        click.echo("\r" + line, nl=False, err=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def _progress(quiet: bool) -> _Progress:
    return _Progress(enabled=not quiet and sys.stderr.isatty())


def _as_warning(warning: object) -> str:
    """A Diagnostic already says "warning:"; anything else gets the prefix."""
    return str(warning) if isinstance(warning, Diagnostic) else f"warning: {warning}"


class _Group(click.Group):
    """Maps an interrupt to one line and exit 130; partial output was already removed."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: no output was written", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="coverage-gen")
def main() -> None:
    """coverage-gen: minimal t-wise covering arrays, expanded into test records."""


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the records and coverage.json. Without it the rows go to stdout.")
@click.option("-t", "--strength", type=click.IntRange(min=1), help="Cover every combination of this many fields (default: the spec's, else 2).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the spec's, else 0).")
@click.option("--rows", type=click.IntRange(min=1), help="Records to produce; beyond the covering rows, further valid rows are sampled.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=api.DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds the engine may spend shrinking the array.")
@click.option("--format", "formats", default="csv,jsonl", show_default=True,
              help="Comma-separated output formats for -o: csv, tsv, jsonl, parquet, sqlite, duckdb.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
@click.option("--strict", is_flag=True, help="Dead values (values no row can hold) and missing source citations are errors; nothing is written.")
def generate(
    source: Path,
    out_dir: Path | None,
    strength: int | None,
    seed: int | None,
    rows: int | None,
    time_limit: float,
    formats: str,
    quiet: bool,
    strict: bool = False,
) -> None:
    """Build a covering array from SOURCE (a YAML spec or a PICT model) and its records.

    With -o, writes one file per format plus coverage.json into the folder. Without -o,
    prints a PICT model's matrix as tab-separated text (header row first), or a spec's
    records as CSV, on stdout.
    """
    progress = _progress(quiet)
    format_list = [f.strip() for f in formats.split(",") if f.strip()]
    try:
        api.check_output_options(out_dir, format_list)
        result = api.generate(
            source,
            None if strict else out_dir,  # strict: check before anything is written
            strength=strength,
            seed=seed,
            rows=rows,
            time_limit=time_limit,
            formats=format_list,
            progress=progress,
        )
        failure = api.strict_failure(result.matrix.warnings) if strict else None
        if failure is not None:
            raise failure
        if strict and out_dir is not None:
            files = api.write_outputs(result, out_dir, formats=format_list)
            result = api.GenerationResult(result.matrix, result.spec, result.columns,
                                          result.records, files, result.report)
    except CoverageGenError as exc:
        progress.close()
        _fail(exc)
    progress.close()
    _echo_warnings(result.matrix.warnings, quiet)
    if out_dir is None:
        _print_rows(result, tab=result.spec is None)
    if not quiet:
        from coverage_gen.report.coverage import render_text

        click.echo(render_text(result.report), err=True)
        for name, path in result.files.items():
            click.echo(f"wrote {name}: {path}", err=True)


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-t", "--strength", type=click.IntRange(min=1), help="Strength to check (default: the model's, else 2).")
@click.option("--max-missing", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many missing tuples to list.")
def verify(model: Path, data: Path | None, strength: int | None, max_missing: int) -> None:
    """Check DATA (CSV/TSV) against MODEL independently: every feasible t-tuple of values
    must appear and no row may break a rule. Exits 1 when anything is missing or violated.

    With one folder argument (`coverage-gen verify OUT_DIR`), re-check the whole contract
    written there: file hashes and row counts, unique keys, rules, coverage and leakage."""
    if data is None:
        if not model.is_dir():
            raise click.UsageError("give MODEL DATA, or one generated folder (OUT_DIR)")
        try:
            folder = api.verify_folder(model)
        except CoverageGenError as exc:
            _fail(exc)
        click.echo(folder.render())
        sys.exit(EXIT_OK if folder.ok else EXIT_VERIFY_FAILED)
    try:
        result = api.verify_file(model, data, strength=strength, max_missing=max_missing)
    except CoverageGenError as exc:
        _fail(exc)
    click.echo(result.render())
    sys.exit(EXIT_OK if result.ok else EXIT_VERIFY_FAILED)


def _echo_warnings(warnings: tuple[object, ...], quiet: bool) -> None:
    if quiet:
        return
    for warning in warnings:
        click.echo(_as_warning(warning), err=True)


def _print_rows(result: api.GenerationResult, *, tab: bool) -> None:
    import csv

    if tab:
        out = sys.stdout
        for row in (result.columns, *result.records):
            out.write("\t".join(row) + "\n")
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows(result.records)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["github", "json"]), default="github", show_default=True,
              help='github: {"include": [...]} for strategy.matrix; json: a plain list of objects.')
@click.option("-t", "--strength", type=click.IntRange(min=1), help="Cover every combination of this many fields (default: the model's, else 2).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the model's, else 0).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=api.DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds the engine may spend shrinking the array.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or warnings on stderr.")
def matrix(model: Path, fmt: str, strength: int | None, seed: int | None, time_limit: float, quiet: bool) -> None:
    """Print MODEL's covering rows as a CI matrix, as JSON on ONE line, so that
    `echo "matrix=$(coverage-gen matrix MODEL)" >> "$GITHUB_OUTPUT"` works and a job can
    use `strategy: {matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}}`."""
    import json

    from coverage_gen.library import ci_matrix

    progress = _progress(quiet)
    try:
        entries = ci_matrix(model, strength=strength, seed=seed, time_limit=time_limit)
    except CoverageGenError as exc:
        progress.close()
        _fail(exc)
    progress.close()
    payload: object = {"include": entries} if fmt == "github" else entries
    click.echo(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


@main.command()
@click.argument("samples", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the drafted spec. Without it the spec goes to stdout.")
@click.option("--max-values", type=click.IntRange(min=2), default=12, show_default=True,
              help="Largest vocabulary of a covering field (observed plus values added from standards).")
@click.option("-t", "--strength", type=click.IntRange(min=1), default=2, show_default=True, help="Strength written into the spec.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed written into the spec.")
def infer(samples: tuple[Path, ...], out_path: Path | None, max_values: int, strength: int, seed: int) -> None:
    """Draft a commented YAML spec from one or more CSV SAMPLES (the first file is the table;
    further files are drafted commented out, with key and foreign-key proposals)."""
    from coverage_gen.infer import infer_spec

    try:
        result = infer_spec(list(samples), max_values=max_values, strength=strength, seed=seed)
    except CoverageGenError as exc:
        _fail(exc)
    for table in result.tables:
        for note in table.notes:
            click.echo(f"note: {table.sample.source}: {note}", err=True)
    if out_path is None:
        sys.stdout.write(result.text)
        return
    out_path.write_text(result.text, encoding="utf-8")
    click.echo(f"wrote spec: {out_path}", err=True)


# --------------------------------------------------------------------------- pict
PICT_USAGE = (
    "usage: coverage-gen pict MODEL [/o:N|max] [/d:C] [/a:C] [/n:C] [/e:file] [/r[:N]] [/c]\n"
    "  /o:N|max  order of combinations (default 2)\n"
    "  /d:C      separator for values (default ,)\n"
    "  /a:C      separator for aliases (default |)\n"
    "  /n:C      negative value prefix (default ~)\n"
    "  /e:file   file with seeding rows\n"
    "  /r[:N]    randomize generation, N = seed\n"
    "  /c        case-sensitive model evaluation"
)


def _pict_switches(switches: tuple[str, ...]) -> dict[str, object]:
    """PICT's ``/x[:value]`` switches (``-x`` works too) → keyword values; UsageError when
    a switch is unknown, repeated, or its value is malformed."""
    out: dict[str, object] = {}
    for raw in switches:
        if len(raw) < 2 or raw[0] not in "/-":
            raise UsageError(f"unexpected argument {raw!r} (one model file, then /switches)")
        key, sep, value = raw[1:].partition(":")
        key = key.lower()
        if key in out:
            raise UsageError(f"switch /{key} given twice")
        if key == "o":
            if value.lower() == "max":
                out[key] = "max"
            elif value.isdigit() and int(value) >= 1:
                out[key] = int(value)
            else:
                raise UsageError(f"/o needs a positive number or 'max', got {raw!r}")
        elif key in ("d", "a", "n"):
            if len(value) != 1:
                raise UsageError(f"/{key} needs exactly one character, got {raw!r}")
            out[key] = value
        elif key == "e":
            if not value:
                raise UsageError("/e needs a file: /e:seedfile")
            out[key] = value
        elif key == "r":
            if sep and not value.isdigit():
                raise UsageError(f"/r takes a non-negative number as seed, got {raw!r}")
            out[key] = int(value) if sep else None
        elif key == "c":
            if sep:
                raise UsageError("/c takes no value")
            out[key] = True
        else:
            raise UsageError(f"unknown switch {raw!r}")
    if out.get("d") is not None and out.get("d") == out.get("a"):
        raise UsageError("the value separator (/d) and the alias separator (/a) must differ")
    return out


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("switches", nargs=-1, type=click.UNPROCESSED)
@click.option("--strict", is_flag=True, help="Dead values (values no row can hold) are errors.")
@click.option("--explain", is_flag=True, help="List the excluded tuples, each with the rules that exclude it, on stderr.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=api.DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds the engine may spend shrinking the array.")
@click.option("--explain-time-limit", type=click.FloatRange(min=0, min_open=True), default=api.EXPLAIN_TIME_LIMIT,
              show_default=True, help="Seconds for explaining dead values, seed rows and excluded tuples.")
def pict(model: Path, switches: tuple[str, ...], strict: bool, explain: bool, time_limit: float,
         explain_time_limit: float) -> None:
    """PICT-compatible: read MODEL with PICT's switches and print PICT's output (a header row,
    then one tab-separated test case per line) on stdout; warnings go to stderr."""
    import random

    from coverage_gen.spec.pict import PictOptions

    try:
        opts = _pict_switches(switches)
    except UsageError as exc:
        click.echo(f"error: {exc}\n{PICT_USAGE}", err=True)
        sys.exit(EXIT_USAGE)
    seed = 0
    if "r" in opts:
        seed = opts["r"] if opts["r"] is not None else random.SystemRandom().randrange(2**31)  # type: ignore[assignment]
        click.echo(f"Used seed: {seed}", err=True)
    options = PictOptions(
        case_sensitive=bool(opts.get("c", False)),
        value_separator=str(opts.get("d", ",")),
        alias_separator=str(opts.get("a", "|")),
        negative_prefix=str(opts.get("n", "~")),
        seed_file=opts.get("e"),  # type: ignore[arg-type]
    )
    try:
        result = api.generate_pict(
            model, strength=opts.get("o", 2), seed=int(seed), options=options,  # type: ignore[arg-type]
            time_limit=time_limit, explain=explain, strict=strict,
            explain_time_limit=explain_time_limit,
        )
    except CoverageGenError as exc:
        _fail(exc)
    for warning in result.warnings:
        click.echo(_as_warning(warning), err=True)
    out = sys.stdout
    for row in (result.header, *result.rows):
        out.write("\t".join(row) + "\n")
    for line in result.explanation:
        click.echo(line, err=True)
    if explain:
        click.echo(f"explain: {result.explain_seconds:.2f}s", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
