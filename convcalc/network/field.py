"""The receptive field of a whole network against its input: what ``--rf`` sums up.

``field(analysis) -> Field | None``
    The field of the network's output row, or — when that row has none, because the
    field is not tracked past a transposed convolution, an upsample, a flatten, … —
    the field of the last row that has one, with the row where tracking stops. None
    when no row has a field (a network without spatial layers).

``Field.text()`` is the one-line summary, e.g. "the output sees 435×435 of a 224×224
input", followed by how many output positions see the whole input when the field
is at least as large as the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from convcalc.network.analysis import Analysis, LayerResult, ReceptiveField

__all__ = ["Field", "field"]


class Field(NamedTuple):
    """The receptive field of row ``row`` (the network's output row when ``final``)."""

    row: int
    spec: str
    final: bool
    size: tuple[int, ...]
    stride: tuple[int, ...]
    start: tuple[int, ...]
    input: tuple[int, ...]  # the input's spatial sizes
    # Output positions of that row whose field holds the whole input: "all", "some",
    # "none", or "" when the row's output has no spatial layout to count them in.
    whole: str
    stop: tuple[int, str] | None  # the first later row without a field: (row, spec)

    def text(self, sep: str = "×") -> str:
        def dims(values: Sequence[int]) -> str:
            return sep.join(map(str, values))

        long = "-long" if len(self.input) == 1 else ""
        sees = f"sees {dims(self.size)} of a {dims(self.input)}{long} input"
        if self.final:
            out = f"the output {sees}"
        else:
            out = f"the output of layer {self.row} ({self.spec}) {sees}"
        if self.whole == "all":
            out += "; every output position sees all of it"
        elif self.whole == "some":
            out += "; some output positions see all of it, those near the edges do not"
        if self.stop is not None:
            out += f"; the field is not tracked past layer {self.stop[0]} ({self.stop[1]})"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "final": self.final,
            "size": list(self.size),
            "stride": list(self.stride),
            "start": list(self.start),
            "input": list(self.input),
            "whole_input": self.whole or None,
            "stopped_at": None if self.stop is None else self.stop[0],
            "summary": self.text(),
        }


def field(analysis: Analysis) -> Field | None:
    """The network's receptive field against its input (see the module docstring)."""
    rows = analysis.layers
    if not rows or analysis.result == 0:
        return None
    last = analysis.result if analysis.result > 0 else len(rows)
    found: LayerResult | None = None
    for row in reversed(rows[:last]):
        if row.rf is not None:
            found = row
            break
    if found is None or found.rf is None:
        return None
    rf = found.rf
    spatial = tuple(v for v in analysis.input[1:] if v is not None)
    if len(spatial) != len(rf.size):  # pragma: no cover - the engine tracks the input's dims
        return None
    stop = None
    if found.index != last:
        after = next((r for r in rows[found.index : last] if r.rf is None), None)
        if after is not None:
            stop = (after.index, after.spec)
    return Field(
        found.index,
        found.spec,
        found.index == last,
        rf.size,
        rf.stride,
        rf.start,
        spatial,
        _whole(rf, spatial, found.output),
        stop,
    )


def _whole(rf: ReceptiveField, sizes: tuple[int, ...], output: Sequence[int | None]) -> str:
    """Whether all, some or none of the output positions see the whole input: position
    i of a dimension sees [start + i·stride, start + i·stride + size − 1]."""
    positions = output[1:]
    if len(positions) != len(sizes) or any(n is None for n in positions):
        return ""
    every = some = True
    for size, stride, start, length, n in zip(rf.size, rf.stride, rf.start, sizes, positions):
        assert n is not None
        # the first position i whose field reaches the last input index, and the last
        # one whose field begins at or before index 0
        lo = max(0, -((start + size - length) // stride))
        hi = min(n - 1, -start // stride) if start <= 0 else -1
        some = some and lo <= hi
        every = every and lo == 0 and hi == n - 1
    return "all" if every else ("some" if some else "none")
