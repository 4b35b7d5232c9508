"""--explain, --rf, the warnings and --strict on the main command, in every format.

The numbers themselves are checked elsewhere against PyTorch (ask/test_explain.py,
ask/test_lint.py, kinds/test_vectors.py); here the command must show exactly what the
library computes, the printed arithmetic must give the numbers of the same output,
the default output must not change for users who ask for none of it, and the JSON
path must not load any of it."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner, Result

import convcalc
from convcalc.ask.explain import evaluate, explain
from convcalc.ask.lint import lint
from convcalc.ask.lint.failure import lint_error
from convcalc.cli.command import cli
from convcalc.formats.delimited import CSV_HEADER
from convcalc.network.field import field
from convcalc.network.zoo import models
from tests.paths import ROOT

DATA = ROOT / "tests" / "data"
CHAIN = "-i 3x64x64 conv2d 16 k=3 s=2 p=1 maxpool k=2 s=2 p=1 ceil=true convtranspose2d 8 k=4 s=2 p=1 upsample scale=1.5"
FLOOR = "-i 3x55x55 maxpool k=2"  # a warning: the last row and column are never seen
UNET = (
    "-i 3x50x50 conv2d 16 k=3 p=1 as e1 maxpool k=2 conv2d 32 k=3 p=1 as e2 maxpool k=2 "
    "conv2d 64 k=3 p=1 convtranspose2d 32 k=2 s=2 concat e2"
)


def run(args: list[str] | str, input: str | None = None) -> Result:
    if isinstance(args, str):
        args = args.split()
    return CliRunner().invoke(cli, args, input=input, prog_name="convcalc")


def ok(args: list[str] | str) -> Result:
    result = run(args)
    assert result.exit_code == 0, result.stderr
    return result


def analysis(args: str) -> convcalc.Analysis:
    words = args.split()
    return convcalc.analyze(" ".join(words[2:]), words[1])


# -- --explain --------------------------------------------------------------------------------


def test_explain_in_the_table_is_the_librarys_under_the_totals() -> None:
    out = ok(f"{CHAIN} --explain").stdout
    table, _, explained = out.partition("\nhow each size is computed\n")
    assert "peak activations" in table  # the totals come first
    a = analysis(CHAIN)
    expected: list[str] = []
    row = None
    for step in explain(a):
        if step.row != row:
            row = step.row
            expected.append(f"{row}  {a.layers[row - 1].spec}")
        expected.append("   " + step.line())
    assert explained.splitlines() == expected


def test_explained_json_evaluates_to_the_shapes_of_the_same_output() -> None:
    data = json.loads(ok(f"{CHAIN} -o json --explain").stdout)
    steps = data["explain"]
    assert {s["row"] for s in steps} == {1, 2, 3, 4}
    for step in steps:
        assert step["expression"].isascii()  # for programs: floor(…), *, -
        layer = data["layers"][step["row"] - 1]
        dims = {"H": 1, "W": 2}
        assert layer["output"][dims[step["dim"]]] == step["value"] == evaluate(step["expression"])


def test_explain_on_networks_torch_ran() -> None:
    """Every printed expression, through the command, equals the size in its JSON."""
    cases = [json.loads(line) for line in (DATA / "torch_graphs.jsonl").open()]
    cases = [c for c in cases if c["error"] is None]
    for case in random.Random(9).sample(cases, 60):
        shape = "x".join(map(str, case["input"]))
        result = run(["-i", shape, "-o", "json", "--explain", "-"], input=case["spec"])
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        for step in data["explain"]:
            if step["expression"] is None:
                continue
            assert evaluate(step["expression"]) == step["value"], (case["spec"], step)
            assert step["value"] in data["layers"][step["row"] - 1]["output"]


def test_explain_in_markdown_and_csv() -> None:
    a = analysis(CHAIN)
    steps = explain(a)
    md = ok(f"{CHAIN} -o md --explain").stdout
    assert "\n**How each size is computed**\n" in md
    assert f"- layer 1: `{a.layers[0].spec}`" in md
    first = steps[0]
    assert f"  - H: `{first.expression} = {first.value}`" in md
    rows = list(csv.reader(io.StringIO(ok(f"{CHAIN} -o csv --explain").stdout)))
    assert rows[0] == [*CSV_HEADER, "explain"]
    ascii_steps = explain(a, ascii=True)
    for row in rows[1:]:
        mine = [s.line() for s in ascii_steps if s.row == int(row[0])]
        assert row[-1] == "; ".join(mine)
    tsv = ok(f"{CHAIN} -o tsv --explain").stdout.splitlines()
    assert tsv[0].split("\t")[-1] == "explain"


def test_explain_in_ascii_where_unicode_cannot_go() -> None:
    # CliRunner's output stream: ASCII when its charset is
    result = CliRunner(charset="ascii").invoke(cli, [*CHAIN.split(), "--explain"])
    assert result.exit_code == 0, result.stderr
    assert "floor((64 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 32" in result.stdout
    assert "⌊" not in result.stdout


# -- --rf -------------------------------------------------------------------------------------


RF_CHAIN = "-i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 conv2d 64 k=3 p=1"


def test_rf_columns_and_summary_in_the_table() -> None:
    out = ok(f"{RF_CHAIN} --rf").stdout
    lines = out.splitlines()
    assert lines[1].split()[-5:] == ["RF", "RF", "stride", "RF", "start"]
    a = analysis(RF_CHAIN)
    for lay, line in zip(a.layers, lines[3:]):
        rf = lay.rf
        assert rf is not None
        cells = line.split()[-3:]
        assert cells == [
            "×".join(map(str, rf.size)),
            "×".join(map(str, rf.stride)),
            ",".join(map(str, rf.start)),
        ]
    summary = field(a)
    assert summary is not None
    assert lines[-1] == f"receptive field: {summary.text()}"
    assert (
        lines[-1]
        == "receptive field: the output sees "
        + "×".join(
            map(str, a.rf.size)  # type: ignore[union-attr]
        )
        + " of a 224×224 input"
    )


def test_rf_in_markdown_json_and_csv() -> None:
    a = analysis(RF_CHAIN)
    summary = field(a)
    assert summary is not None
    md = ok(f"{RF_CHAIN} -o md --rf").stdout
    assert "| RF size | RF stride | RF start |" in md
    assert f"\nReceptive field: {summary.text()}.\n" in md
    data = json.loads(ok(f"{RF_CHAIN} -o json --rf").stdout)
    assert data["receptive_field"] == summary.to_dict()
    assert data["receptive_field"]["size"] == list(a.rf.size)  # type: ignore[union-attr]
    # CSV and TSV always have the three columns: --rf adds nothing
    for fmt in ("csv", "tsv"):
        assert ok(f"{RF_CHAIN} -o {fmt} --rf").stdout == ok(f"{RF_CHAIN} -o {fmt}").stdout


def test_rf_summary_when_the_field_stops() -> None:
    result = ok("-m resnet18 --rf")
    a = convcalc.analyze(convcalc.network.zoo.model_spec("resnet18"))
    summary = field(a)
    assert summary is not None and not summary.final and summary.stop is not None
    last = result.stdout.splitlines()[-1]
    assert last == f"receptive field: {summary.text()}"
    stop = a.layers[summary.stop[0] - 1]
    assert stop.rf is None and a.layers[summary.row - 1].rf is not None
    assert f"not tracked past layer {stop.index} ({stop.spec})" in last
    data = json.loads(ok("-i 16 linear 4 -o json --rf").stdout)
    assert data["receptive_field"] is None
    assert ok("-i 16 linear 4 --rf").stdout.splitlines()[-1] == "receptive field: no layer has one"


def test_whole_input_agrees_with_autograd() -> None:
    """Field.whole ('all' / 'none' output positions see the whole input) against the
    input span PyTorch's autograd measured for one output position."""
    seen = set()
    for line in (DATA / "torch_rf.jsonl").open():
        case = json.loads(line)
        a = convcalc.analyze(case["spec"], tuple(case["input"]))
        summary = field(a)
        assert summary is not None and summary.final
        sizes = case["input"][1:]
        covered = all(u <= 0 and v >= n - 1 for (u, v), n in zip(case["span"], sizes))
        seen.add(summary.whole)
        if summary.whole == "all":
            assert covered, case
        elif summary.whole == "none":
            assert not covered, case
    assert {"all", "none"} <= seen


