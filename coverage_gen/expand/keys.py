"""Primary keys from row numbers, and foreign keys as parent row numbers.

Every key is a pure function of (seed, table, row number), so a child can name its parent's
key without the parent's rows being kept, and keys are unique across chunks by construction.
Foreign keys are resolved as arrays of parent row numbers (``-1`` = NULL), in the table
graph's topological order (``graph.generation_order``). Random draws come from streams per
fixed block of ``BLOCK`` rows (``rng_for(seed, table, field, what, block)``), never per
writer chunk, so the output does not depend on the chunk size.
"""

from __future__ import annotations

import math

import numpy as np

from coverage_gen._seed import derive_seed, rng_for
from coverage_gen.errors import Location, UsageError
from coverage_gen.expand.values import CompiledTemplate, _format_slot, compile_template
from coverage_gen.spec.model import CountSpec, IntSequence, Shape, Template, Uuid

__all__ = [
    "BLOCK", "draw_counts", "hash_uniform", "key_values", "per_parent_index",
    "sampled_parents", "self_parents", "sibling_rank", "splitmix64",
]

BLOCK = 65_536  # rows (or parents) per random stream; fixed, independent of chunk size
_NOWHERE = Location()


# --------------------------------------------------------------------------- hashing
def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_uniform(seed: int, names: tuple[str | int, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A uniform (0, 1) float per (a, b) pair, a pure function of seed, names, a and b."""
    base = np.uint64(derive_seed(seed, *names))
    h = splitmix64(splitmix64(a.astype(np.uint64) ^ base) ^ b.astype(np.uint64))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


# --------------------------------------------------------------------------- primary keys
def key_values(shape: Shape, table: str, seed: int, rows: np.ndarray) -> list[str] | np.ndarray:
    """The key of each row number in ``rows`` (0-based; no ``-1`` here).

    Examples
    --------
    >>> key_values(IntSequence(100), "t", 0, np.arange(3)).tolist()
    [100, 101, 102]
    >>> key_values(Template("V-{seq:04d}", 7), "t", 0, np.arange(2))
    ['V-0007', 'V-0008']
    """
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(shape, IntSequence):
        return rows + np.int64(shape.start)
    if isinstance(shape, Template):
        return _template_keys(compile_template(shape.pattern, start=shape.start), rows)
    if isinstance(shape, Uuid):
        return _uuids(table, seed, rows)
    raise UsageError(f"{type(shape).__name__} is not a key shape")


def _template_keys(compiled: CompiledTemplate, rows: np.ndarray) -> list[str]:
    out = []
    for seq in (rows + compiled.start).tolist():
        out.append("".join(p if isinstance(p, str) else _format_slot(p, seq, _NOWHERE)
                           for p in compiled.parts))
    return out


def _uuids(table: str, seed: int, rows: np.ndarray) -> list[str]:
    """RFC 4122 version-4-shaped UUIDs from a keyed hash of the row number."""
    base = np.uint64(derive_seed(seed, table, "uuid"))
    r = rows.astype(np.uint64)
    hi = splitmix64(r ^ base)
    lo = splitmix64(hi ^ r ^ np.uint64(0x5DEECE66D))
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    out = []
    for h, low in zip(hi.tolist(), lo.tolist()):
        s = f"{h:016x}{low:016x}"
        out.append(f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}")
    return out


# --------------------------------------------------------------------------- counts
def draw_counts(spec: CountSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` child counts (int64 >= 0) drawn from a count spec."""
    if spec.kind == "fixed":
        return np.full(n, int(spec.params[0]), dtype=np.int64)
    if spec.kind == "range":
        return rng.integers(int(spec.params[0]), int(spec.params[1]), size=n, endpoint=True,
                            dtype=np.int64)
    if spec.kind == "poisson":
        return rng.poisson(spec.params[0], size=n).astype(np.int64)
    if spec.kind == "zipf":
        a, top = spec.params[0], int(spec.params[1])
        p = np.arange(1, top + 1, dtype=np.float64) ** -a
        return rng.choice(top, size=n, p=p / p.sum()).astype(np.int64) + 1
    if spec.kind == "frequency":
        w = np.asarray(spec.weights, dtype=np.float64)
        picks = rng.choice(len(spec.counts), size=n, p=w / w.sum())
        return np.asarray(spec.counts, dtype=np.int64)[picks]
    raise UsageError(f"unknown count kind {spec.kind!r}")


def per_parent_index(
    spec: CountSpec, parents: int, *, seed: int, table: str, field: str, linked: int = 0
) -> np.ndarray:
    """Parent row numbers for a ``per_parent`` reference: ``linked`` covering rows first
    (row i -> parent i), then each parent's children in parent order."""
    counts = np.concatenate([
        draw_counts(spec, min(BLOCK, parents - lo), rng_for(seed, table, field, "count", b))
        for b, lo in enumerate(range(0, parents, BLOCK))
    ] or [np.zeros(0, dtype=np.int64)])
    head = np.arange(linked, dtype=np.int64)
    return np.concatenate([head, np.repeat(np.arange(parents, dtype=np.int64), counts)])


def sampled_parents(
    n: int, parents: int, *, seed: int, table: str, field: str, power_law: float | None,
    optional: float, start: int = 0,
) -> np.ndarray:
    """Parent row numbers for rows ``start .. n-1`` of a reference without ``per_parent``:
    uniform, or Zipf-like over a seeded ranking of parents; ``optional`` share of -1."""
    if parents < 1:
        raise UsageError(f"{table}.{field}: the parent table has no rows")
    cdf = None
    if power_law is not None:
        rank = rng_for(seed, table, field, "rank").permutation(parents)
        w = (rank.astype(np.float64) + 1.0) ** -power_law
        cdf = np.cumsum(w)
        cdf /= cdf[-1]
    out = np.empty(max(n - start, 0), dtype=np.int64)
    first = start // BLOCK
    for b in range(first, math.ceil(n / BLOCK)):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        rng = rng_for(seed, table, field, "parent", b)
        u = rng.random(hi - lo)
        picks = (np.minimum(np.searchsorted(cdf, u, side="right"), parents - 1) if cdf is not None
                 else (u * parents).astype(np.int64))
        if optional:
            picks = np.where(rng.random(hi - lo) < optional, -1, picks)
        keep = slice(max(start - lo, 0), None)
        out[max(lo, start) - start: hi - start] = picks[keep]
    return out


def self_parents(n: int, depth: int, *, seed: int, table: str, field: str, optional: float) -> np.ndarray:
    """A bounded-depth hierarchy inside one table: row 0 is the root, row i's parent is
    ``(i - 1) // fan`` with the smallest fan-out that fits ``n`` rows in ``depth`` levels
    below the root; ``optional`` makes extra roots (-1). Parents always precede children,
    so no chain loops and none is longer than ``depth``."""
    fan = 1
    while sum(fan ** k for k in range(depth + 1)) < n:
        fan += 1
    idx = np.arange(n, dtype=np.int64)
    parent = np.where(idx == 0, -1, (idx - 1) // max(fan, 1))
    if fan == 1:  # a single chain: cut it into pieces of at most depth + 1 rows
        parent = np.where(idx % (depth + 1) == 0, -1, idx - 1)
    if optional:
        u = np.concatenate([rng_for(seed, table, field, "null", b).random(min(BLOCK, n - lo))
                            for b, lo in enumerate(range(0, n, BLOCK))] or [np.zeros(0)])
        parent = np.where(u < optional, -1, parent)
    return parent


def sibling_rank(parent: np.ndarray, parents: int) -> tuple[np.ndarray, np.ndarray]:
    """For each child: its 0-based rank among its parent's children (in row order), and
    the number of children per parent."""
    counts = np.bincount(parent[parent >= 0], minlength=parents).astype(np.int64)
    order = np.argsort(parent, kind="stable")
    sorted_parent = parent[order]
    starts = np.searchsorted(sorted_parent, sorted_parent, side="left")
    rank = np.empty_like(parent)
    rank[order] = np.arange(len(parent), dtype=np.int64) - starts
    return rank, counts

