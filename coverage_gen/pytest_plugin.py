"""pytest plugin: ``@pytest.mark.pairwise(...)`` parametrizes a test with a covering array.

::

    @pytest.mark.pairwise(
        browser=["chrome", "firefox", "safari"],
        os=["linux", "mac", "windows"],
        locale=["en", "de"],
        constraints=['IF [browser] = "safari" THEN [os] = "mac"'],
    )
    def test_login(browser, os, locale): ...

Every keyword other than ``strength`` (default 2), ``constraints``, ``seed`` (default 0) and
``time_limit`` (default 1 s) is a factor and must be an argument of the test; factors whose
names clash with those options go in a positional dict: ``pairwise({"seed": [1, 2]}, ...)``.
Constraints are rule strings or predicates, as for :func:`coverage_gen.cover`.

Test ids are the value labels joined by ``-`` (``chrome-linux-en``). Arrays are cached: in
memory for the process, and on disk in pytest's cache (``.pytest_cache``, cleared by
``--cache-clear``) under a hash of the factors, constraints, strength, seed, time limit and
the coverage_gen version; the solve itself is deterministic (its budget is counted in steps,
not wall time), so a cache hit and a fresh solve give the same tests. The short default time
limit keeps an uncached collection quick; pass ``time_limit=`` for a smaller array.

``--coverage-gen-report`` prints, after the run, each parametrized test's coverage: rows
versus the lower bound and feasible versus covered tuples (``-v``: what each row adds).

coverage_gen itself is imported inside the hooks only, so pytest runs that use no marker
never load it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from coverage_gen.library import CoverResult

MARKER = "pairwise"
DEFAULT_TIME_LIMIT = 1.0
_OPTIONS = {"strength": 2, "constraints": (), "seed": 0, "time_limit": DEFAULT_TIME_LIMIT}
_CACHE_DIR = "coverage_gen/pairwise"


@dataclass(frozen=True, slots=True)
class Plan:
    """A solved marker: rows as value positions, their ids, and the coverage counts.

    Ids and labels are stored too, so a cache hit never imports the library.
    """

    rows: tuple[tuple[int, ...], ...]
    ids: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    strength: int
    required: int
    covered: int
    lower_bound: int
    optimal: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [list(r) for r in self.rows],
            "ids": list(self.ids),
            "labels": [list(ls) for ls in self.labels],
            "strength": self.strength,
            "required": self.required,
            "covered": self.covered,
            "lower_bound": self.lower_bound,
            "optimal": self.optimal,
        }

    @classmethod
    def from_json(cls, data: Any, levels: list[int]) -> Plan | None:
        """The cached plan, or ``None`` when the entry is unreadable or does not fit."""
        try:
            plan = cls(
                rows=tuple(tuple(int(v) for v in row) for row in data["rows"]),
                ids=tuple(str(i) for i in data["ids"]),
                labels=tuple(tuple(str(x) for x in ls) for ls in data["labels"]),
                strength=int(data["strength"]),
                required=int(data["required"]),
                covered=int(data["covered"]),
                lower_bound=int(data["lower_bound"]),
                optimal=bool(data["optimal"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        fits = (
            bool(plan.rows)
            and len(plan.ids) == len(plan.rows)
            and [len(ls) for ls in plan.labels] == levels
            and all(len(r) == len(levels) and all(0 <= v < n for v, n in zip(r, levels))
                    for r in plan.rows)
        )
        return plan if fits else None


@dataclass(frozen=True, slots=True)
class _Request:
    """What one marker asks for."""

    factors: dict[str, list[object]]
    strength: int
    constraints: tuple[object, ...]
    seed: int
    time_limit: float


@dataclass(frozen=True, slots=True)
class _Entry:
    """One parametrized test, for ``--coverage-gen-report``."""

    nodeid: str
    names: tuple[str, ...]
    plan: Plan


_MEMO: dict[str, Plan] = {}
_ENTRIES = pytest.StashKey[list[_Entry]]()
_SELECTED = pytest.StashKey[set[str]]()  # test functions with an item left after -k/-m


# --------------------------------------------------------------------------- hooks
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("coverage_gen")
    group.addoption(
        "--coverage-gen-report",
        action="store_true",
        default=False,
        help="after the run, print the t-wise coverage of each @pytest.mark.pairwise test",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(strength=2, constraints=(), seed=0, time_limit={DEFAULT_TIME_LIMIT}, **factors): "
        "parametrize the test with a covering array of the factors (coverage_gen)",
    )
    config.stash[_ENTRIES] = []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    where = f"@pytest.mark.{MARKER} on {metafunc.function.__name__}"
    request = _request(marker, where)
    missing = [n for n in request.factors if n not in metafunc.fixturenames]
    if missing:
        pytest.fail(f"{where}: {', '.join(missing)} must be arguments of the test", pytrace=False)
    plan = _plan(metafunc.config, request, where)
    names = tuple(request.factors)
    columns = list(request.factors.values())
    values = [tuple(columns[f][v] for f, v in enumerate(row)) for row in plan.rows]
    if len(names) == 1:  # one name: pytest wants bare values, not 1-tuples
        metafunc.parametrize(names[0], [v[0] for v in values], ids=list(plan.ids))
    else:
        metafunc.parametrize(list(names), values, ids=list(plan.ids))
    metafunc.config.stash[_ENTRIES].append(_Entry(metafunc.definition.nodeid, names, plan))


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_SELECTED] = {
        f"{item.parent.nodeid}::{getattr(item, 'originalname', item.name)}"
        for item in session.items
        if item.parent is not None
    }


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if not config.getoption("coverage_gen_report"):
        return
    selected = config.stash.get(_SELECTED, None)
    entries = [
        e for e in config.stash.get(_ENTRIES, []) if selected is None or e.nodeid in selected
    ]
    terminalreporter.section("coverage_gen pairwise coverage")
    if not entries:
        terminalreporter.write_line(f"no @pytest.mark.{MARKER} tests collected")
    for entry in entries:
        for line in _report_lines(entry, config.get_verbosity()):
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------- the marker
def _request(marker: pytest.Mark, where: str) -> _Request:
    if len(marker.args) > 1 or (marker.args and not isinstance(marker.args[0], dict)):
        pytest.fail(f"{where}: the only positional argument is a dict of factors", pytrace=False)
    options = {k: marker.kwargs.get(k, default) for k, default in _OPTIONS.items()}
    factors = {**(marker.args[0] if marker.args else {}),
               **{k: v for k, v in marker.kwargs.items() if k not in _OPTIONS}}
    if not factors:
        pytest.fail(f"{where}: give at least one factor, e.g. browser=[...]", pytrace=False)
    for name, vals in factors.items():
        if not isinstance(vals, (list, tuple)) or not vals:
            pytest.fail(f"{where}: factor {name!r} needs a non-empty list of values", pytrace=False)
    constraints = options["constraints"]
    if isinstance(constraints, str) or callable(constraints):
        constraints = [constraints]
    return _Request(
        factors={str(k): list(v) for k, v in factors.items()},
        strength=options["strength"],
        constraints=tuple(constraints),
        seed=options["seed"],
        time_limit=options["time_limit"],
    )


def _readable(text: str, name: str, i: int) -> str:
    """An object without its own ``__str__``/``__repr__`` shows its memory address, which
    differs per run: name it by position instead, so ids and cache keys stay stable."""
    return f"{name}{i}" if " at 0x" in text else text


# --------------------------------------------------------------------------- plan + caches
def _plan(config: pytest.Config, request: _Request, where: str) -> Plan:
    """Memo, then pytest's on-disk cache, then a fresh solve (stored in both)."""
    key = _cache_key(request)
    plan = _MEMO.get(key)
    if plan is not None:
        return plan
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    levels = [len(v) for v in request.factors.values()]
    if cache is not None:
        plan = Plan.from_json(cache.get(f"{_CACHE_DIR}/{key}", None), levels)
    if plan is None:
        plan = _solve(request, where)
        if cache is not None:
            cache.set(f"{_CACHE_DIR}/{key}", plan.to_json())
    _MEMO[key] = plan
    return plan


