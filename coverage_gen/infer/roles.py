"""Column roles, shapes and relations proposed from a sample.

Every rule here is a heuristic for *small* samples (a dozen rows is the design case): name
hints carry as much weight as the values, and each decision records a reason that the drafted
spec repeats as a comment, so a reviewer can see why a column became what it did.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import Enum

from coverage_gen.infer.read import MISSING_MARKERS, SampleTable
from coverage_gen.infer.standards import StandardMatch, match_standard, us_state_name

__all__ = [
    "ColumnProfile",
    "DateInfo",
    "ForeignKey",
    "Hierarchy",
    "NumericInfo",
    "Role",
    "TableProfile",
    "foreign_keys",
    "profile_table",
]

DEFAULT_MAX_VALUES = 12  # largest vocabulary kept as a covering factor (pairwise ~ 12 x 12 rows)
MAX_HIERARCHY_RULES = 20  # more IF/THEN rules than this are left as a comment
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")  # "0012": a code, not the number 12
_ID_TOKENS = frozenset({"id", "number", "no", "num", "nr", "key", "ref", "uuid", "guid", "code"})
_PERSONAL_TOKENS = frozenset({
    "zip", "zipcode", "postal", "postcode", "email", "phone", "mobile", "ssn", "iban", "name",
    "firstname", "lastname", "surname", "dob", "birth", "vin", "passport", "license",
})  # fmt: skip
# Free text that may identify a person or place (addresses, notes): generated, never copied.
_FREE_TEXT_TOKENS = frozenset({"address", "street", "location", "description", "comment", "notes", "remark"})
# A column whose tokens include one of these is not personal even with a personal token:
# "iban_country" is a country, "name_prefix"-like columns are rare enough to review by hand.
_NOT_PERSONAL_TOKENS = frozenset({"country", "type", "kind", "status", "category"})


class Role(str, Enum):
    CATEGORICAL = "categorical"
    NUMERIC = "numeric"
    DATE = "date"
    IDENTIFIER = "identifier"
    FREE_TEXT = "free text"
    PERSONAL = "personal data"
    CONSTANT = "constant"
    DERIVED = "derived"
    MISSING = "all missing"


@dataclass(frozen=True, slots=True)
class NumericInfo:
    shape: str  # integer | decimal | lognormal
    minimum: Decimal
    maximum: Decimal
    places: int
    median: Decimal
    sigma: float


@dataclass(frozen=True, slots=True)
class DateInfo:
    format: str  # strftime format to generate with
    start: _dt.date
    end: _dt.date
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What the sample says about one column, and the role proposed for it."""

    name: str
    role: Role
    values: tuple[str, ...]  # distinct observed values (missing markers included), first seen first
    counts: Counter[str]
    missing: Counter[str]
    rows: int
    reason: str
    numeric: NumericInfo | None = None
    date: DateInfo | None = None
    standard: StandardMatch | None = None
    high_cardinality: bool = False  # categorical, but too many values to cover: a frequency table
    derived_from: tuple[str, ...] = ()
    derived_kind: str = ""  # "sum" | "copy"

    @property
    def present(self) -> list[str]:
        """Distinct non-missing values."""
        return [v for v in self.values if v.strip() not in MISSING_MARKERS]


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """``child`` determines ``parent`` in every sample row (each auto_model has one auto_make)."""

    child: str
    parent: str
    mapping: dict[str, str]
    one_to_one: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True, slots=True)
class TableProfile:
    sample: SampleTable
    columns: tuple[ColumnProfile, ...]
    hierarchies: tuple[Hierarchy, ...] = ()
    keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


# --------------------------------------------------------------------------- entry points
def profile_table(sample: SampleTable, *, max_values: int = DEFAULT_MAX_VALUES) -> TableProfile:
    """Roles for every column, derived columns, hierarchies and candidate keys."""
    columns = [_profile_column(name, sample.column(name), max_values) for name in sample.columns]
    columns = _mark_derived(columns, sample)
    hierarchies = _hierarchies(columns, sample)
    keys = tuple(
        c.name for c in columns if c.role is Role.IDENTIFIER and not c.missing and c.rows > 1
    )
    return TableProfile(sample, tuple(columns), hierarchies, keys, sample.notes)


