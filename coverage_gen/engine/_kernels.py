"""Compiled (numba) inner loops shared by the greedy and the local search.

Everything here works on flat integer arrays bundled in :class:`Tables`; nothing here knows
names, seeds or time. Randomness comes from an explicit splitmix64 state array (``uint64[1]``)
owned by the caller, never from numba's global generator, so results depend only on the
caller's seed and on the sequence of calls (another module drawing from numba's global RNG
cannot perturb us).

Clauses are compiled to CSR arrays: clause ``c`` owns literals ``cl_ptr[c]:cl_ptr[c+1]``;
literal ``l`` holds when ``lit_allow[l, row[lit_f[l]]]``; ``fcl`` lists, per factor, the
clauses that mention it, so the validity of a single-cell change costs only those clauses.
``fts_*`` lists, per factor, the t-sets containing it and the factor's position in each.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.tuples import TupleIndex

FREE = -1
TABU_NEVER = -(1 << 40)


class Tables(NamedTuple):
    levels: np.ndarray  # int64[k]
    tsets: np.ndarray  # int64[S, t]
    radix: np.ndarray  # int64[S, t]
    offsets: np.ndarray  # int64[S + 1]
    fts_ptr: np.ndarray  # int64[k + 1]
    fts_set: np.ndarray  # int64[k * C(k-1, t-1)]: t-set ids per factor
    fts_pos: np.ndarray  # int64[...]: position of the factor inside that t-set
    cl_ptr: np.ndarray  # int64[C + 1]
    lit_f: np.ndarray  # int64[L]
    lit_allow: np.ndarray  # bool[L, vmax]
    fcl_ptr: np.ndarray  # int64[k + 1]
    fcl: np.ndarray  # int64[...]: clause ids per factor
    constrained: np.ndarray  # bool[k]: factor appears in some clause


def build_tables(problem: CoverageProblem, index: TupleIndex) -> Tables:
    """Flatten the tuple index and the clauses of ``problem`` for the kernels."""
    k = problem.num_factors
    t = index.strength
    flat_f = index.tsets.ravel()
    order = np.argsort(flat_f, kind="stable")
    fts_set = (order // t).astype(np.int64)
    fts_pos = (order % t).astype(np.int64)
    fts_ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat_f, minlength=k), out=fts_ptr[1:])

    vmax = max(problem.levels)
    lits = [lit for clause in problem.clauses for lit in clause]
    cl_ptr = np.zeros(len(problem.clauses) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in problem.clauses], out=cl_ptr[1:])
    lit_f = np.array([f for f, _ in lits], dtype=np.int64)
    lit_allow = np.zeros((len(lits), vmax), dtype=np.bool_)
    for i, (_, values) in enumerate(lits):
        lit_allow[i, list(values)] = True
    per_factor: list[list[int]] = [[] for _ in range(k)]
    for c, clause in enumerate(problem.clauses):
        for f in sorted({f for f, _ in clause}):
            per_factor[f].append(c)
    fcl_ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum([len(p) for p in per_factor], out=fcl_ptr[1:])
    fcl = np.array([c for p in per_factor for c in p], dtype=np.int64)
    constrained = np.array([len(p) > 0 for p in per_factor], dtype=np.bool_)
    return Tables(
        index.levels.astype(np.int64),
        index.tsets.astype(np.int64),
        index.radix.astype(np.int64),
        index.offsets.astype(np.int64),
        fts_ptr,
        fts_set,
        fts_pos,
        cl_ptr,
        lit_f,
        lit_allow,
        fcl_ptr,
        fcl,
        constrained,
    )


def new_rng(seed: int) -> np.ndarray:
    """A splitmix64 state for the kernels (the state is the only thing seeded)."""
    return np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)


# ---------------------------------------------------------------------------- randomness


@njit(cache=True, inline="always")
def rng_next(state: np.ndarray) -> np.uint64:
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def rng_below(state: np.ndarray, n: int) -> int:
    """Uniform in ``range(n)`` (n ≥ 1); modulo bias is negligible for our n."""
    return np.int64(rng_next(state) % np.uint64(n))


@njit(cache=True)
def shuffle(state: np.ndarray, a: np.ndarray, m: int) -> None:
    for i in range(m - 1, 0, -1):
        j = rng_below(state, i + 1)
        a[i], a[j] = a[j], a[i]


# ---------------------------------------------------------------------------- tuples


@njit(cache=True, inline="always")
def tuple_id(tb: Tables, row: np.ndarray, s: int) -> int:
    tid = tb.offsets[s]
    for j in range(tb.tsets.shape[1]):
        tid += row[tb.tsets[s, j]] * tb.radix[s, j]
    return tid


@njit(cache=True, inline="always")
def tset_of(tb: Tables, tid: int) -> int:
    """Binary search: the t-set whose id range holds ``tid``."""
    lo = 0
    hi = tb.offsets.shape[0] - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tb.offsets[mid] <= tid:
            lo = mid
        else:
            hi = mid - 1
    return lo


@njit(cache=True, inline="always")
def decode_into(tb: Tables, tid: int, vals: np.ndarray) -> int:
    """Write the tuple's values into ``vals[:t]``; return its t-set."""
    s = tset_of(tb, tid)
    rest = tid - tb.offsets[s]
    for j in range(tb.tsets.shape[1]):
        r = tb.radix[s, j]
        vals[j] = rest // r
        rest = rest % r
    return s


