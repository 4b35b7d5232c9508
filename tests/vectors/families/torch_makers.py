"""Random PyTorch modules of every class convcalc models, as constructor calls: the class,
the arguments given (PyTorch's names, in its signature order) and an input shape; the
module itself; and the texts that mean it — a call in a random spelling, ``repr(module)``,
and the short form with PyTorch's positional order. Used by the ``torchcalls`` set
(families/torchcalls.py) and by the print and code-generation generators
(tests/vectors/prints.py, codegen.py).

Arguments are drawn around the corners that make PyTorch refuse a module or its input
(a channel count that disagrees with the input, a kernel larger than the input, groups
that do not divide), so that a good share of the cases are rejections.
"""

from __future__ import annotations

import inspect
import math
import random
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

# torchvision's compiled ops fail to load in this environment; its Python modules only
# need this module to exist.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
from common import Shape, rand_channels, rand_spatial  # noqa: E402
from torch import nn  # noqa: E402
from torchvision.models.convnext import LayerNorm2d  # noqa: E402
from torchvision.ops import StochasticDepth  # noqa: E402
from torchvision.ops.misc import Permute  # noqa: E402

from families.corners import KeepBatch  # noqa: E402
from families.linear import Lookup  # noqa: E402
from families.pool import Unpool  # noqa: E402
from families.transformer_modules import EncoderLayer, SelfAttention  # noqa: E402

# Classes outside torch.nn, with the module path a user would write before them.
TORCHVISION: dict[str, tuple[type[nn.Module], str]] = {
    "LayerNorm2d": (LayerNorm2d, "torchvision.models.convnext."),
    "StochasticDepth": (StochasticDepth, "torchvision.ops."),
    "Permute": (Permute, "torchvision.ops.misc."),
}


def torch_class(name: str) -> type[nn.Module]:
    if name in TORCHVISION:
        return TORCHVISION[name][0]
    cls = getattr(nn, name)
    assert isinstance(cls, type)
    return cls


def signature(name: str) -> list[str]:
    """The class's positional-or-keyword argument names, in order (PyTorch's own)."""
    params = inspect.signature(torch_class(name).__init__).parameters.values()
    return [
        p.name
        for p in params
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]


@dataclass
class Call:
    """A constructor call: ``cls(**given)`` on an input of ``shape`` (batch left out)."""

    cls: str
    given: dict[str, Any]  # PyTorch's argument names → values, in signature order
    shape: Shape
    # required positional arguments that must be written positionally in a call
    # (StochasticDepth's repr order), none by default
    extra: dict[str, Any] = field(default_factory=dict)

    def make(self) -> nn.Module:
        """The module, wrapped to run on a (1, *shape) float tensor as convcalc reads it."""
        m = torch_class(self.cls)(**self.given)
        return wrap(self.cls, m, self.given)


class SeqFirst(nn.Module):
    """A ``batch_first=False`` attention module fed the batch-first tensor convcalc means:
    transposed in and out (convcalc's shapes leave the batch out, so both read the same)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.transpose(0, 1)).transpose(0, 1)

    def counted_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.counted_forward(x.transpose(0, 1)).transpose(0, 1)


def wrap(cls: str, m: nn.Module, given: dict[str, Any]) -> nn.Module:
    """How a module runs on the input convcalc describes (see the vector generator)."""
    if cls == "Embedding":
        return Lookup(m)
    if cls.startswith("MaxUnpool"):
        return Unpool(m)
    if cls == "MultiheadAttention":
        inner: nn.Module = SelfAttention(m)  # type: ignore[arg-type]
        return inner if given.get("batch_first") else SeqFirst(inner)
    if cls == "TransformerEncoderLayer":
        inner = EncoderLayer(m)  # type: ignore[arg-type]
        return inner if given.get("batch_first") else SeqFirst(inner)
    return KeepBatch(m)


# --------------------------------------------------------------------------------------------
# random arguments, one maker per class family
# --------------------------------------------------------------------------------------------


def _p(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _per_dim(
    rng: random.Random, n: int, values: list[int], *, short: bool = True
) -> int | tuple[int, ...]:
    """An int, or a tuple with one entry per dimension (sometimes all alike); with
    ``short``, rarely a 1-tuple for several dimensions (which some classes broadcast and
    others refuse)."""
    if short and n > 1 and _p(rng, 0.04):
        return (rng.choice(values),)
    if _p(rng, 0.45):
        return rng.choice(values)
    if _p(rng, 0.3):
        v = rng.choice(values)
        return (v,) * n
    return tuple(rng.choice(values) for _ in range(n))


def _input(rng: random.Random, n: int, channels: int | None = None) -> Shape:
    c = rand_channels(rng) if channels is None else channels
    return [c, *rand_spatial(rng, n)]


def _cin(rng: random.Random, shape: Shape) -> int:
    """in_channels: the input's, or (a rejection) another count."""
    return (
        shape[0] if _p(rng, 0.88) else rng.choice([c for c in (1, 2, 3, 4, 6, 8) if c != shape[0]])
    )


