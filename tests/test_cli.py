"""The convcalc command through click's CliRunner, plus the few things that
need a real process (stdin, a closed pipe, undecodable bytes, what it imports)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import convcalc
from convcalc import cli as cli_module
from convcalc.cli import cli

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
    assert "| params | 84,618 | 84.6 K · trainable 84,618 |" in out


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
        ("-i 3x8x8 -f - conv2d 4 k=3", 2, "either as words or with -f/--file"),
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


# -- real processes ---------------------------------------------------------------------------

PROBE = """
import sys
import time
from convcalc.cli import cli
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
    assert (
        proc.stdout
        == "index,kind,spec,input,output,params,trainable,buffers,macs,rf_size,rf_stride,rf_start\n"
    )
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
