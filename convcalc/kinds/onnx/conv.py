"""ONNX Conv and ConvTranspose, as ONNX shape inference sizes them (docs/frameworks.md#onnx),
with the nodes the spec does not allow rejected (channels the group does not divide,
pads together with auto_pad, output_padding not below the stride or dilation) and a
size below 1, which onnxruntime refuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, Param
from convcalc.kinds.layer import Out
from convcalc.kinds.onnx.common import (
    AUTO_PAD_PARAM,
    PADS,
    WINDOW_SOLVE,
    OnnxOp,
    WindowOp,
    floor_windows,
    pads_fix,
    per_axis,
    register,
    resolve_pads,
    same_pads,
    spatial,
    too_small,
    window_args,
)
from convcalc.kinds.shapes import Shape, fmt_tuple
from convcalc.kinds.windows import conv_figures

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# The section of --list-layers the module's kinds are listed under.
SECTION = "Convolution"

_M = Param("out_channels", INT, None, positional=True, help="M, W's output channels (default: C)")
_K = Param("kernel_shape", INTS, aliases=("k",), required=True)
_S = Param("strides", INTS, None, aliases=("s",))
_D = Param("dilations", INTS, None, aliases=("d",))
_G = Param("group", INT, 1, aliases=("g",))
_BIAS = Param("bias", BOOL, True, help="the optional input B")


_SOLVE = WINDOW_SOLVE._replace(channels="out_channels")


def _window_args(
    op: Conv | ConvTranspose, shape: Shape
) -> tuple[int, Shape, int | None, int | None, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(n, spatial sizes, C, M, kernel_shape, strides, dilations) of a Conv or
    ConvTranspose node on ``shape``, checked as ONNX checks them."""
    n, sizes = spatial(op, shape)
    cin = shape[0]
    cout = cin if op.out_channels is None else op.out_channels
    if cout is not None and cout <= 0:
        raise LayerError(f"{op.OP}: M (out_channels) must be positive, got {cout}")
    k, s, d = window_args(op, n)
    return n, sizes, cin, cout, k, s, d


def _group(op: OnnxOp, g: int, cin: int | None, cout: int | None) -> None:
    if g <= 0:
        raise LayerError(f"{op.op_name()}: group must be positive, got {g}")
    if cin is not None and cin % g:
        raise LayerError(
            f"{op.op_name()}: the input's {cin} channels are not divisible by group={g}"
        )
    if cout is not None and cout % g:
        raise LayerError(f"{op.op_name()}: {cout} output channels are not divisible by group={g}")


