"""Samplers and templates: distributions, seeding, formatting, safety."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal

import pytest

from coverage_gen._seed import rng_for
from coverage_gen.errors import SpecError, UsageError
from coverage_gen.expand.records import Records, expand_records
from coverage_gen.expand.values import (
    compile_template,
    render_template,
    sample_field,
)
from coverage_gen.spec.model import (
    Categorical,
    DateRange,
    DecimalRange,
    FieldSpec,
    Frequency,
    IntegerRange,
    LogNormal,
    Spec,
    Table,
    Template,
)


def rng(name: str = "f"):
    return rng_for(7, "t", name)


def test_lognormal_median_near_declared_median() -> None:
    values = [float(v) for v in sample_field(LogNormal(Decimal("250"), 0.8), 20_000, rng())]
    assert statistics.median(values) == pytest.approx(250, rel=0.03)
    # the spread matches sigma: log values have stdev ~ 0.8
    assert statistics.stdev(math.log(v) for v in values) == pytest.approx(0.8, rel=0.05)


def test_lognormal_clipping_and_places() -> None:
    shape = LogNormal(Decimal("100"), 2.0, Decimal("10.005"), Decimal("500.999"), places=2)
    values = sample_field(shape, 5_000, rng())
    assert all(len(v.split(".")[1]) == 2 for v in values)
    numbers = [Decimal(v) for v in values]
    assert min(numbers) == Decimal("10.01")  # clip limits rounded inwards to the grid
    assert max(numbers) == Decimal("500.99")


def test_lognormal_zero_places_has_no_point() -> None:
    values = sample_field(LogNormal(Decimal("1000"), 0.1, places=0), 100, rng())
    assert all(v.isdigit() for v in values)


def test_integer_and_decimal_ranges_inclusive() -> None:
    ints = {int(v) for v in sample_field(IntegerRange(-2, 2), 2_000, rng())}
    assert ints == {-2, -1, 0, 1, 2}
    decs = sample_field(DecimalRange(Decimal("0.001"), Decimal("0.05"), 2), 2_000, rng())
    assert {Decimal(v) for v in decs} == {Decimal("0.01"), Decimal("0.02"), Decimal("0.03"),
                                         Decimal("0.04"), Decimal("0.05")}
    assert all(len(v) == 4 for v in decs)


def test_huge_integer_bounds_stay_exact() -> None:
    lo = 10**30
    values = [int(v) for v in sample_field(IntegerRange(lo, lo + 3), 200, rng())]
    assert set(values) == {lo, lo + 1, lo + 2, lo + 3}


def test_dates_in_range_and_formatted() -> None:
    shape = DateRange(dt.date(2024, 2, 27), dt.date(2024, 3, 2), "%d.%m.%Y")
    values = sample_field(shape, 1_000, rng())
    parsed = {dt.datetime.strptime(v, "%d.%m.%Y").date() for v in values}
    assert parsed == {dt.date(2024, 2, 27) + dt.timedelta(days=d) for d in range(5)}


def test_frequency_follows_weights() -> None:
    values = sample_field(Frequency(("a", "b", "c"), (6.0, 3.0, 1.0)), 20_000, rng())
    share = {v: values.count(v) / len(values) for v in "abc"}
    assert share == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1}, abs=0.015)


@pytest.mark.parametrize(
    "shape",
    [
        IntegerRange(0, 10**6),
        DecimalRange(Decimal("0"), Decimal("99.99")),
        LogNormal(Decimal("5"), 1.0),
        DateRange(dt.date(2000, 1, 1), dt.date(2030, 1, 1)),
        Frequency(("x", "y"), (1.0, 1.0)),
    ],
)
def test_same_seed_same_output(shape) -> None:
    assert sample_field(shape, 50, rng()) == sample_field(shape, 50, rng())
    assert sample_field(shape, 50, rng()) != sample_field(shape, 50, rng("other"))


def test_bad_shapes_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        sample_field(IntegerRange(5, 1), 3, rng())
    with pytest.raises(UsageError):
        sample_field(Categorical(("a",)), 3, rng())
    with pytest.raises(UsageError):
        sample_field(Frequency(("a",), (0.0,)), 3, rng())


# --------------------------------------------------------------------------- templates
def test_template_seq_and_fields() -> None:
    columns = {"country": ["US", "DE"], "code": ["7", "42"]}
    out = render_template(Template("V-{seq:05d}/{country}/{code:03d}/{seq}", start=10), columns, 2)
    assert out == ["V-00010/US/007/10", "V-00011/DE/042/11"]


def test_template_braces_and_widths() -> None:
    out = render_template(Template("{{{seq:4d}}}[{name:5s}]"), {"name": ["ab"]}, 1)
    assert out == ["{   1}[ab   ]"]


@pytest.mark.parametrize(
    "pattern",
    [
        "{__class__}",
        "{seq.__class__}",
        "{seq[0]}",
        "{seq!r}",
        "{seq:{x}}",
        "{seq:>10}",
        "{seq:,d}",
        "{",
        "}",
        "{}",
    ],
)
def test_template_rejects_unsafe_or_malformed(pattern: str) -> None:
    with pytest.raises(SpecError):
        render_template(Template(pattern), {"__class__": ["x"], "x": ["1"]}, 1)


def test_template_unknown_field_and_non_integer() -> None:
    with pytest.raises(SpecError, match="unknown field"):
        render_template(Template("{nope}"), {}, 1)
    with pytest.raises(SpecError, match="not an integer"):
        render_template(Template("{a:03d}"), {"a": ["x"]}, 1)


def test_compile_template_lists_names() -> None:
    assert compile_template("{seq}-{a}-{b:3s}").names == {"seq", "a", "b"}


# --------------------------------------------------------------------------- records
def _spec(*extra: FieldSpec) -> Spec:
    fields = (
        FieldSpec("id", Template("R{seq:03d}-{country}")),
        FieldSpec("country", Categorical(("US", "DE"))),
        FieldSpec("amount", LogNormal(Decimal("100"), 0.5)),
        FieldSpec("tier", Categorical(("1", "2"), numeric=True)),
        *extra,
    )
    return Spec((Table("orders", fields),), seed=3)


def test_expand_records_columns_order_and_values() -> None:
    records = expand_records(_spec(), [("US", "1"), ("DE", "2")], extra_rows=[("US", "2")], seed=1)
    assert isinstance(records, Records)
    assert records.table == "orders"
    assert records.columns == ("id", "country", "amount", "tier")
    assert [r[0] for r in records.rows] == ["R001-US", "R002-DE", "R003-US"]
    assert [(r[1], r[3]) for r in records.rows] == [("US", "1"), ("DE", "2"), ("US", "2")]
    assert all(isinstance(v, str) for row in records.rows for v in row)


def test_adding_a_field_does_not_change_others() -> None:
    rows = [("US", "1"), ("DE", "2"), ("DE", "1")]
    before = expand_records(_spec(), rows, seed=5)
    when = FieldSpec("when", DateRange(dt.date(2020, 1, 1), dt.date(2021, 1, 1)))
    after = expand_records(_spec(when), rows, seed=5)
    assert [r[:4] for r in after.rows] == before.rows
    other_seed = expand_records(_spec(), rows, seed=6)
    assert [r[2] for r in other_seed.rows] != [r[2] for r in before.rows]


def test_templates_may_read_templates_but_not_in_a_cycle() -> None:
    ok = _spec(FieldSpec("label", Template("<{id}>")))
    assert expand_records(ok, [("US", "1")], seed=0).rows[0][-1] == "<R001-US>"
    cyclic = _spec(FieldSpec("p", Template("{q}")), FieldSpec("q", Template("{p}")))
    with pytest.raises(SpecError, match="cycle"):
        expand_records(cyclic, [("US", "1")], seed=0)


def test_wrong_row_width_is_usage_error() -> None:
    with pytest.raises(UsageError):
        expand_records(_spec(), [("US",)], seed=0)


def test_no_rows() -> None:
    assert expand_records(_spec(), [], seed=0).rows == []
