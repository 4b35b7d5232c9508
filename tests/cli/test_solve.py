"""``convcalc solve``: the command around convcalc.ask.solve (whose answers ask/test_solve.py
checks against PyTorch's layers). Here: that the command shows exactly what the
library finds, in every format, that every answer it prints reaches the target in
the engine, and its errors, options and start-up."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import convcalc
from convcalc.ask.solve import NoSolution, solve_chain
from convcalc.cli.command import cli
from convcalc.formats.answers import LEGEND


def run(args: list[str] | str, input: str | None = None) -> Result:
    if isinstance(args, str):
        args = args.split()
    return CliRunner().invoke(cli, args, input=input, prog_name="convcalc")


def ok(args: list[str] | str, input: str | None = None) -> str:
    result = run(args, input)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# (input, output, layer or chain): the typical questions, a key left out, a
# transposed convolution, adaptive pooling, upsample, and a chain with two '?'.
QUESTIONS = [
    ("3x224x224", "64x224x224", "conv2d 64 k=7 p=?"),
    ("224", "112", "conv2d k=3 s=2 p=?"),
    ("8x7x7", "14", "convtranspose2d 8 k=4 s=2 p=?"),
    ("224", "112", "conv2d"),
    ("3x55x55", "27", "maxpool k=?"),
    ("3x7x7", "3x5x5", "adaptiveavgpool ?"),
    ("3x7x7", "15", "upsample"),
    ("3x224x224", "64x56x56", "conv2d 64 k=7 s=2 p=? bn relu maxpool k=3 s=2 p=?"),
]


@pytest.mark.parametrize(("shape", "target", "spec"), QUESTIONS)
def test_json_is_what_the_library_finds_and_every_answer_reaches_the_target(
    shape: str, target: str, spec: str
) -> None:
    answers = json.loads(
        ok(["solve", "-i", shape, "-o", target, *spec.split(), "--format", "json"])
    )
    expected = solve_chain(spec, shape, target)
    assert answers == [s.to_dict() for s in expected]
    assert answers
    want = convcalc.parse_shape(target)
    for answer in answers:
        out = convcalc.analyze(answer["spec"], shape).output
        assert list(out) == answer["output"]
        assert tuple(v for v in out[-len(want) :]) == want or out[1:] == want * (len(out) - 1)
        solved = set(answer) - {"spec", "output"}
        assert solved, answer  # the solved keys are listed


@pytest.mark.parametrize(("shape", "target", "spec"), QUESTIONS)
def test_the_table_shows_each_answer(shape: str, target: str, spec: str) -> None:
    out = ok(["solve", "-i", shape, "-o", target, *spec.split(), "-n", "0"])
    expected = solve_chain(spec, shape, target)
    lines = out.splitlines()
    answers = "answer" if len(expected) == 1 else "answers"
    assert f": {len(expected)} {answers}, " in lines[0]
    marked = any(s.skips_input for s in expected)
    # a skips column and its legend under the table when an answer skips input pixels
    assert ("skips" in lines[1].split()) == marked
    body = lines[3:-1] if marked else lines[3:]
    assert (lines[-1] == LEGEND) == marked
    assert len(body) == len(expected)
    for n, (line, solution) in enumerate(zip(body, expected), start=1):
        assert line.split()[0] == str(n)
        for value in solution.values.values():
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            assert text in line.split(), (text, line)
        if not any("." in key for key in solution.values):
            assert solution.spec in line
        assert (line.split()[-2] == "yes") == solution.skips_input


def test_the_table_shows_ten_and_says_how_many_more() -> None:
    expected = solve_chain("conv2d", "224", "112")
    assert len(expected) > 10
    out = ok("solve -i 224 -o 112 conv2d")
    lines = out.splitlines()
    assert len(lines) == 3 + 10 + 1
    assert lines[-1] == f"… and {len(expected) - 10} more (--limit 0 shows them all)"
    assert len(ok("solve -i 224 -o 112 conv2d -n 3").splitlines()) == 3 + 3 + 1
    assert "more" not in ok("solve -i 224 -o 112 conv2d --limit 0")
    # the machine formats list them all unless told
    assert len(json.loads(ok("solve -i 224 -o 112 conv2d --format json"))) == len(expected)
    assert len(json.loads(ok("solve -i 224 -o 112 conv2d --format json -n 2"))) == 2


def test_a_chain_shows_its_solved_layers_by_row() -> None:
    spec = "conv2d 64 k=7 s=2 p=? bn relu maxpool k=3 s=2 p=?"
    out = ok(["solve", "-i", "3x224x224", "-o", "64x56x56", *spec.split()])
    expected = solve_chain(spec, "3x224x224", "64x56x56")
    header = out.splitlines()[1].split()
    assert header == ["#", "layers", "1.p", "4.p", "skips", "output"]
    for solution in expected:
        layers = convcalc.analyze(solution.spec, "3x224x224").layers
        assert f"1: {layers[0].spec}; 4: {layers[3].spec}" in out


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv(fmt: str) -> None:
    out = ok(f"solve -i 224 -o 112 conv2d k=3 --format {fmt}")
    rows = list(csv.reader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    expected = solve_chain("conv2d k=3", "224", "112")
    assert rows[0] == ["spec", *expected[0].values, "output", "skips_input"]
    assert [r[0] for r in rows[1:]] == [s.spec for s in expected]
    for row, solution in zip(rows[1:], expected):
        assert convcalc.analyze(row[0], "224").output[1:] == (112, 112)
        assert row[-2] == "?x112x112"
        assert row[-1] == ("true" if solution.skips_input else "false")


def test_markdown() -> None:
    out = ok("solve -i 3x224x224 -o 64x112x112 conv2d 64 k=7 s=2 p=? --format md")
    (solution,) = solve_chain("conv2d 64 k=7 s=2 p=?", "3x224x224", "64x112x112")
    assert "| # | layer | p | output |" in out
    assert f"| 1 | {solution.spec} | {solution.values['p']} | 64×112×112 |" in out


def test_nothing_fits_exit_1_with_the_nearest_sizes() -> None:
    result = run("solve -i 3x224x224 -o 100 conv2d 8 k=3 s=2 p=?")
    assert result.exit_code == 1
    assert result.stdout == ""
    with pytest.raises(NoSolution) as info:
        solve_chain("conv2d 8 k=3 s=2 p=?", "3x224x224", "100")
    lines = result.stderr.splitlines()
    assert lines[0] == f"convcalc: error: {info.value.headline}"
    assert lines[1] == "nearest reachable:"
    assert len(lines) == 2 + len(info.value.nearest) >= 3
    for line, near in zip(lines[2:], info.value.nearest):
        size, spec = line.split(None, 1)
        assert size == "×".join(map(str, near.output))
        assert spec == near.spec
        assert convcalc.analyze(spec, "3x224x224").output == near.output


def test_nothing_fits_in_a_chain_names_the_solved_layers() -> None:
    result = run("solve -i 3x224x224 -o 60 conv2d 64 k=7 s=2 p=? maxpool k=3 s=2 p=?")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nearest reachable:" in result.stderr
    assert "1: conv2d 64 k=7 s=2 p=" in result.stderr
    assert "; 2: maxpool k=3 s=2 p=" in result.stderr


def test_max_widens_the_search() -> None:
    # k ≤ 11 by default: 1 → 100 by a transposed convolution needs a larger kernel.
    with pytest.raises(NoSolution):
        solve_chain("convtranspose2d 4 k=?", "4x1x1", "100")
    assert run("solve -i 4x1x1 -o 100 convtranspose2d 4 k=?").exit_code == 1
    (answer,) = json.loads(
        ok("solve -i 4x1x1 -o 100 convtranspose2d 4 k=? --max 100 --format json")
    )
    assert convcalc.analyze(answer["spec"], "4x1x1").output == (4, 100, 100)
    answers = json.loads(
        ok("solve -i 4x1x1 -o 100 convtranspose2d 4 k=? --max k=100 --format json")
    )
    assert [a["spec"] for a in answers] == [answer["spec"]]
    result = run("solve -i 4x1x1 -o 100 convtranspose2d 4 k=? --max q=3")
    assert result.exit_code == 2
    assert "--max takes a number or keys" in result.stderr


def test_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    spec = tmp_path / "stem.spec"
    spec.write_text("input 3x224x224\nconv2d 64 k=7 s=2 p=?\nmaxpool k=3 s=2 p=1\n")
    from_file = json.loads(ok(["solve", "-f", str(spec), "-o", "64x56x56", "--format", "json"]))
    expected = solve_chain(spec.read_text(), None, "64x56x56")
    assert from_file == [s.to_dict() for s in expected]
    from_stdin = json.loads(ok("solve -o 64x56x56 --format json", input=spec.read_text()))
    assert from_stdin == from_file
    # layer words after a file are added to its end
    more = json.loads(ok(["solve", "-f", str(spec), "-o", "64x56x56", "--format", "json", "bn",
                          "conv2d", "64", "k=3", "p=1"]))  # fmt: skip
    assert [a["1.p"] for a in more] == [a["1.p"] for a in from_file]
    assert more[0]["spec"] == from_file[0]["spec"] + "\nbn conv2d 64 k=3 p=1"


def test_options_may_follow_the_layer() -> None:
    assert ok("solve conv2d k=3 s=2 p=? -i 224 -o 112") == ok(
        "solve -i 224 -o 112 conv2d k=3 s=2 p=?"
    )
    assert ok("solve --to 112 -i 224 conv2d k=3 s=2 p=?") == ok(
        "solve -i 224 --output 112 conv2d k=3 s=2 p=?"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ("solve -i 224 conv2d k=3 p=?", 2, "solve needs the output shape to reach: -o OUT"),
        ("solve -i 224 -o json conv2d k=3 p=?", 2, "for the format write --format json"),
        ("solve -i 224 -o MD conv2d k=3 p=?", 2, "for the format write --format md"),
        ("solve -i 224 -o 112 conv2d k=3 p=? --json", 2, "(the format is an option's value: --format json)"),
        ("solve -i 224 -o 112 conv2d k=3 p=? --format yaml", 2, "JSON is valid YAML"),
        ("solve -i 224 -o 0 conv2d k=3 p=?", 2, "-o/--output '0': every size in a shape must be at least 1"),
        ("solve -i 2x0 -o 4 conv2d k=3 p=?", 2, "-i/--input '2x0'"),
        ("solve -i 224 -o 112 conv2d k=3 sride=2 p=?", 2, "sride"),
        ("solve -i 224 -o 112 conv2d k=3 p=? relu s=?", 2, "relu"),
        ("solve -i 224 -o 112 relu", 1, "relu cannot turn 224 into 112"),
        ("solve -i 32 -o 16 maxpool k=?", 1, "32 has no spatial dimension"),
        ("solve -i 224 -o 111 conv2d k=3 s=2 p=1 d=1", 1, "conv2d k=3 s=2 p=1 d=1 cannot turn ?×224×224 into 111×111\nnearest reachable:"),
        ("solve -o 112 conv2d k=3 p=?", 2, "no input shape"),
        ("solve -i 224 -o 112", 2, "no layers given"),
        ("-i 224 solve -o 112 conv2d k=3 s=2 p=?", 2, "'solve' is a command of its own: write it first"),
    ],
)  # fmt: skip
def test_errors(args: str, code: int, message: str) -> None:
    result = run(args, input="")
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("convcalc: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help() -> None:
    text = ok("solve --help")
    assert text.startswith("Usage: convcalc solve [OPTIONS] [LAYER]...")
    for option in ("--input", "--output", "--to", "--format", "--max", "--limit", "--file"):
        assert option in text
    assert ok("solve -h") == text
    assert "convcalc solve -i 224 -o 112 conv2d k=3 s=2 p=?" in ok("--help")


def test_the_main_command_is_unchanged() -> None:
    # 'solve' is a first word only; the one-liners keep working
    out = ok("conv2d k=3 s=2 p=1 d=1 -i 32")
    assert "?×16×16" in out
    assert json.loads(ok("-i 3x8x8 conv2d 4 k=3 -o json"))["output"] == [4, 6, 6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("-- solve", "unknown layer kind 'solve'"),  # after '--', a layer word
        ("-- --help", "unknown layer kind '--help'"),
        ("SOLVE", "unknown layer kind 'SOLVE'"),  # the word is exact
        ("--bogus", "No such option '--bogus'.\nTry 'convcalc --help' for help."),
        ("solve --bogus", "No such option '--bogus'.\nTry 'convcalc solve --help' for help."),
    ],
)
def test_only_a_first_word_names_solve(args: str, message: str) -> None:
    # The main job has no word of its own: its errors say 'convcalc', solve's 'convcalc solve'.
    result = run(args, input="")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("convcalc: error: ")
    assert message in result.stderr


# -- real processes ---------------------------------------------------------------------------


def convcalc_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convcalc", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_a_real_process() -> None:
    proc = convcalc_cmd(
        "solve", "-i", "8x7x7", "-o", "14", "convtranspose2d", "8", "k=4", "s=2", "p=?"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    (solution,) = solve_chain("convtranspose2d 8 k=4 s=2 p=?", "8x7x7", "14")
    assert solution.spec in proc.stdout
    proc = convcalc_cmd("solve", "-i", "3x224x224", "-o", "100", "conv2d", "8", "k=3", "s=2", "p=?")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "nearest reachable:" in proc.stderr


PROBE = """
import sys
from convcalc.cli.command import cli
from convcalc.formats.answers import LEGEND
try:
    cli.main(sys.argv[1:], prog_name="convcalc")
