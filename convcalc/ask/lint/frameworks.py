"""The window facts lint's ``floor-drop`` check needs, for Keras's and ONNX's kinds,
and the fixes in their own words: Keras's ``padding='same'``, ONNX's ``ceil_mode=1``
or more end ``pads``. Each fix is checked by running the changed layer itself, so
its sizes follow the framework's rules (ONNX's per-opset pooling included).
Imported by convcalc.ask.lint only for a Keras or ONNX analysis."""

from __future__ import annotations

from typing import Any

from convcalc.errors import LayerError
from convcalc.kinds import Layer, Shape
from convcalc.kinds.shapes import expand
from convcalc.network.analysis import LayerResult

__all__ = ["Dims", "fixes", "windows"]

# Per spatial dimension: (L, out, k, s, left pad, d, effective k), as lint's own.
Dims = list[tuple[int, int, int, int, int, int, int]]


def _space(shape: Shape, framework: str) -> Shape:
    return shape[:-1] if framework == "keras" else shape[1:]


def windows(row: LayerResult, framework: str) -> tuple[Dims, Shape, Shape] | None:
    """The windows of a Keras or ONNX convolution or pool whose padding may leave
    the end of its input unseen (Keras's 'valid', ONNX's explicit pads without
    ceil_mode), with its spatial input and output; None for any other row."""
    layer = row.layer
    space_in, space_out = _space(row.input, framework), _space(row.output, framework)
    n = len(space_in)
    if n < 1 or None in space_in or None in space_out or len(space_out) != n:
        return None
    args = _keras(layer, n) if framework == "keras" else _onnx(layer, n)
    if args is None:
        return None
    k, s, d, left = args
    dims: Dims = []
    for i in range(n):
        dk = d[i] * (k[i] - 1) + 1
        dims.append((space_in[i], space_out[i], k[i], s[i], left[i], d[i], dk))  # type: ignore[arg-type]
    return dims, space_in, space_out


def _keras(layer: Layer, n: int) -> tuple[tuple[int, ...], ...] | None:
    from convcalc.kinds.keras.conv import Conv, DepthwiseConv, SeparableConv
    from convcalc.kinds.keras.pool import Pool

    if not isinstance(layer, (Conv, DepthwiseConv, SeparableConv, Pool)):
        return None
    if layer.padding != "valid":  # 'same' and 'causal' pad to ⌈L/s⌉: every input is seen
        return None
    kernel = layer.pool_size if isinstance(layer, Pool) else layer.kernel_size
    k = expand("kernel_size", kernel, n)
    s = k if layer.strides is None else expand("strides", layer.strides, n)
    d = (1,) * n if isinstance(layer, Pool) else expand("dilation_rate", layer.dilation_rate, n)
    return k, s, d, (0,) * n


def _onnx(layer: Layer, n: int) -> tuple[tuple[int, ...], ...] | None:
    from convcalc.kinds.onnx.common import resolve_pads, window_args
    from convcalc.kinds.onnx.conv import Conv
    from convcalc.kinds.onnx.pool import Pool

    if not isinstance(layer, (Conv, Pool)) or getattr(layer, "ceil_mode", False):
        return None
    try:
        mode, begins, _ = resolve_pads(
            layer, layer.pads, layer.auto_pad, n, isinstance(layer, Conv)
        )
        k, s, d = window_args(layer, n)
    except LayerError:  # pragma: no cover - the row ran
        return None
    if mode.startswith("same"):
        return None
    return k, s, d, begins


def _covers(size: int, o: int, s: int, left: int, dk: int) -> bool:
    return (o - 1) * s - left + dk - 1 >= size - 1


def _variant(row: LayerResult, framework: str, **changes: Any) -> tuple[int, ...] | None:
    """The spatial output of the row's layer with ``changes``, or None if the
    framework rejects it."""
    layer = row.layer
    try:
        out = type(layer)(**{**layer.__dict__, **changes}).infer(row.input, 1).shape
    except LayerError:
        return None
    sizes = _space(out, framework)
    return None if None in sizes else sizes  # type: ignore[return-value]


def _fmt(sizes: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in sizes)


def fixes(row: LayerResult, framework: str, dims: Dims, which: list[int]) -> str:
    """What keeps the unseen input, in the framework's words, each fix's sizes from
    the layer itself."""
    found: list[str] = []
    if framework == "keras":
        out = _variant(row, framework, padding="same")
        if out is not None:
            found.append(f"padding='same' keeps it ({_fmt(out)})")
    else:
        found += _onnx_fixes(row, dims, which)
    if not found:
        found.append("an input size that fits the windows, or more padding, keeps it")
    return " or ".join(found)


def _onnx_fixes(row: LayerResult, dims: Dims, which: list[int]) -> list[str]:
    from convcalc.kinds.onnx.pool import Pool

    found = []
    layer = row.layer
    n = len(dims)
    if isinstance(layer, Pool):
        out = _variant(row, "onnx", ceil_mode=True)
        if out is not None and all(
            _covers(size, out[i], s, left, dk)
            for i, (size, _o, _k, s, left, _d, dk) in enumerate(dims)
            if i in which
        ):
            found.append(f"ceil_mode=1 keeps it ({_fmt(out)})")
    begins = [left for _, _, _, _, left, _, _ in dims]
    ends = _ends(layer, n)
    for extra in range(1, 8):
        pads = (*begins, *(e + extra if i in which else e for i, e in enumerate(ends)))
        out = _variant(row, "onnx", pads=pads, auto_pad=None)
        if out is None:
            continue
        if all(
            _covers(size, out[i], s, left, dk)
            for i, (size, _o, _k, s, left, _d, dk) in enumerate(dims)
            if i in which
        ):
            found.append(f"pads={','.join(map(str, pads))} keeps it ({_fmt(out)})")
            break
    return found


def _ends(layer: Layer, n: int) -> list[int]:
    from convcalc.kinds.onnx.common import resolve_pads

    _, _, ends = resolve_pads(layer, layer.pads, layer.auto_pad, n, False)  # type: ignore[arg-type, attr-defined]
    return list(ends)