def _rank(rng: random.Random, n: int) -> int:
    """Spatial dims of the input for an n-d layer: n, rarely another (a rejection). Never
    n - 1: convcalc reads a shape of n sizes before an n-d layer as a map whose channel
    count is unknown (README: "Whole networks")."""
    if _p(rng, 0.07):
        return rng.choice([d for d in (1, 2, 3) if d not in (n, n - 1)])
    return n


def m_conv(rng: random.Random, n: int, transposed: bool) -> Call:
    shape = _input(rng, _rank(rng, n))
    cin = _cin(rng, shape)
    groups = 1
    if _p(rng, 0.25):
        groups = rng.choice([g for g in (1, 2, 3, 4) if g <= max(cin, 1)])
    out = rng.choice([1, 2, 4, 6, 8, 12, 16])
    if groups > 1 and _p(rng, 0.8):
        out = groups * rng.choice([1, 2, 3])
    given: dict[str, Any] = {
        "in_channels": cin,
        "out_channels": out,
        "kernel_size": _per_dim(rng, n, [1, 2, 3, 3, 5, 7]),
    }
    if _p(rng, 0.5):
        given["stride"] = _per_dim(rng, n, [1, 1, 2, 3])
    if _p(rng, 0.5):
        if not transposed and _p(rng, 0.15):
            given["padding"] = rng.choice(["same", "valid"])
        else:
            given["padding"] = _per_dim(rng, n, [0, 1, 2, 3])
    if transposed and _p(rng, 0.35):
        given["output_padding"] = _per_dim(rng, n, [0, 0, 1, 2])
    if _p(rng, 0.3):
        given["dilation"] = _per_dim(rng, n, [1, 1, 2, 3])
    if groups != 1 or _p(rng, 0.1):
        given["groups"] = groups
    if _p(rng, 0.3):
        given["bias"] = rng.choice([True, False])
    if not transposed and _p(rng, 0.15):
        given["padding_mode"] = rng.choice(["zeros", "reflect", "replicate", "circular"])
    cls = f"ConvTranspose{n}d" if transposed else f"Conv{n}d"
    return Call(cls, _ordered(cls, given), shape)


def m_maxpool(rng: random.Random, n: int) -> Call:
    shape = _input(rng, _rank(rng, n))
    k = _per_dim(rng, n, [1, 2, 2, 3, 3, 4, 5])
    given: dict[str, Any] = {"kernel_size": k}
    if _p(rng, 0.5):
        given["stride"] = None if _p(rng, 0.2) else _per_dim(rng, n, [1, 2, 2, 3])
    if _p(rng, 0.45):
        given["padding"] = _per_dim(rng, n, [0, 0, 1, 1, 2])
    if _p(rng, 0.3):
        given["dilation"] = _per_dim(rng, n, [1, 1, 2])
    if _p(rng, 0.15):
        given["return_indices"] = False
    if _p(rng, 0.35):
        given["ceil_mode"] = rng.choice([True, False])
    cls = f"MaxPool{n}d"
    return Call(cls, _ordered(cls, given), shape)


def m_avgpool(rng: random.Random, n: int) -> Call:
    shape = _input(rng, _rank(rng, n))
    given: dict[str, Any] = {"kernel_size": _per_dim(rng, n, [1, 2, 2, 3, 3, 4])}
    if _p(rng, 0.5):
        given["stride"] = None if _p(rng, 0.2) else _per_dim(rng, n, [1, 2, 2, 3])
    if _p(rng, 0.45):
        given["padding"] = _per_dim(rng, n, [0, 0, 1, 1, 2])
    if _p(rng, 0.3):
        given["ceil_mode"] = rng.choice([True, False])
    if _p(rng, 0.25):
        given["count_include_pad"] = rng.choice([True, False])
    if n > 1 and _p(rng, 0.15):
        given["divisor_override"] = rng.choice([None, 1, 2, 3])
    cls = f"AvgPool{n}d"
    return Call(cls, _ordered(cls, given), shape)


def m_adaptive(rng: random.Random, n: int, op: str) -> Call:
    # (n + 1 dims would hold the batch in the mean that the all-ones sizes take: convcalc
    # keeps the batch apart; more dims are fine)
    if op == "Max" or n == 1:
        shape = _input(rng, _rank(rng, n))
    else:
        shape = _input(rng, 3 if n == 2 and _p(rng, 0.1) else n)
    sizes = [1, 1, 2, 3, 4, 7]
    if n > 1 and _p(rng, 0.2):
        size: Any = tuple(None if _p(rng, 0.4) else rng.choice(sizes) for _ in range(n))
    else:
        size = _per_dim(rng, n, sizes)
    given: dict[str, Any] = {"output_size": size}
    cls = f"Adaptive{op}Pool{n}d"
    if op == "Max" and _p(rng, 0.15):
        given["return_indices"] = False
    return Call(cls, _ordered(cls, given), shape)


