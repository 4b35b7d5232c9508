"""The findings that follow the tensors from the rows that make them to the rows that
read them: an odd size into a stride-2 stage of an encoder–decoder (odd-skip), a map
collapsed to 0 or 1 while later rows still work on it (tiny-map), a branch nothing reads
(side-output). convcalc.ask.lint imports this module only when a network has an
upsampling stage, a collapsed map or a side branch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.ask.lint.findings import LintWarning, fmt, label, names

if TYPE_CHECKING:
    from convcalc.network.analysis import Analysis, LayerResult


def consumers(analysis: Analysis) -> list[list[int]]:
    """For tensor t, the rows that read it."""
    out: list[list[int]] = [[] for _ in range(len(analysis.layers) + 1)]
    for row in analysis.layers:
        for t in row.inputs:
            out[t].append(row.index)
    return out


def odd_skip(
    analysis: Analysis, row: LayerResult, consumers: list[list[int]], decoder: int
) -> list[LintWarning]:
    """odd-skip: ``row`` lies before a row that upsamples; ``decoder`` is the index of
    the first such row (the encoder ends before it)."""
    dims = row.layer.windows(row.input, row.output)
    if dims is None or not row.inputs:
        return []
    source = row.inputs[0]
    named = source == 0 or analysis.layers[source - 1].name is not None
    if not (named or len(consumers[source]) > 1):
        return []
    if source == 0 and len(consumers[0]) < 2:
        return []  # the input: a skip only if something else reads it too
    if any(analysis.layers[j - 1].layer.CROPS_TO_FIT for j in consumers[source]):
        return []  # the skip is cropped to fit (the 2015 U-Net)
    if not any(w.s > 1 and w.size % w.s for w in dims):
        return []
    name = "the input" if source == 0 else (analysis.layers[source - 1].name or f"row {source}")
    factor = _downsampling(analysis, decoder)
    back = fmt([w.out * w.s for w in dims])
    strides = {w.s for w in dims}
    up = f"×{strides.pop()}" if len(strides) == 1 else "by the same strides"
    parts = [f"{fmt(row.output[1:])}, and upsampling {up} gives back {back}"]
    sizes = [v for v in analysis.input[1:] if v is not None]
    hint = ""
    if factor > 1 and sizes:
        base = sizes[0]
        lo, hi = base // factor * factor, -(-base // factor) * factor
        options = " or ".join(str(v) for v in dict.fromkeys((lo, hi)) if v > 0)
        hint = f"an input size divisible by {factor} ({options})"
    return [
        LintWarning(
            row.index,
            "odd-skip",
            f"{label(row)} gets {fmt(row.input[1:])}, not divisible by its stride, in an "
            f"encoder–decoder: it gives {parts[0]}, so the decoder's map will not match the "
            f"skip from {name}",
            (hint + ", or pad the input" if hint else "pad the map to an even size")
            + " (or crop the skip, as the 2015 U-Net does)",
        )
    ]


def _downsampling(analysis: Analysis, decoder: int) -> int:
    """The product of the strides of the encoder (the rows before ``decoder``, the first
    upsampling)."""
    factor = 1
    for row in analysis.layers:
        if row.index == decoder:
            break
        if row.side:
            continue
        dims = row.layer.windows(row.input, row.output)
        if dims:
            factor *= dims[0].s
    return factor


def tiny_map(analysis: Analysis, row: LayerResult, consumers: list[list[int]]) -> list[LintWarning]:
    """tiny-map: ``row`` makes or resizes a map, and leaves a spatial size 0 or 1."""
    shape = row.output
    n = len(shape) - 1
    layer = row.layer
    axes = names(n)
    for i in range(n):
        size, before = shape[i + 1], row.input[i + 1] if len(row.input) == len(shape) else None
        if size is None:
            continue
        if size == 0:
            return [
                LintWarning(
                    row.index,
                    "tiny-map",
                    f"{label(row)} leaves {axes[i]} empty ({fmt(row.input[1:])} → "
                    f"{fmt(shape[1:])})",
                    "use a larger input, or fewer downsampling stages",
                )
            ]
        if size != 1 or before is None or before <= 1 or layer.SIZE_IS_GIVEN:
            continue
        later = _later_spatial_work(analysis, row.index, i + 1, consumers)
        if later is None:
            continue
        return [
            LintWarning(
                row.index,
                "tiny-map",
                f"{label(row)} shrinks {axes[i]} to 1 ({fmt(row.input[1:])} → "
                f"{fmt(shape[1:])}) in the middle of the network: layer {later.index} "
                f"({later.spec}) still works on it ({fmt(later.input[1:])} → "
                f"{fmt(later.output[1:])})",
                "use a larger input, or fewer downsampling stages",
            )
        ]
    return []


def _later_spatial_work(
    analysis: Analysis, index: int, axis: int, consumers: list[list[int]]
) -> LayerResult | None:
    """A row downstream of ``index`` (through map tensors) that still does spatial work
    along ``axis``: a window wider than 1, or a size brought back above 1."""
    rows = analysis.layers
    todo = list(consumers[index])
    seen: set[int] = set()
    while todo:
        j = todo.pop()
        if j in seen:
            continue
        seen.add(j)
        row = rows[j - 1]
        if len(row.output) != len(rows[index - 1].output) or row.layer.BREAKS_MAP:
            continue
        out = row.output[axis]
        if out is not None and out > 1:
            return row
        dims = row.layer.windows(row.input, row.output)
        if dims is not None and dims[axis - 1].dk > 1:
            return row
        todo.extend(consumers[j])
    return None


def side_outputs(analysis: Analysis) -> list[LintWarning]:
    out = []
    for row in analysis.side_outputs:
        if len(row.output) <= 1:
            continue  # an auxiliary head ending in a vector (Inception's AuxLogits)
        name = f" ({row.name})" if row.name else ""
        out.append(
            LintWarning(
                row.index,
                "side-output",
                f"the branch ending at {label(row)}{name} is never used: it is a side output, "
                "which an eval-mode forward pass does not run (its parameters count, its MACs "
                "are left out)",
                "merge it (add, mul, concat) where it belongs, or remove it",
            )
        )
    return out
