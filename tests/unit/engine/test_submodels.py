"""PICT sub-models (mixed strength): parsing, the hierarchical solve, the checker.

Every array is checked here by counting tuples in the test itself: the valid rows are
enumerated by brute force with a Python predicate written beside each model (independent of
the engine and of the checker), the required factor sets are computed here too, and every
tuple a valid row can hold over a required set must appear in the output."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from coverage_gen import api
from coverage_gen.engine.lower import lower_model
from coverage_gen.engine.problem import CoverageProblem
from coverage_gen.engine.submodels import lower_onto_compounds, prune, requirement_sets
from coverage_gen.errors import InfeasibleSpecError, SpecError
from coverage_gen.spec.model import SubModel
from coverage_gen.spec.pict import PictOptions, load_pict
from coverage_gen.verify.checker import check_rows

Row = dict[str, str]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.txt"
    path.write_text(text, encoding="utf-8")
    return path


def required(names: Sequence[str], t: int, subs: Sequence[tuple[Sequence[str], int]]) -> set[tuple[str, ...]]:
    """The factor sets to cover (own code): each sub-model's t_M-sets, and every t-set with
    at most t_M factors from each sub-model M."""
    out: set[tuple[str, ...]] = set()
    for members, t_m in subs:
        ordered = [n for n in names if n in members]
        out.update(itertools.combinations(ordered, t_m))
    for combo in itertools.combinations(names, t):
        if all(sum(n in members for n in combo) <= t_m for members, t_m in subs):
            out.add(combo)
    return out


def assert_covers(
    vocab: dict[str, list[str]],
    valid: Callable[[Row], bool],
    t: int,
    subs: Sequence[tuple[Sequence[str], int]],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> None:
    names = list(vocab)
    assert list(header) == names  # original parameter order
    got = [dict(zip(header, r)) for r in rows]
    for row in got:
        assert valid(row), f"row breaks a rule: {row}"
    space = [dict(zip(names, combo)) for combo in itertools.product(*vocab.values())]
    good = [r for r in space if valid(r)]
    for s in required(names, t, subs):
        feasible = {tuple(r[n] for n in s) for r in good}
        held = {tuple(r[n] for n in s) for r in got}
        assert feasible <= held, f"missing over {s}: {sorted(feasible - held)[:5]}"


def solve(tmp_path: Path, text: str, strength: int = 2, **kwargs: object) -> api.PictResult:
    return api.generate_pict(write(tmp_path, text), strength=strength, time_limit=1.0, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- parsing
def test_parse_sub_models_with_and_without_order(tmp_path: Path) -> None:
    path = write(tmp_path, "A: 1, 2\nB: 1, 2\nC: 1, 2\nD: x, y\n\n{ a, B , c } @ 3\n{ D }\n")
    model = load_pict(path)
    assert model.submodels == (SubModel(("A", "B", "C"), 3), SubModel(("D",), None))
    assert model.submodels[0].loc.line == 6 and model.submodels[0].loc.col == 1
    assert model.submodels[1].order(2) == 1  # default = main order, capped at its size


def test_sub_model_names_follow_the_value_separator(tmp_path: Path) -> None:
    path = write(tmp_path, "A: 1; 2\nB: 1; 2\nC: 1; 2\n{ A; B } @ 2\n")
    assert load_pict(path, options=PictOptions(value_separator=";")).submodels[0].factor_names == ("A", "B")


@pytest.mark.parametrize(
    ("line", "code", "col"),
    [
        ("{ A, Q } @ 2", "unknown-parameter", 6),
        ("{ A, A } @ 1", "duplicate-parameter", 6),
        ("{ A, B } @ 3", "strength", 1),
        ("{ A, B } @ 0", "strength", 1),
        ("{ A, B } @ x", "pict-syntax", 12),
        ("{ } @ 1", "pict-syntax", 1),
        ("{ A, B", "pict-syntax", 1),
    ],
)
def test_bad_sub_models(tmp_path: Path, line: str, code: str, col: int) -> None:
    path = write(tmp_path, f"A: 1, 2\nB: 1, 2\nC: 1, 2\n{line}\n")
    with pytest.raises(SpecError) as info:
        load_pict(path)
    (d,) = info.value.diagnostics
    assert (d.code, d.loc.line, d.loc.col) == (code, 4, col)


def test_sub_model_after_constraints_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "A: 1, 2\nB: 1, 2\n[A] = 1;\n{ A, B } @ 2\n")
    with pytest.raises(SpecError) as info:
        load_pict(path)
    assert [(d.code, d.loc.line) for d in info.value.diagnostics] == [("pict-syntax", 4)]


# --------------------------------------------------------------------------- pieces
def test_requirement_sets() -> None:
    sets = requirement_sets(4, 2, [((0, 1, 2), 1)])
    # pairs inside the strength-1 sub-model are not required; every other pair is
    assert sorted(sets) == [(0,), (0, 3), (1,), (1, 3), (2,), (2, 3)]
    assert set(requirement_sets(4, 2, [((0, 1, 2), 3)])) >= {(0, 1, 2), (0, 1), (0, 3)}


def test_lowering_onto_a_compound_factor_is_exact() -> None:
    # A, B in a sub-model whose rows are (0,0), (1,1), (0,1); C alone. Clause: A in {1} or C in {0}
    problem = CoverageProblem((2, 2, 2), 2, clauses=(((0, frozenset({1})), (2, frozenset({0}))),),
                              clause_origin=(7,))
    h = lower_onto_compounds(problem, [((0, 1), 2)], {0: ((0, 0), (1, 1), (0, 1))})
    assert h.groups == ((0, 1), (2,))
    assert h.problem.levels == (3, 2)
    assert h.problem.clauses == (((0, frozenset({1})), (1, frozenset({0}))),)
    assert h.problem.clause_origin == (7,)
    rows = np.array([[2, 1], [1, 0]])
    assert h.expand(rows, 3).tolist() == [[0, 1, 1], [1, 1, 0]]


def test_prune_keeps_coverage() -> None:
    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [1, 1]])
    kept = prune(rows, [(0, 1)])
    assert sorted(map(tuple, kept.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert prune(rows, [(0,)], frozen=3).shape[0] == 3  # seed rows stay


# --------------------------------------------------------------------------- solving
HW = {
    "PLATFORM": ["x86", "x64", "arm"],
    "CPUS": ["1", "2", "4"],
    "RAM": ["1GB", "4GB", "64GB"],
    "HDD": ["SCSI", "IDE"],
    "OS": ["Win7", "Win8", "Win10"],
    "Browser": ["Edge", "Opera", "Chrome", "Firefox"],
    "APP": ["Word", "Excel", "Powerpoint"],
}


def pict_text(vocab: dict[str, list[str]], tail: str) -> str:
    return "".join(f"{n}: {', '.join(v)}\n" for n, v in vocab.items()) + "\n" + tail


def test_pict_doc_example_two_sub_models(tmp_path: Path) -> None:
    text = pict_text(HW, "{ PLATFORM, CPUS, RAM, HDD } @ 3\n{ OS, Browser } @ 2\n")
    result = solve(tmp_path, text)
    subs = [(["PLATFORM", "CPUS", "RAM", "HDD"], 3), (["OS", "Browser"], 2)]
    assert_covers(HW, lambda r: True, 2, subs, result.header, result.rows)
    assert len(result.rows) < 3 * 27  # the redundant compound pairs are pruned
    check = check_rows(result.matrix.model, list(result.header), [list(r) for r in result.rows])
    assert check.ok and check.submodels[0] == (("PLATFORM", "CPUS", "RAM", "HDD"), 3)
    report = result.matrix.report()
    assert report["submodels"] == [{"factors": ["PLATFORM", "CPUS", "RAM", "HDD"], "strength": 3},
                                   {"factors": ["OS", "Browser"], "strength": 2}]
    assert "requirement" in report and report["tuples"]["missing"] == 0  # type: ignore[index]


def test_sub_model_at_strength_one_limits_configurations(tmp_path: Path) -> None:
    text = pict_text(HW, "{ PLATFORM, CPUS, RAM, HDD } @ 1\n")
    result = solve(tmp_path, text)
    subs = [(["PLATFORM", "CPUS", "RAM", "HDD"], 1)]
    assert_covers(HW, lambda r: True, 2, subs, result.header, result.rows)
    configs = {tuple(r[:4]) for r in result.rows}
    assert len(configs) <= 3  # the sub-array: 3 hardware configurations (max levels)


def test_sub_model_at_its_size_is_exhaustive(tmp_path: Path) -> None:
    vocab = {"A": ["a1", "a2"], "B": ["b1", "b2", "b3"], "C": ["c1", "c2"], "D": ["d1", "d2"]}
    result = solve(tmp_path, pict_text(vocab, "{ A, B, C } @ 3\n"))
    assert_covers(vocab, lambda r: True, 2, [(["A", "B", "C"], 3)], result.header, result.rows)
    assert len({tuple(r[:3]) for r in result.rows}) == 12


def test_sub_model_not_in_front_keeps_parameter_order(tmp_path: Path) -> None:
    vocab = {"A": ["1", "2"], "B": ["x", "y", "z"], "C": ["1", "2", "3"], "D": ["p", "q"], "E": ["u", "v"]}
    result = solve(tmp_path, pict_text(vocab, "{ E, B } @ 2\n{ D } @ 1\n"), strength=3)
    subs = [(["B", "E"], 2), (["D"], 1)]
    assert_covers(vocab, lambda r: True, 3, subs, result.header, result.rows)


CROSS = {
    "A": ["a1", "a2", "a3"],
    "B": ["b1", "b2", "b3"],
    "C": ["c1", "c2"],
    "X": ["1", "2", "3"],
    "Y": ["y1", "y2"],
}
CROSS_RULES = (
    'IF [A] = "a1" THEN [X] > 1;\n'
    'IF [B] = "b2" THEN [Y] = "y1" ELSE [Y] <> "y1";\n'
    '[A] <> "a3" OR [B] <> "b3";\n'
    'IF [X] = 3 THEN [C] = "c2";\n'
)


def cross_valid(r: Row) -> bool:
    return (
        (r["A"] != "a1" or int(r["X"]) > 1)
        and ((r["B"] == "b2") == (r["Y"] == "y1"))
        and (r["A"] != "a3" or r["B"] != "b3")
        and (r["X"] != "3" or r["C"] == "c2")
    )


@pytest.mark.parametrize("order", [1, 2, 3])
def test_constraints_crossing_the_sub_model_boundary(tmp_path: Path, order: int) -> None:
    text = pict_text(CROSS, f"{{ A, B, C }} @ {order}\n{CROSS_RULES}")
    result = solve(tmp_path, text)
    subs = [(["A", "B", "C"], order)]
    assert_covers(CROSS, cross_valid, 2, subs, result.header, result.rows)
    check = check_rows(result.matrix.model, list(result.header), [list(r) for r in result.rows])
    assert check.ok, check.render()


def test_two_sub_models_with_crossing_rules_and_seed(tmp_path: Path) -> None:
    text = pict_text(CROSS, f"{{ A, B }} @ 2\n{{ X, Y }} @ 1\n{CROSS_RULES}")
    seed = tmp_path / "seed.tsv"
    seed.write_text("A\tX\nA2\t\n", encoding="utf-8")
    result = solve(tmp_path, text, options=PictOptions(seed_file=seed))
    assert result.rows[0][0] == "a2"  # the seed row comes first
    subs = [(["A", "B"], 2), (["X", "Y"], 1)]
    assert_covers(CROSS, cross_valid, 2, subs, result.header, result.rows)


def test_dead_compound_rows_are_replaced(tmp_path: Path) -> None:
    # inside {A, B} @ 2 every pair is allowed, but across the boundary a1+b1 needs C=c1 and
    # C=c2 at once: (a1, b1) is dead, every other pair must still come out
    vocab = {"A": ["a1", "a2"], "B": ["b1", "b2"], "C": ["c1", "c2"], "D": ["d1", "d2"]}
    rules = 'IF [A] = "a1" THEN [C] = "c1";\nIF [B] = "b1" THEN [C] = "c2";\n'
    result = solve(tmp_path, pict_text(vocab, "{ A, B } @ 2\n" + rules), strict=True)

    def valid(r: Row) -> bool:
        return (r["A"] != "a1" or r["C"] == "c1") and (r["B"] != "b1" or r["C"] == "c2")

    assert_covers(vocab, valid, 2, [(["A", "B"], 2)], result.header, result.rows)


def test_build_matrix_and_strength_max(tmp_path: Path) -> None:
    vocab = {"A": ["1", "2"], "B": ["1", "2"], "C": ["1", "2", "3"], "D": ["x", "y"]}
    path = write(tmp_path, pict_text(vocab, "{ A, B, C } @ 1\n"))
    matrix = api.build_matrix(load_pict(path, strength=2), time_limit=1.0)
    assert_covers(vocab, lambda r: True, 2, [(["A", "B", "C"], 1)], matrix.header, matrix.rows)
    result = api.generate_pict(path, strength="max", time_limit=1.0)
    assert_covers(vocab, lambda r: True, 4, [(["A", "B", "C"], 1)], result.header, result.rows)


def test_negative_values_stay_apart_across_compounds(tmp_path: Path) -> None:
    text = "A: ~-1, 0, 1\nB: ~-1, 0, 1\nC: ~-1, 0, 1\nD: 0, 1\n{ A, B } @ 2\n"
    result = solve(tmp_path, text)
    for row in result.rows:
        assert sum(cell.startswith("~") for cell in row) <= 1
    vocab = {n: ["-1", "0", "1"] for n in "ABC"} | {"D": ["0", "1"]}

    def valid(r: Row) -> bool:
        return sum(r[n] == "-1" for n in "ABC") <= 1

    plain = [[c.lstrip("~") for c in row] for row in result.rows]
    assert_covers(vocab, valid, 2, [(["A", "B"], 2)], result.header, plain)


def test_unsatisfiable_sub_model_names_the_rules(tmp_path: Path) -> None:
    text = 'A: 1, 2\nB: 1, 2\nC: 1, 2\n{ A, B } @ 2\n[A] = 1;\n[A] = 2;\n'
    with pytest.raises(InfeasibleSpecError, match="line 5|:5:"):
        solve(tmp_path, text)


def test_checker_flags_a_missing_sub_model_tuple(tmp_path: Path) -> None:
    vocab = {"A": ["1", "2"], "B": ["1", "2"], "C": ["1", "2"]}
    model = load_pict(write(tmp_path, pict_text(vocab, "{ A, B, C } @ 3\n")))
    rows = [list(r) for r in itertools.product("12", repeat=3)]
    assert check_rows(model, ["A", "B", "C"], rows).ok
    short = check_rows(model, ["A", "B", "C"], rows[1:])
    assert not short.ok and short.missing_count == 1
    # without sub-models, pairwise is enough for these 7 rows
    assert check_rows(model, ["A", "B", "C"], rows[1:], submodels=()).ok