def m_lppool(rng: random.Random, n: int) -> Call:
    shape = _input(rng, _rank(rng, n))
    given: dict[str, Any] = {
        "norm_type": rng.choice([1, 2, 2, 3, 1.5]),
        "kernel_size": _per_dim(rng, n, [1, 2, 2, 3]),
    }
    if _p(rng, 0.4):
        given["stride"] = None if _p(rng, 0.3) else _per_dim(rng, n, [1, 2])
    if _p(rng, 0.3):
        given["ceil_mode"] = rng.choice([True, False])
    cls = f"LPPool{n}d"
    return Call(cls, _ordered(cls, given), shape)


def m_maxunpool(rng: random.Random, n: int) -> Call:
    shape = _input(rng, n, channels=rng.choice([1, 2, 3]))
    shape[1:] = [min(s, 10) for s in shape[1:]]
    given: dict[str, Any] = {"kernel_size": _per_dim(rng, n, [1, 2, 2, 3])}
    if _p(rng, 0.4):
        given["stride"] = _per_dim(rng, n, [1, 2])
    if _p(rng, 0.3):
        given["padding"] = _per_dim(rng, n, [0, 1])
    cls = f"MaxUnpool{n}d"
    return Call(cls, _ordered(cls, given), shape)


def _eps(rng: random.Random) -> float:
    return rng.choice([1e-5, 1e-05, 1e-3, 1e-6, 0.1, 0.001])


def m_batchnorm(rng: random.Random, n: int, instance: bool) -> Call:
    rank = n if not (n == 1 and not instance and _p(rng, 0.3)) else 0
    shape = [rand_channels(rng), *rand_spatial(rng, rank)] if rank else [rand_channels(rng)]
    if _p(rng, 0.06):
        shape = _input(rng, rng.choice([d for d in (1, 2, 3) if d not in (n, n - 1)]))
    given: dict[str, Any] = {"num_features": _cin(rng, shape)}
    if _p(rng, 0.4):
        given["eps"] = _eps(rng)
    if _p(rng, 0.3):
        given["momentum"] = rng.choice([0.1, 0.01, None])
    if _p(rng, 0.4):
        given["affine"] = rng.choice([True, False])
    if _p(rng, 0.4):
        given["track_running_stats"] = rng.choice([True, False])
    if _p(rng, 0.25):
        given["bias"] = rng.choice([True, False])
    cls = f"{'InstanceNorm' if instance else 'BatchNorm'}{n}d"
    return Call(cls, _ordered(cls, given), shape)


def _trailing(rng: random.Random, shape: Shape) -> int | tuple[int, ...] | list[int]:
    k = rng.choice([1, 1, 1, 2]) if len(shape) > 1 else 1
    dims = shape[-k:]
    if _p(rng, 0.1):
        dims = [d + 1 for d in dims]  # a rejection
    if k == 1 and _p(rng, 0.5):
        return dims[0]
    return list(dims) if _p(rng, 0.3) else tuple(dims)


def m_layernorm(rng: random.Random) -> Call:
    shape = _any_shape(rng) if _p(rng, 0.5) else [rng.randint(1, 12), rng.choice([4, 8, 16])]
    given: dict[str, Any] = {"normalized_shape": _trailing(rng, shape)}
    if _p(rng, 0.4):
        given["eps"] = _eps(rng)
    if _p(rng, 0.3):
        given["elementwise_affine"] = rng.choice([True, False])
    if _p(rng, 0.3):
        given["bias"] = rng.choice([True, False])
    return Call("LayerNorm", _ordered("LayerNorm", given), shape)


def m_rmsnorm(rng: random.Random) -> Call:
    shape = [rng.randint(1, 12), rng.choice([4, 8, 16])]
    given: dict[str, Any] = {"normalized_shape": _trailing(rng, shape)}
    if _p(rng, 0.4):
        given["eps"] = rng.choice([None, 1e-6, 1e-5])
    if _p(rng, 0.3):
        given["elementwise_affine"] = rng.choice([True, False])
    return Call("RMSNorm", _ordered("RMSNorm", given), shape)


def m_layernorm2d(rng: random.Random) -> Call:
    shape = _input(rng, 2) if _p(rng, 0.93) else _input(rng, 3)
    c = shape[0] if _p(rng, 0.9) else shape[0] + 1
    given: dict[str, Any] = {"normalized_shape": c if _p(rng, 0.6) else (c,)}
    if _p(rng, 0.4):
        given["eps"] = rng.choice([1e-6, 1e-5])
    if _p(rng, 0.2):
        given["elementwise_affine"] = rng.choice([True, False])
    return Call("LayerNorm2d", _ordered("LayerNorm2d", given), shape)


def m_groupnorm(rng: random.Random) -> Call:
    shape = _input(rng, rng.choice([1, 2, 2, 3]))
    c = _cin(rng, shape)
    groups = rng.choice([g for g in (1, 2, 3, 4) if g <= c] or [1])
    if _p(rng, 0.1):
        groups = rng.choice([2, 3, 5])
    given: dict[str, Any] = {"num_groups": groups, "num_channels": c}
    if _p(rng, 0.3):
        given["eps"] = _eps(rng)
    if _p(rng, 0.35):
        given["affine"] = rng.choice([True, False])
    if _p(rng, 0.25):
        given["bias"] = rng.choice([True, False])
    return Call("GroupNorm", _ordered("GroupNorm", given), shape)


