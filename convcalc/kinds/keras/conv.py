"""Keras's convolutions: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D,
SeparableConv1D/2D, channels last (docs/frameworks.md#keras)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, Param
from convcalc.kinds.keras.common import (
    KerasLayer,
    SlidingLayer,
    along,
    keras_signature,
    not_negative,
    padding_param,
    positive,
    register,
    split,
    windows,
)
from convcalc.kinds.keras.core import ACTIVATION
from convcalc.kinds.layer import Out, Signature
from convcalc.kinds.shapes import Shape, expand, fmt_tuple, prod
from convcalc.kinds.windows import Solve, conv_figures

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Convolution"

_FILTERS = Param("filters", INT, positional=True, required=True, help="output channels")
_K = Param("kernel_size", INTS, aliases=("k",), positional=True, required=True, per_dim=True)
_S = Param("strides", INTS, (1,), aliases=("s",), per_dim=True)
_D = Param("dilation_rate", INTS, (1,), aliases=("d",), per_dim=True)
_BIAS = Param("use_bias", BOOL, True, aliases=("bias",))
_DM = Param("depth_multiplier", INT, 1, aliases=("dm",))
_ACT = Param("activation", ACTIVATION, None, help="applied to the output (shape-neutral)")


def _filters(name: str, filters: int) -> None:
    if filters <= 0:
        raise LayerError(f"{name}: filters must be strictly positive, got {filters}")


def _strided_dilation(name: str, s: tuple[int, ...], d: tuple[int, ...]) -> None:
    if max(s) > 1 and max(d) > 1:
        raise LayerError(
            f"{name}: strides > 1 is not supported together with dilation_rate > 1 "
            f"(strides={fmt_tuple(s)}, dilation_rate={fmt_tuple(d)})"
        )


def _causal(name: str, n: int, padding: str) -> None:
    if padding == "causal" and n != 1:
        raise LayerError(f"{name}: padding='causal' is only for 1-d convolutions (Conv1D)")


class _Convolution(KerasLayer):
    """What Keras's convolutions share: a kernel, strides and a dilation rate per
    spatial axis."""

    dim: int | None
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    dilation_rate: tuple[int, ...]
    use_bias: bool

    def window_args(self, n: int) -> tuple[tuple[int, ...], ...]:
        """(kernel_size, strides, dilation_rate), one value per spatial axis."""
        return (
            expand("kernel_size", self.kernel_size, n),
            expand("strides", self.strides, n),
            expand("dilation_rate", self.dilation_rate, n),
        )


class _Sliding(_Convolution, SlidingLayer):
    """A convolution whose windows slide over its input (not the transposed one)."""


def _positive(k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...]) -> None:
    positive("kernel_size", k)
    positive("strides", s)
    positive("dilation_rate", d)


# What solve searches on a Keras convolution: its padding a word that holds for every
# dimension ('valid', the default, first), as does output_padding left out (None).
_SOLVE = Solve(
    {
        "kernel_size": "kernel_size",
        "stride": "strides",
        "padding": "padding",
        "dilation": "dilation_rate",
    },
    {"stride": 1, "padding": "valid", "dilation": 1},
    words=("valid", "same"),
    numeric_pad=False,
    channels="filters",
    layer_wide=frozenset({"padding", "output_padding"}),
)


_INIT = ("kernel_initializer", "bias_initializer")
_REGS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
_CONSTRAINTS = ("kernel_constraint", "bias_constraint")
# Keras fails on a shorter tuple than its dimensions (standardize_tuple).
_WHOLE = ("kernel_size", "strides", "dilation_rate", "output_padding")


def _keras(
    classes: tuple[str, ...], *args: str, required: int = 2, dims: tuple[int, ...] = (1, 2, 3)
) -> dict[str, Signature]:
    """Keras's constructors ``classes`` (``{n}``: each of ``dims``), each ``args``: one
    Signature per dimension, the class a word such as dwconv2d follows (its own
    dimension's: registry.register matches them by identity)."""
    sigs = {n: keras_signature(*args, required=required, whole=_WHOLE) for n in dims}
    return {c.format(n=n): sigs[n] for c in classes for n in dims}


_TRANSPOSE = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "output_padding",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
    *_INIT,
    *_REGS,
    *_CONSTRAINTS,
)


