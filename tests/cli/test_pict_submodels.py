"""``coverage-gen pict|generate|verify`` on PICT models with sub-models (mixed strength).

Each output is checked by counting tuples here: valid rows by brute force with a Python
predicate mirroring the rules, required factor sets computed here (each sub-model's sets at
its strength, every main-strength set with at most t_M factors of each sub-model M)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from click.testing import CliRunner

from coverage_gen.cli import main

VOCAB = {
    "OS": ["Win", "Mac", "Linux"],
    "CPU": ["x86", "arm"],
    "RAM": ["4", "8", "16"],
    "Browser": ["Edge", "Chrome", "Firefox"],
    "Lang": ["en", "de"],
    "Net": ["wifi", "lan"],
}
RULES = (
    'IF [OS] = "Mac" THEN [Browser] <> "Edge";\n'
    'IF [CPU] = "arm" THEN [RAM] <= 8;\n'
    'IF [RAM] = 16 THEN [Net] = "lan";\n'
)


def valid(r: dict[str, str]) -> bool:
    return (
        (r["OS"] != "Mac" or r["Browser"] != "Edge")
        and (r["CPU"] != "arm" or int(r["RAM"]) <= 8)
        and (r["RAM"] != "16" or r["Net"] == "lan")
    )


def model_file(tmp_path: Path, submodels: str, rules: str = RULES) -> Path:
    text = "".join(f"{n}: {', '.join(v)}\n" for n, v in VOCAB.items()) + "\n" + submodels + rules
    path = tmp_path / "model.txt"
    path.write_text(text, encoding="utf-8")
    return path


def assert_covers(header: Sequence[str], rows: Sequence[Sequence[str]], t: int,
                  subs: Sequence[tuple[Sequence[str], int]],
                  ok: Callable[[dict[str, str]], bool] = valid) -> None:
    names = list(VOCAB)
    assert list(header) == names
    got = [dict(zip(header, r)) for r in rows]
    assert all(ok(r) for r in got)
    good = [r for r in (dict(zip(names, c)) for c in itertools.product(*VOCAB.values())) if ok(r)]
    sets: set[tuple[str, ...]] = set()
    for members, t_m in subs:
        sets.update(itertools.combinations([n for n in names if n in members], t_m))
    for combo in itertools.combinations(names, t):
        if all(sum(n in m for n in combo) <= t_m for m, t_m in subs):
            sets.add(combo)
    for s in sets:
        feasible = {tuple(r[n] for n in s) for r in good}
        held = {tuple(r[n] for n in s) for r in got}
        assert feasible <= held, (s, sorted(feasible - held)[:5])


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def pict_rows(out: str) -> tuple[list[str], list[list[str]]]:
    lines = out.splitlines()
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def test_pict_two_sub_models_and_verify(tmp_path: Path) -> None:
    path = model_file(tmp_path, "{ OS, CPU, RAM } @ 3\n{ Browser, Lang } @ 1\n")
    code, out, err = run("pict", str(path), "--time-limit", "1")
    assert code == 0, err
    header, rows = pict_rows(out)
    subs = [(["OS", "CPU", "RAM"], 3), (["Browser", "Lang"], 1)]
    assert_covers(header, rows, 2, subs)
    data = tmp_path / "out.tsv"
    data.write_text(out, encoding="utf-8")
    code, text, _ = run("verify", str(path), str(data))
    assert code == 0 and "{OS, CPU, RAM} @ 3" in text
    # a table missing every Mac+arm+8 row lacks a required sub-model triple
    data.write_text("\n".join(line for line in out.splitlines()
                              if not line.startswith("Mac\tarm\t8\t")) + "\n", encoding="utf-8")
    code, text, _ = run("verify", str(path), str(data))
    assert code == 1 and "OS=Mac, CPU=arm, RAM=8" in text


def test_pict_order_3_with_default_sub_model_order(tmp_path: Path) -> None:
    path = model_file(tmp_path, "{ Browser, Lang, Net }\n")
    code, out, err = run("pict", str(path), "/o:3", "--time-limit", "1")
    assert code == 0, err
    header, rows = pict_rows(out)
    assert_covers(header, rows, 3, [(["Browser", "Lang", "Net"], 3)])


def test_pict_strength_one_sub_model_and_full_size_sub_model(tmp_path: Path) -> None:
    path = model_file(tmp_path, "{ OS, CPU } @ 2\n{ RAM, Browser, Lang } @ 1\n")
    code, out, err = run("pict", str(path), "--time-limit", "1")
    assert code == 0, err
    header, rows = pict_rows(out)
    assert_covers(header, rows, 2, [(["OS", "CPU"], 2), (["RAM", "Browser", "Lang"], 1)])


def test_generate_writes_the_mixed_requirement(tmp_path: Path) -> None:
    path = model_file(tmp_path, "{ OS, CPU, RAM } @ 3\n")
    out_dir = tmp_path / "out"
    code, _, err = run("generate", str(path), "-o", str(out_dir), "--format", "csv", "-q",
                       "--time-limit", "1")
    assert code == 0, err
    report = json.loads((out_dir / "coverage.json").read_text(encoding="utf-8"))
    assert report["submodels"] == [{"factors": ["OS", "CPU", "RAM"], "strength": 3}]
    assert report["tuples"]["missing"] == 0
    lines = (out_dir / "matrix.csv").read_text(encoding="utf-8").splitlines()
    assert_covers(lines[0].split(","), [line.split(",") for line in lines[1:]], 2,
                  [(["OS", "CPU", "RAM"], 3)])
    code, text, _ = run("verify", str(path), str(out_dir / "matrix.csv"))
    assert code == 0, text


def test_overlapping_sub_models_exit_3(tmp_path: Path) -> None:
    path = model_file(tmp_path, "{ OS, CPU } @ 2\n{ CPU, RAM } @ 2\n")
    code, _, err = run("pict", str(path))
    assert code == 3 and "at most one sub-model" in err