def m_lrn(rng: random.Random) -> Call:
    shape = _input(rng, rng.choice([1, 2, 3])) if _p(rng, 0.94) else [rand_channels(rng)]
    given: dict[str, Any] = {"size": rng.choice([1, 2, 3, 5])}
    for name, values in (("alpha", [1e-4, 0.001]), ("beta", [0.75, 0.5]), ("k", [1.0, 2.0, 2])):
        if _p(rng, 0.3):
            given[name] = rng.choice(values)
    return Call("LocalResponseNorm", _ordered("LocalResponseNorm", given), shape)


def _any_shape(rng: random.Random) -> Shape:
    n = rng.choice([0, 1, 1, 2, 2, 3])
    return [rand_channels(rng), *rand_spatial(rng, n)] if n else [rand_channels(rng)]


# element-wise classes: name → {argument: candidate values}
ELEMENTWISE: dict[str, dict[str, list[Any]]] = {
    "ReLU": {"inplace": [True, False]},
    "ReLU6": {"inplace": [True, False]},
    "GELU": {"approximate": ["none", "tanh"]},
    "SiLU": {"inplace": [True, False]},
    "Mish": {"inplace": [True, False]},
    "Sigmoid": {},
    "Tanh": {},
    "Hardswish": {"inplace": [True, False]},
    "Hardsigmoid": {"inplace": [True, False]},
    "Hardtanh": {"min_val": [-1.0, -2.0, 0.0, -0.5], "max_val": [1.0, 2.0, 6.0, -3.0]},
    "LeakyReLU": {"negative_slope": [0.01, 0.2, 0.1, 1e-2], "inplace": [True, False]},
    "ELU": {"alpha": [1.0, 0.5, 2.0], "inplace": [True, False]},
    "CELU": {"alpha": [1.0, 0.5, 2.0, 0.0], "inplace": [True, False]},
    "SELU": {"inplace": [True, False]},
    "Softplus": {"beta": [1.0, 2.0, 0.5], "threshold": [20.0, 10.0, 5]},
    "Softsign": {},
    "LogSigmoid": {},
    "Tanhshrink": {},
    "Softmax": {"dim": [None, 1, -1, 0, 2, 5]},
    "LogSoftmax": {"dim": [None, 1, -1, 2]},
    "Softmin": {"dim": [None, 1, -1, 2]},
    "Identity": {},
    "Dropout": {"p": [0.5, 0.1, 0.0, 1.0, 1.5], "inplace": [True, False]},
    "Dropout1d": {"p": [0.5, 0.2], "inplace": [True, False]},
    "Dropout2d": {"p": [0.5, 0.2], "inplace": [True, False]},
    "Dropout3d": {"p": [0.5, 0.2], "inplace": [True, False]},
    "AlphaDropout": {"p": [0.5, 0.2, -0.1], "inplace": [True, False]},
    "PReLU": {"num_parameters": [1, 1, 3, 4, 8], "init": [0.25, 0.1]},
}


def m_elementwise(rng: random.Random, cls: str) -> Call:
    shape = _any_shape(rng)
    if cls == "Dropout1d" and _p(rng, 0.8):
        shape = [rand_channels(rng), *rand_spatial(rng, 1)] if _p(rng, 0.5) else [3]
    given = {name: rng.choice(values) for name, values in ELEMENTWISE[cls].items() if _p(rng, 0.6)}
    if cls == "PReLU" and "num_parameters" in given and _p(rng, 0.6):
        given["num_parameters"] = shape[0]
    return Call(cls, _ordered(cls, given), shape)


def m_upsample(rng: random.Random, cls: str) -> Call:
    n = rng.choice([1, 2, 2, 3]) if cls == "Upsample" else 2
    shape = _input(rng, n)
    shape[1:] = [min(s, 12) for s in shape[1:]]
    given: dict[str, Any] = {}
    if _p(rng, 0.5):
        given["size"] = _per_dim(rng, n, [1, 4, 8, 12, 16])
    else:
        scale: Any = rng.choice([2, 2.0, 1.5, 3, 0.5])
        if _p(rng, 0.25):
            scale = tuple(rng.choice([2.0, 1.5, 1.0, 3.0]) for _ in range(n))
        given["scale_factor"] = scale
    if _p(rng, 0.05):
        given["size"], given["scale_factor"] = 4, 2.0  # both: refused
    if cls == "Upsample":
        if _p(rng, 0.7):
            modes = ["nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic"]
            given["mode"] = rng.choice([*modes, "trilinear"])
        if given.get("mode") in ("linear", "bilinear", "bicubic", "trilinear") and _p(rng, 0.4):
            given["align_corners"] = rng.choice([True, False])
        if _p(rng, 0.1):
            given["recompute_scale_factor"] = rng.choice([None, True, False])
    return Call(cls, _ordered(cls, given), shape)


