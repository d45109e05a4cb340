"""Random small models: the engine's array is checked against brute-force ground truth."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from coverage_gen import api
from coverage_gen.errors import InfeasibleSpecError
from tests.support.brute import check_array, valid_rows
from tests.support.models import models

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(models())
def test_array_covers_every_feasible_tuple_and_breaks_no_rule(model) -> None:
    if not valid_rows(model):
        try:
            api.build_matrix(model, time_limit=0.5)
        except InfeasibleSpecError:
            return
        raise AssertionError("an unsatisfiable model produced an array")
    result = api.build_matrix(model, time_limit=0.5)
    missing, invalid = check_array(model, result.rows, model.strength)
    assert not missing, f"missing tuples: {sorted(missing)[:5]}"
    assert not invalid, f"rows breaking a rule: {invalid[:5]}"
    assert len(result.rows) >= result.array.lower_bound.value


@SETTINGS
@given(models(max_rules=2))
def test_same_seed_same_rows(model) -> None:
    if not valid_rows(model):
        return
    first = api.build_matrix(model, time_limit=0.3)
    second = api.build_matrix(model, time_limit=0.3)
    assert first.rows == second.rows
