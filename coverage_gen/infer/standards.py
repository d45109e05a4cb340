"""Standard vocabularies a sample column may come from, and bounded widening from them.

The only module that imports pycountry (ISO 3166 countries and US subdivisions, ISO 4217
currencies, ISO 639 languages) and Babel (country → currency, CLDR data). Babel is optional at
run time: without it, ``currencies_for`` uses the small table ``FALLBACK_CURRENCIES`` and
``CURRENCY_SOURCE`` says so.

Widening is bounded on purpose: adding all 249 countries to a covering factor would make a
pairwise array of tens of thousands of rows. Each standard carries a short *preferred* list
(documented below, with its source); a column is widened with the preferred values it has not
observed, up to a total of ``limit`` values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import pycountry

__all__ = [
    "CURRENCY_SOURCE",
    "FALLBACK_CURRENCIES",
    "PAYMENT_TERMS",
    "STANDARDS",
    "Standard",
    "StandardMatch",
    "currencies_for",
    "match_standard",
    "us_state_name",
    "widen",
]

# Share of a column's distinct values that must belong to a standard for it to match: lets one
# stray value through (the insurance sample's State column holds "Albany" for New York).
MATCH_RATIO = 0.8

# Common invoice payment terms ("Net D": payment due D days after the invoice date; "2/10 Net
# 30": 2 % discount if paid within 10 days, else due in 30). Source: the payment-terms list in
# Wikipedia's "Invoice" article (section "Payment terms"), the wording most ERPs (SAP, Oracle,
# QuickBooks) use for their defaults.
PAYMENT_TERMS = (
    "Net 30", "Net 45", "Net 60", "Due on receipt", "Net 15", "Net 7", "Net 10", "Net 90",
    "2/10 Net 30", "1/10 Net 30", "EOM",
)  # fmt: skip

# Preferred widening lists, most useful first.
# US states by 2020 census population (the states test data most often meets).
_US_STATES_BY_POPULATION = (
    "CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ", "MA", "TN",
)  # fmt: skip
# Largest economies (IMF 2023 GDP) plus NO, CH: Norway's "NO" is the classic YAML-boolean trap
# and Switzerland a non-EU, non-euro case; both are worth having in test data.
_COUNTRIES = ("US", "DE", "GB", "FR", "JP", "CN", "IN", "NO", "CH", "BR", "CA", "AU", "IT", "MX")
# Most traded currencies (BIS Triennial Survey 2022).
_CURRENCIES = ("USD", "EUR", "JPY", "GBP", "CNY", "AUD", "CAD", "CHF", "HKD", "SGD", "SEK", "NOK")
# Most spoken languages (Ethnologue 2023), ISO 639-1.
_LANGUAGES = ("en", "zh", "es", "hi", "ar", "fr", "pt", "ru", "ja", "de", "bn", "ur")

# Country → currency when Babel is not installed: the preferred countries only.
FALLBACK_CURRENCIES = {
    "US": "USD", "DE": "EUR", "GB": "GBP", "FR": "EUR", "JP": "JPY", "CN": "CNY", "IN": "INR",
    "NO": "NOK", "CH": "CHF", "BR": "BRL", "CA": "CAD", "AU": "AUD", "IT": "EUR", "MX": "MXN",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Standard:
    """A named vocabulary: its values (loaded lazily), name hints and a preferred order."""

    key: str
    title: str
    hints: frozenset[str]
    load: Callable[[], frozenset[str]] = field(compare=False)
    preferred: tuple[str, ...] = ()
    casefold: bool = False  # names match whatever their case; codes match exactly

    def values(self) -> frozenset[str]:
        return _loaded(self.key, self.load)

    def contains(self, value: str) -> bool:
        if self.casefold:
            return value.casefold() in {v.casefold() for v in self.values()}
        return value in self.values()


_CACHE: dict[str, frozenset[str]] = {}


def _loaded(key: str, load: Callable[[], frozenset[str]]) -> frozenset[str]:
    if key not in _CACHE:
        _CACHE[key] = load()
    return _CACHE[key]


@cache
def _us_states() -> dict[str, str]:
    """Code → name for the 50 states and DC (ISO 3166-2:US; outlying areas left out)."""
    subdivisions = pycountry.subdivisions.get(country_code="US") or []
    return {
        s.code.removeprefix("US-"): s.name for s in subdivisions if s.type in ("State", "District")
    }


def us_state_name(code: str) -> str | None:
    """The ISO 3166-2:US name of a state code (``"NY"`` → ``"New York"``)."""
    return _us_states().get(code)


def _country_names() -> frozenset[str]:
    return frozenset(c.name for c in pycountry.countries) | frozenset(
        getattr(c, "common_name", c.name) for c in pycountry.countries
    )


def _names_of(codes: Sequence[str], lookup: dict[str, str]) -> tuple[str, ...]:
    return tuple(lookup[c] for c in codes if c in lookup)


def _alpha3(codes: Sequence[str]) -> tuple[str, ...]:
    found = (pycountry.countries.get(alpha_2=c) for c in codes)
    return tuple(c.alpha_3 for c in found if c is not None)


_STATE_HINTS = frozenset({"state", "province", "region"})
_COUNTRY_HINTS = frozenset({"country", "nation", "iban", "territory", "cntry"})

STANDARDS: tuple[Standard, ...] = (
    Standard(
        "us-state-code", "ISO 3166-2:US state codes (pycountry subdivisions US-xx)", _STATE_HINTS,
        lambda: frozenset(_us_states()), _US_STATES_BY_POPULATION,
    ),
    Standard(
        "us-state-name", "ISO 3166-2:US state names (pycountry subdivisions US-xx)", _STATE_HINTS,
        lambda: frozenset(_us_states().values()),
        _names_of(_US_STATES_BY_POPULATION, {"CA": "California", "TX": "Texas", "FL": "Florida",
                                             "NY": "New York", "PA": "Pennsylvania",
                                             "IL": "Illinois", "OH": "Ohio", "GA": "Georgia",
                                             "NC": "North Carolina", "MI": "Michigan",
                                             "NJ": "New Jersey", "VA": "Virginia",
                                             "WA": "Washington", "AZ": "Arizona",
                                             "MA": "Massachusetts", "TN": "Tennessee"}),
        casefold=True,
    ),
    Standard(
        "iso3166-alpha2", "ISO 3166-1 alpha-2 country codes (pycountry)", _COUNTRY_HINTS,
        lambda: frozenset(c.alpha_2 for c in pycountry.countries), _COUNTRIES,
    ),
    Standard(
        "iso3166-alpha3", "ISO 3166-1 alpha-3 country codes (pycountry)", _COUNTRY_HINTS,
        lambda: frozenset(c.alpha_3 for c in pycountry.countries), (),
    ),
    Standard(
        "iso3166-name", "ISO 3166-1 country names (pycountry)", _COUNTRY_HINTS, _country_names,
        (), casefold=True,
    ),
    Standard(
        "iso4217", "ISO 4217 currency codes (pycountry)",
        frozenset({"currency", "ccy", "curr", "cur"}),
        lambda: frozenset(c.alpha_3 for c in pycountry.currencies), _CURRENCIES,
    ),
    Standard(
        "iso639-1", "ISO 639-1 language codes (pycountry)",
        frozenset({"language", "lang", "locale"}),
        lambda: frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")),
        _LANGUAGES,
    ),
    Standard(
        "payment-terms", "common invoice payment terms (Wikipedia 'Invoice', payment terms)",
        frozenset({"terms", "term", "payment"}), lambda: frozenset(PAYMENT_TERMS), PAYMENT_TERMS,
        casefold=True,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StandardMatch:
    standard: Standard
    matched: tuple[str, ...]
    unmatched: tuple[str, ...]
    by_name: bool  # the column name hinted at the standard (stronger evidence)


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t}


def match_standard(column: str, values: Sequence[str]) -> StandardMatch | None:
    """The standard a column's distinct values come from, if any.

    A match needs ``MATCH_RATIO`` of the distinct values in the standard and either a name
    hint (``country``, ``state``, ``currency``...) or at least three distinct values, all in it
    (two-letter codes alone are too easily a coincidence: ``IN``, ``OH``, ``MD``).
    """
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return None
    tokens = _tokens(column)
    best: StandardMatch | None = None
    for standard in STANDARDS:
        hinted = bool(tokens & standard.hints)
        matched = tuple(v for v in distinct if standard.contains(v))
        ratio = len(matched) / len(distinct)
        ok = ratio >= MATCH_RATIO if hinted else (ratio == 1 and len(distinct) >= 3)
        if not ok:
            continue
        candidate = StandardMatch(standard, matched, tuple(v for v in distinct if v not in matched), hinted)
        if best is None or _better(candidate, best):
            best = candidate
    return best


def _better(a: StandardMatch, b: StandardMatch) -> bool:
    return (a.by_name, len(a.matched)) > (b.by_name, len(b.matched))


def widen(match: StandardMatch, observed: Sequence[str], limit: int, first: Sequence[str] = ()) -> tuple[str, ...]:
    """Values to add to ``observed``: ``first`` then the standard's preferred list, in order,
    skipping ones already observed, until the vocabulary holds ``limit`` values."""
    have = {v.casefold() for v in observed}
    room = max(0, limit - len(observed))
    added: list[str] = []
    for value in (*first, *match.standard.preferred):
        if len(added) >= room:
            break
        if value.casefold() not in have and match.standard.contains(value):
            added.append(value)
            have.add(value.casefold())
    return tuple(added)


def _babel_currencies() -> Callable[[str], list[str]] | None:
    try:
        from babel.numbers import get_territory_currencies
    except ImportError:  # Babel is optional: fall back to the small table
        return None
    return get_territory_currencies  # type: ignore[no-any-return]


CURRENCY_SOURCE = (
    "Babel (CLDR territory currencies)"
    if _babel_currencies() is not None
    else "a small built-in table (Babel not installed)"
)


def currencies_for(countries: Sequence[str]) -> dict[str, str]:
    """The current currency of each ISO 3166 alpha-2 country code that has one."""
    lookup = _babel_currencies()
    result: dict[str, str] = {}
    for country in countries:
        if lookup is None:
            currency = FALLBACK_CURRENCIES.get(country)
        else:
            try:
                found = lookup(country)
            except Exception:  # Babel raises for codes CLDR does not know: treat as "none"
                found = []
            currency = found[0] if found else None
        if currency:
            result[country] = currency
    return result
