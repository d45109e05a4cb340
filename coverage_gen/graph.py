"""The table graph of a multi-table spec (the only module that imports networkx).

Nodes are table names, an edge ``parent -> child`` carries the reference field of the child
(``fields``: the child's reference field names). A table referencing itself is not an edge
(it is bounded by its ``depth`` and generated within the table); any other cycle is an error.
Imports: spec.model, errors.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from coverage_gen.errors import Diagnostic, Location, SpecError
from coverage_gen.spec.model import Reference, Spec

__all__ = ["across_chain", "build_graph", "generation_order"]


def build_graph(spec: Spec) -> "nx.DiGraph[str]":
    """A DiGraph of the spec's tables with one edge per parent -> child reference."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for table in spec.tables:
        graph.add_node(table.name, loc=table.loc)
    for table in spec.tables:
        for f in table.fields:
            ref = f.shape
            if not isinstance(ref, Reference) or ref.table == table.name:
                continue
            if graph.has_edge(ref.table, table.name):
                graph.edges[ref.table, table.name]["fields"].append(f.name)
            else:
                graph.add_edge(ref.table, table.name, fields=[f.name], loc=f.loc)
    return graph


def generation_order(spec: Spec) -> tuple[str, ...]:
    """Tables parents first (ties in declaration order).

    Raises
    ------
    SpecError
        ``reference-cycle`` naming the tables of each cycle and the line of one reference.

    Examples
    --------
    >>> from coverage_gen.spec.model import FieldSpec, Reference, Spec, Table, Uuid
    >>> a = Table("a", (FieldSpec("id", Uuid(), key=True),))
    >>> b = Table("b", (FieldSpec("id", Uuid(), key=True), FieldSpec("a_id", Reference("a", "id"))))
    >>> generation_order(Spec((b, a)))
    ('a', 'b')
    """
    graph = build_graph(spec)
    position = {t.name: i for i, t in enumerate(spec.tables)}
    try:
        order = nx.lexicographical_topological_sort(graph, key=lambda n: position[n])
        return tuple(order)
    except nx.NetworkXUnfeasible:
        raise SpecError(_cycle_diagnostics(graph)) from None


def _cycle_diagnostics(graph: "nx.DiGraph[str]") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for cycle in nx.simple_cycles(graph):
        names = " -> ".join([*cycle, cycle[0]])
        edge = graph.edges[cycle[-1], cycle[0]]
        loc: Location = edge.get("loc", Location())
        out.append(
            Diagnostic(
                "reference-cycle",
                loc,
                f"tables reference each other in a cycle: {names} (field "
                f"{cycle[0]}.{edge['fields'][0]}); only a table referencing itself "
                "(with depth:) may loop",
                ctx={"tables": list(cycle)},
            )
        )
        if len(out) >= 5:
            break
    return out


def across_chain(
    spec: Spec, tables: Sequence[str], loc: Location = Location()
) -> tuple[tuple[str, str | None, str | None], ...]:
    """The parent chain through ``tables``: ``(table, ref_field, parent)`` top-down.

    The first entry has no parent (``None``); each further table references the previous
    one through ``ref_field``. Tables between two named ones on the path are included.

    Raises
    ------
    SpecError
        ``across-chain`` when the tables are not on one parent -> child path.
    """
    graph = build_graph(spec)
    order = {name: i for i, name in enumerate(generation_order(spec))}
    named = sorted(dict.fromkeys(tables), key=lambda n: order[n])
    path = [named[0]]
    for parent, child in zip(named, named[1:]):
        try:
            step = nx.shortest_path(graph, parent, child)
        except nx.NetworkXNoPath:
            raise SpecError(
                Diagnostic(
                    "across-chain",
                    loc,
                    f"coverage.across: tables {parent!r} and {child!r} are not linked by "
                    f"references ({child!r} must reach {parent!r} through its references); "
                    "across fields must lie on one parent -> child chain",
                    ctx={"tables": [parent, child]},
                )
            ) from None
        path.extend(step[1:])
    chain: list[tuple[str, str | None, str | None]] = [(path[0], None, None)]
    for parent, child in zip(path, path[1:]):
        chain.append((child, graph.edges[parent, child]["fields"][0], parent))
    return tuple(chain)
