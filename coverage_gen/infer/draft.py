"""Table profiles → a commented YAML spec, written as text.

Why text and not ``yaml.dump``: the comments are the point (what was observed, what was added
and from which standard, why a column got its role), and every value is written double-quoted
so YAML can never read ``NO`` as false or ``0012`` as 10.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coverage_gen.errors import Location, spec_error
from coverage_gen.infer.read import MISSING_MARKERS, SampleTable, read_sample
from coverage_gen.infer.roles import (
    DEFAULT_MAX_VALUES,
    MAX_HIERARCHY_RULES,
    ColumnProfile,
    ForeignKey,
    Role,
    TableProfile,
    foreign_keys,
    profile_table,
)
from coverage_gen.infer.standards import CURRENCY_SOURCE, currencies_for, widen
from coverage_gen.spec.constraints import is_number

__all__ = ["InferResult", "draft_spec", "infer_spec"]

_COVERING = (Role.CATEGORICAL, Role.CONSTANT)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class InferResult:
    """The drafted spec text and what it was drafted from."""

    text: str
    tables: tuple[TableProfile, ...]
    foreign_keys: tuple[ForeignKey, ...]


def infer_spec(
    paths: Sequence[str | Path],
    *,
    max_values: int = DEFAULT_MAX_VALUES,
    strength: int = 2,
    seed: int = 0,
) -> InferResult:
    """Read CSV samples and draft a commented spec for them (the first file is the table).

    Raises
    ------
    SpecError
        A sample cannot be read (see ``infer.read``), or no column can be a covering factor.
    """
    samples = [read_sample(p) for p in paths]
    return draft_spec(samples, max_values=max_values, strength=strength, seed=seed)


def draft_spec(
    samples: Sequence[SampleTable],
    *,
    max_values: int = DEFAULT_MAX_VALUES,
    strength: int = 2,
    seed: int = 0,
) -> InferResult:
    """Draft a spec from samples already read; see ``infer_spec``."""
    profiles = tuple(profile_table(s, max_values=max_values) for s in samples)
    fks = tuple(foreign_keys(list(profiles)))
    lines = _header(profiles, fks)
    lines += ["spec_version: 1", f"name: {_q(profiles[0].sample.name)}"]
    lines += [f"coverage: {{strength: {strength}, seed: {seed}}}", "tables:"]
    first = _table_lines(profiles[0], max_values, strength)
    lines = _with_strength(lines, first.strength)
    lines += first.lines
    for extra in profiles[1:]:
        lines += ["", f"# --- {extra.sample.source}: multi-table specs are not supported yet;",
                  "# --- its table is drafted below, commented out, for when they are."]  # fmt: skip
        lines += ["# " + line for line in _table_lines(extra, max_values, strength).lines]
    return InferResult("\n".join(lines) + "\n", profiles, fks)


def _with_strength(lines: list[str], strength: int) -> list[str]:
    return [re.sub(r"strength: \d+", f"strength: {strength}", x) if x.startswith("coverage:") else x for x in lines]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML double-quoted scalars)."""
    return json.dumps(text, ensure_ascii=False)


def _key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) else _q(name)


