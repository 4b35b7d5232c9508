"""The benchmarks (bench/) run and report as they should; their numbers are never
checked here (nothing in the suite passes or fails on a duration).

- Every line a benchmark prints is a ratio against a baseline of the same run, with
  its target, verdict and absolute figures (bench/measure.py), or a figure with no
  target; each benchmark's measurements run here on tiny inputs and their lines are
  held to that format.
- bench/run.py, the README's benchmark command (tests/test_readme.py leaves it to
  this file), exits 0 whatever the verdicts; --strict alone makes a missed target
  an exit status of 1.
- bench/cli_bench.py finds PyTorch without a machine-specific path (issue 10,
  item 17), and says why when it cannot.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from convcalc.network.zoo import model_spec
from tests.paths import ROOT
from tests.test_readme import fenced

BENCH = ROOT / "bench"
CONVCALC = [sys.executable, "-m", "convcalc"]  # this tree's, from the repository root


def load(name: str) -> ModuleType:
    """bench/<name>.py as the module <name>, as when its folder is sys.path[0]."""
    if name in sys.modules and Path(sys.modules[name].__file__ or "").parent == BENCH:
        return sys.modules[name]
    if name != "measure":
        load("measure")  # what the scripts import by its bare name
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measure() -> ModuleType:
    return load("measure")


def assert_format(lines: list[object], measure: ModuleType) -> list[re.Match[str]]:
    """Every line is a ratio with its target, or a figure that says it has none;
    the ratio lines' matches."""
    ratios = []
    for line in lines:
        text = str(line)
        assert "\n" not in text, text
        if isinstance(line, measure.Ratio):
            match = measure.RATIO_LINE.match(text)
            assert match, text
            assert match["verdict"] == ("ok" if line.ok else "MISSED"), text
            ratios.append(match)
        else:
            assert isinstance(line, measure.Note), line
            assert measure.NOTE_LINE.match(text), text
            assert " target " not in text, text
    return ratios


# -- the line format ---------------------------------------------------------------


def test_a_ratio_line(measure: ModuleType) -> None:
    ok = measure.Ratio("(x)", "this vs that", 1.234, "≤", 1.3, "123 ms vs 100 ms")
    assert str(ok) == (
        "(x)  this vs that                                              1.23×  target ≤ 1.3×  "
        "ok      (123 ms vs 100 ms)"
    )
    missed = measure.Ratio("(x)", "this vs that", 20.0, "≥", 25, "2,000 ms vs 100 ms")
    assert not missed.ok
    assert str(missed).endswith("20.00×  target ≥ 25×   MISSED  (2,000 ms vs 100 ms)")
    assert measure.Ratio("(x)", "a", 25.0, "≥", 25, "f").ok
    assert not measure.Ratio("(x)", "a", 1.31, "≤", 1.3, "f").ok
    for line in (ok, missed):
        match = measure.RATIO_LINE.match(str(line))
        assert match
        assert match["figures"] == line.figures


def test_a_line_with_no_target(measure: ModuleType) -> None:
    note = measure.Note("(h)", "graph vs chain", "1.58× (3.68 ms vs 2.32 ms)")
    assert measure.NOTE_LINE.match(str(note))
    assert not measure.RATIO_LINE.match(str(note))
    assert str(note).endswith("no target: 1.58× (3.68 ms vs 2.32 ms)")


def test_the_verdicts_do_not_set_the_exit_status(
    measure: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        measure.Ratio("(x)", "a", 9.0, "≤", 2, "9 s vs 1 s"),
        measure.Note("(y)", "b", "1 ms"),
    ]
    assert measure.report(lines, strict=False) == 0
    assert capsys.readouterr().out == "".join(f"{line}\n" for line in lines)
    assert measure.report(lines, strict=True) == measure.MISSED_STATUS
    assert measure.report(lines[1:], strict=True) == 0


# -- each benchmark's measurements, on tiny inputs -----------------------------------


def test_the_engine_benchmark(measure: ModuleType) -> None:
    engine = load("engine_bench")
    lines = list(engine.measure(layers=40, runs=1))
    ratios = assert_format(lines, measure)
    assert [line.key for line in lines] == ["eng1", "eng2", "eng3", "eng4"]
    assert [m["op"] for m in ratios] == ["≤", "≤"]
    assert "regex word split" in ratios[0]["label"]
    assert "layers/s" in ratios[0]["figures"]