def test_whole_input_by_counting_positions() -> None:
    """'some' too, by counting the output positions whose field holds the input."""
    rng = random.Random(4)
    seen = set()
    for _ in range(300):
        k, s, p = rng.randint(1, 7), rng.randint(1, 3), rng.randint(0, 3)
        size = rng.randint(2, 12)
        spec = f"conv1d 1 k={k} s={s} p={min(p, k)}; conv1d 1 k={rng.randint(1, 5)} p=2"
        try:
            a = convcalc.analyze(spec, (1, size))
        except convcalc.ShapeError:
            continue
        rf = a.rf
        summary = field(a)
        assert rf is not None and summary is not None
        n = a.output[1]
        assert n is not None
        whole = [
            rf.start[0] + i * rf.stride[0] <= 0
            and rf.start[0] + i * rf.stride[0] + rf.size[0] - 1 >= size - 1
            for i in range(n)
        ]
        expected = "all" if all(whole) else ("some" if any(whole) else "none")
        assert summary.whole == expected, spec
        seen.add(expected)
    assert seen == {"all", "some", "none"}


# -- the default output does not change -------------------------------------------------------


def test_without_the_options_nothing_is_added() -> None:
    data = json.loads(ok(f"{FLOOR} -o json").stdout)
    assert not {"explain", "receptive_field"} & set(data)
    clean = json.loads(ok("-i 3x56x56 maxpool k=2 -o json").stdout)
    assert "warnings" not in clean  # a network without a finding: no key
    out = ok(FLOOR).stdout
    assert "how each size is computed" not in out
    assert "receptive field:" not in out
    assert out.splitlines()[1].split()[-1] == "RF"
    md = ok(f"{FLOOR} -o md").stdout
    assert "| receptive field |" in md and "How each size" not in md
    assert ok(f"{FLOOR} -o csv").stdout.splitlines()[0] == ",".join(CSV_HEADER)