def _names(
    stem: str, *extra: str, suffix: str = "", ranks: tuple[int, ...] = (1, 2, 3)
) -> dict[str, dict[str, object]]:
    """{conv1d: {dim: 1}, …} for the Keras class name stem and convcalc's spellings."""
    return {f"{word}{n}d{suffix}": {"dim": n} for word in (stem, *extra) for n in ranks}


def _any_rank(*words: str) -> dict[str, dict[str, object]]:
    """Words that take the number of spatial dimensions from the input."""
    return {word: {"dim": None} for word in words}


class Conv(_Sliding):
    """Conv1D/2D/3D: valid ⌊(L − dk)/s⌋ + 1, same and causal ⌈L/s⌉."""

    CLASS = "Conv{n}D"
    PARAMS = (
        _FILTERS,
        _K,
        _S,
        padding_param("valid", "same", "causal"),
        _D,
        Param("groups", INT, 1, aliases=("g",)),
        _BIAS,
        _ACT,
    )
    SUMMARY = "convolution"
    KERAS = _keras(
        ("Conv{n}D", "Convolution{n}D"),
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "groups",
        "activation",
        "use_bias",
        *_INIT,
        *_REGS,
        *_CONSTRAINTS,
    )

    filters: int
    groups: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, cin = split(self, shape)
        name = self.keras_name(n)
        k, s, d = self.window_args(n)
        _causal(name, n, self.padding)
        _filters(name, self.filters)
        g = self.groups
        if g <= 0:
            raise LayerError(f"{name}: the number of groups must be a positive integer, got {g}")
        if self.filters % g:
            raise LayerError(f"{name}: filters={self.filters} is not divisible by groups={g}")
        _positive(k, s, d)
        _strided_dilation(name, s, d)
        if cin is not None and cin % g:
            raise LayerError(f"{name}: the input's {cin} channels are not divisible by groups={g}")
        out, wins = windows(name, spatial, k, s, d, self.padding)
        params, macs = conv_figures(cin, self.filters, g, k, out, self.use_bias)
        return Out(name, (*out, self.filters), params=params, macs=macs, rf=wins)

    EXAMPLE = "16 k=3"

    SOLVE = _SOLVE._replace(words=("valid", "same", "causal"))


register(Conv, names={**_names("conv"), **_names("convolution"), **_any_rank("conv")})