except SystemExit:
    pass
sys.stdout.flush()
print(sorted(m for m in ("rich", "convcalc.ask.solve", "convcalc.cli.solve") if m in sys.modules),
      file=sys.stderr)
"""


def test_solve_json_needs_no_rich_and_the_main_job_loads_no_solver() -> None:
    def probe(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
        )
        assert proc.stdout
        return proc.stderr.strip()

    solve = ["solve", "-i", "224", "-o", "112", "conv2d", "k=3", "p=?", "s=2", "--format", "json"]
    assert probe(*solve) == "['convcalc.ask.solve', 'convcalc.cli.solve']"
    assert probe("-i", "3x8x8", "conv2d", "4", "k=3", "-o", "json") == "[]"
    assert probe("-i", "3x8x8", "conv2d", "4", "k=3") == "['rich']"


# --framework: the answers follow Keras's and ONNX's rules (ask/test_solve_frameworks.py
# checks them against the frameworks' own vectors); here, the command around them.
FRAMEWORK_QUESTIONS = [
    (["--framework", "keras"], "224x224x3", "112x112x64", "Conv2D 64 3 strides=2 padding=?"),
    (["--framework", "keras"], "7x7x8", "14", "Conv2DTranspose 8 3 strides=2 padding=? op=?"),
    (["--framework", "tf"], "100x4", "100x8", "Conv1D 8 3"),
    # a positional '?' keeps the values after it in their places (filters, then kernel)
    (["--framework", "keras"], "32x32x3", "16x16x8", "Conv2D ? 3 strides=2 padding=same"),
    (["--framework", "onnx"], "3x224x224", "64x56x56", "conv 64 k=7 s=2 p=? maxpool k=3 s=2 p=?"),
    (["--framework", "onnx", "--opset", "13"], "3x7x7", "4", "maxpool k=2 s=2 p=? ceil"),
    ([], "3x10x12", "8x10x13", "framework onnx; conv 8 k=3 p=?"),
    # LpPool's p is the norm's order: its pads are written pads= (p=0,0,1,1 failed)
    (["--framework", "onnx"], "8x7x7", "4", "lppool k=2 s=2"),
]


@pytest.mark.parametrize(("options", "shape", "target", "layers"), FRAMEWORK_QUESTIONS)
def test_every_answer_under_a_framework_reaches_the_target(
    options: list[str], shape: str, target: str, layers: str
) -> None:
    args = ["solve", *options, "-i", shape, "-o", target, "--format", "json", *layers.split()]
    answers = json.loads(ok(args))
    assert answers
    framework = options[1] if options else None
    opset = int(options[3]) if len(options) > 2 else None
    expected = [
        s.to_dict() for s in solve_chain(layers, shape, target, framework=framework, opset=opset)
    ]
    assert answers == expected
    for answer in answers:
        out = convcalc.analyze(answer["spec"], shape, framework=framework, opset=opset).output
        assert list(out) == answer["output"]
        sizes = [int(v) for v in target.split("x")]
        last = framework in ("keras", "tf")
        spatial = list(out[:-1] if last else out[1:])
        assert sizes in (list(out), spatial, spatial[:1])


def test_the_table_says_which_conventions_hold() -> None:
    out = ok("solve --framework keras -i 224x224x3 -o 112x112x64 Conv2D 64 3 strides=2 padding=?")
    assert "224×224×3 → 112×112×64  (keras, channels last)" in out
    assert "Conv2D 64 3 strides=2 padding=same" in out
    out = ok("solve --framework onnx --opset 17 -i 3x32x32 -o 16 conv 8 k=3 s=2 p=?")
    assert "(onnx opset 17, channels first)" in out
    assert "(" not in ok("solve -i 3x32x32 -o 16 conv2d 8 k=3 s=2 p=?").splitlines()[0]


def test_a_spec_file_says_its_framework(tmp_path: Path) -> None:
    path = tmp_path / "net.spec"
    path.write_text("framework keras\nConv2D 16 5 padding=?\n", encoding="utf-8")
    answers = json.loads(
        ok(["solve", "-f", str(path), "-i", "32x32x3", "-o", "32x32x16", "--format", "json"])
    )
    assert [a["p"] for a in answers] == ["same"]
    result = run(["solve", "--framework", "onnx", "-f", str(path), "-i", "32x32x3", "-o", "32"])
    assert result.exit_code == 2
    assert "the spec says 'framework keras', but onnx was asked for" in result.stderr


def test_under_keras_nothing_reachable_lists_channels_last_shapes() -> None:
    result = run("solve --framework keras -i 3x224x224 -o 112 Conv2D 64 3 strides=2 padding=?")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "2×112×64  Conv2D 64 3 strides=2 padding=same" in result.stderr
    # A number is not a Keras padding: the framework's own words.
    result = run("solve --framework keras -i 224x224x3 -o 112 Conv2D 64 3 padding=1 strides=?")
    assert result.exit_code == 2
    assert "Keras's padding is one of valid, same, causal, not a number" in result.stderr


def test_answers_are_written_as_the_question_was() -> None:
    # A call gets its solved keys inside its parentheses, by PyTorch's names; a
    # statement that names its keys gets names; short keys get short keys.
    for layer, keys in (
        ("Conv2d(3, 64, 7)", ("stride=", "padding=")),
        ("conv2d 64 kernel_size=7", ("stride=", "padding=")),
        ("conv2d 64 k=7", ("s=", "p=")),
    ):
        answers = solve_chain(layer, "3x224x224", "64x112x112")
        assert answers
        for answer in answers:
            assert all(key in answer.spec for key in keys), answer.spec
            assert answer.spec.endswith(")") == layer.endswith(")")
            assert convcalc.analyze(answer.spec, "3x224x224").output == (64, 112, 112)
    keras = solve_chain("Conv2D 64 7 strides=2", "224x224x3", "112", framework="keras")
    assert [a.spec for a in keras] == ["Conv2D 64 7 strides=2 padding=same"]


@pytest.mark.parametrize(
    ("layer", "target", "key"),
    [
        ("Conv2d(3, ?, 3)", "16x30x30", "out_channels"),
        ("Conv2d(3, 16, ?, 2)", "16x15x15", "k"),
        ("Conv2d(3, 16, 3, 2, ?)", "16x16x16", "p"),
        ("Conv2d(3, 16, 3, stride=2, padding=?)", "16x16x16", "p"),
        ("Conv2d(3, 16, 7, 2, ?) ReLU() MaxPool2d(3, 2, ?)", "16x8x8", "3.p"),
    ],
)
def test_a_question_mark_in_a_call_is_read_by_pytorchs_signature(
    layer: str, target: str, key: str
) -> None:
    answers = solve_chain(layer, "3x32x32", target)
    assert answers and all(key in a.values for a in answers)
    for answer in answers:
        assert "?" not in answer.spec
        out = convcalc.analyze(answer.spec, "3x32x32").output
        assert "x".join(map(str, out)) == target


# --------------------------------------------------------------------------
# The mark on answers that skip input pixels, and --explain.


def test_every_format_marks_the_answers_that_skip_input_pixels() -> None:
    args = ["solve", "-i", "3x224x224", "-o", "64x56x56", "conv2d", "64", "k=?", "s=?", "p=?"]
    expected = solve_chain(" ".join(args[5:]), "3x224x224", "64x56x56")
    skipping = [s.skips_input for s in expected]
    assert any(skipping) and not all(skipping)
    answers = json.loads(ok([*args, "--format", "json"]))
    assert [a["skips_input"] for a in answers] == skipping
    rows = list(csv.reader(io.StringIO(ok([*args, "--format", "csv"]))))
    assert rows[0][-1] == "skips_input"
    assert [r[-1] for r in rows[1:]] == ["true" if s else "false" for s in skipping]
    md = ok([*args, "--format", "markdown"]).splitlines()
    assert md[2] == "| # | layer | k | s | p | skips | output |"
    body = [line for line in md if line.startswith("| ") and line[2].isdigit()]
    assert [line.split(" | ")[-2] == "yes" for line in body] == skipping
    assert LEGEND in md
    table = ok([*args, "-n", "0"]).splitlines()
    assert table[1].split()[-2:] == ["skips", "output"]
    assert table[-1] == LEGEND
    assert [line.split()[-2] == "yes" for line in table[3:-1]] == skipping
    # no answer skips: no column, no legend
    plain = ok("solve -i 3x224x224 -o 64x224x224 conv2d 64 k=7 p=?")
    assert "skips" not in plain


def _main_explain(spec: str, shape: str) -> list[str]:
    """The main command's --explain lines for a spec (the steps, without the rows'
    headings)."""
    out = ok(["-i", shape, *spec.split(), "--explain"])
    block = out.split("how each size is computed\n", 1)[1]
    return [line.strip() for line in block.splitlines() if ": " in line and line.startswith(" ")]


def test_explain_shows_each_answers_arithmetic_under_the_table() -> None:
    out = ok("solve -i 3x224x224 -o 64x56x56 conv2d 64 k=? s=? p=? -n 3 --explain")
    expected = solve_chain("conv2d 64 k=? s=? p=?", "3x224x224", "64x56x56")[:3]
    table, block = out.split("\nhow each answer's size is computed\n")
    assert len(table.splitlines()) == 3 + 3 + 1  # the table and its "… more" line
    lines = block.splitlines()
    for n, answer in enumerate(expected, start=1):
        heading = next(i for i, line in enumerate(lines) if line == f"{n}  {answer.spec}")
        steps = [line.strip() for line in lines[heading + 1 : heading + 3]]
        assert steps == _main_explain(answer.spec, "3x224x224")
    assert len(lines) == 3 * 3  # a heading and H, W per answer: only the shown ones


def test_explain_in_a_chain_names_each_solved_layer() -> None:
    spec = "conv2d 64 k=7 s=2 p=? bn relu maxpool k=3 s=2 p=?"
    out = ok(["solve", "-i", "3x224x224", "-o", "64x56x56", *spec.split(), "--explain"])
    block = out.split("\nhow each answer's size is computed\n")[1].splitlines()
    first = solve_chain(spec, "3x224x224", "64x56x56")[0]
    layers = convcalc.analyze(first.spec, "3x224x224").layers
    main = _main_explain(first.spec, "3x224x224")
    assert block[0] == f"1  1: {layers[0].spec}"
    assert [line.strip() for line in block[1:3]] == main[:2]
    assert block[3] == f"   4: {layers[3].spec}"
    assert [line.strip() for line in block[4:6]] == main[2:4]


def test_explain_in_json_csv_and_markdown() -> None:
    from convcalc.ask.explain import evaluate, explain

    spec = "conv2d 64 k=7 s=2 p=? bn relu maxpool k=3 s=2 p=?"
    args = ["solve", "-i", "3x224x224", "-o", "64x56x56", *spec.split(), "--explain"]
    answers = json.loads(ok([*args, "--format", "json"]))
    expected = solve_chain(spec, "3x224x224", "64x56x56")
    assert len(answers) == len(expected)
    for answer, solution in zip(answers, expected):
        analysis = convcalc.analyze(solution.spec, "3x224x224")
        steps = [s.to_dict() for s in explain(analysis, ascii=True) if s.row in (1, 4)]
        assert answer["explain"] == steps
        assert {k: v for k, v in answer.items() if k != "explain"} == solution.to_dict()
        for step in answer["explain"]:
            assert evaluate(step["expression"]) == step["value"]
    rows = list(csv.reader(io.StringIO(ok([*args, "--format", "csv"]))))
    assert rows[0][-1] == "explain"
    assert rows[1][-1].startswith("1: H: floor((224 + 2*3")
    assert "; 4: W: floor((112 + 2*1" in rows[1][-1]
    md = ok([*args, "--format", "md", "-n", "1"])
    assert "**How each answer's size is computed**" in md
    assert "- answer 1, layer 4: `maxpool k=3 s=2 p=1`" in md
    assert "  - H: `⌊(112 + 2·1 − 1·(3−1) − 1) / 2⌋ + 1 = 56`" in md
    # without --explain, none of it
    assert "explain" not in json.loads(ok([*args[:-1], "--format", "json"]))[0]
    assert "computed" not in ok(args[:-1])
