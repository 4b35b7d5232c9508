"""language/calls.py, PyTorch's call syntax and parenthesised tuples, loads only when a
spec holds one: a chain of plain words (the command line's) never imports it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from convcalc.language import LayerStmt, parse
from tests.paths import ROOT

PROBE = """
import sys
from convcalc.language import parse
parse(sys.argv[1], {"conv2d", "maxpool", "layernorm"})
print("convcalc.language.calls" in sys.modules)
"""


@pytest.mark.parametrize(
    ("spec", "loaded"),
    [
        ("conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1", False),
        ("input 3x32x32\nconv2d 8 k=3,3 # a comment\nmaxpool k=2 | layernorm 8", False),
        ("nn.Conv2d(3, 64, 7)", True),
        ("layernorm (4, 8)", True),
        ("layernorm [\n4, 8]", True),
    ],
)
def test_the_call_syntax_loads_only_for_a_call_or_a_tuple(spec: str, loaded: bool) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, spec],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert proc.stdout.strip() == str(loaded)


def test_a_statement_spanning_lines_is_titled_on_one_line() -> None:
    source = "Conv2d(  # stem\n  3, 64,\n  kernel_size=( 7, 7 ),\n) x2\nlayernorm [\n 4, 8 ]"
    call, norm = parse(source, {"conv2d", "layernorm"}).statements
    assert isinstance(call, LayerStmt) and isinstance(norm, LayerStmt)
    assert call.text == "Conv2d(3, 64, kernel_size=(7, 7),) x2"
    assert norm.text == "layernorm [4, 8]"
    assert [(a.key, a.value.kind) for a in call.args] == [
        (None, "int"),
        (None, "int"),
        ("kernel_size", "tuple"),
        (None, "name"),
    ]
    assert (call.call, call.inside) == ("Conv2d", 3)
