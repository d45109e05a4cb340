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
from collections.abc import Callable

import numpy as np

from coverage_gen._seed import derive_seed, rng_for
from coverage_gen.errors import UsageError
from coverage_gen.expand.values import CompiledTemplate, compile_template, render_seq
from coverage_gen.spec.model import CountSpec, IntSequence, Shape, Template, Uuid

__all__ = [
    "BLOCK", "PerParentIndex", "SampledParents", "SelfParents", "draw_counts", "hash_uniform",
    "key_values", "per_parent_index", "sampled_parents", "self_parents", "sibling_rank",
    "splitmix64",
]

BLOCK = 65_536  # rows (or parents) per random stream; fixed, independent of chunk size


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
    values: list[str] = render_seq(compiled, rows + compiled.start).tolist()
    return values


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)
_HEX_COLUMNS = [i for i in range(36) if i not in _DASHES]


def _uuids(table: str, seed: int, rows: np.ndarray) -> list[str]:
    """RFC 4122 version-4-shaped UUIDs from a keyed hash of the row number."""
    base = np.uint64(derive_seed(seed, table, "uuid"))
    r = rows.astype(np.uint64)
    hi = splitmix64(r ^ base)
    lo = splitmix64(hi ^ r ^ np.uint64(0x5DEECE66D))
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    # 32 hex digits per row, most significant nibble first, then the dashes: all in numpy.
    words = np.stack([hi, lo], axis=1)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = (words[:, :, None] >> shifts) & np.uint64(0xF)
    chars = np.full((len(r), 36), ord("-"), dtype=np.uint8)
    chars[:, _HEX_COLUMNS] = _HEX[nibbles.reshape(len(r), 32)]
    out: list[str] = chars.view("S36").reshape(-1).astype("U36").tolist()
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
    index = PerParentIndex(spec, parents, seed=seed, table=table, field=field, linked=linked)
    return index.rows(0, index.length)


