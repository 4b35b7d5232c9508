"""ONNX MaxPool, AveragePool, LpPool and the global pools, as ONNX shape inference
sizes them at the opset in force (docs/frameworks.md#onnx): strides default to 1; the size
is C++'s truncating division (a kernel up to s − 1 larger than the padded input
still gives 1); since opset 22 a ceil_mode window may not start in the end padding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, Param
from convcalc.kinds.layer import Out
from convcalc.kinds.onnx.common import (
    AUTO_PAD_PARAM,
    PADS,
    WINDOW_SOLVE,
    OnnxOp,
    WindowOp,
    floor_windows,
    pads_fix,
    register,
    resolve_pads,
    same_pads,
    spatial,
    too_small,
    window_args,
)
from convcalc.kinds.shapes import Shape

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"


_K = Param("kernel_shape", INTS, aliases=("k",), required=True)
_S = Param("strides", INTS, None, aliases=("s",), help="default 1")
_D = Param("dilations", INTS, None, aliases=("d",))
_CEIL = Param("ceil_mode", BOOL, False, aliases=("ceil",))
# MaxPool's and AveragePool's first attributes (LpPool's pads have no p=: p is its order).
_WINDOWS = (_K, _S, PADS, AUTO_PAD_PARAM, _D, _CEIL)

# Since when an attribute exists (op → attribute → opset).
SINCE = {"AveragePool": {"dilations": 19}, "LpPool": {"dilations": 18, "ceil_mode": 18}}
CEIL_RULE = 22  # the opset whose shape inference drops a window starting in the end padding


def _trunc(a: int, b: int) -> int:
    """C++'s integer division: toward zero."""
    return a // b if a >= 0 else -(-a // b)


