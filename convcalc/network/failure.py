"""The ShapeError of a layer that a network cannot run: the reason, the block
instances the layer sits in, the rows before it and where its statement stands.
network/analysis.py imports it on a failure: a network that runs never does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc.errors import ShapeError
from convcalc.kinds.shapes import fmt_shape

if TYPE_CHECKING:
    from convcalc.kinds import Shape
    from convcalc.network.graph import Graph, Node


def failure(
    reason: str,
    graph: Graph,
    node: Node,
    index: int,
    results: Sequence[Any],  # analysis.py's LayerResults of the rows before it
    shape: Shape,
) -> ShapeError:
    """A ShapeError for ``node``: the layer, the block instances it sits in, the
    rows before it, and where its statement stands."""
    return ShapeError(
        reason,
        index=index,
        text=node.text,
        results=tuple(results),
        input=shape,
        where=_where(graph, node),
        source=graph.source,
        start=node.start,
        end=node.end,
    )


def _where(graph: Graph, node: Node) -> str:
    """' in basic#2 (basic 64)', the block instances a node sits in."""
    if not node.path:
        return ""
    parts = []
    for depth in range(len(node.path), 0, -1):
        instance = graph.instances.get(node.path[:depth])
        label = node.path[depth - 1]
        parts.append(f"{label} ({instance.text})" if instance else label)
    return " in " + " in ".join(parts)


def float_indices(node: Node, made: str, shape: Shape) -> str:
    """Why a kind that reads indices cannot read ``shape``: floats, ``made`` by the
    tensor so named."""
    return (
        f"it looks up integer indices, but its input {fmt_shape(shape)} "
        f"holds floats (made by {made}): only the network's input holds indices, and what "
        f"flatten, unflatten, permute, split and the like make of it; {node.op.READS_INDICES}"
    )


def count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"
