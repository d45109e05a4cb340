"""Compiled greedy kernels: AETG candidates over live t-set lists, with forward checking.

Shares :class:`~coverage_gen.engine._kernels.Tables`, the RNG and the clause helpers with
the local search (``_kernels``); this module holds only what the greedy construction uses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from coverage_gen.engine._kernels import (
    FREE, Tables, decode_into, rng_below, shuffle, tset_of, tuple_id,
)


# ---------------------------------------------------------------------------- counts and rows

@njit(cache=True)
def init_greedy_counts(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray
) -> None:
    """Per t-set and per (factor, value) counts of uncovered tuples."""
    t = tb.tsets.shape[1]
    for s in range(tb.tsets.shape[0]):
        c = 0
        for tid in range(tb.offsets[s], tb.offsets[s + 1]):
            if uncov[tid]:
                c += 1
                rest = tid - tb.offsets[s]
                for j in range(t):
                    r = tb.radix[s, j]
                    fv_unc[tb.tsets[s, j], rest // r] += 1
                    rest = rest % r
        tset_unc[s] = c


@njit(cache=True)
def pack_bits(uncov: np.ndarray) -> np.ndarray:
    """``uncov`` as a bit set (``uint64[ceil(N / 64)]``, bit ``i & 63`` of word ``i >> 6``):
    the greedy's record of uncovered tuples, which fits the caches a bool array missed."""
    n = uncov.shape[0]
    bits = np.zeros((n + 63) >> 6, dtype=np.uint64)
    for i in range(n):
        if uncov[i]:
            bits[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return bits


@njit(cache=True, inline="always")
def _bit(bits: np.ndarray, i: int) -> bool:
    return (bits[i >> 6] >> (i & 63)) & 1 != 0


@njit(cache=True)
def place_tuple(tb: Tables, tid: int, row: np.ndarray) -> None:
    vals = np.empty(tb.tsets.shape[1], dtype=np.int64)
    s = decode_into(tb, tid, vals)
    for j in range(tb.tsets.shape[1]):
        row[tb.tsets[s, j]] = vals[j]


@njit(cache=True)
def free_order(row: np.ndarray, rng: np.ndarray, order: np.ndarray) -> int:
    """Random order of the free cells of ``row`` into ``order``; returns how many."""
    m = 0
    for f in range(row.shape[0]):
        if row[f] < 0:
            order[m] = f
            m += 1
    shuffle(rng, order, m)
    return m


@njit(cache=True)
def redundant_rows(tb: Tables, rows: np.ndarray, frozen: int, cnt: np.ndarray) -> np.ndarray:
    """Rows (never the first ``frozen``) whose every tuple is held by another kept row.

    Scans from the last row back, because late greedy rows cover the fewest new tuples.
    ``cnt`` must hold the cover counts of all rows; it is updated as rows are dropped.
    """
    n = rows.shape[0]
    drop = np.zeros(n, dtype=np.bool_)
    S = tb.tsets.shape[0]
    for r in range(n - 1, frozen - 1, -1):
        needed = False
        for s in range(S):
            if cnt[tuple_id(tb, rows[r], s)] < 2:
                needed = True
                break
        if not needed:
            drop[r] = True
            for s in range(S):
                cnt[tuple_id(tb, rows[r], s)] -= 1
    return drop


@njit(cache=True)
def redundant_owned_rows(
    tb: Tables, rows: np.ndarray, frozen: int, owned: np.ndarray, owned_ptr: np.ndarray
) -> np.ndarray:
    """:func:`redundant_rows` for greedy rows, from the tuples each row covered first
    (``owned[owned_ptr[r]:owned_ptr[r + 1]]``), at a fraction of the cost.

    A row's other wanted tuples are held by the earlier rows that covered them first, so
    the row is redundant exactly when every tuple it covered first is held by a later row
    still kept; rows are decided from the last back, so "still kept" is final when asked.
    A needed row usually shows it on its first such tuple, so no cover counts are built.
    When the greedy covers every coverable tuple (a valid row holds no other) the
    decisions equal those of :func:`redundant_rows`; with a partial target (the cyclic
    completion, extending existing rows) this pass also drops rows whose only unique
    tuples lie outside the target, which the count-based pass kept.
    """
    n = rows.shape[0]
    drop = np.zeros(n, dtype=np.bool_)
    for r in range(n - 1, frozen - 1, -1):
        needed = False
        for i in range(owned_ptr[r], owned_ptr[r + 1]):
            tid = owned[i]
            s = tset_of(tb, tid)
            held = False
            for r2 in range(r + 1, n):
                if not drop[r2] and tuple_id(tb, rows[r2], s) == tid:
                    held = True
                    break
            if not held:
                needed = True
                break
        drop[r] = not needed
    return drop


# ---------------------------------------------------------------------------- greedy, live lists
# On big t = 3 models most t-sets are fully covered after a few dozen rows, yet the plain
# greedy kernels visit every t-set of a factor (random access into ``tset_unc``) for every
# cell of every candidate. The ``*_live`` variants visit only "live" t-sets (some tuple still
# uncovered), kept in per-factor segments ``ent[fts_ptr[f] : fts_ptr[f] + live_len[f]]``
# (packed entries, in the original order) and a global list ``gl[:gl_len[0]]`` (increasing
# t-set ids). The caller compacts them now and then (dead t-sets may linger in between).
# Fully covered t-sets contribute nothing to any score, tie or random draw, so the results
# are identical to the plain kernels; only the cost drops.

# Columns of a packed entry (:func:`live_entries`): the t-set, its first tuple id, the t - 1
# other factors, their radices, the radix of the entry's own factor (column 2t), and last
# the run length: how many entries from this one on share its first other factor.
ENT_SET = 0
ENT_OFFSET = 1
ENT_OTHERS = 2


@njit(cache=True)
def live_entries(tb: Tables) -> np.ndarray:
    """The per-factor entries of ``fts_set`` packed for the scan: ``int32[E, 2t+2]``, row
    ``m`` holding the t-set ``s``, ``offsets[s]``, the other factors (t-set order), their
    radices, the radix of the entry's own factor and the run length (see ``ENT_*``; at
    t = 1 there are no others, and the scan never reads the run column).

    Everything :func:`_score_values_live` reads for an entry sits in one row, read in
    order; the scattered look-ups into the t-set tables were most of its cost (GCC t=3:
    27 ms against 16 ms per candidate). int32 holds every field: the engine refuses
    models past 10^8 tuples (``engine.tuples``), and :func:`greedy_array` checks it.
    """
    t = tb.tsets.shape[1]
    n = tb.fts_set.shape[0]
    ent = np.empty((n, 2 * t + 2), dtype=np.int32)
    for m in range(n):
        s = tb.fts_set[m]
        pos = tb.fts_pos[m]
        ent[m, ENT_SET] = s
        ent[m, ENT_OFFSET] = tb.offsets[s]
        i = 0
        for j in range(t):
            if j != pos:
                ent[m, ENT_OTHERS + i] = tb.tsets[s, j]
                ent[m, ENT_OTHERS + t - 1 + i] = tb.radix[s, j]
                i += 1
        ent[m, 2 * t] = tb.radix[s, pos]
    for f in range(tb.levels.shape[0]):
        _mark_runs(ent, tb.fts_ptr[f], tb.fts_ptr[f + 1])
    return ent


@njit(cache=True, inline="always")
def _mark_runs(ent: np.ndarray, lo: int, hi: int) -> None:
    """Run lengths (last column) of ``ent[lo:hi]``: entries in t-set order share their
    first other factor in long runs (t-set ids are lexicographic), which the scan skips
    whole while that factor is unassigned."""
    last = ent.shape[1] - 1
    for m in range(hi - 1, lo - 1, -1):
        if m + 1 < hi and ent[m + 1, ENT_OTHERS] == ent[m, ENT_OTHERS]:
            ent[m, last] = ent[m + 1, last] + 1
        else:
            ent[m, last] = 1


@njit(cache=True)
def live_compact(
    tb: Tables, tset_unc: np.ndarray, ent: np.ndarray, live_len: np.ndarray, gl: np.ndarray,
    gent: np.ndarray, gl_len: np.ndarray,
) -> int:
    """Drop t-sets without uncovered tuples from the live lists (order kept; ``gent`` moves
    with ``gl``); returns the number of per-factor live entries left."""
    total = 0
    for f in range(tb.levels.shape[0]):
        base = tb.fts_ptr[f]
        m = 0
        for i in range(live_len[f]):
            if tset_unc[ent[base + i, ENT_SET]] > 0:
                if m != i:
                    ent[base + m] = ent[base + i]
                m += 1
        if m != live_len[f]:
            _mark_runs(ent, base, base + m)
        live_len[f] = m
        total += m
    m = 0
    for i in range(gl_len[0]):
        s = gl[i]
        if tset_unc[s] > 0:
            if m != i:
                gl[m] = s
                gent[m] = gent[i]
            m += 1
    gl_len[0] = m
    return total


@njit(cache=True, inline="always")
def _score_values_live(
    tb: Tables, ubits: np.ndarray, row: np.ndarray, f: int, newcov: np.ndarray,
    ent: np.ndarray, live_len: np.ndarray,
) -> None:
    """:func:`score_values` over the live t-sets of ``f`` only, from the packed entries
    (:func:`live_entries`) and the uncovered tuples as bits (:func:`pack_bits`): only
    ``ubits`` is read out of order, and a bit set fits the caches a bool array missed."""
    t = tb.tsets.shape[1]
    rad = ENT_OTHERS + t - 1
    for v in range(tb.levels[f]):
        newcov[v] = 0
    run = 2 * t + 1
    m = tb.fts_ptr[f]
    end = m + live_len[f]
    while m < end:
        if t > 1 and row[ent[m, ENT_OTHERS]] < 0:
            m += ent[m, run]  # the whole run waits on that factor
            continue
        base = np.int64(ent[m, ENT_OFFSET])
        ok = True
        for j in range(t - 1):
            x = row[ent[m, ENT_OTHERS + j]]
            if x < 0:
                ok = False
                break
            base += x * ent[m, rad + j]
        if ok:
            r = ent[m, 2 * t]
            for v in range(tb.levels[f]):
                if _bit(ubits, base + v * r):
                    newcov[v] += 1
        m += 1


@njit(cache=True)
def pick_seed_tuple_live(
    tb: Tables, ubits: np.ndarray, tset_unc: np.ndarray, rng: np.ndarray, gl: np.ndarray,
    gl_len: int,
) -> int:
    """:func:`pick_seed_tuple` over the live t-sets (same draws, same result)."""
    best = -1
    best_c = 0
    ties = 0
    for i in range(gl_len):
        s = gl[i]
        c = tset_unc[s]
        if c > best_c:
            best, best_c, ties = s, c, 1
        elif c == best_c and c > 0:
            ties += 1
            if rng_below(rng, ties) == 0:
                best = s
    if best < 0:
        return -1
    pick = rng_below(rng, best_c)
    for tid in range(tb.offsets[best], tb.offsets[best + 1]):
        if _bit(ubits, tid):
            if pick == 0:
                return tid
            pick -= 1
    return -1


# ---------------------------------------------------------------------------- forward checking
# The candidate builder keeps a domain per factor (``Domains``) and, after every assignment,
# runs unit propagation over the clauses of the factors whose domain changed: a literal is
# *possible* when the factor's domain meets its value set and *certain* when the domain lies
# inside it; a clause with no possible literal is a conflict, and one whose possible
# literals all sit on one factor narrows that factor to their sets. A value whose
# propagation conflicts is not taken, so far fewer candidates dead-end than with the plain
# "no falsified clause" check (on Syn_19 t=3: most rows dead-ended and fell back to the
# Python oracle). Propagation is sound but not complete; the caller keeps the oracle fallback.


class Domains(NamedTuple):
    dom: np.ndarray  # bool[k, vmax]: value still allowed
    size: np.ndarray  # int64[k]: allowed values per factor
    trail: np.ndarray  # int64[sum(levels), 2]: removed (factor, value), for undo
    tlen: np.ndarray  # int64[1]: trail length
    queue: np.ndarray  # int64[k]: factors whose domain changed
    queued: np.ndarray  # bool[k]
    tried: np.ndarray  # bool[vmax]: values of the current factor already refused


def new_domains(tb: Tables) -> Domains:
    """Full domains narrowed by root propagation (unary clauses and what they imply); the
    root trail is dropped, so undoing to 0 restores the root state. ``None`` is never
    returned: a root conflict is left for the oracle fallback to report."""
    k = tb.levels.shape[0]
    vmax = int(tb.levels.max())
    dom = np.zeros((k, vmax), dtype=np.bool_)
    for f in range(k):
        dom[f, : tb.levels[f]] = True
    d = Domains(dom, tb.levels.astype(np.int64).copy(),
                np.zeros((int(tb.levels.sum()) + 1, 2), dtype=np.int64),
                np.zeros(1, dtype=np.int64), np.zeros(k, dtype=np.int64),
                np.zeros(k, dtype=np.bool_), np.zeros(vmax, dtype=np.bool_))
    _root_propagate(tb, d.dom, d.size, d.trail, d.tlen, d.queue, d.queued)
    d.tlen[0] = 0
    return d


@njit(cache=True)
def _root_propagate(tb, dom, size, trail, tlen, queue, queued) -> bool:
    n = 0
    for f in range(tb.levels.shape[0]):
        if tb.constrained[f]:
            queue[n] = f
            queued[f] = True
            n += 1
    return _propagate(tb, dom, size, trail, tlen, queue, queued, n)


@njit(cache=True, inline="always")
def _lit_state(tb: Tables, dom: np.ndarray, lit: int) -> int:
    """0: no value of the domain satisfies the literal; 2: every value does; 1: some."""
    f = tb.lit_f[lit]
    some = False
    every = True
    for v in range(tb.levels[f]):
        if dom[f, v]:
            if tb.lit_allow[lit, v]:
                some = True
            else:
                every = False
    if not some:
        return 0
    return 2 if every else 1


@njit(cache=True)
def _propagate(tb, dom, size, trail, tlen, queue, queued, n) -> bool:
    """Unit propagation from the ``n`` queued factors; False on a conflict (the queue is
    then emptied; the caller undoes the trail)."""
    head = 0
    ok = True
    while head < n and ok:
        g = queue[head % queue.shape[0]]
        head += 1
        queued[g] = False
        for m in range(tb.fcl_ptr[g], tb.fcl_ptr[g + 1]):
            c = tb.fcl[m]
            unit = -1
            several = False
            sat = False
            for lit in range(tb.cl_ptr[c], tb.cl_ptr[c + 1]):
                st = _lit_state(tb, dom, lit)
                if st == 2:
                    sat = True
                    break
                if st == 1:
                    f = tb.lit_f[lit]
                    if unit < 0:
                        unit = f
                    elif unit != f:
                        several = True
            if sat or several:
                continue
            if unit < 0:
                ok = False
                break
            # every possible literal is on ``unit``: keep only values one of them allows
            for v in range(tb.levels[unit]):
                if not dom[unit, v]:
                    continue
                keep = False
                for lit in range(tb.cl_ptr[c], tb.cl_ptr[c + 1]):
                    if tb.lit_f[lit] == unit and tb.lit_allow[lit, v]:
                        keep = True
                        break
                if not keep:
                    dom[unit, v] = False
                    size[unit] -= 1
                    trail[tlen[0], 0] = unit
                    trail[tlen[0], 1] = v
                    tlen[0] += 1
            if not queued[unit]:
                queued[unit] = True
                queue[n % queue.shape[0]] = unit
                n += 1
    while head < n:  # drain after a conflict
        queued[queue[head % queue.shape[0]]] = False
        head += 1
    return ok


@njit(cache=True)
def _undo(dom: np.ndarray, size: np.ndarray, trail: np.ndarray, tlen: np.ndarray, mark: int) -> None:
    while tlen[0] > mark:
        tlen[0] -= 1
        f = trail[tlen[0], 0]
        dom[f, trail[tlen[0], 1]] = True
        size[f] += 1


@njit(cache=True)
def _assign(tb, dom, size, trail, tlen, queue, queued, f: int, v: int) -> bool:
    """Narrow ``f`` to ``v`` and propagate; on a conflict everything is undone."""
    mark = tlen[0]
    if not dom[f, v]:
        return False
    for x in range(tb.levels[f]):
        if x != v and dom[f, x]:
            dom[f, x] = False
            size[f] -= 1
            trail[tlen[0], 0] = f
            trail[tlen[0], 1] = x
            tlen[0] += 1
    queue[0] = f
    queued[f] = True
    if _propagate(tb, dom, size, trail, tlen, queue, queued, 1):
        return True
    _undo(dom, size, trail, tlen, mark)
    return False


# ---------------------------------------------------------------------------- candidates


@njit(cache=True)
def _build_candidate_live(
    tb: Tables, ubits: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray,
    rng: np.ndarray, row: np.ndarray, order: np.ndarray, newcov: np.ndarray,
    ent: np.ndarray, live_len: np.ndarray, gl: np.ndarray, gl_len: int,
    dom: np.ndarray, size: np.ndarray, trail: np.ndarray, tlen: np.ndarray,
    queue: np.ndarray, queued: np.ndarray, tried: np.ndarray,
) -> int:
    """One AETG candidate row; returns its new coverage, or -1 at a dead end.

    Values are ranked by (tuples completed, uncovered tuples holding the value, random).
    Unconstrained factors take the best value; a constrained factor takes the best value
    whose forward check succeeds (the domains start from the root state each candidate).
    """
    _undo(dom, size, trail, tlen, 0)
    row[:] = FREE
    tid = pick_seed_tuple_live(tb, ubits, tset_unc, rng, gl, gl_len)
    if tid < 0:
        return -1
    place_tuple(tb, tid, row)
    for f in range(row.shape[0]):
        if row[f] >= 0 and tb.constrained[f]:
            if not _assign(tb, dom, size, trail, tlen, queue, queued, f, row[f]):
                return -1
    m = free_order(row, rng, order)
    # Every t-set's tuple is completed once: by the seed tuple (its own t-set, uncovered)
    # or when its last factor takes a value, which ``newcov`` scored; so the new coverage
    # is the sum of the chosen scores, and no final pass over the t-sets is needed.
    c = 1
    for i in range(m):
        f = order[i]
        _score_values_live(tb, ubits, row, f, newcov, ent, live_len)
        if not tb.constrained[f]:
            v = _best_value(tb, fv_unc, rng, newcov, f, dom, tried, False)
            row[f] = v
            c += newcov[v]
            continue
        for v in range(tb.levels[f]):
            tried[v] = False
        while True:
            v = _best_value(tb, fv_unc, rng, newcov, f, dom, tried, True)
            if v < 0:
                return -1
            if _assign(tb, dom, size, trail, tlen, queue, queued, f, v):
                row[f] = v
                c += newcov[v]
                break
            tried[v] = True
    return c


@njit(cache=True, inline="always")
def _best_value(
    tb: Tables, fv_unc: np.ndarray, rng: np.ndarray, newcov: np.ndarray, f: int,
    dom: np.ndarray, tried: np.ndarray, filtered: bool,
) -> int:
    """The value of ``f`` completing the most uncovered tuples (then: held by the most
    uncovered tuples, then random); with ``filtered``, only values in the domain and not
    yet tried. -1 if none."""
    best_v = -1
    best_a = -1
    best_b = -1
    ties = 0
    for v in range(tb.levels[f]):
        if filtered and (tried[v] or not dom[f, v]):
            continue
        a = newcov[v]
        b = fv_unc[f, v]
        if a > best_a or (a == best_a and b > best_b):
            best_v, best_a, best_b, ties = v, a, b, 1
        elif a == best_a and b == best_b:
            ties += 1
            if rng_below(rng, ties) == 0:
                best_v = v
    return best_v


@njit(cache=True)
def best_candidate_live(
    tb: Tables, ubits: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray,
    rng: np.ndarray, n_cand: int, out_row: np.ndarray, ent: np.ndarray,
    live_len: np.ndarray, gl: np.ndarray, gl_len: np.ndarray,
    dom: np.ndarray, size: np.ndarray, trail: np.ndarray, tlen: np.ndarray,
    queue: np.ndarray, queued: np.ndarray, tried: np.ndarray,
) -> int:
    """Best of ``n_cand`` candidates into ``out_row``; -1 when every candidate dead-ended
    (the caller charges the work)."""
    k = out_row.shape[0]
    row = np.empty(k, dtype=np.int64)
    order = np.empty(k, dtype=np.int64)
    newcov = np.empty(tb.levels.max(), dtype=np.int64)
    best = -1
    for _ in range(n_cand):
        gain = _build_candidate_live(tb, ubits, tset_unc, fv_unc, rng, row, order, newcov,
                                     ent, live_len, gl, gl_len[0],
                                     dom, size, trail, tlen, queue, queued, tried)
        if gain > best:
            best = gain
            out_row[:] = row
    return best


@njit(cache=True)
def score_values_live(
    tb: Tables, ubits: np.ndarray, row: np.ndarray, f: int, newcov: np.ndarray,
    ent: np.ndarray, live_len: np.ndarray,
) -> None:
    """:func:`_score_values_live` callable from Python (the oracle fallback row)."""
    _score_values_live(tb, ubits, row, f, newcov, ent, live_len)


@njit(cache=True)
def commit_row_live(
    tb: Tables, ubits: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray,
    row: np.ndarray, gl: np.ndarray, gent: np.ndarray, gl_len: np.ndarray,
    died: np.ndarray, owned: np.ndarray, n_owned: np.ndarray,
) -> int:
    """Mark the tuples of a complete row covered, visiting only the live t-sets (the
    others hold no uncovered tuple; their tuple ids from the packed ``gent``); returns how
    many were new. ``died[0]`` grows by the t-sets this row covered completely; the new
    tuples are appended to ``owned[n_owned[0]:]`` (for :func:`redundant_owned_rows`)."""
    t = tb.tsets.shape[1]
    c = 0
    for i in range(gl_len[0]):
        tid = np.int64(gent[i, 0])
        for j in range(t):
            tid += row[gent[i, 1 + j]] * gent[i, 1 + t + j]
        bit = np.uint64(1) << np.uint64(tid & 63)
        if ubits[tid >> 6] & bit:
            s = gl[i]
            ubits[tid >> 6] &= ~bit
            owned[n_owned[0]] = tid
            n_owned[0] += 1
            tset_unc[s] -= 1
            if tset_unc[s] == 0:
                died[0] += 1
            for j in range(t):
                f = gent[i, 1 + j]
                fv_unc[f, row[f]] -= 1
            c += 1
    return c


@njit(cache=True)
def global_entries(tb: Tables) -> np.ndarray:
    """The t-sets packed for :func:`commit_row_live`, in id order (kept beside ``gl``):
    ``int32[S, 2t+1]``, row ``s`` holding ``offsets[s]``, the t factors, their radices."""
    t = tb.tsets.shape[1]
    n = tb.tsets.shape[0]
    gent = np.empty((n, 2 * t + 1), dtype=np.int32)
    for s in range(n):
        gent[s, 0] = tb.offsets[s]
        for j in range(t):
            gent[s, 1 + j] = tb.tsets[s, j]
            gent[s, 1 + t + j] = tb.radix[s, j]
    return gent
