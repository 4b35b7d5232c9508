"""The convcalc command through click's CliRunner, plus the few things that
need a real process (stdin, a closed pipe, undecodable bytes, what it imports)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import convcalc
from convcalc.cli import command as cli_module
from convcalc.cli.command import cli
from convcalc.formats.delimited import CSV_HEADER
from tests.paths import EXAMPLES

SPEC_LINE = (
    "-i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool2d k=3 s=2 p=1 "
    "conv2d 128 k=3 s=2 p=1 gap flatten linear 10"
)
SPEC_ARGS = SPEC_LINE.split(" ")
SPEC_TEXT = " ".join(SPEC_ARGS[2:])


def run(args: list[str] | str, input: str | bytes | None = None) -> Result:
    if isinstance(args, str):
        args = args.split()
    return CliRunner().invoke(cli, args, input=input, prog_name="convcalc")


def ok(args: list[str] | str, input: str | bytes | None = None) -> str:
    result = run(args, input)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# -- the main job ---------------------------------------------------------------------


def test_table_is_the_default() -> None:
    out = ok(SPEC_ARGS)
    assert out.startswith("input 3×224×224\n")
    assert "64×112×112" in out
    assert "84,618" in out  # total params
    assert "\x1b[" not in out  # not a terminal: no colour


def test_design_card_one_liner_prints_16x16() -> None:
    out = ok("conv2d k=3 s=2 p=1 d=1 -i 32")
    assert "?×16×16" in out


def test_options_may_come_anywhere() -> None:
    before = ok(["-o", "json", *SPEC_ARGS])
    after = ok([*SPEC_ARGS[2:], "-i", "3x224x224", "--format", "json"])
    middle = ok(
        ["conv2d", "64", "k=7", "s=2", "p=3", "-o", "json", *SPEC_ARGS[7:], "-i", "3,224,224"]
    )
    assert json.loads(before) == json.loads(after) == json.loads(middle)


def test_input_inside_the_chain() -> None:
    data = json.loads(ok(["input", "3x32x32", "conv2d", "8", "k=3", "-o", "json"]))
    assert data["input"] == [3, 32, 32]
    assert data["output"] == [8, 30, 30]


def test_explicit_input_wins_over_the_chains() -> None:
    data = json.loads(ok("input 3x32x32 conv2d 8 k=3 -i 1x10x10 -o json"))
    assert data["input"] == [1, 10, 10]


@pytest.mark.parametrize("shape", ["3x224x224", "3,224,224", "(3, 224, 224)", "3×224×224"])
def test_input_spellings(shape: str) -> None:
    data = json.loads(ok(["-i", shape, "conv2d", "8", "k=3", "-o", "json"]))
    assert data["input"] == [3, 224, 224]


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", "conv2d", "k=3", "s=2", "p=1", "-i", "32", "-o", "csv"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split(",")[4] == "?x16x16"


# -- formats ----------------------------------------------------------------------------


def test_json_is_spec_section_3() -> None:
    data = json.loads(ok([*SPEC_ARGS, "-o", "json"]))
    assert data == convcalc.analyze(SPEC_TEXT, "3x224x224").to_dict()
    assert data["layers"][0] == {
        "index": 1,
        "kind": "conv2d",
        "spec": "conv2d 64 k=7 s=2 p=3",
        "input": [3, 224, 224],
        "output": [64, 112, 112],
        "params": 9472,
        "trainable": 9472,
        "buffers": 0,
        "macs": 118013952,
        "rf": {"size": [7, 7], "stride": [2, 2], "start": [-3, -3]},
        "inputs": [0],
        "name": None,
        "block": None,
        "shared": None,
        "side": False,
    }


def test_per_layer_numbers_add_up_to_the_totals() -> None:
    args = "-i 3x64x64 conv2d 32 k=3 p=1 bn relu conv2d 64 k=3 s=2 p=1 bn relu gap flatten fc 10"
    data = json.loads(ok(f"{args} -o json"))
    for key in ("params", "trainable", "buffers", "macs"):
        assert sum(layer[key] for layer in data["layers"]) == data["total"][key]
    table = ok(args)
    assert f"{data['total']['params']:,}" in table
    assert f"{data['total']['macs']:,}" in table


@pytest.mark.parametrize(("batch", "dtype", "size"), [("1", "float32", 4), ("8", "fp16", 2)])
def test_batch_and_dtype(batch: str, dtype: str, size: int) -> None:
    data = json.loads(ok([*SPEC_ARGS, "-o", "json", "--batch", batch, "--dtype", dtype]))
    memory = data["memory"]
    assert memory["batch"] == int(batch)
    assert memory["params_bytes"] == data["total"]["params"] * size


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_delimited(fmt: str, delimiter: str) -> None:
    rows = list(csv.reader(io.StringIO(ok([*SPEC_ARGS, "-o", fmt])), delimiter=delimiter))
    assert rows[0][:5] == ["index", "kind", "spec", "input", "output"]
    assert len(rows) == 7
    assert rows[1][2] == "conv2d 64 k=7 s=2 p=3"
    assert rows[1][4] == "64x112x112"


def test_markdown() -> None:
    out = ok([*SPEC_ARGS, "--format", "markdown"])
    assert "| # | layer | output | params | MACs | receptive field |" in out
    assert "| params | 84,618 | 84.6 K · all trainable |" in out


def test_unknown_channels() -> None:
    assert json.loads(ok("conv2d k=3 -i 32 -o json"))["total"]["params"] is None
    assert "?" in ok("conv2d k=3 -i 32 -o markdown")


# -- input sources -----------------------------------------------------------------------


def test_stdin_dash() -> None:
    out = ok(["-i", "1x28x28", "-", "-o", "json"], input="conv2d 8 k=3 # a comment\nrelu\n")
    assert json.loads(out)["output"] == [8, 26, 26]


def test_file_dash_is_stdin() -> None:
    assert json.loads(ok("-i 1x28x28 -f - -o json", input="conv2d 8 k=5"))["output"] == [8, 24, 24]


def test_file(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("input 3x32x32\n# stem\nconv2d 16 k=3 p=1\nmaxpool k=2 | relu\n")
    data = json.loads(ok(["-f", str(spec), "-o", "json"]))
    assert data["output"] == [16, 16, 16]
    assert [layer["spec"] for layer in data["layers"]] == [
        "conv2d 16 k=3 p=1",
        "maxpool k=2",
        "relu",
    ]


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            "-i 3x5x5 conv2d 64 k=9 p=1",
            1,
            "layer 1 (conv2d 64 k=9 p=1): kernel 9 is larger than the padded input 7 (5 + 2·1)",
        ),
        ("-i 3x5x5 conv2 64 k=3", 2, "unknown layer kind 'conv2'; did you mean 'conv2d'?"),
        (
            "-i 3x0x5 conv2d 4 k=3",
            2,
            "-i/--input '3x0x5': every size in a shape must be at least 1",
        ),
        ("conv2d 4 k=3", 2, "no input shape"),
        ("-i 3x8x8", 2, "no layers given"),
        ("-i 3x8x8 -o xml conv2d 4 k=3", 2, "'xml' is not one of"),
        ("-i 3x8x8 --batch 0 conv2d 4 k=3", 2, "--batch"),
        ("-i 3x8x8 --fromat json conv2d 4 k=3", 2, "--format"),
        ("-i 3x8x8 -f /nonexistent/net.spec", 2, "/nonexistent/net.spec: no such file"),
        ("-i 3x8x8 -f net.spec -", 2, "(with -f, give further layers as words)"),
        ("-i 3x8x8 conv2d 4 k=3 -", 2, "'-' reads the chain from stdin and must be the only"),
    ],
)
def test_errors(args: str, code: int, message: str) -> None:
    result = run(args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.startswith("convcalc: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_error_has_a_caret() -> None:
    result = run("-i 3x8x8 conv2d 4 k=3 maxpool k=2 sride=2")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[1] == "  conv2d 4 k=3 maxpool k=2 sride=2"
    assert lines[2] == "                           ^^^^^"


def test_spec_error_in_a_file_has_file_line_column(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("input 3x32x32\nconv2d 16 k=3\n  relu  bachnorm\n")
    result = run(["-f", str(spec)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"convcalc: error: {spec}:3:9: ")
    assert result.stderr.splitlines()[1:] == ["    relu  bachnorm", "          ^^^^^^^^"]


def test_stdin_errors_are_located() -> None:
    result = run("-i 3x8x8 -", input="conv2d 4 k=3\nconv2d 4 k=x\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("convcalc: error: <stdin>:2:")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the spec is empty"),
        (b"  \n\n", "the spec is empty"),
        (b"conv2d 4 k=3 \xff\xfe", "not UTF-8 text (byte 0xff at offset 13)"),
        (b"# only a comment\n", "no layers given"),
    ],
)
def test_unusable_files(tmp_path: Path, content: bytes, message: str) -> None:
    spec = tmp_path / "net.spec"
    spec.write_bytes(content)
    result = run(["-i", "3x8x8", "-f", str(spec)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_a_directory(tmp_path: Path) -> None:
    result = run(["-i", "3x8x8", "-f", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod cannot stop root (CI runs as root), so make the open itself fail.
    spec = tmp_path / "net.spec"
    spec.write_text("conv2d 4 k=3")
    real_open = open

    def deny(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(spec):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", deny)
    result = run(["-i", "3x8x8", "-f", str(spec)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "permission denied" in result.stderr


def test_internal_error_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise convcalc.InternalError("layer 1 (conv2d): internal error; please report it")

    monkeypatch.setattr(cli_module, "analyze", boom)
    result = run("-i 3x8x8 conv2d 4 k=3")
    assert result.exit_code == 70
    assert result.stdout == ""
    assert "internal error" in result.stderr


def test_a_bug_in_the_cli_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.delenv("CONVCALC_DEBUG", raising=False)
    monkeypatch.setattr(cli_module, "analyze", boom)
    result = run("-i 3x8x8 conv2d 4 k=3")
    assert result.exit_code == 70
    assert "internal error: ZeroDivisionError('oops')" in result.stderr


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "analyze", interrupt)
    result = run("-i 3x8x8 conv2d 4 k=3")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_partial_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    buffer.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", buffer)
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=3; conv2d 8 k=9", "3x8x8")
    cli_module._show_partial(info.value, "table", 1, "float32")
    text = buffer.getvalue()
    assert "8×6×6" in text
    assert "conv2d 8 k=9" in text
    assert "error" in text


def test_version_and_help() -> None:
    assert ok("--version").strip() == f"convcalc, version {convcalc.__version__}"
    help_text = ok("--help")
    assert "Examples:" in help_text
    assert "convcalc conv2d k=3 s=2 p=1 d=1 -i 32" in help_text
    assert ok("-h") == help_text


def test_help_gives_the_input_layout_of_every_framework() -> None:
    # -i is channels first under PyTorch and ONNX, channels last under Keras
    for args in ("--help", "--framework keras --help"):
        words = " ".join(ok(args).split())
        assert (
            "-i, --input SHAPE Input shape without the batch: channels first under PyTorch and "
            "ONNX (3x224x224, 16x100), channels last under --framework keras (224x224x3, 100x16)"
        ) in words


# -- real processes ---------------------------------------------------------------------------

PROBE = """
import sys
import time
from convcalc.cli.command import cli
try:
    cli.main(sys.argv[1:], prog_name="convcalc")
