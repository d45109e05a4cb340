"""Samplers for the non-categorical field shapes, and a small safe template formatter.

Every sampler takes a numpy ``Generator`` and a row count and returns the values as text, so
callers never see floats or dates and the output is the same on every machine. Callers pass
``_seed.rng_for(seed, table, field)`` so each field owns its own stream: adding or removing a
field never changes another field's values.

Templates are rendered after the other fields (they read them). The formatter is our own:
``{name}`` and ``{name:spec}`` with a spec from a fixed safe set, ``{{``/``}}`` for braces. It
never calls ``str.format`` on user text, so ``{seq.__class__}`` or ``{x[0]}`` cannot reach
Python attributes; they are rejected as malformed.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

import numpy as np

from coverage_gen.errors import Location, SpecError, UsageError, spec_error
from coverage_gen.spec.model import (
    Categorical,
    DateRange,
    DecimalRange,
    Frequency,
    IntegerRange,
    LogNormal,
    Shape,
    Template,
)

SEQ = "seq"  # the reserved template name for the record number

# Decimal arithmetic wide enough for any float (about 310 integer digits) plus places.
_WIDE = Context(prec=400)
_INT64_SPAN = 2**63 - 1


# --------------------------------------------------------------------------- dispatch
def sample_field(shape: Shape, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` values of a non-categorical, non-template shape, as text.

    Categorical fields come from the covering array and templates need the other fields of
    the record (see ``render_template``), so both are rejected here.
    """
    if n < 0:
        raise UsageError(f"row count must be >= 0, got {n}")
    if isinstance(shape, IntegerRange):
        return sample_integers(shape, n, rng)
    if isinstance(shape, DecimalRange):
        return sample_decimals(shape, n, rng)
    if isinstance(shape, LogNormal):
        return sample_lognormal(shape, n, rng)
    if isinstance(shape, DateRange):
        return sample_dates(shape, n, rng)
    if isinstance(shape, Frequency):
        return sample_frequency(shape, n, rng)
    if isinstance(shape, (Categorical, Template)):
        raise UsageError(f"{type(shape).__name__} fields are not sampled by sample_field")
    raise UsageError(f"unknown field shape {type(shape).__name__}")


def sample_field_array(shape: Shape, n: int, rng: np.random.Generator) -> np.ndarray:
    """``sample_field`` as a numpy text array (``str`` dtype; ``object`` when a value could
    not round-trip through it), built column-wise; ``.tolist()`` gives ``sample_field``."""
    if n < 0:
        raise UsageError(f"row count must be >= 0, got {n}")
    if isinstance(shape, IntegerRange):
        units = _uniform_units(shape.min, shape.max, n, rng)
        if isinstance(units, np.ndarray):
            return units.astype(str)
        return text_array([str(v) for v in units])
    if isinstance(shape, DecimalRange):
        lo, hi = _decimal_grid(shape)
        return fixed_text_array(_uniform_units(lo, hi, n, rng), shape.places)
    if isinstance(shape, LogNormal):
        return _lognormal(shape, n, rng)
    if isinstance(shape, DateRange):
        return _dates(shape, n, rng)
    if isinstance(shape, Frequency):
        return text_array(shape.values)[_frequency_picks(shape, n, rng)]
    return text_array(sample_field(shape, n, rng))


def text_array(values: Sequence[str]) -> np.ndarray:
    """Texts as a numpy ``str`` array, or ``object`` if one ends in NUL (``str`` drops it)."""
    if any(v.endswith("\x00") for v in values):
        return np.asarray(list(values), dtype=object)
    return np.asarray(list(values), dtype=str) if len(values) else np.zeros(0, dtype="U1")


