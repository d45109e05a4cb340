"""Random table graphs: no orphan, no duplicate key, no broken cross-table rule, and the
same bytes for different chunk sizes."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gen.expand.multi import iter_batches, plan_tables, solve_tables
from coverage_gen.spec import parse_spec

KEYS = ["{sequence: {start: 1}, key: true}", "{uuid: {}, key: true}",
        '{template: "K-{seq:03d}", key: true}']
COUNTS = ["2", "{min: 0, max: 3}", "{poisson: 1.5}", "{zipf: 1.3, max: 4}",
          "{frequency: {0: 1, 1: 2, 3: 1}}"]


@st.composite
def specs(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 4))
    lines = [f"coverage: {{strength: 2, seed: {draw(st.integers(0, 99))}}}", "tables:"]
    for i in range(n):
        lines += [f"  t{i}:", f"    rows: {draw(st.integers(1, 30))}", "    fields:",
                  f"      id: {draw(st.sampled_from(KEYS))}",
                  "      c: {values: [x, y, z]}", "      d: {values: [p, q]}",
                  "      amt: {decimal: {min: 1, max: 500, places: 2}}"]
        if i:
            parent = draw(st.integers(0, i - 1))
            if draw(st.booleans()):
                lines.append(f"      p_id: {{ref: t{parent}.id, per_parent: {draw(st.sampled_from(COUNTS))}}}")
                lines.append("      share: {split_of: p_id.amt}")
            else:
                opt = draw(st.sampled_from(["", ", optional: 0.3", ", weight: {power_law: 1.1}"]))
                lines.append(f"      p_id: {{ref: t{parent}.id{opt}}}")
            lines.append("      pc: {copy: p_id.c}")
        if draw(st.booleans()):
            lines.append(f"      boss: {{ref: t{i}.id, depth: {draw(st.integers(1, 3))}}}")
    return "\n".join(lines) + "\n"


def _collect(spec, solved, chunk: int) -> dict[str, dict[str, list[object]]]:
    out: dict[str, dict[str, list[object]]] = {}
    for name, cols in iter_batches(spec, solved.lowered, solved.arrays, linked=solved.linked,
                                   seed=spec.seed, chunk_rows=chunk):
        assert all(len(v) <= chunk for v in cols.values())
        into = out.setdefault(name, {})
        for c, v in cols.items():
            into.setdefault(c, []).extend(v.tolist() if isinstance(v, np.ndarray) else v)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.integers(1, 7))
def test_random_graphs(text: str, chunk: int) -> None:
    spec = parse_spec(text)
    solved = solve_tables(spec, time_limit=1.0)
    data = _collect(spec, solved, chunk)
    assert data == _collect(spec, solved, 1000)  # chunk size never changes a value
    schemas = plan_tables(spec)
    seen = set()
    for schema in schemas:
        cols = data[schema.name]
        keys = cols["id"]
        assert len(set(keys)) == len(keys)
        for fk in schema.foreign_keys:
            seen.add(fk.parent_table)
            parents = dict(zip(data[fk.parent_table]["id"], range(len(data[fk.parent_table]["id"]))))
            for value in cols[fk.column]:
                assert value is None or value in parents, "orphan"
        if "p_id" in cols:
            parent = next(fk.parent_table for fk in schema.foreign_keys if fk.column == "p_id")
            pcols = data[parent]
            where = {k: i for i, k in enumerate(pcols["id"])}
            totals: dict[object, Decimal] = defaultdict(Decimal)
            for i, pid in enumerate(cols["p_id"]):
                if pid is None:
                    assert cols["pc"][i] is None
                    continue
                assert cols["pc"][i] == pcols["c"][where[pid]]
                if "share" in cols:
                    totals[pid] += Decimal(cols["share"][i])
            for pid, total in totals.items():
                assert total <= Decimal(pcols["amt"][where[pid]])
        if "boss" in cols:
            where = {k: i for i, k in enumerate(keys)}
            for i, b in enumerate(cols["boss"]):
                assert b is None or where[b] < i