def foreign_keys(tables: list[TableProfile]) -> list[ForeignKey]:
    """Columns whose values all occur in another file's candidate key (a reference)."""
    found: list[ForeignKey] = []
    for table, other in itertools.permutations(tables, 2):
        for key in other.keys:
            target = set(other.sample.column(key))
            for col in table.columns:
                present = set(col.present)
                if col.role is not Role.MISSING and present and present <= target:
                    found.append(ForeignKey(table.sample.name, col.name, other.sample.name, key))
    return found


# --------------------------------------------------------------------------- one column
def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


def _profile_column(name: str, cells: list[str], max_values: int) -> ColumnProfile:
    counts = Counter(cells)
    missing = Counter(c for c in cells if c.strip() in MISSING_MARKERS)
    present = [c for c in cells if c.strip() not in MISSING_MARKERS]
    base = ColumnProfile(name, Role.MISSING, tuple(counts), counts, missing, len(cells), "")
    if not present:
        return replace(base, reason="every cell is a missing marker")
    return _classify(base, present, max_values)


def _classify(col: ColumnProfile, present: list[str], max_values: int) -> ColumnProfile:
    distinct = Counter(present)
    d, n = len(distinct), len(present)
    tokens = _tokens(col.name)
    date = _detect_date(present)
    if date is not None:
        return replace(col, role=Role.DATE, date=date, reason=f"every value parses as a date ({date.format})")
    standard = match_standard(col.name, list(distinct))
    if standard is not None:
        return replace(col, role=Role.CATEGORICAL, standard=standard,
                       reason=f"values come from {standard.standard.title}")  # fmt: skip
    if _personal(tokens):
        return replace(col, role=Role.PERSONAL, reason="the name suggests personal data; never copied")
    if set(tokens) & _FREE_TEXT_TOKENS and d > 1:
        return replace(col, role=Role.FREE_TEXT, reason="address-like or free text; never copied")
    if tokens and tokens[-1] in _ID_TOKENS and d == n:
        return replace(col, role=Role.IDENTIFIER, reason="named like an identifier and unique per row")
    if d == 1:
        return replace(col, role=Role.CONSTANT, reason="one value in every row")
    if _all_numbers(present):
        return _numeric_or_levels(col, present, d, n, max_values)
    return _text_role(col, present, d, n, max_values)


def _personal(tokens: list[str]) -> bool:
    return bool(set(tokens) & _PERSONAL_TOKENS) and not set(tokens) & _NOT_PERSONAL_TOKENS


def _all_numbers(values: list[str]) -> bool:
    return all(_NUMBER.fullmatch(v.strip()) and not _LEADING_ZERO.match(v.strip()) for v in values)


