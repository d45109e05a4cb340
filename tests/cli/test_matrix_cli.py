"""``coverage-gen matrix``: CI matrices as one line of JSON, checked by brute force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import main
from coverage_gen.spec import load_model
from coverage_gen.spec.pict import load_pict
from tests.conftest import EXAMPLES
from tests.support.brute import check_array

MODEL = """\
browser: chrome, firefox, safari
os: linux, mac, windows
python: 3.10, 3.11, 3.12

IF [browser] = "safari" THEN [os] = "mac";
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "ci.txt"
    path.write_text(MODEL, encoding="utf-8")
    return path


def _matrix(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["matrix", *args, "--time-limit", "1"], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_github_format_is_an_include_list_that_covers_every_pair(model: Path) -> None:
    code, out, _ = _matrix(str(model))
    assert code == 0
    assert out.count("\n") == 1  # one line, so it can go straight into $GITHUB_OUTPUT
    entries = json.loads(out)["include"]
    assert all(list(e) == ["browser", "os", "python"] for e in entries)
    rows = [tuple(e.values()) for e in entries]
    missing, invalid = check_array(load_pict(model), rows, 2)
    assert not missing and not invalid


def test_values_stay_strings_as_written(model: Path) -> None:
    _, out, _ = _matrix(str(model), "--format", "json")
    assert {e["python"] for e in json.loads(out)} == {"3.10", "3.11", "3.12"}


def test_json_format_is_the_plain_list_and_matches_github(model: Path) -> None:
    _, github, _ = _matrix(str(model))
    code, plain, _ = _matrix(str(model), "--format", "json")
    assert code == 0 and json.loads(plain) == json.loads(github)["include"]


def test_strength_and_seed_options(model: Path) -> None:
    code, out, _ = _matrix(str(model), "--strength", "3", "--seed", "7", "--format", "json")
    assert code == 0
    rows = [tuple(e.values()) for e in json.loads(out)]
    missing, invalid = check_array(load_pict(model), rows, 3)
    assert not missing and not invalid


def test_a_yaml_spec_gives_its_covering_fields() -> None:
    spec = EXAMPLES / "vendors" / "spec.yaml"
    code, out, _ = _matrix(str(spec), "--format", "json")
    assert code == 0
    entries = json.loads(out)
    model, _ = load_model(spec)
    assert entries and all(tuple(e) == model.factor_names() for e in entries)
    missing, invalid = check_array(model, [tuple(e.values()) for e in entries], model.strength)
    assert not missing and not invalid


def test_same_input_same_output(model: Path) -> None:
    assert _matrix(str(model)) == _matrix(str(model))


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ('a: x, y\nb: 1, 2\n\n[a] = "z";\n', 3, "not a value of [a]"),
        ('a: x\nb: 1, 2\n\n[a] = "x" AND [b] > 5;\n', 4, "no row can satisfy"),
    ],
    ids=["bad-input", "infeasible"],
)
def test_errors_map_to_exit_codes(tmp_path: Path, text: str, code: int, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    got, out, err = _matrix(str(path))
    assert got == code and out == "" and message in err


def test_unknown_format_is_a_usage_error(model: Path) -> None:
    result = CliRunner().invoke(main, ["matrix", str(model), "--format", "yaml"])
    assert result.exit_code == 2
