"""Warnings about networks PyTorch accepts but that are probably not what was meant.

``lint(analysis, *, input_text=None) -> list[LintWarning]``
    The findings, in row order (network-wide ones first). ``input_text`` is the input
    shape as the user wrote it (``-i 100``): only with it can a lone number read as a
    square map be told apart from a shape written out.

``lint_error(exc, *, input_text=None) -> list[LintWarning]``
    The same for the rows that ran before a ShapeError: the warnings often say why
    the failing layer failed (an odd size before a U-Net's skip concatenation).

Codes (``LintWarning.code``):

``floor-drop``       a convolution or a floor-mode pool whose windows never reach the last
                     input rows/columns (maxpool k=2 on 55): the fix keeps them
                     (``ceil=true``, more padding).
``channels-last``    an input shaped H×W×C (224x224x3) before a layer that reads channels
                     (PyTorch, ONNX).
``channels-first``   under Keras, an input shaped C×H×W (3x224x224) before a layer that
                     reads its axes (Keras is channels last).
``square-input``     a lone number (``-i 100``) read as a 100×100 map before a layer that
                     grows maps (a transposed conv fed a latent vector: ``-i 100x1x1``?).
``batch-in-input``   an input with a leading 1 (1x3x224x224) that a kind taking its
                     dimensions from the input (conv, maxpool, ONNX's Conv) reads as a
                     one-channel volume: the 1 is most likely the batch.
``rank-guess``       two sizes (224x224) that such a kind reads as C×L (a 1-d layer on 224
                     channels), where a 2-d kind reads them as H×W: when they are equal or
                     the first is above 16 (16x100 is a few channels of a signal).
``linear-on-map``    a linear layer applied to a C×H×W map: it acts on W only.
``norm-on-map``      a layernorm without normalized_shape on a C×H×W map: it normalises W only.
``odd-skip``         an odd size into a stride-2 stage of an encoder–decoder: the
                     upsampled path comes back one short and the skip concat fails.
``tiny-map``         a spatial size collapsed to 0 or 1 while later layers still work on it
                     (VGG on a 32×32 input).
``same-asymmetric``  ``padding='same'`` with an even kernel: one more pixel at the end.
``side-output``      a branch whose output nothing uses: eval mode does not run it
                     (an auxiliary head that ends in a vector is taken as deliberate).
``steps-on-channels`` a recurrent layer (L×features, steps first) given a C×L map, a 1-d
                     convolution's output: it takes the C channels for its steps.
``framework-warns``  what the framework itself warns about when it builds the layer (an
                     LSTM's dropout with num_layers=1: PyTorch's UserWarning).

Each check asks the layer's kind (the lint section of convcalc.kinds.layer.Layer): its
traits (``READS_CHANNELS``, ``MAKES_MAP``, ``UPSAMPLES``, …) and, where a check needs
the kind's own arithmetic, its methods (``windows``, ``floor_windows`` and
``floor_fixes``, ``grows_maps``, …). Under ``--framework keras`` and ``onnx`` the layout
checks, ``floor-drop`` (with the framework's fixes: Keras's ``padding='same'``, ONNX's
``ceil_mode=1`` or end ``pads``) and ``side-output`` apply; the others follow PyTorch's
kinds and stay silent there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from convcalc._gc import gc_paused
from convcalc._records import NamedTuple
from convcalc.errors import ShapeError
from convcalc.kinds.shapes import SPATIAL_NAMES
from convcalc.kinds.windows import unseen
from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["LintWarning", "lint", "lint_error"]


class LintWarning(NamedTuple):
    """One finding: the row it concerns (None: the network as a whole), a short code,
    what is wrong with the numbers, and what would fix it."""

    row: int | None
    code: str
    message: str
    fix: str

    def line(self) -> str:
        where = f"layer {self.row}: " if self.row is not None else ""
        return f"warning: {where}{self.message}; {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code, "message": self.message, "fix": self.fix}


_UNITS = {"H": "row", "W": "column", "D": "slice", "L": "position"}


def _fmt(shape: Sequence[int | None]) -> str:
    return "×".join("?" if v is None else str(v) for v in shape)


def _names(n: int) -> tuple[str, ...]:
    return SPATIAL_NAMES.get(n, tuple(f"dim {i + 2}" for i in range(n)))


def _label(row: LayerResult) -> str:
    return row.spec


def lint_error(exc: ShapeError, *, input_text: str | None = None) -> list[LintWarning]:
    """The findings about the rows that ran before ``exc`` (a network PyTorch rejects):
    they often say why it failed, e.g. the odd size behind a U-Net's failing concat."""
    rows = tuple(exc.results)
    if not rows:
        return []
    analysis = Analysis(rows[0].input, rows, framework=exc.framework, opset=exc.opset)
    return lint(analysis, input_text=input_text)