def _positions(room: int, s: int, ceil: bool, opset: int) -> int:
    """How many more kernel positions shape inference counts after the first, for
    ``room`` = padded input − dilated kernel: truncated (C++ division: a window a
    little larger than the padded input still gives one output); with ceil_mode
    rounded up — before opset 22 as a real ceiling, since then as (room + s − 1)/s
    truncated."""
    if not ceil:
        return _trunc(room, s)
    if opset >= CEIL_RULE:
        return _trunc(room + s - 1, s)
    return -(-room // s)


class Pool(WindowOp):
    """MaxPool / AveragePool / LpPool: ⌊(L + begin + end − dk)/s⌋ + 1, ⌈…⌉ with
    ceil_mode; SAME_* ⌈L/s⌉."""

    PARAMS = (*_WINDOWS, Param("storage_order", INT, 0))
    SUMMARY = "pooling"
    EXAMPLE = "k=2 s=2"
    NOTE = (
        "Sizes are ONNX shape inference's at the opset in force. onnxruntime differs: it "
        "drops a ceil_mode window that starts in the end padding before opset 22 too, "
        "ignores pads beside an auto_pad, and refuses pads not smaller than the kernel and "
        "SAME_* with dilations, all of which the spec allows."
    )

    op: str
    ceil_mode: bool

    def op_name(self) -> str:
        return self.op

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name = self.op
        for attr, since in SINCE.get(name, {}).items():
            value = getattr(self, attr, None)
            if value not in (None, False) and self.opset < since:
                raise LayerError(
                    f"{name} has no attribute {attr} before opset {since} (this is opset "
                    f"{self.opset})"
                )
        n, sizes = spatial(self, shape)
        k, s, d = window_args(self, n)
        # Explicit pads win over auto_pad in a pool (shape inference reads them first).
        mode, begins, ends = resolve_pads(self, self.pads, self.auto_pad, n, exclusive=False)
        ceil = self.ceil_mode
        out, windows = [], []
        for i, size in enumerate(sizes):
            assert size is not None
            dk = d[i] * (k[i] - 1) + 1
            if mode.startswith("same"):  # the pads for ⌈L/s⌉; with ceil_mode maybe more
                pb, pe = same_pads(mode, size, k[i], s[i], d[i])
            else:
                pb, pe = begins[i], ends[i]
            o = _positions(size + pb + pe - dk, s[i], ceil, self.opset) + 1
            if ceil and self.opset >= CEIL_RULE and (o - 1) * s[i] >= size + pb:
                o -= 1
            if o < 1:
                raise too_small(
                    self,
                    n,
                    i,
                    o,
                    f"the window {dk} does not fit in the padded input "
                    f"{size + pb + pe} ({size} + {pb} + {pe})",
                )
            out.append(o)
            windows.append((dk, s[i], pb))
        return Out(name, (shape[0], *out), rf=tuple(windows))

    def explain(self, row: Row) -> list[Step]:
        """ONNX's windows (common.window_steps): C++'s truncating division, and
        ceil_mode by the opset's rule (CEIL_RULE)."""
        from convcalc.kinds.onnx.common import window_steps

        rule = CEIL_RULE if self.ceil_mode else None
        return window_steps(row, self, self.pads, self.auto_pad, pool=True, ceil_rule=rule)

    # -- lint (convcalc.ask.lint)
    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        return None if self.ceil_mode else floor_windows(self, shape, out, exclusive=False)

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        """ceil_mode=1, when it reaches the end of every short axis; more end pads."""
        from convcalc.kinds.windows import FIRST, FloorFix, covers

        found = []
        ceil = self.variant_sizes(shape, FIRST, ceil_mode=True)
        if ceil is not None and all(
            covers(w.size, ceil[i], w.s, w.left, w.dk) for i, w in enumerate(dims) if i in short
        ):
            found.append(FloorFix("ceil_mode=1", ceil))
        return found + pads_fix(self, shape, dims, short)

    SOLVE = WINDOW_SOLVE  # as a Conv's, but for the channels


register(
    Pool,
    names={
        **{w: {"op": "MaxPool", "dim": None} for w in ("maxpool",)},
        **{f"maxpool{n}d": {"op": "MaxPool", "dim": n} for n in (1, 2, 3)},
    },
)
register(
    Pool,
    names={
        **{w: {"op": "AveragePool", "dim": None} for w in ("averagepool", "avgpool")},
        **{f"avgpool{n}d": {"op": "AveragePool", "dim": n} for n in (1, 2, 3)},
    },
    params=(*_WINDOWS, Param("count_include_pad", BOOL, False)),
)
register(
    Pool,
    names={"lppool": {"op": "LpPool", "dim": None}},
    params=(
        Param("p", INT, 2, help="the norm's order"),
        _K,
        _S,
        Param("pads", PADS.type, None, help=PADS.help),
        AUTO_PAD_PARAM,
        _D,
        _CEIL,
    ),
)


class GlobalPool(OnnxOp):
    """GlobalAveragePool / GlobalMaxPool / GlobalLpPool: N×C×1×…×1."""

    SUMMARY = "global pooling"

    op: str

    def op_name(self) -> str:
        return self.op

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, sizes = spatial(self, shape)
        windows = tuple((size, size, 0) for size in sizes)
        return Out(self.op, (shape[0], *(1,) * n), rf=windows)  # type: ignore[arg-type]

    def explain(self, row: Row) -> list[Step]:
        """One window over each spatial axis."""
        from convcalc.kinds.explaining import one_window, spatial_sizes

        return [one_window(row.index, name, size) for _, name, size, _ in spatial_sizes(row)]

    # -- lint (convcalc.ask.lint)
    RANK_FROM_INPUT = True


register(
    GlobalPool,
    names={
        **{w: {"op": "GlobalAveragePool"} for w in ("globalaveragepool", "gap")},
        **{w: {"op": "GlobalMaxPool"} for w in ("globalmaxpool", "gmp")},
    },
    params=(),
)
register(
    GlobalPool,
    names={"globallppool": {"op": "GlobalLpPool"}},
    params=(Param("p", INT, 2, help="the norm's order"),),
)