def test_the_json_path_loads_nothing_new() -> None:
    probe = (
        "import sys\nfrom convcalc.cli import cli\n"
        "try:\n    cli.main(sys.argv[1:], prog_name='convcalc')\nexcept SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "names = ('rich', 'convcalc.ask.lint', 'convcalc.ask.explain', 'convcalc.network.field', 'convcalc.ask.solve')\n"
        "print(sorted(m for m in names if m in sys.modules), file=sys.stderr)\n"
    )

    def loaded(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False
        )
        assert proc.stdout
        return proc.stderr.strip().splitlines()[-1]

    base = ["-i", "3x8x8", "conv2d", "4", "k=3", "-o", "json"]
    assert loaded(*base) == "['convcalc.ask.lint']"  # warnings are on by default
    assert loaded(*base, "--no-warnings") == "[]"
    assert loaded(*base, "--no-warnings", "--explain") == "['convcalc.ask.explain']"
    assert loaded(*base, "--no-warnings", "--rf") == "['convcalc.network.field']"
    assert loaded(*base, "--warnings") == "['convcalc.ask.lint']"
    assert loaded(*base[:-2], "-o", "csv") == "['convcalc.ask.lint']"  # warnings on stderr


# -- warnings and --strict --------------------------------------------------------------------


def stderr_warnings(result: Result) -> list[str]:
    return [
        line.removeprefix("convcalc: warning: ")
        for line in result.stderr.splitlines()
        if line.startswith("convcalc: warning: ")
    ]


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "tsv"])
def test_warnings_go_to_stderr_in_the_text_formats(fmt: str) -> None:
    result = ok(f"{FLOOR} -o {fmt}")
    expected = [w.line().removeprefix("warning: ") for w in lint(analysis(FLOOR))]
    assert len(expected) == 1
    assert stderr_warnings(result) == expected
    assert "warning" not in result.stdout
    assert ok(f"{FLOOR} -o {fmt} --no-warnings").stderr == ""


def test_json_lists_warnings() -> None:
    expected = [w.to_dict() for w in lint(analysis(FLOOR))]
    result = ok(f"{FLOOR} -o json")
    assert result.stderr == ""  # in the JSON, not on stderr
    assert json.loads(result.stdout)["warnings"] == expected
    assert "warnings" not in json.loads(ok(f"{FLOOR} -o json --no-warnings").stdout)
    result = ok(f"{FLOOR} -o json --warnings")
    assert result.stderr == ""
    assert json.loads(result.stdout)["warnings"] == [w.to_dict() for w in lint(analysis(FLOOR))]
    clean = json.loads(ok("-i 3x56x56 maxpool k=2 -o json --warnings").stdout)
    assert clean["warnings"] == []


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_strict_makes_warnings_errors(fmt: str) -> None:
    result = run(f"{FLOOR} -o {fmt} --strict")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(stderr_warnings(result)) == 1
    assert result.stderr.splitlines()[-1] == (
        "convcalc: error: --strict: 1 warning (above); nothing was written"
    )
    clean = ok(f"-i 3x56x56 maxpool k=2 -o {fmt} --strict")
    assert clean.stderr == "" and clean.stdout


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("100", "square-input"),
        ("100x1x1", None),
        ("224x224x3", "channels-last"),
        ("3x224x224", None),
    ],
)
def test_the_input_as_typed_reaches_the_checks(typed: str, code: str | None) -> None:
    layer = "convtranspose2d 512 k=4" if code != "channels-last" else "conv2d 64 k=3 p=1"
    if typed == "3x224x224":
        layer = "conv2d 64 k=3 p=1"
    data = json.loads(ok(["-i", typed, *layer.split(), "-o", "json", "--warnings"]).stdout)
    codes = [w["code"] for w in data["warnings"]]
    assert codes == ([code] if code else [])
    expected = lint(convcalc.analyze(layer, typed), input_text=typed)
    assert data["warnings"] == [w.to_dict() for w in expected]


