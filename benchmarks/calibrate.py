"""Measure the compiled kernels' speed in work units per second (``engine.search``'s
NOMINAL_WORK_PER_SECOND and CONSTRAINED_SPEED are set from these figures).

For each ``NAME:t`` (a file stem in ``../shared/data/benchmarks``) it builds the greedy
array, then runs ``shrink(max_work=WORK)`` on it and prints the units the walk counted per
wall second, for the greedy and for the local search::

    python benchmarks/calibrate.py 5e8 'CA_10^20:2' 'CA_3^13:3' GCC:2 Apache:3

Run it on a quiet machine: the figures are only as steady as the load.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "benchmarks"


def measure(name: str, strength: int, max_work: int) -> dict[str, float]:
    """Greedy and local-search units/s of one instance (kernels warmed up first)."""
    import numpy as np

    from coverage_gen.engine import search
    from coverage_gen.engine.analysis import analyse
    from coverage_gen.engine.bounds import lower_bound
    from coverage_gen.engine.greedy import greedy_array
    from coverage_gen.engine.localsearch import shrink
    from coverage_gen.engine.lower import lower_model
    from coverage_gen.engine.oracle import RowOracle
    from coverage_gen.engine.tuples import index_for
    from coverage_gen.spec import load_model

    search._warm_up()
    model, _ = load_model(DATA / f"{name}.txt", strength=strength)
    problem = lower_model(model).problem
    index = index_for(problem)
    oracle = RowOracle(problem)
    coverable = analyse(problem, index, seed=0, oracle=oracle).coverable
    work = np.zeros(1, dtype=np.int64)
    t0 = time.perf_counter()
    rows = greedy_array(problem, index, coverable, oracle, seed=0, work=work)
    greedy_s = time.perf_counter() - t0
    lower = lower_bound(problem, index, coverable).value
    t0 = time.perf_counter()
    res = shrink(problem, index, coverable, rows, None, seed=0, max_steps=1 << 62,
                 max_work=max_work, lower=lower)
    walk_s = time.perf_counter() - t0
    return {
        "greedy_rows": len(rows), "greedy_s": greedy_s, "greedy_units_per_s": work[0] / greedy_s,
        "rows": len(res.rows), "walk_s": walk_s, "walk_units_per_s": res.work / walk_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=float, help="work units for each local search, e.g. 5e8")
    parser.add_argument("instances", nargs="+", help="NAME:t, e.g. 'CA_3^13:3'")
    args = parser.parse_args(argv)
    print("instance       t  greedy rows  greedy s  greedy units/s  rows  walk s  walk units/s")
    for item in args.instances:
        name, _, t = item.partition(":")
        r = measure(name, int(t or 2), int(args.work))
        print(f"{name:<14} {t or 2:>1}  {r['greedy_rows']:>11}  {r['greedy_s']:>8.2f}  "
              f"{r['greedy_units_per_s']:>14.3g}  {r['rows']:>4}  {r['walk_s']:>6.2f}  "
              f"{r['walk_units_per_s']:>12.3g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
