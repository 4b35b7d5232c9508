"""Helpers for the arithmetic every kind shares: broadcasting per-dimension
arguments, products of sizes, shape text, and the checks PyTorch makes on them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from convcalc.errors import LayerError

# A shape without the batch dimension, channels first. ``None`` is a size that
# is not known (the channel count when the user gave only a spatial size).
Shape = tuple[int | None, ...]

# A layer's effect on the receptive field, per spatial dimension:
# (effective kernel d·(k-1)+1, stride, left padding).
Window = tuple[int, int, int]

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def broadcast(value: Any, n: int) -> Any:
    """A 1-tuple written for every one of ``n`` spatial dimensions as ``n`` values; any
    other value as it is."""
    if isinstance(value, tuple) and len(value) == 1 and n > 1:
        return value * n
    return value


def expand(name: str, values: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """Broadcast a 1-tuple to ``n`` spatial dims; reject other lengths."""
    if len(values) == n:
        return values
    if len(values) == 1:
        return values * n
    raise LayerError(
        f"{name} has {len(values)} values but the input has {n} spatial dimension"
        f"{'s' if n > 1 else ''}"
    )


def prod(values: Iterable[int | None]) -> int | None:
    """Product of sizes; None if any is unknown."""
    out = 1
    for v in values:
        if v is None:
            return None
        out *= v
    return out


def batch_axis_index(axis: int, rank: int, out_of_range: str, is_batch: str) -> int:
    """An axis of a ``rank``-d tensor counting the batch as 0 (negative: from the end)
    as an index into its shape without the batch; raises LayerError with each
    framework's own words, ``out_of_range`` or ``is_batch``."""
    if not -rank <= axis < rank:
        raise LayerError(out_of_range)
    if axis % rank == 0:
        raise LayerError(is_batch)
    return axis % rank - 1


def add_up(values: Sequence[int | None]) -> int | None:
    """Sum of counts; None if any is unknown."""
    known = [v for v in values if v is not None]
    return sum(known) if len(known) == len(values) else None


def fmt_shape(shape: Iterable[int | None]) -> str:
    return "x".join("?" if v is None else str(v) for v in shape)


def fmt_tuple(values: tuple[Any, ...]) -> str:
    return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"


def dim_suffix(n: int, i: int, differs: bool) -> str:
    """' along W' when it matters which spatial dimension failed."""
    if n == 1 or not differs:
        return ""
    return f" along {SPATIAL_NAMES[n][i]}"


class RankError(LayerError):
    """An input of the wrong number of dimensions. ``unbatched``: the shape without its
    leading 1 when that would fit (a batch written into the shape: the engine suggests
    it for the network's input), else None."""

    def __init__(self, message: str, unbatched: Shape | None = None) -> None:
        super().__init__(message)
        self.unbatched = unbatched


def unbatched(shape: Shape, lengths: Iterable[int]) -> Shape | None:
    """``shape`` without a leading 1 if that leaves one of the ``lengths`` wanted."""
    if len(shape) > 1 and shape[0] == 1 and len(shape) - 1 in lengths:
        return shape[1:]
    return None


def rank_error(kind: str, shape: Shape, expected: str) -> RankError:
    """``expected`` lists the layouts taken: "C×H×W", "C, C×L or C×H×W"."""
    lengths = [
        layout.count("×") + 1
        for layout in re.split(r", | or ", expected)
        if re.fullmatch(r"C(×[A-Z])*", layout)
    ]
    return RankError(
        f"{kind} expects a {expected} input, got {fmt_shape(shape)} ({len(shape)} dim"
        f"{'s' if len(shape) != 1 else ''})",
        unbatched(shape, lengths),
    )


def spatial_dims(kind: str, dim: int | None, shape: Shape, lo: int = 1, hi: int = 3) -> int:
    """The number of spatial dims of ``shape`` (C, *spatial) for a layer of ``dim``."""
    n = len(shape) - 1
    if dim is None:
        if n == 0 and lo >= 1:
            size = fmt_shape(shape)
            raise LayerError(
                f"{kind} takes its dimensions from the input, and {size} has no spatial "
                f"dimension: name them ({kind}2d reads {size} as a {size}×{size} map) or give "
                f"the channel count too (3x{size}x{size} for a map, 3x{size} for a sequence)"
            )
        if not lo <= n <= hi:
            want = " or ".join("C×" + "×".join(SPATIAL_NAMES[i]) for i in range(max(lo, 1), hi + 1))
            raise rank_error(kind, shape, want)
        return n
    if n != dim:
        raise rank_error(f"{kind}{dim}d", shape, "C×" + "×".join(SPATIAL_NAMES[dim]))
    return n


def check_positive(name: str, values: tuple[int, ...]) -> None:
    for v in values:
        if v <= 0:
            raise LayerError(f"{name} must be positive, got {fmt_tuple(values)}")


def check_non_negative(name: str, values: tuple[int, ...]) -> None:
    for v in values:
        if v < 0:
            raise LayerError(f"{name} must not be negative, got {fmt_tuple(values)}")


def check_nonempty(kind: str, shape: Shape) -> None:
    """PyTorch's "non-zero size for non-batch dimensions" check: many kernels accept an
    empty batch only."""
    if 0 in shape:
        raise LayerError(
            f"{kind} needs a non-empty input, got {fmt_shape(shape)}: PyTorch accepts an "
            "empty batch only"
        )


# Largest finite float32: PyTorch converts a layer's scalar arguments (an ELU's alpha, a
# pad value) to the tensor's dtype and refuses a finite value beyond its range (an
# infinity passes). convcalc checks against float32, the dtype of the torch vectors.
FLOAT32_MAX = 3.4028234663852886e38


def check_float32(name: str, value: float) -> None:
    if abs(value) > FLOAT32_MAX and value not in (float("inf"), float("-inf")):
        raise LayerError(
            f"{name}={value:g} is beyond float32's range (±{FLOAT32_MAX:.8g}): PyTorch cannot "
            "convert it to the tensor's dtype"
        )


def per_dim(values: Any, n: int) -> tuple[Any, ...]:
    """One value, or a 1-tuple, for every one of ``n`` dimensions; a longer tuple as it is."""
    if not isinstance(values, tuple):
        return (values,) * n
    return values * n if len(values) == 1 else values
