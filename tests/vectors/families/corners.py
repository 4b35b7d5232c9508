"""Corner cases where convcalc and PyTorch once disagreed (issue 10, items 2, 19, 20), each
family drawn at random around its corner so that the rules cannot drift again:

* F.pad's four modes around their limits: circular pads that crop (negative) or wrap
  (including the copies PyTorch refuses when a crop is larger than the size, or when the
  wrapped part overlaps itself, which it detects with a batch of 1), reflect and replicate
  outputs that end up empty, constant pairs that reach the batch dimension (a pair summing
  to 0 keeps the batch), a ``value=`` with the non-constant modes (0 is accepted) and values
  beyond float32;
* activation scalars: Hardtanh's max_val > min_val, CELU's alpha = 0 and 1/alpha beyond
  float32, every converted scalar beyond float32 (an infinity passes);
* dropout1d's rank check (dropout2d/3d only warn);
* adaptive pooling's ``None`` (a lone None is refused, one per dimension is not);
* BatchNorm/InstanceNorm num_features against the input: only the affine weight and the
  running statistics check it (InstanceNorm warns otherwise), not on an empty input; eps ≤ 0;
  InstanceNorm's unbatched form;
* PyTorch's functional names and the depthwise spellings (dwconv…) as layer kinds;
* chains through an empty dimension (linear 0, a crop to 0, a 0-sized adaptive output,
  ...) into every kind of layer: which kernels take an empty input;
* chains reaching a named pool, InstanceNorm, pixel (un)shuffle or dropout with a shape of
  as many dims as the pool has spatial dims, which PyTorch reads as unbatched.

Every module is wrapped so that an output whose batch size differs from the input's counts
as a rejection (convcalc keeps the batch apart)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from common import (
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    any_input,
    finish,
    one,
    rand_channels,
    weighted,
)
from torch import nn

from families.conv import conv_layer
from families.linear import Lookup
from families.pool import Unpool

FLOAT32_EDGES = [
    3.4028234663852886e38,  # float32's largest finite value: accepted
    3.402823466385289e38,  # just beyond it: refused
    3.4e38,
    3.5e38,
    1e39,
    -1e39,
    1e300,
]


class KeepBatch(nn.Module):
    """Runs ``inner``; a different batch size in its output is a rejection."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        if y.shape[0] != x.shape[0]:
            raise RuntimeError(f"the batch size changed from {x.shape[0]} to {y.shape[0]}")
        return y


def keep(family: str, text: str, make: Callable[[], nn.Module]) -> Layer:
    return Layer(family, text, lambda: KeepBatch(make()))


def rewrap(family: str, layer: Layer) -> Layer:
    return keep(family, layer.text, layer.make)


class PadWith(nn.Module):
    """``F.pad`` with a mode and an optional value."""

    def __init__(self, pads: tuple[int, ...], mode: str, value: float | None) -> None:
        super().__init__()
        self.pads, self.mode, self.value = pads, mode, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, mode=self.mode, value=self.value)


def fnum(rng: random.Random, value: float) -> str:
    """A float as convcalc reads it (an exact round trip through repr)."""
    if value == int(value) and abs(value) < 1e6 and rng.random() < 0.5 and str(value) != "-0.0":
        return str(int(value))
    return repr(float(value))


# --------------------------------------------------------------------------------------------
# F.pad


def pad_layer(
    rng: random.Random, sp: Speller, pads: list[int], mode: str, value: float | None = None
) -> Layer:
    name = rng.choice(["pad", "pad", "zeropad"]) if mode == "constant" else "pad"
    opts = []
    if mode != "constant" or rng.random() < 0.4:
        opts.append(f"mode={mode}")
    if value is not None:
        opts.append(f"value={fnum(rng, value)}")
    key = rng.choice(["", "", "pad=", "p=", "padding="])
    text = finish(name, [key + sp.ints(pads, scalar=False)], opts, rng)
    tp = tuple(pads)
    return keep("corner_pad", text, lambda: PadWith(tp, mode, value))


def small_pads(rng: random.Random, sizes: list[int], lo_extra: int, hi_extra: int) -> list[int]:
    """One (left, right) pair per size, last dim first (F.pad's order), near the limits."""
    pads: list[int] = []
    for size in reversed(sizes):
        for _ in range(2):
            r = rng.random()
            if r < 0.2:
                pads.append(0)
            elif r < 0.55:
                pads.append(-rng.randint(1, size + lo_extra))
            else:
                pads.append(rng.randint(1, size + hi_extra))
    return pads


