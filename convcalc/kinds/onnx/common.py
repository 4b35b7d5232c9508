"""What the ONNX operators share: their registry, the opset they are read at,
``auto_pad`` and ``pads``, and the window arithmetic of ONNX shape inference
(docs/frameworks.md#onnx). Shapes are channels first, as ONNX's N×C×D1×…×Dn without N."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import INTS, Param, UnionType
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Entry, Layer
from convcalc.kinds.registry import register as _register
from convcalc.kinds.shapes import RankError, Shape, fmt_shape, fmt_tuple, unbatched
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# ONNX's operators, by the words that name them (op types lower-cased, and
# convcalc's own short words).
REGISTRY: dict[str, Entry] = {}

AUTO_PADS = ("notset", "same_upper", "same_lower", "valid")
AUTO_PAD = Choice(*AUTO_PADS)
SPATIAL = {1: ("D1",), 2: ("H", "W"), 3: ("D", "H", "W")}


# convcalc.kinds.registry.register into ONNX's registry.
register = partial(_register, registry=REGISTRY)


# ``pads``: 2·n numbers (every begin, then every end), or one for all, or an
# auto_pad word (``p=same_upper``).
PADS = Param(
    "pads",
    UnionType(INTS, *AUTO_PADS[1:]),
    None,
    aliases=("p",),
    help="x1_begin, x2_begin, …, x1_end, x2_end (or one for all), or an auto_pad word",
)
AUTO_PAD_PARAM = Param("auto_pad", AUTO_PAD, None)


class OnnxOp(Layer):
    """An ONNX operator; ``opset`` is set by the framework in force, ``dim`` by a
    convcalc spelling that names the spatial rank (conv2d)."""

    OP = ""
    opset: int = 22
    dim: int | None = None

    def op_name(self) -> str:
        return self.OP

    def class_name(self) -> str:
        return self.op_name()

    def spatial_rank(self) -> int | None:
        return self.dim


class WindowOp(OnnxOp):
    """An operator with windows (Conv, ConvTranspose, MaxPool, AveragePool, LpPool):
    kernel_shape, strides and dilations per axis, and pads or auto_pad."""

    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...] | None
    pads: tuple[int, ...] | str | None
    auto_pad: str | None
    dilations: tuple[int, ...] | None

    # -- lint (convcalc.ask.lint)
    RANK_FROM_INPUT = True


# What solve searches on a Conv or a pool: an attribute left out is its neutral value;
# pads numbers, uneven (begin, end) pairs or SAME_UPPER (SAME_LOWER gives the same
# sizes), an auto_pad holding for every dimension.
WINDOW_SOLVE = Solve(
    {
        "kernel_size": "kernel_shape",
        "stride": "strides",
        "padding": "pads",
        "dilation": "dilations",
    },
    {"stride": 1, "padding": 0, "dilation": 1},
    words=("same_upper",),
    layer_wide=frozenset({"padding"}),
    pads_pairs=True,
)


def spatial(op: OnnxOp, shape: Shape, least: int = 1) -> tuple[int, Shape]:
    """(n, spatial sizes) of an N×C×D1…Dn input, n ≥ ``least``."""
    n = len(shape) - 1
    if op.dim is not None and n != op.dim:
        raise RankError(
            f"{op.op_name()} ({op.dim}-d) takes a C×{'×'.join(SPATIAL[op.dim])} input, got "
            f"{fmt_shape(shape)}",
            unbatched(shape, (op.dim + 1,)),
        )
    if n < least or n > 3:
        want = "C×D1×…×Dn (n = 1 to 3; N×C×… with the batch)"
        raise RankError(
            f"{op.op_name()} takes a {want} input, got {fmt_shape(shape)}",
            unbatched(shape, range(least + 1, 5)),
        )
    return n, shape[1:]


def per_axis(
    op: OnnxOp, name: str, values: tuple[int, ...] | None, n: int, default: int
) -> tuple[int, ...]:
    """An attribute with one value per spatial axis (one value stands for all)."""
    if values is None:
        return (default,) * n
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise LayerError(
            f"{op.op_name()}: {name} has {len(values)} values, but the input has {n} spatial "
            f"axes ({fmt_tuple(values)})"
        )
    return values


def resolve_pads(
    op: OnnxOp,
    pads: tuple[int, ...] | str | None,
    auto_pad: str | None,
    n: int,
    exclusive: bool = True,
) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(auto_pad, begins, ends) from the attributes. ``p=same_upper`` is auto_pad.
    The spec says explicit pads and an auto_pad other than NOTSET exclude each other:
    onnxruntime refuses them together in a convolution (``exclusive``); in a pool,
    shape inference takes the pads and ignores auto_pad."""
    if isinstance(pads, str):
        if auto_pad is not None and auto_pad != pads:
            raise LayerError(
                f"{op.op_name()}: p={pads} and auto_pad={auto_pad.upper()} say different things"
            )
        auto_pad, pads = pads, None
    mode = auto_pad or "notset"
    if pads is None:
        return mode, (0,) * n, (0,) * n
    if mode != "notset":
        if not exclusive:
            mode = "notset"
        else:
            raise LayerError(
                f"{op.op_name()}: pads cannot be used together with auto_pad={mode.upper()} "
                "(onnxruntime refuses the node)"
            )
    if len(pads) == 1:
        pads = pads * (2 * n)
    if len(pads) != 2 * n:
        raise LayerError(
            f"{op.op_name()}: pads takes 2·{n} = {2 * n} values (every begin, then every end), "
            f"got {len(pads)}: {fmt_tuple(pads)}"
        )
    if any(p < 0 for p in pads):
        raise LayerError(
            f"{op.op_name()}: pads must not contain negative values ({fmt_tuple(pads)})"
        )
    return mode, pads[:n], pads[n:]