@njit(cache=True)
def count_cover(tb: Tables, rows: np.ndarray, n: int, cnt: np.ndarray) -> None:
    """``cnt[tid] +=`` the number of the first ``n`` rows that hold ``tid``.

    T-set-major: the rows' tuples of one t-set share a small block of ``cnt``, which keeps
    the counters in cache on models with millions of tuples."""
    for s in range(tb.tsets.shape[0]):
        for r in range(n):
            cnt[tuple_id(tb, rows[r], s)] += 1


# ---------------------------------------------------------------------------- clauses


@njit(cache=True, inline="always")
def clause_state(tb: Tables, row: np.ndarray, c: int) -> int:
    """1 satisfied, 0 undecided (a free cell may still satisfy it), -1 falsified."""
    free = False
    for lit in range(tb.cl_ptr[c], tb.cl_ptr[c + 1]):
        x = row[tb.lit_f[lit]]
        if x < 0:
            free = True
        elif tb.lit_allow[lit, x]:
            return 1
    return 0 if free else -1


@njit(cache=True, inline="always")
def factor_clauses_ok(tb: Tables, row: np.ndarray, f: int) -> bool:
    """No clause mentioning ``f`` is falsified (free cells count as undecided)."""
    for m in range(tb.fcl_ptr[f], tb.fcl_ptr[f + 1]):
        if clause_state(tb, row, tb.fcl[m]) < 0:
            return False
    return True


@njit(cache=True)
def row_valid(tb: Tables, row: np.ndarray) -> bool:
    for c in range(tb.cl_ptr.shape[0] - 1):
        if clause_state(tb, row, c) < 0:
            return False
    return True


@njit(cache=True, inline="always")
def _value_with(
    rows: np.ndarray, r: int, g: int, dcells: np.ndarray, dvals: np.ndarray, nd: int
) -> int:
    for b in range(nd):
        if dcells[b] == g:
            return dvals[b]
    return rows[r, g]


@njit(cache=True, inline="always")
def change_valid(
    tb: Tables, rows: np.ndarray, r: int, dcells: np.ndarray, dvals: np.ndarray, nd: int
) -> bool:
    """Would complete row ``rows[r]`` stay valid with cells ``dcells`` set to ``dvals``?

    (Rows are passed as (matrix, index) in the hot loop: slicing a row view costs reference
    counting in numba, which dominated the step time.)"""
    for a in range(nd):
        f = dcells[a]
        for m in range(tb.fcl_ptr[f], tb.fcl_ptr[f + 1]):
            c = tb.fcl[m]
            ok = False
            for lit in range(tb.cl_ptr[c], tb.cl_ptr[c + 1]):
                if tb.lit_allow[lit, _value_with(rows, r, tb.lit_f[lit], dcells, dvals, nd)]:
                    ok = True
                    break
            if not ok:
                return False
    return True


