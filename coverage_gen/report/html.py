"""``report.html``: the contract for people, with charts embedded as base64 PNGs.

Two kinds of chart (matplotlib, Agg backend, no pyplot state):

* coverage growth: the share of feasible t-tuples (t = 1..3) covered by the first n rows, as
  n grows; counted here over the output rows, with the feasible totals from the independent
  checker;
* marginals: for each generated numeric field (integer, decimal, log-normal) a histogram of
  the output against the declared shape's density.

matplotlib is optional (``pip install 'coverage-gen[report]'``): without it the page still has
every table and the growth numbers, and says how to get the charts.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from collections.abc import Mapping, Sequence

from coverage_gen.spec.model import DecimalRange, IntegerRange, LogNormal, Spec
from coverage_gen.verify.checker import check_rows

__all__ = ["MATPLOTLIB_HINT", "growth_curves", "have_matplotlib", "render_html", "render_html_multi"]

MAX_T = 3
MATPLOTLIB_HINT = "charts need matplotlib: pip install 'coverage-gen[report]'"


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- counting
def growth_curves(spec: Spec, header: Sequence[str], rows: Sequence[Sequence[str]]) -> dict[int, tuple[list[int], int]]:
    """For t = 1..min(3, factors): (tuples covered after each row, feasible tuples).

    Our own counting over the rows; the feasible totals come from the independent checker.
    """
    model = spec.combinatorial_model()
    names = [f.name for f in model.factors]
    if not names or any(n not in header for n in names):
        return {}
    cols = [list(header).index(n) for n in names]
    cells = [tuple(r[c] if c < len(r) else "" for c in cols) for r in rows]
    out: dict[int, tuple[list[int], int]] = {}
    for t in range(1, min(MAX_T, len(names)) + 1):
        combos = list(itertools.combinations(range(len(names)), t))
        seen: set[tuple[int, tuple[str, ...]]] = set()
        counts = []
        for row in cells:
            for k, combo in enumerate(combos):
                seen.add((k, tuple(row[f] for f in combo)))
            counts.append(len(seen))
        feasible = check_rows(model, list(header), [list(r) for r in rows], strength=t, max_missing=0).feasible_tuples
        out[t] = (counts, feasible)
    return out


def _numeric_columns(spec: Spec, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[tuple[str, object, list[float]]]:
    out = []
    for f in spec.table.fields:
        if not isinstance(f.shape, (IntegerRange, DecimalRange, LogNormal)) or f.name not in header:
            continue
        j = list(header).index(f.name)
        values = []
        for r in rows:
            try:
                values.append(float(r[j]))
            except (ValueError, IndexError):
                continue
        if values:
            out.append((f.name, f.shape, values))
    return out


# --------------------------------------------------------------------------- charts
def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _growth_png(curves: Mapping[int, tuple[list[int], int]], strength: int) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for t, (counts, feasible) in sorted(curves.items()):
        share = [c / feasible if feasible else 1.0 for c in counts]
        style = "-" if t == strength else "--"
        ax.plot(range(1, len(share) + 1), share, style, label=f"t = {t} ({feasible} feasible)")
    ax.set_xlabel("rows")
    ax.set_ylabel("share of feasible t-tuples covered")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Coverage growth")
    fig.tight_layout()
    return _png(fig)


def _declared_density(shape: object, lo: float, hi: float) -> tuple[list[float], list[float], str]:
    if isinstance(shape, IntegerRange):
        d = 1.0 / (shape.max - shape.min + 1)
        return [shape.min, shape.max], [d, d], f"declared uniform {shape.min}..{shape.max}"
    if isinstance(shape, DecimalRange):
        a, b = float(shape.min), float(shape.max)
        d = 1.0 / (b - a) if b > a else 0.0
        return [a, b], [d, d], f"declared uniform {shape.min}..{shape.max}"
    assert isinstance(shape, LogNormal)
    mu, sigma = math.log(float(shape.median)), shape.sigma
    start = max(lo, 1e-9)
    xs = [start * (hi / start) ** (i / 200) for i in range(201)]  # even on a log axis too
    ys = [math.exp(-((math.log(x) - mu) ** 2) / (2 * sigma**2)) / (x * sigma * math.sqrt(2 * math.pi)) for x in xs]
    return xs, ys, f"declared log-normal (median {shape.median}, sigma {sigma}; before clipping)"


def _marginal_png(name: str, shape: object, values: list[float]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    lo, hi = min(values), max(values)
    log_axis = isinstance(shape, LogNormal) and lo > 0 and hi / lo > 100
    if log_axis:
        edges = [lo * (hi / lo) ** (i / 30) for i in range(31)]
        ax.set_xscale("log")
    else:
        edges = 30  # type: ignore[assignment]
    ax.hist(values, bins=edges, density=True, alpha=0.6, label=f"output ({len(values)} records)")
    xs, ys, label = _declared_density(shape, lo, hi)
    ax.plot(xs, ys, "r-", label=label)
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    ax.legend(loc="upper right", fontsize="small")
    ax.set_title(f"Marginal of {name}")
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- page
_STYLE = """body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;font-size:.9rem}img{max-width:100%}.note{background:#fff3cd;padding:.5rem}"""


def render_html(spec: Spec, header: Sequence[str], rows: Sequence[Sequence[str]], contract: Mapping[str, object]) -> str:
    """The whole page as text (UTF-8, self-contained: no external files or scripts)."""
    e = html.escape
    c: dict = dict(contract)  # type: ignore[type-arg]
    name = c["identity"]["spec"]["name"] or "spec"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Data contract: {e(name)}</title>",
             f"<style>{_STYLE}</style></head><body>", f"<h1>Data contract: {e(name)}</h1>"]  # fmt: skip
    purpose = c["purpose"]
    if purpose.get("declared"):
        parts.append(f"<p>{e(purpose['purpose'])}</p><ul>")
        parts += [f"<li>appropriate for: {e(x)}</li>" for x in purpose["appropriate_for"]]
        parts += [f"<li><b>not</b> appropriate for: {e(x)}</li>" for x in purpose["not_appropriate_for"]]
        parts.append("</ul>")
    parts.append("<h2>Limits the tool knows</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in c["limits"]["known"]) + "</ul>")
    parts += _certificate_html(c["coverage"])
    curves = growth_curves(spec, header, rows)
    numeric = _numeric_columns(spec, header, rows)
    parts.append("<h2>Coverage growth</h2>")
    if have_matplotlib():
        if curves:
            parts.append(f"<img id='growth' alt='coverage growth' src='data:image/png;base64,{_growth_png(curves, spec.strength)}'>")
        parts.append("<h2>Marginals of numeric fields</h2>")
        for field, shape, values in numeric:
            png = _marginal_png(field, shape, values)
            parts.append(f"<img class='marginal' alt='marginal of {e(field)}' src='data:image/png;base64,{png}'>")
    else:
        parts.append(f"<p class='note' id='no-charts'>{e(MATPLOTLIB_HINT)}</p>")
    parts.append(_growth_table(curves))
    parts.append(_table(["field", "shape", "generated", "source", "kind"],
                        [[p["field"], p["shape"], p["generated"], p["source"] or "none", p["source_kind"] or ""]
                         for p in c["provenance"]], "Provenance"))  # fmt: skip
    parts.append(_table(["rule", "line", "source", "enforced", "violations"],
                        [[r["rule"], r["line"], r["source"] or "none", r["enforced"], r["violations"]]
                         for r in c["rules"]], "Rules"))  # fmt: skip
    parts.append(_table(["file", "rows", "sha256"], [[o["file"], o["rows"], o["sha256"]] for o in c["outputs"]], "Files"))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _certificate_html(cov: dict) -> list[str]:  # type: ignore[type-arg]
    rows = [["strength", cov["strength"]], ["feasible tuples", cov["feasible_tuples"]], ["covered", cov["covered"]],
            ["excluded by constraints", cov["excluded"]], ["rows", cov["rows"]], ["records", cov["records"]],
            ["lower bound", f"{cov['lower_bound']} ({cov['lower_bound_reason']})"], ["status", cov["status"]]]  # fmt: skip
    return [_table(["", ""], rows, "Coverage certificate")]


def _growth_table(curves: Mapping[int, tuple[list[int], int]]) -> str:
    rows = []
    for t, (counts, feasible) in sorted(curves.items()):
        half = next((i + 1 for i, n in enumerate(counts) if feasible and n / feasible >= 0.5), None)
        rows.append([t, feasible, counts[-1] if counts else 0, half])
    return _table(["t", "feasible", "covered by all rows", "rows to reach 50%"], rows, "Coverage growth (numbers)")


def _table(head: list[str], rows: list[list[object]], title: str) -> str:
    e = html.escape
    out = [f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in r) + "</tr>" for r in rows]
    return "".join(out) + "</table>"