class ConvTranspose(_Convolution):
    """Conv1D/2D/3DTranspose (Keras's deconv_output_length): without output_padding,
    valid L·s + max(dk − s, 0) and same L·s; with it, (L − 1)·s + dk − 2·pad + op,
    pad = dk // 2 for same."""

    CLASS = "Conv{n}DTranspose"
    PARAMS = (
        _FILTERS,
        _K,
        _S,
        padding_param("valid", "same"),
        Param("output_padding", INTS, None, aliases=("op",), per_dim=True),
        _D,
        _BIAS,
        _ACT,
    )
    SUMMARY = "transposed convolution"
    KERAS = {
        **_keras(("Conv{n}DTranspose", "Convolution{n}DTranspose"), *_TRANSPOSE, dims=(1, 2)),
        # Keras's Conv3DTranspose takes data_format before output_padding.
        **_keras(
            ("Conv{n}DTranspose", "Convolution{n}DTranspose"),
            *_TRANSPOSE[:4],
            "data_format",
            "output_padding",
            *_TRANSPOSE[6:],
            dims=(3,),
        ),
    }
    NOTE = (
        "padding='same' gives L·s and crops the extra element at the end (PyTorch's padding "
        "and output_padding crop at the start: the same size, shifted by one pixel). With "
        "output_padding the size is (L − 1)·s + dk % 2 + output_padding, which may be 0: "
        "Keras builds and runs that (an empty tensor), and so does convcalc."
    )

    filters: int
    output_padding: tuple[int, ...] | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, cin = split(self, shape)
        name = self.keras_name(n)
        k, s, d = self.window_args(n)
        op = (
            None
            if self.output_padding is None
            else expand("output_padding", self.output_padding, n)
        )
        _filters(name, self.filters)
        _positive(k, s, d)
        if op is not None:
            not_negative("output_padding", op)
            for i, (o, st) in enumerate(zip(op, s)):
                if o >= st:
                    raise LayerError(
                        f"{name}: output_padding must be strictly less than strides"
                        f"{along(n, i)}: output_padding={fmt_tuple(op)}, strides={fmt_tuple(s)}"
                    )
        _strided_dilation(name, s, d)
        out = []
        for i, size in enumerate(spatial):
            assert size is not None
            dk = d[i] * (k[i] - 1) + 1
            if op is None:
                o = size * s[i] + (max(dk - s[i], 0) if self.padding == "valid" else 0)
            elif self.padding == "valid":
                o = (size - 1) * s[i] + dk + op[i]
            else:
                o = (size - 1) * s[i] + dk % 2 + op[i]
            out.append(o)
        filters = self.filters
        params, macs = conv_figures(cin, filters, 1, k, spatial, self.use_bias, transposed=True)
        return Out(name, (*out, self.filters), params=params, macs=macs, rf=None)

    EXAMPLE = "16 k=2 s=2"

    def explain(self, row: Row) -> list[Step]:
        """Keras's deconv_output_length: without output_padding, valid L·s + max(dk − s, 0)
        and same L·s; with it, (L − 1)·s + dk − 2·pad + output_padding, pad = ⌊dk/2⌋
        for same, 0 for valid."""
        from convcalc.kinds.explaining import Step, sides, spatial_sizes

        n = len(row.input) - 1
        k, s, d = self.window_args(n)
        op = (
            None
            if self.output_padding is None
            else expand("output_padding", self.output_padding, n)
        )
        out: list[Step] = []
        for i, name, size, o in spatial_sizes(row, last=True):
            dk = d[i] * (k[i] - 1) + 1
            reach = str(k[i]) if d[i] == 1 else f"{d[i]}·({k[i]}−1) + 1"  # dk
            kernel = reach if d[i] == 1 else f"({reach})"
            if op is None:
                expr = f"{size}·{s[i]}"
                if self.padding == "same":
                    note = "padding='same': L·s, the extra cropped at the end"
                elif dk > s[i]:
                    expr += f" + ({reach} − {s[i]})"
                    note = "padding='valid': L·s + max(dk − s, 0)"
                else:
                    note = f"padding='valid': L·s + max(dk − s, 0), and dk = {dk} ≤ s adds nothing"
            else:
                pad = f"⌊{kernel} / 2⌋" if self.padding == "same" else "0"
                expr = f"({size}−1)·{s[i]} + {kernel} − 2·{pad} + {op[i]}"
                note = "padding='same' crops ⌊dk/2⌋ on each side" if self.padding == "same" else ""
                if op[i]:
                    note += (
                        "; " if note else ""
                    ) + f"output_padding adds {op[i]} at the {sides(name)[1]}"
            out.append(Step(row.index, name, expr, o, note))
        return out

    SOLVE = _SOLVE._replace(
        attrs={**_SOLVE.attrs, "output_padding": "output_padding"},
        defaults={**_SOLVE.defaults, "output_padding": None},
    )


register(
    ConvTranspose,
    names={
        **_names("conv", suffix="transpose"),
        **_names("convolution", suffix="transpose"),
        **_names("convtranspose", "deconv"),
        **_any_rank("convtranspose", "deconv"),
    },
)


# A depthwise convolution's arguments; a separable one's after its filters.
_DEPTHWISE = (_K, _S, padding_param("valid", "same"), _DM, _D, _BIAS, _ACT)


