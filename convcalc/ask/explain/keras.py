"""``--explain`` under Keras 3: the arithmetic of its kinds (convcalc/keras/),
channels last, by Keras's rules (docs/frameworks.md#keras) — ``valid`` ⌊(L − dk)/s⌋ + 1,
``same`` and ``causal`` ⌈L/s⌉ with where their padding goes, deconv_output_length,
the pool size as the default stride, global pooling with or without keepdims,
ZeroPadding, Cropping, UpSampling, Flatten, Reshape, Dense and glu.

``steps(analysis, row)`` is None for a row that is not a Keras kind (a graph
operation: explain.py explains those for every framework)."""

from __future__ import annotations

from convcalc.ask.explain.common import (
    Step,
    dim_names,
    dropped_input,
    halved,
    last_axis,
    merged,
    minus,
    one_window,
    pad_split,
    shape_text,
    sides,
    spatial,
    window,
)
from convcalc.kinds.keras.conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv
from convcalc.kinds.keras.core import Activation, Dense
from convcalc.kinds.keras.pool import GlobalPool, Pool
from convcalc.kinds.keras.shape import Cropping, Flatten, Reshape, UpSampling, ZeroPadding
from convcalc.kinds.layer import SPATIAL_NAMES, Layer
from convcalc.kinds.shapes import expand, prod
from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["steps"]


def steps(analysis: Analysis, row: LayerResult) -> list[Step] | None:
    layer = row.layer
    if isinstance(layer, (Conv, DepthwiseConv, SeparableConv, Pool)):
        return _windows(row, layer)
    if isinstance(layer, ConvTranspose):
        return _transposed(row, layer)
    if isinstance(layer, GlobalPool):
        return _global(row, layer)
    if isinstance(layer, (ZeroPadding, Cropping)):
        return _sides(row, layer)
    if isinstance(layer, UpSampling):
        return _upsampling(row, layer)
    if isinstance(layer, Flatten):
        return merged(row, row.input, "features", 0)
    if isinstance(layer, Reshape):
        return _reshape(row, layer)
    if isinstance(layer, Dense):
        return [last_axis(row, layer.units, "axis")]
    if isinstance(layer, Activation):
        return (
            halved(row, dim_names(row.input, last=True), "glu") if layer.activation == "glu" else []
        )
    return None


def _windows(row: LayerResult, layer: Layer) -> list[Step]:
    """Conv, DepthwiseConv, SeparableConv and MaxPooling/AveragePooling (Keras's
    common.windows): valid ⌊(L − d·(k−1) − 1)/s⌋ + 1; same ⌈L/s⌉, the odd pad at
    the end; causal ⌈L/s⌉ after d·(k−1) zeros at the start."""
    n = len(row.input) - 1
    if isinstance(layer, Pool):
        k = expand("pool_size", layer.pool_size, n)
        s = k if layer.strides is None else expand("strides", layer.strides, n)
        d = (1,) * n
    else:
        k = expand("kernel_size", layer.kernel_size, n)  # type: ignore[attr-defined]
        s = expand("strides", layer.strides, n)  # type: ignore[attr-defined]
        d = expand("dilation_rate", layer.dilation_rate, n)  # type: ignore[attr-defined]
    padding = layer.padding  # type: ignore[attr-defined]
    out: list[Step] = []
    for i, name, size, o in spatial(row, last=True):
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
    dm = getattr(layer, "depth_multiplier", 1)
    cin, cout = row.input[-1], row.output[-1]
    if isinstance(layer, DepthwiseConv) and dm != 1 and cin is not None:
        out.append(Step(row.index, "C", f"{cin}·{dm}", cout, f"depth_multiplier={dm}"))
    return out