@gc_paused()
def lint(analysis: Analysis, *, input_text: str | None = None) -> list[LintWarning]:
    """Every finding about ``analysis`` (see the module docstring). The collector is
    paused: the checks make many small objects and no cycles."""
    rows = analysis.layers
    out: list[LintWarning] = []
    out += _channels_last(analysis)
    out += _channels_first(analysis)
    out += _square_input(analysis, input_text)
    out += _batch_in_input(analysis)
    out += _rank_guess(analysis)
    maps = _map_flags(analysis)
    per_row: list[list[LintWarning]] = [[] for _ in rows]
    consumers = _consumers(analysis)
    upsampling_rows = [r.index for r in rows if _upsamples(r)]
    for pos, row in enumerate(rows):
        found = per_row[pos]
        odd = []
        if upsampling_rows and upsampling_rows[-1] > row.index:
            odd = _odd_skip(analysis, row, consumers)
        # ceil=true would not mend the skip: the odd-size warning says what does.
        found += odd if odd else _floor_drop(row)
        found += _same_asymmetric(row)
        on_map = maps[row.inputs[0] if row.inputs else pos]
        if row.layer.LINEAR_ON_LAST_AXIS and on_map:
            found += _linear_on_map(row)
        if on_map and row.layer.norms_last_axis():
            found += _norm_on_map(row)
        found += _tiny_map(analysis, row, consumers)
        found += _ignored_features(row)
        if row.layer.READS_STEPS and on_map:
            found += _steps_on_channels(row)
        found += _framework_warns(row)
    for found in per_row:
        out += found
    out += _side_outputs(analysis)
    return out


# --------------------------------------------------------------------------


def _image_input(
    analysis: Analysis, reads: str
) -> tuple[LayerResult, int, list[int | None], int] | None:
    """A known input of three or more sizes whose first reader takes the channels
    ``reads`` (first or last): that row, and the input's first, middle and last sizes."""
    shape = analysis.input
    if len(shape) < 3 or any(v is None for v in shape):
        return None
    first = next((r for r in analysis.layers if 0 in r.inputs), None)
    if first is None or reads != first.layer.READS_CHANNELS:
        return None
    c, *middle, last = shape
    assert c is not None and last is not None
    return first, c, middle, last


def _channels_last(analysis: Analysis) -> list[LintWarning]:
    found = _image_input(analysis, "first")
    if found is None:
        return []
    first, c, middle, last = found
    shape = analysis.input
    if last not in (1, 3, 4) or c < 8 or any(v is None or v < 8 for v in middle):
        return []
    fixed = "x".join(str(v) for v in (last, c, *middle))
    return [
        LintWarning(
            None,
            "channels-last",
            f"the input {_fmt(shape)} looks channels-last (H×W×C): convcalc reads it as {c} "
            f"channels of {_fmt((*middle, last))} before {first.spec}",
            f"give the channels first: -i {fixed} (or --framework keras for Keras's layout)",
        )
    ]


