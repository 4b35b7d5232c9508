"""Random ONNX nodes for onnx_vectors.py: each builder takes the shape that reaches
the node (channels first, no batch) and the opset, and returns the node twice —
as convcalc text (in a random one of its equivalent spellings) and as the op
type, attributes and weight shapes of the same ONNX node. Parameters are drawn so
that a good share is refused (by shape inference, the checker or onnxruntime) or
makes a size below 1."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spelling import Spell

Shape = tuple[int, ...]


@dataclass
class ONode:
    family: str
    text: str
    op: str
    attrs: dict[str, Any] = field(default_factory=dict)
    # The node's inputs after X, in order: ("weight", shape) is an initializer that
    # counts as a parameter, ("data", numpy-able value, dtype) a constant input, None
    # an omitted optional input.
    inputs: list[Any] = field(default_factory=list)


def _per_dim(rng: random.Random, n: int, lo: int, hi: int, same: float = 0.6) -> list[int]:
    if rng.random() < same:
        return [rng.randint(lo, hi)] * n
    return [rng.randint(lo, hi) for _ in range(n)]


def _divisors(c: int) -> list[int]:
    return [d for d in range(1, c + 1) if c % d == 0]


def _ints(sp: Spell, values: list[int]) -> str:
    return sp.ints(values)


def _padding(
    rng: random.Random, sp: Spell, n: int, attrs: dict[str, Any], keyed: list[Any], hi: int,
    p_key: bool = True,
) -> None:  # fmt: skip
    """auto_pad or explicit pads, in one of their spellings (``p_key``: p= may say
    either; LpPool's p is its norm)."""
    p = ["p"] if p_key else []
    r = rng.random()
    if r < 0.3:
        mode = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"])
        attrs["auto_pad"] = mode
        keyed.append(([*p, "auto_pad"], mode.lower() if rng.random() < 0.7 else mode))
        if rng.random() < 0.04:  # pads as well: a Conv refuses them, a pool ignores them
            attrs["pads"] = [1] * (2 * n)
            keyed[-1] = (["auto_pad"], keyed[-1][1])
            keyed.append((["pads"], "1"))
    elif r < 0.75:
        if rng.random() < 0.4:
            v = rng.randint(0, hi)
            attrs["pads"] = [v] * (2 * n)
            keyed.append(([*p, "pads"], str(v)))
        else:
            pads = [rng.randint(0, hi) for _ in range(2 * n)]
            attrs["pads"] = pads
            keyed.append(([*p, "pads"], sp.ints(pads, scalar=False)))
        if rng.random() < 0.1:
            attrs["auto_pad"] = "NOTSET"
            keyed.append((["auto_pad"], "NOTSET"))


def conv(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    n, c = len(shape) - 1, shape[0]
    k = _per_dim(rng, n, 1, 5)
    s = [1] * n if rng.random() < 0.5 else _per_dim(rng, n, 1, 3)
    d = [1] * n if rng.random() < 0.7 else _per_dim(rng, n, 1, 3)
    g = 1
    if rng.random() < 0.25:
        g = rng.choice(_divisors(c)) if rng.random() < 0.85 else rng.randint(2, 4)
    m = g * rng.randint(1, 4)
    if rng.random() < 0.04:
        m += 1
    attrs: dict[str, Any] = {"kernel_shape": k}
    keyed: list[Any] = [(["k", "kernel_shape"], _ints(sp, k))]
    if s != [1] * n or rng.random() < 0.2:
        attrs["strides"] = s
        keyed.append((["s", "strides"], _ints(sp, s)))
    if d != [1] * n or rng.random() < 0.1:
        attrs["dilations"] = d
        keyed.append((["d", "dilations"], _ints(sp, d)))
    _padding(rng, sp, n, attrs, keyed, 3)
    if g != 1 or rng.random() < 0.1:
        attrs["group"] = g
        keyed.append((["g", "group"], str(g)))
    bias = rng.random() < 0.7
    if not bias or rng.random() < 0.2:
        keyed.append((["bias"], sp.boolean(bias)))
    word = rng.choice(["Conv", "conv", f"conv{n}d"])
    inputs: list[Any] = [("weight", (m, max(c // g, 1), *k))]
    if bias:
        inputs.append(("weight", (m,)))
    return ONode("conv", sp.layer(word, [str(m)], keyed), "Conv", attrs, inputs)


def convt(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    n, c = len(shape) - 1, shape[0]
    k = _per_dim(rng, n, 1, 5)
    s = [1] * n if rng.random() < 0.3 else _per_dim(rng, n, 1, 3)
    d = [1] * n if rng.random() < 0.8 else _per_dim(rng, n, 1, 3)
    g = 1
    if rng.random() < 0.2:
        g = rng.choice(_divisors(c)) if rng.random() < 0.9 else rng.randint(2, 4)
    m = g * rng.randint(1, 4)
    attrs: dict[str, Any] = {"kernel_shape": k}
    keyed: list[Any] = [(["k", "kernel_shape"], _ints(sp, k))]
    if s != [1] * n or rng.random() < 0.2:
        attrs["strides"] = s
        keyed.append((["s", "strides"], _ints(sp, s)))
    if d != [1] * n or rng.random() < 0.1:
        attrs["dilations"] = d
        keyed.append((["d", "dilations"], _ints(sp, d)))
    if rng.random() < 0.3:
        op = [
            rng.randint(0, max(si, di) - 1 if rng.random() < 0.85 else max(si, di))
            for si, di in zip(s, d)
        ]
        attrs["output_padding"] = op
        keyed.append((["op", "output_padding"], _ints(sp, op)))
    if rng.random() < 0.2:
        natural = [
            si * (L - 1) + (attrs.get("output_padding") or [0] * n)[i] + di * (ki - 1) + 1
            for i, (L, si, di, ki) in enumerate(zip(shape[1:], s, d, k))
        ]
        wanted = [max(1, v + rng.randint(-3, 3)) for v in natural]
        attrs["output_shape"] = wanted
        keyed.append((["output_shape"], sp.ints(wanted)))
    else:
        _padding(rng, sp, n, attrs, keyed, 3)
    if g != 1 or rng.random() < 0.1:
        attrs["group"] = g
        keyed.append((["g", "group"], str(g)))
    bias = rng.random() < 0.7
    if not bias or rng.random() < 0.2:
        keyed.append((["bias"], sp.boolean(bias)))
    word = rng.choice(["ConvTranspose", "convtranspose", "deconv", f"convtranspose{n}d"])
    inputs: list[Any] = [("weight", (c, m // g, *k))]
    if bias:
        inputs.append(("weight", (m,)))
    return ONode("convt", sp.layer(word, [str(m)], keyed), "ConvTranspose", attrs, inputs)


def pool(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    n = len(shape) - 1
    op = rng.choice(["MaxPool", "MaxPool", "AveragePool", "AveragePool", "LpPool"])
    k = _per_dim(rng, n, 1, 4)
    attrs: dict[str, Any] = {"kernel_shape": k}
    keyed: list[Any] = [(["k", "kernel_shape"], _ints(sp, k))]
    if rng.random() < 0.6:
        s = _per_dim(rng, n, 1, 4)
        attrs["strides"] = s
        keyed.append((["s", "strides"], _ints(sp, s)))
    if rng.random() < 0.25 and (op == "MaxPool" or rng.random() < 0.5):
        d = _per_dim(rng, n, 1, 3)
        attrs["dilations"] = d
        keyed.append((["d", "dilations"], _ints(sp, d)))
    # pads of at most k - 1 (onnxruntime's limit), now and then one more
    _padding(rng, sp, n, attrs, keyed, max(k) - 1 if rng.random() < 0.9 else max(k), op != "LpPool")
    if rng.random() < 0.4 and (op != "LpPool" or rng.random() < 0.7):
        attrs["ceil_mode"] = 1
        keyed.append((["ceil", "ceil_mode"], sp.boolean(True)))
    if op == "AveragePool" and rng.random() < 0.3:
        attrs["count_include_pad"] = 1
        keyed.append((["count_include_pad"], "1"))
    if op == "LpPool" and rng.random() < 0.5:
        attrs["p"] = rng.choice([1, 2, 3])
        keyed.append((["p"], str(attrs["p"])))
    if op == "MaxPool" and rng.random() < 0.1:
        attrs["storage_order"] = 1
        keyed.append((["storage_order"], "1"))
    words = {
        "MaxPool": ["MaxPool", "maxpool", f"maxpool{n}d"],
        "AveragePool": ["AveragePool", "averagepool", "avgpool", f"avgpool{n}d"],
        "LpPool": ["LpPool", "lppool"],
    }[op]
    return ONode("pool", sp.layer(rng.choice(words), [], keyed), op, attrs)


def global_pool(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    # onnxruntime has no GlobalLpPool to say whether it takes a C-only input.
    op = rng.choice(["GlobalAveragePool", "GlobalMaxPool"] + ["GlobalLpPool"] * (len(shape) > 1))
    words = {
        "GlobalAveragePool": ["GlobalAveragePool", "globalaveragepool", "gap"],
        "GlobalMaxPool": ["GlobalMaxPool", "globalmaxpool", "gmp"],
        "GlobalLpPool": ["GlobalLpPool", "globallppool"],
    }[op]
    return ONode("global", rng.choice(words), op)


def gemm(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    k = shape[-1]
    out = rng.randint(1, 16)
    attrs: dict[str, Any] = {}
    keyed: list[Any] = []
    trans_b = rng.random() < 0.5
    if trans_b or rng.random() < 0.2:
        attrs["transB"] = int(trans_b)
        keyed.append((["transB", "transb"], str(int(trans_b))))
    if rng.random() < 0.2:
        attrs["alpha"] = 0.5
        keyed.append((["alpha"], "0.5"))
    bias = rng.random() < 0.8
    if not bias or rng.random() < 0.2:
        keyed.append((["bias"], sp.boolean(bias)))
    inputs: list[Any] = [("weight", (out, k) if trans_b else (k, out))]
    if bias:
        inputs.append(("weight", (out,)))
    word = rng.choice(["Gemm", "gemm", "linear", "fc", "dense"])
    return ONode("gemm", sp.layer(word, [str(out)], keyed), "Gemm", attrs, inputs)


def matmul(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    out = rng.randint(1, 16)
    word = rng.choice(["MatMul", "matmul"])
    return ONode("matmul", f"{word} {out}", "MatMul", {}, [("weight", (shape[-1], out))])


def flatten(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    attrs: dict[str, Any] = {}
    text = rng.choice(["Flatten", "flatten"])
    if rng.random() < 0.4:
        rank = len(shape) + 1
        # Only the axes that keep the batch apart, and a few out of range.
        attrs["axis"] = rng.choice([1, 1, 1 - rank, rank + 1, -rank - 1])
        text += f" axis={attrs['axis']}"
    return ONode("flatten", text, "Flatten", attrs)


SCALES = [0.25, 0.29, 0.3, 0.33, 0.5, 0.57, 0.7, 0.75, 1.0, 1.3, 1.5, 1.7, 2.0, 2.5, 3.0, 3.3]


def resize(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    rank = len(shape) + 1
    n = rank - 2
    attrs: dict[str, Any] = {
        "mode": rng.choice(["nearest", "linear", "cubic"]) if n <= 2 else "nearest"
    }
    keyed: list[Any] = []
    if attrs["mode"] != "nearest" or rng.random() < 0.2:
        keyed.append((["mode"], attrs["mode"]))
    use_axes = (opset >= 18 and rng.random() < 0.3) or rng.random() < 0.02
    if use_axes:
        axes = sorted(rng.sample(range(1, rank), rng.randint(1, rank - 1)))
        if rng.random() < 0.3:
            axes = [a - rank if rng.random() < 0.5 else a for a in axes]
        attrs["axes"] = axes
        keyed.append((["axes"], sp.ints(axes, scalar=False) if len(axes) > 1 else f"({axes[0]},)"))
        count = len(axes)
    else:
        count = rank
    if rng.random() < 0.6:
        values = [rng.choice(SCALES) for _ in range(count)]
        if not use_axes:
            values[0] = 1.0  # the batch
            if rng.random() < 0.7:
                values[1] = 1.0
        short = not use_axes and values[:2] == [1.0, 1.0] and n > 0 and rng.random() < 0.5
        shown = values[2:] if short else values
        keyed.append((["scales"], ",".join(sp.number(v) for v in shown)))
        inputs: list[Any] = [None, ("data", values, "float32")]
    else:
        values = [rng.randint(1, 40) for _ in range(count)]
        if not use_axes:
            values[0] = 1
            if rng.random() < 0.6:
                values[1] = shape[0]
        keyed.append(
            (["sizes"], sp.ints(values, scalar=False) if len(values) > 1 else f"({values[0]},)")
        )
        inputs = [None, None, ("data", values, "int64")]
        if opset >= 18 and rng.random() < 0.3:
            attrs["keep_aspect_ratio_policy"] = rng.choice(["not_larger", "not_smaller"])
            keyed.append((["keep_aspect_ratio_policy"], attrs["keep_aspect_ratio_policy"]))
    word = rng.choice(["Resize", "resize", "upsample"])
    return ONode("resize", sp.layer(word, [], keyed), "Resize", attrs, inputs)


def batchnorm(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    c = shape[0]
    word = rng.choice(["BatchNormalization", "batchnormalization", "batchnorm", "bn"])
    text = word + (" epsilon=1e-3" if rng.random() < 0.2 else "")
    inputs = [("weight", (c,))] * 2 + [("buffer", (c,))] * 2
    attrs = {"epsilon": 1e-3} if "epsilon" in text else {}
    return ONode("batchnorm", text, "BatchNormalization", attrs, inputs)


def instancenorm(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    c = shape[0]
    word = rng.choice(["InstanceNormalization", "instancenormalization", "instancenorm"])
    return ONode("instancenorm", word, "InstanceNormalization", {}, [("weight", (c,))] * 2)


def layernorm(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    rank = len(shape) + 1
    attrs: dict[str, Any] = {}
    keyed: list[Any] = []
    axis = -1
    if rng.random() < 0.4:
        axis = rng.choice([a for a in range(-rank, rank) if a % rank])  # not the batch
        attrs["axis"] = axis
        keyed.append((["axis"], str(axis)))
    full = (1, *shape)
    normalized = full[axis % rank :]
    bias = rng.random() < 0.8
    if not bias or rng.random() < 0.2:
        keyed.append((["bias"], sp.boolean(bias)))
    inputs: list[Any] = [("weight", normalized)] + ([("weight", normalized)] if bias else [])
    word = rng.choice(["LayerNormalization", "layernormalization", "layernorm", "ln"])
    return ONode("layernorm", sp.layer(word, [], keyed), "LayerNormalization", attrs, inputs)


ELEMENTWISE = {
    "Relu": ["Relu", "relu"],
    "LeakyRelu": ["LeakyRelu", "leakyrelu"],
    "Sigmoid": ["Sigmoid", "sigmoid"],
    "Tanh": ["Tanh", "tanh"],
    "Elu": ["Elu", "elu"],
    "Selu": ["Selu", "selu"],
    "Celu": ["Celu", "celu"],
    "HardSigmoid": ["HardSigmoid", "hardsigmoid"],
    "HardSwish": ["HardSwish", "hardswish"],
    "Softplus": ["Softplus", "softplus"],
    "Softsign": ["Softsign", "softsign"],
    "Mish": ["Mish", "mish"],
    "Gelu": ["Gelu", "gelu"],
    "Identity": ["Identity", "identity"],
    "Dropout": ["Dropout", "dropout"],
    "Softmax": ["Softmax", "softmax"],
    "LogSoftmax": ["LogSoftmax", "logsoftmax"],
}


def elementwise(rng: random.Random, sp: Spell, shape: Shape, opset: int) -> ONode:
    op = rng.choice(list(ELEMENTWISE))
    attrs: dict[str, Any] = {}
    keyed: list[Any] = []
    inputs: list[Any] = []
    if op in ("LeakyRelu", "Elu", "Celu") and rng.random() < 0.4:
        attrs["alpha"] = 0.2
        keyed.append((["alpha"], "0.2"))
    if op in ("Softmax", "LogSoftmax") and rng.random() < 0.5:
        rank = len(shape) + 1
        attrs["axis"] = rng.randint(-rank - 1, rank)
        keyed.append((["axis"], str(attrs["axis"])))
    if op == "Gelu" and rng.random() < 0.3:
        attrs["approximate"] = "tanh"
        keyed.append((["approximate"], "tanh"))
    if op == "Dropout" and rng.random() < 0.5:
        inputs = [("data", 0.25, "float32")]
        keyed.append((["ratio"], "0.25"))
    return ONode("elementwise", sp.layer(rng.choice(ELEMENTWISE[op]), [], keyed), op, attrs, inputs)


# family → (builder, input ranks without the batch it takes: None = any)
BUILDERS: dict[
    str, tuple[Callable[[random.Random, Spell, Shape, int], ONode], tuple[int, ...] | None]
] = {
    "conv": (conv, (2, 3, 4)),
    "convt": (convt, (2, 3, 4)),
    "pool": (pool, (2, 3, 4)),
    "global": (global_pool, (1, 2, 3, 4)),
    "gemm": (gemm, (1, 1, 1, 2)),
    "matmul": (matmul, None),
    "flatten": (flatten, None),
    "resize": (resize, (2, 3, 4, 1)),
    "batchnorm": (batchnorm, None),
    "instancenorm": (instancenorm, (1, 2, 3, 4)),
    "layernorm": (layernorm, None),
    "elementwise": (elementwise, None),
}