def test_a_failed_network_gets_hints_under_its_error() -> None:
    result = run(UNET)
    assert result.exit_code == 1
    assert result.stdout == ""
    words = UNET.split()
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(" ".join(words[2:]), words[1])
    hints = lint_error(info.value)
    assert hints
    lines = result.stderr.splitlines()
    assert lines[0] == f"convcalc: error: {info.value}"
    assert lines[1:] == [h.line().replace("warning: ", "hint: ", 1) for h in hints]
    for fmt in ("json", "csv"):
        assert run(f"{UNET} -o {fmt}").stderr == result.stderr
    quiet = run(f"{UNET} --no-warnings")
    assert quiet.stderr.splitlines() == lines[:1]


def test_a_failed_network_without_findings_has_no_hint() -> None:
    result = run("-i 3x5x5 conv2d 8 k=9")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", [m.name for m in models()])
def test_built_in_models_warn_only_of_real_findings(name: str) -> None:
    result = ok(["-m", name, "-o", "csv"])
    found = stderr_warnings(result)
    if name in ("squeezenet1_0", "squeezenet1_1"):
        # torchvision's SqueezeNets open with Conv2d(3, 96, 7, stride=2) (1.0) and
        # Conv2d(3, 64, 3, stride=2) (1.1), no padding: on 224 their windows never reach
        # row and column 223 (see ask/test_lint.py).
        assert len(found) == 1 and found[0].startswith("layer 1: ")
    elif name.startswith("ssd"):
        # SSD's last extra layer brings its map to 1×1 by design (300 and 320 px), and its
        # heads still run 3×3 convolutions (padding 1) there: a real finding, once.
        assert len(found) == 1 and "shrinks H to 1" in found[0], found
    else:
        assert found == []


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.spec")), ids=lambda p: p.stem)
def test_examples_do_not_warn(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    args = ["-f", str(path), "-o", "csv"] + ([] if "input" in text else ["-i", "1x28x28"])
    assert ok(args).stderr == ""


def test_lint_error_never_fails_on_what_torch_rejected() -> None:
    """The hints run on every failing network of the torch data without failing."""
    count = 0
    for line in (DATA / "torch_graphs.jsonl").open():
        case: dict[str, Any] = json.loads(line)
        if case["error"] is None:
            continue
        try:
            convcalc.analyze(case["spec"], tuple(case["input"]))
        except convcalc.ShapeError as exc:
            for hint in lint_error(exc):
                assert hint.message and hint.fix
            count += 1
        except convcalc.SpecError:
            pass
    assert count > 50


# -- completion -------------------------------------------------------------------------------


def complete(args: list[str], incomplete: str) -> list[str]:
    comp = ShellComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE")
    return [item.value for item in comp.get_completions(args, incomplete)]


def test_completion_of_the_new_options_and_of_solve() -> None:
    options = complete([], "--")
    for option in ("--explain", "--rf", "--strict", "--warnings", "--no-warnings"):
        assert option in options
    assert complete([], "sol") == ["solve"]
    assert complete(["-i", "224"], "sol") == []  # a first word only
    assert complete(["solve"], "sol") == []
    assert set(complete(["solve"], "--")) >= {
        "--input",
        "--output",
        "--to",
        "--format",
        "--max",
        "--limit",
        "--file",
    }
    assert complete(["solve", "--format"], "j") == ["json"]
    assert complete(["solve", "-i", "224", "-o", "112", "conv2d"], "p=") == [
        "p=same",
        "p=valid",
        "p=?",
    ]
    assert complete(["solve", "conv2d"], "k=") == ["k=?"]
    assert complete(["conv2d"], "k=") == []  # '?' is solve's
    assert "k=" in complete(["solve", "-i", "224", "conv2d"], "")


def test_bash_completion_of_solve_in_a_real_bash() -> None:
    """The printed script, sourced in a real bash: solve as the first word, its keys' '?'."""
    script = CliRunner().invoke(cli, ["--completion", "bash"]).stdout
    probe = """
        COMP_WORDS=(convcalc sol); COMP_CWORD=1; COMPREPLY=()
        _convcalc_completion convcalc 2>/dev/null; echo "${COMPREPLY[@]}"
        COMP_WORDS=(convcalc solve -i 224 conv2d p =); COMP_CWORD=6; COMPREPLY=()
        _convcalc_completion convcalc 2>/dev/null; echo "${COMPREPLY[@]}"
        COMP_WORDS=(convcalc solve --for); COMP_CWORD=2; COMPREPLY=()
        _convcalc_completion convcalc 2>/dev/null; echo "${COMPREPLY[@]}"
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-c", script + probe], capture_output=True, text=True, env=env, check=False
    )
    assert proc.stdout.splitlines() == ["solve", "same valid ?", "--format"]
