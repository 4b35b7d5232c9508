"""The warnings' record and the text of each finding about one row: what is wrong with
the numbers and what would fix it. The checks (convcalc.ask.lint) import it only once one
has found something, so a network without warnings never loads it.

``LintWarning``
    One finding (``convcalc.ask.lint`` names it too).
``fmt``, ``names``, ``label``
    The shapes, axis names and layers as the messages write them (also used by
    ``inputs.py`` and ``graph.py``, the other modules of findings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple
from convcalc.kinds.shapes import SPATIAL_NAMES

if TYPE_CHECKING:
    from convcalc.kinds.windows import WindowDim
    from convcalc.network.analysis import LayerResult


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


def fmt(shape: Sequence[int | None]) -> str:
    return "×".join("?" if v is None else str(v) for v in shape)


def names(n: int) -> tuple[str, ...]:
    return SPATIAL_NAMES.get(n, tuple(f"dim {i + 2}" for i in range(n)))


def label(row: LayerResult) -> str:
    return row.spec


def floor_drop(
    row: LayerResult, dims: list[WindowDim], missed_dims: list[tuple[int, int, int]]
) -> list[LintWarning]:
    """floor-drop: ``row``'s windows ``dims`` leave ``missed_dims`` unseen (axis, size,
    how many; convcalc.kinds.windows.unseen)."""
    axes = names(len(dims))
    units = [_UNITS.get(axes[i], "element") for i, _, _ in missed_dims]
    counts = {(size, m) for _, size, m in missed_dims}
    if len(counts) == 1:
        ((size, m),) = counts
        which = " and ".join(units) if m == 1 else " and ".join(u + "s" for u in units)
        span = f"{size - 1}" if m == 1 else f"{size - m}…{size - 1}"
        seen = f"the last {'' if m == 1 else f'{m} '}input {which} ({span})"
    else:
        seen = " and ".join(
            f"the last {'' if m == 1 else f'{m} '}{u}{'' if m == 1 else 's'} of {axes[i]}"
            f" ({size - m}…{size - 1})"
            for (i, size, m), u in zip(missed_dims, units)
        )
    short = [i for i, _, _ in missed_dims]
    fixes = [
        f"{fix.setting} keeps it ({fmt(fix.sizes)})"
        for fix in row.layer.floor_fixes(row.input, dims, short)
    ]
    space_in, space_out = [w.size for w in dims], [w.out for w in dims]
    return [
        LintWarning(
            row.index,
            "floor-drop",
            f"{label(row)} on {fmt(space_in)} never sees {seen}: its last window ends "
            f"before them and the floor drops the rest (→ {fmt(space_out)})",
            " or ".join(fixes) or "an input size that fits the windows, or more padding, keeps it",
        )
    ]


def same_asymmetric(row: LayerResult, kernels: tuple[int, ...]) -> list[LintWarning]:
    """same-asymmetric: ``row`` pads 'same' for ``kernels``, one of them even."""
    axes = names(len(kernels))
    odd = [(i, dk) for i, dk in enumerate(kernels) if (dk - 1) % 2]
    sides = {"H": ("top", "bottom"), "D": ("front", "back")}
    parts = []
    for i, dk in odd:
        lo, hi = sides.get(axes[i], ("left", "right"))
        left = (dk - 1) // 2
        parts.append(f"{axes[i]}: {left} {lo}, {dk - 1 - left} {hi}")
    pads: list[int] = []
    for dk in reversed(kernels):
        left = (dk - 1) // 2
        pads += [left, dk - 1 - left]
    kernel = fmt(kernels)
    return [
        LintWarning(
            row.index,
            "same-asymmetric",
            f"{label(row)}: padding='same' with the even kernel {kernel} pads unevenly "
            f"({'; '.join(parts)}); PyTorch puts the extra pixel at the end and copies the "
            "input to pad it",
            f"an odd kernel pads evenly; or pad explicitly: pad {','.join(map(str, pads))} "
            "then p=0",
        )
    ]


def linear_on_map(row: LayerResult) -> list[LintWarning]:
    shape = row.input
    if len(shape) < 2:
        return []
    return [
        LintWarning(
            row.index,
            "linear-on-map",
            f"{label(row)} gets the map {fmt(shape)}: a linear layer acts on the last "
            f"dimension only ({shape[-1]} → {row.output[-1]}), giving {fmt(row.output)}",
            f"flatten first (flatten; {row.spec}), or gap; flatten for a pooled head",
        )
    ]


def norm_on_map(row: LayerResult) -> list[LintWarning]:
    shape = row.input
    if len(shape) < 3:
        return []
    word = row.spec.split()[0]
    sizes = "x".join("?" if v is None else str(v) for v in shape)
    return [
        LintWarning(
            row.index,
            "norm-on-map",
            f"{label(row)} gets the map {fmt(shape)}: without a normalized_shape it "
            f"normalises the last dimension only ({shape[-1]}), each row of each channel apart",
            f"to normalise the whole map write {word} {sizes} (normalized_shape), or "
            "layernorm2d for the channels at each position (ConvNeXt)",
        )
    ]


def ignored_features(row: LayerResult, given: int) -> list[LintWarning]:
    """A norm without weights or running statistics given a num_features (``given``) that
    is not the input's channel count: PyTorch only warns (nothing in it depends on it)."""
    channels = row.input[0]
    return [
        LintWarning(
            row.index,
            "ignored-features",
            f"{label(row)} says num_features={given}, but its input has {channels} "
            "channels; PyTorch only warns, as nothing in it depends on the number",
            f"write c={channels}, or leave it out",
        )
    ]


def steps_on_channels(row: LayerResult) -> list[LintWarning]:
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
            f"{label(row)} gets the map {fmt(shape)} (C×L) and reads it as L×H_in: "
            f"{'?' if c is None else c} steps of {'?' if length is None else length} "
            "features, the channels taken for time steps",
            f"transpose 1 2 first ({fmt((length, c))}: {length} steps of {c} features)",
        )
    ]


def framework_warns(row: LayerResult, said: tuple[str, str]) -> list[LintWarning]:
    """What the framework warns about as it builds the layer: ``said`` is (what, fix)."""
    message, fix = said
    return [LintWarning(row.index, "framework-warns", f"{label(row)}: {message}", fix)]