class PerParentIndex:
    """``per_parent_index`` block by block: row ``r``'s parent without the whole array.

    Only the number of children per block of ``BLOCK`` parents is kept; a block's counts
    are drawn again (same stream) when its children are asked for. Rows from ``length``
    on (when the table has more rows than the counts give) wrap around the parents.
    """

    def __init__(self, spec: CountSpec, parents: int, *, seed: int, table: str, field: str,
                 linked: int = 0) -> None:
        self.spec, self.parents, self.seed, self.table, self.field = spec, parents, seed, table, field
        self.linked = linked
        totals = [int(self._draw(b).sum()) for b in range(math.ceil(parents / BLOCK))]
        self.starts = np.concatenate([[0], np.cumsum(totals, dtype=np.int64)]).astype(np.int64)
        self.length = linked + int(self.starts[-1])
        self._cache: tuple[int, np.ndarray] | None = None

    def _draw(self, b: int) -> np.ndarray:
        lo = b * BLOCK
        rng = rng_for(self.seed, self.table, self.field, "count", b)
        return draw_counts(self.spec, min(BLOCK, self.parents - lo), rng)

    def _ends(self, b: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != b:
            self._cache = (b, np.cumsum(self._draw(b)))
        return self._cache[1]

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Parent row numbers of rows ``lo .. hi-1``."""
        out = np.empty(max(hi - lo, 0), dtype=np.int64)
        head, length = self.linked, self.length
        if min(hi, head) > lo:
            out[: min(hi, head) - lo] = np.arange(lo, min(hi, head), dtype=np.int64)
        a, z = max(lo, head), min(hi, length)
        if z > a:
            ra, rz = a - head, z - head
            b = int(np.searchsorted(self.starts, ra, side="right")) - 1
            pieces = []
            while b < len(self.starts) - 1 and self.starts[b] < rz:
                first = int(self.starts[b])
                local = np.arange(max(ra, first) - first, min(rz, int(self.starts[b + 1])) - first)
                pieces.append(np.searchsorted(self._ends(b), local, side="right") + b * BLOCK)
                b += 1
            out[a - lo: z - lo] = np.concatenate(pieces)
        if hi > max(lo, length):
            a = max(lo, length)
            out[a - lo:] = (np.arange(a, hi, dtype=np.int64) - length) % self.parents
        return out


def sampled_parents(
    n: int, parents: int, *, seed: int, table: str, field: str, power_law: float | None,
    optional: float, start: int = 0,
) -> np.ndarray:
    """Parent row numbers for rows ``start .. n-1`` of a reference without ``per_parent``:
    uniform, or Zipf-like over a seeded ranking of parents; ``optional`` share of -1."""
    return SampledParents(n, parents, seed=seed, table=table, field=field, power_law=power_law,
                          optional=optional, start=start).rows(start, n)


class SampledParents:
    """``sampled_parents`` block by block; rows before ``start`` are ``row -> row`` (the
    linked covering rows)."""

    def __init__(self, n: int, parents: int, *, seed: int, table: str, field: str,
                 power_law: float | None, optional: float, start: int = 0) -> None:
        if parents < 1:
            raise UsageError(f"{table}.{field}: the parent table has no rows")
        self.n, self.parents, self.seed, self.table, self.field = n, parents, seed, table, field
        self.optional, self.start = optional, start
        self.cdf = None
        if power_law is not None:
            rank = rng_for(seed, table, field, "rank").permutation(parents)
            w = (rank.astype(np.float64) + 1.0) ** -power_law
            cdf = np.cumsum(w)
            cdf /= cdf[-1]
            self.cdf = cdf

    def _block(self, b: int) -> np.ndarray:
        lo, hi = b * BLOCK, min(self.n, (b + 1) * BLOCK)
        rng = rng_for(self.seed, self.table, self.field, "parent", b)
        u = rng.random(hi - lo)
        picks = (np.minimum(np.searchsorted(self.cdf, u, side="right"), self.parents - 1)
                 if self.cdf is not None else (u * self.parents).astype(np.int64))
        if self.optional:
            picks = np.where(rng.random(hi - lo) < self.optional, -1, picks)
        if lo < self.start:
            picks[: min(hi, self.start) - lo] = np.arange(lo, min(hi, self.start))
        return picks

    def rows(self, lo: int, hi: int) -> np.ndarray:
        return _by_blocks(self._block, lo, hi)


def _by_blocks(block: Callable[[int], np.ndarray], lo: int, hi: int) -> np.ndarray:
    """Rows ``lo .. hi-1`` from a function giving whole fixed blocks of ``BLOCK`` rows."""
    if hi <= lo:
        return np.zeros(0, dtype=np.int64)
    pieces = []
    for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
        values = block(b)
        base = b * BLOCK
        pieces.append(values[max(lo - base, 0): hi - base])
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def self_parents(n: int, depth: int, *, seed: int, table: str, field: str, optional: float) -> np.ndarray:
    """A bounded-depth hierarchy inside one table: row 0 is the root, row i's parent is
    ``(i - 1) // fan`` with the smallest fan-out that fits ``n`` rows in ``depth`` levels
    below the root; ``optional`` makes extra roots (-1). Parents always precede children,
    so no chain loops and none is longer than ``depth``."""
    return SelfParents(n, depth, seed=seed, table=table, field=field, optional=optional).rows(0, n)


class SelfParents:
    """``self_parents`` block by block."""

    def __init__(self, n: int, depth: int, *, seed: int, table: str, field: str,
                 optional: float) -> None:
        fan = 1
        while sum(fan ** k for k in range(depth + 1)) < n:
            fan += 1
        self.n, self.depth, self.fan, self.optional = n, depth, fan, optional
        self.seed, self.table, self.field = seed, table, field

    def _block(self, b: int) -> np.ndarray:
        lo, hi = b * BLOCK, min(self.n, (b + 1) * BLOCK)
        idx = np.arange(lo, hi, dtype=np.int64)
        parent = np.where(idx == 0, -1, (idx - 1) // max(self.fan, 1))
        if self.fan == 1:  # a single chain: cut it into pieces of at most depth + 1 rows
            parent = np.where(idx % (self.depth + 1) == 0, -1, idx - 1)
        if self.optional:
            u = rng_for(self.seed, self.table, self.field, "null", b).random(hi - lo)
            parent = np.where(u < self.optional, -1, parent)
        return parent

    def rows(self, lo: int, hi: int) -> np.ndarray:
        return _by_blocks(self._block, lo, hi)


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

