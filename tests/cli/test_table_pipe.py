"""A big table into a pipe whose reader stops early (issue 15, item 3): the first
line reaches the reader while convcalc is still writing, and convcalc then ends
quietly with 141, as in every format (test_command.py)."""

from __future__ import annotations

import subprocess
import sys

SPEC = "conv2d 8 k=1\n" * 20_000  # far more than a pipe holds
COMMAND = f"{sys.executable} -m convcalc -i 8x4x4 -"


def test_the_first_line_reaches_head() -> None:
    proc = subprocess.run(
        ["bash", "-c", f'{COMMAND} | head -1; echo "status ${{PIPESTATUS[0]}}" >&2'],
        input=SPEC,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0  # head's: it had its line
    assert proc.stdout == "input 8×4×4\n"
    assert proc.stderr == "status 141\n"  # and convcalc was told, quietly


def test_the_first_rows_are_read_before_the_last_are_written() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "-i", "8x4x4", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(SPEC)
    proc.stdin.close()
    head = [proc.stdout.readline() for _ in range(4)]
    assert head[0] == "input 8×4×4\n"
    assert head[1].split() == ["#", "layer", "output", "params", "MACs", "RF"]
    assert head[3].split()[:2] == ["1", "conv2d"]
    # The reader leaves with ~20,000 rows unread: convcalc stops at its next block.
    proc.stdout.close()
    assert proc.wait(timeout=120) == 141
    assert proc.stderr.read() == ""