# --------------------------------------------------------------------------- multi-table
def render_html_multi(spec: Spec, data: Mapping[str, tuple[list[str], list[list[str]]]],
                      contract: Mapping[str, object]) -> str:
    """The page of a multi-table contract: the cross-table certificate, then per table its
    certificate, coverage growth, marginals, keys and rules; ``data`` is table -> (header, rows)
    of the measured files."""
    import dataclasses

    e = html.escape
    c: dict = dict(contract)  # type: ignore[type-arg]
    name = c["identity"]["spec"]["name"] or "spec"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Data contract: {e(name)}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>Data contract: {e(name)} ({len(c['tables'])} linked tables)</h1>"]  # fmt: skip
    purpose = c["purpose"]
    if purpose.get("declared"):
        parts.append(f"<p>{e(purpose['purpose'])}</p><ul>")
        parts += [f"<li>appropriate for: {e(x)}</li>" for x in purpose["appropriate_for"]]
        parts += [f"<li><b>not</b> appropriate for: {e(x)}</li>" for x in purpose["not_appropriate_for"]]
        parts.append("</ul>")
    parts.append("<h2>Limits the tool knows</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in c["limits"]["known"]) + "</ul>")
    across = c["coverage"]["across"]
    if across is not None:
        eng = across["engine"]
        parts.append(_table(["", ""], [
            ["fields", ", ".join(across["fields"])], ["chain", " -> ".join(across["chain"])],
            ["strength", across["strength"]], ["feasible tuples (measured)", across["feasible"]],
            ["covered (measured)", across["covered"]], ["missing (measured)", across["missing"]],
            ["excluded by rules", across["excluded"]], ["joined records", across["joined_records"]],
            ["linked rows (engine)", eng["rows"]], ["lower bound", f"{eng['lower_bound']} ({eng['lower_bound_reason']})"],
            ["status", eng["status"]],
        ], "Coverage certificate across tables"))  # fmt: skip
    charts = have_matplotlib()
    if not charts:
        parts.append(f"<p class='note' id='no-charts'>{e(MATPLOTLIB_HINT)}</p>")
    tables = {t.name: t for t in spec.tables}
    for tname, t in c["tables"].items():
        parts.append(f"<h2 id='table-{e(tname)}'>Table {e(tname)}</h2><p>{e(str(t['file']))}: {t['rows']} rows</p>")
        if t["coverage"]:
            parts += _certificate_html(t["coverage"])
        header, rows = data.get(tname, ([], []))
        table = tables[tname]
        strength = max(1, min(spec.strength, len(table.categorical_fields())))
        view = dataclasses.replace(spec, tables=(table,), multi_table=False, across=(), strength=strength)
        curves = growth_curves(view, header, rows) if table.categorical_fields() else {}
        if charts:
            if curves:
                parts.append(f"<img class='growth' alt='coverage growth of {e(tname)}' "
                             f"src='data:image/png;base64,{_growth_png(curves, strength)}'>")  # fmt: skip
            for field, shape, values in _numeric_columns(view, header, rows):
                png = _marginal_png(f"{tname}.{field}", shape, values)
                parts.append(f"<img class='marginal' alt='marginal of {e(tname)}.{e(field)}' src='data:image/png;base64,{png}'>")
        if curves:
            parts.append(_growth_table(curves))
        keys = [[k["column"], "unique", "", k["duplicates"]] for k in t["keys"]["primary"]]
        keys += [[k["column"], "references", f"{k['parent']}.{k['parent_key']}", k["unresolved"]]
                 for k in t["keys"]["foreign"]]  # fmt: skip
        parts.append(_table(["column", "kind", "parent", "problems (measured)"], keys, f"Keys of {tname}"))
        parts.append(_table(["rule", "line", "source", "enforced", "violations"],
                            [[r["rule"], r["line"], r["source"] or "none", r["enforced"], r["violations"]]
                             for r in t["rules"]], f"Rules of {tname}"))  # fmt: skip
    parts.append(_table(["table", "field", "shape", "generated", "source", "kind"],
                        [[p["table"], p["field"], p["shape"], p["generated"], p["source"] or "none", p["source_kind"] or ""]
                         for p in c["provenance"]], "Provenance"))  # fmt: skip
    parts.append(_table(["file", "table", "rows", "sha256"],
                        [[o["file"], o.get("table"), o["rows"], o["sha256"]] for o in c["outputs"]], "Files"))  # fmt: skip
    parts.append("</body></html>\n")
    return "\n".join(parts)
