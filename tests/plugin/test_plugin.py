"""The pytest plugin seen from outside, through pytester: ids, determinism, caching, the
report option and the error messages.

``pytest_plugins`` lives here rather than in a conftest: pytest refuses it in any conftest
below the rootdir.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from coverage_gen import pytest_plugin

pytest_plugins = ["pytester"]

THREE = """
import pytest

@pytest.mark.pairwise(
    browser=["chrome", "firefox", "safari"],
    os=["linux", "mac", "windows"],
    locale=["en", "de"],
    constraints=['IF [browser] = "safari" THEN [os] = "mac"'],
)
def test_it(browser, os, locale):
    assert not (browser == "safari" and os != "mac")
"""

SIX = """
import pytest

@pytest.mark.pairwise(
    browser=["chrome", "firefox", "safari", "edge"],
    os=["linux", "mac", "windows"],
    locale=["en", "de", "fr"],
    python=["3.11", "3.12", "3.13"],
    db=["sqlite", "postgres"],
    tls=[True, False],
)
def test_six(browser, os, locale, python, db, tls):
    pass
"""


@pytest.fixture
def fresh_memo() -> Iterator[None]:
    """Start without the in-process memo, so the disk cache or a solve is exercised."""
    pytest_plugin._MEMO.clear()
    yield
    pytest_plugin._MEMO.clear()


def _ids(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--collect-only", "-q", *args)
    result.assert_outcomes()
    return [line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_" in line]


def test_ids_are_readable_value_labels(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(THREE)
    ids = _ids(pytester)
    assert len(ids) == len(set(ids)) >= 6
    for test_id in ids:
        browser, os, locale = test_id.split("-")
        assert browser in {"chrome", "firefox", "safari"} and os in {"linux", "mac", "windows"}
        assert locale in {"en", "de"}
        assert browser != "safari" or os == "mac"


@pytest.mark.usefixtures("fresh_memo")
def test_ids_are_the_same_cached_uncached_and_in_a_fresh_process(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(THREE)
    first = _ids(pytester)  # solves, stores in the cache
    pytest_plugin._MEMO.clear()
    assert _ids(pytester) == first  # from the disk cache
    pytest_plugin._MEMO.clear()
    assert _ids(pytester, "-p", "no:cacheprovider") == first  # solved again
    # Another process with another hash salt solves from scratch and agrees.
    monkeypatch.setenv("PYTHONHASHSEED", "12345")
    other = pytester.runpytest_subprocess(
        "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    assert [line.split("[", 1)[1].rstrip("]") for line in other.outlines if "::test_" in line] == first


def test_the_tests_run_and_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(THREE)
    result = pytester.runpytest()
    assert result.parseoutcomes()["passed"] >= 6


@pytest.mark.usefixtures("fresh_memo")
def test_cached_collection_of_six_factors_is_fast_and_does_not_solve(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(SIX)
    first = _ids(pytester)
    pytest_plugin._MEMO.clear()

    def no_solving(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached marker must not be solved again")

    monkeypatch.setattr("coverage_gen.library.cover", no_solving)
    timer = _HookTimer()
    reprec = pytester.inline_run("--collect-only", "-q", plugins=[timer])
    ids = [c.item.name.split("[", 1)[1].rstrip("]") for c in reprec.getcalls("pytest_itemcollected")]
    assert ids == first
    # The plugin's share of collection (the rest is pytest's own start-up).
    assert timer.seconds < 0.25, f"pytest_generate_tests took {timer.seconds:.3f}s"
    assert len(first) >= 12  # 4 x 3 pairs at least


class _HookTimer:
    """Total time spent in pytest_generate_tests (all implementations)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @pytest.hookimpl(wrapper=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> Iterator[None]:
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds += time.perf_counter() - started


def test_report_option_prints_counts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(THREE)
    result = pytester.runpytest("--coverage-gen-report")
    result.stdout.fnmatch_lines([
        "*coverage_gen pairwise coverage*",
        "*test_report_option_prints_counts.py::test_it: * rows (*) for 3 factors; "
        "2-wise tuples: * feasible, * covered",
    ])
    # 9 browser-os + 6 browser-locale + 6 os-locale pairs; safari-linux and safari-windows
    # are infeasible.
    result.stdout.fnmatch_lines(["*2-wise tuples: 19 feasible, 19 covered"])


def test_report_lists_what_each_row_adds_when_verbose(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(THREE)
    result = pytester.runpytest("--coverage-gen-report", "-vv")
    result.stdout.fnmatch_lines(["  [[]*-*-*[]] holds 3 tuples, 3 not held by earlier rows: *"])


def test_no_report_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(THREE)
    assert "coverage_gen pairwise coverage" not in pytester.runpytest().stdout.str()


def test_predicates_enums_and_a_positional_dict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import enum
        import pytest

        class Mode(enum.Enum):
            FAST = 1
            SAFE = 2

        def no_fast_seed(seed, mode):
            return not (seed == 1 and mode is Mode.FAST)

        @pytest.mark.pairwise({"seed": [0, 1]}, mode=list(Mode), flag=[None, True], constraints=[no_fast_seed])
        def test_it(seed, mode, flag):
            assert isinstance(mode, Mode)
            assert not (seed == 1 and mode is Mode.FAST)
    """)
    result = pytester.runpytest("-v")
    passed = [x for x in result.outlines if x.endswith("PASSED") or " PASSED " in x]
    result.assert_outcomes(passed=len(passed))
    assert len(passed) >= 4  # (seed, flag) alone needs 4 rows
    assert any("-FAST-None" in x for x in passed) and any("-SAFE-True" in x for x in passed)
    assert not any("1-FAST" in x for x in passed)


def test_single_factor_with_strength_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.pairwise(strength=1, size=[1, 2, 3])
        def test_it(size):
            assert size in (1, 2, 3)
    """)
    pytester.runpytest().assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('browser=["a"], nope=["x"]', "*nope must be arguments of the test*"),
        ('browser=["a", "b"], constraints=["[brwser] = \\"a\\""]', "*unknown field [[]brwser[]]*"),
        ('browser=["a", "b"], constraints=[lambda browser: False]', "*admit no valid row*"),
        ('browser="ab"', "*factor 'browser' needs a non-empty list of values*"),
    ],
    ids=["not-an-argument", "unknown-field", "infeasible", "not-a-list"],
)
def test_mistakes_are_collection_errors_with_a_message(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.pairwise({marker}, strength=1)
        def test_it(browser):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


def test_cache_key_depends_on_everything_that_shapes_the_array() -> None:
    base: dict[str, Any] = dict(factors={"a": [1, 2], "b": ["x", "y"]}, strength=2,
                                constraints=(), seed=0, time_limit=1.0)
    key = pytest_plugin._cache_key(pytest_plugin._Request(**base))
    changes: list[dict[str, Any]] = [
        {"factors": {"a": [1, 2], "b": ["x", "z"]}},
        {"factors": {"a": ["1", 2], "b": ["x", "y"]}},
        {"seed": 1},
        {"time_limit": 2.0},
        {"constraints": ('[a] = 1',)},
        {"constraints": (lambda a: a == 1,)},
    ]
    keys = {pytest_plugin._cache_key(pytest_plugin._Request(**{**base, **c})) for c in changes}
    assert key not in keys and len(keys) == len(changes)
    assert pytest_plugin._cache_key(pytest_plugin._Request(**base)) == key
