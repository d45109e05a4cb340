"""Record throughput: vendor / invoice / payment rows written to Parquet, ours versus peers.

Every measurement runs in its own subprocess, so ``ru_maxrss`` is the peak resident memory
of that run alone. Rows per second count every row of every table (vendors + invoices +
payments) over the wall time from the first generated value to the closed files.

Generators:

* ``ours``  -- column-wise batches into ``coverage_gen.sinks.open_dataset("parquet", ...)``.
  With ``--generator synthetic`` (the default until ``coverage_gen.expand.multi`` lands)
  the batches come from a numpy generator in this file (vocabulary and pool look-ups,
  unique invoice numbers), so the number measures the sink path plus cheap generation.
* ``faker`` -- a Faker call per field per row (vendor company, invoice number, decimal
  amount, currency, dates), rows transposed into the same Parquet sink every 10,000 rows.
* ``snowfakery`` -- ``benchmarks/snowfakery_invoices.yml`` through Snowfakery's own
  ``generate_data`` to CSV (Snowfakery has no Parquet output).

Shape: one vendor per 100 invoices, one payment per invoice; invoice -> vendor and
payment -> invoice are foreign keys, and parents are written before children.

Usage::

    python benchmarks/bench_expand.py                      # 1M and 10M ours, peers at 100k / 10k
    python benchmarks/bench_expand.py --invoices 1000000 --peers none
    python benchmarks/bench_expand.py --out benchmarks/RESULTS.md   # (re)writes "## Record throughput"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RECIPE = HERE / "snowfakery_invoices.yml"
SPEC = HERE / "invoices_spec.yaml"
SECTION = "## Record throughput"
INVOICES_PER_VENDOR = 100
BATCH = 100_000

Batch = tuple[str, dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# schema (the generator contract, expand/schema.py)
# ---------------------------------------------------------------------------------------------


def schemas() -> list[Any]:
    from coverage_gen.expand.schema import ColumnSchema as C
    from coverage_gen.expand.schema import ForeignKey, TableSchema

    vendor = TableSchema("vendor", (
        C("vendor_id", "integer", primary_key=True), C("name", "text"), C("country", "text"),
        C("since", "date"),
    ))
    invoice = TableSchema("invoice", (
        C("invoice_id", "integer", primary_key=True), C("vendor_id", "integer"),
        C("number", "text"), C("amount", "decimal"), C("currency", "text"), C("issued", "date"),
        C("status", "text"),
    ), (ForeignKey("vendor_id", "vendor", "vendor_id"),))
    payment = TableSchema("payment", (
        C("payment_id", "integer", primary_key=True), C("invoice_id", "integer"),
        C("paid", "date"), C("amount", "decimal"), C("method", "text"),
    ), (ForeignKey("invoice_id", "invoice", "invoice_id"),))
    return [vendor, invoice, payment]


# ---------------------------------------------------------------------------------------------
# generators
# ---------------------------------------------------------------------------------------------


def synthetic_batches(invoices: int, batch: int, seed: int = 0) -> Iterator[Batch]:
    """Column-wise numpy batches of the benchmark shape, parents first."""
    rng = np.random.default_rng(seed)
    vendors = max(1, invoices // INVOICES_PER_VENDOR)
    start = date(2015, 1, 1)
    dates = np.array([(start + timedelta(days=i)).isoformat() for i in range(3650)], dtype=object)
    amounts = np.array([f"{c // 100}.{c % 100:02d}" for c in rng.integers(1, 10_000_000, 50_000)],
                       dtype=object)
    countries = np.array(["DE", "FR", "US", "GB", "JP", "BR", "IN", "CH", "NL", "SE"], dtype=object)
    currencies = np.array(["EUR", "USD", "GBP", "JPY", "CHF"], dtype=object)
    statuses = np.array(["open", "paid", "void", "disputed"], dtype=object)
    methods = np.array(["card", "wire", "cash", "cheque"], dtype=object)

    def pick(pool: np.ndarray, n: int) -> list[Any]:
        result: list[Any] = pool[rng.integers(0, len(pool), n)].tolist()
        return result

    for lo in range(0, vendors, batch):
        ids = np.arange(lo + 1, min(vendors, lo + batch) + 1, dtype=np.int64)
        yield "vendor", {
            "vendor_id": ids, "name": [f"Vendor {i}" for i in ids.tolist()],
            "country": pick(countries, len(ids)), "since": pick(dates, len(ids)),
        }
    for lo in range(0, invoices, batch):
        ids = np.arange(lo + 1, min(invoices, lo + batch) + 1, dtype=np.int64)
        yield "invoice", {
            "invoice_id": ids, "vendor_id": rng.integers(1, vendors + 1, len(ids), dtype=np.int64),
            "number": [f"INV-{i:09d}" for i in ids.tolist()], "amount": pick(amounts, len(ids)),
            "currency": pick(currencies, len(ids)), "issued": pick(dates, len(ids)),
            "status": pick(statuses, len(ids)),
        }
    for lo in range(0, invoices, batch):
        ids = np.arange(lo + 1, min(invoices, lo + batch) + 1, dtype=np.int64)
        yield "payment", {
            "payment_id": ids, "invoice_id": rng.permutation(ids),
            "paid": pick(dates, len(ids)), "amount": pick(amounts, len(ids)),
            "method": pick(methods, len(ids)),
        }


def multi_batches(invoices: int, batch: int, seed: int = 0) -> Iterator[Batch]:
    """The real generator: ``benchmarks/invoices_spec.yaml`` through ``expand.multi``.

    Parsing and solving the covering arrays happen before the first batch is requested,
    outside the timed region; ``worker`` reports that time as ``setup_seconds``.
    """
    from coverage_gen.expand.multi import iter_batches, solve_tables
    from coverage_gen.spec.parse import parse_spec

    vendors = max(1, invoices // INVOICES_PER_VENDOR)
    text = SPEC.read_text(encoding="utf-8").replace("VENDORS", str(vendors))
    spec = parse_spec(text, file=str(SPEC))
    solution = solve_tables(spec, time_limit=2.0)
    yield "__ready__", {}
    yield from iter_batches(spec, solution.lowered, solution.arrays, linked=solution.linked,
                            seed=seed, chunk_rows=batch)


def faker_batches(invoices: int, batch: int, seed: int = 0) -> Iterator[Batch]:
    """A Faker call per field per row, collected into column batches of ``batch`` rows."""
    from faker import Faker

    fake = Faker()
    Faker.seed(seed)
    vendors = max(1, invoices // INVOICES_PER_VENDOR)

    def amount() -> str:
        return str(fake.pydecimal(left_digits=5, right_digits=2, positive=True))

    def chunks(table: str, n: int, row: Any) -> Iterator[Batch]:
        for lo in range(0, n, batch):
            rows = [row(i) for i in range(lo + 1, min(n, lo + batch) + 1)]
            names = list(rows[0])
            yield table, {k: [r[k] for r in rows] for k in names}

    yield from chunks("vendor", vendors, lambda i: {
        "vendor_id": i, "name": fake.company(), "country": fake.country_code(),
        "since": fake.date(),
    })
    yield from chunks("invoice", invoices, lambda i: {
        "invoice_id": i, "vendor_id": fake.random_int(1, vendors),
        "number": fake.bothify("INV-#########"), "amount": amount(),
        "currency": fake.currency_code(), "issued": fake.date(),
        "status": fake.random_element(("open", "paid", "void", "disputed")),
    })
    yield from chunks("payment", invoices, lambda i: {
        "payment_id": i, "invoice_id": i, "paid": fake.date(), "amount": amount(),
        "method": fake.random_element(("card", "wire", "cash", "cheque")),
    })


# ---------------------------------------------------------------------------------------------
# one measurement (runs in a subprocess)
# ---------------------------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(kind: str, invoices: int, out_dir: Path, batch: int, generator: str) -> dict[str, Any]:
    from coverage_gen.sinks import open_dataset

    if kind == "snowfakery":
        from snowfakery import generate_data

        rss_before = _rss_mib()
        t0 = time.perf_counter()
        generate_data(
            str(RECIPE), output_format="csv", output_folder=str(out_dir),
            user_options={"invoices": str(invoices),
                          "vendors": str(max(1, invoices // INVOICES_PER_VENDOR))},
        )
        seconds = time.perf_counter() - t0
        rows = sum(sum(1 for _ in open(out_dir / f"{t}.csv", encoding="utf-8")) - 1
                   for t in ("vendor", "invoice", "payment"))
        sink = "csv (Snowfakery's own writer)"
        setup_seconds = 0.0
    else:
        gen = {"synthetic": synthetic_batches, "multi": multi_batches}[generator]
        source = faker_batches if kind == "faker" else gen
        import pyarrow  # noqa: F401  # import cost outside the timed region, as for Snowfakery

        batches = source(invoices, batch)
        setup = time.perf_counter()
        if generator == "multi" and kind == "ours":
            next(batches)  # parse + solve, not timed
        setup_seconds = time.perf_counter() - setup
        rss_before = _rss_mib()
        t0 = time.perf_counter()
        with open_dataset("parquet", out_dir, schemas()) as ds:
            for table, columns in batches:
                ds.write_batch(table, columns)
        seconds = time.perf_counter() - t0
        rows = sum(ds.rows_written.values())
        sink = "parquet (coverage_gen.sinks)"
    size = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    return {
        "kind": kind, "generator": generator if kind == "ours" else kind, "invoices": invoices,
        "rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds),
        "peak_rss_mib": round(_rss_mib(), 1), "rss_after_imports_mib": round(rss_before, 1),
        "bytes": size, "sink": sink, "batch": batch,
        "setup_seconds": round(setup_seconds, 1),
    }


def measure(kind: str, invoices: int, batch: int, generator: str, timeout: float) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix=f"bench_expand_{kind}_"))
    cmd = [sys.executable, __file__, "--worker", kind, "--invoices", str(invoices),
           "--batch", str(batch), "--generator", generator, "--dir", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "invoices": invoices, "error": f"timed out after {timeout:.0f} s"}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return {"kind": kind, "invoices": invoices, "error": tail[0]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for name in ("numpy", "pyarrow", "Faker", "snowfakery"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    return " · ".join(parts)


def render(results: list[dict[str, Any]], command: str, target: float) -> str:
    lines = [
        SECTION, "",
        f"Command: `{command}`", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · machine: nproc "
        f"{os.cpu_count()} · {_versions()} · load average {os.getloadavg()[0]:.1f} at the end "
        "(shared machine; timings are noisy)", "",
        "Shape: vendor (1 per 100 invoices) → invoice → payment (1 per invoice), FKs declared, "
        "parents first; rows/s counts the rows of all three tables over wall time from the first "
        "generated value to the closed, fsynced files. Peak memory is `ru_maxrss` of a "
        "subprocess per run.", "",
        "| generator → sink | invoices | rows | seconds | rows/s | peak RSS MiB "
        "(after imports) | output MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        label = {"ours": f"ours ({r.get('generator', '?')}) → parquet",
                 "faker": "Faker per row → our parquet sink",
                 "snowfakery": "Snowfakery recipe → its CSV writer"}[r["kind"]]
        if "error" in r:
            lines.append(f"| {label} | {r['invoices']:,} | – | – | – | – | failed: {r['error']} |")
            continue
        lines.append(
            f"| {label} | {r['invoices']:,} | {r['rows']:,} | {r['seconds']:.2f} | "
            f"**{r['rows_per_s']:,}** | {r['peak_rss_mib']:.0f} ({r['rss_after_imports_mib']:.0f}) "
            f"| {r['bytes'] / 1e6:.0f} |"
        )
    lines += ["", *_summary(results, target), ""]
    return "\n".join(lines)


def _summary(results: list[dict[str, Any]], target: float) -> list[str]:
    ok = [r for r in results if "error" not in r]
    out: list[str] = []
    all_ours = [r for r in ok if r["kind"] == "ours"]
    for gen in dict.fromkeys(r["generator"] for r in all_ours):
        ours = sorted((r for r in all_ours if r["generator"] == gen), key=lambda r: r["invoices"])
        worst = min(r["rows_per_s"] for r in ours)
        verdict = "met" if worst >= target else "NOT met"
        out.append(f"- ours ({gen}): target ≥ {target:,.0f} rows/s: slowest run {worst:,} rows/s"
                   f" → **{verdict}**")
        if len(ours) >= 2:
            a, b = ours[0], ours[-1]
            growth = b["peak_rss_mib"] - a["peak_rss_mib"]
            flat = "flat" if abs(growth) <= max(64.0, 0.15 * a["peak_rss_mib"]) else "NOT flat"
            out.append(f"- ours ({gen}): memory {a['invoices']:,} → {b['invoices']:,} invoices: "
                       f"peak RSS {a['peak_rss_mib']:.0f} → {b['peak_rss_mib']:.0f} MiB "
                       f"({growth:+.0f}) → **{flat}**")
        if gen == "multi":
            setup = ", ".join(f"{r['setup_seconds']:.1f} s" for r in ours)
            out.append("- ours (multi): `benchmarks/invoices_spec.yaml` through "
                       "`expand.multi.solve_tables` + `iter_batches`; parse + solve "
                       f"({setup}) is outside the timed region.")
        if gen == "synthetic":
            out.append("- ours (synthetic): **sink-path numbers** -- batches from the column-wise "
                       "numpy generator in `bench_expand.py` (vocabulary/pool look-ups, unique "
                       "invoice numbers), not from the spec-driven generator.")
    base = min(all_ours, key=lambda r: r["invoices"]) if all_ours else None
    for peer in ("faker", "snowfakery"):
        runs = [r for r in ok if r["kind"] == peer]
        if runs and base:
            r = runs[-1]
            t = base["rows"] * r["seconds"] / r["rows"]
            out.append(
                f"- {peer}: measured at {r['invoices']:,} invoices; linear extrapolation to "
                f"{base['invoices']:,} invoices ≈ {t / 60:.1f} min (ours ({base['generator']}): "
                f"{base['seconds']:.1f} s). Extrapolated, not measured.")
    return out


def splice(path: Path, section: str) -> None:
    """Replace (or append) the ``## Record throughput`` section, leaving the rest alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else "\n" + text[end + 1:])
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, action="append",
                    help="invoices for our runs (repeatable; default 1M and 10M)")
    ap.add_argument("--peer-invoices", type=int, default=100_000, help="invoices for Faker")
    ap.add_argument("--snowfakery-invoices", type=int, default=10_000)
    ap.add_argument("--peers", default="faker,snowfakery", help="'none' or a comma list")
    ap.add_argument("--generator", choices=("synthetic", "multi"), action="append",
                    help="our batch source (repeatable; default synthetic)")
    ap.add_argument("--batch", type=int, default=BATCH, help="rows per batch (and row group)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--target", type=float, default=500_000)
    ap.add_argument("--out", type=Path, help="Markdown file to splice the section into")
    ap.add_argument("--worker", choices=("ours", "faker", "snowfakery"), help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        n = (args.invoices or [1_000_000])[0]
        gen = (args.generator or ["synthetic"])[0]
        print(json.dumps(worker(args.worker, n, args.dir, args.batch, gen)))
        return

    generators = args.generator or ["synthetic"]
    runs = [("ours", n, g) for g in generators for n in (args.invoices or [1_000_000, 10_000_000])]
    peers = [] if args.peers == "none" else args.peers.split(",")
    if "faker" in peers:
        runs.append(("faker", args.peer_invoices, "synthetic"))
    if "snowfakery" in peers:
        runs.append(("snowfakery", args.snowfakery_invoices, "synthetic"))
    results = []
    for kind, n, gen in runs:
        r = measure(kind, n, args.batch, gen, args.timeout)
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    command = "python benchmarks/bench_expand.py " + " ".join(sys.argv[1:])
    section = render(results, command.strip(), args.target)
    print(section)
    if args.out:
        splice(args.out, section)


if __name__ == "__main__":
    main()