def same_pads(mode: str, size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """SAME_UPPER / SAME_LOWER: the total ``max((⌈L/s⌉ − 1)·s + dk − L, 0)``, the odd
    one at the end (UPPER) or the beginning (LOWER)."""
    dk = d * (k - 1) + 1
    total = max((-(-size // s) - 1) * s + dk - size, 0)
    small = total // 2
    return (small, total - small) if mode == "same_upper" else (total - small, small)


def window_args(op: WindowOp, n: int) -> tuple[tuple[int, ...], ...]:
    """(kernel_shape, strides, dilations) of a Conv, ConvTranspose or pool node,
    one value per spatial axis (strides and dilations default to 1), checked."""
    k = per_axis(op, "kernel_shape", op.kernel_shape, n, 1)
    s = per_axis(op, "strides", op.strides, n, 1)
    d = per_axis(op, "dilations", op.dilations, n, 1)
    positive(op, "kernel_shape", k)
    positive(op, "strides", s)
    positive(op, "dilations", d)
    return k, s, d


def positive(op: OnnxOp, name: str, values: tuple[int, ...]) -> None:
    if any(v <= 0 for v in values):
        raise LayerError(
            f"{op.op_name()}: {name} must only contain positive values ({fmt_tuple(values)})"
        )


def too_small(op: OnnxOp, n: int, i: int, size: int, detail: str) -> LayerError:
    """A size below 1: shape inference would infer it, onnxruntime fails."""
    where = "" if n == 1 else f" along {SPATIAL[n][i]}"
    return LayerError(
        f"{op.op_name()}: output size {size}{where} ({detail}): a size below 1, which "
        "onnxruntime refuses"
    )


def window_steps(
    row: Row,
    op: WindowOp,
    pads: tuple[int, ...] | str | None,
    auto_pad: str | None,
    pool: bool = False,
    ceil_rule: int | None = None,
) -> list[Step]:
    """``--explain`` for a Conv or a MaxPool/AveragePool/LpPool node, per spatial axis:
    ⌊(L + begin + end − d·(k−1) − 1)/s⌋ + 1 (C++ truncates a negative room toward zero
    in a pool); a Conv with SAME_* is ⌈L/s⌉, a pool with SAME_* takes the pads that
    gives. ``ceil_rule``: under ceil_mode, the opset from which shape inference rounds
    up as (room + s − 1)/s and drops a window starting in the end padding (None:
    no ceil_mode)."""
    from convcalc.kinds.explaining import (
        Step,
        dropped_input,
        dropped_window,
        minus,
        pad_split,
        sides,
        spatial_sizes,
        window,
    )

    def trunc(a: int, b: int) -> int:  # C++'s integer division: toward zero
        return a // b if a >= 0 else -(-a // b)

    n = len(row.input) - 1
    k, s, d = window_args(op, n)
    mode, begins, ends = resolve_pads(op, pads, auto_pad, n, exclusive=not pool)
    ceil = ceil_rule is not None
    rule = 0 if ceil_rule is None else ceil_rule
    opset = op.opset
    out: list[Step] = []
    for i, name, size, o in spatial_sizes(row):
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
        elif opset < rule or room >= 0:
            expr = f"⌈{inner}⌉ + 1"
            naive = -(-room // si) + 1
            if opset < rule and (naive - 1) * si >= size + pb:
                notes.append(
                    f"ceil_mode: the last window starts at ({naive}−1)·{si} = {(naive - 1) * si} "
                    f"≥ {size} + {pb}, in the end padding: shape inference keeps it before opset "
                    f"{rule} (onnxruntime drops it)"
                )
        else:
            expr = f"trunc(({padded} − {di}·({ki}−1) − 1 + {si} − 1) / {si}) + 1"
            notes.append(f"ceil_mode from opset {rule}: (room + s − 1)/s, C++'s division")
        if ceil and opset >= rule:
            naive = trunc(room + si - 1, si) + 1
            if naive != o:
                expr += " − 1"
                notes.append(dropped_window(naive, si, size, pb, "end") + f" (opset ≥ {rule})")
        out.append(Step(row.index, name, expr, o, "; ".join(n for n in notes if n)))
    return out


def floor_windows(
    op: WindowOp, shape: Shape, out: Shape, exclusive: bool
) -> list[WindowDim] | None:
    """The windows of a Conv or pool node with explicit pads (or none), whose floor
    may leave the end of its input unseen; None under SAME_* (⌈L/s⌉ sees it all).
    ``exclusive``: as resolve_pads."""
    from convcalc.kinds.windows import window_dims

    n = len(shape) - 1
    if n < 1 or None in shape[1:]:
        return None
    try:
        mode, begins, _ = resolve_pads(op, op.pads, op.auto_pad, n, exclusive)
        k, s, d = window_args(op, n)
    except LayerError:  # pragma: no cover - the row ran
        return None
    if mode.startswith("same"):
        return None
    return window_dims(shape[1:], out[1:], k, s, d, begins)


def pads_fix(op: WindowOp, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
    """The fewest more end ``pads`` on the short axes after which the windows reach the
    end, sized by the node itself."""
    from convcalc.kinds.windows import FIRST, FloorFix, covers

    begins = [w.left for w in dims]
    _, _, ends = resolve_pads(op, op.pads, op.auto_pad, len(dims), False)
    for extra in range(1, 8):
        pads = (*begins, *(e + extra if i in short else e for i, e in enumerate(ends)))
        out = op.variant_sizes(shape, FIRST, pads=pads, auto_pad=None)
        if out is not None and all(
            covers(dims[i].size, out[i], dims[i].s, dims[i].left, dims[i].dk) for i in short
        ):
            return [FloorFix(f"pads={','.join(map(str, pads))}", out)]
    return []
