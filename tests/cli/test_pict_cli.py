"""``coverage-gen pict``: PICT switch syntax, PICT output, exit codes, diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coverage_gen.cli import main
from coverage_gen.spec.pict import load_pict
from coverage_gen.verify.checker import check_rows

MODEL = "Type: Single, Span, Stripe\nSize: 10, 100, 1000\nFS: FAT, NTFS\n" \
        'IF [FS] = "FAT" THEN [Size] <= 100;\n'


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["pict", *args])
    return result.exit_code, result.stdout, result.stderr


def model(tmp_path: Path, text: str = MODEL) -> Path:
    path = tmp_path / "model.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_output_is_pict_format_and_covers(tmp_path: Path) -> None:
    path = model(tmp_path)
    code, out, _ = invoke(str(path), "/o:2", "--time-limit", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Type\tSize\tFS"
    rows = [line.split("\t") for line in lines[1:]]
    assert check_rows(load_pict(path), lines[0].split("\t"), rows).ok


def test_seed_switch_prints_the_seed_and_replays(tmp_path: Path) -> None:
    path = model(tmp_path)
    code, out, err = invoke(str(path), "/r:7", "--time-limit", "1")
    assert code == 0 and "Used seed: 7" in err
    assert invoke(str(path), "/r:7", "--time-limit", "1")[1] == out
    code, _, err = invoke(str(path), "/r", "--time-limit", "1")
    assert code == 0 and "Used seed: " in err


def test_switches_combine(tmp_path: Path) -> None:
    path = model(tmp_path, "A: ~-1; 1,5; x|y\nB: p; Q\n")
    seed = tmp_path / "s.tsv"
    seed.write_text("A\tB\n1,5\tQ\n", encoding="utf-8")
    code, out, _ = invoke(str(path), "/d:;", "/a:|", "/n:~", f"/e:{seed}", "/c", "/o:max",
                          "--time-limit", "1")
    assert code == 0, out
    rows = out.splitlines()[1:]
    assert rows[0] == "1,5\tQ" and "~-1\tp" in rows and len(rows) == 6


@pytest.mark.parametrize("bad", ["/x", "/o:zero", "/o:0", "/d:", "/d:ab", "/r:seed", "/c:1",
                                 "/e", "extra.txt", "/o:2 /o:3"])
def test_bad_switches_exit_2_with_usage(tmp_path: Path, bad: str) -> None:
    code, _, err = invoke(str(model(tmp_path)), *bad.split())
    assert code == 2
    assert "error:" in err and "usage: coverage-gen pict" in err


def test_unsatisfiable_lists_every_rule_of_the_minimal_set(tmp_path: Path) -> None:
    path = model(tmp_path, 'A: x, y\nB: 1, 2\n[A] = "x";\nIF [A] = "x" THEN [B] = 1;\n'
                           '[B] = 2 OR [A] = "y";\n[B] < 3;\n')
    code, out, err = invoke(str(path))
    assert code == 4 and out == ""
    assert "3 rule(s)" in err
    assert all(f"line {n}:" in err for n in (3, 4, 5)) and "line 6:" not in err


def test_dead_values_warn_and_strict_fails(tmp_path: Path) -> None:
    path = model(tmp_path, 'A: x, y, z\nB: 1, 2\nIF [B] = 1 THEN [A] <> "z";\n'
                           'IF [B] = 2 THEN [A] <> "z";\n')
    code, _, err = invoke(str(path), "--time-limit", "1")
    assert code == 0 and "model.txt:1:10: warning: value 'z' of [A] can never occur" in err
    assert "line 3:" in err and "line 4:" in err
    code, out, err = invoke(str(path), "--strict", "--time-limit", "1")
    assert code == 4 and out == "" and "error: value 'z'" in err
    result = CliRunner().invoke(main, ["generate", str(path), "--strict", "-q", "-o",
                                       str(tmp_path / "out")])
    assert result.exit_code == 4 and not (tmp_path / "out").exists()


def test_explain_lists_excluded_tuples_with_rules(tmp_path: Path) -> None:
    code, _, err = invoke(str(model(tmp_path)), "--explain", "--time-limit", "1")
    assert code == 0
    assert 'excluded: [Size] = 1000, [FS] = "FAT" (1 tuple)' in err
    assert '  line 4: IF [FS] = "FAT" THEN [Size] <= 100' in err
    assert "analysis: complete" in err and "explain: " in err


def test_overlapping_sub_models_are_rejected_clearly(tmp_path: Path) -> None:
    # sub-models are supported (tests/cli/test_pict_submodels.py); overlapping ones are not
    text = "A: 1, 2\nB: 1, 2\nC: 1, 2\n{ A, B } @ 2\n{ B, C } @ 2\n"
    code, _, err = invoke(str(model(tmp_path, text)))
    assert code == 3 and "at most one sub-model" in err and "model.txt:5:3" in err