def _transposed(row: LayerResult, layer: ConvTranspose) -> list[Step]:
    """Keras's deconv_output_length: without output_padding, valid L·s + max(dk − s, 0)
    and same L·s; with it, (L − 1)·s + dk − 2·pad + output_padding, pad = ⌊dk/2⌋
    for same, 0 for valid."""
    n = len(row.input) - 1
    k = expand("kernel_size", layer.kernel_size, n)
    s = expand("strides", layer.strides, n)
    d = expand("dilation_rate", layer.dilation_rate, n)
    op = None if layer.output_padding is None else expand("output_padding", layer.output_padding, n)
    out: list[Step] = []
    for i, name, size, o in spatial(row, last=True):
        dk = d[i] * (k[i] - 1) + 1
        reach = str(k[i]) if d[i] == 1 else f"{d[i]}·({k[i]}−1) + 1"  # dk
        kernel = reach if d[i] == 1 else f"({reach})"
        if op is None:
            expr = f"{size}·{s[i]}"
            if layer.padding == "same":
                note = "padding='same': L·s, the extra cropped at the end"
            elif dk > s[i]:
                expr += f" + ({reach} − {s[i]})"
                note = "padding='valid': L·s + max(dk − s, 0)"
            else:
                note = f"padding='valid': L·s + max(dk − s, 0), and dk = {dk} ≤ s adds nothing"
        else:
            pad = f"⌊{kernel} / 2⌋" if layer.padding == "same" else "0"
            expr = f"({size}−1)·{s[i]} + {kernel} − 2·{pad} + {op[i]}"
            note = "padding='same' crops ⌊dk/2⌋ on each side" if layer.padding == "same" else ""
            if op[i]:
                note += (
                    "; " if note else ""
                ) + f"output_padding adds {op[i]} at the {sides(name)[1]}"
        out.append(Step(row.index, name, expr, o, note))
    return out


def _global(row: LayerResult, layer: GlobalPool) -> list[Step]:
    if layer.keepdims:
        return [one_window(row.index, name, size) for _, name, size, _ in spatial(row, last=True)]
    names = SPATIAL_NAMES.get(len(row.input) - 1, ())
    sizes = row.input[:-1]
    c = row.output[-1]
    note = (
        f"keepdims=False: the {shape_text(sizes)} map is pooled away, "
        f"one value per channel ({'?' if c is None else c})"
    )
    return [Step(row.index, "×".join(names), None, None, note)]


def _sides(row: LayerResult, layer: ZeroPadding | Cropping) -> list[Step]:
    """ZeroPadding adds, Cropping cuts, before and after each spatial axis."""
    pairs = layer.pairs(len(row.input) - 1)
    out: list[Step] = []
    for i, name, size, o in spatial(row, last=True):
        before, after = pairs[i]
        lo, hi = sides(name)
        if isinstance(layer, Cropping):
            expr = f"{size} − {before} − {after}"
            note = f"{before} off the {lo}, {after} off the {hi}"
        else:
            expr, note = f"{size} + {before} + {after}", f"{before} {lo}, {after} {hi}"
        out.append(Step(row.index, name, expr, o, note))
    return out


def _upsampling(row: LayerResult, layer: UpSampling) -> list[Step]:
    f = expand("size", layer.size, len(row.input) - 1)
    return [
        Step(row.index, name, f"{size}·{f[i]}", o, "each repeated")
        for i, name, size, o in spatial(row, last=True)
    ]


def _reshape(row: LayerResult, layer: Reshape) -> list[Step]:
    """The -1 of target_shape: the input's elements over the sizes given."""
    target = layer.target_shape
    if any(v is None for v in row.input):
        return []
    total = "·".join(map(str, row.input))
    if -1 not in target:
        note = f"target_shape {shape_text(target)} holds the input's {total} = {prod(row.input)}"
        return [Step(row.index, "all", None, None, note)]
    j = target.index(-1)
    known = [v for v in target if v != -1]
    if not known:
        expr = total
    else:
        expr = f"{total} / " + (
            f"({'·'.join(map(str, known))})" if len(known) > 1 else str(known[0])
        )
    return [Step(row.index, f"dim {j + 1}", expr, row.output[j], "the -1 size")]
