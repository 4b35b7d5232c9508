"""The findings about the input as written (``-i``): a layout the first layer reads
otherwise than meant (channels-last, channels-first), a lone number read as a square
map (square-input), a batch written in (batch-in-input), two sizes read as C×L
(rank-guess). convcalc.ask.lint checks what every input must pass and imports this
module only for an input that may be one of these.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from convcalc.ask.lint.findings import LintWarning, fmt

if TYPE_CHECKING:
    from convcalc.network.analysis import Analysis, LayerResult


def channels_last(
    analysis: Analysis, first: LayerResult, c: int, middle: list[int | None], last: int
) -> list[LintWarning]:
    """The input ``c``×``middle``×``last``, which looks H×W×C, before ``first``, which
    reads the channels first."""
    shape = analysis.input
    fixed = "x".join(str(v) for v in (last, c, *middle))
    return [
        LintWarning(
            None,
            "channels-last",
            f"the input {fmt(shape)} looks channels-last (H×W×C): convcalc reads it as {c} "
            f"channels of {fmt((*middle, last))} before {first.spec}",
            f"give the channels first: -i {fixed} (or --framework keras for Keras's layout)",
        )
    ]


def channels_first(
    analysis: Analysis, first: LayerResult, c: int, middle: list[int | None], last: int
) -> list[LintWarning]:
    """Keras reads the last axis as the channels: 3x224x224 is a 3×224 map of 224
    (``first`` reads the channels last)."""
    shape = analysis.input
    if c not in (1, 3, 4) or last < 8 or any(v is None or v < 8 for v in middle):
        return []
    fixed = "x".join(str(v) for v in (*middle, last, c))
    return [
        LintWarning(
            None,
            "channels-first",
            f"the input {fmt(shape)} looks channels-first (C×H×W): Keras is channels last "
            f"and reads it as a {fmt((c, *middle))} map of {last} channels before "
            f"{first.spec}",
            f"give the channels last: -i {fixed} (or --framework torch for PyTorch's layout)",
        )
    ]


def square_input(analysis: Analysis, input_text: str) -> list[LintWarning]:
    """``input_text`` is a lone number (``-i 100``)."""
    shape = analysis.input
    if len(shape) < 3 or shape[0] is not None:
        return []
    first = next((r for r in analysis.layers if 0 in r.inputs), None)
    if first is None or not first.layer.grows_maps():
        return []
    n = int(input_text)
    return [
        LintWarning(
            None,
            "square-input",
            f"-i {n} is read as a {fmt(shape[1:])} map of unknown channels before "
            f"{first.spec}, which grows maps",
            f"for a vector of {n} values (a latent code) write -i {n}{'x1' * (len(shape) - 1)}",
        )
    ]


def _input_reader(analysis: Analysis) -> LayerResult | None:
    """The first row that reads the input, past shape-neutral ones (relu before a conv),
    if it takes its number of spatial dimensions from its input (conv, not conv2d)."""
    rows = analysis.layers
    tensor = 0
    while True:
        row = next((r for r in rows if tensor in r.inputs), None)
        if row is None or not getattr(row.layer, "SHAPE_NEUTRAL", False):
            break
        tensor = row.index
    if row is None or not row.layer.RANK_FROM_INPUT or row.layer.spatial_rank() is not None:
        return None
    return row


def _rank_word(analysis: Analysis, row: LayerResult, n: int) -> str | None:
    """The framework's word for ``row``'s kind with ``n`` spatial dimensions (conv →
    conv3d, MaxPool → maxpool2d), if it has one."""
    from convcalc.kinds import frameworks

    registry = frameworks.get(analysis.framework, analysis.opset).registry
    match = re.match(r"[A-Za-z_]\w*", row.spec)
    entry = registry.get(match.group().lower()) if match else None
    if entry is None:
        return None
    wanted = {**entry.fixed, "dim": n}
    same = registry.get(f"{entry.word}{n}d")
    if same is not None and same.cls is entry.cls and same.fixed == wanted:
        return f"{entry.word}{n}d"
    return next(
        (word for word, e in registry.items() if e.cls is entry.cls and e.fixed == wanted), None
    )


def batch_in_input(analysis: Analysis) -> list[LintWarning]:
    """1x3x224x224 before conv: a one-channel 3×224×224 volume, or a batch written in?
    (The input is 1×…, four sizes.)"""
    shape = analysis.input
    row = _input_reader(analysis)
    if row is None:
        return []
    sizes = "x".join(str(v) for v in shape[1:])
    word = _rank_word(analysis, row, 3)
    volume = f"write {word}" if word else "name the dimensions"
    return [
        LintWarning(
            None,
            "batch-in-input",
            f"{row.spec} takes its dimensions from its input and reads {fmt(shape)} as a "
            f"one-channel {fmt(shape[1:])} volume (→ {fmt(row.output)}): a leading 1 is "
            "most likely the batch",
            f"convcalc's -i excludes the batch: write -i {sizes}; to mean a volume, {volume}",
        )
    ]


def rank_guess(analysis: Analysis) -> list[LintWarning]:
    """224x224 before maxpool: C×L (a 1-d pool on 224 channels), or a 224×224 map?
    (The input is two known sizes.)"""
    c, length = analysis.input
    assert c is not None and length is not None
    if c != length and c <= 16:
        return []  # a few channels of a signal (16x100, 1x6): C×L is meant
    row = _input_reader(analysis)
    if row is None:
        return []
    two, one = _rank_word(analysis, row, 2), _rank_word(analysis, row, 1)
    channels = f"give the channels (-i 3x{c}x{length})"
    fix = f"for a {c}×{length} map {channels}"
    if two:
        fix = f"for a {c}×{length} map of unknown channels write {two}, or {channels}"
    if one:
        fix += f"; {one} keeps this reading"
    return [
        LintWarning(
            None,
            "rank-guess",
            f"{row.spec} takes its dimensions from its input and reads {fmt(analysis.input)} "
            f"as C×L, {c} channels of length {length} (1-d → {fmt(row.output)})",
            fix,
        )
    ]
