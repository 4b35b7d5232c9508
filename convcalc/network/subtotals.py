"""Block instances' subtotals: a BlockResult for each instance a network runs (the sums of
its rows), and the rows of ``Analysis.rows(depth)`` with the instances nested deeper
than ``depth`` folded into one. network/analysis.py imports it only for a spec that
instantiates a block (``-m resnet50``), and for the folding: a plain chain never does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from convcalc._records import NamedTuple
from convcalc.kinds.shapes import add_up

if TYPE_CHECKING:  # (a Protocol is costly to make, and only a type checker reads this one)
    from typing import Protocol

    from convcalc.kinds import Shape
    from convcalc.network.graph import Graph

    class Row(Protocol):
        """What a block's subtotals read of its rows (analysis.py's LayerResult: typed
        structurally, so that this module needs nothing above it)."""

        @property
        def inputs(self) -> tuple[int, ...]: ...
        @property
        def output(self) -> Shape: ...
        @property
        def params(self) -> int | None: ...
        @property
        def trainable(self) -> int | None: ...
        @property
        def buffers(self) -> int | None: ...
        @property
        def macs(self) -> int | None: ...
        @property
        def side(self) -> bool: ...


__all__ = ["BlockResult", "block_results", "folded"]


class BlockResult(NamedTuple):
    """A block instance's figures: the sums of its rows (a side output's MACs
    excluded, as in the totals)."""

    block: tuple[str, ...]  # its path: the instances it sits in, then its own label
    spec: str  # the instance as written
    first: int  # its first and last rows (1-based)
    last: int
    input: Shape
    output: Shape
    params: int | None
    trainable: int | None
    buffers: int | None
    macs: int | None  # of its rows that eval mode runs (all of them if it is a side output)
    side: bool = False  # the whole instance is on a side output

    @property
    def label(self) -> str:
        return self.block[-1]

    @property
    def is_block(self) -> bool:
        """A folded block instance, not a layer (Analysis.rows mixes them)."""
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "block",
            "block": "/".join(self.block),
            "spec": self.spec,
            "first": self.first,
            "last": self.last,
            # The figures a layer's row shows too (analysis.py's LayerResult.to_dict).
            "input": list(self.input),
            "output": list(self.output),
            "params": self.params,
            "trainable": self.trainable,
            "buffers": self.buffers,
            "macs": self.macs,
            "side": self.side,
        }


def block_results(graph: Graph, shape: Shape, results: Sequence[Row]) -> tuple[BlockResult, ...]:
    """Every block instance's subtotals, in the order their rows start."""
    out = []
    for path, inst in graph.instances.items():
        if inst.last < inst.first:
            continue
        rows = results[inst.first : inst.last + 1]
        first_input = rows[0].inputs[0]
        side = all(r.side for r in rows)
        out.append(
            BlockResult(
                path,
                inst.text,
                inst.first + 1,
                inst.last + 1,
                shape if first_input == 0 else results[first_input - 1].output,
                shape if inst.result == 0 else results[inst.result - 1].output,
                add_up([r.params for r in rows]),
                add_up([r.trainable for r in rows]),
                add_up([r.buffers for r in rows]),
                add_up([r.macs for r in rows if side or not r.side]),
                side,
            )
        )
    out.sort(key=lambda b: (b.first, len(b.block)))
    return tuple(out)


R = TypeVar("R")


def folded(layers: Sequence[R], blocks: Sequence[BlockResult], depth: int) -> list[R | BlockResult]:
    """The rows to show: every layer, but every block instance nested deeper than
    ``depth`` folded into one row (0: top-level blocks)."""
    fold = {b.first: b for b in blocks if len(b.block) == depth + 1}
    out: list[R | BlockResult] = []
    i = 0
    while i < len(layers):
        block = fold.get(i + 1)
        if block is not None and block.last >= block.first:
            out.append(block)
            i = block.last
        else:
            out.append(layers[i])
            i += 1
    return out
