"""yamlsource: scalars stay text, nodes carry 1-based locations, broken YAML is located."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_gen.errors import Location, SpecError
from coverage_gen.spec.yamlsource import Node, load_yaml, parse_yaml


def _codes(exc: pytest.ExceptionInfo[SpecError]) -> list[tuple[str, int | None]]:
    return [(d.code, d.loc.line) for d in exc.value.diagnostics]


@pytest.mark.parametrize(
    "written",
    ["NO", "no", "on", "Off", "yes", "y", "0012", "1.50", "1e3", "0x1F", "12:30", "2015-01-01", "~", "null", ".inf"],
)
def test_plain_scalars_stay_as_written(written: str) -> None:
    root = parse_yaml(f"key: {written}\nlist: [{written}]\n")
    assert root.value["key"].value == written
    assert [n.value for n in root.value["list"].value] == [written]


def test_quoted_and_block_scalars_keep_their_style() -> None:
    root = parse_yaml('a: "NO"\nb: \'x\'\nc: |\n  line\nd: plain\n')
    styles = {k: n.style for k, n in root.value.items()}
    assert styles == {"a": '"', "b": "'", "c": "|", "d": None}
    assert root.value["a"].value == "NO"
    assert root.value["c"].value == "line\n"


def test_locations_are_one_based_with_key_paths() -> None:
    text = (
        "tables:\n"            # 1
        "  t:\n"               # 2
        "    fields:\n"        # 3
        "      a: [x, 'y']\n"  # 4
    )
    root = parse_yaml(text, file="s.yaml")
    a = root.value["tables"].value["t"].value["fields"].value["a"]
    assert (a.loc.file, a.loc.line, a.loc.col) == ("s.yaml", 4, 10)
    assert a.loc.path == ("tables", "t", "fields", "a")
    second = a.value[1]
    assert (second.loc.line, second.loc.col, second.loc.path[-1]) == (4, 14, 1)
    # The key's own position: block values start on a later line than their key.
    fields = root.value["tables"].value["t"].value["fields"]
    assert (fields.key_loc.line, fields.key_loc.col) == (3, 5)
    assert fields.loc.line == 4 and fields.where.line == 3


def test_mapping_keeps_document_order() -> None:
    root = parse_yaml("z: 1\na: 2\nm: 3\n")
    assert list(root.value) == ["z", "a", "m"]


def test_only_a_plain_empty_scalar_is_null() -> None:
    root = parse_yaml('a:\nb: ~\nc: ""\nd: null\n')
    assert [root.value[k].is_null for k in "abcd"] == [True, False, False, False]
    assert [root.value[k].value for k in "abcd"] == ["", "~", "", "null"]


def test_duplicate_keys_are_all_reported() -> None:
    text = (
        "a: 1\n"      # 1
        "b:\n"        # 2
        "  x: 1\n"    # 3
        "  x: 2\n"    # 4
        "a: 3\n"      # 5
    )
    with pytest.raises(SpecError) as exc:
        parse_yaml(text, file="d.yaml")
    assert sorted(_codes(exc)) == [("duplicate-key", 4), ("duplicate-key", 5)]
    by_line = {d.loc.line: d for d in exc.value.diagnostics}
    assert "'a'" in by_line[5].msg and "line 1" in by_line[5].msg
    assert by_line[4].loc.path == ("b", "x")


def test_syntax_error_names_file_line_col_and_problem() -> None:
    text = "a: 1\nb: [1, 2\nc: 3\n"
    with pytest.raises(SpecError) as exc:
        parse_yaml(text, file="broken.yaml")
    (diag,) = exc.value.diagnostics
    assert diag.code == "yaml-syntax"
    assert diag.loc.file == "broken.yaml" and diag.loc.line == 3
    assert "expected ',' or ']'" in diag.msg
    assert str(exc.value).startswith("broken.yaml:3:")


def test_tab_indentation_is_a_located_syntax_error() -> None:
    with pytest.raises(SpecError) as exc:
        parse_yaml("a:\n\tb: 1\n")
    assert _codes(exc) == [("yaml-syntax", 2)]


def test_empty_document() -> None:
    with pytest.raises(SpecError) as exc:
        parse_yaml("# only a comment\n")
    assert _codes(exc) == [("empty-document", 1)]


def test_bom_is_ignored_in_text_and_files(tmp_path: Path) -> None:
    root = parse_yaml("\ufeffa: NO\n")
    assert root.value["a"].value == "NO" and root.value["a"].loc.col == 4
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffa: NO\n".encode("utf-8"))
    node = load_yaml(path)
    assert list(node.value) == ["a"]
    assert node.value["a"].loc == Location(str(path), 1, 4, ("a",))


def test_missing_file() -> None:
    with pytest.raises(SpecError) as exc:
        load_yaml("/nonexistent/dir/spec.yaml")
    (diag,) = exc.value.diagnostics
    assert diag.code == "file-not-found" and "/nonexistent/dir/spec.yaml" in diag.msg


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError) as exc:
        load_yaml(path)
    assert exc.value.diagnostics[0].code == "bad-encoding"


def test_node_kind() -> None:
    root = parse_yaml("a: [1]\nb: {c: d}\ne: f\n")
    assert isinstance(root, Node)
    assert [root.value[k].kind() for k in "abe"] == ["list", "mapping", "scalar"]


def test_aliases_expand_and_recursive_ones_are_refused() -> None:
    root = parse_yaml("a: &v [x, y]\nb: *v\n")
    assert [n.value for n in root.value["b"].value] == ["x", "y"]
    with pytest.raises(SpecError) as exc:
        parse_yaml("a: &x [*x]\n")
    assert exc.value.diagnostics[0].code == "yaml-syntax"