# ---------------------------------------------------------------------------- greedy


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
def pick_seed_tuple(tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, rng: np.ndarray) -> int:
    """AETG's seed: a random uncovered tuple of a t-set with the most uncovered tuples."""
    best = -1
    best_c = 0
    ties = 0
    for s in range(tset_unc.shape[0]):
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
        if uncov[tid]:
            if pick == 0:
                return tid
            pick -= 1
    return -1


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


@njit(cache=True, inline="always")
def score_values(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, row: np.ndarray, f: int,
    newcov: np.ndarray,
) -> None:
    """``newcov[v]``: uncovered tuples that ``row[f] = v`` completes, counting only t-sets
    whose other factors are already assigned (AETG's criterion). T-sets without uncovered
    tuples are skipped (most of them, after the first rows)."""
    t = tb.tsets.shape[1]
    for v in range(tb.levels[f]):
        newcov[v] = 0
    for m in range(tb.fts_ptr[f], tb.fts_ptr[f + 1]):
        s = tb.fts_set[m]
        if tset_unc[s] == 0:
            continue
        pos = tb.fts_pos[m]
        base = tb.offsets[s]
        ok = True
        for j in range(t):
            if j != pos:
                x = row[tb.tsets[s, j]]
                if x < 0:
                    ok = False
                    break
                base += x * tb.radix[s, j]
        if ok:
            r = tb.radix[s, pos]
            for v in range(tb.levels[f]):
                if uncov[base + v * r]:
                    newcov[v] += 1


@njit(cache=True)
def count_new(tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, row: np.ndarray) -> int:
    c = 0
    for s in range(tb.tsets.shape[0]):
        if tset_unc[s] != 0 and uncov[tuple_id(tb, row, s)]:
            c += 1
    return c


@njit(cache=True)
def build_candidate(
    tb: Tables,
    uncov: np.ndarray,
    tset_unc: np.ndarray,
    fv_unc: np.ndarray,
    rng: np.ndarray,
    row: np.ndarray,
    order: np.ndarray,
    newcov: np.ndarray,
) -> int:
    """One AETG candidate row; returns its new coverage, or -1 at a dead end.

    Values are ranked by (tuples completed, uncovered tuples holding the value, random).
    A value is skipped when it falsifies a clause whose cells are all assigned; that keeps
    complete rows valid but cannot see every dead end, which the caller then handles with
    the exact oracle.
    """
    row[:] = FREE
    tid = pick_seed_tuple(tb, uncov, tset_unc, rng)
    if tid < 0:
        return -1
    place_tuple(tb, tid, row)
    m = free_order(row, rng, order)
    for i in range(m):
        f = order[i]
        score_values(tb, uncov, tset_unc, row, f, newcov)
        best_v = -1
        best_a = -1
        best_b = -1
        ties = 0
        for v in range(tb.levels[f]):
            if tb.constrained[f]:
                row[f] = v
                ok = factor_clauses_ok(tb, row, f)
                row[f] = FREE
                if not ok:
                    continue
            a = newcov[v]
            b = fv_unc[f, v]
            if a > best_a or (a == best_a and b > best_b):
                best_v, best_a, best_b, ties = v, a, b, 1
            elif a == best_a and b == best_b:
                ties += 1
                if rng_below(rng, ties) == 0:
                    best_v = v
        if best_v < 0:
            return -1
        row[f] = best_v
    return count_new(tb, uncov, tset_unc, row)


@njit(cache=True)
def best_candidate(
    tb: Tables,
    uncov: np.ndarray,
    tset_unc: np.ndarray,
    fv_unc: np.ndarray,
    rng: np.ndarray,
    n_cand: int,
    out_row: np.ndarray,
    work: np.ndarray,
) -> int:
    """Best of ``n_cand`` candidates into ``out_row``; -1 when every candidate dead-ended.
    ``work[0]`` grows by the t-set visits spent (the greedy's deterministic cost)."""
    k = out_row.shape[0]
    row = np.empty(k, dtype=np.int64)
    order = np.empty(k, dtype=np.int64)
    newcov = np.empty(tb.levels.max(), dtype=np.int64)
    best = -1
    S = tb.tsets.shape[0]
    for _ in range(n_cand):
        work[0] += tb.fts_set.shape[0] + 2 * S
        gain = build_candidate(tb, uncov, tset_unc, fv_unc, rng, row, order, newcov)
        if gain > best:
            best = gain
            out_row[:] = row
    return best