def m_pixelshuffle(rng: random.Random, inverse: bool) -> Call:
    r = rng.choice([1, 2, 2, 3])
    if inverse:
        shape = [rand_channels(rng), r * rng.randint(1, 6), r * rng.randint(1, 6)]
        if _p(rng, 0.15):
            shape[2] += 1
        cls, name = "PixelUnshuffle", "downscale_factor"
    else:
        shape = [r * r * rng.choice([1, 2]), rng.randint(1, 8), rng.randint(1, 8)]
        if _p(rng, 0.15):
            shape[0] += 1
        cls, name = "PixelShuffle", "upscale_factor"
    return Call(cls, {name: r}, shape)


def m_channelshuffle(rng: random.Random) -> Call:
    shape = _input(rng, rng.choice([1, 2]), channels=rng.choice([2, 4, 6, 8]))
    return Call("ChannelShuffle", {"groups": rng.choice([1, 2, 3, 4])}, shape)


def m_flatten(rng: random.Random) -> Call:
    shape = _any_shape(rng)
    given: dict[str, Any] = {}
    if _p(rng, 0.5):
        # (-2 on a C input is the batch: convcalc keeps it apart)
        given["start_dim"] = rng.choice([1, 1, 2, -2] if len(shape) > 1 else [1, 1, 2])
    if _p(rng, 0.5):
        given["end_dim"] = rng.choice([-1, -1, 2, 3])
    return Call("Flatten", _ordered("Flatten", given), shape)


def m_unflatten(rng: random.Random) -> Call:
    a, b = rng.randint(1, 6), rng.randint(1, 6)
    shape = [a * b, *rand_spatial(rng, 1)] if _p(rng, 0.5) else [a * b]
    sizes: Any = (a, b) if _p(rng, 0.8) else (a, b + 1)
    if _p(rng, 0.2):
        sizes = (-1, b)
    if _p(rng, 0.2):
        sizes = list(sizes)
    return Call("Unflatten", {"dim": 1, "unflattened_size": sizes}, shape)


def m_linear(rng: random.Random) -> Call:
    shape = _any_shape(rng) if _p(rng, 0.4) else [rng.choice([4, 8, 16, 32, 64])]
    fin = shape[-1] if _p(rng, 0.88) else shape[-1] + 1
    given: dict[str, Any] = {"in_features": fin, "out_features": rng.choice([1, 4, 10, 16])}
    if _p(rng, 0.3):
        given["bias"] = rng.choice([True, False])
    return Call("Linear", given, shape)


def m_embedding(rng: random.Random) -> Call:
    shape = [rng.randint(1, 12)] if _p(rng, 0.7) else [rng.randint(1, 4), rng.randint(1, 6)]
    num = rng.choice([1, 5, 10, 100])
    given: dict[str, Any] = {"num_embeddings": num, "embedding_dim": rng.choice([2, 3, 8])}
    if _p(rng, 0.3):
        given["padding_idx"] = rng.choice([0, num - 1, -1, num])
    if _p(rng, 0.2):
        given["max_norm"] = rng.choice([1, 1.0, 2.5])
    if _p(rng, 0.15):
        given["norm_type"] = rng.choice([2.0, 3, 1.0])
    if _p(rng, 0.15):
        given["scale_grad_by_freq"] = rng.choice([True, False])
    if _p(rng, 0.15):
        given["sparse"] = rng.choice([True, False])
    return Call("Embedding", _ordered("Embedding", given), shape)


def m_glu(rng: random.Random) -> Call:
    shape = _any_shape(rng)
    shape[-1] = rng.choice([2, 4, 6, shape[-1]])
    given = {"dim": rng.choice([-1, 1, 2])} if _p(rng, 0.6) else {}
    return Call("GLU", given, shape)


def m_pad(rng: random.Random, kind: str, n: int) -> Call:
    shape = _input(rng, rng.choice([n, n, n, max(n - 1, 1), min(n + 1, 3)]))
    if _p(rng, 0.5):
        padding: Any = rng.choice([0, 1, 1, 2, 3])
    else:
        padding = tuple(rng.choice([0, 1, 2, -1]) for _ in range(2 * n))
    given: dict[str, Any] = {"padding": padding}
    if kind == "ConstantPad":
        given["value"] = rng.choice([0, 0.0, 1.5, -1.0, 3])
    return Call(f"{kind}{n}d", given, shape)


def _tokens(rng: random.Random, e: int) -> Shape:
    return [rng.randint(1, 10), e if _p(rng, 0.92) else e + 2]


