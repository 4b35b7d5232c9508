"""The arithmetic behind each output size, written with the user's numbers.

``explain(analysis, *, ascii=False) -> list[Step]``
    For every row whose shape arithmetic is not trivial, one ``Step`` per dimension it
    computes: convolutions (``same``'s left/right split), transposed convolutions
    (output_padding), pools (ceil_mode and the dropped last window of docs/arithmetic.md#pooling),
    adaptive pooling (its windows), upsample (the floor of the float64 product), max
    unpooling, pad, pixel (un)shuffle, flatten/unflatten, linear, GLU, and the graph
    operations (concat: which dimension and sizes; add/mul: the operands and any
    broadcasting; split/chunk parts; crop). Rows that keep their shape give none.
    Under Keras and ONNX their own kinds are explained by explain_keras.py and
    explain_onnx.py (imported only then), in their layouts and by their rules.
    ``ascii=True`` writes ``floor(…)``, ``ceil(…)``, ``*`` and ``-`` instead of
    ``⌊…⌋``, ``⌈…⌉``, ``·`` and ``−``, for terminals without Unicode.

``Step.line()`` is the printed form, e.g.
``H: ⌊(224 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 112``, followed by the note in
parentheses when there is one.

``evaluate(expression) -> int`` reads a printed expression back (either alphabet) with
a small recursive-descent parser — integers are exact, ``/`` is exact division, a
decimal is a float64 as PyTorch's scale factors are, ``trunc(…)`` is C++'s division
toward zero and ``float32(…)`` the nearest float32 (ONNX's) — so that tests can check
that every expression equals the size in the table.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from fractions import Fraction

from convcalc.ask.explain.common import (
    Step,
    dropped_input,
    dropped_window,
    one_window,
    pad_split,
    window,
)
from convcalc.ask.explain.common import dim_names as _dim_names
from convcalc.ask.explain.common import halved as _halved
from convcalc.ask.explain.common import last_axis as _last_axis
from convcalc.ask.explain.common import merged as _merged
from convcalc.ask.explain.common import minus as _minus
from convcalc.ask.explain.common import per_dim as _per_dim
from convcalc.ask.explain.common import shape_text as _shape_text
from convcalc.ask.explain.common import sides as _sides
from convcalc.ask.explain.common import signed as _signed
from convcalc.errors import SpecError
from convcalc.kinds import Layer, Shape
from convcalc.kinds.layer import SPATIAL_NAMES
from convcalc.kinds.merge import Concat, Crop, Elementwise, Part
from convcalc.kinds.torch.conv import Conv, ConvTranspose
from convcalc.kinds.torch.pool import AdaptivePool, AvgPool, LPPool, MaxPool, MaxUnpool
from convcalc.kinds.torch.reshape import (
    GLU,
    Flatten,
    Linear,
    Pad,
    PixelShuffle,
    Unflatten,
    Upsample,
)
from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["Step", "evaluate", "explain"]


_ASCII_EXPR = str.maketrans(
    {"⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")", "·": "*", "×": "*", "−": "-"}
)
_ASCII_NOTE = str.maketrans(
    {
        "⌊": "floor(",
        "⌋": ")",
        "⌈": "ceil(",
        "⌉": ")",
        "·": "*",
        "×": "x",
        "−": "-",
        "≥": ">=",
        "≤": "<=",
        "<": "<",
        "→": "->",
        "…": "...",
        "–": "-",
        "—": "-",
    }
)

# A framework's own rules for its kinds: the row's steps, or None for a row that
# is not one of its kinds (a graph operation, explained here for every framework).
Rules = Callable[[Analysis, LayerResult], "list[Step] | None"]


def _rules(framework: str) -> Rules | None:
    """Keras's and ONNX's explanations, imported only for an analysis under them."""
    if framework == "keras":
        from convcalc.ask.explain import keras as explain_keras

        return explain_keras.steps
    if framework == "onnx":
        from convcalc.ask.explain import onnx as explain_onnx

        return explain_onnx.steps
    return None


def explain(analysis: Analysis, *, ascii: bool = False) -> list[Step]:
    """The steps of every row, in row order (see the module docstring)."""
    steps: list[Step] = []
    rules = _rules(analysis.framework)
    for row in analysis.layers:
        own = None if rules is None else rules(analysis, row)
        for step in _row(analysis, row) if own is None else own:
            if ascii:
                step = step._replace(
                    dim=step.dim.translate(_ASCII_NOTE),
                    expression=None
                    if step.expression is None
                    else step.expression.translate(_ASCII_EXPR),
                    note=step.note.translate(_ASCII_NOTE),
                )
            steps.append(step)
    return steps


def _operands(analysis: Analysis, row: LayerResult) -> list[Shape]:
    return [analysis.input if i == 0 else analysis.layers[i - 1].output for i in row.inputs]


def _row(analysis: Analysis, row: LayerResult) -> list[Step]:
    layer = row.layer
    shape = row.input
    if any(v is None for v in shape[1:]) and not isinstance(layer, Linear):
        return []
    if isinstance(layer, (Conv, MaxPool, AvgPool, LPPool)):
        return _windows(row, layer)
    if isinstance(layer, ConvTranspose):
        return _transposed(row, layer)
    if isinstance(layer, MaxUnpool):
        return _unpool(row, layer)
    if isinstance(layer, AdaptivePool):
        return _adaptive(row)
    if isinstance(layer, Upsample):
        return _upsample(row, layer)
    if isinstance(layer, PixelShuffle):
        return _shuffle(row, layer)
    if isinstance(layer, Pad):
        return _pad(row)
    if isinstance(layer, Flatten):
        return _flatten(row, layer)
    if isinstance(layer, Unflatten):
        return _unflatten(row, layer)
    if isinstance(layer, Linear):
        return _linear(row)
    if isinstance(layer, GLU):
        return _glu(row)
    if isinstance(layer, Concat):
        return _concat(analysis, row, layer)
    if isinstance(layer, Elementwise):
        return _elementwise(analysis, row, layer)
    if isinstance(layer, Part):
        return _part(row, layer, analysis.framework == "keras")
    if isinstance(layer, Crop):
        return _crop(row, layer)
    return []


def _windows(row: LayerResult, layer: Layer) -> list[Step]:
    """Convolutions and max/avg/LP pools: ⌊(L + pads − d·(k−1) − 1) / s⌋ + 1."""
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, tuple(f"dim {i + 2}" for i in range(n)))
    k = _per_dim(layer.kernel_size, n)  # type: ignore[attr-defined]
    stride = getattr(layer, "stride", None)
    s = k if stride is None else _per_dim(stride, n)
    d = _per_dim(getattr(layer, "dilation", (1,)), n)
    padding = getattr(layer, "padding", (0,))
    ceil = bool(getattr(layer, "ceil_mode", False))
    conv = isinstance(layer, Conv)
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
            p = 0 if padding == "valid" else _per_dim(padding, n)[i]
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
                notes.append(dropped_window(naive, si, size, left, "right"))
        if conv or not ceil:
            notes.append(dropped_input(names[i], size, out, si, dk, left))
        notes = [note for note in notes if note]
        steps.append(Step(row.index, names[i], expr, out, "; ".join(notes)))
    return steps


def _transposed(row: LayerResult, layer: ConvTranspose) -> list[Step]:
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, ())
    k = _per_dim(layer.kernel_size, n)
    s = _per_dim(layer.stride, n)
    p = _per_dim(layer.padding, n)
    d = _per_dim(layer.dilation, n)
    op = _per_dim(layer.output_padding, n)
    steps = []
    for i in range(n):
        size = shape[i + 1]
        expr = f"({size}−1)·{s[i]} − 2·{p[i]} + {d[i]}·({k[i]}−1) + {op[i]} + 1"
        note = f"output_padding adds {op[i]} at the {_sides(names[i])[1]}" if op[i] else ""
        steps.append(Step(row.index, names[i], expr, row.output[i + 1], note))
    return steps


def _unpool(row: LayerResult, layer: MaxUnpool) -> list[Step]:
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, ())
    k = _per_dim(layer.kernel_size, n)
    s = k if layer.stride is None else _per_dim(layer.stride, n)
    p = _per_dim(layer.padding, n)
    return [
        Step(
            row.index, names[i], f"({shape[i + 1]}−1)·{s[i]} + {k[i]} − 2·{p[i]}", row.output[i + 1]
        )
        for i in range(n)
    ]


def _adaptive(row: LayerResult) -> list[Step]:
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, ())
    steps = []
    for i in range(n):
        size, out = shape[i + 1], row.output[i + 1]
        assert size is not None and out is not None
        if out == 1:
            steps.append(one_window(row.index, names[i], size))
            continue
        if out == 0:
            note = "an empty output"
        elif size % out == 0:
            w = size // out
            note = f"{out} windows of {size}/{out} = {w}, stride {w}"
        else:
            starts = [i * size // out for i in range(out)]
            ends = [-(-(j + 1) * size // out) for j in range(out)]
            widths = [e - b for b, e in zip(starts, ends)]
            shown = " ".join(f"[{b},{e})" for b, e in list(zip(starts, ends))[:4])
            more = " …" if out > 4 else ""
            note = (
                f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉): {shown}{more}, "
                f"{min(widths)}–{max(widths)} wide"
                if min(widths) != max(widths)
                else f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉), {widths[0]} "
                f"wide, overlapping: {shown}{more}"
            )
        steps.append(Step(row.index, names[i], str(out), out, note))
    return steps


def _upsample(row: LayerResult, layer: Upsample) -> list[Step]:
    shape = row.input
    n = len(shape) - 1
    names = SPATIAL_NAMES.get(n, ())
    steps = []
    for i in range(n):
        size, out = shape[i + 1], row.output[i + 1]
        assert size is not None and out is not None
        if layer.scale_factor is None:
            steps.append(Step(row.index, names[i], str(out), out, "size given"))
            continue
        f = _per_dim(layer.scale_factor, n)[i]
        product = float(size) * f
        note = ""
        if not product.is_integer():
            note = f"the float64 product is {product!r}; PyTorch floors it"
        steps.append(Step(row.index, names[i], f"⌊{size} × {f!r}⌋", out, note))
    return steps


def _shuffle(row: LayerResult, layer: PixelShuffle) -> list[Step]:
    if len(row.input) < 3 or row.input == row.output:
        # H×W read as unbatched with factor 1, or an empty input PyTorch hands back
        # unchanged: nothing is computed.
        return []
    *_, c, h, w = row.input
    *_, oc, oh, ow = row.output
    r = layer.upscale_factor
    rank = len(row.input)
    # The last three dims; with extra leading ones they are named by number.
    cn, hn, wn = ("C", "H", "W") if rank == 3 else (f"dim {i}" for i in range(rank - 2, rank + 1))
    steps = []
    if layer.inverse:
        if c is not None:
            steps.append(Step(row.index, cn, f"{c}·{r}·{r}", oc))
        steps.append(Step(row.index, hn, f"{h} / {r}", oh))
        steps.append(Step(row.index, wn, f"{w} / {r}", ow))
    else:
        if c is not None:
            steps.append(Step(row.index, cn, f"{c} / ({r}·{r})", oc))
        steps.append(Step(row.index, hn, f"{h}·{r}", oh))
        steps.append(Step(row.index, wn, f"{w}·{r}", ow))
    return steps


def _pad(row: LayerResult) -> list[Step]:
    layer = row.layer
    assert isinstance(layer, Pad)
    shape = row.input
    n = len(shape) - 1
    names = _dim_names(shape)
    # ZeroPad2d(1) & co pad the dimensions their name says; pad 1 every spatial one
    pads = layer.pad * (2 * (layer.dims or n)) if len(layer.pad) == 1 else layer.pad
    steps = []
    for j in range(len(pads) // 2):
        axis = len(shape) - 1 - j
        if axis < 0:  # a pair on the batch (PyTorch accepts one that sums to 0)
            break
        size = shape[axis]
        if size is None:
            continue
        left, right = pads[2 * j], pads[2 * j + 1]
        lo, hi = _sides(names[axis])
        note = f"{_minus(left)} {lo}, {_minus(right)} {hi}"
        if min(left, right) < 0:
            note += " (a negative pad crops)"
        steps.append(
            Step(
                row.index,
                names[axis],
                f"{size}{_signed(left)}{_signed(right)}",
                row.output[axis],
                note,
            )
        )
    steps.sort(key=lambda st: names.index(st.dim))
    return steps


def _flatten(row: LayerResult, layer: Flatten) -> list[Step]:
    shape = row.input
    rank = len(shape) + 1
    start = layer.start_dim + rank if layer.start_dim < 0 else layer.start_dim
    end = layer.end_dim + rank if layer.end_dim < 0 else layer.end_dim
    names = _dim_names(shape)[start - 1 : end]
    label = "×".join(names) if start > 1 or end < rank - 1 else "features"
    return _merged(row, shape[start - 1 : end], label, start - 1)


def _unflatten(row: LayerResult, layer: Unflatten) -> list[Step]:
    sizes = layer.unflattened_size
    if -1 not in sizes:
        return []
    rank = len(row.input) + 1
    axis = layer.dim % rank - 1
    size = row.input[axis]
    if size is None:
        return []
    known = [v for v in sizes if v != -1]
    j = sizes.index(-1)
    divisor = "·".join(map(str, known)) or "1"
    expr = f"{size} / ({divisor})" if len(known) > 1 else f"{size} / {divisor}"
    return [Step(row.index, f"dim {axis + j + 1}", expr, row.output[axis + j], "the -1 size")]


def _linear(row: LayerResult) -> list[Step]:
    layer = row.layer
    assert isinstance(layer, Linear)
    return [_last_axis(row, layer.out_features)]


def _glu(row: LayerResult) -> list[Step]:
    return _halved(row, _dim_names(row.input))


def _concat(analysis: Analysis, row: LayerResult, layer: Concat) -> list[Step]:
    shapes = _operands(analysis, row)
    rank = len(row.output)
    d = layer.dim % (rank + 1) - 1
    names = _dim_names(row.output, layer.last)
    sizes = [s[d] for s in shapes]
    others = [names[i] for i in range(rank) if i != d]
    rest = "×".join(str(row.output[i]) for i in range(rank) if i != d)
    note = f"concat along {names[d]}; the other dims ({'×'.join(others)} = {rest}) match"
    if any(v is None for v in sizes):
        return [Step(row.index, names[d], None, row.output[d], note)]
    return [Step(row.index, names[d], " + ".join(map(str, sizes)), row.output[d], note)]


def _elementwise(analysis: Analysis, row: LayerResult, layer: Elementwise) -> list[Step]:
    shapes = _operands(analysis, row)
    sign = " + " if layer.op == "add" else " × "
    text = sign.join(_shape_text(s) for s in shapes) + " → " + _shape_text(row.output)
    names = _dim_names(row.output, layer.last)
    if layer.last:  # Keras gives a tensor of fewer dimensions size-1 ones after the batch
        rank = len(row.output)
        shapes = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    spread = [
        f"{names[i]}: 1 → {row.output[i]}"
        for i in range(len(row.output))
        if any(s[i] == 1 for s in shapes) and row.output[i] not in (1, None)
    ]
    if spread:
        text += " (broadcast " + ", ".join(spread) + ")"
    return [Step(row.index, "all", None, None, text)]


def _part(row: LayerResult, layer: Part, last: bool) -> list[Step]:
    rank = len(row.input)
    d = layer.dim % (rank + 1) - 1
    names = _dim_names(row.input, last)
    size, out = row.input[d], row.output[d]
    if size is None or out is None:
        return []
    i = layer.part
    if layer.op == "chunk":
        (count,) = layer.sizes
        each = -(-size // count) if size else 0
        whole = f"⌈{size} / {count}⌉"
        expr = whole if out == each else f"{size} − {i}·{whole}"
        note = f"part {i + 1} of chunk {count}: chunks of ⌈{size}/{count}⌉, the last takes the rest"
    elif len(layer.sizes) == 1:
        (each,) = layer.sizes
        expr = str(each) if out == each else f"{size} − {i}·{each}"
        note = f"part {i + 1}: split into {each}s, the last takes the rest"
    else:
        expr = str(out)
        note = f"part {i + 1} of {' + '.join(map(str, layer.sizes))} = {size}"
    return [Step(row.index, names[d], expr, out, note)]


def _crop(row: LayerResult, layer: Crop) -> list[Step]:
    shape = row.input
    names = _dim_names(shape, layer.last)
    steps = []
    for i in range(len(shape) - 1) if layer.last else range(1, len(shape)):
        size, want = shape[i], row.output[i]
        if size is None or want is None:
            continue
        cut = size - want
        lo, hi = _sides(names[i])
        expr = f"{size} − ⌊({size} − {want}) / 2⌋ − ⌈({size} − {want}) / 2⌉"
        note = f"centre crop: {cut // 2} off the {lo}, {cut - cut // 2} off the {hi}"
        steps.append(Step(row.index, names[i], expr, want, note))
    return steps


# --------------------------------------------------------------------------
# Reading an expression back.

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<word>floor|ceil|trunc|float32)\s*\(|(?P<op>[-+−·×*/()⌊⌋⌈⌉]))"
)

Number = int | Fraction | float


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise self.fail(f"unexpected {text[pos:].strip()[:10]!r}", pos)
            if m.group("num") is not None:
                self.tokens.append(("num", m.group("num"), m.start("num")))
            elif m.group("word") is not None:
                self.tokens.append(("open", m.group("word"), m.start("word")))
            else:
                op = m.group("op")
                self.tokens.append(
                    ("op", {"−": "-", "·": "*", "×": "*"}.get(op, op), m.start("op"))
                )
            pos = m.end()
        self.pos = 0

    def fail(self, message: str, at: int | None = None) -> SpecError:
        if at is None:
            at = self.tokens[self.pos][2] if self.pos < len(self.tokens) else len(self.text)
        return SpecError(f"cannot evaluate: {message}", source=self.text, start=at, end=at + 1)

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, want: str) -> None:
        if self.peek() != want:
            raise self.fail(f"expected {want!r}")
        self.pos += 1

    def expr(self) -> Number:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> Number:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self.factor()
            if op == "*":
                value = value * right
            else:
                if right == 0:
                    raise self.fail("division by zero")
                if isinstance(value, float) or isinstance(right, float):
                    value = value / right
                else:
                    value = Fraction(value) / Fraction(right)
        return value

    def factor(self) -> Number:
        if self.peek() == "-":
            self.pos += 1
            return -self.factor()
        if self.peek() == "+":
            self.pos += 1
            return self.factor()
        return self.primary()

    def primary(self) -> Number:
        if self.pos >= len(self.tokens):
            raise self.fail("the expression ends too early")
        kind, text, _ = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return int(text) if text.isdigit() else float(text)
        if kind == "open":
            value = self.expr()
            self.take(")")
            return self.apply(text, value)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        if text in ("⌊", "⌈"):
            value = self.expr()
            self.take("⌋" if text == "⌊" else "⌉")
            return math.floor(value) if text == "⌊" else math.ceil(value)
        self.pos -= 1
        raise self.fail(f"unexpected {text!r}")

    def apply(self, word: str, value: Number) -> Number:
        if word == "floor":
            return math.floor(value)
        if word == "ceil":
            return math.ceil(value)
        if word == "trunc":  # C++'s integer division: toward zero
            return math.trunc(value)
        try:  # float32: the nearest float32, as ONNX holds a scale
            f32 = float(struct.unpack("f", struct.pack("f", float(value)))[0])
        except OverflowError:
            f32 = math.inf
        if math.isinf(f32):
            raise self.fail(f"{value} is out of float32's range")
        return f32


def evaluate(expression: str) -> int:
    """The integer an explanation's expression stands for. Raises SpecError for text
    that is not such an expression or whose value is not a whole number."""
    reader = _Reader(expression)
    if not reader.tokens:
        raise reader.fail("empty expression", 0)
    value = reader.expr()
    if reader.pos != len(reader.tokens):
        raise reader.fail(f"unexpected {reader.peek()!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise reader.fail(f"the value {value!r} is not a whole number", 0)
        return int(value)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise reader.fail(f"the value {value} is not a whole number", 0)
        return int(value)
    return value