@njit(cache=True)
def commit_row(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray, row: np.ndarray
) -> int:
    """Mark the tuples of a complete row covered; returns how many were new."""
    t = tb.tsets.shape[1]
    c = 0
    for s in range(tb.tsets.shape[0]):
        tid = tuple_id(tb, row, s)
        if uncov[tid]:
            uncov[tid] = False
            tset_unc[s] -= 1
            for j in range(t):
                f = tb.tsets[s, j]
                fv_unc[f, row[f]] -= 1
            c += 1
    return c


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


# ---------------------------------------------------------------------------- local search
# Scalar state of the local search lives in ``st`` so a run can be cut into chunks (the
# caller checks the wall clock between chunks) without changing what it computes.
ST_N = 0  # current rows
ST_UNC = 1  # uncovered coverable tuples
ST_STEP = 2  # repair steps taken so far
ST_BEST = 3  # rows of the best complete array seen
ST_LAST = 4  # step of the last improvement
ST_WORK = 5  # abstract work done so far (t-set visits, row scans): the deterministic clock
ST_SIZE = 6
STEP_WORK = 400  # fixed work charged per repair step (sampling, tabu, bookkeeping)
# Sequential t-set-major scans (cover counts, the row-removal choice) touch memory in
# order and run about this many times faster per t-set visit than a repair step's scattered
# visits (measured on the reference machine), so they are charged at this discount;
# otherwise big t = 3 models stopped with half their budget unused.
SCAN_DISCOUNT = 3


@njit(cache=True, inline="always")
def _unc_add(unc_list: np.ndarray, unc_pos: np.ndarray, st: np.ndarray, tid: int) -> None:
    unc_pos[tid] = st[ST_UNC]
    unc_list[st[ST_UNC]] = tid
    st[ST_UNC] += 1


@njit(cache=True, inline="always")
def _unc_remove(unc_list: np.ndarray, unc_pos: np.ndarray, st: np.ndarray, tid: int) -> None:
    p = unc_pos[tid]
    last = unc_list[st[ST_UNC] - 1]
    unc_list[p] = last
    unc_pos[last] = p
    unc_pos[tid] = -1
    st[ST_UNC] -= 1


@njit(cache=True)
def ls_init(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    n: int,
    cnt: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    st: np.ndarray,
) -> None:
    count_cover(tb, rows, n, cnt)
    st[ST_N] = n
    st[ST_UNC] = 0
    for tid in range(cnt.shape[0]):
        unc_pos[tid] = -1
        if coverable[tid] and cnt[tid] == 0:
            _unc_add(unc_list, unc_pos, st, tid)


@njit(cache=True, inline="always")
def _move_tuples(
    tb: Tables,
    rows: np.ndarray,
    r: int,
    dcells: np.ndarray,
    dvals: np.ndarray,
    nd: int,
    a: int,
    m: int,
) -> tuple[int, int, bool]:
    """Old and new tuple id of t-set ``fts_set[m]`` (which holds ``dcells[a]``) under the
    change; ``dup`` when an earlier changed cell is also in it (already counted there)."""
    s = tb.fts_set[m]
    old = tb.offsets[s]
    new = old
    dup = False
    for j in range(tb.tsets.shape[1]):
        g = tb.tsets[s, j]
        x = rows[r, g]
        y = x
        for b in range(nd):
            if dcells[b] == g:
                y = dvals[b]
                if b < a:
                    dup = True
        old += x * tb.radix[s, j]
        new += y * tb.radix[s, j]
    return old, new, dup


