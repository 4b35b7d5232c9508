"""What the Keras layer kinds share: their registry, the channels-last layout,
Keras's argument types and its window arithmetic (docs/frameworks.md#keras)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import ANY, BOOL, ArgType, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Entry, Layer, Signature, SpatialLayer
from convcalc.kinds.registry import register as _register
from convcalc.kinds.shapes import (
    RankError,
    Shape,
    Window,
    batch_axis_index,
    fmt_shape,
    fmt_tuple,
    unbatched,
)
from convcalc.language import Value

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# Keras's kinds, by the words that name them (class names lower-cased, and
# convcalc's own short words).
REGISTRY: dict[str, Entry] = {}

# How Keras names the spatial dimensions of a channels-last input.
SPATIAL = {1: ("steps",), 2: ("rows", "cols"), 3: ("dim1", "dim2", "dim3")}
LAYOUT = {1: "steps×channels", 2: "rows×cols×channels", 3: "dim1×dim2×dim3×channels"}


def register(
    cls: type[Layer] | None = None,
    *,
    names: dict[str, dict[str, Any]] | None = None,
    params: tuple[Param, ...] | None = None,
) -> Any:
    """base.register into Keras's registry, each word that is a Keras class name
    (lower-cased) following that class's constructor from the kind's ``KERAS``, the
    other words the one of their dimension (``dwconv2d``: DepthwiseConv2D's), else the
    first of those registered with them (``fc``: Dense's)."""

    def add(klass: type[Layer]) -> type[Layer]:
        words = names if names is not None else klass.NAMES
        sigs = {c: sig for c, sig in klass.KERAS.items() if c.lower() in words}
        _register(
            klass, names=names, params=params, torch=sigs, registry=REGISTRY, framework="Keras"
        )
        for word, fixed in words.items():  # dwconv2d follows DepthwiseConv2D, not 1D
            entry, dim = REGISTRY[word], fixed.get("dim")
            own = next((c for c in sigs if f"{dim}D" in c), None) if dim else None
            if not entry.torch_name and own is not None:
                REGISTRY[word] = entry._replace(torch=sigs[own], torch_class=own)
        return klass

    return add(cls) if cls is not None else add


# Every Keras layer's own keyword arguments (keras.layers.Layer): accepted; none
# changes a figure but trainable, which the graph's word ``frozen`` sets instead.
_LAYER_KWARGS = ("activity_regularizer", "name", "dtype", "autocast", "trainable")
_CHANNELS_LAST = Choice("channels_last")
_FROZEN = (True, "trainable=False: write frozen after the call (Conv2D(…) frozen)")


def _extra_type(name: str) -> ArgType | None:
    """How a Keras argument without effect on any figure is read (None: it has one)."""
    if name == "data_format":
        return _CHANNELS_LAST  # convcalc's Keras is channels last
    if name == "autocast":
        return BOOL
    if name in ("name", "dtype", "seed", "noise_shape") or name.endswith(
        ("_initializer", "_regularizer", "_constraint")
    ):
        return ANY
    return None


def keras_signature(
    *args: str,
    required: int = 0,
    kwonly: tuple[str, ...] = (),
    only: dict[str, tuple[Any, str]] | None = None,
    renames: dict[str, str] | None = None,
    whole: tuple[str, ...] = (),
    extra: dict[str, ArgType] | None = None,
) -> Signature:
    """A Keras constructor (its arguments as ``inspect.signature`` of Keras 3 gives
    them, in order): the initializers, regularizers, constraints, data_format (only
    'channels_last'), seed, name and dtype accepted without effect on the figures,
    trainable only True; ``only``: further arguments accepted at one value only;
    ``extra``: further arguments accepted without effect."""
    kw = (*kwonly, *(k for k in _LAYER_KWARGS if k not in args and k not in kwonly))
    extra = {
        **{n: t for n in (*args, *kw) if (t := _extra_type(n)) is not None},
        **(extra or {}),
    }
    fixed = {"trainable": _FROZEN, **(only or {})}
    return Signature(
        args,
        required,
        kw,
        renames or {},
        extra,
        fixed,
        whole=whole,
    )


class KerasLayer(SpatialLayer):
    """A Keras layer kind; ``CLASS`` is its Keras class name with ``{n}`` for the
    number of spatial dimensions (``Conv{n}D``)."""

    CLASS = ""
    MAX_DIM = 3  # Keras has 1-d, 2-d and 3-d forms of most kinds, of some only two

    def keras_name(self, n: int | None = None) -> str:
        return self.CLASS.format(n=n if n is not None else (self.dim or ""))

    def class_name(self) -> str:
        return self.keras_name()

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "last"


def split(layer: KerasLayer, shape: Shape) -> tuple[int, Shape, int | None]:
    """(n, spatial sizes, channels) of a channels-last input, checked against the
    number of spatial dimensions the kind needs (Keras's InputSpec ndim)."""
    n = len(shape) - 1
    dim = layer.dim
    if dim is None:
        top = layer.MAX_DIM
        if not 1 <= n <= top:
            wanted = ", ".join(LAYOUT[i] for i in range(1, top)) + f" or {LAYOUT[top]}"
            raise LayerError(
                f"{layer.keras_name(0).replace('0', '?')} takes its dimensions from the input, "
                f"which must be {wanted} (channels last); got {fmt_shape(shape)}"
            )
    elif n != dim:
        raise RankError(
            f"{layer.keras_name(dim)} expects a {LAYOUT[dim]} input (ndim={dim + 2} with the "
            f"batch), got {fmt_shape(shape)} (ndim={len(shape) + 1})",
            unbatched(shape, (dim + 1,)),
        )
    return n, shape[:-1], shape[-1]


class PaddingType(Choice):
    """Keras's ``padding``: a word; a number is not a Keras padding."""

    def convert(self, value: Value, source: str) -> str:
        if value.kind not in ("name", "string"):  # padding=same, padding='same'
            from convcalc.errors import SpecError

            raise SpecError(
                f"Keras's padding is one of {', '.join(self.choices)}, not a number: pad "
                "explicitly with a ZeroPadding layer first",
                source=source,
                start=value.start,
                end=value.end,
            )
        return super().convert(value, source)


def padding_param(*words: str) -> Param:
    return Param(
        "padding",
        PaddingType(*words),
        "valid",
        aliases=("p",),
        flags={w: w for w in words},
    )


def positive(name: str, values: tuple[int, ...], what: str = "") -> None:
    """Keras's standardize_tuple: every value > 0."""
    bad = sorted({v for v in values if v <= 0})
    if bad:
        raise LayerError(
            f"{name}={fmt_tuple(values)}: every value must be > 0{what} "
            f"(got {fmt_tuple(tuple(bad))})"
        )


def not_negative(name: str, values: tuple[int, ...]) -> None:
    bad = sorted({v for v in values if v < 0})
    if bad:
        raise LayerError(f"{name}={fmt_tuple(values)}: every value must be >= 0")


def along(n: int, i: int) -> str:
    return "" if n == 1 else f" along {SPATIAL[n][i]}"


def windows(
    name: str,
    spatial: Shape,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: str,
) -> tuple[list[int], tuple[Window, ...]]:
    """Output sizes and receptive-field windows of a Keras convolution or pool:
    ``valid`` ⌊(L − dk)/s⌋ + 1, which must be positive; ``same`` and ``causal``
    ⌈L/s⌉, ``same`` with the odd pad at the end, ``causal`` after dk − 1 zeros on
    the left."""
    n = len(spatial)
    out: list[int] = []
    wins: list[Window] = []
    for i, size in enumerate(spatial):
        assert size is not None
        k, s, d = kernel[i], strides[i], dilation[i]
        dk = d * (k - 1) + 1
        if padding == "valid":
            o = (size - dk) // s + 1
            if o <= 0:
                kernel_text = f"kernel {dk}" if d == 1 else f"dilated kernel {dk} (k={k}, d={d})"
                raise LayerError(
                    f"{name}: computed output size would be zero or negative{along(n, i)}: "
                    f"⌊({size} − {dk})/{s}⌋ + 1 = {o} (padding='valid': the {kernel_text} "
                    f"does not fit in the input {size})"
                )
            left = 0
        elif padding == "causal":  # dk − 1 zeros on the left, then a valid convolution
            o = -(-size // s)
            left = dk - 1
        else:
            o = -(-size // s)
            left = max((o - 1) * s + dk - size, 0) // 2
        out.append(o)
        wins.append((dk, s, left))
    return out, tuple(wins)


def batch_axis(name: str, arg: str, axis: int, shape: Shape) -> int:
    """A Keras axis (the batch is axis 0) as an index into ``shape`` (no batch)."""
    rank = len(shape) + 1
    return batch_axis_index(
        axis,
        rank,
        f"{name}: {arg}={axis} is out of bounds for a {rank}-d input (batch included): "
        f"expected {-rank} to {rank - 1}",
        f"{name}: {arg}={axis} is the batch axis, whose size is not known when the layer is built",
    )


def shape_text(shape: Shape) -> str:
    return fmt_shape(shape)


def window_steps(
    row: Row,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: str,
) -> list[Step]:
    """``--explain`` for a convolution or pool (``windows`` above), per spatial axis:
    valid ⌊(L − d·(k−1) − 1)/s⌋ + 1; same ⌈L/s⌉, the odd pad at the end; causal ⌈L/s⌉
    after d·(k−1) zeros at the start."""
    from convcalc.kinds.explaining import (
        Step,
        dropped_input,
        minus,
        pad_split,
        sides,
        spatial_sizes,
        window,
    )

    k, s, d = kernel, strides, dilation
    out: list[Step] = []
    for i, name, size, o in spatial_sizes(row, last=True):
        dk = d[i] * (k[i] - 1) + 1
        if padding == "valid":
            expr = f"⌊{window(str(size), d[i], k[i], s[i])}⌋ + 1"
            note = dropped_input(name, size, o, s[i], dk, 0)
        elif padding == "causal":
            expr = f"⌈{size} / {s[i]}⌉"
            note = f"padding='causal': {dk - 1} zeros at the {sides(name)[0]} (d·(k−1)), none after"
        else:
            need = (o - 1) * s[i] + dk - size  # Keras's total padding, when positive
            expr = f"⌈{size} / {s[i]}⌉"
            if need <= 0:
                note = (
                    f"padding='same' pads nothing: ({o}−1)·{s[i]} + {dk} − {size} = {minus(need)}"
                )
            else:
                how = f"({o}−1)·{s[i]} + {dk} − {size}"
                note = pad_split("padding='same'", need, need // 2, name, "Keras", how)
        out.append(Step(row.index, name, expr, o, note))
    return out


def valid_windows(
    shape: Shape, out: Shape, args: Callable[[int], tuple[tuple[int, ...], ...]]
) -> list[WindowDim] | None:
    """The windows of a 'valid' convolution or pool on the channels-last ``shape``
    giving ``out`` (``args(n)``: kernel, strides and dilation per axis): 'same' and
    'causal' pad to ⌈L/s⌉, which sees every input; 'valid' floors."""
    from convcalc.kinds.windows import window_dims

    n = len(shape) - 1
    if n < 1 or None in shape[:-1]:
        return None
    k, s, d = args(n)
    return window_dims(shape[:-1], out[:-1], k, s, d, (0,) * n)


def same_fix(layer: Layer, shape: Shape) -> list[FloorFix]:
    """padding='same', sized by the layer itself."""
    from convcalc.kinds.windows import LAST, FloorFix

    out = layer.variant_sizes(shape, LAST, padding="same")
    return [] if out is None else [FloorFix("padding='same'", out)]


class SlidingLayer(KerasLayer):
    """A Keras kind whose windows slide over its input (a convolution, not a transposed
    one, or a pool): it explains them with ``window_steps``, and a 'valid' one answers
    the floor warning with its windows and padding='same' as the fix."""

    padding: str

    def window_args(self, n: int) -> tuple[tuple[int, ...], ...]:
        """(kernel, strides, dilation), one value per spatial axis."""
        raise NotImplementedError

    def explain(self, row: Row) -> list[Step]:
        """Keras's windows (window_steps)."""
        k, s, d = self.window_args(len(row.input) - 1)
        return window_steps(row, k, s, d, self.padding)

    # -- lint (convcalc.ask.lint)
    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        if self.padding != "valid":
            return None
        return valid_windows(shape, out, self.window_args)

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        return same_fix(self, shape)
