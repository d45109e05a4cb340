"""Compiled search kernels for ``cover.oracle`` (the numba side of the row oracle).

Domains are bitmasks of ``W`` 64-bit words per *constrained* factor (factors renumbered
``0..kc-1``); a clause is a run ``lit_start[c]:lit_start[c+1]`` of set literals
``(lit_f, lit_mask)``. Everything is a flat numpy array so the kernels compile once
(``cache=True``) and are shared by every problem.
"""

from __future__ import annotations

import numpy as np
from numba import njit

CONFLICT = 0  # some clause can no longer hold
OPEN = 1  # consistent, some clause still undecided
SATISFIED = 2  # every clause holds whatever values the domains keep

FOUND = 1
NONE = 0
LIMIT = -1


@njit(cache=True, nogil=True)
def _overlaps(dom: np.ndarray, f: int, mask: np.ndarray, l: int) -> bool:
    for w in range(dom.shape[1]):
        if dom[f, w] & mask[l, w]:
            return True
    return False


@njit(cache=True, nogil=True)
def _inside(dom: np.ndarray, f: int, mask: np.ndarray, l: int) -> bool:
    for w in range(dom.shape[1]):
        if dom[f, w] & ~mask[l, w]:
            return False
    return True


@njit(cache=True, nogil=True)
def propagate(
    dom: np.ndarray, lit_start: np.ndarray, lit_f: np.ndarray, lit_mask: np.ndarray
) -> int:
    """Unit propagation to a fixed point, in place. A literal is *possible* when the
    factor's domain meets its set and *certain* when the domain lies inside it; a clause
    with no possible literal is a conflict, one with a single possible literal narrows that
    factor's domain to the literal's set."""
    n_clauses = lit_start.shape[0] - 1
    while True:
        changed = False
        all_sat = True
        for c in range(n_clauses):
            n_possible = 0
            last = -1
            sat = False
            for l in range(lit_start[c], lit_start[c + 1]):
                f = lit_f[l]
                if _overlaps(dom, f, lit_mask, l):
                    if _inside(dom, f, lit_mask, l):
                        sat = True
                        break
                    n_possible += 1
                    last = l
            if sat:
                continue
            if n_possible == 0:
                return CONFLICT
            all_sat = False
            if n_possible == 1:
                f = lit_f[last]
                for w in range(dom.shape[1]):
                    dom[f, w] &= lit_mask[last, w]
                changed = True
        if not changed:
            return SATISFIED if all_sat else OPEN


@njit(cache=True, nogil=True)
def _domain_size(dom: np.ndarray, f: int) -> int:
    n = 0
    for w in range(dom.shape[1]):
        x = dom[f, w]
        while x:
            x &= x - np.uint64(1)
            n += 1
    return n


@njit(cache=True, nogil=True)
def _choose_factor(dom: np.ndarray) -> int:
    """Smallest domain with more than one value (first-fail). After propagation in state
    OPEN some undecided clause has two possible but not certain literals, so such a factor
    exists."""
    best = -1
    best_size = 1 << 30
    for f in range(dom.shape[0]):
        s = _domain_size(dom, f)
        if 1 < s < best_size:
            best = f
            best_size = s
            if s == 2:
                break
    return best


@njit(cache=True, nogil=True)
def pick_value(dom: np.ndarray, f: int, levels: np.ndarray, prio: np.ndarray) -> int:
    """The value of ``f``'s domain with the lowest priority (random order for sampling,
    value order for plain decisions)."""
    best = -1
    best_p = np.inf
    for v in range(levels[f]):
        if (dom[f, v >> 6] >> np.uint64(v & 63)) & np.uint64(1):
            if prio[f, v] < best_p:
                best_p = prio[f, v]
                best = v
    return best


@njit(cache=True, nogil=True)
def search(
    dom0: np.ndarray,
    lit_start: np.ndarray,
    lit_f: np.ndarray,
    lit_mask: np.ndarray,
    levels: np.ndarray,
    prio: np.ndarray,
    node_limit: int,
    out: np.ndarray,
) -> int:
    """Depth-first search with propagation from the domains ``dom0``.

    Returns FOUND (``out`` holds domains in which every clause is certain, so any choice
    from them is a valid row), NONE (no completion) or LIMIT (more than ``node_limit``
    branches; ``node_limit < 0`` means no limit). Iterative, with one domain copy per
    depth, because numba recursion is awkward and depth is at most the factor count.
    """
    kc, words = dom0.shape
    doms = np.empty((kc + 1, kc, words), dtype=np.uint64)
    todo = np.empty((kc + 1, words), dtype=np.uint64)  # values still to try per depth
    branch = np.empty(kc + 1, dtype=np.int64)
    doms[0] = dom0
    state = propagate(doms[0], lit_start, lit_f, lit_mask)
    if state == CONFLICT:
        return NONE
    if state == SATISFIED:
        out[:] = doms[0]
        return FOUND
    depth = 0
    branch[0] = _choose_factor(doms[0])
    todo[0] = doms[0][branch[0]]
    nodes = 0
    while depth >= 0:
        f = branch[depth]
        any_left = False
        for w in range(words):
            if todo[depth, w]:
                any_left = True
        if not any_left:
            depth -= 1
            continue
        # pick the next value among the untried ones, by priority
        best = -1
        best_p = np.inf
        for v in range(levels[f]):
            if (todo[depth, v >> 6] >> np.uint64(v & 63)) & np.uint64(1):
                if prio[f, v] < best_p:
                    best_p = prio[f, v]
                    best = v
        todo[depth, best >> 6] &= ~(np.uint64(1) << np.uint64(best & 63))
        nodes += 1
        if 0 <= node_limit < nodes:
            return LIMIT
        child = doms[depth + 1]
        child[:] = doms[depth]
        for w in range(words):
            child[f, w] = 0
        child[f, best >> 6] = np.uint64(1) << np.uint64(best & 63)
        state = propagate(child, lit_start, lit_f, lit_mask)
        if state == CONFLICT:
            continue
        if state == SATISFIED:
            out[:] = child
            return FOUND
        depth += 1
        branch[depth] = _choose_factor(child)
        todo[depth] = child[branch[depth]]
    return NONE