def _solve(request: _Request, where: str) -> Plan:
    from coverage_gen.errors import CoverageGenError
    from coverage_gen.library import cover

    try:
        result: CoverResult = cover(
            request.factors,
            request.strength,
            constraints=request.constraints,  # type: ignore[arg-type]
            seed=request.seed,
            time_limit=request.time_limit,
        )
    except CoverageGenError as exc:
        pytest.fail(f"{where}: {exc}", pytrace=False)
    labels = tuple(
        tuple(_readable(label, name, i) for i, label in enumerate(ls))
        for name, ls in zip(result.factors, result.labels)
    )
    ids = tuple("-".join(labels[f][v] for f, v in enumerate(row)) for row in result.indices)
    return Plan(result.indices, ids, labels, result.strength, result.required,
                result.covered, result.lower_bound, result.optimal)


def _cache_key(request: _Request) -> str:
    """A hash that is the same on every run and machine for the same marker. Values enter
    by type and ``repr`` (not by label: computing labels would import the library)."""
    from coverage_gen import __version__  # the package root is light

    payload = {
        "version": __version__,
        "factors": [
            [name, [[type(v).__qualname__, _readable(repr(v), name, i)]
                    for i, v in enumerate(values)]]
            for name, values in request.factors.items()
        ],
        "strength": request.strength,
        "constraints": [_fingerprint(c) for c in request.constraints],
        "seed": request.seed,
        "time_limit": request.time_limit,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _fingerprint(rule: object) -> str:
    """A rule string as itself; a predicate by its name and source (edits invalidate)."""
    if isinstance(rule, str):
        return rule
    name = f"{getattr(rule, '__module__', '')}.{getattr(rule, '__qualname__', type(rule).__name__)}"
    try:
        body = inspect.getsource(rule)  # type: ignore[arg-type]
    except (OSError, TypeError):
        code = getattr(rule, "__code__", None)
        body = code.co_code.hex() if code is not None else ""
    return f"{name}:{body}"


# --------------------------------------------------------------------------- the report
def _report_lines(entry: _Entry, verbosity: int) -> list[str]:
    plan = entry.plan
    bound = "optimal" if plan.optimal else f"lower bound {plan.lower_bound}"
    lines = [
        f"{entry.nodeid}: {len(plan.rows)} rows ({bound}) for {len(entry.names)} factors; "
        f"{plan.strength}-wise tuples: {plan.required} feasible, {plan.covered} covered"
    ]
    if verbosity < 1:
        return lines
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    for row, test_id in zip(plan.rows, plan.ids):
        held = {(cols, tuple(row[c] for c in cols))
                for cols in combinations(range(len(row)), plan.strength)}
        new = held - seen
        seen |= held
        line = f"  [{test_id}] holds {len(held)} tuples, {len(new)} not held by earlier rows"
        if verbosity >= 2:
            line += ": " + "; ".join(_describe(entry, t) for t in sorted(new))
        lines.append(line)
    return lines


def _describe(entry: _Entry, item: tuple[tuple[int, ...], tuple[int, ...]]) -> str:
    cols, vals = item
    labels = entry.plan.labels
    return ", ".join(f"{entry.names[c]}={labels[c][v]}" for c, v in zip(cols, vals))