class _Depthwise(_Sliding):
    """What a depthwise and a separable convolution share: their windows."""

    depth_multiplier: int

    def sized(self, shape: Shape) -> tuple[str, int | None, tuple[int, ...], list[int], Any]:
        """(its name, the input's channels, kernel, output sizes, windows), checked
        as Keras checks them."""
        n, spatial, cin = split(self, shape)
        name = self.keras_name(n)
        k, s, d = self.window_args(n)
        dm = self.depth_multiplier
        if dm <= 0:
            raise LayerError(f"{name}: depth_multiplier must be strictly positive, got {dm}")
        self.check(name)
        _positive(k, s, d)
        out, wins = windows(name, spatial, k, s, d, self.padding)
        return name, cin, k, out, wins

    def check(self, name: str) -> None:
        """What the kind checks after depth_multiplier (the separable one: filters)."""

    def _figures(
        self, weights: int | None, biases: int, positions: Sequence[int | None]
    ) -> tuple[int | None, int | None]:
        """(parameters, MACs): the kernels' ``weights`` (None: unknown) and, with
        use_bias, ``biases``; each weight once at every one of ``positions``."""
        if weights is None:
            return None, None
        params = weights + (biases if self.use_bias else 0)
        return params, weights * prod(positions)  # type: ignore[operator]


class DepthwiseConv(_Depthwise):
    """DepthwiseConv1D/2D: depth_multiplier filters per input channel."""

    CLASS = "DepthwiseConv{n}D"
    MAX_DIM = 2
    PARAMS = _DEPTHWISE
    SUMMARY = "depthwise convolution"
    KERAS = _keras(
        ("DepthwiseConv{n}D",),
        "kernel_size",
        "strides",
        "padding",
        "depth_multiplier",
        "data_format",
        "dilation_rate",
        "activation",
        "use_bias",
        "depthwise_initializer",
        "bias_initializer",
        "depthwise_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "depthwise_constraint",
        "bias_constraint",
        required=1,
        dims=(1, 2),
    )

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name, cin, k, out, wins = self.sized(shape)
        dm = self.depth_multiplier
        cout = None if cin is None else cin * dm
        weights = None if cout is None else prod(k) * cout  # type: ignore[operator]
        params, macs = self._figures(weights, cout or 0, out)
        return Out(name, (*out, cout), params=params, macs=macs, rf=wins)

    def explain(self, row: Row) -> list[Step]:
        """Keras's windows (common.window_steps), and the channels a depth_multiplier
        other than 1 multiplies."""
        from convcalc.kinds.explaining import Step

        out = super().explain(row)
        dm = self.depth_multiplier
        cin, cout = row.input[-1], row.output[-1]
        if dm != 1 and cin is not None:
            out.append(Step(row.index, "C", f"{cin}·{dm}", cout, f"depth_multiplier={dm}"))
        return out

    SOLVE = _SOLVE._replace(channels=None)  # its channels: depth_multiplier per input channel


register(
    DepthwiseConv,
    names={
        **_names("depthwiseconv", "dwconv", ranks=(1, 2)),
        **_any_rank("depthwiseconv", "dwconv"),
    },
)


class SeparableConv(_Depthwise):
    """SeparableConv1D/2D: a depthwise convolution, then a 1×1 convolution to
    ``filters`` channels, with one bias."""

    CLASS = "SeparableConv{n}D"
    MAX_DIM = 2
    PARAMS = (_FILTERS, *_DEPTHWISE)
    SUMMARY = "depthwise separable convolution"
    KERAS = _keras(
        ("SeparableConv{n}D", "SeparableConvolution{n}D"),
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "depth_multiplier",
        "activation",
        "use_bias",
        "depthwise_initializer",
        "pointwise_initializer",
        "bias_initializer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
        "bias_constraint",
        dims=(1, 2),
    )

    filters: int

    def check(self, name: str) -> None:
        _filters(name, self.filters)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name, cin, k, out, wins = self.sized(shape)
        dm = self.depth_multiplier
        weights = None
        if cin is not None:  # the depthwise kernels, then the pointwise ones
            weights = prod(k) * cin * dm + cin * dm * self.filters  # type: ignore[operator]
        params, macs = self._figures(weights, self.filters, out)
        return Out(name, (*out, self.filters), params=params, macs=macs, rf=wins)

    SOLVE = _SOLVE  # its windows explained as a Conv's; the pointwise step sets the channels


register(
    SeparableConv,
    names={
        **_names("separableconv", "separableconvolution", "sepconv", ranks=(1, 2)),
        **_any_rank("separableconv", "sepconv"),
    },
)
