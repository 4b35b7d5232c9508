"""PyTorch's window arithmetic, written once: the output size along one spatial
dimension of a convolution, a transposed convolution, a pool and a max unpool
(docs/arithmetic.md#shapes). The kinds' shapes (kinds/torch/conv.py, kinds/torch/pool.py)
and the solver's candidates (convcalc.ask.solve, through a kind's ``solve_size``)
both come from here.

And :class:`Solve`, what a kind declares for the solver: which of its arguments are
the searched window keys and how they are searched — or, for a kind without a
window, which argument is its output size (adaptive pooling) or its size and scale
(resampling)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple
from convcalc.errors import LayerError

if TYPE_CHECKING:
    from convcalc.kinds.layer import Layer


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


def one_dim_size(
    layer: Layer,
    values: tuple[Any, ...],
    size: int,
    channels: int | None,
    channels_last: bool,
    axis: tuple[int, int] = (0, 1),
) -> int | None:
    """``layer`` run on one spatial dimension of ``size`` (dimension ``axis[0]`` of
    ``axis[1]``) with the searched keys at ``values`` (in KEYS order; None where the
    kind lacks a key): the output size along it, or None when the layer rejects it
    (Layer.solve_size's default: the kind's own rules, whatever they are)."""
    solve = layer.SOLVE
    assert solve is not None
    fields = dict(layer.__dict__)
    if "dim" in fields:
        fields["dim"] = None  # one dimension, whatever the kind's name says
    i, n = axis
    for name in solve.per_axis:  # cut to the one dimension too
        value = fields.get(name)
        if isinstance(value, tuple) and len(value) == n:
            fields[name] = (value[i],)
    for key, value in zip(KEYS, values):
        attr = solve.attrs.get(key)
        if attr is None or attr not in fields:
            continue
        if fields[attr] is None and value == solve.defaults.get(key):
            continue  # left out stays left out (ONNX: pads beside auto_pad=VALID)
        fields[attr] = _field(value)
    one = type(layer)(**fields)
    shape = (size, channels) if channels_last else (channels, size)
    try:
        out = one.infer(shape, 1)
    except LayerError:
        return None
    return out.shape[0 if channels_last else 1]


def _field(value: Any) -> Any:
    """A searched value as the layer's attribute holds it for one dimension."""
    if value is None or isinstance(value, (str, tuple)):
        return value  # a default, a padding word, or ONNX's (begin, end) pads
    return (value,)