# --------------------------------------------------------------------------- numbers
def _uniform_ints(lo: int, hi: int, n: int, rng: np.random.Generator) -> list[int]:
    """Uniform Python ints in [lo, hi]; offsets keep huge bounds exact (no int64 overflow)."""
    if lo > hi:
        raise UsageError(f"empty range [{lo}, {hi}]")
    span = hi - lo
    if span > _INT64_SPAN:
        raise UsageError(f"range [{lo}, {hi}] is wider than 2**63 - 1")
    offsets = rng.integers(0, span, size=n, endpoint=True, dtype=np.int64)
    return [lo + int(k) for k in offsets.tolist()]


def sample_integers(shape: IntegerRange, n: int, rng: np.random.Generator) -> list[str]:
    units = _uniform_units(shape.min, shape.max, n, rng)
    if isinstance(units, np.ndarray):
        return list(map(str, units.tolist()))
    return [str(v) for v in units]


def _uniform_units(lo: int, hi: int, n: int, rng: np.random.Generator) -> np.ndarray | list[int]:
    """``_uniform_ints`` as an int64 array when every value fits (the same draws)."""
    if lo < -_INT64_SPAN - 1 or hi > _INT64_SPAN or lo > hi or hi - lo > _INT64_SPAN:
        return _uniform_ints(lo, hi, n, rng)
    offsets = rng.integers(0, hi - lo, size=n, endpoint=True, dtype=np.int64)
    return offsets + np.int64(lo)  # lo + offset <= hi fits in int64


def sample_decimals(shape: DecimalRange, n: int, rng: np.random.Generator) -> list[str]:
    """Uniform over the multiples of 10**-places inside [min, max].

    Drawing integers on the grid (rather than rounding a float) keeps every value inside the
    declared range and makes the text exact.
    """
    lo, hi = _decimal_grid(shape)
    return fixed_text(_uniform_units(lo, hi, n, rng), shape.places)


def _decimal_grid(shape: DecimalRange) -> tuple[int, int]:
    _check_places(shape.places)
    scale = Decimal(10) ** shape.places
    lo = int((shape.min * scale).to_integral_value(rounding=ROUND_CEILING))
    hi = int((shape.max * scale).to_integral_value(rounding=ROUND_FLOOR))
    if lo > hi:
        raise UsageError(
            f"no value with {shape.places} decimals lies in [{shape.min}, {shape.max}]"
        )
    return lo, hi


def _grid_text(k: int, places: int) -> str:
    """The text of k * 10**-places with exactly ``places`` decimals."""
    return format(Decimal(k).scaleb(-places), "f")


def fixed_text(units: np.ndarray | Sequence[int], places: int) -> list[str]:
    """``_grid_text`` of every element (``units * 10**-places`` with ``places`` decimals),
    vectorised for int64 arrays.

    Examples
    --------
    >>> fixed_text(np.array([5, -105, 0, 123456]), 2)
    ['0.05', '-1.05', '0.00', '1234.56']
    """
    if not isinstance(units, np.ndarray) or units.dtype != np.int64 or places > 18 or (
            len(units) and units.min() == np.iinfo(np.int64).min):
        return [_grid_text(int(k), places) for k in units]
    if places == 0:
        return list(map(str, units.tolist()))
    q, r = np.divmod(np.abs(units), np.int64(10) ** places)
    text = list(map(f"{{}}.{{:0{places}d}}".format, q.tolist(), r.tolist()))
    if (units < 0).any():
        for i in np.flatnonzero(units < 0).tolist():
            text[i] = "-" + text[i]
    return text


def fixed_text_array(units: np.ndarray | Sequence[int], places: int) -> np.ndarray:
    """``fixed_text`` as a numpy ``str`` array, with numpy string operations."""
    if not isinstance(units, np.ndarray) or units.dtype != np.int64 or places > 18 or (
            len(units) and units.min() == np.iinfo(np.int64).min):
        return text_array(fixed_text(units, places))
    if places == 0 or not len(units):  # (numpy's zfill fails on empty arrays)
        return units.astype(str)
    q, r = np.divmod(np.abs(units), np.int64(10) ** places)
    if places <= 3:
        frac = _fractions(places)[r]
    else:
        frac = np.strings.add(".", np.strings.zfill(r.astype(str), places))
    out = np.strings.add(q.astype(str), frac)
    negative = units < 0
    if negative.any():
        out = np.where(negative, np.strings.add("-", out), out)
    return out


