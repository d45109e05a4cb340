"""Covering-array benchmark: our engine against the references and two Python peers.

Runs every instance of ``../shared/data/benchmarks`` at each strength REFERENCE.csv lists for
it (files it does not list: their ``# order:`` comment, else t = 2), with a fixed time budget,
verifies every array with the independent checker (``coverage_gen.verify.checker``) and writes
a Markdown report (plus a JSON file with every measurement next to it)::

    python benchmarks/bench_cover.py --budget 10 [--budget 60] [--only GLOB] \
        [--peers allpairspy,covertable] [--out benchmarks/RESULTS.md] [--jobs 1]

Every generator run (ours, allpairspy, covertable) and every verification runs in its own
subprocess: isolation, a hard timeout, and the child's own peak RSS (``os.wait4``).

Peers do not depend on our engine and are deterministic, so their measurements are cached
(``--peer-cache``, keyed by instance content, strength, peer version and timeout); pass
``--fresh-peers`` to measure them again.

The library functions (``load_instances``, ``run_benchmark``, ``render_markdown``,
``summarise``) are pure apart from the subprocesses they start, so tests can call them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import datetime as _dt
import fnmatch
import hashlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "data" / "benchmarks"
DEFAULT_OUT = ROOT / "benchmarks" / "RESULTS.md"
DEFAULT_PEER_CACHE = ROOT / "benchmarks" / ".peer_cache.json"
PEERS = ("allpairspy", "covertable")
PEER_PROTOCOL = 1  # bump when the peer translation changes (invalidates the cache)

PAIRWISE_CONSTRAINED = ["SPIN-S", "SPIN-V", "GCC", "Apache", "Bugzilla"] + [
    f"Syn_{i}" for i in range(1, 21)
]


# =========================================================================== instances
@dataclasses.dataclass(frozen=True)
class Instance:
    file: str  # file name inside the data directory
    strength: int
    lower_bound: int | None = None
    best_known: int | None = None
    best_source: str = ""
    pict: int | None = None  # PICT 3.7.5 default seed, None when not numeric
    pict_text: str = ""  # as written in REFERENCE.csv ("timeout>60s", ...)
    note: str = ""

    @property
    def name(self) -> str:
        return self.file.removesuffix(".txt")

    @property
    def key(self) -> str:
        return f"{self.file}@{self.strength}"


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"\d+", text) else None


def _order_comment(path: Path) -> int | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*#\s*order\s*:\s*(\d+)", line, re.IGNORECASE)
        if m:
            return int(m.group(1))
    return None


def load_instances(data_dir: Path = DATA_DIR) -> list[Instance]:
    """Every (file, strength) of REFERENCE.csv, then unlisted model files at their order."""
    out: list[Instance] = []
    listed: set[str] = set()
    with (data_dir / "REFERENCE.csv").open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            listed.add(rec["file"])
            out.append(
                Instance(
                    file=rec["file"],
                    strength=int(rec["strength"]),
                    lower_bound=_int_or_none(rec["lower_bound"]),
                    best_known=_int_or_none(rec["best_known"]),
                    best_source=rec["best_known_source"].strip(),
                    pict=_int_or_none(rec["pict_3_7_5_default"]),
                    pict_text=rec["pict_3_7_5_default"].strip(),
                    note=rec.get("note", "").strip(),
                )
            )
    for path in sorted(data_dir.glob("*.txt")):
        if path.name not in listed:
            out.append(Instance(path.name, _order_comment(path) or 2, note="not in REFERENCE.csv"))
    return out


def select(
    instances: Iterable[Instance], only: Sequence[str] = (), strengths: Sequence[int] = ()
) -> list[Instance]:
    """Keep instances whose file name or stem matches any glob of ``only`` (all when empty)."""
    keep = []
    for inst in instances:
        if only and not any(
            fnmatch.fnmatchcase(inst.file, g) or fnmatch.fnmatchcase(inst.name, g) for g in only
        ):
            continue
        if strengths and inst.strength not in strengths:
            continue
        keep.append(inst)
    return keep


# =========================================================================== child processes
@dataclasses.dataclass
class ChildResult:
    status: str  # "ok" | "timeout" | "error"
    payload: dict[str, Any]
    wall: float
    maxrss_mb: float | None
    error: str = ""


def run_child(args: Sequence[str], timeout: float) -> ChildResult:
    """Run ``python bench_cover.py <args>`` and read the JSON line it prints last.

    ``os.wait4`` gives this child's own rusage (peak RSS), unlike RUSAGE_CHILDREN which
    accumulates over every child ever waited for.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env=env,
            start_new_session=True,
        )
        deadline = start + timeout
        timed_out = False
        status = 0
        rusage = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() > deadline:
                timed_out = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    maxrss = rusage.ru_maxrss / 1024.0 if rusage is not None else None  # KiB on Linux
    if timed_out:
        last = [ln for ln in stderr.splitlines() if ln.startswith("progress:")][-1:]
        hint = f" ({last[0]})" if last else ""
        return ChildResult("timeout", {}, wall, maxrss, f"killed after {timeout:.0f} s{hint}")
    payload = None
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                payload = json.loads(line)
            except json.JSONDecodeError:
                continue
            break
    if proc.returncode != 0 or payload is None:
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1][:300]
        return ChildResult("error", payload or {}, wall, maxrss, f"exit {proc.returncode}: {tail}")
    if payload.get("error"):
        return ChildResult("error", payload, wall, maxrss, str(payload["error"])[:300])
    return ChildResult("ok", payload, wall, maxrss)