def case_pad_circular(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    npairs = rng.choice([1, 1, 2, 2, 3])
    batched = rng.random() < 0.6
    sizes = [rng.choice([1, 1, 2, 3, 4, 5, 6]) for _ in range(npairs)]
    # Leading dims of size 1 let PyTorch see the overlap of its wrapped copies.
    lead = [rng.choice([1, 1, 1, 2, 3])] if batched else []
    shape = lead + sizes
    if rng.random() < 0.08:  # a rank circular padding does not take
        if batched:
            shape = [2, *shape]
        elif len(shape) > 1:
            shape = shape[1:]
    pads = small_pads(rng, sizes, 1, 1)
    return shape, pad_layer(rng, sp, pads, "circular")


def case_pad_reflect(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    mode = rng.choice(["reflect", "replicate", "replicate"])
    npairs = rng.choice([1, 1, 2, 2, 3])
    batched = rng.random() < 0.6
    sizes = [rng.choice([1, 1, 2, 2, 3, 4, 5]) for _ in range(npairs)]
    shape = ([rand_channels(rng)] if batched else []) + sizes
    pads = small_pads(rng, sizes, 2, 2)
    value: float | None = None
    if rng.random() < 0.15:
        value = rng.choice([0.0, 0.0, -0.0, 1.0, 0.5])
    return shape, pad_layer(rng, sp, pads, mode, value)


def case_pad_constant(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng) if rng.random() < 0.5 else [rng.randint(1, 9)]
    shape = [min(v, 9) for v in shape]
    sc = weighted(rng, {"batch": 45, "crop": 25, "value": 15, "too_many": 15})
    value: float | None = None
    if sc == "too_many":
        npairs = len(shape) + 2
    elif sc == "batch":
        npairs = len(shape) + 1
    else:
        npairs = rng.randint(1, len(shape))
    sizes = shape[len(shape) - min(npairs, len(shape)) :]
    pads = small_pads(rng, sizes, 1, 2)
    if sc == "batch":  # the last pair pads the batch (size 1 in the vectors)
        pads += rng.choice([[0, 0], [0, 0], [-1, 1], [1, -1], [1, 0], [0, -1], [-2, 2], [2, -2]])
    elif sc == "too_many":
        pads += [0, 0] * (npairs - len(pads) // 2)
    if sc == "value" or rng.random() < 0.1:
        value = rng.choice([*FLOAT32_EDGES, 0.0, 2.5, -1.0])
    return shape, pad_layer(rng, sp, pads, "constant", value)


# --------------------------------------------------------------------------------------------
# activations and dropout


def act_scalar_layer(rng: random.Random, sp: Speller) -> Layer:
    name = weighted(
        rng, {"hardtanh": 30, "celu": 25, "elu": 10, "leakyrelu": 12, "softplus": 12, "prelu": 8}
    )
    edge = [*FLOAT32_EDGES, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0]
    if name == "hardtanh":
        lo = rng.choice([-1.0, 0.0, 1.0, 0.5, -2.0, *FLOAT32_EDGES[:2]])
        hi = rng.choice([lo, lo, lo + 1.0, lo - 1.0, 1.0, 0.0, -FLOAT32_EDGES[1], FLOAT32_EDGES[0]])
        opts = [f"min_val={fnum(rng, lo)}", f"max_val={fnum(rng, hi)}"]
        return keep("corner_act", finish("hardtanh", [], opts, rng), lambda: nn.Hardtanh(lo, hi))
    if name == "celu":
        a = rng.choice([0.0, -0.0, 1e-39, -1e-39, 2.9e-39, 2.94e-39, 1e-310, 5e-324, 1.0, *edge])
        return keep("corner_act", f"celu alpha={fnum(rng, a)}", lambda: nn.CELU(a))
    if name == "elu":
        a = rng.choice(edge)
        return keep("corner_act", f"elu alpha={fnum(rng, a)}", lambda: nn.ELU(a))
    if name == "leakyrelu":
        a = rng.choice(edge)
        word = rng.choice(["leakyrelu", "leaky_relu"])
        key = sp.key("slope", "negative_slope")
        return keep("corner_act", f"{word} {key}={fnum(rng, a)}", lambda: nn.LeakyReLU(a))
    if name == "softplus":
        beta, thr = rng.choice(edge), rng.choice([20.0, *edge])
        opts = [f"beta={fnum(rng, beta)}", f"threshold={fnum(rng, thr)}"]
        return keep("corner_act", finish("softplus", [], opts, rng), lambda: nn.Softplus(beta, thr))
    init = rng.choice(edge)
    return keep("corner_act", f"prelu init={fnum(rng, init)}", lambda: nn.PReLU(1, init))


def case_act_scalars(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    return any_input(rng), act_scalar_layer(rng, sp)


DROPOUTS: dict[str, Callable[[float], nn.Module]] = {
    "dropout": nn.Dropout,
    "dropout1d": nn.Dropout1d,
    "dropout2d": nn.Dropout2d,
    "dropout3d": nn.Dropout3d,
    "alphadropout": nn.AlphaDropout,
    "alpha_dropout": nn.AlphaDropout,
}


def dropout_any(rng: random.Random) -> Layer:
    name = rng.choice(["dropout1d", "dropout1d", "dropout2d", "dropout3d", *DROPOUTS])
    p = rng.choice([None, 0.1, 0.5, 0.0, 1.0])
    cls = DROPOUTS[name]
    text = name if p is None else f"{name} p={p!r}"
    return keep("corner_dropout", text, lambda: cls(0.5 if p is None else p))


def case_dropout_rank(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    return any_input(rng), dropout_any(rng)


# --------------------------------------------------------------------------------------------
# adaptive pooling's None


def case_adaptive_none(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = rng.choice([1, 2, 2, 3])
    op = rng.choice(["avg", "max"])
    shape = [rand_channels(rng), *[rng.randint(1, 9) for _ in range(n)]]
    names = [f"adaptive{op}pool{n}d", f"adaptive_{op}_pool{n}d", f"adaptive{op}pool"]
    sc = weighted(rng, {"lone": 40, "paren": 15, "each": 30, "mixed": 15})
    arg: Any
    if sc == "lone":
        text, arg = "None", None
    elif sc == "paren":
        text, arg = "(None)", (None,)
    else:
        sizes: list[int | None] = [None] * n
        if sc == "mixed":
            sizes = [None if rng.random() < 0.5 else rng.randint(0, 4) for _ in range(n)]
        text = sp.ints(sizes, scalar=False) if n > 1 else "None"
        arg = tuple(sizes) if n > 1 else None
    cls = getattr(nn, f"Adaptive{op.title()}Pool{n}d")
    return shape, keep("corner_adaptive", f"{rng.choice(names)} {text}", lambda: cls(arg))


# --------------------------------------------------------------------------------------------
# BatchNorm / InstanceNorm num_features and eps


def norm_features_layer(
    rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str, *, unbatched: bool = False
) -> Layer:
    found = shape[0]
    c = rng.choice([None, None, found, found + 1, max(found - 1, 0), 0, 5, -1])
    affine = rng.choice([None, True, False])
    track = rng.choice([None, True, False])
    eps = rng.choice([None, None, None, 1e-5, 0.0, -0.0, -1e-5, 1e39])
    functional = "batch_norm" if kind == "batchnorm" else "instance_norm"
    names = [f"{kind}{n}d", f"{kind}{n}d"]
    if len(shape) == n + 1 and not unbatched:
        names.append(functional)
    if kind == "batchnorm":
        names += [f"bn{n}d"]
    opts = []
    if c is not None:
        opts.append(f"{sp.key('c', 'num_features')}={c}")
    if affine is not None:
        opts.append(f"affine={sp.boolean(affine)}")
    if track is not None:
        opts.append(f"{sp.key('track', 'track_running_stats')}={sp.boolean(track)}")
    if eps is not None:
        opts.append(f"eps={fnum(rng, eps)}")
    text = finish(rng.choice(names), [], opts, rng)
    kw: dict[str, Any] = {}
    if affine is not None:
        kw["affine"] = affine
    if track is not None:
        kw["track_running_stats"] = track
    if eps is not None:
        kw["eps"] = eps
    nf = found if c is None else c
    cls = getattr(nn, f"{'BatchNorm' if kind == 'batchnorm' else 'InstanceNorm'}{n}d")
    return keep("corner_norm", text, lambda: cls(nf, **kw))


def case_norm_features(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = rng.choice([1, 1, 2, 2, 3])
    kind = rng.choice(["batchnorm", "instancenorm"])
    sizes = [rng.choice([1, 1, 2, 3, 4, 6]) for _ in range(n)]
    shape = [rand_channels(rng), *sizes]
    if kind == "batchnorm" and n == 1 and rng.random() < 0.3:
        shape = [rand_channels(rng) + 1]  # BatchNorm1d's (N, C) form
    return shape, norm_features_layer(rng, sp, shape, n, kind)


# --------------------------------------------------------------------------------------------
# functional names and depthwise spellings


def alias_layer(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    n = len(shape) - 1
    c = shape[0]
    kinds = ["leaky_relu", "log_softmax", "alpha_dropout", "layer_norm", "rms_norm"]
    if n >= 1:
        kinds += ["group_norm", "local_response_norm", "channel_shuffle"]
    if 1 <= n <= 3:
        kinds += ["max_pool", "avg_pool", "lp_pool", "adaptive", "max_unpool", "conv_transpose"]
        kinds += ["batch_norm", "instance_norm", "dwconv", "dwconv"]
    if n == 2:
        kinds += ["pixel_shuffle", "pixel_unshuffle", "upsample_nearest", "upsample_bilinear"]
    kind = rng.choice(kinds)
    k = rng.choice([1, 2, 3])
    if kind == "dwconv":
        word = rng.choice(["dwconv", f"dwconv{n}d", "depthwiseconv", f"depthwiseconv{n}d"])
        mult = rng.choice([1, 1, 2])
        pos = [str(c * mult)] if mult > 1 or rng.random() < 0.3 else []
        p = rng.choice([0, k // 2])
        text = finish(word, pos, [f"{sp.key('k', 'kernel_size')}={k}", f"p={p}"], rng)
        conv: Any = getattr(nn, f"Conv{n}d")
        return keep("corner_alias", text, lambda: conv(c, c * mult, k, padding=p, groups=c))
    if kind == "leaky_relu":
        return keep("corner_alias", "leaky_relu", nn.LeakyReLU)
    if kind == "log_softmax":
        d = rng.randint(-len(shape), len(shape))
        return keep("corner_alias", f"log_softmax dim={d}", lambda: nn.LogSoftmax(d))
    if kind == "alpha_dropout":
        return keep("corner_alias", "alpha_dropout p=0.2", lambda: nn.AlphaDropout(0.2))
    if kind == "layer_norm":
        return keep("corner_alias", "layer_norm", lambda: nn.LayerNorm(shape[-1]))
    if kind == "rms_norm":
        return keep("corner_alias", "rms_norm", lambda: nn.RMSNorm(shape[-1]))
    if kind == "group_norm":
        g = rng.choice([1, 2, 3])
        return keep("corner_alias", f"group_norm {g}", lambda: nn.GroupNorm(g, c))
    if kind == "local_response_norm":
        size = rng.choice([2, 3, 5])
        return keep(
            "corner_alias", f"local_response_norm {size}", lambda: nn.LocalResponseNorm(size)
        )
    if kind == "channel_shuffle":
        g = rng.choice([1, 2, 3])
        return keep("corner_alias", f"channel_shuffle {g}", lambda: nn.ChannelShuffle(g))
    if kind in ("max_pool", "avg_pool", "lp_pool"):
        cls: Any = getattr(
            nn, {"max_pool": "MaxPool", "avg_pool": "AvgPool", "lp_pool": "LPPool"}[kind] + f"{n}d"
        )
        if kind == "lp_pool":
            return keep("corner_alias", f"lp_pool{n}d 2 k={k}", lambda: cls(2.0, k))
        return keep("corner_alias", f"{kind}{n}d k={k}", lambda: cls(k))
    if kind == "adaptive":
        op = rng.choice(["avg", "max"])
        o = rng.randint(1, 4)
        cls = getattr(nn, f"Adaptive{op.title()}Pool{n}d")
        return keep("corner_alias", f"adaptive_{op}_pool{n}d {o}", lambda: cls(o))
    if kind == "max_unpool":
        cls = getattr(nn, f"MaxUnpool{n}d")
        return keep("corner_alias", f"max_unpool{n}d k={k}", lambda: Unpool(cls(k)))
    if kind == "conv_transpose":
        cout = rng.choice([1, 4])
        cls = getattr(nn, f"ConvTranspose{n}d")
        return keep(
            "corner_alias", f"conv_transpose{n}d {cout} k={k} s=2", lambda: cls(c, cout, k, 2)
        )
    if kind in ("batch_norm", "instance_norm"):
        cls = getattr(nn, f"{'BatchNorm' if kind == 'batch_norm' else 'InstanceNorm'}{n}d")
        return keep("corner_alias", kind, lambda: cls(c))
    if kind in ("pixel_shuffle", "pixel_unshuffle"):
        r = rng.choice([1, 2])
        cls = nn.PixelShuffle if kind == "pixel_shuffle" else nn.PixelUnshuffle
        return keep("corner_alias", f"{kind} {r}", lambda: cls(r))
    scale = rng.choice([2, 3])
    mode = "nearest" if kind == "upsample_nearest" else "bilinear"
    align = None if mode == "nearest" else True
    return keep(
        "corner_alias",
        f"{kind} {sp.key('scale', 'scale_factor')}={scale}",
        lambda: nn.Upsample(scale_factor=scale, mode=mode, align_corners=align),
    )


def case_aliases(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    shape = [min(v, 16) for v in shape]
    return shape, alias_layer(rng, sp, shape)


# --------------------------------------------------------------------------------------------
# chains through an empty dimension


def emptier(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    """A layer that PyTorch accepts and that leaves a 0-sized dimension."""
    n = len(shape) - 1
    choices = ["linear0", "crop", "crop", "embedding0"]
    if 1 <= n <= 3:
        choices += ["adaptive0", "area0", "unpool0"]
    sc = rng.choice(choices)
    if sc == "linear0":
        fin = shape[-1]
        return keep("corner_empty", "linear 0", lambda: nn.Linear(fin, 0))
    if sc == "embedding0":
        num = rng.choice([3, 10])
        return keep("corner_empty", f"embedding {num} 0", lambda: Lookup(nn.Embedding(num, 0)))
    if sc == "adaptive0":
        op = rng.choice(["avg", "max"])
        sizes = [rng.choice([0, 1, 2]) for _ in range(n)]
        if 0 not in sizes:
            sizes[rng.randrange(n)] = 0
        cls: Any = getattr(nn, f"Adaptive{op.title()}Pool{n}d")
        arg = one(sizes, n)
        return keep("corner_empty", f"adaptive{op}pool{n}d {sp.ints(sizes)}", lambda: cls(arg))
    if sc == "area0":
        sizes = [rng.choice([0, 1, 2]) for _ in range(n)]
        if 0 not in sizes:
            sizes[rng.randrange(n)] = 0
        arg = one(sizes, n)
        return keep(
            "corner_empty",
            f"upsample size={sp.ints(sizes)} mode=area",
            lambda: nn.Upsample(size=arg, mode="area"),
        )
    if sc == "unpool0" and (n < 3 or all(v == 1 for v in shape[1:])):
        # (L - 1)·s + k - 2p = 0 with k = 2, p = 1 and L = 1 or a stride of 0 (accepted in
        # 1-d and 2-d)
        stride = 2 if all(v == 1 for v in shape[1:]) else 0
        cls = getattr(nn, f"MaxUnpool{n}d")
        return keep(
            "corner_empty",
            f"maxunpool{n}d k=2 s={stride} p=1",
            lambda: Unpool(cls(2, stride=stride, padding=1)),
        )
    if sc == "unpool0":
        fin = shape[-1]
        return keep("corner_empty", "linear 0", lambda: nn.Linear(fin, 0))
    # a constant crop to 0 of one dimension (the channels too)
    axis = rng.randrange(len(shape))
    size = shape[axis]
    cut = rng.randint(0, size)
    pair = [-cut, cut - size]
    pads = [0, 0] * (len(shape) - 1 - axis) + pair
    tp = tuple(pads)
    return keep(
        "corner_empty", f"pad {sp.ints(pads, scalar=False)}", lambda: PadWith(tp, "constant", None)
    )


def consumer(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    """Any kind of layer, built for ``shape`` (which may hold zeros)."""
    rank = len(shape)
    n = rank - 1
    c = shape[0]
    spatial_ok = 1 <= n <= 3
    sc = weighted(
        rng,
        {
            "conv": 14 if spatial_ok else 0,
            "convt": 5 if spatial_ok else 0,
            "pool": 10,
            "adaptive": 8,
            "unpool": 4,
            "norm": 10,
            "ln": 5,
            "gn": 3,
            "lrn": 2,
            "act": 6,
            "dropout": 3,
            "prelu": 3,
            "linear": 4,
            "flatten": 2,
            "unflatten": 2,
            "glu": 2,
            "cshuffle": 2,
            "pshuffle": 4,
            "upsample": 8,
            "pad": 8,
            "embedding": 2,
        },
    )
    k = rng.choice([1, 1, 2, 3])
    if sc in ("conv", "convt"):
        pm = rng.choice([None, None, "reflect", "replicate", "circular"]) if sc == "conv" else None
        p = rng.choice([0, 1]) if pm is None else 1
        cout = rng.choice([1, 2, 4])
        g = "dw" if sc == "conv" and rng.random() < 0.15 else None
        if g == "dw":
            cout = c
        layer = conv_layer(
            rng, sp, shape, n, cout, [k] * n, p=[p] * n, pm=pm, g=g, transposed=sc == "convt"
        )
        return rewrap("corner_empty", layer)
    # pools and the other layers with a fixed number of spatial dims: rank n + 1, or n
    pn = rng.choice([d for d in (1, 2, 3) if d in (n, n + 1)] or [1])
    if sc == "pool":
        kind = rng.choice(["MaxPool", "AvgPool", "LPPool"])
        p = rng.choice([0, k // 2])
        cls: Any = getattr(nn, f"{kind}{pn}d")
        word = {"MaxPool": "maxpool", "AvgPool": "avgpool", "LPPool": "lppool"}[kind]
        if kind == "LPPool":
            return keep("corner_empty", f"{word}{pn}d 2 k={k}", lambda: cls(2.0, k))
        return keep("corner_empty", f"{word}{pn}d k={k} p={p}", lambda: cls(k, padding=p))
    if sc == "adaptive":
        op = rng.choice(["avg", "max"])
        sizes = [rng.choice([1, 1, 2]) for _ in range(pn)]
        cls = getattr(nn, f"Adaptive{op.title()}Pool{pn}d")
        arg = one(sizes, pn)
        return keep("corner_empty", f"adaptive{op}pool{pn}d {sp.ints(sizes)}", lambda: cls(arg))
    if sc == "unpool":
        cls = getattr(nn, f"MaxUnpool{pn}d")
        return keep("corner_empty", f"maxunpool{pn}d k={k}", lambda: Unpool(cls(k)))
    if sc == "norm":
        kind = rng.choice(["batchnorm", "instancenorm"])
        return rewrap("corner_empty", norm_features_layer(rng, sp, shape, pn, kind))
    if sc == "ln":
        m = rng.randint(1, rank)
        ns = list(shape[rank - m :])
        word = rng.choice(["layernorm", "rmsnorm"])
        cls = nn.LayerNorm if word == "layernorm" else nn.RMSNorm
        if rng.random() < 0.3:
            return keep("corner_empty", word, lambda: cls(shape[-1]))
        text = f"{word} {sp.ints(ns, scalar=False) if m > 1 else ns[0]}"
        return keep("corner_empty", text, lambda: cls(tuple(ns)))
    if sc == "gn":
        g = rng.choice([1, 2])
        return keep("corner_empty", f"groupnorm {g}", lambda: nn.GroupNorm(g, c))
    if sc == "lrn":
        return keep("corner_empty", "lrn 2", lambda: nn.LocalResponseNorm(2))
    if sc == "act":
        name = rng.choice(["relu", "gelu", "softmax", "logsoftmax", "hardtanh"])
        if name in ("softmax", "logsoftmax"):
            d = rng.randint(-rank, rank)
            act: Any = nn.Softmax if name == "softmax" else nn.LogSoftmax
            return keep("corner_empty", f"{name} dim={d}", lambda: act(d))
        mods: dict[str, Callable[[], nn.Module]] = {
            "relu": nn.ReLU,
            "gelu": nn.GELU,
            "hardtanh": nn.Hardtanh,
        }
        return keep("corner_empty", name, mods[name])
    if sc == "dropout":
        return rewrap("corner_empty", dropout_any(rng))
    if sc == "prelu":
        num = rng.choice([1, c, 0])
        return keep("corner_empty", f"prelu n={num}", lambda: nn.PReLU(num))
    if sc == "linear":
        fout = rng.choice([0, 3])
        fin = shape[-1]
        return keep("corner_empty", f"linear {fout}", lambda: nn.Linear(fin, fout))
    if sc == "flatten":
        return keep("corner_empty", "flatten", nn.Flatten)
    if sc == "unflatten":
        size = shape[-1]
        sizes = [size, 1] if rng.random() < 0.5 else [rng.choice([0, 1, 2]), -1]
        text = f"unflatten -1 {sp.ints(sizes, scalar=False)}"
        return keep("corner_empty", text, lambda: nn.Unflatten(-1, tuple(sizes)))
    if sc == "glu":
        d = rng.choice([-1, 1])
        return keep("corner_empty", f"glu dim={d}", lambda: nn.GLU(d))
    if sc == "cshuffle":
        g = rng.choice([1, 2])
        return keep("corner_empty", f"channelshuffle {g}", lambda: nn.ChannelShuffle(g))
    if sc == "pshuffle":
        r = rng.choice([1, 2])
        word = rng.choice(["pixelshuffle", "pixelunshuffle"])
        mod: Any = nn.PixelShuffle if word == "pixelshuffle" else nn.PixelUnshuffle
        return keep("corner_empty", f"{word} {r}", lambda: mod(r))
    if sc == "upsample":
        mode = rng.choice(["nearest", "nearest", "area", "linear", "bilinear", "trilinear"])
        if rng.random() < 0.5:
            size = rng.choice([1, 1, 2])
            return keep(
                "corner_empty",
                f"upsample size={size} mode={mode}",
                lambda: nn.Upsample(size=size, mode=mode),
            )
        return keep(
            "corner_empty",
            f"upsample scale=2 mode={mode}",
            lambda: nn.Upsample(scale_factor=2.0, mode=mode),
        )
    if sc == "pad":
        mode = rng.choice(["constant", "reflect", "replicate", "circular", "circular"])
        npairs = rng.randint(1, min(3, rank))
        pads = [rng.choice([0, 0, 1]) for _ in range(2 * npairs)]
        return pad_layer(rng, sp, pads, mode)
    num = rng.choice([0, 5])
    return keep("corner_empty", f"embedding {num} 2", lambda: Lookup(nn.Embedding(num, 2)))


def chain_empty(rng: random.Random, sp: Speller) -> Chain:
    shape = any_input(rng)
    shape = [min(v, 6) for v in shape]
    b = Chain(shape)
    b.add(emptier(rng, sp, shape))
    if not b.ok or 0 not in b.shape:
        return b
    b.add(consumer(rng, sp, b.shape))
    if b.ok and rng.random() < 0.4:
        b.add(consumer(rng, sp, b.shape))
    return b


# --------------------------------------------------------------------------------------------
# chains that hand a pool (or InstanceNorm, pixel shuffle, dropout) an unbatched shape


def unbatched_consumer(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    n = len(shape)
    k = rng.choice([1, 2, 3])
    s = rng.choice([1, 2])
    sc = weighted(
        rng,
        {"pool": 30, "adaptive": 15, "unpool": 10, "instancenorm": 20, "pshuffle": 10, "drop": 8},
    )
    if sc == "pool" and n <= 3:
        kind = rng.choice(["MaxPool", "AvgPool", "LPPool"])
        word = {"MaxPool": "max_pool", "AvgPool": "avg_pool", "LPPool": "lp_pool"}[kind]
        word = rng.choice([word, word.replace("_", "")])
        cls: Any = getattr(nn, f"{kind}{n}d")
        if kind == "LPPool":
            return keep("corner_unbatched", f"{word}{n}d 2 k={k} s={s}", lambda: cls(2.0, k, s))
        p = rng.choice([0, k // 2])
        text = f"{word}{n}d k={k} s={s} p={p}"
        return keep("corner_unbatched", text, lambda: cls(k, s, p))
    if sc == "adaptive" and n <= 3:
        op = rng.choice(["avg", "max"])
        sizes = [rng.choice([None, 1, 2, 3]) for _ in range(n)]
        if n == 1 and sizes[0] is None:
            sizes = [2]
        cls = getattr(nn, f"Adaptive{op.title()}Pool{n}d")
        arg = tuple(sizes) if n > 1 else sizes[0]
        return keep(
            "corner_unbatched",
            f"adaptive{op}pool{n}d {sp.ints(sizes, scalar=n > 1)}",
            lambda: cls(arg),
        )
    if sc == "unpool" and n <= 3:
        cls = getattr(nn, f"MaxUnpool{n}d")
        return keep("corner_unbatched", f"maxunpool{n}d k={k} s={s}", lambda: Unpool(cls(k, s)))
    if sc == "instancenorm" and n <= 3:
        return rewrap(
            "corner_unbatched",
            norm_features_layer(rng, sp, shape, n, "instancenorm", unbatched=True),
        )
    if sc == "pshuffle" and n == 2:
        r = rng.choice([1, 1, 2])
        word = rng.choice(["pixelshuffle", "pixelunshuffle"])
        mod: Any = nn.PixelShuffle if word == "pixelshuffle" else nn.PixelUnshuffle
        return keep("corner_unbatched", f"{word} {r}", lambda: mod(r))
    return rewrap("corner_unbatched", dropout_any(rng))


def chain_unbatched(rng: random.Random, sp: Speller) -> Chain:
    """A first layer without spatial dims of its own keeps the shape as PyTorch reads it."""
    n = rng.choice([1, 1, 2, 2, 3])
    shape = [rng.randint(1, 9) for _ in range(n)]
    b = Chain(shape)
    # (not an activation: convcalc looks past those for the first layer's dims)
    if rng.random() < 0.5:
        fin, fout = shape[-1], rng.randint(1, 12)
        b.add(keep("corner_unbatched", f"linear {fout}", lambda: nn.Linear(fin, fout)))
    else:
        b.add(pad_layer(rng, sp, [0, 0], "constant"))
    if b.ok:
        b.add(unbatched_consumer(rng, sp, b.shape))
    return b


def corner_chain(rng: random.Random, sp: Speller) -> Chain:
    return chain_empty(rng, sp) if rng.random() < 0.72 else chain_unbatched(rng, sp)


# --------------------------------------------------------------------------------------------
# the set


def fixed_pad(text: str, mode: str, repeat: int = 0, value: float | None = None) -> Layer:
    """A pad layer written as given (its pads are the text's numbers, or one repeated)."""
    numbers = [int(v) for v in text.split()[1].split(",")]
    pads = tuple(numbers * repeat if repeat else numbers)
    return keep("corner_pad", text, lambda: PadWith(pads, mode, value))


def pinned_corners(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The cases of issue 10 as it quotes them."""
    return [
        ("corner_dropout", [3, 8, 8], keep("corner_dropout", "dropout1d", nn.Dropout1d)),
        (
            "corner_act",
            [3, 8, 8],
            keep("corner_act", "hardtanh min_val=1 max_val=0", lambda: nn.Hardtanh(1.0, 0.0)),
        ),
        (
            "corner_act",
            [3, 8, 8],
            keep("corner_act", "hardtanh min_val=1 max_val=1", lambda: nn.Hardtanh(1.0, 1.0)),
        ),
        ("corner_act", [3, 8, 8], keep("corner_act", "celu alpha=0", lambda: nn.CELU(0.0))),
        ("corner_pad", [2, 4, 2], fixed_pad("pad -1,-1,-2,-2 mode=replicate", "replicate")),
        ("corner_pad", [3, 8], fixed_pad("pad -1,-2 mode=circular", "circular")),
        ("corner_pad", [3, 8, 8], fixed_pad("pad 1 mode=reflect value=0", "reflect", 4, 0.0)),
        ("corner_pad", [7], fixed_pad("pad 2,1,0,0", "constant")),
        (
            "corner_adaptive",
            [3, 8, 8],
            keep("corner_adaptive", "adaptiveavgpool2d None", lambda: nn.AdaptiveAvgPool2d(None)),
        ),
        (
            "corner_norm",
            [3, 8],
            keep("corner_norm", "instancenorm1d c=5", lambda: nn.InstanceNorm1d(5)),
        ),
        (
            "corner_norm",
            [3, 8],
            keep(
                "corner_norm",
                "bn1d affine=false track=false c=5",
                lambda: nn.BatchNorm1d(5, affine=False, track_running_stats=False),
            ),
        ),
    ]


def issue_chain_list() -> list[tuple[Shape, list[Layer]]]:
    """Chains quoted in issue 10."""
    return [
        (
            [3, 4],
            [
                keep("corner_empty", "linear 0", lambda: nn.Linear(4, 0)),
                keep("corner_empty", "conv1d 2 k=1 p=1", lambda: nn.Conv1d(3, 2, 1, padding=1)),
            ],
        ),
        (
            [3],
            [
                keep("corner_empty", "linear 0", lambda: nn.Linear(3, 0)),
                keep("corner_empty", "unflatten 1 0x4", lambda: nn.Unflatten(1, (0, 4))),
                keep("corner_empty", "conv1d 2 k=3 p=1", lambda: nn.Conv1d(0, 2, 3, padding=1)),
            ],
        ),
    ]


class IssueFirst:
    """Chain maker: the issue's chains first, then random corner chains."""

    def __init__(self) -> None:
        self.pending: list[tuple[Shape, list[Layer]]] | None = None

    def __call__(self, rng: random.Random, sp: Speller) -> Chain:
        if self.pending is None:
            self.pending = issue_chain_list()
        if not self.pending:
            return corner_chain(rng, sp)
        shape, layers = self.pending.pop(0)
        b = Chain(shape)
        for layer in layers:
            b.add(layer)
        return b


SET = CaseSet(
    pinned=pinned_corners,
    plan=[
        ("corner_pad_circular", 900, 0.45, case_pad_circular),
        ("corner_pad_reflect", 600, 0.45, case_pad_reflect),
        ("corner_pad_constant", 500, 0.4, case_pad_constant),
        ("corner_act", 450, 0.45, case_act_scalars),
        ("corner_dropout", 150, 0.3, case_dropout_rank),
        ("corner_adaptive", 250, 0.45, case_adaptive_none),
        ("corner_norm", 600, 0.4, case_norm_features),
        ("corner_alias", 450, 0.15, case_aliases),
    ],
    chains=IssueFirst(),
    chain_count=2000,
)