@functools.lru_cache(maxsize=8)
def _fractions(places: int) -> np.ndarray:
    return np.asarray([f".{i:0{places}d}" for i in range(10**places)], dtype=str)


def _check_places(places: int) -> None:
    if places < 0:
        raise UsageError(f"places must be >= 0, got {places}")


def sample_lognormal(shape: LogNormal, n: int, rng: np.random.Generator) -> list[str]:
    """median * exp(sigma * Z), clipped, written with exactly ``places`` decimals."""
    values: list[str] = _lognormal(shape, n, rng).tolist()
    return values


def _lognormal(shape: LogNormal, n: int, rng: np.random.Generator) -> np.ndarray:
    _check_places(shape.places)
    if shape.median <= 0 or shape.sigma < 0 or not math.isfinite(shape.sigma):
        raise UsageError("lognormal needs median > 0 and a finite sigma >= 0")
    quantum = Decimal(1).scaleb(-shape.places)
    lo, hi = _clip_bounds(shape, quantum)
    z = rng.standard_normal(n)
    with np.errstate(over="ignore"):  # overflow to inf is handled by the clip / check below
        raw = float(shape.median) * np.exp(shape.sigma * z)
    if hi is not None:
        raw = np.minimum(raw, float(hi))
    if not np.all(np.isfinite(raw)):
        raise UsageError("lognormal draw overflowed; give clip_max or a smaller sigma")
    units = _half_even_units(raw, shape.places)
    lo_units = None if lo is None else int(lo.scaleb(shape.places))
    hi_units = None if hi is None else int(hi.scaleb(shape.places))
    if units is None or (lo_units is not None and lo_units >= _FAST_LIMIT):
        return text_array([_quantize(float(x), quantum, lo, hi) for x in raw.tolist()])
    if lo_units is not None:
        units = np.maximum(units, np.int64(max(lo_units, -_INT64_SPAN)))
    if hi_units is not None and hi_units < _FAST_LIMIT:
        units = np.minimum(units, np.int64(hi_units))
    return fixed_text_array(units, shape.places)


_FAST_LIMIT = float(2**52)


def _half_even_units(raw: np.ndarray, places: int) -> np.ndarray | None:
    """``Decimal(x).quantize(10**-places, ROUND_HALF_EVEN)`` as integer units, exactly.

    ``y = x * 10**places`` is within half an ulp of the exact product, so rounding ``y`` to
    the nearest integer is exact unless ``y`` lies within an ulp or two of a half; those
    few go through ``Decimal``. ``None`` when a value is too large (or negative) for this."""
    if places > 22 or not len(raw):
        return None if places > 22 else np.zeros(0, dtype=np.int64)
    y = raw * float(10**places)
    if not (np.all(y < _FAST_LIMIT) and np.all(raw >= 0)):
        return None
    k = np.floor(y)
    frac = y - k
    units = k.astype(np.int64) + (frac > 0.5)
    near = np.abs(frac - 0.5) <= 4 * np.spacing(y)
    if near.any():
        quantum = Decimal(1).scaleb(-places)
        for i in np.flatnonzero(near).tolist():
            d = Decimal(float(raw[i])).quantize(quantum, ROUND_HALF_EVEN, _WIDE)
            units[i] = int(d.scaleb(places))
    return units