# -- what runs inside the children ------------------------------------------------------
def _load(path: str, strength: int) -> Any:
    from coverage_gen.spec import load_model

    model, _ = load_model(path, strength=strength)
    return model


def _write_rows(path: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"header": list(header), "rows": [list(r) for r in rows]}, handle)


def worker_ours(path: str, strength: int, budget: float, rows_out: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    from coverage_gen.api import build_matrix

    model = _load(path, strength)
    t1 = time.perf_counter()
    last = [""]

    def progress(phase: str, done: int, total: int, seconds: float) -> None:
        if phase != last[0]:  # one line per phase: a killed run shows where it hung
            last[0] = phase
            print(f"progress: phase {phase!r} at {time.perf_counter() - t1:.1f} s",
                  file=sys.stderr, flush=True)

    result = build_matrix(model, time_limit=budget, progress=progress)
    t2 = time.perf_counter()
    a = result.array
    _write_rows(rows_out, result.header, result.rows)
    return {
        "size": a.num_rows,
        "engine_seconds": round(float(a.seconds), 3),
        "build_seconds": round(t2 - t1, 3),
        "startup_seconds": round(t1 - t0, 3),
        "lower_bound": int(a.lower_bound.value),
        "lower_bound_reason": a.lower_bound.reason,
        "optimal": bool(a.optimal),
        "proof": a.proof,
        "best_known": a.best_known,
        "exit_reason": getattr(a.exit_reason, "value", str(a.exit_reason)),
        "required": int(a.required),
        "excluded": int(a.excluded),
        "phases": [
            {
                "name": p.name,
                "rows_before": int(p.rows_before),
                "rows_after": int(p.rows_after),
                "seconds": round(float(p.seconds), 3),
                "detail": p.detail,
            }
            for p in a.phases
        ],
    }


class _RuleEvaluator:
    """The model's constraints, evaluated by the independent checker's own evaluator.

    ``check(cells, known)``: False if some rule is already broken by the known cells,
    True otherwise (an undecided rule counts as OK).
    """

    def __init__(self, model: Any) -> None:
        from coverage_gen.verify import checker

        self._evaluate = checker.evaluate
        self.sem = checker._Semantics(model)  # the checker's semantics (typing, case folding)
        self.names = list(self.sem.names)
        self.rules: list[tuple[Any, frozenset[int]]] = []
        for c in model.constraints:
            self.rules.append((c.expr, frozenset(self._factors(c.expr))))

    def _factors(self, expr: Any) -> set[int]:
        from coverage_gen.spec.model import And, IfThen, Not, Or

        if isinstance(expr, Not):
            return self._factors(expr.operand)
        if isinstance(expr, (And, Or)):
            return set().union(*(self._factors(e) for e in expr.operands))
        if isinstance(expr, IfThen):
            parts = [expr.cond, expr.then] + ([expr.otherwise] if expr.otherwise else [])
            return set().union(*(self._factors(e) for e in parts))
        return set(self.sem.atom_factors(expr))

    def check(self, cells: Sequence[str], known: Callable[[int], bool],
              rules: Sequence[tuple[Any, frozenset[int]]] | None = None) -> bool:
        sem = self.sem

        def atom(node: Any) -> bool | None:
            if all(known(f) for f in sem.atom_factors(node)):
                return sem.atom_holds(node, cells)
            return None

        for expr, factors in self.rules if rules is None else rules:
            if not any(known(f) for f in factors):
                continue
            if self._evaluate(expr, atom) is False:
                return False
        return True


def worker_allpairspy(path: str, strength: int, rows_out: str) -> dict[str, Any]:
    from allpairspy import AllPairs

    model = _load(path, strength)
    rules = _RuleEvaluator(model)
    n = len(rules.names)

    def filter_func(partial: Sequence[str]) -> bool:
        k = len(partial)
        if not rules.rules:
            return True
        cells = list(partial) + [""] * (n - k)
        return rules.check(cells, lambda f: f < k)

    t0 = time.perf_counter()
    params = [list(f.values) for f in model.factors]
    rows = [list(r) for r in AllPairs(params, filter_func=filter_func, n=strength)]
    seconds = time.perf_counter() - t0
    _write_rows(rows_out, rules.names, rows)
    return {"size": len(rows), "seconds": round(seconds, 3)}


def worker_covertable(path: str, strength: int, rows_out: str) -> dict[str, Any]:
    from covertable import make

    model = _load(path, strength)
    rules = _RuleEvaluator(model)
    names = rules.names
    index = {name: i for i, name in enumerate(names)}
    constraints = []
    for rule in rules.rules:

        def evaluate(row: dict[str, str], rule: tuple[Any, frozenset[int]] = rule) -> bool:
            cells = [""] * len(names)
            for key, value in row.items():
                cells[index[key]] = value
            return rules.check(cells, lambda f: names[f] in row, [rule])

        constraints.append(
            {"operator": "fn", "requires": [names[f] for f in sorted(rule[1])], "evaluate": evaluate}
        )
    factors_dict = {name: list(f.values) for name, f in zip(names, model.factors)}
    t0 = time.perf_counter()
    out = make(factors_dict, strength=strength, constraints=constraints or None)
    seconds = time.perf_counter() - t0
    rows = [[row[name] for name in names] for row in out]
    _write_rows(rows_out, names, rows)
    return {"size": len(rows), "seconds": round(seconds, 3)}


def worker_verify(path: str, strength: int, rows_in: str) -> dict[str, Any]:
    from coverage_gen.verify.checker import check_rows

    model = _load(path, strength)
    with open(rows_in, encoding="utf-8") as handle:
        data = json.load(handle)
    t0 = time.perf_counter()
    res = check_rows(model, list(data["header"]), data["rows"], strength=strength, max_missing=0)
    return {
        "ok": bool(res.ok),
        "rows": res.rows,
        "feasible_tuples": res.feasible_tuples,
        "covered_tuples": res.covered_tuples,
        "missing": res.missing_count,
        "excluded": res.excluded_tuples,
        "violating_rows": len({v.row for v in res.violations}),
        "unknown_values": len(res.unknown_values),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _worker_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_cover.py _worker")
    p.add_argument("kind", choices=["ours", "allpairspy", "covertable", "verify"])
    p.add_argument("file")
    p.add_argument("strength", type=int)
    p.add_argument("rows")
    p.add_argument("--budget", type=float, default=10.0)
    a = p.parse_args(argv)
    try:
        if a.kind == "ours":
            payload = worker_ours(a.file, a.strength, a.budget, a.rows)
        elif a.kind == "allpairspy":
            payload = worker_allpairspy(a.file, a.strength, a.rows)
        elif a.kind == "covertable":
            payload = worker_covertable(a.file, a.strength, a.rows)
        else:
            payload = worker_verify(a.file, a.strength, a.rows)
    except Exception as exc:  # reported, not raised: the parent records it in the table
        import traceback

        traceback.print_exc()
        payload = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(payload), flush=True)
    return 0


# =========================================================================== one instance
@dataclasses.dataclass
class Options:
    budgets: list[float]
    peers: list[str]
    data_dir: Path = DATA_DIR
    peer_timeout: float = 120.0
    verify_timeout: float = 900.0
    ours_timeout: Callable[[float], float] = lambda b: 2 * b + 120.0
    peer_cache: Path | None = DEFAULT_PEER_CACHE
    fresh_peers: bool = False


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _package_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _verify(inst: Instance, path: Path, rows_file: str, opts: Options) -> dict[str, Any]:
    res = run_child(["_worker", "verify", str(path), str(inst.strength), rows_file],
                    opts.verify_timeout)
    if res.status != "ok":
        return {"ok": None, "status": res.status, "error": res.error, "seconds": round(res.wall, 2)}
    return {**res.payload, "status": "ok"}


def run_peer(inst: Instance, peer: str, opts: Options) -> dict[str, Any]:
    path = opts.data_dir / inst.file
    version = _package_version(peer)
    if version is None:
        return {"status": "not installed"}
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = str(Path(tmp) / "rows.json")
        res = run_child(["_worker", peer, str(path), str(inst.strength), rows_file],
                        opts.peer_timeout)
        out: dict[str, Any] = {
            "status": res.status, "version": version, "wall": round(res.wall, 2),
            "maxrss_mb": res.maxrss_mb, "timeout": opts.peer_timeout,
        }
        if res.status == "ok":
            out.update(res.payload)
            out["verify"] = _verify(inst, path, rows_file, opts)
        else:
            out["error"] = res.error
    return out


def run_ours(inst: Instance, budget: float, opts: Options) -> dict[str, Any]:
    path = opts.data_dir / inst.file
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = str(Path(tmp) / "rows.json")
        res = run_child(
            ["_worker", "ours", str(path), str(inst.strength), rows_file, "--budget", str(budget)],
            opts.ours_timeout(budget),
        )
        out: dict[str, Any] = {
            "status": res.status, "budget": budget, "wall": round(res.wall, 2),
            "maxrss_mb": res.maxrss_mb, "timeout": opts.ours_timeout(budget),
        }
        if res.status == "ok":
            out.update(res.payload)
            out["verify"] = _verify(inst, path, rows_file, opts)
        else:
            out["error"] = res.error
    return out


class PeerCache:
    """Peer measurements keyed by instance content, strength and peer version.

    A complete run measured under any timeout is reused when it finished within the current
    timeout; a timeout is reused when it was measured with at least the current timeout.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.data: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                raw = {}
            # keys of the first protocol carried the timeout: drop it
            self.data = {re.sub(r"\|timeout=[^|]*", "", k): v for k, v in raw.items()}

    @staticmethod
    def key(inst: Instance, peer: str, opts: Options) -> str:
        digest = _file_hash(opts.data_dir / inst.file)
        return (f"{inst.file}|{digest}|t={inst.strength}|{peer}={_package_version(peer)}"
                f"|proto={PEER_PROTOCOL}")

    def get(self, key: str, timeout: float) -> dict[str, Any] | None:
        with self.lock:
            hit = self.data.get(key)
        if hit is None:
            return None
        if hit.get("status") == "timeout":
            return hit if hit.get("timeout", 0) >= timeout else None
        return hit if hit.get("wall", float("inf")) <= timeout else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self.lock:
            if self.path is not None and self.path.is_file():  # merge other writers' entries
                try:
                    on_disk = json.loads(self.path.read_text(encoding="utf-8"))
                    for k, v in on_disk.items():
                        self.data.setdefault(re.sub(r"\|timeout=[^|]*", "", k), v)
                except (OSError, json.JSONDecodeError):
                    pass
            self.data[key] = value
            if self.path is not None:
                tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
                os.replace(tmp, self.path)


def run_instance(inst: Instance, opts: Options, cache: PeerCache,
                 run_ours_too: bool = True, previous: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    record: dict[str, Any] = {
        "instance": {**dataclasses.asdict(inst), "name": inst.name}, "peers": {},
        # resumed: keep finished runs and timeouts, run errors again
        "ours": {b: o for b, o in (previous or {}).get("ours", {}).items()
                 if o.get("status") in ("ok", "timeout")},
    }
    for peer in opts.peers:
        key = PeerCache.key(inst, peer, opts)
        cached = None if opts.fresh_peers else cache.get(key, opts.peer_timeout)
        if cached is None:
            cached = run_peer(inst, peer, opts)
            cached["measured"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
            if cached.get("status") in ("ok", "timeout"):  # errors are retried next time
                cache.put(key, cached)
        else:
            cached = {**cached, "cached": True}
        record["peers"][peer] = cached
    if run_ours_too:
        for budget in opts.budgets:
            if f"{budget:g}" not in record["ours"]:
                record["ours"][f"{budget:g}"] = run_ours(inst, budget, opts)
    return record


# =========================================================================== interpretation
def peer_cell(result: dict[str, Any] | None) -> tuple[str, int | None]:
    """Table text for a peer/our run and its size when complete and valid (else None)."""
    if not result:
        return "–", None
    status = result.get("status")
    if status in ("not installed", "not measured"):
        return status, None
    if status == "timeout":
        return f"timeout >{result.get('timeout', 0):g}s", None
    if status != "ok":
        return "error", None
    size = result.get("size")
    v = result.get("verify") or {}
    if v.get("ok") is True:
        return str(size), size
    if v.get("status") != "ok":
        return f"{size} (unverified: {v.get('status', '?')})", None
    problems = []
    if v.get("missing"):
        problems.append(f"incomplete ({v['missing']} missing)")
    if v.get("violating_rows"):
        problems.append(f"violates ({v['violating_rows']} rows)")
    if v.get("unknown_values"):
        problems.append(f"unknown values ({v['unknown_values']})")
    return f"{size} " + ", ".join(problems), None


def best_peer(record: dict[str, Any]) -> tuple[int | None, str]:
    inst = record["instance"]
    sizes: list[tuple[int, str]] = []
    if inst.get("pict") is not None:
        sizes.append((inst["pict"], "PICT"))
    for peer, res in record["peers"].items():
        _, size = peer_cell(res)
        if size is not None:
            sizes.append((size, peer))
    if not sizes:
        return None, ""
    return min(sizes)


def greedy_phase(ours: dict[str, Any]) -> dict[str, Any] | None:
    for phase in ours.get("phases", []):
        if "greedy" in phase["name"].lower():
            return phase
    return None


def _ours_size(record: dict[str, Any], budget: str) -> int | None:
    return peer_cell(record["ours"].get(budget))[1]


def _find(records: list[dict[str, Any]], name: str, t: int) -> dict[str, Any] | None:
    for r in records:
        if r["instance"]["file"] in (name, f"{name}.txt") and r["instance"]["strength"] == t:
            return r
    return None


CLASSIC_TARGETS: list[tuple[str, str, int, int]] = [
    ("CA(2; 3^4) = 9", "CA_3^4", 2, 9),
    ("CA(2; 3^13) = 15", "CA_3^13", 2, 15),
    ("CA(2; 2^100) = 10", "CA_2^100", 2, 10),
    ("CA(2; 10^20) <= 183", "CA_10^20", 2, 183),
    ("CA(2; 4^15 3^17 2^29) <= 30", "CA_4^15_3^17_2^29", 2, 30),
    ("CA(2; 4^1 3^39 2^35) <= 22", "CA_4^1_3^39_2^35", 2, 22),
    ("CA(3; 3^6) <= 36", "CA_3^6", 3, 36),
    ("CA(3; 4^6) = 64", "CA_4^6", 3, 64),
    ("CA(3; 3^13) <= 55", "CA_3^13", 3, 55),
]
RATIO_TARGETS: list[tuple[str, str, int, float]] = [
    ("GCC t=3 within 1.5x best known", "GCC", 3, 1.5),
    ("Apache t=3 within 1.5x best known", "Apache", 3, 1.5),
]


def _mark(ok: bool | None) -> str:
    return {True: "**met**", False: "**NOT met**", None: "not run"}[ok]


def summarise(records: list[dict[str, Any]], budget: str) -> list[str]:
    """The summary bullet lines for one budget."""
    lines: list[str] = []
    # -- ours vs PICT per strength
    for t in (2, 3):
        rows = [r for r in records if r["instance"]["strength"] == t]
        cmp = [(r, _ours_size(r, budget), r["instance"]["pict"]) for r in rows]
        cmp = [(r, o, p) for r, o, p in cmp if o is not None and p is not None]
        smaller = sum(o < p for _, o, p in cmp)
        equal = sum(o == p for _, o, p in cmp)
        lines.append(
            f"t={t}: smaller than PICT on **{smaller}/{len(cmp)}** instances with a PICT size "
            f"(equal on {equal}, larger on {len(cmp) - smaller - equal}); "
            f"{sum(1 for r in rows if _ours_size(r, budget) is None)} of our t={t} runs "
            "failed/unverified."
        )
    # -- peers smaller than us
    beaten = []
    for r in records:
        ours = _ours_size(r, budget)
        size, who = best_peer(r)
        if ours is not None and size is not None and size < ours:
            beaten.append(f"{r['instance']['file']} t={r['instance']['strength']} "
                          f"({who} {size} < ours {ours})")
    lines.append("Instances where a peer is smaller: " + ("; ".join(beaten) if beaten else "none"))
    # -- budget discipline
    over = sorted(
        ((o["engine_seconds"], r["instance"]) for r in records
         if "engine_seconds" in (o := r["ours"].get(budget) or {})
         and o["engine_seconds"] > 1.1 * float(budget) + 0.5),
        key=lambda x: -x[0],
    )
    lines.append(
        f"Runs more than 10% over the {budget} s budget: {len(over)}"
        + (" (" + ", ".join(f"{i['name']} t={i['strength']} {s_:.1f} s" for s_, i in over[:8])
           + (" ..." if len(over) > 8 else "") + ")" if over else "")
    )
    # -- constrained pairwise suite
    total = best = 0
    missing = []
    for name in PAIRWISE_CONSTRAINED:
        r = _find(records, name, 2)
        ours = _ours_size(r, budget) if r else None
        if r is None or ours is None or r["instance"]["best_known"] is None:
            missing.append(name)
            continue
        total += ours
        best += r["instance"]["best_known"]
    if best:
        pct = 100.0 * (total - best) / best
        lines.append(
            f"Constrained pairwise suite (SPIN-S, SPIN-V, GCC, Apache, Bugzilla, Syn_1..20): "
            f"total **{total}** vs best known {best} (**{pct:+.1f}%**)"
            + (f"; not included (missing/unverified): {', '.join(missing)}" if missing else "")
        )
    else:
        lines.append("Constrained pairwise suite: not run")
    # -- classic targets
    for label, name, t, bound in CLASSIC_TARGETS:
        r = _find(records, name, t)
        ours = _ours_size(r, budget) if r else None
        ok = None if r is None or not r["ours"].get(budget) else (ours is not None and ours <= bound)
        lines.append(f"Target {label}: ours {ours if ours is not None else peer_cell(r['ours'].get(budget))[0] if r else '–'} → {_mark(ok)}")
    for label, name, t, factor in RATIO_TARGETS:
        r = _find(records, name, t)
        ours = _ours_size(r, budget) if r else None
        bk = r["instance"]["best_known"] if r else None
        ok = None if r is None or not r["ours"].get(budget) else (
            ours is not None and bk is not None and ours <= factor * bk)
        ratio = f"{ours / bk:.2f}x" if ours is not None and bk else "–"
        lines.append(f"Target {label}: ours {ours if ours is not None else '–'} vs best known "
                     f"{bk if bk is not None else '–'} ({ratio}) → {_mark(ok)}")
    # -- greedy phase alone vs PICT
    checked = []
    fails = []
    for r in records:
        ours = r["ours"].get(budget) or {}
        g = greedy_phase(ours)
        if g is None:
            continue
        pict = r["instance"]["pict"]  # None: PICT gave no array (timed out), nothing to compare
        rows_ok = pict is None or g["rows_after"] <= 1.10 * pict
        time_ok = g["seconds"] < 5.0
        checked.append(r)
        if not (rows_ok and time_ok):
            versus = f"vs PICT {pict}" if pict is not None else "PICT timed out"
            fails.append((g["seconds"], f"{r['instance']['name']} t={r['instance']['strength']} "
                          f"(greedy {g['rows_after']} {versus}, {g['seconds']:.1f} s)"))
    if checked:
        fails.sort(reverse=True)
        lines.append(
            f"Target greedy phase alone within 10% of PICT (where PICT gave an array) and < 5 s: "
            f"{len(checked) - len(fails)}/{len(checked)} instances → {_mark(not fails)}"
            + (f"; failing: {'; '.join(f for _, f in fails[:12])}" + (" ..." if len(fails) > 12 else "")
               if fails else "")
        )
    else:
        lines.append("Target greedy phase within 10% of PICT and < 5 s: no greedy phase reported → not run")
    return lines


def _fmt_lb(ours: dict[str, Any]) -> str:
    if "lower_bound" not in ours:
        return "–"
    return str(ours["lower_bound"])


def render_table(records: list[dict[str, Any]], budget: str, peers: Sequence[str]) -> list[str]:
    head = ["instance", "t", "LB ref", "LB ours", "best known", "PICT", *peers, "ours",
            "verified", "s", "optimal", "greedy rows (s)", "ours / best peer", "vs best known",
            "peak RSS MB", "exit"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        inst = r["instance"]
        ours = r["ours"].get(budget) or {}
        text, size = peer_cell(ours)
        v = ours.get("verify") or {}
        if ours.get("status") != "ok":
            verified = f"no run ({ours.get('status', '–')})"
        elif v.get("ok") is True:
            verified = "yes"
        elif v.get("status") != "ok":
            verified = f"? ({v.get('status')})"
        else:
            verified = "NO"
        peer_size, who = best_peer(r)
        ratio = f"{size / peer_size:.2f} ({who})" if size is not None and peer_size else "–"
        vs_best = (f"{size / inst['best_known']:.2f}" if size is not None and inst["best_known"]
                   else "–")
        g = greedy_phase(ours)
        greedy = f"{g['rows_after']} ({g['seconds']:.1f})" if g else "–"
        secs = (f"{ours['engine_seconds']:.1f}" if "engine_seconds" in ours else
                f"{ours.get('wall', 0):.0f} wall" if ours else "–")
        if "engine_seconds" in ours and ours["engine_seconds"] > 1.1 * float(budget) + 0.5:
            secs += " (over)"
        optimal = ("yes" if ours.get("optimal") else "no") if "optimal" in ours else "–"
        rss = f"{ours['maxrss_mb']:.0f}" if ours.get("maxrss_mb") else "–"
        cells = [
            inst["name"], str(inst["strength"]),
            str(inst["lower_bound"]) if inst["lower_bound"] is not None else "–",
            _fmt_lb(ours),
            str(inst["best_known"]) if inst["best_known"] is not None else "–",
            str(inst["pict"]) if inst["pict"] is not None else (inst["pict_text"] or "–"),
            *(peer_cell(r["peers"].get(p))[0] for p in peers),
            text if ours.get("status") == "ok" else (text if ours else "–"),
            verified, secs, optimal, greedy, ratio, vs_best, rss,
            ours.get("exit_reason", ours.get("error", "–"))[:60].replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine_facts() -> list[str]:
    facts = [
        f"nproc {os.cpu_count()}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
    ]
    for pkg in ("ortools", "numba", "numpy", "allpairspy", "covertable"):
        facts.append(f"{pkg} {_package_version(pkg) or 'not installed'}")
    facts.append(f"{platform.system()} {platform.machine()}")
    try:
        facts.append("load average at start {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    except OSError:
        pass
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        if head:
            facts.append(f"git HEAD {head} (plus uncommitted work in the tree)")
    except (OSError, subprocess.SubprocessError):
        pass
    return facts


def render_markdown(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    peers = meta["peers"]
    lines = [
        "# Covering-array benchmark results",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Date: {meta['date']} · wall time of the whole run: {meta.get('elapsed', '?')}",
        "",
        "Machine: " + " · ".join(meta["machine"]),
        "",
        meta.get("note", ""),
        "",
    ]
    for budget in meta["budgets"]:
        lines += [f"## Summary, budget {budget} s", ""]
        lines += [f"- {line}" for line in summarise(records, budget)]
        lines.append("")
    lines += [
        "## Legend",
        "",
        "- *LB ref*, *best known*, *PICT*: REFERENCE.csv (PICT 3.7.5, default seed). "
        "*LB ours*: the engine's lower bound. *optimal*: the engine proved its size optimal.",
        f"- Peers ({', '.join(peers) or 'none'}) measured by this harness on this machine, each "
        f"in a subprocess with a {meta['peer_timeout']:g} s timeout"
        + (f" (measured {meta['peers_measured']})" if meta.get("peers_measured") else "")
        + ", constraints translated "
        "through the independent checker's evaluator (undecided = OK), and their output "
        "verified with the checker: `incomplete (N missing)` = feasible t-tuples not covered, "
        "`violates (N rows)` = rows breaking a constraint. Peer results are cached (peers are "
        "deterministic); `--fresh-peers` re-measures.",
        "- *ours / best peer*: our size over the smallest complete and valid size among PICT "
        "and the peers (< 1 means we are smaller). *vs best known*: ours / best known.",
        "- *s*: the engine's own seconds (build_matrix, excluding interpreter start and model "
        "load; `(over)` = more than 10% over the budget). "
        "*greedy rows (s)*: the greedy phase alone (rows after it, its seconds). "
        "*peak RSS MB*: ru_maxrss of our child process (os.wait4). *verified*: the independent "
        "checker (every feasible t-tuple covered, no rule broken).",
        "",
    ]
    for budget in meta["budgets"]:
        lines += [f"## Results, budget {budget} s", ""]
        lines += render_table(records, budget, peers)
        lines.append("")
        runs = [(r["ours"][budget].get("maxrss_mb") or 0, r) for r in records
                if r["ours"].get(budget)]
        runs.sort(key=lambda x: -x[0])
        if runs:
            lines += [f"### Peak memory, largest runs (budget {budget} s)", ""]
            lines += ["| instance | t | peak RSS MB | ours | s |", "|---|---|---|---|---|"]
            for rss, r in runs[:8]:
                ours = r["ours"][budget]
                lines.append(f"| {r['instance']['name']} | {r['instance']['strength']} | "
                             f"{rss:.0f} | {peer_cell(ours)[0]} | "
                             f"{ours.get('engine_seconds', ours.get('wall', '–'))} |")
            lines.append("")
        gaps = []
        for r in records:
            size = _ours_size(r, budget)
            bk = r["instance"]["best_known"]
            if size is not None and bk:
                gaps.append((size / bk, r["instance"]["name"], r["instance"]["strength"], size, bk))
        gaps.sort(reverse=True)
        if gaps:
            lines += [f"### Biggest gaps to best known (budget {budget} s)", ""]
            lines += [f"- {n} t={t}: {s} vs {b} ({g:.2f}x)" for g, n, t, s, b in gaps[:10]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# =========================================================================== driver
def run_benchmark(instances: list[Instance], opts: Options, *, jobs: int = 1,
                  run_ours_too: bool = True, previous: dict[str, dict[str, Any]] | None = None,
                  on_record: Callable[[list[dict[str, Any]]], None] | None = None,
                  log: Callable[[str], None] = lambda s: None) -> list[dict[str, Any]]:
    cache = PeerCache(opts.peer_cache)
    results: dict[int, dict[str, Any]] = {}
    lock = threading.Lock()

    def one(i: int) -> None:
        inst = instances[i]
        t0 = time.perf_counter()
        rec = run_instance(inst, opts, cache, run_ours_too, (previous or {}).get(inst.key))
        with lock:
            results[i] = rec
            brief = []
            for b, o in rec["ours"].items():
                brief.append(f"ours@{b}s={peer_cell(o)[0]}")
            for p, o in rec["peers"].items():
                brief.append(f"{p}={peer_cell(o)[0]}")
            log(f"[{len(results)}/{len(instances)}] {inst.key}: {', '.join(brief)} "
                f"({time.perf_counter() - t0:.0f} s)")
            if on_record is not None:
                on_record([results[k] for k in sorted(results)])

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for fut in [pool.submit(one, i) for i in range(len(instances))]:
            fut.result()
    return [results[k] for k in sorted(results)]


def _parse_peers(text: str) -> list[str]:
    peers = [p.strip() for p in text.split(",") if p.strip() and p.strip() != "none"]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peer(s) {unknown}; known: {', '.join(PEERS)}")
    return peers


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_worker"]:
        return _worker_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, action="append",
                   help="time budget per run in seconds (repeatable; default 10)")
    p.add_argument("--only", action="append", default=[],
                   help="glob on the file name or stem, e.g. 'Syn_*' (repeatable)")
    p.add_argument("--strength", type=int, action="append", default=[],
                   help="only these strengths (repeatable)")
    p.add_argument("--peers", type=_parse_peers, default=list(PEERS),
                   help="comma list of peers to measure, or 'none' (default: allpairspy,covertable)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report (a .json goes next to it)")
    p.add_argument("--jobs", type=int, default=1, help="instances run in parallel (timings get noisier)")
    p.add_argument("--data", type=Path, default=DATA_DIR, help="benchmark directory")
    p.add_argument("--peer-timeout", type=float, default=120.0)
    p.add_argument("--verify-timeout", type=float, default=900.0)
    p.add_argument("--peer-cache", default=str(DEFAULT_PEER_CACHE),
                   help="cache file for peer measurements ('' disables)")
    p.add_argument("--fresh-peers", action="store_true", help="ignore cached peer measurements")
    p.add_argument("--peers-only", action="store_true", help="measure peers only (fills the cache)")
    p.add_argument("--resume", action="store_true",
                   help="keep our runs already in --out's .json; run only the missing ones")
    p.add_argument("--ours-timeout", type=float, default=None,
                   help="hard timeout of our child (default 2 x budget + 120 s)")
    p.add_argument("--render-only", action="store_true",
                   help="re-render --out from its .json; peers (--peers) filled from the cache only")
    p.add_argument("--note", default="", help="free text put under the machine facts")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    budgets = a.budget or [10.0]
    opts = Options(
        budgets=budgets, peers=a.peers, data_dir=a.data, peer_timeout=a.peer_timeout,
        verify_timeout=a.verify_timeout,
        peer_cache=Path(a.peer_cache) if a.peer_cache else None, fresh_peers=a.fresh_peers,
    )
    if a.ours_timeout is not None:
        opts.ours_timeout = lambda b, limit=a.ours_timeout: limit
    instances = select(load_instances(a.data), a.only, a.strength)
    if not instances:
        print("no instance matches", file=sys.stderr)
        return 2
    if a.render_only:
        return _render_only(a.out, opts)
    start = time.perf_counter()
    meta: dict[str, Any] = {
        "command": "python benchmarks/bench_cover.py " + " ".join(_quote(x) for x in argv),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "budgets": [f"{b:g}" for b in budgets],
        "peers": a.peers,
        "peer_timeout": a.peer_timeout,
        "note": a.note,
    }
    out_md: Path = a.out
    out_json = out_md.with_suffix(".json")

    def write(records: list[dict[str, Any]]) -> None:
        meta["elapsed"] = f"{time.perf_counter() - start:.0f} s"
        _set_peer_window(meta, records)
        if a.peers_only:
            return
        out_md.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(out_md, render_markdown(records, meta))
        _atomic_write(out_json, json.dumps({"meta": meta, "records": records}, indent=1))

    previous: dict[str, dict[str, Any]] = {}
    if a.resume and out_json.is_file():
        old = json.loads(out_json.read_text(encoding="utf-8"))
        previous = {f"{r['instance']['file']}@{r['instance']['strength']}": r
                    for r in old["records"]}
    log = (lambda s: None) if a.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    log(f"{len(instances)} runs, budgets {budgets}, peers {a.peers or 'none'} → {out_md}")
    records = run_benchmark(instances, opts, jobs=a.jobs, run_ours_too=not a.peers_only,
                            previous=previous, on_record=write, log=log)
    write(records)
    return 0


def _render_only(out_md: Path, opts: Options) -> int:
    """Rebuild the report from a previous run's JSON, taking peer results from the cache.

    Useful when peers were measured by a separate ``--peers-only`` run (same machine); peers
    missing from the cache show as "not measured".
    """
    data = json.loads(out_md.with_suffix(".json").read_text(encoding="utf-8"))
    cache = PeerCache(opts.peer_cache)
    for rec in data["records"]:
        inst = Instance(**{k: v for k, v in rec["instance"].items() if k != "name"})
        for peer in opts.peers:
            hit = cache.get(PeerCache.key(inst, peer, opts), opts.peer_timeout)
            rec["peers"][peer] = {**hit, "cached": True} if hit else {"status": "not measured"}
    meta = data["meta"]
    meta.setdefault("elapsed", "?")
    meta["peers"] = opts.peers
    meta["peer_timeout"] = opts.peer_timeout
    _set_peer_window(meta, data["records"])
    _atomic_write(out_md, render_markdown(data["records"], meta))
    _atomic_write(out_md.with_suffix(".json"), json.dumps(data, indent=1))
    return 0


def _set_peer_window(meta: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """When the peer results shown were measured (cached ones keep their own date)."""
    dates = sorted({p["measured"] for r in records for p in r["peers"].values()
                    if p.get("measured")})
    if dates:
        meta["peers_measured"] = f"{dates[0]} .. {dates[-1]} UTC"


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./,=:@+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