@njit(cache=True, inline="always")
def move_score(
    tb: Tables,
    coverable: np.ndarray,
    cnt: np.ndarray,
    weight: np.ndarray,
    rows: np.ndarray,
    r: int,
    dcells: np.ndarray,
    dvals: np.ndarray,
    nd: int,
) -> int:
    """Weighted tuples the change newly covers minus weighted tuples it uncovers."""
    score = 0
    for a in range(nd):
        f = dcells[a]
        for m in range(tb.fts_ptr[f], tb.fts_ptr[f + 1]):
            old, new, dup = _move_tuples(tb, rows, r, dcells, dvals, nd, a, m)
            if dup:
                continue
            if cnt[new] == 0 and coverable[new]:
                score += weight[new]
            if cnt[old] == 1:
                score -= weight[old]
    return score


@njit(cache=True, inline="always")
def apply_move(
    tb: Tables,
    coverable: np.ndarray,
    cnt: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    st: np.ndarray,
    rows: np.ndarray,
    r: int,
    dcells: np.ndarray,
    dvals: np.ndarray,
    nd: int,
) -> None:
    for a in range(nd):
        f = dcells[a]
        for m in range(tb.fts_ptr[f], tb.fts_ptr[f + 1]):
            old, new, dup = _move_tuples(tb, rows, r, dcells, dvals, nd, a, m)
            if dup:
                continue
            cnt[old] -= 1
            if cnt[old] == 0 and coverable[old]:
                _unc_add(unc_list, unc_pos, st, old)
            cnt[new] += 1
            if cnt[new] == 1 and unc_pos[new] >= 0:
                _unc_remove(unc_list, unc_pos, st, new)
    for a in range(nd):
        rows[r, dcells[a]] = dvals[a]


@njit(cache=True)
def _remove_weakest_row(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    tabu: np.ndarray,
    cnt: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    st: np.ndarray,
    frozen: int,
    rng: np.ndarray,
    sample: int,
) -> None:
    """Drop the row (not a frozen one) holding the fewest tuples no other row holds."""
    n = st[ST_N]
    S = tb.tsets.shape[0]
    # On huge models only a deterministic random sample of ``sample`` rows is examined.
    span = n - frozen
    m = min(span, max(2, sample))
    cand = np.empty(span, dtype=np.int64)
    for i in range(span):
        cand[i] = frozen + i
    if m < span:
        for i in range(m):  # partial Fisher-Yates
            j = i + rng_below(rng, span - i)
            cand[i], cand[j] = cand[j], cand[i]
    st[ST_WORK] += (m + 1) * S // SCAN_DISCOUNT
    uniq = np.zeros(m, dtype=np.int64)
    for s in range(S):  # t-set-major, see count_cover
        for i in range(m):
            if cnt[tuple_id(tb, rows[cand[i]], s)] == 1:
                uniq[i] += 1
    best_r = -1
    best_u = 1 << 62
    ties = 0
    for i in range(m):
        r = cand[i]
        u = uniq[i]
        if u < best_u:
            best_r, best_u, ties = r, u, 1
        elif u == best_u:
            ties += 1
            if rng_below(rng, ties) == 0:
                best_r = r
    for s in range(S):
        tid = tuple_id(tb, rows[best_r], s)
        cnt[tid] -= 1
        if cnt[tid] == 0 and coverable[tid]:
            _unc_add(unc_list, unc_pos, st, tid)
    rows[best_r] = rows[n - 1]
    tabu[best_r] = tabu[n - 1]
    st[ST_N] = n - 1


@njit(cache=True, inline="always")
def _tuple_change(
    tb: Tables,
    rows: np.ndarray,
    r: int,
    s: int,
    tvals: np.ndarray,
    dcells: np.ndarray,
    dvals: np.ndarray,
) -> int:
    """Cells of ``rows[r]`` that must change for it to hold tuple (s, tvals); their count."""
    nd = 0
    for j in range(tb.tsets.shape[1]):
        f = tb.tsets[s, j]
        if rows[r, f] != tvals[j]:
            dcells[nd] = f
            dvals[nd] = tvals[j]
            nd += 1
    return nd


@njit(cache=True, inline="always")
def _is_tabu(
    tabu: np.ndarray, r: int, dcells: np.ndarray, nd: int, step: int, tenure: int
) -> bool:
    for a in range(nd):
        if step - tabu[r, dcells[a]] < tenure:
            return True
    return False


