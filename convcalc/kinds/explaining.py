"""What every kind's ``--explain`` is written with: the ``Step`` record (one size of one
row and the arithmetic behind it), the ``Row`` a kind is asked about (plain data: the
row's number and shapes, its operands' shapes, the batch and the framework), and the
phrases the expressions and notes share (the sides of a dimension, the window formula,
the input a floor drops, a 'same' padding's split, a last-axis layer, a merge of
dimensions).

Each kind explains itself (``Layer.explain``); convcalc.ask.explain walks the rows and
asks. The kinds import this module inside their ``explain`` methods only, so that a run
without ``--explain`` never loads it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from convcalc.kinds.shapes import SPATIAL_NAMES, Shape, per_dim


class Step(NamedTuple):
    """One dimension of one row: ``expression`` evaluates to ``value`` (None when the
    step is a remark only, e.g. an element-wise merge)."""

    row: int  # the row, 1-based as in the table
    dim: str  # "H", "W", "L", "D", "C", "features", "dim 2", … ("all" for a remark)
    expression: str | None
    value: int | None
    note: str = ""

    def line(self) -> str:
        if self.expression is None:
            return f"{self.dim}: {self.note}"
        if self.expression == str(self.value):  # a size given as such
            text = f"{self.dim}: {self.value}"
        else:
            text = f"{self.dim}: {self.expression} = {self.value}"
        return f"{text}  ({self.note})" if self.note else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "dim": self.dim,
            "expression": self.expression,
            "value": self.value,
            "note": self.note,
        }


class Row(NamedTuple):
    """One row of the table as a kind is asked to explain it: plain data taken from the
    analysis by convcalc.ask.explain."""

    # The row, 1-based as in the table (it shadows tuple.index, as LayerResult's does).
    index: int  # type: ignore[assignment]
    input: Shape  # the (first) input's shape, without the batch
    output: Shape
    operands: tuple[Shape, ...] = ()  # the shapes of every input it reads, in order
    batch: int = 1
    framework: str = "torch"  # whose conventions: torch, keras or onnx


def known(shape: Shape) -> bool:
    """Whether every size of ``shape`` after the first (the channels) is known: a
    PyTorch kind or a graph operation explains nothing otherwise."""
    return all(v is not None for v in shape[1:])


# What the last elements along each dimension are called in a note.
UNITS = {"H": "rows", "W": "columns", "D": "slices", "L": "positions"}
_SIDES = {"H": ("top", "bottom"), "W": ("left", "right"), "D": ("front", "back")}


def sides(name: str) -> tuple[str, str]:
    """What the start and the end of dimension ``name`` are called."""
    return _SIDES.get(name, ("left", "right"))


def signed(n: int) -> str:
    """' + n' or ' − n'."""
    return f" + {n}" if n >= 0 else f" − {-n}"


def minus(n: int) -> str:
    return f"−{-n}" if n < 0 else str(n)


def dim_names(shape: Shape, last: bool = False) -> tuple[str, ...]:
    """C and the spatial names of a map (C first, or ``last`` as Keras has it);
    dim numbers otherwise."""
    n = len(shape) - 1
    if n in SPATIAL_NAMES:
        return (*SPATIAL_NAMES[n], "C") if last else ("C", *SPATIAL_NAMES[n])
    return tuple(f"dim {i + 1}" for i in range(len(shape)))


def moved(step: Step, inner: Shape, outer: Shape, by: int, last: bool = False) -> Step:
    """``step``, about an axis of ``inner``, for that axis ``by`` places on in ``outer``
    (a layer on each time step of ``outer``): named as ``outer`` names it, else by its
    number; a step about no axis of ``inner`` (params, MACs) as it is."""
    names = dim_names(inner, last)
    if step.dim not in names:
        return step
    at = names.index(step.dim) + by
    return step if dim_names(outer, last)[at] == step.dim else step._replace(dim=f"dim {at + 1}")


def spatial_sizes(row: Row, last: bool = False) -> Iterator[tuple[int, str, int, int]]:
    """(i, name, input size, output size) of each spatial dimension of a row that
    keeps its rank, where both sizes are known; ``i`` counts from 0 at the first
    spatial one (the channels are first, or ``last``)."""
    n = len(row.input) - 1
    skip = 0 if last else 1
    for i, name in enumerate(SPATIAL_NAMES.get(n, ())):
        size, out = row.input[i + skip], row.output[i + skip]
        if size is not None and out is not None:
            yield i, name, size, out


def torch_sizes(row: Row) -> list[tuple[int, str, int, int]]:
    """:func:`spatial_sizes` of a PyTorch row (channels first): none unless every size of
    its input is known (see :func:`known`)."""
    return list(spatial_sizes(row)) if known(row.input) else []


def shape_text(shape: Sequence[int | None]) -> str:
    return "×".join("?" if v is None else str(v) for v in shape)


def window(pads: str, d: int, k: int, s: int) -> str:
    """``(L + pads − d·(k−1) − 1) / s``: the room the dilated kernel leaves, over the
    stride (``pads`` is the padded length as written, e.g. ``224 + 2·3``)."""
    return f"({pads} − {d}·({k}−1) − 1) / {s}"


def dropped_input(name: str, size: int, out: int, s: int, dk: int, left: int) -> str:
    """The note for input a floor leaves in no window (none where the windows are
    narrower than the stride: they leave gaps anyway)."""
    last = (out - 1) * s - left + dk - 1  # the last input index a window reaches
    missed = size - 1 - last
    if missed <= 0 or dk < s:
        return ""
    unit = UNITS.get(name, "positions")
    if missed == 1:
        what = f"the last input {unit[:-1]} ({size - 1}) is"
    else:
        what = f"the last {missed} input {unit} ({last + 1}–{size - 1}) are"
    them = "it" if missed == 1 else "them"
    return f"{what} in no window: the floor drops {them}, windows end at {last}"


def dropped_window(naive: int, s: int, size: int, left: int, padding: str) -> str:
    """The note for a ceil_mode window that would start in the end padding."""
    return (
        f"ceil_mode: the last window would start at ({naive}−1)·{s} = {(naive - 1) * s} "
        f"≥ {size} + {left}, in the {padding} padding, so it is dropped"
    )


def pad_split(what: str, total: int, left: int, name: str, who: str, how: str = "") -> str:
    """How a 'same' padding of ``total`` (computed as ``how``, when given) splits
    into ``left`` and the rest, and where ``who`` puts the odd one."""
    right = total - left
    lo, hi = sides(name)
    head = f"{what} pads {how}{' = ' if how else ''}{total}" if how or left != right else what
    if left == right:
        return f"{head}: {left} on each side"
    odd = lo if left > right else hi
    return f"{head}: {left} {lo}, {right} {hi} — {who} puts the odd one at the {odd}"


def torch_windows(
    row: Row, kernel: Any, stride: Any, dilation: Any, padding: Any, ceil: bool, conv: bool
) -> list[Step]:
    """PyTorch's sliding windows (its convolutions and max/avg/LP pools), per spatial
    dimension: ⌊(L + pads − d·(k−1) − 1) / s⌋ + 1, ``same``'s split, and ceil_mode's
    dropped last window (docs/arithmetic.md#pooling). ``stride`` None is the kernel size; a
    convolution notes the input a floor drops even under ceil_mode (it has none)."""
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, tuple(f"dim {i + 2}" for i in range(n)))
    k = per_dim(kernel, n)
    s = k if stride is None else per_dim(stride, n)
    d = per_dim(dilation, n)
    steps = []
    for i in range(n):
        size = shape[i + 1]
        out = row.output[i + 1]
        assert size is not None and out is not None
        ki, si, di = k[i], s[i], d[i]
        dk = di * (ki - 1) + 1
        notes: list[str] = []
        if padding == "same":
            left = (dk - 1) // 2
            right = dk - 1 - left
            notes.append(pad_split("padding='same'", dk - 1, left, names[i], "PyTorch"))
            pads = f"{size} + {left} + {right}"
        else:
            p = 0 if padding == "valid" else per_dim(padding, n)[i]
            left = right = p
            pads = f"{size} + 2·{p}"
        inner = window(pads, di, ki, si)
        if not ceil:
            expr = f"⌊{inner}⌋ + 1"
        else:
            expr = f"⌈{inner}⌉ + 1"
            naive = -(-(size + left + right - dk) // si) + 1
            if naive != out:
                expr += " − 1"
                notes.append(dropped_window(naive, si, size, left, sides(names[i])[1]))
        if conv or not ceil:
            notes.append(dropped_input(names[i], size, out, si, dk, left))
        notes = [note for note in notes if note]
        steps.append(Step(row.index, names[i], expr, out, "; ".join(notes)))
    return steps


def one_window(row: int, name: str, size: int) -> Step:
    """A dimension pooled to 1 by one window over all of it."""
    return Step(row, name, "1", 1, f"one window over all {size}")


def last_axis(row: Row, out_features: int, word: str = "dimension") -> Step:
    """A layer on the last dimension (Linear, Dense, Gemm, MatMul): its size is
    given; the others are kept."""
    fin = row.input[-1]
    lead = row.input[:-1]
    note = f"acts on the last {word}: {'?' if fin is None else fin} in, {out_features} out"
    if lead:
        note += f"; the leading {shape_text(lead)} are kept"
    return Step(row.index, "features", str(out_features), row.output[-1], note)


def merged(row: Row, sizes: Sequence[int | None], label: str, axis: int) -> list[Step]:
    """Dimensions multiplied into one (flatten): ``axis`` is where the product lands."""
    if len(sizes) < 2 or any(v is None for v in sizes):
        return []
    return [Step(row.index, label, "·".join(str(v) for v in sizes), row.output[axis])]


def halved(row: Row, names: Sequence[str], what: str = "GLU") -> list[Step]:
    """GLU: the one dimension it halves."""
    for i, (a, b) in enumerate(zip(row.input, row.output)):
        if a != b and a is not None:
            return [Step(row.index, names[i], f"{a} / 2", b, f"{what} halves it")]
    return []