class Conv(WindowOp):
    """Conv: out = ⌊(L + begin + end − dk)/s⌋ + 1; SAME_* ⌈L/s⌉."""

    OP = "Conv"
    PARAMS = (_M, _K, _S, PADS, AUTO_PAD_PARAM, _D, _G, _BIAS)
    SUMMARY = "convolution"
    EXAMPLE = "16 k=3"
    NOTE = (
        "onnxruntime does not run SAME_UPPER or SAME_LOWER with dilations > 1, which the spec "
        "and shape inference allow: convcalc gives shape inference's size."
    )

    out_channels: int | None
    group: int
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, sizes, cin, cout, k, s, d = _window_args(self, shape)
        mode, begins, ends = resolve_pads(self, self.pads, self.auto_pad, n)
        _group(self, self.group, cin, cout)
        out, windows = [], []
        for i, size in enumerate(sizes):
            assert size is not None
            dk = d[i] * (k[i] - 1) + 1
            if mode.startswith("same"):
                pb, pe = same_pads(mode, size, k[i], s[i], d[i])
                o = -(-size // s[i])
            else:
                pb, pe = begins[i], ends[i]
                o = (size + pb + pe - dk) // s[i] + 1
                if o < 1:
                    raise too_small(
                        self,
                        n,
                        i,
                        o,
                        f"⌊({size} + {pb} + {pe} − {dk})/{s[i]}⌋ + 1: the kernel "
                        "does not fit in the padded input",
                    )
            out.append(o)
            windows.append((dk, s[i], pb))
        params, macs = conv_figures(cin, cout, self.group, k, out, self.bias)
        return Out("Conv", (cout, *out), params=params, macs=macs, rf=tuple(windows))

    def explain(self, row: Row) -> list[Step]:
        """ONNX's windows (common.window_steps); SAME_* sizes it ⌈L/s⌉ directly."""
        from convcalc.kinds.onnx.common import window_steps

        return window_steps(row, self, self.pads, self.auto_pad)

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"

    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        return floor_windows(self, shape, out, exclusive=True)

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        return pads_fix(self, shape, dims, short)

    SOLVE = _SOLVE


register(Conv, names={"conv": {"dim": None}, **{f"conv{n}d": {"dim": n} for n in (1, 2, 3)}})


class ConvTranspose(WindowOp):
    """ConvTranspose: out = s·(L − 1) + output_padding + dk − begin − end; SAME_*
    take max(dk − s, 0) in all; output_shape fixes the size (and the pads)."""

    OP = "ConvTranspose"
    PARAMS = (
        _M,
        _K,
        _S,
        PADS,
        AUTO_PAD_PARAM,
        Param("output_padding", INTS, None, aliases=("op",)),
        Param("output_shape", INTS, None, help="the spatial output sizes"),
        _D,
        _G,
        _BIAS,
    )
    SUMMARY = "transposed convolution"
    EXAMPLE = "16 k=2 s=2"
    NOTE = (
        "SAME_* with output_padding: shape inference adds it (onnxruntime gives L·s). An "
        "output_shape below the input's size: shape inference keeps only N×C, convcalc gives "
        "output_shape, as onnxruntime does."
    )

    out_channels: int | None
    output_padding: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    group: int
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, sizes, cin, cout, k, s, d = _window_args(self, shape)
        op = per_axis(self, "output_padding", self.output_padding, n, 0)
        mode, begins, ends = resolve_pads(self, self.pads, self.auto_pad, n)
        _group(self, self.group, cin, cout)
        for i in range(n):
            if not 0 <= op[i] < max(s[i], d[i]):
                raise LayerError(
                    f"ConvTranspose: output_padding {fmt_tuple(op)} must be smaller than the "
                    f"stride or the dilation ({fmt_tuple(s)}, {fmt_tuple(d)})"
                )
            if op[i] >= s[i] and self.output_shape is None:
                # Allowed by the spec when the dilation is larger, but onnxruntime's
                # consistency check (the input size back from the output) then fails.
                raise LayerError(
                    f"ConvTranspose: output_padding {fmt_tuple(op)} is not smaller than the "
                    f"stride {fmt_tuple(s)}: onnxruntime finds the output inconsistent with "
                    "the input (the spec only asks it to be smaller than the dilation)"
                )
        wanted = None
        if self.output_shape is not None:
            wanted = per_axis(self, "output_shape", self.output_shape, n, 0)
        out = []
        for i, size in enumerate(sizes):
            assert size is not None
            dk = d[i] * (k[i] - 1) + 1
            natural = s[i] * (size - 1) + op[i] + dk
            if wanted is not None:
                o = wanted[i]
                # onnxruntime's check: the pads output_shape implies must give back L.
                total = max(natural - o, 0)
                if (o + total - dk) // s[i] + 1 != size:
                    raise LayerError(
                        f"ConvTranspose: output_shape {fmt_tuple(wanted)} does not fit the input "
                        f"{size}: at most {natural + s[i] - 1} (s·(L − 1) + output_padding + dk "
                        f"+ s − 1 = {s[i]}·{size - 1} + {op[i]} + {dk} + {s[i] - 1})"
                    )
            elif mode.startswith("same"):
                o = natural - max(dk - s[i], 0)
            elif mode == "valid":
                o = natural
            else:
                o = natural - begins[i] - ends[i]
            if o < 1:
                raise LayerError(
                    f"ConvTranspose: output size {o} ({s[i]}·({size} − 1) + {op[i]} + {dk} − "
                    f"{begins[i]} − {ends[i]}): a size below 1, which onnxruntime refuses"
                )
            out.append(o)
        params, macs = conv_figures(cin, cout, self.group, k, sizes, self.bias, transposed=True)
        return Out("ConvTranspose", (cout, *out), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """s·(L − 1) + output_padding + d·(k−1) + 1 − begin − end; SAME_* take
        max(dk − s, 0) in all; output_shape gives the size."""
        from convcalc.kinds.explaining import Step, sides, spatial_sizes

        n = len(row.input) - 1
        k, s, d = window_args(self, n)
        op = per_axis(self, "output_padding", self.output_padding, n, 0)
        mode, begins, ends = resolve_pads(self, self.pads, self.auto_pad, n)
        out: list[Step] = []
        for i, name, size, o in spatial_sizes(row):
            dk = d[i] * (k[i] - 1) + 1
            natural = s[i] * (size - 1) + op[i] + dk
            if self.output_shape is not None:
                note = (
                    "given by output_shape; without pads s·(L − 1) + output_padding + dk = "
                    f"{natural}"
                )
                out.append(Step(row.index, name, str(o), o, note))
                continue
            notes = []
            if mode.startswith("same"):
                total = max(dk - s[i], 0)
                crop = f" − {total}"
                notes.append(f"auto_pad={mode.upper()} crops max(dk − s, 0) = {total} in all")
            elif mode == "valid":
                crop = ""
            else:
                crop = f" − {begins[i]} − {ends[i]}"
            if op[i]:
                notes.append(f"output_padding adds {op[i]} at the {sides(name)[1]}")
            expr = f"({size}−1)·{s[i]}{crop} + {d[i]}·({k[i]}−1) + {op[i]} + 1"
            out.append(Step(row.index, name, expr, o, "; ".join(notes)))
        return out

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"

    SOLVE = _SOLVE._replace(
        attrs={**_SOLVE.attrs, "output_padding": "output_padding"},
        defaults={**_SOLVE.defaults, "output_padding": 0},
        per_axis=("output_shape",),
    )


register(
    ConvTranspose,
    names={
        "convtranspose": {"dim": None},
        "deconv": {"dim": None},
        **{f"convtranspose{n}d": {"dim": n} for n in (1, 2, 3)},
    },
)