except SystemExit:
    pass
sys.stdout.flush()
print("rich" in sys.modules, file=sys.stderr)
"""


def _probe(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "markdown"])
def test_machine_formats_do_not_import_rich(fmt: str) -> None:
    proc = _probe([*SPEC_ARGS, "-o", fmt])
    assert proc.stderr.strip() == "False"
    assert proc.stdout


def test_the_table_does_import_rich() -> None:  # the probe itself works
    assert _probe(SPEC_ARGS).stderr.strip() == "True"


def test_completion_does_not_import_rich() -> None:
    env = {
        "_CONVCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcalc conv2d p",
        "COMP_CWORD": "2",
    }
    proc = _probe([], env)
    assert "plain,p=" in proc.stdout
    assert proc.stderr.strip() == "False"


def convcalc_cmd() -> list[str]:
    return [sys.executable, "-m", "convcalc"]


def test_closed_pipe_is_quiet() -> None:
    spec = "\n".join(["conv2d 8 k=1"] * 20000)
    proc = subprocess.run(
        f"{' '.join(convcalc_cmd())} -i 8x4x4 - -o csv | head -1",
        shell=True,
        input=spec,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout == ",".join(CSV_HEADER) + "\n"
    assert proc.stderr == ""


def test_undecodable_stdin_in_a_process() -> None:
    proc = subprocess.run(
        [*convcalc_cmd(), "-i", "3x8x8", "-"],
        input=b"conv2d 4 k=3\n\x80\x81",
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert (
        proc.stderr.decode()
        == "convcalc: error: <stdin>: not UTF-8 text (byte 0x80 at offset 13)\n"
    )


def test_stdin_pipe_in_a_process(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("conv2d 32 k=3\nrelu\nmaxpool k=2\nflatten\nlinear 10\n")
    proc = subprocess.run(
        f"cat {spec} | {' '.join(convcalc_cmd())} -i 1x28x28 - -o json",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == [10]


def test_batch_reaches_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    real = convcalc.analyze

    def spy(*args: object, **kwargs: object) -> convcalc.Analysis:
        seen.update(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_module, "analyze", spy)
    data = json.loads(ok("-i 3x8x8 conv2d 4 k=3 --batch 16 -o json"))
    assert seen["batch"] == 16
    assert data["memory"]["batch"] == 16


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc")
def test_ctrl_c_while_reading_stdin_in_a_process() -> None:
    # A real SIGINT to a process blocked on stdin: exit 130, nothing else said.
    proc = subprocess.Popen(
        [*convcalc_cmd(), "-i", "3x8x8", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"conv2d 4 k=3\n")
    proc.stdin.flush()
    wchan = Path(f"/proc/{proc.pid}/wchan")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "pipe" not in wchan.read_text():
        time.sleep(0.02)  # until it blocks reading the rest of stdin
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert out == b""
    assert b"Traceback" not in err


# -- words that start with '-' (issue 10, item 1) -----------------------------------------


@pytest.mark.parametrize(
    ("args", "output"),
    [
        ("-i 784 unflatten 1 -1x28x28 -o json", [1, 28, 28]),
        ("-i 3x8x8 pad -1 -o json", [3, 6, 6]),  # a negative pad crops
        ("-o json -i 3x8x8 pad -1", [3, 6, 6]),
        ("pad -1 -i 3x8x8 --format json", [3, 6, 6]),  # options after a negative value
        ("pad -1 -i3x8x8 -ojson", [3, 6, 6]),  # short options with their value attached
        ("-i 3x8x8 -o json -- conv2d 4 k=3", [4, 6, 6]),  # '--' still ends the options
    ],
)
def test_negative_values_belong_to_the_layer(args: str, output: list[int]) -> None:
    assert json.loads(ok(args))["output"] == output


def test_a_negative_channel_count_reaches_convcalcs_own_check() -> None:
    result = run("-i 3x8x8 conv2d -16 k=3")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "convcalc: error: layer 1 (conv2d -16 k=3): out_channels must be positive, got -16"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("-5 conv2d 4 k=3 -i 3x8x8", "No such option '-5'"),  # before the layers: an option
        ("conv2d 4 k=3 -i 3x8x8 --fromat json", "--format"),  # a long option anywhere
    ],
)
def test_options_that_do_not_exist(args: str, message: str) -> None:
    result = run(args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


# -- forgiving formats (item 3) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "first_line"),
    [
        ("-o md", "Input: 3×8×8"),
        ("-o Markdown", "Input: 3×8×8"),
        ("-o JSON", "{"),
        ("--format=CSV", ",".join(CSV_HEADER)),
        ("-o txt", "input 3×8×8"),
        ("-o TSV", "\t".join(CSV_HEADER)),
    ],
)
def test_format_spellings(option: str, first_line: str) -> None:
    assert ok(f"-i 3x8x8 conv2d 4 k=3 {option}").splitlines()[0] == first_line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            "-o jsn",
            "'jsn' is not one of table, json, csv, tsv, markdown, torch, keras, mermaid, dot, tree; did you mean json?",
        ),
        ("-o mardown", "did you mean markdown?"),
        (
            "-o yml",
            "'yml' is not one of table, json, csv, tsv, markdown, torch, keras, mermaid, dot, tree; JSON is valid YAML: -o json",
        ),
        (
            "-o xml",
            "'xml' is not one of table, json, csv, tsv, markdown, torch, keras, mermaid, dot, tree",
        ),
        ("--json", "no such option: --json (the format is an option's value: -o json)"),
        ("--JSON", "-o json"),
        ("--md", "no such option: --md (the format is an option's value: -o markdown)"),
        ("--csv", "-o csv"),
        ("--yaml", "there is no YAML output, but JSON is valid YAML: -o json"),
    ],
)
def test_format_near_misses(args: str, message: str) -> None:
    for where in (f"{args} -i 3x8x8 conv2d 4 k=3", f"-i 3x8x8 conv2d 4 k=3 {args}"):
        result = run(where)
        assert result.exit_code == 2, where
        assert message in result.stderr, (where, result.stderr)
        assert "--version" not in result.stderr
        assert result.stdout == ""


# -- standard input without '-' (item 4) ------------------------------------------------------


def test_piped_stdin_needs_no_dash(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("conv2d 32 k=3\nrelu\nmaxpool k=2\nflatten\nlinear 10\n")
    proc = subprocess.run(
        f"cat {spec} | {' '.join(convcalc_cmd())} -i 1x28x28 -o json",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == [10]


def test_empty_stdin_without_layers() -> None:
    proc = subprocess.run(
        [*convcalc_cmd(), "-i", "3x8x8"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "convcalc: error: no layers given: none on the command line, and standard input is empty"
    )


def test_stdin_errors_without_dash_are_located() -> None:
    result = run("-i 3x8x8", input="conv2d 4 k=3\nconv2d 4 k=x\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("convcalc: error: <stdin>:2:")


# -- a file and layer words together (item 5) --------------------------------------------------


@pytest.fixture
def backbone(tmp_path: Path) -> Path:
    spec = tmp_path / "backbone.spec"
    spec.write_text("# a backbone\ninput 3x32x32\nconv2d 16 k=3 p=1\nbn\nrelu\n")
    return spec


def test_file_then_words(backbone: Path) -> None:
    data = json.loads(ok(["-f", str(backbone), "gap", "flatten", "linear", "10", "-o", "json"]))
    assert [layer["spec"] for layer in data["layers"]] == [
        "conv2d 16 k=3 p=1",
        "bn",
        "relu",
        "gap",
        "flatten",
        "linear 10",
    ]
    assert data["output"] == [10]
    assert data["sources"] == [
        {"from": str(backbone), "first": 1, "last": 3},
        {"from": "the command line", "first": 4, "last": 6},
    ]


def test_the_header_says_where_each_part_came_from(backbone: Path) -> None:
    table = ok(["-f", str(backbone), "gap", "flatten", "linear", "10"])
    assert table.splitlines()[:2] == [
        "input 3×32×32",
        f"layers 1–3 from {backbone}, 4–6 from the command line",
    ]
    markdown = ok(["-f", str(backbone), "gap", "flatten", "linear", "10", "-o", "md"])
    assert f"\n\nLayers 1–3 from {backbone}, 4–6 from the command line.\n\n" in markdown
    alone = ok(["-f", str(backbone), "-o", "json"])
    assert "sources" not in json.loads(alone)


def test_stdin_then_words() -> None:
    out = ok(["-f", "-", "flatten", "linear", "10", "-o", "json"], input="input 3x8x8\ngap\n")
    assert json.loads(out)["sources"][0] == {"from": "<stdin>", "first": 1, "last": 1}


def test_an_error_in_the_words_points_into_the_words(backbone: Path) -> None:
    result = run(["-f", str(backbone), "gap", "flatten", "linear", "10", "sride=2"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        "  gap flatten linear 10 sride=2",
        "                        ^^^^^",
    ]
    assert str(backbone) not in result.stderr
    shape = run(["-f", str(backbone), "maxpool", "k=64"])
    assert shape.exit_code == 1
    assert shape.stderr.startswith("convcalc: error: layer 4 (maxpool k=64)")
    assert str(backbone) not in shape.stderr


def test_an_error_in_the_file_still_names_the_file(backbone: Path) -> None:
    backbone.write_text("input 3x32x32\nconv2d 16 k=3 sride=2\n")
    result = run(["-f", str(backbone), "gap"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"convcalc: error: {backbone}:2:")


def test_a_shape_error_shows_the_offending_line(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("input 3x8x8\nconv2d 4 k=3\nconv2d 4 k=9\n")
    result = run(["-f", str(spec)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"convcalc: error: {spec}:3: layer 2 (conv2d 4 k=9)")
    assert lines[1:] == ["  conv2d 4 k=9", "  ^^^^^^^^^^^^"]


# -- per sample or per batch (item 9) -----------------------------------------------------------


def test_macs_per_sample_and_memory_per_batch_said_once() -> None:
    out = ok([*SPEC_ARGS, "--batch", "32"])
    assert out.count("per sample") == 1
    assert "175,817,984  175.8 M per sample" in out
    assert out.count("batch 32") == 1
    markdown = ok([*SPEC_ARGS, "--batch", "32", "-o", "md"])
    assert markdown.count("per sample") == 1
    assert markdown.count("batch 32") == 1


# -- a closed pipe (item 11) --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "tsv", "markdown"])
def test_closed_pipe_exits_141_in_every_format(fmt: str) -> None:
    rows = 2000 if fmt == "table" else 20000  # far more than a pipe holds
    spec = "\n".join(["conv2d 8 k=1 s=1 p=0 d=1 g=1 bias=true pm=zeros"] * rows)
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"{' '.join(convcalc_cmd())} -i 8x4x4 -o {fmt} | head -1; "
            'echo "status ${PIPESTATUS[0]}" >&2',
        ],
        input=spec,
        capture_output=True,
        text=True,
        check=False,
    )
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr == "status 141\n"


# -- training memory (item 13) ------------------------------------------------------------------


def test_training_memory_in_json() -> None:
    args = "-i 3x32x32 conv2d 16 k=3 p=1 bn relu gap flatten linear 10"
    data = json.loads(ok(f"{args} --optimizer adam --batch 8 --dtype fp16 -o json"))
    from convcalc.network import memory

    analysis = convcalc.analyze(args.split(" ", 2)[2], "3x32x32", batch=8)
    expected = memory.training_memory(
        analysis, 8, "float16", "adam", inference=analysis.memory(8, "float16")
    )
    assert data["training_memory"] == expected.to_dict()
    assert data["training_memory"]["optimizer"] == "adam"
    assert "training_memory" not in json.loads(ok(f"{args} -o json"))


def test_training_memory_in_the_table_and_markdown() -> None:
    args = [*SPEC_ARGS, "--optimizer", "AdamW", "--batch", "32"]
    table = ok(args)
    assert "training" in table
    assert "estimate for adam (batch 32, float32):" in table
    for part in ("gradients", "optimizer state", "activations kept for backward"):
        assert part in table
        assert f"| {part} |" in ok([*args, "-o", "md"])


def test_an_unknown_optimizer() -> None:
    result = run("-i 3x8x8 conv2d 4 k=3 --optimizer adma")
    assert result.exit_code == 2
    assert "'adma' is not one of sgd, momentum, adam; did you mean adam?" in result.stderr


# -- the layer kinds (item 14) ------------------------------------------------------------------


def test_list_layers() -> None:
    out = ok("--list-layers")
    for word in convcalc.REGISTRY:
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", out), word
    assert out.startswith("Convolution:\n")


def test_help_layer() -> None:
    out = ok("--help-layer Conv2d")
    assert out.startswith("conv2d: convolution\n")
    assert "k=" in out
    assert "kernel_size=" in out
    assert "example:" in out


def test_help_layer_of_an_unknown_kind() -> None:
    result = run("--help-layer conv2")
    assert result.exit_code == 2
    assert "unknown layer kind 'conv2'; did you mean 'conv2d'?" in result.stderr


@pytest.mark.parametrize("args", [["--list-layers"], ["--help-layer", "conv2d"]])
def test_the_catalog_does_not_import_rich(args: list[str]) -> None:
    proc = _probe(args)
    assert proc.stderr.strip() == "False"
    assert proc.stdout


# -- examples (item 16) ----------------------------------------------------------------------


def test_every_example_names_its_input() -> None:
    for spec in sorted(EXAMPLES.glob("*.spec")):
        data = json.loads(ok(["-f", str(spec), "-o", "json"]))  # no -i needed
        assert data["layers"], spec