@njit(cache=True, inline="always")
def _best_move(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    tabu: np.ndarray,
    cnt: np.ndarray,
    weight: np.ndarray,
    st: np.ndarray,
    frozen: int,
    tenure: int,
    rng: np.ndarray,
    s: int,
    tvals: np.ndarray,
    dist: np.ndarray,
    dcells: np.ndarray,
    dvals: np.ndarray,
    fallback: bool,
    max_cands: int,
    slack: int,
) -> tuple[int, int]:
    """(row, score) of the best change making a row hold (s, tvals); row -1 if none.

    First pass: the rows needing the fewest changed cells (one, normally: a single-cell
    move), non-tabu and valid; at most ``max_cands`` of them are scored, scanning from a
    random row (big models: scoring one move visits C(k-1, t-1) t-sets). With ``fallback``, if none qualifies, any valid change of any
    row, tabu or not, so the walk never stalls on a tuple only tabu cells can reach.
    """
    n = st[ST_N]
    step = st[ST_STEP]
    t = tb.tsets.shape[1]
    st[ST_WORK] += STEP_WORK + (n - frozen + 1) * t
    dmin = 1 << 30
    for r in range(frozen, n):
        dist[r] = _tuple_change(tb, rows, r, s, tvals, dcells, dvals)
        if dist[r] < dmin:
            dmin = dist[r]
    has_clauses = tb.cl_ptr.shape[0] > 1
    span = n - frozen
    start = rng_below(rng, span) if span > max_cands else 0
    for phase in range(2 if fallback else 1):
        best_r = -1
        best_score = -(1 << 62)
        ties = 0
        scored = 0
        for i in range(span):
            if scored >= max_cands:
                break
            r = frozen + (start + i) % span
            if phase == 0 and dist[r] > dmin + slack:
                continue
            nd = _tuple_change(tb, rows, r, s, tvals, dcells, dvals)
            if phase == 0 and _is_tabu(tabu, r, dcells, nd, step, tenure):
                continue
            st[ST_WORK] += 2 * nd
            if has_clauses and not change_valid(tb, rows, r, dcells, dvals, nd):
                continue
            scored += 1
            for a in range(nd):
                st[ST_WORK] += tb.fts_ptr[dcells[a] + 1] - tb.fts_ptr[dcells[a]]
            score = move_score(tb, coverable, cnt, weight, rows, r, dcells, dvals, nd)
            if score > best_score:
                best_r, best_score, ties = r, score, 1
            elif score == best_score:
                ties += 1
                if rng_below(rng, ties) == 0:
                    best_r = r
        if best_r >= 0:
            return best_r, best_score
    return -1, 0