def _show(values: Sequence[str], limit: int = 16) -> str:
    shown = ", ".join(_q(v) if v.strip() in MISSING_MARKERS or v != v.strip() else v for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


# --------------------------------------------------------------------------- header
def _header(profiles: Sequence[TableProfile], fks: Sequence[ForeignKey]) -> list[str]:
    lines = ["# Drafted by `coverage-gen infer`. Review it: roles are guesses from a small sample."]
    for p in profiles:
        s = p.sample
        lines.append(
            f"# {s.source}: {len(s.rows)} rows, {len(s.columns)} columns, encoding {s.encoding}, "
            f"delimiter {s.delimiter!r}"
        )
        lines += [f"#   note: {n}" for n in p.notes]
        lines += _missing_lines(p)
        lines += [f"#   candidate key: {k} (unique and present in every row)" for k in p.keys]
        lines += _role_summary(p)
    lines += [f"# foreign key?: {f.table}.{f.column} -> {f.ref_table}.{f.ref_column} (every value occurs there)"
              for f in fks]  # fmt: skip
    lines.append("")
    return lines


def _missing_lines(p: TableProfile) -> list[str]:
    if not p.sample.missing:
        return []
    parts = [
        f"{name} ({', '.join(f'{_q(m)} x{n}' for m, n in counts.items())})"
        for name, counts in p.sample.missing.items()
    ]
    return ["#   missing markers: " + "; ".join(parts)]


def _role_summary(p: TableProfile) -> list[str]:
    groups: dict[str, list[str]] = {}
    for c in p.columns:
        groups.setdefault(c.role.value, []).append(c.name)
    return [f"#   {role}: {', '.join(names)}" for role, names in groups.items()]


# --------------------------------------------------------------------------- table
@dataclass(frozen=True, slots=True)
class _Table:
    lines: list[str]
    strength: int


def _table_lines(p: TableProfile, max_values: int, strength: int) -> _Table:
    vocab = _vocabularies(p, max_values)
    if not vocab:
        vocab = _fallback_factor(p, max_values)
    lines = [f"  {_key(p.sample.name)}:", "    fields:"]
    for col in p.columns:
        lines += _field_lines(col, vocab.get(col.name), p)
    rules, notes = _hierarchy_rules(p, vocab)
    lines += [f"    {n}" for n in notes]
    if rules:
        lines.append("    constraints:")
        # Single-quoted YAML keeps the rule readable: only ' needs doubling inside it.
        lines += ["      - '" + r.replace("'", "''") + "'" for r in rules]
    return _Table(lines, max(1, min(strength, len(vocab))))


def _vocabularies(p: TableProfile, max_values: int) -> dict[str, tuple[list[str], list[str], str]]:
    """Covering fields: name → (observed values, added values, comment about the addition)."""
    result: dict[str, tuple[list[str], list[str], str]] = {}
    countries = _country_vocabulary(p, max_values)
    for col in p.columns:
        if col.role not in _COVERING or col.high_cardinality:
            continue
        observed = list(col.values)
        added: list[str] = []
        why = ""
        if col.standard is not None:
            first = _currency_first(col, countries)
            added = list(widen(col.standard, list(col.values), max_values, first))
            why = _widen_comment(col, added, max_values, bool(first))
        result[col.name] = (observed, added, why)
    return result


def _country_vocabulary(p: TableProfile, max_values: int) -> list[str]:
    for col in p.columns:
        if col.standard is not None and col.standard.standard.key == "iso3166-alpha2":
            return col.present + list(widen(col.standard, col.present, max_values))
    return []


def _currency_first(col: ColumnProfile, countries: list[str]) -> list[str]:
    """Currencies of the table's countries come before the most-traded list."""
    if col.standard is None or col.standard.standard.key != "iso4217" or not countries:
        return []
    return list(dict.fromkeys(currencies_for(countries).values()))


def _widen_comment(col: ColumnProfile, added: list[str], max_values: int, by_country: bool) -> str:
    assert col.standard is not None
    title = col.standard.standard.title
    if not added:
        return f"matches {title}; not widened (already {len(col.present)} values, limit {max_values})"
    order = (
        f"currencies of the country vocabulary ({CURRENCY_SOURCE}), then the most traded"
        if by_country
        else "the standard's preferred list (see coverage_gen/infer/standards.py)"
    )
    return f"added {_show(added)} from {title}: {order}, up to {max_values} values"


def _fallback_factor(p: TableProfile, max_values: int) -> dict[str, tuple[list[str], list[str], str]]:
    """No column looks categorical: the one with the fewest distinct values becomes the factor,
    because a spec needs at least one covering field."""
    usable = [c for c in p.columns if c.role in (Role.NUMERIC, Role.DATE, Role.DERIVED)]
    if not usable:
        raise spec_error(
            "no-factor",
            Location(p.sample.source, 1),
            "no column can be a covering factor (every column is an identifier, personal data, "
            "free text or missing); add a categorical column to the sample",
        )
    col = min(usable, key=lambda c: len(c.values))
    values = col.present[:max_values]
    return {col.name: (values, [], "no categorical column found: used as the covering factor")}


# --------------------------------------------------------------------------- fields
def _field_lines(col: ColumnProfile, vocab: tuple[list[str], list[str], str] | None, p: TableProfile) -> list[str]:
    comments = [f"{col.name}: {col.role.value}; {col.reason}"]
    if col.missing and col.role is not Role.MISSING:
        marks = ", ".join(f"{_q(m)} x{n}" for m, n in col.missing.items())
        comments.append(f"missing in the sample: {marks}")
    if vocab is not None:
        body, more = _categorical(col, vocab)
    else:
        body, more = _shape(col, p)
    lines = [f"      # {c}" for c in comments + more]
    lines.append(f"      {_key(col.name)}: {body}")
    return lines


def _categorical(col: ColumnProfile, vocab: tuple[list[str], list[str], str]) -> tuple[str, list[str]]:
    observed, added, why = vocab
    notes = [f"observed: {_show(observed)}"]
    if why:
        notes.append(why)
    if col.standard is not None and col.standard.unmatched:
        notes.append(f"not in the standard: {_show(list(col.standard.unmatched))} (kept as observed)")
    if col.missing:
        notes.append("missing markers are kept as values so generated data has missing cases; "
                     "delete them to never generate one")  # fmt: skip
    if col.role is Role.CONSTANT:
        notes.append("only one value observed: add values to vary it")
    values = ", ".join(_q(v) for v in observed + added)
    return f"{{values: [{values}]}}", notes


def _shape(col: ColumnProfile, p: TableProfile) -> tuple[str, list[str]]:
    if col.role is Role.CATEGORICAL and col.high_cardinality:
        table = ", ".join(f"{_q(v)}: {n}" for v, n in col.counts.items())
        return f"{{frequency: {{{table}}}}}", ["not a covering factor: weights are the observed counts"]
    if col.role is Role.DATE and col.date is not None:
        d = col.date
        return (f"{{date: {{start: {d.start.isoformat()}, end: {d.end.isoformat()}, "
                f"format: {_q(d.format)}}}}}", list(d.notes))  # fmt: skip
    if col.role in (Role.NUMERIC, Role.DERIVED) and col.numeric is not None:
        return _numeric(col)
    if col.role is Role.MISSING:
        return '{template: ""}', ["generated empty, as in the sample"]
    return _template(col, p)


def _numeric(col: ColumnProfile) -> tuple[str, list[str]]:
    info = col.numeric
    assert info is not None
    notes = [f"observed {info.minimum}..{info.maximum}, median {info.median}; suggested shape: {info.shape}"]
    if col.role is Role.DERIVED:
        notes.append(
            f"derived ({col.derived_kind}): {col.name} = {' + '.join(col.derived_from)} in every "
            "sample row. The spec has no derived-field kind yet, so it is a plain numeric field "
            "below and the relation does NOT hold in generated rows"
        )
    if info.shape == "lognormal":
        clip = f"[{info.minimum}, {info.maximum}]"
        body = (f"{{lognormal: {{median: {info.median}, sigma: {info.sigma}, clip: {clip}, "
                f"places: {info.places}}}}}")  # fmt: skip
    elif info.shape == "integer":
        body = f"{{integer: {{min: {info.minimum}, max: {info.maximum}}}}}"
    else:
        body = f"{{decimal: {{min: {info.minimum}, max: {info.maximum}, places: {info.places}}}}}"
    return body, notes


def _template(col: ColumnProfile, p: TableProfile) -> tuple[str, list[str]]:
    """Identifiers continue the sample's pattern past its largest number (so no sample value
    can recur); other text gets an obviously synthetic pattern. Nothing is copied."""
    pattern = _numbered_pattern(col.present)
    if pattern is not None:
        text, start = pattern
        return f"{{template: {_q(text)}, start: {start}}}", ["generated from a template, never copied"]
    title = re.sub(r"[^A-Za-z0-9]+", " ", col.name).strip().title() or "Value"
    return f"{{template: {_q(title + ' {seq:05d}')}}}", ["generated from a template, never copied"]


def _numbered_pattern(values: list[str]) -> tuple[str, int] | None:
    parts = [re.fullmatch(r"([^0-9{}]*)([0-9]+)([^0-9{}]*)", v) for v in values]
    if not values or any(m is None for m in parts):
        return None
    matches = [m for m in parts if m is not None]
    affixes = {(m.group(1), m.group(3)) for m in matches}
    if len(affixes) != 1:
        return None
    prefix, suffix = affixes.pop()
    widths = {len(m.group(2)) for m in matches}
    start = max(int(m.group(2)) for m in matches) + 1
    digits = f"{{seq:0{widths.pop()}d}}" if len(widths) == 1 else "{seq}"
    return f"{prefix}{digits}{suffix}", start


# --------------------------------------------------------------------------- hierarchies
def _literal(value: str, numeric: bool) -> str:
    return value if numeric else '"' + value + '"'


def _hierarchy_rules(p: TableProfile, vocab: dict[str, tuple[list[str], list[str], str]]) -> tuple[list[str], list[str]]:
    rules: list[str] = []
    notes: list[str] = []
    for h in p.hierarchies:
        pairs = ", ".join(f"{k} -> {v or chr(34) * 2}" for k, v in h.mapping.items())
        kind = "mirrors" if h.one_to_one else "determines"
        notes.append(f"# {h.child} {kind} {h.parent} in every sample row: {pairs}")
        notes += [f"#   {n}" for n in h.notes]
        usable = h.child in vocab and h.parent in vocab and not h.one_to_one
        quotes = any('"' in v for pair in h.mapping.items() for v in pair)
        if not usable or quotes or len(h.mapping) > MAX_HIERARCHY_RULES:
            notes.append("#   (left as a comment: no rule added)")
            continue
        rules += _rules_for(h.child, h.parent, h.mapping, vocab)
        notes.append(f"#   one rule per observed {h.child} below; added {h.child} values are unconstrained")
    notes += _currency_note(p)
    return rules, notes


def _rules_for(child: str, parent: str, mapping: dict[str, str], vocab: dict[str, tuple[list[str], list[str], str]]) -> list[str]:
    numeric_child = all(is_number(v) for v in vocab[child][0] + vocab[child][1])
    numeric_parent = all(is_number(v) for v in vocab[parent][0] + vocab[parent][1])
    return [
        f"IF [{child}] = {_literal(c, numeric_child)} THEN [{parent}] = {_literal(v, numeric_parent)}"
        for c, v in mapping.items()
    ]


def _currency_note(p: TableProfile) -> list[str]:
    keys: dict[str, ColumnProfile] = {}
    for c in p.columns:  # the first country column is the table's country, not e.g. iban_country
        if c.standard is not None:
            keys.setdefault(c.standard.standard.key, c)
    if "iso3166-alpha2" not in keys or "iso4217" not in keys:
        return []
    country, currency = keys["iso3166-alpha2"], keys["iso4217"]
    known = currencies_for(country.present)
    pairs = ", ".join(f"{k} -> {v}" for k, v in known.items())
    return [
        f"# {country.name} -> {currency.name} per {CURRENCY_SOURCE}: {pairs}.",
        "#   No rule added: real vendors invoice in foreign currencies (the sample does too).",
    ]
