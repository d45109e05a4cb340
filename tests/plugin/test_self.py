"""The plugin used on itself: a real pairwise-parametrized test in this suite."""

from __future__ import annotations

import enum
from itertools import combinations, product

import pytest

BROWSERS = ["chrome", "firefox", "safari"]
SYSTEMS = ["linux", "mac", "windows"]
LOCALES = ["en", "de"]


class Tier(enum.Enum):
    FREE = 1
    PRO = 2


def _no_safari_on_linux(browser: str, os: str) -> bool:
    return not (browser == "safari" and os == "linux")


@pytest.mark.pairwise(
    browser=BROWSERS,
    os=SYSTEMS,
    locale=LOCALES,
    tier=[Tier.FREE, Tier.PRO],
    debug=[True, False],
    constraints=['IF [browser] = "safari" THEN [locale] = "en"', _no_safari_on_linux],
)
def test_pairwise_row_is_valid(browser: str, os: str, locale: str, tier: Tier, debug: bool) -> None:
    # The original objects arrive, not their labels.
    assert isinstance(tier, Tier) and isinstance(debug, bool)
    assert _valid((browser, os, locale, tier, debug))


def _valid(row: tuple[object, ...]) -> bool:
    browser, os, locale = row[0], row[1], row[2]
    return not (browser == "safari" and (os == "linux" or locale != "en"))


def _pairs(rows: list[tuple[object, ...]]) -> set[tuple[int, int, object, object]]:
    return {(i, j, r[i], r[j]) for r in rows for i, j in combinations(range(len(r)), 2)}


def test_the_collected_rows_cover_every_feasible_pair(request: pytest.FixtureRequest) -> None:
    """Reads the parametrization of the test above from the session, so it does not depend
    on test order; skipped when -k/-m left only some of those rows."""
    items = [
        i for i in request.session.items
        if getattr(i, "originalname", "") == "test_pairwise_row_is_valid"
    ]
    names = ["browser", "os", "locale", "tier", "debug"]
    rows = [tuple(i.callspec.params[n] for n in names) for i in items]  # type: ignore[attr-defined]
    if len(rows) < 5:
        pytest.skip("the pairwise rows were not all collected")
    domains = [BROWSERS, SYSTEMS, LOCALES, list(Tier), [True, False]]
    assert _pairs(rows) == _pairs([r for r in product(*domains) if _valid(r)])
    assert len({i.name for i in items}) == len(items)  # ids are unique