@njit(cache=True)
def ls_run(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    tabu: np.ndarray,
    cnt: np.ndarray,
    weight: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    best_rows: np.ndarray,
    st: np.ndarray,
    rng: np.ndarray,
    step_end: int,
    work_end: int,
    frozen: int,
    floor: int,
    tenure: int,
    samples: int,
    max_cands: int,
    remove_sample: int,
    slack: int,
    wcap: int,
) -> bool:
    """Run the TCA-style walk until ``st[ST_STEP] == step_end`` or ``st[ST_WORK] >=
    work_end``; True when it cannot shrink further (the best size reached ``floor``).

    Whenever the array is complete it is recorded (if smaller than the best) and its weakest
    row is dropped. Otherwise one repair step: greedy mode takes the best non-tabu change
    that makes a row hold one of ``samples`` random uncovered tuples, if it improves the
    weighted score; failing that (a local minimum), random mode applies the best change for
    one random uncovered tuple whatever its score, and every uncovered tuple gains weight.
    """
    t = tb.tsets.shape[1]
    tvals = np.empty(t, dtype=np.int64)
    best_vals = np.empty(t, dtype=np.int64)
    dcells = np.empty(t, dtype=np.int64)
    dvals = np.empty(t, dtype=np.int64)
    dist = np.empty(rows.shape[0], dtype=np.int64)
    while True:
        if st[ST_UNC] == 0:
            n = st[ST_N]
            if n < st[ST_BEST]:
                best_rows[:n] = rows[:n]
                st[ST_BEST] = n
                st[ST_LAST] = st[ST_STEP]
            if n <= floor or n <= frozen:
                return True
            _remove_weakest_row(
                tb, coverable, rows, tabu, cnt, unc_list, unc_pos, st, frozen, rng, remove_sample
            )
            continue
        if st[ST_STEP] >= step_end or st[ST_WORK] >= work_end:
            return False
        best_r = -1
        best_s = -1
        best_score = 0
        for _ in range(samples):
            tid = unc_list[rng_below(rng, st[ST_UNC])]
            s = decode_into(tb, tid, tvals)
            r, score = _best_move(
                tb, coverable, rows, tabu, cnt, weight, st, frozen, tenure, rng, s, tvals,
                dist, dcells, dvals, False, max_cands, slack,
            )
            if r >= 0 and score > best_score:
                best_r, best_s, best_score = r, s, score
                best_vals[:] = tvals
        if best_r < 0:
            tid = unc_list[rng_below(rng, st[ST_UNC])]
            best_s = decode_into(tb, tid, best_vals)
            best_r, _ = _best_move(
                tb, coverable, rows, tabu, cnt, weight, st, frozen, tenure, rng, best_s,
                best_vals, dist, dcells, dvals, True, max_cands, slack,
            )
            wtop = 0
            for i in range(st[ST_UNC]):
                weight[unc_list[i]] += 1
                if weight[unc_list[i]] > wtop:
                    wtop = weight[unc_list[i]]
            st[ST_WORK] += st[ST_UNC]
            if wcap > 0 and wtop > wcap:  # forget: halve every weight (SWT-style smoothing)
                for tid in range(weight.shape[0]):
                    weight[tid] = (weight[tid] + 1) >> 1
                st[ST_WORK] += weight.shape[0] // SCAN_DISCOUNT
        if best_r >= 0:
            nd = _tuple_change(tb, rows, best_r, best_s, best_vals, dcells, dvals)
            for a in range(nd):
                st[ST_WORK] += tb.fts_ptr[dcells[a] + 1] - tb.fts_ptr[dcells[a]]
            apply_move(tb, coverable, cnt, unc_list, unc_pos, st, rows, best_r, dcells, dvals, nd)
            for a in range(nd):
                tabu[best_r, dcells[a]] = st[ST_STEP]
        st[ST_STEP] += 1


# ---------------------------------------------------------------------------- greedy, live lists
# On big t = 3 models most t-sets are fully covered after a few dozen rows, yet the plain
# greedy kernels visit every t-set of a factor (random access into ``tset_unc``) for every
# cell of every candidate. The ``*_live`` variants visit only "live" t-sets (some tuple still
# uncovered), kept in compacted per-factor segments ``live_set/live_pos[fts_ptr[f] :
# fts_ptr[f] + live_len[f]]`` (in the original order) and a global list ``gl[:gl_len[0]]``
# (increasing t-set ids). Fully covered t-sets contribute nothing to any score, tie or
# random draw, so the results are identical to the plain kernels; only the cost drops.


@njit(cache=True)
def live_compact(
    tb: Tables, tset_unc: np.ndarray, live_set: np.ndarray, live_pos: np.ndarray,
    live_len: np.ndarray, gl: np.ndarray, gl_len: np.ndarray,
) -> int:
    """Drop t-sets without uncovered tuples from the live lists (order kept); returns the
    number of per-factor live entries left."""
    total = 0
    for f in range(tb.levels.shape[0]):
        base = tb.fts_ptr[f]
        m = 0
        for i in range(live_len[f]):
            s = live_set[base + i]
            if tset_unc[s] > 0:
                live_set[base + m] = s
                live_pos[base + m] = live_pos[base + i]
                m += 1
        live_len[f] = m
        total += m
    m = 0
    for i in range(gl_len[0]):
        s = gl[i]
        if tset_unc[s] > 0:
            gl[m] = s
            m += 1
    gl_len[0] = m
    return total


