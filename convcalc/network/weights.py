"""Weights used again: ``use NAME`` applies a layer's weights a second time (its
input must fit them), ``tie=NAME`` makes a layer use another's weight as its own (a
language model's head and its token embedding: counted once). Imported by
network/analysis.py only for a network that does either."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from convcalc.errors import ShapeError
from convcalc.kinds.shapes import fmt_shape
from convcalc.network.failure import count, failure

if TYPE_CHECKING:
    from convcalc.kinds import Layer, Out, Shape
    from convcalc.network.graph import Graph, Node


class Row(Protocol):
    """What these checks read of the row whose weights are used again (analysis.py's
    LayerResult: typed structurally, so that this module needs nothing above it)."""

    @property
    def index(self) -> int: ...
    @property
    def spec(self) -> str: ...
    @property
    def input(self) -> Shape: ...
    @property
    def params(self) -> int | None: ...
    @property
    def layer(self) -> Layer: ...


def reused_elsewhere(
    out: Out,
    node: Node,
    shape: Shape,
    origin: Row,
    graph: Graph,
    index: int,
    results: Sequence[Any],
) -> ShapeError:
    """The error of ``use NAME`` on an input that ``origin``'s weights do not fit: the
    same weights fix the sizes they read (PyTorch: "expected input … to have 16
    channels, but got 8 channels instead")."""
    return failure(
        f"it applies the weights of layer {origin.index} ({origin.spec}) again, made "
        f"for a {fmt_shape(origin.input)} input ({count(origin.params)} params), but "
        f"its input is {fmt_shape(shape)}, which would need {count(out.params)}",
        graph,
        node,
        index,
        results,
        shape,
    )


def tied(
    out: Out,
    node: Node,
    shape: Shape,
    origin: Row,
    graph: Graph,
    index: int,
    results: Sequence[Any],
) -> Out:
    """``out`` of a layer that uses ``origin``'s weight as its own (tie=NAME): the weight
    counted once, at ``origin``; its MACs stay its own. The weights' shapes must agree,
    as PyTorch's ``head.weight = embedding.weight`` needs for the forward pass."""
    mine = node.op.tie_weight(shape)
    theirs = origin.layer.tie_weight(origin.input)
    where = f"layer {origin.index} ({origin.spec})"
    if mine is None or theirs is None:
        whose = "it has" if mine is None else f"{where} has"
        raise failure(
            f"tie= shares a weight, and {whose} no weight of known shape to share",
            graph,
            node,
            index,
            results,
            shape,
        )
    if mine != theirs:
        raise failure(
            f"tie= uses the weight of {where}, of shape {fmt_shape(theirs)}, but its own "
            f"weight would be {fmt_shape(mine)}",
            graph,
            node,
            index,
            results,
            shape,
        )
    weight = 1
    for n in mine:
        weight *= n
    params = None if out.params is None else out.params - weight
    return out._replace(params=params)