def _numeric_or_levels(col: ColumnProfile, present: list[str], d: int, n: int, max_values: int) -> ColumnProfile:
    """A few repeated numbers are levels (deductibles, counts); many are a quantity.

    Threshold: at most a third as many distinct values as rows (every level then repeats on
    average at least three times) and no more than ``max_values``.
    """
    if d <= max(2, n // 3) and d <= max_values:
        return replace(col, role=Role.CATEGORICAL, reason=f"{d} numeric levels repeat across {n} rows")
    info = _numeric_info([Decimal(v.strip()) for v in present])
    return replace(col, role=Role.NUMERIC, numeric=info, reason=f"{d} distinct numbers in {n} rows")


def _text_role(col: ColumnProfile, present: list[str], d: int, n: int, max_values: int) -> ColumnProfile:
    if d == n and n >= 3:
        if all(not any(ch.isspace() for ch in v) for v in present):
            return replace(col, role=Role.IDENTIFIER, reason=f"unique in all {n} rows, code-like")
        return replace(col, role=Role.FREE_TEXT, reason=f"unique in all {n} rows, words")
    if d > max_values:
        return replace(col, role=Role.CATEGORICAL, high_cardinality=True,
                       reason=f"{d} distinct values: too many to cover, drawn by frequency")  # fmt: skip
    return replace(col, role=Role.CATEGORICAL, reason=f"{d} values repeat across {n} rows")


def _numeric_info(values: list[Decimal]) -> NumericInfo:
    lo, hi = min(values), max(values)
    places = max((max(0, -int(v.as_tuple().exponent)) for v in values), default=0)
    median = Decimal(str(statistics.median(values))).quantize(Decimal(1).scaleb(-places))
    sigma = 0.0
    shape = "integer" if places == 0 else "decimal"
    # Positive amounts spread over an order of magnitude or more are usually log-normal
    # (claims, spend, premiums); a uniform range would overweight the large values.
    if lo > 0 and len(values) >= 3 and hi / lo >= 10:
        logs = [math.log(float(v)) for v in values]
        sigma = max(0.1, round(statistics.stdev(logs), 2))
        shape = "lognormal"
    return NumericInfo(shape, lo, hi, places, median, sigma)


# --------------------------------------------------------------------------- dates
# (strftime/strptime format, shape of the text). Month-first before day-first: with no value
# that settles the order, the US order is assumed (and said in the notes).
_DATE_FORMATS = (
    ("%Y-%m-%d", r"\d{4}-\d{2}-\d{2}"),
    ("%Y-%m-%dT%H:%M:%S", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    ("%Y-%m-%d %H:%M:%S", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    ("%m/%d/%Y", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}"),
    ("%Y/%m/%d", r"\d{4}/\d{1,2}/\d{1,2}"),
    ("%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}"),
    ("%m/%d/%y", r"\d{1,2}/\d{1,2}/\d{2}"),
)


def _parse_date(value: str, fmt: str, shape: str) -> _dt.datetime | None:
    if not re.fullmatch(shape, value):
        return None
    try:
        return _dt.datetime.strptime(value, fmt)
    except ValueError:
        return None


def _detect_date(values: list[str]) -> DateInfo | None:
    """A date column: every value parses with one of the formats (mixed formats allowed)."""
    parsed: dict[str, list[tuple[str, _dt.datetime]]] = {}
    dates: list[_dt.date] = []
    for value in values:
        text = value.strip()
        hits = [(fmt, d) for fmt, shape in _DATE_FORMATS if (d := _parse_date(text, fmt, shape))]
        if not hits:
            return None
        for fmt, d in hits:
            parsed.setdefault(fmt, []).append((text, d))
        dates.append(hits[0][1].date())
    best = max(parsed, key=lambda f: (len(parsed[f]), -_order(f)))
    texts = [t for t, _ in parsed[best]]
    notes = _date_notes(best, texts, len(values), parsed)
    return DateInfo(_output_format(best), min(dates), max(dates), notes)


def _order(fmt: str) -> int:
    return [f for f, _ in _DATE_FORMATS].index(fmt)


def _date_notes(fmt: str, texts: list[str], total: int, parsed: dict[str, list[tuple[str, _dt.datetime]]]) -> tuple[str, ...]:
    notes: list[str] = []
    if len(texts) < total:
        others = sorted({f for f in parsed if f != fmt and len(parsed[f]) > 0} - _same_shape(fmt))
        notes.append(
            f"mixed formats: {len(texts)} of {total} values are {fmt}, others {', '.join(others)}; "
            f"generated as {_output_format(fmt)}"
        )
    unpadded = [t for t in texts if re.search(r"(?<![0-9])[0-9](?![0-9])", t)]
    if "%m" in fmt and unpadded:
        notes.append(
            f"the sample writes month/day without zero padding (e.g. {unpadded[0]}); generated "
            f"zero-padded with {_output_format(fmt)}, which the same {fmt} parser reads back "
            "(%-m/%-d would reproduce it exactly but is not portable: glibc/macOS only)"
        )
    if fmt in ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y") and not _order_settled(texts):
        notes.append("day/month order is ambiguous in the sample; month first (US) assumed")
    if "%H" in fmt:
        notes.append("times are not generated: the date shape writes 00:00:00")
    return tuple(notes)


def _same_shape(fmt: str) -> set[str]:
    shape = dict(_DATE_FORMATS)[fmt]
    return {f for f, s in _DATE_FORMATS if s == shape}


def _order_settled(texts: list[str]) -> bool:
    """Some value has a first or second part above 12, so only one order parses it."""
    parts = [t.split("/")[:2] for t in texts]
    return any(int(a) > 12 or int(b) > 12 for a, b in parts)


def _output_format(fmt: str) -> str:
    return fmt


# --------------------------------------------------------------------------- derived columns
def _decimals(sample: SampleTable, col: ColumnProfile) -> list[Decimal] | None:
    try:
        return [Decimal(v.strip()) for v in sample.column(col.name)]
    except InvalidOperation:
        return None


def _mark_derived(columns: list[ColumnProfile], sample: SampleTable) -> list[ColumnProfile]:
    """A numeric column equal to another (copy) or to the sum of two or three others.

    Needs at least two rows: in one row any number is the sum of something.
    """
    if len(sample.rows) < 2:
        return columns
    numeric = {c.name: v for c in columns if c.role is Role.NUMERIC and not c.missing
               if (v := _decimals(sample, c)) is not None}  # fmt: skip
    result = []
    for col in columns:
        found = _derivation(col.name, numeric) if col.name in numeric else None
        if found:
            kind, parts = found
            why = f"equals {' + '.join(parts)} in every row" if kind == "sum" else f"copies {parts[0]}"
            col = replace(col, role=Role.DERIVED, derived_from=parts, derived_kind=kind, reason=why)
        result.append(col)
    return result


def _derivation(target: str, numeric: dict[str, list[Decimal]]) -> tuple[str, tuple[str, ...]] | None:
    goal = numeric[target]
    others = [name for name in numeric if name != target and len(set(numeric[name])) > 1]
    for name in others:
        if numeric[name] == goal:
            return "copy", (name,)
    for size in (2, 3):
        for parts in itertools.combinations(others, size):
            if all(sum(numeric[p][i] for p in parts) == goal[i] for i in range(len(goal))):
                return "sum", parts
    return None


# --------------------------------------------------------------------------- hierarchies
def _related(a: str, b: str) -> bool:
    """Names that plausibly describe one thing: a shared first or last word, or a known pair."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return False
    known = {("model", "make"), ("city", "state"), ("city", "country"), ("subcategory", "category")}
    return ta[0] == tb[0] or ta[-1] == tb[-1] or (ta[-1], tb[-1]) in known


def _mapping(sample: SampleTable, child: str, parent: str) -> dict[str, str] | None:
    """``child value → parent value`` if it is a function in every row, else ``None``."""
    seen: dict[str, str] = {}
    for c, p in zip(sample.column(child), sample.column(parent)):
        if seen.setdefault(c, p) != p:
            return None
    return seen


def _hierarchies(columns: list[ColumnProfile], sample: SampleTable) -> tuple[Hierarchy, ...]:
    cats = [c for c in columns if c.role is Role.CATEGORICAL and not c.high_cardinality and len(c.values) > 1]
    found: list[Hierarchy] = []
    for child, parent in itertools.permutations(cats, 2):
        if len(child.values) < len(parent.values) or not _related(child.name, parent.name):
            continue
        mapping = _mapping(sample, child.name, parent.name)
        repeated = any(n > 1 for n in child.counts.values())
        if mapping is None or not repeated:
            continue
        one_to_one = len(set(mapping.values())) == len(mapping)
        if one_to_one and child.name > parent.name:
            continue  # report a mirror pair once
        found.append(Hierarchy(child.name, parent.name, mapping, one_to_one, _disagreements(child, parent, mapping)))
    return tuple(found)


def _disagreements(child: ColumnProfile, parent: ColumnProfile, mapping: dict[str, str]) -> tuple[str, ...]:
    """Where a state-code column and a state-name column disagree with ISO 3166-2:US."""
    keys = {c.standard.standard.key if c.standard else "" for c in (child, parent)}
    if keys != {"us-state-code", "us-state-name"}:
        return ()
    code_first = child.standard is not None and child.standard.standard.key == "us-state-code"
    pairs = mapping.items() if code_first else ((v, k) for k, v in mapping.items())
    return tuple(
        f"{code} ↔ {name} disagrees with ISO 3166-2:US ({code} is {expected})"
        for code, name in pairs
        if (expected := us_state_name(code)) is not None and expected.casefold() != name.casefold()
    )