def m_mha(rng: random.Random) -> Call:
    e = rng.choice([4, 6, 8, 12, 16])
    heads = rng.choice([h for h in (1, 2, 3, 4) if e % h == 0] + ([5] if _p(rng, 0.1) else []))
    given: dict[str, Any] = {"embed_dim": e, "num_heads": heads}
    if _p(rng, 0.3):
        given["dropout"] = rng.choice([0.0, 0.1])
    if _p(rng, 0.3):
        given["bias"] = rng.choice([True, False])
    if _p(rng, 0.3):
        given["add_bias_kv"] = rng.choice([True, False])
    if _p(rng, 0.2):
        given["add_zero_attn"] = rng.choice([True, False])
    if _p(rng, 0.6):
        given["batch_first"] = rng.choice([True, True, False])
    return Call("MultiheadAttention", _ordered("MultiheadAttention", given), _tokens(rng, e))


def m_encoder(rng: random.Random) -> Call:
    e = rng.choice([4, 8, 12, 16])
    heads = rng.choice([h for h in (1, 2, 4) if e % h == 0])
    given: dict[str, Any] = {"d_model": e, "nhead": heads}
    if _p(rng, 0.7):
        given["dim_feedforward"] = rng.choice([8, 16, 32])
    if _p(rng, 0.3):
        given["dropout"] = rng.choice([0.0, 0.1])
    if _p(rng, 0.3):
        given["activation"] = rng.choice(["relu", "gelu"])
    if _p(rng, 0.2):
        given["layer_norm_eps"] = rng.choice([1e-5, 1e-6])
    if _p(rng, 0.6):
        given["batch_first"] = rng.choice([True, True, False])
    if _p(rng, 0.3):
        given["norm_first"] = rng.choice([True, False])
    if _p(rng, 0.3):
        given["bias"] = rng.choice([True, False])
    cls = "TransformerEncoderLayer"
    return Call(cls, _ordered(cls, given), _tokens(rng, e))


def m_stochasticdepth(rng: random.Random) -> Call:
    given = {"p": rng.choice([0.0, 0.1, 0.5, 1.0, 1.2]), "mode": rng.choice(["row", "batch"])}
    return Call("StochasticDepth", given, _any_shape(rng))


def m_permute(rng: random.Random) -> Call:
    shape = _input(rng, rng.choice([1, 2]))
    dims = list(range(1, len(shape) + 1))
    rng.shuffle(dims)
    if _p(rng, 0.1):
        dims = dims[:-1]  # one dim short: refused
    return Call("Permute", {"dims": [0, *dims]}, shape)


