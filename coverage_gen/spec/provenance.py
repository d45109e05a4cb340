"""Where a spec's choices come from (``sources:``, ``source:`` citations) and what the data is
for (``contract:``), read from the ``yamlsource`` node tree into frozen objects.

The format::

    sources:                                  # a register of where choices come from
      sample12:
        kind: observed-sample                 # observed-sample | domain-expert |
                                              # public-standard | tool-default
        who: AP team export
        when: 2024-07-31                      # YYYY-MM-DD
        confidence: medium                    # low | medium | high
        note: 12 rows                         # optional
    contract:                                 # purpose and limits of the generated data
      purpose: test the AP intake
      appropriate_for: [integration tests]
      not_appropriate_for: [estimating spend]
      owner: ap-platform@example.com
      contacts: [{who: jane@example.com, about: currency rules}]
      review_date: 2025-06-30
    sample: ../data/vendors_12.csv            # optional: the sample the spec was built from
    tables:
      t:
        source: sample12                      # cites the table's cardinality (rows:)
        fields:
          country: {values: [US, DE], source: sample12}
        constraints:
          - {rule: 'IF [country] = "DE" THEN ...', source: sample12}
          - IF ...                            # a plain string rule cites nothing

Every vocabulary (``values``), distribution (``integer``, ``decimal``, ``lognormal``, ``date``,
``frequency``), cardinality (``rows``; a multi-table ``ref``) and rule should cite a source: a missing citation is a
``missing-source`` warning (an error under ``generate --strict``); a citation of an id that is
not in ``sources:`` is an ``unknown-source`` error at its line.

This module imports only ``errors``, ``spec.yamlsource`` and the standard library; ``parse``
calls :func:`read_provenance` and keeps the result on ``Spec.provenance``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from dataclasses import dataclass, field

from coverage_gen.errors import Diagnostic, Location
from coverage_gen.spec.yamlsource import Node

__all__ = [
    "CITED_SHAPES",
    "CONFIDENCE_LEVELS",
    "PROVENANCE_CODES",
    "SOURCE_KINDS",
    "Citation",
    "Contact",
    "Contract",
    "Provenance",
    "Source",
    "read_provenance",
]

SOURCE_KINDS = ("observed-sample", "domain-expert", "public-standard", "tool-default")
CONFIDENCE_LEVELS = ("low", "medium", "high")
SOURCE_KEYS = ("kind", "who", "when", "confidence", "note")
CONTRACT_KEYS = (
    "purpose", "appropriate_for", "not_appropriate_for", "owner", "contacts", "review_date",
)  # fmt: skip
CONTACT_KEYS = ("who", "about")
# Shape key -> what a citation on it vouches for; other shapes (templates, keys) may cite too.
CITED_SHAPES = {
    "values": "vocabulary",
    "integer": "distribution",
    "decimal": "distribution",
    "lognormal": "distribution",
    "date": "distribution",
    "frequency": "distribution",
    "ref": "cardinality",  # multi-table: children per parent (per_parent, weight, optional)
}
PROVENANCE_CODES = ("unknown-source", "missing-source", "bad-source")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --------------------------------------------------------------------------- model
@dataclass(frozen=True, slots=True)
class Source:
    """One entry of the ``sources:`` register."""

    id: str
    kind: str
    who: str = ""
    when: _dt.date | None = None
    confidence: str = ""
    note: str = ""
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Contact:
    who: str
    about: str = ""


@dataclass(frozen=True, slots=True)
class Contract:
    """The declared purpose and limits of the generated data."""

    purpose: str = ""
    appropriate_for: tuple[str, ...] = ()
    not_appropriate_for: tuple[str, ...] = ()
    owner: str = ""
    contacts: tuple[Contact, ...] = ()
    review_date: _dt.date | None = None
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Citation:
    """What cites which source: ``kind`` is ``field``, ``rule`` or ``rows``; ``name`` the
    field name, the rule's position in its table's list (``"0"``, ...) or ``"rows"``;
    ``what`` is ``vocabulary``, ``distribution``, ``cardinality``, ``rule`` or ``other``."""

    table: str
    kind: str
    name: str
    what: str
    source: str | None
    loc: Location = field(default=Location(), compare=False)


@dataclass(frozen=True, slots=True)
class Provenance:
    sources: tuple[Source, ...] = ()
    contract: Contract | None = None
    citations: tuple[Citation, ...] = ()
    sample: str | None = None  # as written, relative to the spec file
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)

    def source(self, source_id: str | None) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def citation(self, table: str, kind: str, name: str) -> Citation | None:
        return next(
            (c for c in self.citations if (c.table, c.kind, c.name) == (table, kind, name)), None
        )

    def field_source(self, table: str, name: str) -> Source | None:
        cited = self.citation(table, "field", name)
        return self.source(cited.source) if cited else None

    def rule_source(self, table: str, position: int) -> Source | None:
        cited = self.citation(table, "rule", str(position))
        return self.source(cited.source) if cited else None


# --------------------------------------------------------------------------- reading
def read_provenance(root: Node) -> tuple[Provenance, list[Diagnostic]]:
    """The provenance parts of a spec tree and the errors found in them.

    Missing citations are returned as warnings on ``Provenance.warnings`` (``missing-source``),
    not in the error list. Shapes of the tree that ``parse`` reports (a non-mapping spec,
    unknown keys, ...) are skipped silently here.

    Examples
    --------
    >>> from coverage_gen.spec.yamlsource import parse_yaml
    >>> prov, errors = read_provenance(parse_yaml('''
    ... sources: {s1: {kind: domain-expert, who: Ann, when: 2024-01-31, confidence: low}}
    ... tables:
    ...   t:
    ...     fields:
    ...       a: {values: [x, y], source: s1}
    ...       b: {values: [x, y]}
    ... '''))
    >>> errors, prov.field_source("t", "a").who
    ([], 'Ann')
    >>> [w.msg for w in prov.warnings]
    ["field 'b' (vocabulary) cites no source; add source: <id> (one of: s1)"]
    """
    errors: list[Diagnostic] = []
    top = root.value if isinstance(root.value, dict) else {}
    sources = _sources(top["sources"], errors) if "sources" in top else ()
    contract = _contract(top["contract"], errors) if "contract" in top else None
    sample = _text(top["sample"], "sample", errors) if "sample" in top else None
    citations = _citations(top.get("tables"), errors)
    known = {s.id for s in sources}
    for cited in citations:
        if cited.source is not None and cited.source not in known:
            close = difflib.get_close_matches(cited.source, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            valid = ", ".join(sorted(known)) or "none declared; add a sources: section"
            errors.append(_error(
                "unknown-source", cited.loc,
                f"source '{cited.source}' is not in sources:{hint}; valid ids: {valid}",
                source=cited.source,
            ))  # fmt: skip
    warnings = tuple(_missing(c, known, root.loc) for c in citations if c.source is None and c.what != "other")
    return Provenance(sources, contract, citations, sample, warnings), errors


def _missing(cited: Citation, known: set[str], root: Location) -> Diagnostic:
    choices = f" (one of: {', '.join(sorted(known))})" if known else " and declare it under sources:"
    if cited.kind == "rule":
        what = f"rule {int(cited.name) + 1} of table '{cited.table}'"
        fix = f"write it as {{rule: ..., source: <id>}}{choices}"
    elif cited.kind == "rows":
        what = f"the row count of table '{cited.table}' (cardinality)"
        fix = f"add source: <id> to the table{choices}"
    else:
        what = f"field '{cited.name}' ({cited.what})"
        fix = f"add source: <id>{choices}"
    return Diagnostic(
        "missing-source", cited.loc, f"{what} cites no source; {fix}", "warning",
        {"table": cited.table, "kind": cited.kind, "name": cited.name},
    )  # fmt: skip


def _error(code: str, loc: Location, msg: str, **ctx: object) -> Diagnostic:
    return Diagnostic(code, loc, msg, "error", dict(ctx))


def _text(node: Node, what: str, errors: list[Diagnostic]) -> str | None:
    if isinstance(node.value, str):
        return node.value
    errors.append(_error("wrong-type", node.loc, f"{what} must be text, got a {node.kind()}"))
    return None


def _mapping(node: Node, what: str, errors: list[Diagnostic]) -> dict[str, Node] | None:
    if isinstance(node.value, dict):
        return node.value
    errors.append(_error("wrong-type", node.loc, f"{what} must be a mapping (key: value), got a {node.kind()}"))
    return None


def _keys(mapping: dict[str, Node], what: str, valid: tuple[str, ...], errors: list[Diagnostic]) -> None:
    for key, child in mapping.items():
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors.append(_error(
                "unknown-key", child.where,
                f"unknown key '{key}' in {what}{hint}; valid keys: {', '.join(valid)}", key=key,
            ))  # fmt: skip


def _choice(node: Node, what: str, valid: tuple[str, ...], errors: list[Diagnostic]) -> str | None:
    text = _text(node, what, errors)
    if text is not None and text not in valid:
        errors.append(_error("bad-choice", node.loc, f"{what} must be one of: {', '.join(valid)}; got '{text}'"))
        return None
    return text


def _date(node: Node, what: str, errors: list[Diagnostic]) -> _dt.date | None:
    text = _text(node, what, errors)
    if text is None:
        return None
    if _DATE.fullmatch(text):
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            pass
    errors.append(_error("bad-date", node.loc, f"{what} must be a date written YYYY-MM-DD, got '{text}'"))
    return None


def _texts(node: Node, what: str, errors: list[Diagnostic]) -> tuple[str, ...]:
    """A list of texts; a single text is taken as a list of one."""
    if isinstance(node.value, str):
        return (node.value,)
    if not isinstance(node.value, list):
        errors.append(_error("wrong-type", node.loc, f"{what} must be a list of texts, got a {node.kind()}"))
        return ()
    return tuple(t for t in (_text(item, f"{what} item", errors) for item in node.value) if t is not None)


def _sources(node: Node, errors: list[Diagnostic]) -> tuple[Source, ...]:
    mapping = _mapping(node, "sources", errors)
    if mapping is None:
        return ()
    out: list[Source] = []
    for sid, child in mapping.items():
        what = f"source '{sid}'"
        entry = _mapping(child, what, errors)
        if entry is None:
            continue
        _keys(entry, what, SOURCE_KEYS, errors)
        if "kind" not in entry:
            errors.append(_error(
                "missing-key", child.where,
                f"{what} needs the key 'kind' (one of: {', '.join(SOURCE_KINDS)})", key="kind",
            ))  # fmt: skip
            continue
        kind = _choice(entry["kind"], f"{what}: kind", SOURCE_KINDS, errors)
        who = _text(entry["who"], f"{what}: who", errors) if "who" in entry else ""
        when = _date(entry["when"], f"{what}: when", errors) if "when" in entry else None
        conf = _choice(entry["confidence"], f"{what}: confidence", CONFIDENCE_LEVELS, errors) if "confidence" in entry else ""
        note = _text(entry["note"], f"{what}: note", errors) if "note" in entry else ""
        if kind is not None:
            out.append(Source(sid, kind, who or "", when, conf or "", note or "", child.where))
    return tuple(out)


def _contract(node: Node, errors: list[Diagnostic]) -> Contract | None:
    mapping = _mapping(node, "contract", errors)
    if mapping is None:
        return None
    _keys(mapping, "contract", CONTRACT_KEYS, errors)
    get = mapping.get
    purpose = _text(mapping["purpose"], "contract.purpose", errors) if "purpose" in mapping else ""
    owner = _text(mapping["owner"], "contract.owner", errors) if "owner" in mapping else ""
    review = _date(mapping["review_date"], "contract.review_date", errors) if "review_date" in mapping else None
    good = _texts(mapping["appropriate_for"], "contract.appropriate_for", errors) if get("appropriate_for") else ()
    bad = _texts(mapping["not_appropriate_for"], "contract.not_appropriate_for", errors) if get("not_appropriate_for") else ()
    contacts = _contacts(mapping["contacts"], errors) if "contacts" in mapping else ()
    return Contract(purpose or "", good, bad, owner or "", contacts, review, node.where)


def _contacts(node: Node, errors: list[Diagnostic]) -> tuple[Contact, ...]:
    if not isinstance(node.value, list):
        errors.append(_error("wrong-type", node.loc, f"contract.contacts must be a list of {{who, about}}, got a {node.kind()}"))
        return ()
    out: list[Contact] = []
    for i, item in enumerate(node.value):
        what = f"contract.contacts item {i + 1}"
        entry = _mapping(item, what, errors)
        if entry is None:
            continue
        _keys(entry, what, CONTACT_KEYS, errors)
        if "who" not in entry:
            errors.append(_error("missing-key", item.loc, f"{what} needs the key 'who'", key="who"))
            continue
        who = _text(entry["who"], f"{what}: who", errors)
        about = _text(entry["about"], f"{what}: about", errors) if "about" in entry else ""
        if who is not None:
            out.append(Contact(who, about or ""))
    return tuple(out)


def _citations(node: Node | None, errors: list[Diagnostic]) -> tuple[Citation, ...]:
    if node is None or not isinstance(node.value, dict):
        return ()
    out: list[Citation] = []
    for table, tnode in node.value.items():
        if not isinstance(tnode.value, dict):
            continue
        body = tnode.value
        if "rows" in body or "source" in body:
            out.append(_cite(table, "rows", "rows", "cardinality", body.get("source"), tnode, errors))
        fields = body.get("fields")
        if fields is not None and isinstance(fields.value, dict):
            for name, fnode in fields.value.items():
                if isinstance(fnode.value, dict):
                    shape = next((k for k in fnode.value if k in CITED_SHAPES), None)
                    what = CITED_SHAPES[shape] if shape else "other"
                    out.append(_cite(table, "field", name, what, fnode.value.get("source"), fnode, errors))
        rules = body.get("constraints")
        if rules is not None and isinstance(rules.value, list):
            for position, item in enumerate(rules.value):
                cited = item.value.get("source") if isinstance(item.value, dict) else None
                out.append(_cite(table, "rule", str(position), "rule", cited, item, errors))
    return tuple(out)


def _cite(
    table: str, kind: str, name: str, what: str, cited: Node | None, owner: Node, errors: list[Diagnostic]
) -> Citation:
    if cited is None:
        return Citation(table, kind, name, what, None, owner.where)
    text = _text(cited, f"{kind} '{name}': source", errors)
    return Citation(table, kind, name, what, text, cited.loc)