def _channels_first(analysis: Analysis) -> list[LintWarning]:
    """Keras reads the last axis as the channels: 3x224x224 is a 3×224 map of 224."""
    found = _image_input(analysis, "last")
    if found is None:
        return []
    first, c, middle, last = found
    shape = analysis.input
    if c not in (1, 3, 4) or last < 8 or any(v is None or v < 8 for v in middle):
        return []
    fixed = "x".join(str(v) for v in (*middle, last, c))
    return [
        LintWarning(
            None,
            "channels-first",
            f"the input {_fmt(shape)} looks channels-first (C×H×W): Keras is channels last "
            f"and reads it as a {_fmt((c, *middle))} map of {last} channels before "
            f"{first.spec}",
            f"give the channels last: -i {fixed} (or --framework torch for PyTorch's layout)",
        )
    ]


def _square_input(analysis: Analysis, input_text: str | None) -> list[LintWarning]:
    if input_text is None or not input_text.strip().isdecimal():  # \s*\d+\s*, no regex
        return []
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
            f"-i {n} is read as a {_fmt(shape[1:])} map of unknown channels before "
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


def _batch_in_input(analysis: Analysis) -> list[LintWarning]:
    """1x3x224x224 before conv: a one-channel 3×224×224 volume, or a batch written in?"""
    shape = analysis.input
    if len(shape) != 4 or shape[0] != 1:
        return []
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
            f"{row.spec} takes its dimensions from its input and reads {_fmt(shape)} as a "
            f"one-channel {_fmt(shape[1:])} volume (→ {_fmt(row.output)}): a leading 1 is "
            "most likely the batch",
            f"convcalc's -i excludes the batch: write -i {sizes}; to mean a volume, {volume}",
        )
    ]


def _rank_guess(analysis: Analysis) -> list[LintWarning]:
    """224x224 before maxpool: C×L (a 1-d pool on 224 channels), or a 224×224 map?"""
    shape = analysis.input
    if len(shape) != 2 or None in shape:
        return []
    c, length = shape
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
            f"{row.spec} takes its dimensions from its input and reads {_fmt(shape)} as C×L, "
            f"{c} channels of length {length} (1-d → {_fmt(row.output)})",
            fix,
        )
    ]


def _upsamples(row: LayerResult) -> bool:
    """Whether a row enlarges a spatial size (a decoder stage)."""
    if not row.layer.UPSAMPLES:
        return False
    return any(
        a is not None and b is not None and b > a for a, b in zip(row.input[1:], row.output[1:])
    )


def _map_flags(analysis: Analysis) -> list[bool]:
    """For tensor t (0: the input, i: row i's output), whether it is laid out as
    channels × spatial."""
    flags = [len(analysis.input) >= 3]
    for row in analysis.layers:
        layer = row.layer
        if layer.MAKES_MAP:
            flags.append(len(row.output) >= 2)
        elif layer.BREAKS_MAP:
            flags.append(False)
        else:
            flags.append(flags[row.inputs[0]] if row.inputs else False)
    return flags


def _consumers(analysis: Analysis) -> list[list[int]]:
    """For tensor t, the rows that read it."""
    out: list[list[int]] = [[] for _ in range(len(analysis.layers) + 1)]
    for row in analysis.layers:
        for t in row.inputs:
            out[t].append(row.index)
    return out