def _clip_bounds(shape: LogNormal, quantum: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """Clip limits rounded inwards to the output grid, so rounding can't leave the range."""
    lo = None if shape.clip_min is None else shape.clip_min.quantize(quantum, ROUND_CEILING, _WIDE)
    hi = None if shape.clip_max is None else shape.clip_max.quantize(quantum, ROUND_FLOOR, _WIDE)
    if lo is not None and hi is not None and lo > hi:
        raise UsageError(f"lognormal clip range [{shape.clip_min}, {shape.clip_max}] is empty")
    return lo, hi


def _quantize(x: float, quantum: Decimal, lo: Decimal | None, hi: Decimal | None) -> str:
    # Decimal(float) is the exact binary value, so quantizing it never shows repr noise.
    d = Decimal(x).quantize(quantum, ROUND_HALF_EVEN, _WIDE)
    if lo is not None and d < lo:
        d = lo
    if hi is not None and d > hi:
        d = hi
    return format(d, "f")


# --------------------------------------------------------------------------- dates, frequency
def sample_dates(shape: DateRange, n: int, rng: np.random.Generator) -> list[str]:
    """Uniform over the days in [start, end]; each distinct day is formatted once."""
    values: list[str] = sample_field_array(shape, n, rng).tolist()
    return values


def _date_offsets(shape: DateRange, n: int, rng: np.random.Generator) -> np.ndarray:
    days = (shape.end - shape.start).days
    if days < 0:
        raise UsageError(f"date range ends ({shape.end}) before it starts ({shape.start})")
    return rng.integers(0, days, size=n, endpoint=True, dtype=np.int64)


_DATE_TABLE_DAYS = 200_000  # ranges up to ~550 years: format every day once, then index


def _dates(shape: DateRange, n: int, rng: np.random.Generator) -> np.ndarray:
    offsets = _date_offsets(shape, n, rng)
    if (shape.end - shape.start).days < _DATE_TABLE_DAYS:
        return _date_table(shape)[offsets]
    unique, inverse = np.unique(offsets, return_inverse=True)
    texts = text_array([(shape.start + _dt.timedelta(days=int(d))).strftime(shape.format)
                        for d in unique.tolist()])
    return texts[inverse.reshape(-1)]


@functools.lru_cache(maxsize=32)
def _date_table(shape: DateRange) -> np.ndarray:
    """Every day of the range, formatted."""
    days = (shape.end - shape.start).days
    return text_array([(shape.start + _dt.timedelta(days=d)).strftime(shape.format)
                       for d in range(days + 1)])


def sample_frequency(shape: Frequency, n: int, rng: np.random.Generator) -> list[str]:
    """Values drawn with probability proportional to their weights."""
    picks = _frequency_picks(shape, n, rng)
    result: list[str] = np.asarray(shape.values, dtype=object)[picks].tolist()
    return result


def _frequency_picks(shape: Frequency, n: int, rng: np.random.Generator) -> np.ndarray:
    weights = np.asarray(shape.weights, dtype=np.float64)
    if len(shape.values) == 0 or weights.shape != (len(shape.values),):
        raise UsageError("a frequency table needs one weight per value and at least one value")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise UsageError("frequency weights must be finite, >= 0 and not all zero")
    picks: np.ndarray = rng.choice(len(shape.values), size=n, p=weights / weights.sum())
    return picks


# --------------------------------------------------------------------------- templates
# A placeholder name: anything but braces and the characters that mean attribute access,
# indexing or conversion in str.format. The spec is one of the safe forms below.
_PLACEHOLDER = re.compile(r"\{([^{}:.\[\]!]+)(?::([^{}]*))?\}")
_SAFE_SPEC = re.compile(r"(?P<zero>0)?(?P<width>[1-9][0-9]{0,2})?(?P<kind>[ds])?")


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    zero: bool
    width: int
    kind: str  # "d", "s" or "" (integer for seq, text otherwise)


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A parsed template: literal text and slots (``parts[i]`` is str or _Slot), and the
    number ``{seq}`` gives the first record."""

    pattern: str
    parts: tuple[str | _Slot, ...]
    start: int = 1

    @property
    def names(self) -> frozenset[str]:
        """The names the template reads (``seq`` included when used)."""
        return frozenset(p.name for p in self.parts if isinstance(p, _Slot))


def compile_template(
    pattern: str, *, start: int = 1, loc: Location = Location()
) -> CompiledTemplate:
    """Parse ``pattern``; malformed placeholders or unsafe specs raise ``SpecError``."""
    parts: list[str | _Slot] = []
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("{{", i) or pattern.startswith("}}", i):
            literal.append(ch)
            i += 2
        elif ch == "{":
            match = _PLACEHOLDER.match(pattern, i)
            if match is None:
                raise _template_error(pattern, loc, f"malformed placeholder at offset {i}")
            parts.extend(_flush(literal))
            parts.append(_slot(match.group(1), match.group(2), pattern, loc))
            i = match.end()
        elif ch == "}":
            raise _template_error(pattern, loc, f"unmatched '}}' at offset {i} (write '}}}}')")
        else:
            literal.append(ch)
            i += 1
    parts.extend(_flush(literal))
    return CompiledTemplate(pattern, tuple(parts), start)


def _flush(literal: list[str]) -> list[str]:
    text = "".join(literal)
    literal.clear()
    return [text] if text else []


def _slot(name: str, spec: str | None, pattern: str, loc: Location) -> _Slot:
    if name.strip() != name or name.startswith("__"):
        raise _template_error(pattern, loc, f"placeholder name {name!r} is not allowed")
    match = _SAFE_SPEC.fullmatch(spec or "")
    if match is None:
        raise _template_error(
            pattern, loc, f"format spec {spec!r} not supported (use d, 05d, 8s or similar)"
        )
    kind = match["kind"] or ""
    if match["zero"] and kind == "s":
        raise _template_error(pattern, loc, f"zero padding needs an integer spec, not {spec!r}")
    return _Slot(name, bool(match["zero"]), int(match["width"] or 0), kind)


def _template_error(pattern: str, loc: Location, why: str) -> SpecError:
    return spec_error("bad-template", loc, f"template {pattern!r}: {why}", pattern=pattern)


def render_template(
    template: Template | CompiledTemplate,
    columns: Mapping[str, Sequence[str]],
    n: int,
    *,
    loc: Location = Location(),
) -> list[str]:
    """Render ``n`` records; ``columns`` holds the values of the fields the template reads.

    ``{seq}`` is the 1-based record number offset by ``start - 1`` (reserved: it wins over a
    field called ``seq``).
    """
    compiled = template if isinstance(template, CompiledTemplate) else compile_template(
        template.pattern, start=template.start, loc=loc
    )
    for name in compiled.names - {SEQ}:
        if name not in columns:
            raise _template_error(compiled.pattern, loc, f"unknown field {name!r}")
    values: list[str] = render_template_array(compiled, columns, n, loc=loc).tolist()
    return values


def render_template_array(
    compiled: CompiledTemplate, columns: Mapping[str, Sequence[str] | np.ndarray], n: int, *,
    loc: Location = Location(),
) -> np.ndarray:
    """``render_template`` as a numpy text array, built with numpy string operations."""
    for name in compiled.names - {SEQ}:
        if name not in columns:
            raise _template_error(compiled.pattern, loc, f"unknown field {name!r}")
    seqs = np.arange(compiled.start, compiled.start + n, dtype=np.int64)
    return _render_array(compiled, columns, seqs, n, loc)


def render_seq(compiled: CompiledTemplate, seqs: Sequence[int] | np.ndarray) -> np.ndarray:
    """A template that reads only ``{seq}`` for each number in ``seqs`` (keys)."""
    seqs = np.asarray(seqs, dtype=np.int64)
    return _render_array(compiled, {}, seqs, len(seqs), Location())


def _render_array(compiled: CompiledTemplate, columns: Mapping[str, Sequence[str] | np.ndarray],
                  seqs: np.ndarray, n: int, loc: Location) -> np.ndarray:
    out: np.ndarray = np.full(n, "", dtype="U1")
    for p in compiled.parts:
        if isinstance(p, str):
            piece: np.ndarray | str = p
        elif p.name == SEQ:
            piece = _pad(seqs.astype(str), p, numeric=p.kind != "s")
        else:
            piece = _slot_array(p, columns[p.name], n, loc)
            if piece.dtype.kind != "U":  # a text numpy cannot hold: format per record
                return text_array(_render(compiled, columns, seqs.tolist(), n, loc))
        out = np.strings.add(out, piece)
    return out


def _pad(texts: np.ndarray, slot: _Slot, *, numeric: bool) -> np.ndarray:
    """``_format_slot`` padding on texts (integers already as digits with their sign)."""
    if not slot.width or not len(texts):
        return texts
    if not numeric:
        return np.strings.ljust(texts, slot.width)
    if slot.zero:
        return np.strings.zfill(texts, slot.width)
    return np.strings.rjust(texts, slot.width)


def _slot_array(slot: _Slot, values: Sequence[str] | np.ndarray, n: int, loc: Location) -> np.ndarray:
    if len(values) < n:
        raise IndexError(f"template slot {slot.name!r}: {len(values)} values for {n} records")
    values = values[:n]
    if slot.kind == "s" or (slot.kind == "" and not slot.zero):
        if isinstance(values, np.ndarray) and values.dtype.kind == "U":
            return _pad(values, slot, numeric=False)
        if all(type(v) is str for v in values):
            return _pad(text_array(values), slot, numeric=False)  # type: ignore[arg-type]
    return text_array([_format_slot(slot, v, loc) for v in values])  # type: ignore[arg-type]


def _render(compiled: CompiledTemplate, columns: Mapping[str, Sequence[str]],
            seqs: Sequence[int], n: int, loc: Location) -> list[str]:
    """Column-wise rendering: one ``str.format`` per record over a pattern built here from
    escaped literals and validated slots (user text is only ever an argument)."""
    pattern: list[str] = []
    args: list[Sequence[object]] = []
    for p in compiled.parts:
        if isinstance(p, str):
            pattern.append(p.replace("{", "{{").replace("}", "}}"))
        elif p.name == SEQ:
            pattern.append("{:" + _seq_spec(p) + "}")
            args.append(seqs)
        else:
            pattern.append("{}")
            args.append(_slot_texts(p, columns[p.name], n, loc))
    fmt = "".join(pattern)
    if not args:
        return [fmt.format()] * n
    return list(map(fmt.format, *args))


def _seq_spec(slot: _Slot) -> str:
    """The format spec giving ``_format_slot(slot, int)`` for an int (digits: validated)."""
    if slot.kind == "s":
        return f"<{slot.width}" if slot.width else ""
    if slot.zero:
        return f"0{slot.width}d" if slot.width else "d"
    return f"{slot.width}d" if slot.width else "d"


def _slot_texts(slot: _Slot, values: Sequence[str], n: int, loc: Location) -> Sequence[str]:
    if len(values) < n:
        raise IndexError(f"template slot {slot.name!r}: {len(values)} values for {n} records")
    values = values[:n] if len(values) != n else values
    if slot.kind == "s" or (slot.kind == "" and not slot.zero):
        if all(type(v) is str for v in values):
            return [v.ljust(slot.width) for v in values] if slot.width else values
    return [_format_slot(slot, v, loc) for v in values]


def _slot_value(slot: _Slot, columns: Mapping[str, Sequence[str]], i: int, start: int) -> int | str:
    return start + i if slot.name == SEQ else columns[slot.name][i]


def _format_slot(slot: _Slot, value: int | str, loc: Location) -> str:
    as_int = slot.kind == "d" or (slot.kind == "" and (isinstance(value, int) or slot.zero))
    if not as_int:
        return str(value).ljust(slot.width)
    number = _as_int(value, slot, loc)
    digits = str(abs(number))
    sign = "-" if number < 0 else ""
    if slot.zero:
        return sign + digits.zfill(max(slot.width - len(sign), 0))
    return (sign + digits).rjust(slot.width)


def _as_int(value: int | str, slot: _Slot, loc: Location) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(value.strip())
    except ValueError:
        raise spec_error(
            "bad-template",
            loc,
            f"{{{slot.name}}} has an integer format but the value {value!r} is not an integer",
        ) from None
