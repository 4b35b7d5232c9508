"""``--explain`` under ONNX: the arithmetic of its operators (convcalc/onnx/) as
ONNX shape inference does it at the opset in force (docs/frameworks.md#onnx) — Conv with
begin/end pads or SAME_UPPER/SAME_LOWER/VALID, ConvTranspose with output_padding
and output_shape, the pools' C++ truncating division and ceil_mode (a true ceiling
before opset 22; from 22 (room + s − 1)/s, and no window starting in the end
padding), the global pools, Gemm, MatMul, Flatten, and Resize (a float32 scale
multiplied in double and floored: ``⌊100 × float32(0.29)⌋``).

``steps(analysis, row)`` is None for a row that is not an ONNX operator (a graph
operation: explain.py explains those for every framework)."""

from __future__ import annotations

from convcalc.ask.explain.common import (
    Step,
    dim_names,
    dropped_input,
    dropped_window,
    last_axis,
    merged,
    minus,
    one_window,
    pad_split,
    sides,
    spatial,
    window,
)
from convcalc.kinds.onnx.common import OnnxOp, per_axis, resolve_pads, same_pads, window_args
from convcalc.kinds.onnx.conv import Conv, ConvTranspose
from convcalc.kinds.onnx.core import Flatten, Gemm, MatMul, Resize, float32
from convcalc.kinds.onnx.pool import CEIL_RULE, GlobalPool, Pool
from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["steps"]


def steps(analysis: Analysis, row: LayerResult) -> list[Step] | None:
    layer = row.layer
    if isinstance(layer, (Conv, Pool)):
        return _windows(row, layer)
    if isinstance(layer, ConvTranspose):
        return _transposed(row, layer)
    if isinstance(layer, GlobalPool):
        return [one_window(row.index, name, size) for _, name, size, _ in spatial(row)]
    if isinstance(layer, (Gemm, MatMul)):
        return [last_axis(row, layer.out_features, "axis")]
    if isinstance(layer, Flatten):
        return merged(row, row.input, "features", 0)
    if isinstance(layer, Resize):
        return _resize(row, layer, analysis.batch)
    return None


Ints = tuple[int, ...]


def _trunc(a: int, b: int) -> int:
    """C++'s integer division: toward zero."""
    return a // b if a >= 0 else -(-a // b)


def _attrs(row: LayerResult, layer: OnnxOp) -> tuple[int, Ints, Ints, Ints]:
    """n, kernel_shape, strides and dilations, one per spatial axis."""
    n = len(row.input) - 1
    k, s, d = window_args(layer, n)
    return n, k, s, d


