"""A row that reads several tensors (a graph's add, mul, concat…): its operands' shapes
and the labels its errors name them by, and its receptive field, the union of theirs.
network/analysis.py imports it for such a row, and for an error that names a tensor: a
plain chain never does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # (a Protocol is costly to make, and only a type checker reads this one)
    from typing import Protocol

    from convcalc.kinds import Out, Shape
    from convcalc.network.graph import Graph, Node

    class Field(Protocol):
        """A receptive field as this module reads and makes one (analysis.py's
        ReceptiveField: typed structurally, so that this module needs nothing above it)."""

        @property
        def size(self) -> tuple[int, ...]: ...
        @property
        def stride(self) -> tuple[int, ...]: ...
        @property
        def start(self) -> tuple[int, ...]: ...
        def _replace(self: F, *, size: tuple[int, ...], start: tuple[int, ...]) -> F: ...


__all__ = ["infer_many", "label", "merged_field"]

F = TypeVar("F", bound="Field")


def label(graph: Graph, tensor: int) -> str:
    """How an error names a tensor: 'x, layer 4: relu' or 'the input'."""
    name = graph.names.get(tensor)
    if tensor == 0:
        return f"{name}: the input" if name else "the input"
    node = graph.nodes[tensor - 1]
    return f"{name + ': ' if name else ''}layer {tensor}, {node.text}"


def infer_many(node: Node, graph: Graph, shapes: Sequence[Shape], batch: int) -> Out:
    """The output of ``node``, which reads the tensors ``node.inputs`` (``shapes``
    holds every tensor's shape so far, the input's first)."""
    inputs = node.inputs
    return node.op.infer_many(  # type: ignore[attr-defined,no-any-return]
        [shapes[t] for t in inputs], [label(graph, t) for t in inputs], batch
    )


def merged_field(
    node: Node,
    fields: Sequence[F | None],
    shapes: Sequence[Shape],
    channels_last: bool,
) -> F | None:
    """The receptive field of a row that reads several tensors, from theirs (``fields``
    and ``shapes``: every tensor's so far, the input's first)."""
    inputs = node.inputs
    nsp = len(shapes[0]) - 1
    # A broadcast gate (all spatial sizes 1, e.g. squeeze-and-excitation) mixes
    # the whole map, like a norm's statistics: the field is its windows' field.
    spatial = [
        fields[t]
        for t in inputs
        if any(v != 1 for v in (shapes[t][:-1] if channels_last else shapes[t][1:])) or nsp == 0
    ]
    return union(spatial or [fields[t] for t in inputs])


def union(fields: Sequence[F | None]) -> F | None:
    """The receptive field of a merge: the union of its operands' fields, when
    they step through the input alike (else it is not tracked)."""
    first = fields[0]
    if first is None or any(f is None or f.stride != first.stride for f in fields[1:]):
        return None
    lo = [min(f.start[i] for f in fields) for i in range(len(first.start))]  # type: ignore[union-attr]
    hi = [
        max(f.start[i] + f.size[i] for f in fields)  # type: ignore[union-attr]
        for i in range(len(first.start))
    ]
    return first._replace(size=tuple(h - low for h, low in zip(hi, lo)), start=tuple(lo))