def _floor_drop(row: LayerResult) -> list[LintWarning]:
    layer = row.layer
    dims = layer.floor_windows(row.input, row.output)
    if dims is None:
        return []
    missed_dims = unseen(dims)  # (dim, size, how many)
    if not missed_dims:
        return []
    names = _names(len(dims))
    units = [_UNITS.get(names[i], "element") for i, _, _ in missed_dims]
    counts = {(size, m) for _, size, m in missed_dims}
    if len(counts) == 1:
        ((size, m),) = counts
        which = " and ".join(units) if m == 1 else " and ".join(u + "s" for u in units)
        span = f"{size - 1}" if m == 1 else f"{size - m}…{size - 1}"
        seen = f"the last {'' if m == 1 else f'{m} '}input {which} ({span})"
    else:
        seen = " and ".join(
            f"the last {'' if m == 1 else f'{m} '}{u}{'' if m == 1 else 's'} of {names[i]}"
            f" ({size - m}…{size - 1})"
            for (i, size, m), u in zip(missed_dims, units)
        )
    short = [i for i, _, _ in missed_dims]
    fixes = [
        f"{fix.setting} keeps it ({_fmt(fix.sizes)})"
        for fix in layer.floor_fixes(row.input, dims, short)
    ]
    space_in, space_out = [w.size for w in dims], [w.out for w in dims]
    return [
        LintWarning(
            row.index,
            "floor-drop",
            f"{_label(row)} on {_fmt(space_in)} never sees {seen}: its last window ends "
            f"before them and the floor drops the rest (→ {_fmt(space_out)})",
            " or ".join(fixes) or "an input size that fits the windows, or more padding, keeps it",
        )
    ]


def _same_asymmetric(row: LayerResult) -> list[LintWarning]:
    kernels = row.layer.same_kernels(row.input, row.output)
    if kernels is None:
        return []
    names = _names(len(kernels))
    odd = [(i, dk) for i, dk in enumerate(kernels) if (dk - 1) % 2]
    if not odd:
        return []
    sides = {"H": ("top", "bottom"), "D": ("front", "back")}
    parts = []
    for i, dk in odd:
        lo, hi = sides.get(names[i], ("left", "right"))
        left = (dk - 1) // 2
        parts.append(f"{names[i]}: {left} {lo}, {dk - 1 - left} {hi}")
    pads: list[int] = []
    for dk in reversed(kernels):
        left = (dk - 1) // 2
        pads += [left, dk - 1 - left]
    kernel = _fmt(kernels)
    return [
        LintWarning(
            row.index,
            "same-asymmetric",
            f"{_label(row)}: padding='same' with the even kernel {kernel} pads unevenly "
            f"({'; '.join(parts)}); PyTorch puts the extra pixel at the end and copies the "
            "input to pad it",
            f"an odd kernel pads evenly; or pad explicitly: pad {','.join(map(str, pads))} "
            "then p=0",
        )
    ]


def _linear_on_map(row: LayerResult) -> list[LintWarning]:
    shape = row.input
    if len(shape) < 2:
        return []
    return [
        LintWarning(
            row.index,
            "linear-on-map",
            f"{_label(row)} gets the map {_fmt(shape)}: a linear layer acts on the last "
            f"dimension only ({shape[-1]} → {row.output[-1]}), giving {_fmt(row.output)}",
            f"flatten first (flatten; {row.spec}), or gap; flatten for a pooled head",
        )
    ]


def _norm_on_map(row: LayerResult) -> list[LintWarning]:
    shape = row.input
    if len(shape) < 3:
        return []
    word = row.spec.split()[0]
    sizes = "x".join("?" if v is None else str(v) for v in shape)
    return [
        LintWarning(
            row.index,
            "norm-on-map",
            f"{_label(row)} gets the map {_fmt(shape)}: without a normalized_shape it "
            f"normalises the last dimension only ({shape[-1]}), each row of each channel apart",
            f"to normalise the whole map write {word} {sizes} (normalized_shape), or "
            "layernorm2d for the channels at each position (ConvNeXt)",
        )
    ]


def _odd_skip(
    analysis: Analysis, row: LayerResult, consumers: list[list[int]]
) -> list[LintWarning]:
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
    factor = _downsampling(analysis)
    back = _fmt([w.out * w.s for w in dims])
    strides = {w.s for w in dims}
    up = f"×{strides.pop()}" if len(strides) == 1 else "by the same strides"
    parts = [f"{_fmt(row.output[1:])}, and upsampling {up} gives back {back}"]
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
            f"{_label(row)} gets {_fmt(row.input[1:])}, not divisible by its stride, in an "
            f"encoder–decoder: it gives {parts[0]}, so the decoder's map will not match the "
            f"skip from {name}",
            (hint + ", or pad the input" if hint else "pad the map to an even size")
            + " (or crop the skip, as the 2015 U-Net does)",
        )
    ]


