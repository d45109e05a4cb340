"""YAML text → a small tree of ``Node`` objects that keep every scalar as written.

Why not ``yaml.safe_load``: YAML 1.1 typing turns ``NO`` into ``False``, ``0012`` into ``10``
(octal) and ``1.50`` into ``1.5``, silently changing a vocabulary. We compose the document with
PyYAML's ``BaseLoader`` resolver (every scalar is a string) and convert the node graph
ourselves, so each value stays text and carries the ``Location`` it was written at. The spec
parser types scalars later, by the spec's own rules.

Error codes raised here: ``file-not-found``, ``bad-encoding``, ``yaml-syntax``,
``duplicate-key``, ``empty-document``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import yaml

from coverage_gen.errors import Diagnostic, Location, SpecError, spec_error

__all__ = ["Node", "NodeValue", "load_yaml", "parse_yaml"]

NodeValue = Union[str, list["Node"], dict[str, "Node"]]


@dataclass(frozen=True, slots=True)
class Node:
    """One YAML node: a scalar (``str``), a sequence (``list``) or a mapping (``dict``).

    Attributes
    ----------
    value
        The text of a scalar exactly as written, or the children of a sequence/mapping
        (mapping keys are scalar texts, in document order).
    loc
        File, 1-based line and column of the node's first character, and its key path.
    style
        PyYAML's scalar style: ``None`` for a plain scalar, ``'"'``/``"'"`` for quoted ones,
        ``"|"``/``">"`` for block scalars. ``None`` for collections.
    key_loc
        Where the mapping key that holds this node was written (``None`` for the root and
        list items). Errors about "field X" point here: in block style the value starts on
        a later line than its key.
    """

    value: NodeValue
    loc: Location
    style: str | None = field(default=None, compare=False)
    key_loc: Location | None = field(default=None, compare=False)

    @property
    def where(self) -> Location:
        """The key's location when there is one, else the node's own."""
        return self.key_loc or self.loc

    @property
    def is_scalar(self) -> bool:
        return isinstance(self.value, str)

    @property
    def is_null(self) -> bool:
        """A plain empty scalar (``key:`` or ``-`` with nothing after it).

        ``~`` and ``null`` are text like any other word: a vocabulary may well test "null".
        """
        return self.style is None and self.value == ""

    def kind(self) -> str:
        """``scalar``, ``list`` or ``mapping``: used in "expected X, got Y" messages."""
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        return "scalar"


def load_yaml(path: str | Path) -> Node:
    """Read a YAML file into a ``Node`` tree (UTF-8, optional BOM).

    Raises
    ------
    SpecError
        ``file-not-found`` when the file cannot be read, ``bad-encoding`` when it is not
        UTF-8, and every error of :func:`parse_yaml`.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise spec_error("file-not-found", Location(name), f"spec file not found: {name}") from None
    except OSError as exc:
        why = f"cannot read {name}: {exc.strerror}"
        raise spec_error("file-not-found", Location(name), why) from None
    try:
        text = data.decode("utf-8-sig")  # -sig: a leading BOM is dropped, not kept as text
    except UnicodeDecodeError as exc:
        raise spec_error(
            "bad-encoding", Location(name), f"file is not valid UTF-8 (byte offset {exc.start})"
        ) from None
    return parse_yaml(text, file=name)


def parse_yaml(text: str, file: str = "<string>") -> Node:
    """Parse YAML text (one document) into a ``Node`` tree with every scalar kept as text.

    Raises
    ------
    SpecError
        ``yaml-syntax`` naming file:line:col and PyYAML's problem, ``duplicate-key`` (all
        duplicates in the document, one diagnostic each), ``empty-document``.

    Examples
    --------
    >>> root = parse_yaml("country: [US, NO]\\nzip: 0012\\n")
    >>> [n.value for n in root.value["country"].value], root.value["zip"].value
    (['US', 'NO'], '0012')
    >>> root.value["zip"].loc.line, root.value["zip"].loc.col
    (2, 6)
    """
    text = text.removeprefix("\ufeff")
    try:
        composed = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:  # e.g. ReaderError: a non-printable character
        raise spec_error("yaml-syntax", Location(file), f"invalid YAML: {exc}") from None
    if composed is None:
        raise spec_error("empty-document", Location(file, 1, 1), "the spec is empty")
    duplicates: list[Diagnostic] = []
    try:
        root = _convert(composed, file, (), duplicates)
    except RecursionError:  # `a: &x [*x]`: an alias inside its own anchor never ends
        raise spec_error("yaml-syntax", Location(file), "invalid YAML: recursive alias") from None
    if duplicates:
        raise SpecError(duplicates)
    return root


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> SpecError:
    """One diagnostic at PyYAML's problem mark (0-based there, 1-based here)."""
    mark = exc.problem_mark or exc.context_mark
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark:
        problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
    return spec_error("yaml-syntax", loc, f"invalid YAML: {problem}")


def _loc(node: yaml.Node, file: str, path: tuple[str | int, ...]) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1, path)


def _convert(
    node: yaml.Node,
    file: str,
    path: tuple[str | int, ...],
    duplicates: list[Diagnostic],
    key_loc: Location | None = None,
) -> Node:
    """Recursively turn PyYAML nodes into ``Node``; duplicate keys are collected, not raised."""
    loc = _loc(node, file, path)
    if isinstance(node, yaml.ScalarNode):
        return Node(node.value, loc, node.style, key_loc)
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(item, file, path + (i,), duplicates) for i, item in enumerate(node.value)]
        return Node(items, loc, None, key_loc)
    assert isinstance(node, yaml.MappingNode)
    return Node(_convert_mapping(node, file, path, duplicates), loc, None, key_loc)


def _convert_mapping(
    node: yaml.MappingNode, file: str, path: tuple[str | int, ...], duplicates: list[Diagnostic]
) -> dict[str, Node]:
    children: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_loc = _loc(key_node, file, path)
        if not isinstance(key_node, yaml.ScalarNode):
            # A list or mapping used as a key: nothing in a spec can mean that.
            duplicates.append(Diagnostic("yaml-syntax", key_loc, "mapping keys must be plain text"))
            continue
        key = key_node.value
        key_loc = _loc(key_node, file, path + (key,))
        if key in children:
            first = children[key].where.line
            duplicates.append(
                Diagnostic(
                    "duplicate-key",
                    key_loc,
                    f"duplicate key '{key}' (first defined at line {first})",
                    ctx={"key": key, "first_line": first},
                )
            )
            continue
        children[key] = _convert(value_node, file, path + (key,), duplicates, key_loc)
    return children
