"""PyTorch's window arithmetic, written once: the output size along one spatial
dimension of a convolution, a transposed convolution, a pool and a max unpool
(docs/arithmetic.md#shapes). The kinds' shapes (kinds/torch/conv.py, pool.py and theirs)
and the solver's candidates (convcalc.ask.solve, through a kind's ``solve_size``)
both come from here.

And :class:`Solve`, what a kind declares for the solver: which of its arguments are
the searched window keys and how they are searched — or, for a kind without a
window, which argument is its output size (adaptive pooling) or its size and scale
(resampling).

And the windows as the warnings see them (convcalc.ask.lint): a windowed kind's
windows along each spatial axis (``Layer.windows``, ``Layer.floor_windows``), which
input rows they never reach, and the fixes that reach them (``Layer.floor_fixes``),
each fix's sizes computed by the kind's own shape code. Framework-neutral: each
framework's kinds say how their arguments and padding give the windows."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from convcalc._records import NamedTuple
from convcalc.kinds.shapes import Shape, per_dim, prod


def dilated(k: int, d: int) -> int:
    """The extent of a kernel of ``k`` taps ``d`` apart: d·(k − 1) + 1."""
    return d * (k - 1) + 1


def same_pads(k: int, d: int) -> tuple[int, int]:
    """PyTorch's padding='same' (stride 1): the odd extra pad at the end
    (right/bottom), like TF's SAME."""
    total = dilated(k, d) - 1
    return total // 2, total - total // 2


def conv_size(size: int, k: int, s: int, left: int, right: int, d: int) -> int:
    """A convolution's output size: ⌊(L + pL + pR − d·(k − 1) − 1)/s⌋ + 1 (the
    caller checks that the kernel fits in the padded input)."""
    return (size + left + right - dilated(k, d)) // s + 1


def transposed_size(size: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """A transposed convolution's output size: (L − 1)·s − 2p + d·(k − 1) + op + 1."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_figures(
    cin: int | None,
    cout: int | None,
    groups: int | None,
    k: Sequence[int],
    positions: Sequence[int | None],
    bias: bool,
    transposed: bool = False,
) -> tuple[int | None, int | None]:
    """(parameters, MACs) of a grouped convolution, in any framework: its weight, out ×
    in/groups × ∏k (in × out/groups × ∏k when ``transposed``), and a bias per output
    channel; each weight used once at every one of ``positions`` (a convolution's
    outputs, a transposed one's inputs: docs/arithmetic.md#macs). None: unknown."""
    if cin is None or cout is None or groups is None:
        return None, None
    fan = cin * (cout // groups) if transposed else cout * (cin // groups)
    weights = fan * math.prod(k)
    macs = prod(positions)
    return weights + (cout if bias else 0), None if macs is None else weights * macs


def pool_output(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """A pool's output size, as aten's pooling_output_shape computes it."""
    dk = dilated(k, d)
    out = (size + 2 * p - dk + (s - 1 if ceil else 0)) // s + 1
    # ceil_mode keeps a window that runs off the right edge but not one that would
    # START in the right padding: the last window must begin inside input or left pad.
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def unpool_size(size: int, k: int, s: int, p: int) -> int:
    """Max unpooling's output size without output_size: (L − 1)·s + k − 2p."""
    return (size - 1) * s + k - 2 * p


# The keys solve searches, by PyTorch's names, in the order they are reported and
# compared (a kind's ``solve_size`` takes their values in this order).
KEYS = ("kernel_size", "stride", "padding", "dilation", "output_padding")

_NONE: Mapping[str, Any] = MappingProxyType({})


class Probe(NamedTuple):
    """One candidate the solver asks a kind about (``Layer.solve_size``): the searched
    keys' ``values`` (kernel_size, stride, padding, dilation, output_padding, in
    KEYS order; a neutral value for a key the kind lacks) on one spatial dimension
    of ``size`` of an input with ``n`` of them; ``channels`` beside it, first or
    last; ``axis``: which dimension of how many (for the per-dimension arguments
    not searched)."""

    values: tuple[Any, ...]
    size: int
    n: int
    channels: int | None
    channels_last: bool
    axis: tuple[int, int] = (0, 1)


class Solve(NamedTuple):
    """What ``solve`` may search on a kind (``Layer.SOLVE``). A windowed kind's
    searched keys are named as PyTorch names them — kernel_size, stride, padding,
    dilation, output_padding — whatever the kind calls its own arguments."""

    # searched key → the kind's argument (Keras's strides, ONNX's kernel_shape, …)
    attrs: Mapping[str, str] = _NONE
    # searched key (kernel_size aside) → its value when the argument is left out;
    # stride None: the kernel size (a pool's default); output_padding None: left out
    # (Keras)
    defaults: Mapping[str, Any] = _NONE
    words: tuple[str, ...] = ()  # padding words searched besides numbers (the default first)
    numeric_pad: bool = True  # padding takes numbers
    half_pad: bool = False  # padding at most kernel_size // 2 (PyTorch's pools)
    channels: str | None = None  # the argument that sets the output channels
    layer_wide: frozenset[str] = frozenset()  # keys whose word (or None) holds for every dimension
    pads_pairs: bool = False  # per-dimension pads are written as every begin, then every end
    # padding='same' offered beside the numbers, when an even (dilated) kernel leaves
    # no number that keeps the size (PyTorch's Conv)
    same: bool = False
    # a 1-wide kernel's dilation searched only for the output_padding it allows beyond
    # the stride (PyTorch's ConvTranspose: op < max(s, d))
    dilation_for_op: bool = False
    # other per-dimension arguments, not searched (ONNX ConvTranspose's output_shape)
    per_axis: tuple[str, ...] = ()
    # A kind without a window: the argument that is the output's spatial size
    # (adaptive pooling's output_size), solved as the target's sizes …
    output_size: str | None = None
    # … or a resampling kind's (size, scale) arguments, solved as the target's sizes or
    # the shortest scale giving them; size None: whole factors only (Keras's UpSampling)
    resample: tuple[str | None, ...] = ()
    # a scale as the kind holds it (ONNX's scales tensor: a float32); None: as written
    scale_held: Callable[[float], float] | None = None


def one_dim_value(value: Any) -> Any:
    """A searched value as the layer's attribute holds it for one dimension."""
    if value is None or isinstance(value, (str, tuple)):
        return value  # a default, a padding word, or ONNX's (begin, end) pads
    return (value,)


# -- the windows as the warnings see them ----------------------------------------
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
    k = per_dim(kernel, n)
    s = k if stride is None else per_dim(stride, n)
    d = per_dim(dilation, n)
    dims = []
    for i in range(n):
        dk = d[i] * (k[i] - 1) + 1
        if padding == "same":
            left = (dk - 1) // 2
        elif padding == "valid":
            left = 0
        else:
            left = per_dim(padding, n)[i]
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
