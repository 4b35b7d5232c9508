"""convcalc in a real pseudo-terminal: the table at several widths (no number or
shape is ever cut), the short usage when nothing is given on a terminal, and zsh
completion typed key by key in an interactive zsh."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import convcalc
from convcalc.formats import text as numbers
from convcalc.formats.report import make_report
from convcalc.formats.rows import totals
from tests.paths import ROOT

VGG = ROOT / "examples" / "vgg16.spec"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")


def run_in_pty(
    argv: list[str], columns: int, env: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal of ``columns`` columns as its stdin,
    stdout and stderr; its exit status and everything it wrote (escapes removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    full_env.update({"TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=ROOT, close_fds=True
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=10)
    return code, ANSI.sub("", b"".join(chunks).decode())


def convcalc_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "convcalc", *args]


VGG_ANALYSIS = convcalc.analyze(VGG.read_text())


@pytest.mark.parametrize("columns", [40, 50, 60, 80])
def test_vgg16_table_never_cuts_a_number(columns: int) -> None:
    code, text = run_in_pty(convcalc_argv("-f", str(VGG)), columns)
    assert code == 0, text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns, text
    assert "…" not in text
    for lay in VGG_ANALYSIS.layers:
        # Each layer's shape, its params (exact or compact) and its MACs, whole.
        out = numbers.shape(lay.output, "×")
        assert re.search(rf"(^|\s){re.escape(out)}(\s|$)", text, re.M), (out, text)
        params = {numbers.exact(lay.params), numbers.compact(lay.params)}
        assert any(p in text for p in params), (lay.spec, text)
        assert numbers.compact(lay.macs) in text
    for total in totals(make_report(VGG_ANALYSIS)):
        assert total.value in text
    assert "138,357,544" in text
    assert "15,470,264,320" in text


def test_columns_decide_the_layout() -> None:
    wide = run_in_pty(convcalc_argv("-f", str(VGG)), 80)[1]
    assert " RF" in wide.splitlines()[1]  # the header of the full table
    assert "2,359,808" in wide  # exact params
    mid = run_in_pty(convcalc_argv("-f", str(VGG)), 60)[1]
    assert " RF" not in mid.splitlines()[1]  # the RF column went first
    assert "2,359,808" in mid  # params still exact
    narrow = run_in_pty(convcalc_argv("-f", str(VGG)), 50)[1]
    assert "2,359,808" not in narrow.split("\n\n")[0]
    assert "2.4 M" in narrow  # then params compact
    stacked = run_in_pty(convcalc_argv("-f", str(VGG)), 40)[1]
    assert "params" not in stacked.splitlines()[1]  # no header row: a layer per two lines
    assert " 1  conv2d 64 k=3 p=1" in stacked


def test_the_columns_variable_is_honoured() -> None:
    """The issue's case: COLUMNS=60 on a wider terminal."""
    code, text = run_in_pty(convcalc_argv("-f", str(VGG)), 120, env={"COLUMNS": "60"})
    assert code == 0
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "2,359,808" in text
    assert "64×224×224" in text


def test_nothing_to_read_on_a_terminal_prints_the_short_usage() -> None:
    code, text = run_in_pty(convcalc_argv("-i", "3x32x32"), 80, timeout=20)
    assert code == 2
    assert "convcalc: error: no layers given" in text
    assert "Usage: convcalc [OPTIONS] [LAYER]..." in text
    assert "Try 'convcalc --help'" in text


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh (apt-get install zsh)")
def test_zsh_adds_no_space_after_a_key(tmp_path: Path) -> None:
    """Keys typed into an interactive zsh: a key= completion takes its value
    straight on; a layer kind is followed by a space."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "convcalc"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m convcalc "$@"\n')
    launcher.chmod(0o755)
    (tmp_path / ".zshrc").write_text(
        "autoload -Uz compinit && compinit -u -D\n"
        'eval "$(convcalc --completion zsh)"\n'
        "PS1='%% '\n"
    )
    env = {
        **os.environ,
        "ZDOTDIR": str(tmp_path),
        "HOME": str(tmp_path),
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "TERM": "xterm",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    proc = subprocess.Popen(
        ["zsh", "-i"], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path
    )
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, timeout: float = 20) -> bytes:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while not re.search(marker, seen) and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return seen

    def typed(keys: str, settle: float = 0.0) -> None:
        os.write(master, keys.encode())
        if settle:
            time.sleep(settle)

    try:
        read_until(b"% ")
        # Tab completes the key; '3' must follow it with no space. Then ^A and a
        # 'print -r --' in front make zsh print the line as completed.
        typed("convcalc conv2d kernel_s\t")
        read_until(b"kernel_size=")
        typed("3 flatt\t")
        read_until(b"flatten")
        time.sleep(0.3)  # let zsh finish inserting the completion's suffix
        typed("X\x01print -r -- \r")
        read_until(rb"\nconvcalc conv2d[^\r\n]*\r\n")  # what print printed
        typed("exit\r")
    finally:
        proc.wait(timeout=20)
        os.close(master)
    text = ANSI.sub("", seen.decode(errors="replace"))
    printed = [line for line in text.splitlines() if line.startswith("convcalc conv2d")]
    assert printed == ["convcalc conv2d kernel_size=3 flatten X"], text


def test_the_rows_above_an_error_keep_the_framework_note() -> None:
    # On a terminal the layers that ran are drawn above the error, in the
    # framework's convention: the Keras rows are channels last and say so.
    argv = convcalc_argv(
        "--framework", "keras", "-i", "32x32x3", "Conv2D", "8", "3", "Conv2D", "8", "40"
    )
    code, text = run_in_pty(argv, 100)
    assert code == 1
    assert "input 32×32×3  (keras, channels last)" in text
    assert "30×30×8" in text
    assert "Conv2D: computed output size would be zero or negative" in text