@njit(cache=True, inline="always")
def _score_values_live(
    tb: Tables, uncov: np.ndarray, row: np.ndarray, f: int, newcov: np.ndarray,
    live_set: np.ndarray, live_pos: np.ndarray, live_len: np.ndarray,
) -> None:
    """:func:`score_values` over the live t-sets of ``f`` only."""
    t = tb.tsets.shape[1]
    for v in range(tb.levels[f]):
        newcov[v] = 0
    b0 = tb.fts_ptr[f]
    for m in range(b0, b0 + live_len[f]):
        s = live_set[m]
        pos = live_pos[m]
        base = tb.offsets[s]
        ok = True
        for j in range(t):
            if j != pos:
                x = row[tb.tsets[s, j]]
                if x < 0:
                    ok = False
                    break
                base += x * tb.radix[s, j]
        if ok:
            r = tb.radix[s, pos]
            for v in range(tb.levels[f]):
                if uncov[base + v * r]:
                    newcov[v] += 1


@njit(cache=True)
def _pick_seed_tuple_live(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, rng: np.ndarray, gl: np.ndarray,
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
        if uncov[tid]:
            if pick == 0:
                return tid
            pick -= 1
    return -1


@njit(cache=True)
def _build_candidate_live(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray, rng: np.ndarray,
    row: np.ndarray, order: np.ndarray, newcov: np.ndarray, live_set: np.ndarray,
    live_pos: np.ndarray, live_len: np.ndarray, gl: np.ndarray, gl_len: int,
) -> int:
    """:func:`build_candidate` on the live lists."""
    row[:] = FREE
    tid = _pick_seed_tuple_live(tb, uncov, tset_unc, rng, gl, gl_len)
    if tid < 0:
        return -1
    place_tuple(tb, tid, row)
    m = free_order(row, rng, order)
    for i in range(m):
        f = order[i]
        _score_values_live(tb, uncov, row, f, newcov, live_set, live_pos, live_len)
        best_v = -1
        best_a = -1
        best_b = -1
        ties = 0
        for v in range(tb.levels[f]):
            if tb.constrained[f]:
                row[f] = v
                ok = factor_clauses_ok(tb, row, f)
                row[f] = FREE
                if not ok:
                    continue
            a = newcov[v]
            b = fv_unc[f, v]
            if a > best_a or (a == best_a and b > best_b):
                best_v, best_a, best_b, ties = v, a, b, 1
            elif a == best_a and b == best_b:
                ties += 1
                if rng_below(rng, ties) == 0:
                    best_v = v
        if best_v < 0:
            return -1
        row[f] = best_v
    c = 0
    for i in range(gl_len):
        s = gl[i]
        if uncov[tuple_id(tb, row, s)]:
            c += 1
    return c


@njit(cache=True)
def best_candidate_live(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray, rng: np.ndarray,
    n_cand: int, out_row: np.ndarray, live_set: np.ndarray, live_pos: np.ndarray,
    live_len: np.ndarray, gl: np.ndarray, gl_len: np.ndarray,
) -> int:
    """:func:`best_candidate` on the live lists (the caller charges the work)."""
    k = out_row.shape[0]
    row = np.empty(k, dtype=np.int64)
    order = np.empty(k, dtype=np.int64)
    newcov = np.empty(tb.levels.max(), dtype=np.int64)
    best = -1
    for _ in range(n_cand):
        gain = _build_candidate_live(tb, uncov, tset_unc, fv_unc, rng, row, order, newcov,
                                     live_set, live_pos, live_len, gl, gl_len[0])
        if gain > best:
            best = gain
            out_row[:] = row
    return best


@njit(cache=True)
def commit_row_live(
    tb: Tables, uncov: np.ndarray, tset_unc: np.ndarray, fv_unc: np.ndarray, row: np.ndarray,
    gl: np.ndarray, gl_len: np.ndarray,
) -> int:
    """:func:`commit_row` over the live t-sets (the others hold no uncovered tuple)."""
    t = tb.tsets.shape[1]
    c = 0
    for i in range(gl_len[0]):
        s = gl[i]
        tid = tuple_id(tb, row, s)
        if uncov[tid]:
            uncov[tid] = False
            tset_unc[s] -= 1
            for j in range(t):
                f = tb.tsets[s, j]
                fv_unc[f, row[f]] -= 1
            c += 1
    return c
