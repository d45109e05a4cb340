"""The table graph: order, cycles and the diagnostics of bad references (with lines)."""

from __future__ import annotations

import pytest

from coverage_gen.errors import SpecError
from coverage_gen.graph import across_chain, generation_order
from coverage_gen.spec import parse_spec


def _codes(text: str) -> list[tuple[str, int | None]]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, file="s.yaml")
    return [(d.code, d.loc.line) for d in info.value.diagnostics]


def test_order_is_parents_first() -> None:
    spec = parse_spec(
        "tables:\n"
        "  c: {fields: {id: {uuid: {}, key: true}, b_id: {ref: b.id}}}\n"
        "  b: {fields: {id: {uuid: {}, key: true}, a_id: {ref: a.id}}}\n"
        "  a: {fields: {id: {sequence: {}, key: true}, x: {values: [1, 2]}}}\n"
    )
    assert generation_order(spec) == ("a", "b", "c")
    assert [t for t, _, _ in across_chain(spec, ["c", "a"])] == ["a", "b", "c"]


def test_cycle_names_tables_and_line() -> None:
    assert _codes(
        "tables:\n"
        "  a: {fields: {id: {uuid: {}, key: true}, b_id: {ref: b.id}}}\n"
        "  b: {fields: {id: {uuid: {}, key: true}, a_id: {ref: a.id}}}\n"
    )[0][0] == "reference-cycle"


def test_self_reference_needs_depth() -> None:
    assert ("reference-cycle", 3) in _codes(
        "tables:\n"
        "  e: {fields: {id: {sequence: {}, key: true},\n"
        "               boss: {ref: e.id}}}\n"
    )
    parse_spec("tables:\n  e: {fields: {id: {sequence: {}, key: true}, boss: {ref: e.id, depth: 3}}}\n")


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("{ref: nope.id}", "unknown-table"),
        ("{ref: a.missing}", "unknown-field"),
        ("{ref: a.x}", "not-a-key"),
        ("{ref: [a.id, c.id]}", "fk-two-parents"),
        ("{ref: a.id, type: text}", "key-type-mismatch"),
    ],
)
def test_bad_references(field: str, code: str) -> None:
    text = (
        "tables:\n"
        "  a: {fields: {id: {sequence: {}, key: true}, x: {values: [1, 2]}}}\n"
        "  c: {fields: {id: {sequence: {}, key: true}}}\n"
        f"  b: {{fields: {{id: {{uuid: {{}}, key: true}}, a_id: {field}}}}}\n"
    )
    found = _codes(text)
    assert (code, 4) in found, found


def test_across_off_the_chain() -> None:
    found = _codes(
        "coverage: {across: [a.x, c.y]}\n"
        "tables:\n"
        "  a: {fields: {id: {sequence: {}, key: true}, x: {values: [1, 2]}}}\n"
        "  c: {fields: {id: {sequence: {}, key: true}, y: {values: [1, 2]}}}\n"
    )
    assert found == [("across-chain", 1)]
