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
    the counters in cache on models with millions of tuples. The rows are transposed first
    so each t-set's tuple ids are computed column by column over contiguous memory (about
    4x faster than row by row on Syn_19 at t = 3: 0.5 s against 2.3 s for 400 rows)."""
    k = rows.shape[1]
    t = tb.tsets.shape[1]
    cols = np.empty((k, n), dtype=np.int64)
    for r in range(n):
        for f in range(k):
            cols[f, r] = rows[r, f]
    tid = np.empty(n, dtype=np.int64)
    for s in range(tb.tsets.shape[0]):
        base = tb.offsets[s]
        for r in range(n):
            tid[r] = base
        for j in range(t):
            f = tb.tsets[s, j]
            radix = tb.radix[s, j]
            for r in range(n):
                tid[r] += cols[f, r] * radix
        for r in range(n):
            cnt[tid[r]] += 1


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
def _record_and_drop(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    tabu: np.ndarray,
    cnt: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    best_rows: np.ndarray,
    st: np.ndarray,
    frozen: int,
    floor: int,
    rng: np.ndarray,
    remove_sample: int,
) -> bool:
    """The working array is complete: record it if it is the smallest yet, then drop its
    weakest row. True when it may not shrink further (``floor`` or only frozen rows)."""
    n = st[ST_N]
    if n < st[ST_BEST]:
        best_rows[:n] = rows[:n]
        st[ST_BEST] = n
        st[ST_LAST] = st[ST_STEP]
    if n <= floor or n <= frozen:
        return True
    _remove_weakest_row(tb, coverable, rows, tabu, cnt, unc_list, unc_pos, st, frozen, rng, remove_sample)
    return False


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
            if _record_and_drop(tb, coverable, rows, tabu, cnt, unc_list, unc_pos, best_rows,
                                st, frozen, floor, rng, remove_sample):
                return True
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


# ---------------------------------------------------------------------------- annealing
# Fixed-N focused simulated annealing, the TCA walk's partner in the hybrid (see
# ``localsearch``): every step picks a random uncovered tuple and a random row needing at most
# one changed cell to hold it (any row once 3 * rows draws found none), and applies the change
# by the Metropolis rule on the change in the number of uncovered tuples, at a temperature
# that falls geometrically from ``temp_hi`` to ``temp_lo`` over ``cycle`` steps and then starts
# again. One move is scored per step instead of a neighbourhood, so steps are ~30x cheaper.
SA_STEP_WORK = 8  # fixed work charged per annealing step (sampling, bookkeeping, RNG)


@njit(cache=True, inline="always")
def _uncover_delta(
    tb: Tables,
    coverable: np.ndarray,
    cnt: np.ndarray,
    rows: np.ndarray,
    r: int,
    dcells: np.ndarray,
    dvals: np.ndarray,
    nd: int,
) -> int:
    """Change in the number of uncovered coverable tuples if the change were applied."""
    d = 0
    for a in range(nd):
        f = dcells[a]
        for m in range(tb.fts_ptr[f], tb.fts_ptr[f + 1]):
            old, new, dup = _move_tuples(tb, rows, r, dcells, dvals, nd, a, m)
            if dup:
                continue
            if cnt[old] == 1 and coverable[old]:
                d += 1
            if cnt[new] == 0 and coverable[new]:
                d -= 1
    return d


@njit(cache=True, inline="always")
def _unit(rng: np.ndarray) -> float:
    """Uniform in [0, 1) from the top 53 bits."""
    return np.float64(rng_next(rng) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def sa_run(
    tb: Tables,
    coverable: np.ndarray,
    rows: np.ndarray,
    tabu: np.ndarray,
    cnt: np.ndarray,
    unc_list: np.ndarray,
    unc_pos: np.ndarray,
    best_rows: np.ndarray,
    st: np.ndarray,
    rng: np.ndarray,
    step_end: int,
    work_end: int,
    frozen: int,
    floor: int,
    remove_sample: int,
    temp_hi: float,
    temp_lo: float,
    cycle: int,
) -> bool:
    """Anneal until ``st[ST_STEP] == step_end`` or ``st[ST_WORK] >= work_end``; True when the
    best size reached ``floor``. Whenever the array is complete it is recorded (if smaller
    than the best) and its weakest row is dropped, as in :func:`ls_run`."""
    t = tb.tsets.shape[1]
    tvals = np.empty(t, dtype=np.int64)
    dcells = np.empty(t, dtype=np.int64)
    dvals = np.empty(t, dtype=np.int64)
    has_clauses = tb.cl_ptr.shape[0] > 1
    ratio = temp_lo / temp_hi
    while True:
        if st[ST_UNC] == 0:
            if _record_and_drop(tb, coverable, rows, tabu, cnt, unc_list, unc_pos, best_rows,
                                st, frozen, floor, rng, remove_sample):
                return True
            continue
        if st[ST_STEP] >= step_end or st[ST_WORK] >= work_end:
            return False
        st[ST_WORK] += SA_STEP_WORK
        span = st[ST_N] - frozen
        if span <= 0:  # only frozen rows left: nothing can move (the TCA walk idles too)
            st[ST_STEP] += 1
            continue
        tid = unc_list[rng_below(rng, st[ST_UNC])]
        s = decode_into(tb, tid, tvals)
        r = -1
        nd = 0
        for tries in range(4 * span + 4):
            r = frozen + rng_below(rng, span)
            nd = _tuple_change(tb, rows, r, s, tvals, dcells, dvals)
            st[ST_WORK] += t
            if nd > 1 and tries < 3 * span:
                continue
            if has_clauses and not change_valid(tb, rows, r, dcells, dvals, nd):
                st[ST_WORK] += 2 * nd
                r = -1
                continue
            break
        else:
            r = -1
        if r >= 0:
            for a in range(nd):
                st[ST_WORK] += tb.fts_ptr[dcells[a] + 1] - tb.fts_ptr[dcells[a]]
            d = _uncover_delta(tb, coverable, cnt, rows, r, dcells, dvals, nd)
            ok = d <= 0
            if not ok:
                temp = temp_hi * ratio ** (np.float64(st[ST_STEP] % cycle) / cycle)
                ok = _unit(rng) < np.exp(-d / temp)
            if ok:
                for a in range(nd):
                    st[ST_WORK] += tb.fts_ptr[dcells[a] + 1] - tb.fts_ptr[dcells[a]]
                apply_move(tb, coverable, cnt, unc_list, unc_pos, st, rows, r, dcells, dvals, nd)
        st[ST_STEP] += 1


# ---------------------------------------------------------------------------- cyclic seeds
# Arrays invariant under rotating the k columns: ``m`` base rows, each developed into its k
# rotations (row (b, s)[c] = base[b, (c + s) % k]), plus the v constant rows. A t-set and
# its rotations are then covered alike, so counts are kept per orbit representative
# (``reps``) only: ``cnt[r, code]`` rows hold value tuple ``code`` on rep ``r``.


@njit(cache=True, inline="always")
def _cyc_code(base: np.ndarray, b: int, reps: np.ndarray, r: int, s: int, k: int, v: int) -> int:
    code = 0
    for j in range(reps.shape[1]):
        code = code * v + base[b, (reps[r, j] + s) % k]
    return code


@njit(cache=True)
def _cyc_touch(base: np.ndarray, b: int, c: int, reps: np.ndarray, k: int, v: int,
               cnt: np.ndarray, sign: int) -> int:
    """Add (``sign`` 1) or remove (-1) the rotations of base ``b`` whose column ``c`` falls
    on a rep; returns the change of the uncovered count. On one rep, distinct positions
    ``j`` mean distinct rotations, so each developed row is touched once."""
    d = 0
    for r in range(reps.shape[0]):
        for j in range(reps.shape[1]):
            code = _cyc_code(base, b, reps, r, (c - reps[r, j]) % k, k, v)
            if sign < 0:
                cnt[r, code] -= 1
                if cnt[r, code] == 0:
                    d += 1
            else:
                if cnt[r, code] == 0:
                    d -= 1
                cnt[r, code] += 1
    return d


@njit(cache=True)
def cyclic_step_work(m: int, k: int, v: int, reps: np.ndarray) -> int:
    """Work units of one tabu step: every cell, every value, two touches of t rows per rep."""
    return m * k * v * 2 * reps.shape[0] * reps.shape[1]


@njit(cache=True)
def cyclic_tabu(base: np.ndarray, reps: np.ndarray, v: int, rng: np.ndarray, max_work: int,
                tenure: int) -> int:
    """Tabu search on the base rows (in place) towards a complete cyclic array: each step
    takes the best non-tabu change of one cell (ties at random; a tabu change only when it
    beats the best). Returns the uncovered orbit tuples of the best base, which ``base``
    then holds. Work: the look-ups, one unit per developed row touched."""
    m, k = base.shape
    t = reps.shape[1]
    cnt = np.zeros((reps.shape[0], v ** t), dtype=np.int32)
    for r in range(reps.shape[0]):
        for a in range(v):
            cnt[r, a * ((v ** t - 1) // (v - 1))] += 1  # the constant row a
        for b in range(m):
            for s in range(k):
                cnt[r, _cyc_code(base, b, reps, r, s, k, v)] += 1
    unc = 0
    for r in range(cnt.shape[0]):
        for code in range(cnt.shape[1]):
            if cnt[r, code] == 0:
                unc += 1
    best = unc
    best_base = base.copy()
    tabu = np.zeros((m, k), dtype=np.int64)
    steps = max(1, max_work // cyclic_step_work(m, k, v, reps))
    for step in range(steps):
        if unc == 0:
            break
        bd = 1 << 30
        bb = -1
        bc = -1
        bv = -1
        ties = 0
        for b in range(m):
            for c in range(k):
                old = base[b, c]
                d0 = _cyc_touch(base, b, c, reps, k, v, cnt, -1)
                for nv in range(v):
                    if nv == old:
                        continue
                    base[b, c] = nv
                    d = d0 + _cyc_touch(base, b, c, reps, k, v, cnt, 1)
                    _cyc_touch(base, b, c, reps, k, v, cnt, -1)
                    if tabu[b, c] > step and unc + d >= best:
                        continue
                    if d < bd:
                        bd = d
                        bb = b
                        bc = c
                        bv = nv
                        ties = 1
                    elif d == bd:
                        ties += 1
                        if rng_below(rng, ties) == 0:
                            bb = b
                            bc = c
                            bv = nv
                base[b, c] = old
                _cyc_touch(base, b, c, reps, k, v, cnt, 1)
        if bb < 0:
            continue  # every change tabu and none improving: wait for the tenures to end
        _cyc_touch(base, bb, bc, reps, k, v, cnt, -1)
        base[bb, bc] = bv
        _cyc_touch(base, bb, bc, reps, k, v, cnt, 1)
        unc += bd
        tabu[bb, bc] = step + tenure + rng_below(rng, 3)
        if unc < best:
            best = unc
            best_base[:, :] = base
    base[:, :] = best_base
    return best
