"""A row that reads several tensors (network/operands.py): only a graph with one imports
the module; its receptive field is the union of its operands' (a broadcast gate's left
out), whichever operand is the larger."""

from __future__ import annotations

import subprocess
import sys

import convcalc
from convcalc.network.analysis import ReceptiveField

PROBE = """
import sys, convcalc
convcalc.analyze({spec!r}, (3, 8, 8))
print("convcalc.network.operands" in sys.modules)
"""


def _loads_operands(spec: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(spec=spec)], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip() == "True"


def test_only_a_row_with_several_inputs_imports_the_module() -> None:
    assert not _loads_operands("as x; conv2d 4 k=3 p=1; relu; maxpool k=2")
    assert _loads_operands("as x; conv2d 3 k=3 p=1; relu; add x")


def test_the_field_of_a_merge_is_the_union_of_its_operands() -> None:
    # The named operand (the second) has the larger field: 5 from 2 before, not 3 from 1.
    a = convcalc.analyze(
        "as x; conv2d 3 k=5 p=2; as y; from x; conv2d 3 k=3 p=1; add y", (3, 16, 16)
    )
    assert a.layers[-1].inputs == (2, 1)
    assert a.rf == ReceptiveField((5, 5), (1, 1), (-2, -2))
    assert type(a.rf) is ReceptiveField


def test_a_broadcast_gate_leaves_the_field_of_the_map() -> None:
    a = convcalc.analyze("as x; gap; conv2d 3 k=1; mul x", (3, 16, 16))
    assert a.layers[1].rf == ReceptiveField((16, 16), (16, 16), (0, 0))
    assert a.rf == ReceptiveField((1, 1), (1, 1), (0, 0))
