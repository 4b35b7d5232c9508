"""Sliding windows as the warnings see them (convcalc.ask.lint): a windowed kind's
windows along each spatial axis (``Layer.windows``, ``Layer.floor_windows``), which
input rows they never reach, and the fixes that reach them (``Layer.floor_fixes``),
each fix's sizes computed by the kind's own shape code. Framework-neutral: each
framework's kinds say how their arguments and padding give the windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple
from convcalc.errors import LayerError

if TYPE_CHECKING:
    from convcalc.kinds.layer import Layer, Shape

__all__ = [
    "FloorFix",
    "WindowDim",
    "covers",
    "padding_fix",
    "torch_windows",
    "unseen",
    "variant",
    "window_dims",
]

FIRST = slice(1, None)  # the spatial axes of a channels-first shape
LAST = slice(None, -1)  # those of a channels-last one


class WindowDim(NamedTuple):
    """A layer's windows along one spatial axis: the input size, the output size, the
    kernel, the stride, the padding before the first window, the dilation and the
    effective kernel d·(k − 1) + 1."""

    size: int
    out: int
    k: int
    s: int
    left: int
    d: int
    dk: int


class FloorFix(NamedTuple):
    """A setting that makes the windows reach the end of the input, in the kind's own
    words (``ceil=true``, ``padding='same'``, ``pads=0,0,1,1``), and the spatial output
    sizes the layer has with it."""

    setting: str
    sizes: Sequence[int]


def covers(size: int, o: int, s: int, left: int, dk: int) -> bool:
    """Whether ``o`` windows of stride ``s`` reach the last of ``size`` inputs."""
    return (o - 1) * s - left + dk - 1 >= size - 1


def unseen(dims: Sequence[WindowDim]) -> list[tuple[int, int, int]]:
    """(axis, size, how many) for each axis whose last inputs no window reaches. Windows
    narrower than their stride skip inputs everywhere: not the floor's doing, left out."""
    found = []
    for i, w in enumerate(dims):
        missed = w.size - 1 - ((w.out - 1) * w.s - w.left + w.dk - 1)
        if missed > 0 and w.dk >= w.s:
            found.append((i, w.size, missed))
    return found


def window_dims(
    sizes: Sequence[int | None],
    outs: Sequence[int | None],
    k: Sequence[int],
    s: Sequence[int],
    d: Sequence[int],
    left: Sequence[int],
) -> list[WindowDim] | None:
    """The windows of per-axis arguments over known spatial ``sizes`` giving ``outs``;
    None when a size is not known."""
    n = len(sizes)
    if n < 1 or None in sizes or None in outs or len(outs) != n:
        return None
    return [
        WindowDim(sizes[i], outs[i], k[i], s[i], left[i], d[i], d[i] * (k[i] - 1) + 1)  # type: ignore[arg-type]
        for i in range(n)
    ]


def _per_dim(values: Any, n: int) -> tuple[Any, ...]:
    if not isinstance(values, tuple):
        return (values,) * n
    return values * n if len(values) == 1 else values


def torch_windows(
    shape: Shape,
    out: Shape,
    kernel: tuple[int, ...],
    stride: tuple[int, ...] | None,
    dilation: tuple[int, ...],
    padding: tuple[int, ...] | str,
) -> list[WindowDim] | None:
    """The windows of a PyTorch convolution or pool on the C×spatial ``shape`` giving
    ``out``: the stride defaults to the kernel, ``padding='same'`` puts half the
    dilated kernel before the first window (the odd pad goes at the end)."""
    n = len(shape) - 1
    if n < 1 or any(v is None for v in shape[1:]):
        return None
    k = _per_dim(kernel, n)
    s = k if stride is None else _per_dim(stride, n)
    d = _per_dim(dilation, n)
    dims = []
    for i in range(n):
        dk = d[i] * (k[i] - 1) + 1
        if padding == "same":
            left = (dk - 1) // 2
        elif padding == "valid":
            left = 0
        else:
            left = _per_dim(padding, n)[i]
        size, o = shape[i + 1], out[i + 1]
        assert size is not None and o is not None
        dims.append(WindowDim(size, o, k[i], s[i], left, d[i], dk))
    return dims


def padding_fix(
    dims: Sequence[WindowDim],
    short: Sequence[int],
    sizes: Callable[[tuple[int, ...]], Sequence[int] | None],
    word: str = "p",
) -> FloorFix | None:
    """The least padding, on both sides of the ``short`` axes (1 to 7 more), after
    which their windows reach the end. ``sizes``: the kind's own output sizes for one
    padding per axis, None if the kind refuses it. Written ``p=2`` (``p=1,2``
    when the axes differ)."""
    for extra in range(1, 8):
        pads = tuple(w.left + extra if i in short else w.left for i, w in enumerate(dims))
        out = sizes(pads)
        if out is None:
            continue
        if all(covers(dims[i].size, out[i], dims[i].s, pads[i], dims[i].dk) for i in short):
            text = str(pads[0]) if len(set(pads)) == 1 else ",".join(map(str, pads))
            return FloorFix(f"{word}={text}", out)
    return None


def variant(layer: Layer, shape: Shape, space: slice, **changes: Any) -> tuple[int, ...] | None:
    """The spatial output sizes (``space`` of the output shape) of ``layer`` with
    ``changes`` on ``shape``, by its own ``infer``; None if the kind rejects it or a
    size is not known."""
    try:
        out = type(layer)(**{**layer.__dict__, **changes}).infer(shape, 1).shape[space]
    except LayerError:
        return None
    return None if None in out else out  # type: ignore[return-value]
