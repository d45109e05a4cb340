"""``contract.odcs.yaml``: the contract in the Open Data Contract Standard (ODCS v3.1.0).

Mapping (ODCS field names): fundamentals (``apiVersion``, ``kind: DataContract``, ``id``,
``name``, ``version``, ``status``), ``description`` (``purpose``, ``usage`` from
appropriate_for, ``limitations`` from not_appropriate_for plus the tool's known limits),
``schema`` (one object per table, one property per field with ``logicalType``,
``logicalTypeOptions``, ``required``, ``unique``, ``primaryKey`` and ``quality`` checks:
``invalidValues`` for vocabularies, ``rowCount`` for the table, ``text`` checks for rules),
``team`` (owner and contacts), for multi-table specs one schema object per table with
``relationships`` (``foreignKey``) on reference properties, and ``customProperties`` for what ODCS has no slot for
(spec hash, seed, the coverage certificate, field sources).
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from coverage_gen.spec.model import (
    Categorical,
    DateRange,
    DecimalRange,
    FieldSpec,
    IntegerRange,
    LogNormal,
    Spec,
)

__all__ = ["ODCS_API_VERSION", "odcs_document", "render_odcs"]

ODCS_API_VERSION = "v3.1.0"


def odcs_document(spec: Spec, contract: Mapping[str, object]) -> dict[str, object]:
    """The ODCS document (a plain dict) for ``spec`` and its built ``contract``."""
    c: dict = dict(contract)  # type: ignore[type-arg]
    if c.get("multi_table"):
        return _multi_document(spec, c)
    ident = c["identity"]
    name = ident["spec"]["name"] or spec.table.name
    purpose = c["purpose"]
    keys = set(c["keys"])
    sources = {p["field"]: p for p in c["provenance"]}
    rows = next((o["rows"] for o in c["outputs"] if o.get("rows") is not None), None)
    table = spec.table
    quality: list[dict[str, object]] = []
    if rows is not None:
        quality.append({"type": "library", "metric": "rowCount", "mustBe": rows, "name": "row_count"})
    quality += [
        {"type": "text", "name": f"rule_{i}", "dimension": "consistency",
         "description": f"{r['rule']} ({r['enforced']}; violations measured: {r['violations']})"}
        for i, r in enumerate(c["rules"], start=1)
    ]  # fmt: skip
    doc: dict[str, object] = {
        **_header(name, ident, purpose, spec, c),
        "schema": [{
            "name": table.name,
            "physicalName": table.name,
            "logicalType": "object",
            "physicalType": "table",
            "properties": [_property(f, f.name in keys, sources.get(f.name, {})) for f in table.fields],
            "quality": quality,
        }],  # fmt: skip
        "customProperties": _custom(c),
    }
    team = _team(purpose)
    if team:
        doc["team"] = team
    return doc


def render_odcs(spec: Spec, contract: Mapping[str, object]) -> str:
    return yaml.safe_dump(odcs_document(spec, contract), sort_keys=False, allow_unicode=True, width=100)


def _property(f: FieldSpec, key: bool, prov: Mapping[str, object]) -> dict[str, object]:
    s = f.shape
    prop: dict[str, object] = {"name": f.name, "logicalType": "string", "required": True}
    options: dict[str, object] = {}
    if isinstance(s, IntegerRange):
        prop["logicalType"] = "integer"
        options = {"minimum": s.min, "maximum": s.max}
    elif isinstance(s, (DecimalRange, LogNormal)):
        prop["logicalType"] = "number"
        lo, hi = (s.min, s.max) if isinstance(s, DecimalRange) else (s.clip_min, s.clip_max)
        options = {k: float(v) for k, v in (("minimum", lo), ("maximum", hi)) if v is not None}
    elif isinstance(s, DateRange):
        options = {"minimum": s.start.isoformat(), "maximum": s.end.isoformat()}
        if s.format == "%Y-%m-%d":
            prop["logicalType"] = "date"
            options["format"] = "yyyy-MM-dd"
    elif isinstance(s, Categorical):
        prop["logicalType"] = "number" if s.numeric else "string"
        prop["examples"] = list(s.values[:5])
        prop["quality"] = [{"type": "library", "metric": "invalidValues", "mustBe": 0,
                            "arguments": {"validValues": list(s.values)}, "name": f"{f.name}_vocabulary"}]  # fmt: skip
    if options:
        prop["logicalTypeOptions"] = options
    if key:
        prop.update({"primaryKey": True, "unique": True})
    if f.description:
        prop["description"] = f.description
    custom = [{"property": "generation", "value": str(prov.get("generated", ""))},
              {"property": "shape", "value": str(prov.get("shape", ""))}]  # fmt: skip
    if prov.get("source"):
        custom.append({"property": "source", "value": f"{prov['source']} ({prov.get('source_kind')})"})
    prop["customProperties"] = custom
    return prop


def _team(purpose: Mapping[str, object]) -> dict[str, object] | None:
    members = []
    if purpose.get("owner"):
        members.append({"username": purpose["owner"], "role": "owner"})
    for contact in purpose.get("contacts", []):  # type: ignore[attr-defined]
        members.append({"username": contact["who"], "role": "contact", "description": contact["about"]})
    return {"members": members} if members else None


def _custom(c: dict) -> list[dict[str, object]]:  # type: ignore[type-arg]
    ident, cov = c["identity"], c["coverage"]
    certificate = {k: cov[k] for k in ("strength", "feasible_tuples", "covered", "excluded", "rows",
                                       "lower_bound", "status") if k in cov}  # fmt: skip
    return [
        {"property": "generator", "value": f"coverage-gen {ident['tool']['version']}"},
        {"property": "specSha256", "value": ident["spec"]["sha256"]},
        {"property": "seed", "value": ident["seed"]},
        {"property": "coverageCertificate", "value": certificate},
        {"property": "reviewDate", "value": c["purpose"].get("review_date")},
    ]


_KINDS = {"integer": "integer", "decimal": "number", "date": "date", "text": "string"}


def _multi_document(spec: Spec, c: dict) -> dict[str, object]:  # type: ignore[type-arg]
    from coverage_gen.spec.model import Reference
    from coverage_gen.spec.multitable import column_kind

    ident, purpose = c["identity"], c["purpose"]
    name = ident["spec"]["name"] or "dataset"
    by_table = {t.name: t for t in spec.tables}
    schema = []
    for table in spec.tables:
        entry = c["tables"][table.name]
        sources = {p["field"]: p for p in c["provenance"] if p["table"] == table.name}
        keys = set(c["keys"].get(table.name, []))
        props = []
        for f in table.fields:
            prop = _property(f, f.key, sources.get(f.name, {}))
            if "logicalTypeOptions" not in prop and not isinstance(f.shape, Categorical):
                prop["logicalType"] = _KINDS.get(column_kind(by_table, table.name, f.name), "string")
            if f.name in keys and not f.key:
                prop["unique"] = True
            if isinstance(f.shape, Reference):
                prop["required"] = not (f.shape.optional or f.shape.table == table.name)
                prop["relationships"] = [{"type": "foreignKey", "to": f"{f.shape.table}.{f.shape.field}"}]
            props.append(prop)
        quality: list[dict[str, object]] = []
        if entry["rows"] is not None:
            quality.append({"type": "library", "metric": "rowCount", "mustBe": entry["rows"], "name": f"{table.name}_row_count"})
        quality += [
            {"type": "text", "name": f"{table.name}_rule_{i}", "dimension": "consistency",
             "description": f"{r['rule']} ({r['enforced']}; violations measured: {r['violations']})"}
            for i, r in enumerate(entry["rules"], start=1)
        ]  # fmt: skip
        schema.append({"name": table.name, "physicalName": table.name, "logicalType": "object",
                       "physicalType": "table", "properties": props, "quality": quality})  # fmt: skip
    across = c["coverage"]["across"]
    certificates = {t: {k: v[k] for k in ("strength", "feasible_tuples", "covered", "excluded", "rows", "status") if k in v}
                    for t, v in c["coverage"]["tables"].items() if v}  # fmt: skip
    doc: dict[str, object] = {
        **_header(name, ident, purpose, spec, c),
        "schema": schema,
        "customProperties": [
            {"property": "generator", "value": f"coverage-gen {ident['tool']['version']}"},
            {"property": "specSha256", "value": ident["spec"]["sha256"]},
            {"property": "seed", "value": ident["seed"]},
            {"property": "coverageCertificate", "value": certificates},
            {"property": "coverageAcross", "value": None if across is None else
             {k: across[k] for k in ("fields", "chain", "strength", "feasible", "covered", "missing")}},
            {"property": "reviewDate", "value": purpose.get("review_date")},
        ],  # fmt: skip
    }
    team = _team(purpose)
    if team:
        doc["team"] = team
    return doc


def _header(name: str, ident: dict, purpose: dict, spec: Spec, c: dict) -> dict[str, object]:  # type: ignore[type-arg]
    """The ODCS fields every contract opens with: identity, status and description."""
    return {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": f"{name}-{ident['spec']['sha256'][:12]}",
        "name": name,
        "version": "1.0.0",
        "status": "active",
        "description": {
            "purpose": purpose.get("purpose") or spec.description or "synthetic test data",
            "usage": "; ".join(purpose.get("appropriate_for", [])) or "testing",
            "limitations": "; ".join([*c["limits"]["declared"], *c["limits"]["known"]]),
        },
    }