def test_the_command_line_benchmark(
    measure: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = load("cli_bench")
    # A "Python" with torch that answers at once: (d) measured, not skipped.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CONVCALC_TORCH_PYTHON", str(fake))
    monkeypatch.chdir(ROOT)
    lines = list(cli.measure(CONVCALC, runs=1, layers=30))
    ratios = assert_format(lines, measure)
    assert [line.key for line in lines] == [
        "cmd",
        "(a)",
        "(b)",
        "(c)",
        "(d)",
        "(e)",
        "(e)",
        "(f)",
        "(f)",
    ]
    assert len(ratios) == 8
    labels = [m["label"] for m in ratios]
    assert labels[4] == "30 layers as JSON vs json.dumps of 30 records"
    assert labels[6:] == [
        "3-row table vs the same network as JSON",
        "30-row table vs the same network as JSON",
    ]
    assert [(m["op"], m["target"]) for m in ratios[6:]] == [("≤", "2"), ("≤", "2")]


def test_the_json_baseline_writes_records_like_convcalc(monkeypatch: pytest.MonkeyPatch) -> None:
    """(e)'s baseline writes as many records as convcalc, with the same keys."""
    import json

    cli = load("cli_bench")
    monkeypatch.chdir(ROOT)
    spec = cli.LAYERS * 3 + "relu\n"
    ours = json.loads(
        subprocess.run(
            [*CONVCALC, "-i", cli.LAYERS_INPUT, "-", "-o", "json"],
            input=spec,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["layers"]
    floor = subprocess.run(
        cli.json_floor(CONVCALC, len(ours)), input=spec, capture_output=True, text=True, check=True
    ).stdout
    theirs = json.loads(floor.replace(",\n  ]", "\n  ]"))["layers"]
    assert len(theirs) == len(ours) == 10
    assert [sorted(r) for r in theirs] == [sorted(r) for r in ours]


def test_the_graph_benchmark(measure: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = load("graph_bench")
    monkeypatch.chdir(ROOT)
    lines = list(graph.measure(model_spec("resnet18"), runs=1))
    (ratio,) = assert_format(lines, measure)
    assert [line.key for line in lines] == ["(g)", "(h)"]
    assert ratio["op"] == "≤"


def test_a_benchmark_runs_as_a_script() -> None:
    """As bench/run.py starts them: the folder's own modules found by their bare names."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "engine_bench.py"), "--layers", "20", "--runs", "1"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("eng1 ")
    assert len(proc.stdout.splitlines()) == 4


# -- bench/run.py: the README's command ------------------------------------------------


def readme_command() -> list[str]:
    """The README's benchmark command, as words."""
    commands = [line for block in fenced("sh") for line in block.splitlines()]
    (command,) = [line for line in commands if "bench/run.py" in line]
    words = shlex.split(command)
    assert words[1] == "bench/run.py"
    return words


def fake_children(
    monkeypatch: pytest.MonkeyPatch, run: ModuleType, statuses: dict[str, int]
) -> list[list[str]]:
    started: list[list[str]] = []

    def fake(argv: list[str], check: bool) -> SimpleNamespace:
        started.append(argv)
        return SimpleNamespace(returncode=statuses.get(Path(argv[1]).name, 0))

    monkeypatch.setattr(run.subprocess, "run", fake)
    return started


def test_the_readme_command_starts_every_benchmark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = load("run")
    started = fake_children(monkeypatch, run, {})
    assert run.main(readme_command()[2:]) == 0
    assert [Path(argv[1]).name for argv in started] == [
        "engine_bench.py",
        "cli_bench.py",
        "graph_bench.py",
    ]
    # Each benchmark accepts what it is given.
    for argv in started:
        args = load(Path(argv[1]).stem).arguments(argv[2:])
        assert args.runs == run.arguments(readme_command()[2:]).runs
        assert not args.strict
    assert "== command line ==" in capsys.readouterr().out


def test_a_missed_target_fails_the_run_only_when_strict(
    monkeypatch: pytest.MonkeyPatch, measure: ModuleType
) -> None:
    run = load("run")
    fake_children(monkeypatch, run, {"cli_bench.py": measure.MISSED_STATUS})
    assert run.main(["--runs", "1"]) == 0
    started = fake_children(monkeypatch, run, {"cli_bench.py": measure.MISSED_STATUS})
    assert run.main(["--runs", "1", "--strict"]) == 1
    assert all("--strict" in argv for argv in started)


def test_a_benchmark_that_fails_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = load("run")
    fake_children(monkeypatch, run, {"engine_bench.py": 1})
    assert run.main([]) == 2
    assert "bench/engine_bench.py failed (exit status 1)" in capsys.readouterr().err


# -- PyTorch for (d) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("cli_bench")


def test_no_path_from_one_machine() -> None:
    for path in BENCH.glob("*.py"):
        assert "/work/" not in path.read_text(), path


def test_the_variable_names_a_python_with_torch(bench: ModuleType, tmp_path: Path) -> None:
    fake = tmp_path / "python"  # a "Python" whose 'import torch' succeeds
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(fake)}) == (
        str(fake),
        "CONVCALC_TORCH_PYTHON",
    )


def test_a_variable_that_does_not_work(bench: ModuleType, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "python"
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(missing)}) == (
        None,
        f"CONVCALC_TORCH_PYTHON={missing} is not an executable",
    )
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(broken)}) == (
        None,
        f"CONVCALC_TORCH_PYTHON={broken} cannot import torch",
    )


def test_the_running_interpreter(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find(name: str, *args: object) -> object:
        return object() if name == "torch" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(bench.importlib.util, "find_spec", find)
    assert bench.torch_python({}) == (sys.executable, "the running interpreter")


def test_a_clear_skip_line(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, measure: ModuleType
) -> None:
    monkeypatch.delenv("CONVCALC_TORCH_PYTHON", raising=False)
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name, *args: None)
    line = bench.torch_comparison(["convcalc"], runs=1)
    assert isinstance(line, measure.Note)
    assert str(line).endswith(
        f"no target: skipped: no PyTorch: {sys.executable} cannot import torch; "
        "set CONVCALC_TORCH_PYTHON to a Python that can"
    )
