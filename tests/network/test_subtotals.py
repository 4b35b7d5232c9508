"""Block instances' subtotals (network/subtotals.py): made only for a spec that
instantiates a block, which alone imports the module; their JSON shows a layer's figures
in a layer's order; BlockResult is still importable from network/analysis.py."""

from __future__ import annotations

import subprocess
import sys

import convcalc
from convcalc.network import analysis, subtotals

PROBE = """
import sys, convcalc
a = convcalc.analyze({spec!r}, (3, 8, 8))
a.to_dict(depth=0)
print("convcalc.network.subtotals" in sys.modules)
"""


def _loads_subtotals(spec: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(spec=spec)], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip() == "True"


def test_only_a_spec_with_blocks_imports_the_module() -> None:
    assert not _loads_subtotals("as x; conv2d 3 k=3 p=1; relu; add x")
    assert _loads_subtotals("block b C; conv2d C k=3; relu; end; b 4")


def test_a_block_row_shows_the_figures_of_a_layer_row_in_their_order() -> None:
    a = convcalc.analyze("block b C; conv2d C k=3; relu; end; b 4; b 5", (3, 8, 8))
    assert all(isinstance(b, subtotals.BlockResult) for b in a.blocks)
    layer = list(a.layers[0].to_dict())
    block = list(a.blocks[0].to_dict())
    figures = ["input", "output", "params", "trainable", "buffers", "macs"]
    assert [k for k in layer if k in figures] == figures
    assert [k for k in block if k in figures] == figures
    assert a.blocks[0].to_dict()["params"] == a.layers[0].params
    assert [r.is_block for r in a.rows(0)] == [True, True]


def test_blockresult_is_still_importable_from_the_engine() -> None:
    from convcalc.network.analysis import BlockResult

    assert BlockResult is subtotals.BlockResult
    assert "BlockResult" in analysis.__all__