def _windows(row: LayerResult, layer: Conv | Pool) -> list[Step]:
    """Conv and MaxPool/AveragePool/LpPool: ⌊(L + begin + end − d·(k−1) − 1)/s⌋ + 1
    (C++ truncates a negative room toward zero in a pool); ceil_mode rounds up; a
    Conv with SAME_* is ⌈L/s⌉, a pool with SAME_* takes the pads that gives."""
    n, k, s, d = _attrs(row, layer)
    pool = isinstance(layer, Pool)
    mode, begins, ends = resolve_pads(layer, layer.pads, layer.auto_pad, n, exclusive=not pool)
    ceil = isinstance(layer, Pool) and layer.ceil_mode
    opset = layer.opset
    out: list[Step] = []
    for i, name, size, o in spatial(row):
        ki, si, di = k[i], s[i], d[i]
        dk = di * (ki - 1) + 1
        notes: list[str] = []
        if mode.startswith("same"):
            pb, pe = same_pads(mode, size, ki, si, di)
            raw = (-(-size // si) - 1) * si + dk - size
            how = f"(⌈{size}/{si}⌉ − 1)·{si} + {dk} − {size}"
            if raw <= 0:
                notes.append(f"auto_pad={mode.upper()} pads nothing: {how} = {minus(raw)}")
            else:
                notes.append(
                    pad_split(f"auto_pad={mode.upper()}", raw, pb, name, mode.upper(), how)
                )
            if not pool:  # shape inference sizes a Conv's SAME_* directly
                out.append(Step(row.index, name, f"⌈{size} / {si}⌉", o, "; ".join(notes)))
                continue
        else:
            pb, pe = begins[i], ends[i]
            if pb != pe:
                lo, hi = sides(name)
                notes.append(f"pads {pb} {lo}, {pe} {hi}")
        padded = f"{size} + {pb} + {pe}" if pb or pe or mode.startswith("same") else str(size)
        inner = window(padded, di, ki, si)
        room = size + pb + pe - dk
        if not ceil:
            if room >= 0:
                expr = f"⌊{inner}⌋ + 1"
                notes.append(dropped_input(name, size, o, si, dk, pb))
            else:
                expr = f"trunc({inner}) + 1"
                notes.append(
                    f"the window {dk} is wider than the padded input {size + pb + pe}: C++'s "
                    f"division truncates {minus(room)}/{si} toward zero"
                )
        elif opset < CEIL_RULE or room >= 0:
            expr = f"⌈{inner}⌉ + 1"
            naive = -(-room // si) + 1
            if opset < CEIL_RULE and (naive - 1) * si >= size + pb:
                notes.append(
                    f"ceil_mode: the last window starts at ({naive}−1)·{si} = {(naive - 1) * si} "
                    f"≥ {size} + {pb}, in the end padding: shape inference keeps it before opset "
                    f"{CEIL_RULE} (onnxruntime drops it)"
                )
        else:
            expr = f"trunc(({padded} − {di}·({ki}−1) − 1 + {si} − 1) / {si}) + 1"
            notes.append(f"ceil_mode from opset {CEIL_RULE}: (room + s − 1)/s, C++'s division")
        if ceil and opset >= CEIL_RULE:
            naive = _trunc(room + si - 1, si) + 1
            if naive != o:
                expr += " − 1"
                notes.append(dropped_window(naive, si, size, pb, "end") + f" (opset ≥ {CEIL_RULE})")
        out.append(Step(row.index, name, expr, o, "; ".join(n for n in notes if n)))
    return out


def _transposed(row: LayerResult, layer: ConvTranspose) -> list[Step]:
    """ConvTranspose: s·(L − 1) + output_padding + d·(k−1) + 1 − begin − end;
    SAME_* take max(dk − s, 0) in all; output_shape gives the size."""
    n, k, s, d = _attrs(row, layer)
    op = per_axis(layer, "output_padding", layer.output_padding, n, 0)
    mode, begins, ends = resolve_pads(layer, layer.pads, layer.auto_pad, n)
    out: list[Step] = []
    for i, name, size, o in spatial(row):
        dk = d[i] * (k[i] - 1) + 1
        natural = s[i] * (size - 1) + op[i] + dk
        if layer.output_shape is not None:
            note = (
                f"given by output_shape; without pads s·(L − 1) + output_padding + dk = {natural}"
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


def _resize(row: LayerResult, layer: Resize, batch: int) -> list[Step]:
    """Resize: ⌊L × float32(scale)⌋ (the product in double), the sizes given, or
    with keep_aspect_ratio_policy one float32 scale for every axis, rounded."""
    full = (batch, *row.input)
    names = ("N", *dim_names(row.input))
    pairs = [(a, v) for a, v in layer.targets(len(full)) if a != 0 and full[a] is not None]
    policy = layer.keep_aspect_ratio_policy
    out: list[Step] = []
    if layer.scales is not None:
        for a, scale in pairs:
            f = float32(scale)
            note = "" if f == scale else f"float32({scale!r}) = {f!r}, times {full[a]} in double"
            out.append(
                Step(
                    row.index,
                    names[a],
                    f"⌊{full[a]} × float32({scale!r})⌋",
                    row.output[a - 1],
                    note,
                )
            )
    elif policy == "stretch":
        out += [
            Step(row.index, names[a], str(int(v)), row.output[a - 1], "sizes given")
            for a, v in pairs
        ]
    else:
        every = layer.targets(len(full))
        ratios = [(v / full[a], f"{int(v)} / {full[a]}") for a, v in every if full[a]]  # type: ignore[operator]
        pick = min if policy == "not_larger" else max
        chosen = pick(ratios, key=lambda r: r[0])[1]
        which = "smallest" if policy == "not_larger" else "largest"
        note = f"{policy}: the {which} of {', '.join(r[1] for r in ratios)}, as a float32"
        for a, _ in pairs:
            expr = f"⌊float32(float32({chosen}) × {full[a]}) + 0.5⌋"
            out.append(Step(row.index, names[a], expr, row.output[a - 1], note))
    return out