def _ordered(cls: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` in the order of the class's signature (keyword-only ones last)."""
    order = signature(cls)
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(given.items(), key=lambda item: rank.get(item[0], len(order))))


Maker = Callable[[random.Random], Call]


def _makers() -> dict[str, Maker]:
    out: dict[str, Maker] = {}
    for n in (1, 2, 3):
        out[f"Conv{n}d"] = lambda rng, n=n: m_conv(rng, n, False)
        out[f"ConvTranspose{n}d"] = lambda rng, n=n: m_conv(rng, n, True)
        out[f"MaxPool{n}d"] = lambda rng, n=n: m_maxpool(rng, n)
        out[f"AvgPool{n}d"] = lambda rng, n=n: m_avgpool(rng, n)
        out[f"AdaptiveAvgPool{n}d"] = lambda rng, n=n: m_adaptive(rng, n, "Avg")
        out[f"AdaptiveMaxPool{n}d"] = lambda rng, n=n: m_adaptive(rng, n, "Max")
        out[f"LPPool{n}d"] = lambda rng, n=n: m_lppool(rng, n)
        out[f"MaxUnpool{n}d"] = lambda rng, n=n: m_maxunpool(rng, n)
        out[f"BatchNorm{n}d"] = lambda rng, n=n: m_batchnorm(rng, n, False)
        out[f"InstanceNorm{n}d"] = lambda rng, n=n: m_batchnorm(rng, n, True)
        for kind in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
            out[f"{kind}{n}d"] = lambda rng, kind=kind, n=n: m_pad(rng, kind, n)
    out["LayerNorm"] = m_layernorm
    out["RMSNorm"] = m_rmsnorm
    out["LayerNorm2d"] = m_layernorm2d
    out["GroupNorm"] = m_groupnorm
    out["LocalResponseNorm"] = m_lrn
    for cls in ELEMENTWISE:
        out[cls] = lambda rng, cls=cls: m_elementwise(rng, cls)
    for cls in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        out[cls] = lambda rng, cls=cls: m_upsample(rng, cls)
    out["PixelShuffle"] = lambda rng: m_pixelshuffle(rng, False)
    out["PixelUnshuffle"] = lambda rng: m_pixelshuffle(rng, True)
    out["ChannelShuffle"] = m_channelshuffle
    out["Flatten"] = m_flatten
    out["Unflatten"] = m_unflatten
    out["Linear"] = m_linear
    out["Embedding"] = m_embedding
    out["GLU"] = m_glu
    out["MultiheadAttention"] = m_mha
    out["TransformerEncoderLayer"] = m_encoder
    out["StochasticDepth"] = m_stochasticdepth
    out["Permute"] = m_permute
    return out


MAKERS = _makers()

# Whose print is not a one-line call of all its arguments: attention prints its
# submodules (not num_heads), torchvision's Permute prints no dims.
NO_REPR = frozenset({"MultiheadAttention", "TransformerEncoderLayer", "Permute"})


# --------------------------------------------------------------------------------------------
# spellings
# --------------------------------------------------------------------------------------------


def py_value(rng: random.Random, value: Any) -> str:
    """A value as Python (a call) writes it, in a random style."""
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return rng.choice([repr(value), _float_style(value)])
    if isinstance(value, str):
        return rng.choice([f"'{value}'", f'"{value}"'])
    items = [py_value(rng, v) for v in value]
    if isinstance(value, list) or _p(rng, 0.1):
        return "[" + ", ".join(items) + "]"
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + rng.choice([", ", ","]).join(items) + ")"


def _float_style(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value)}."
    return f"{value:e}".replace("e-0", "e-").replace("e+0", "e")


def short_value(rng: random.Random, value: Any) -> str:
    """A value as convcalc's short form writes it: words bare, tuples without blanks."""
    if value is None:
        return rng.choice(["None", "none"])
    if isinstance(value, bool):
        return rng.choice(["true", "True", "yes", "1"] if value else ["false", "False", "no", "0"])
    if isinstance(value, (int, float)):
        return py_value(rng, value)
    if isinstance(value, str):
        return value
    items = [short_value(rng, v) for v in value]
    styles = ["(" + ",".join(items) + ")", "[" + ",".join(items) + "]"]
    if len(items) > 1:
        styles.append(",".join(items))
        if all(isinstance(v, int) and v >= 0 for v in value):
            styles.append("x".join(items))
    return rng.choice(styles)


def _positional_room(call: Call) -> int:
    """How many leading arguments may be written positionally: the longest run of
    given arguments from the start of the signature."""
    order = signature(call.cls)
    room = 0
    for name in order:
        if name not in call.given:
            break
        room += 1
    return room


def call_text(rng: random.Random, call: Call) -> str:
    """``nn.Conv2d(3, 64, kernel_size=3)``: a random number of leading arguments written
    positionally, the rest as keywords in a random order, a random module prefix."""
    room = _positional_room(call)
    k = rng.randint(0, room) if _p(rng, 0.3) else room
    names = list(call.given)
    keyed = names[k:]
    rng.shuffle(keyed)
    parts = [py_value(rng, call.given[n]) for n in names[:k]]
    parts += [f"{n}={py_value(rng, call.given[n])}" for n in keyed]
    if call.cls in TORCHVISION:
        prefix = rng.choice(["", TORCHVISION[call.cls][1]])
    else:
        prefix = rng.choice(["", "", "nn.", "torch.nn."])
    sep = rng.choice([", ", ", ", ","])
    return f"{prefix}{call.cls}({sep.join(parts)})"


# The kinds whose short form gives its first positional value another meaning than
# PyTorch's order: more values than that switch to PyTorch's order.
SHORT_FIRST = {"Linear": 1, **{f"Conv{n}d": 1 for n in (1, 2, 3)}}
SHORT_FIRST |= {f"ConvTranspose{n}d": 1 for n in (1, 2, 3)}


def short_text(rng: random.Random, call: Call) -> str | None:
    """``conv2d 3 64 3 stride=2``: the class name in lower case, leading values in
    PyTorch's order, the rest as PyTorch's keys (None when the form cannot say it)."""
    n = int(call.cls[-2]) if call.cls[-1] == "d" and call.cls[-2].isdigit() else 0
    for value in call.given.values():
        if isinstance(value, tuple) and len(value) == 1 and (n > 1 or call.cls == "LPPool1d"):
            return None  # the short form reads a 1-tuple as one number: not PyTorch's meaning
    room = _positional_room(call)
    for i, value in enumerate(call.given.values()):
        if value in ("relu", "gelu"):  # a kind word: it would start a layer of its own
            room = min(room, i)
    least = SHORT_FIRST.get(call.cls, 0) + 1
    numbers = 0
    names = list(call.given)
    k = room
    if room > least and _p(rng, 0.5):
        k = rng.randint(least, room)
    for name in names[:k]:
        value = call.given[name]
        numbers += not (value is None or isinstance(value, (str, bool)))
    if numbers < least or k == 0:
        return None
    keyed = names[k:]
    rng.shuffle(keyed)
    parts = [short_value(rng, call.given[n]) for n in names[:k]]
    parts += [f"{n}={short_value(rng, call.given[n])}" for n in keyed]
    return " ".join([call.cls.lower(), *parts])


_BARE = re.compile(r"=(same|valid|zeros|reflect|replicate|circular|row|batch)\b")


_IMPLIED_MODE = re.compile(r"^(Upsampling(?:Nearest|Bilinear)2d\(.*), mode='\w+'\)$")


def repr_call(text: str) -> str:
    """A one-line repr as a Python call: the bare words some reprs print quoted, and
    without the mode UpsamplingNearest2d and UpsamplingBilinear2d print but do not take."""
    return _IMPLIED_MODE.sub(r"\1)", _BARE.sub(r"='\1'", text))


def rebuild(text: str) -> nn.Module:
    """The module a one-line repr (our own, generated here) means, built by PyTorch."""
    namespace = {name: cls for name, (cls, _) in TORCHVISION.items()}
    namespace |= {name: getattr(nn, name) for name in MAKERS if name not in TORCHVISION}
    # (the generator evaluates its own text, never a user's)
    return eval(repr_call(text), {"__builtins__": {}}, namespace)


# --------------------------------------------------------------------------------------------
# chains: calls that follow one another (for printed models and generated code)
# --------------------------------------------------------------------------------------------

# Classes a chain of plain modules can hold: an embedding needs indices, an unpool the
# indices of a pool, attention's modules take several tensors (or give a tuple), and
# torchvision's Permute prints no dims.
CHAIN_CLASSES = [
    cls
    for cls in MAKERS
    if cls not in ("Embedding", "MultiheadAttention", "TransformerEncoderLayer", "Permute")
    and not cls.startswith("MaxUnpool")
]


def _dims_of(cls: str) -> int | None:
    """n of an n-d class (Conv2d: 2), None for the others."""
    if cls[-1] == "d" and cls[-2].isdigit() and not cls.startswith("Upsampling"):
        return int(cls[-2])
    return None


def fit(rng: random.Random, call: Call, shape: Shape) -> Call | None:
    """``call`` made to follow a tensor of ``shape``: the arguments that fix the input
    (in_channels, num_features, in_features, normalized_shape, …) set from it; None when
    the class does not take a tensor of that rank."""
    n = _dims_of(call.cls)
    cls = call.cls
    batchnorm1d_of_features = cls == "BatchNorm1d" and len(shape) == 1
    if n is not None and len(shape) != n + 1 and not batchnorm1d_of_features:
        return None
    given = dict(call.given)
    c = shape[0]
    if "in_channels" in given:
        given["in_channels"] = c
        groups = given.get("groups", 1)
        if c % groups or given["out_channels"] % groups:
            given.pop("groups", None)
    for key in ("num_features", "num_channels"):
        if key in given:
            given[key] = c
    if "num_groups" in given:
        given["num_groups"] = rng.choice([g for g in (1, 2, 4) if c % g == 0])
    if "in_features" in given:
        given["in_features"] = shape[-1]
    if cls in ("LayerNorm", "RMSNorm"):
        given["normalized_shape"] = shape[-1] if _p(rng, 0.6) else tuple(shape[-2:])
    if cls == "LayerNorm2d":
        if len(shape) != 3:
            return None
        given["normalized_shape"] = c
    if cls == "PReLU":
        given["num_parameters"] = rng.choice([1, c])
    if cls == "Unflatten":
        given["unflattened_size"] = rng.choice([(1, c), (c, 1), (-1, 1)])
    if cls in ("GLU",) and shape[-1] % 2:
        return None
    return Call(cls, given, list(shape))


def print_means_it(call: Call, x: torch.Tensor) -> bool:
    """Whether the module's one-line print, built again, gives the module's own answer on
    ``x``: AvgPool2d prints no ceil_mode, Upsample no align_corners."""
    from common import Layer, run_layer

    module = torch_class(call.cls)(**call.given)
    text = repr(module)
    if "\n" in text:
        return False
    try:
        again = rebuild(text)
    except Exception:
        return False
    answers = []
    for m in (module, again):
        _, rec, err, _ = run_layer(Layer("print", "", lambda m=m: wrap(call.cls, m, call.given)), x)
        answers.append((rec, None if err is None else err["type"]))
    return answers[0] == answers[1]


def random_chain(
    rng: random.Random, shape: Shape, length: int, fail_rate: float, *, printed: bool = False
) -> tuple[list[Call], Any]:
    """Calls that run one after another on ``shape`` (each one probed in torch), with the
    Chain that ran them; with probability ``fail_rate`` the last one is refused. With
    ``printed``, only modules whose print means them (``print_means_it``)."""
    from common import Chain, Layer

    chain = Chain(shape)
    calls: list[Call] = []
    fail_at = length - 1 if _p(rng, fail_rate) else None
    for i in range(length):
        current = chain.shape
        for _attempt in range(60):
            cls = rng.choice(CHAIN_CLASSES)
            call = fit(rng, MAKERS[cls](rng), current)
            if call is None:
                continue
            layer = Layer(cls, "", call.make)
            ok, out, stable = chain.probe(layer)
            if not stable:
                continue
            if ok and (out is None or 0 in out or math.prod(out) > 60_000 or len(out) > 4):
                continue
            if ok == (i == fail_at):
                continue
            if not ok:
                try:  # refused when it runs, not when it is built: it has a print
                    torch_class(cls)(**call.given)
                except Exception:
                    continue
            if printed and not print_means_it(call, chain.x):
                continue
            chain.add(layer)
            calls.append(call)
            break
        if not chain.ok:
            break
    return calls, chain
