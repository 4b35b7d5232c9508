"""ONNX Gemm, MatMul, Flatten, Resize, the normalizations and the element-wise
operators. The batch stays apart, as everywhere in convcalc: an operator that
would fold it into another axis (Flatten with axis ≠ 1, Gemm with transA) or
resize it is refused with that reason."""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, FLOATS, INT, INTS, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Out
from convcalc.kinds.onnx.common import OnnxOp, register
from convcalc.kinds.shapes import Shape, batch_axis_index, fmt_shape, fmt_tuple, prod
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Core layers, normalization and activations"


def _axis(op: str, axis: int, rank: int, what: str = "axis") -> int:
    """An ONNX axis (the batch is 0) as an index into a shape of ``rank`` - 1 sizes."""
    return batch_axis_index(
        axis,
        rank,
        f"{op}: {what}={axis} is out of range for a {rank}-d input (batch included): "
        f"expected {-rank} to {rank - 1}",
        f"{op}: {what}={axis} is the batch axis; convcalc keeps the batch apart",
    )


class Gemm(OnnxOp):
    """Gemm: Y = A·B + C on a 2-d input (N×K): N×out; params K·out + out."""

    OP = "Gemm"
    PARAMS = (
        Param("out_features", INT, positional=True, required=True, help="B's other size"),
        Param("transA", INT, 0, aliases=("transa",)),
        Param("transB", INT, 0, aliases=("transb",)),
        Param("alpha", FLOAT, 1.0),
        Param("beta", FLOAT, 1.0),
        Param("bias", BOOL, True, help="the optional input C"),
    )
    SUMMARY = "general matrix multiply (a fully connected layer)"
    EXAMPLE, EXAMPLE_INPUT = "10", "512"

    out_features: int
    transA: int
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 1:
            raise LayerError(
                f"Gemm: input A must have rank 2 (N×K with the batch), got {fmt_shape(shape)} "
                f"(rank {len(shape) + 1}); Flatten first"
            )
        if self.transA:
            raise LayerError(
                "Gemm: transA=1 would multiply across the batch; convcalc keeps it apart"
            )
        if self.out_features <= 0:
            raise LayerError(f"Gemm: the output size must be positive, got {self.out_features}")
        fin, fout = shape[0], self.out_features
        params = None if fin is None else fin * fout + (fout if self.bias else 0)
        macs = None if fin is None else fin * fout
        return Out("Gemm", (fout,), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """out_features on the last axis."""
        from convcalc.kinds.explaining import last_axis

        return [last_axis(row, self.out_features, "axis")]


register(Gemm, names={"gemm": {}, "linear": {}, "fc": {}, "dense": {}})


class MatMul(OnnxOp):
    """MatMul with a K×out weight: (…, K) → (…, out); params K·out."""

    OP = "MatMul"
    PARAMS = (Param("out_features", INT, positional=True, required=True),)
    SUMMARY = "matrix product with a weight"
    EXAMPLE, EXAMPLE_INPUT = "10", "4x512"

    out_features: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.out_features <= 0:
            raise LayerError(f"MatMul: the output size must be positive, got {self.out_features}")
        fin, fout = shape[-1], self.out_features
        params = None if fin is None else fin * fout
        lead = prod(shape[:-1])
        macs = None if fin is None or lead is None else lead * fin * fout
        return Out("MatMul", (*shape[:-1], fout), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """out_features on the last axis."""
        from convcalc.kinds.explaining import last_axis

        return [last_axis(row, self.out_features, "axis")]


register(MatMul, names={"matmul": {}})


class Flatten(OnnxOp):
    """Flatten(axis): N×… → (N·…)×(…); only axis 1 keeps the batch apart."""

    OP = "Flatten"
    PARAMS = (Param("axis", INT, 1),)
    SUMMARY = "flatten to 2-d"

    axis: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        rank = len(shape) + 1
        if not -rank <= self.axis <= rank:
            raise LayerError(
                f"Flatten: axis={self.axis} is out of range for a {rank}-d input (batch "
                f"included): expected {-rank} to {rank}"
            )
        if self.axis % (rank + 1) != 1 and self.axis != 1 - rank:
            raise LayerError(
                f"Flatten: axis={self.axis} would fold the batch into another axis (the output "
                "is (d0·…·d(axis−1)) × (…)); convcalc keeps the batch apart: only axis=1 does"
            )
        return Out("Flatten", (prod(shape),), rf=None if len(shape) > 1 else ())

    def explain(self, row: Row) -> list[Step]:
        """The product of every dimension but the batch."""
        from convcalc.kinds.explaining import merged

        return merged(row, row.input, "features", 0)


register(Flatten, names={"flatten": {}})


def float32(value: float) -> float:
    """``value`` as the float32 an ONNX scales tensor holds."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


class Resize(OnnxOp):
    """Resize: each size ⌊L·scale⌋ (scales as float32), or the sizes given; since
    opset 18 ``axes`` and ``keep_aspect_ratio_policy``."""

    OP = "Resize"
    PARAMS = (
        Param(
            "scales", FLOATS, None, help="one per axis: all of N, C, spatial; or the spatial ones"
        ),
        Param("sizes", INTS, None, help="one per axis, like scales"),
        Param("axes", INTS, None, help="the axes scales/sizes are for (opset 18)"),
        Param(
            "keep_aspect_ratio_policy",
            Choice("stretch", "not_larger", "not_smaller"),
            "stretch",
        ),
        Param("mode", Choice("nearest", "linear", "cubic"), "nearest"),
    )
    SUMMARY = "resize (interpolate)"
    EXAMPLE = "scales=2"
    NOTE = (
        "A scale is a float32: shape inference multiplies it in double precision and floors "
        "(100 × 0.29 → 28), onnxruntime in float32 (→ 29); convcalc follows shape inference."
    )

    scales: tuple[float, ...] | None
    sizes: tuple[int, ...] | None
    axes: tuple[int, ...] | None
    keep_aspect_ratio_policy: str
    mode: str

    def _axes(self, count: int, rank: int) -> list[int]:
        """The full-rank axes (batch = 0) the ``count`` values are for."""
        if self.axes is not None:
            if self.opset < 18:
                raise LayerError(
                    f"Resize has no attribute axes before opset 18 (this is {self.opset})"
                )
            if len(self.axes) != count:
                raise LayerError(
                    f"Resize: {count} values for the {len(self.axes)} axes {fmt_tuple(self.axes)}"
                )
            axes = []
            for a in self.axes:
                if not -rank <= a < rank:
                    raise LayerError(f"Resize: axis {a} is out of range for a {rank}-d input")
                axes.append(a % rank)
            if len(set(axes)) != len(axes):
                raise LayerError(f"Resize: axes {fmt_tuple(self.axes)} repeats an axis")
            return axes
        if count == rank:
            return list(range(rank))
        if count == rank - 2 and rank > 2:  # convcalc's shorthand: the spatial axes
            return list(range(2, rank))
        if count == 1 and rank > 2:
            return list(range(2, rank))
        raise LayerError(
            f"Resize: {count} values for a {rank}-d input (batch included): give {rank}, or "
            f"one per spatial axis ({rank - 2})"
        )

    def targets(self, rank: int) -> list[tuple[int, float]]:
        """(axis, scale or size) for each value given, the batch being axis 0."""
        values: tuple[float, ...] = self.scales if self.scales is not None else self.sizes or ()
        if len(values) == 1 and rank > 3 and self.axes is None:
            # One scale (or size) for every spatial axis: convcalc's shorthand. (A lone
            # size once went to the first spatial axis only: sizes=29 on 100×100 gave
            # 29×100.)
            values = values * (rank - 2)
        return list(zip(self._axes(len(values), rank), values))

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if (self.scales is None) == (self.sizes is None):
            raise LayerError("Resize takes exactly one of scales= and sizes=")
        full: list[int | None] = [batch, *shape]
        rank = len(full)
        policy = self.keep_aspect_ratio_policy
        if policy != "stretch" and self.opset < 18:
            raise LayerError(
                f"Resize has no attribute keep_aspect_ratio_policy before opset 18 (this is "
                f"{self.opset})"
            )
        out = list(full)
        if self.scales is not None:
            if policy != "stretch":
                raise LayerError("Resize: keep_aspect_ratio_policy applies to sizes, not scales")
            for a, scale in self.targets(rank):
                if scale <= 0:
                    raise LayerError(
                        f"Resize: scales must be positive, got {fmt_tuple(self.scales)}"
                    )
                size = full[a]
                out[a] = None if size is None else math.floor(size * float32(scale))
        else:
            pairs = self.targets(rank)
            if policy == "stretch":
                for a, given in pairs:
                    out[a] = int(given)
            else:
                ratios = [v / full[a] for a, v in pairs if full[a]]  # type: ignore[operator]
                scale = float32(min(ratios) if policy == "not_larger" else max(ratios))
                for a, _ in pairs:
                    size = full[a]
                    out[a] = None if size is None else math.floor(float32(scale * size) + 0.5)
        if out[0] != batch:
            raise LayerError(
                f"Resize would make the batch {out[0]} (from {batch}); convcalc keeps the "
                "batch apart"
            )
        for a, size in enumerate(out[1:], start=1):
            if size is not None and size < 1:
                raise LayerError(
                    f"Resize: output size {size} along axis {a} (from {full[a]}): a size below "
                    "1; ONNX shape inference infers it, convcalc refuses it"
                )
        return Out("Resize", tuple(out[1:]), rf=None)

    def explain(self, row: Row) -> list[Step]:
        """⌊L × float32(scale)⌋ (the product in double), the sizes given, or with
        keep_aspect_ratio_policy one float32 scale for every axis, rounded."""
        from convcalc.kinds.explaining import Step, dim_names

        full = (row.batch, *row.input)
        names = ("N", *dim_names(row.input))
        pairs = [(a, v) for a, v in self.targets(len(full)) if a != 0 and full[a] is not None]
        policy = self.keep_aspect_ratio_policy
        out: list[Step] = []
        if self.scales is not None:
            for a, scale in pairs:
                f = float32(scale)
                note = (
                    "" if f == scale else f"float32({scale!r}) = {f!r}, times {full[a]} in double"
                )
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
            every = self.targets(len(full))
            ratios = [(v / full[a], f"{int(v)} / {full[a]}") for a, v in every if full[a]]  # type: ignore[operator]
            pick = min if policy == "not_larger" else max
            chosen = pick(ratios, key=lambda r: r[0])[1]
            which = "smallest" if policy == "not_larger" else "largest"
            note = f"{policy}: the {which} of {', '.join(r[1] for r in ratios)}, as a float32"
            for a, _ in pairs:
                expr = f"⌊float32(float32({chosen}) × {full[a]}) + 0.5⌋"
                out.append(Step(row.index, names[a], expr, row.output[a - 1], note))
        return out

    SOLVE = Solve(resample=("sizes", "scales"), scale_held=float32)


register(Resize, names={"resize": {}, "upsample": {}})


class BatchNormalization(OnnxOp):
    """BatchNormalization (inference): scale and B are parameters, the mean and
    variance inputs buffers — 2C each."""

    OP = "BatchNormalization"
    PARAMS = (Param("epsilon", FLOAT, 1e-5), Param("momentum", FLOAT, 0.9))
    SUMMARY = "batch normalization (inference)"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        c = shape[0]
        return Out(
            "BatchNormalization",
            shape,
            params=None if c is None else 2 * c,
            buffers=None if c is None else 2 * c,
            rf=(),
        )

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"


register(BatchNormalization, names={"batchnormalization": {}, "batchnorm": {}, "bn": {}})


class InstanceNormalization(OnnxOp):
    OP = "InstanceNormalization"
    PARAMS = (Param("epsilon", FLOAT, 1e-5),)
    SUMMARY = "instance normalization (scale and B: 2C)"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) < 2:
            raise LayerError(
                f"InstanceNormalization needs spatial axes (N×C×D1…), got {fmt_shape(shape)}"
            )
        c = shape[0]
        return Out("InstanceNormalization", shape, params=None if c is None else 2 * c, rf=())

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"


register(InstanceNormalization, names={"instancenormalization": {}, "instancenorm": {}})


class LayerNormalization(OnnxOp):
    """LayerNormalization (opset 17): normalizes the axes from ``axis`` on; Scale and
    B have their shape."""

    OP = "LayerNormalization"
    PARAMS = (
        Param("axis", INT, -1),
        Param("epsilon", FLOAT, 1e-5),
        Param("bias", BOOL, True, help="the optional input B"),
    )
    SUMMARY = "layer normalization (opset 17)"
    EXAMPLE_INPUT = "10x64"

    axis: int
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.opset < 17:
            raise LayerError(
                f"LayerNormalization is an opset 17 operator (this is opset {self.opset})"
            )
        i = _axis("LayerNormalization", self.axis, len(shape) + 1)
        size = prod(shape[i:])
        params = None if size is None else size * (2 if self.bias else 1)
        return Out("LayerNormalization", shape, params=params, rf=())


register(LayerNormalization, names={"layernormalization": {}, "layernorm": {}, "ln": {}})


# Shape-neutral operators: name → (its attributes, the opset it appeared in).
ELEMENTWISE: dict[str, tuple[str, tuple[Param, ...], int]] = {
    "relu": ("Relu", (), 13),
    "leakyrelu": ("LeakyRelu", (Param("alpha", FLOAT, 0.01),), 13),
    "sigmoid": ("Sigmoid", (), 13),
    "tanh": ("Tanh", (), 13),
    "elu": ("Elu", (Param("alpha", FLOAT, 1.0),), 13),
    "selu": ("Selu", (Param("alpha", FLOAT, 1.67326), Param("gamma", FLOAT, 1.0507)), 13),
    "celu": ("Celu", (Param("alpha", FLOAT, 1.0),), 13),
    "hardsigmoid": ("HardSigmoid", (Param("alpha", FLOAT, 0.2), Param("beta", FLOAT, 0.5)), 13),
    "hardswish": ("HardSwish", (), 14),
    "softplus": ("Softplus", (), 13),
    "softsign": ("Softsign", (), 13),
    "mish": ("Mish", (), 18),
    "gelu": ("Gelu", (Param("approximate", Choice("none", "tanh"), "none"),), 20),
    "identity": ("Identity", (), 13),
    "dropout": ("Dropout", (Param("ratio", FLOAT, 0.5),), 13),
    "softmax": ("Softmax", (Param("axis", INT, -1),), 13),
    "logsoftmax": ("LogSoftmax", (Param("axis", INT, -1),), 13),
}


class Elementwise(OnnxOp):
    """Element-wise operators (Softmax along an axis): shape-neutral."""

    SUMMARY = "element-wise"
    SHAPE_NEUTRAL = True  # the input's first spatial layer decides what a shape means

    op: str
    since: int

    def op_name(self) -> str:
        return self.op

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.opset < self.since:
            raise LayerError(
                f"{self.op} is an opset {self.since} operator (this is opset {self.opset})"
            )
        axis = getattr(self, "axis", None)
        if axis is not None:
            rank = len(shape) + 1
            if not -rank <= axis < rank:
                raise LayerError(
                    f"{self.op}: axis={axis} is out of range for a {rank}-d input (batch "
                    f"included): expected {-rank} to {rank - 1}"
                )
        return Out(self.op, shape, rf=())


for _word, (_op, _params, _since) in ELEMENTWISE.items():
    register(Elementwise, names={_word: {"op": _op, "since": _since}}, params=_params)