def _downsampling(analysis: Analysis) -> int:
    """The product of the strides of the encoder (the rows before the first upsampling)."""
    factor = 1
    for row in analysis.layers:
        if _upsamples(row):
            break
        if row.side:
            continue
        dims = row.layer.windows(row.input, row.output)
        if dims:
            factor *= dims[0].s
    return factor


def _ignored_features(row: LayerResult) -> list[LintWarning]:
    """A norm without weights or running statistics given a num_features that is not
    the input's channel count: PyTorch only warns (nothing in it depends on it)."""
    given = row.layer.ignored_channels(row.input)
    if given is None:
        return []
    channels = row.input[0]
    return [
        LintWarning(
            row.index,
            "ignored-features",
            f"{_label(row)} says num_features={given}, but its input has {channels} "
            "channels; PyTorch only warns, as nothing in it depends on the number",
            f"write c={channels}, or leave it out",
        )
    ]


def _steps_on_channels(row: LayerResult) -> list[LintWarning]:
    """A recurrent layer reading a C×L map: PyTorch's Conv1d gives (N, C, L), an LSTM wants
    (N, L, C) — the steps would be the channels."""
    shape = row.input
    if len(shape) != 2:
        return []
    c, length = shape
    return [
        LintWarning(
            row.index,
            "steps-on-channels",
            f"{_label(row)} gets the map {_fmt(shape)} (C×L) and reads it as L×H_in: "
            f"{'?' if c is None else c} steps of {'?' if length is None else length} "
            "features, the channels taken for time steps",
            f"transpose 1 2 first ({_fmt((length, c))}: {length} steps of {c} features)",
        )
    ]


def _framework_warns(row: LayerResult) -> list[LintWarning]:
    """What the framework warns about as it builds the layer."""
    said = row.layer.construction_warning()
    if said is None:
        return []
    message, fix = said
    return [LintWarning(row.index, "framework-warns", f"{_label(row)}: {message}", fix)]


def _tiny_map(
    analysis: Analysis, row: LayerResult, consumers: list[list[int]]
) -> list[LintWarning]:
    shape = row.output
    n = len(shape) - 1
    layer = row.layer
    if n < 1 or not (layer.MAKES_MAP or layer.RESIZES_MAP):
        return []
    names = _names(n)
    for i in range(n):
        size, before = shape[i + 1], row.input[i + 1] if len(row.input) == len(shape) else None
        if size is None:
            continue
        if size == 0:
            return [
                LintWarning(
                    row.index,
                    "tiny-map",
                    f"{_label(row)} leaves {names[i]} empty ({_fmt(row.input[1:])} → "
                    f"{_fmt(shape[1:])})",
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
                f"{_label(row)} shrinks {names[i]} to 1 ({_fmt(row.input[1:])} → "
                f"{_fmt(shape[1:])}) in the middle of the network: layer {later.index} "
                f"({later.spec}) still works on it ({_fmt(later.input[1:])} → "
                f"{_fmt(later.output[1:])})",
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


def _side_outputs(analysis: Analysis) -> list[LintWarning]:
    out = []
    for row in analysis.side_outputs:
        if len(row.output) <= 1:
            continue  # an auxiliary head ending in a vector (Inception's AuxLogits)
        name = f" ({row.name})" if row.name else ""
        out.append(
            LintWarning(
                row.index,
                "side-output",
                f"the branch ending at {_label(row)}{name} is never used: it is a side output, "
                "which an eval-mode forward pass does not run (its parameters count, its MACs "
                "are left out)",
                "merge it (add, mul, concat) where it belongs, or remove it",
            )
        )
    return out
