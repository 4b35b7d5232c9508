"""Normalization: batch, instance, layer, group, RMS and local response norms."""

from __future__ import annotations

import random
from typing import Any

from common import (
    BATCHNORM,
    INSTANCENORM,
    CaseGen,
    Layer,
    Shape,
    Speller,
    any_input,
    divisors,
    finish,
    pick_n,
    rand_channels,
    spatial_input,
    weighted,
)
from torch import nn


def norm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    kind: str,
    *,
    affine: bool | None = None,
    track: bool | None = None,
    eps: float | None = None,
    momentum: float | None = None,
) -> Layer:
    c = shape[0]
    if kind == "batchnorm":
        names = [f"batchnorm{n}d"] + (["bn", "batchnorm"] if len(shape) == n + 1 >= 2 else [])
    else:
        names = [f"instancenorm{n}d"] + (["instancenorm"] if len(shape) == n + 1 >= 2 else [])
    opts = []
    if affine is not None:
        opts.append(f"affine={sp.boolean(affine)}")
    if track is not None:
        opts.append(f"{sp.key('track', 'track_running_stats')}={sp.boolean(track)}")
    if eps is not None:
        opts.append(f"eps={eps!r}")
    if momentum is not None:
        opts.append(f"momentum={momentum!r}")
    text = finish(rng.choice(names), [], opts, rng)
    kw: dict[str, Any] = {}
    if eps is not None:
        kw["eps"] = eps
    if momentum is not None:
        kw["momentum"] = momentum
    if kind == "batchnorm":
        kw["affine"] = True if affine is None else affine
        kw["track_running_stats"] = True if track is None else track
        cls: Any = BATCHNORM[n - 1]
    else:
        kw["affine"] = False if affine is None else affine
        kw["track_running_stats"] = False if track is None else track
        cls = INSTANCENORM[n - 1]
    return Layer(kind, text, lambda: cls(c, **kw))


def layernorm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    ns: list[int] | None,
    affine: bool | None = None,
    bias: bool | None = None,
) -> Layer:
    pos = [] if ns is None else [sp.ints(ns, scalar=False) if len(ns) > 1 else str(ns[0])]
    opts = []
    if affine is not None:
        opts.append(f"{sp.key('affine', 'elementwise_affine')}={sp.boolean(affine)}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    text = finish("layernorm", pos, opts, rng)
    arg: Any = shape[-1] if ns is None else (ns[0] if len(ns) == 1 else tuple(ns))
    ea = True if affine is None else affine
    b = True if bias is None else bias
    return Layer("layernorm", text, lambda: nn.LayerNorm(arg, elementwise_affine=ea, bias=b))


def groupnorm_layer(
    rng: random.Random, sp: Speller, shape: Shape, groups: int, affine: bool | None = None
) -> Layer:
    opts = [] if affine is None else [f"affine={sp.boolean(affine)}"]
    text = finish("groupnorm", [str(groups)], opts, rng)
    c = shape[0]
    af = True if affine is None else affine
    return Layer("groupnorm", text, lambda: nn.GroupNorm(groups, c, affine=af))


def gen_norm(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    affine = rng.choice([None, None, True, False])
    track = rng.choice([None, None, True, False])
    eps = rng.choice([None, None, None, 1e-5, 1e-3, 0.01]) if rng.random() < 0.5 else None
    mom = rng.choice([None, None, 0.1, 0.01, 0.5]) if rng.random() < 0.5 else None
    return norm_layer(rng, sp, shape, n, kind, affine=affine, track=track, eps=eps, momentum=mom)


def gen_layernorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    sc = weighted(rng, {"default": 22, "last": 18, "tail": 25, "bad": 35})
    ns: list[int] | None = None
    if sc == "last":
        ns = [shape[-1]]
    elif sc == "tail":
        m = rng.randint(1, len(shape))
        ns = shape[-m:]
    elif sc == "bad":
        m = rng.randint(1, len(shape))
        ns = list(shape[-m:])
        j = rng.randrange(m)
        ns[j] = max(1, ns[j] + rng.choice([-1, 1, 2])) if ns[j] > 1 else ns[j] + rng.randint(1, 2)
        if ns == shape[-m:]:
            ns[j] += 1
    affine = rng.choice([None, None, True, False])
    bias = rng.choice([None, None, True, False])
    return layernorm_layer(rng, sp, shape, ns, affine, bias)


def gen_groupnorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    groups = rng.choice(divisors(c)) if rng.random() < 0.6 else rng.randint(2, 8)
    return groupnorm_layer(rng, sp, shape, groups, rng.choice([None, None, True, False]))


def case_norm(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        # (BatchNorm1d on a rank-1 (N, C) input appears in chains only: as a first layer,
        # convcalc reads a 1-number shape before a 1-d layer as "length, channels unknown")
        r = rng.random()
        if r < 0.07 and n < 3:
            shape = spatial_input(rng, n + 1)  # one rank too many
        else:
            shape = spatial_input(rng, n)
            if rng.random() < 0.18:
                shape[1:] = [1] * n
        return shape, gen_norm(rng, sp, shape, n, kind)

    return gen


def case_layernorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_layernorm(rng, sp, shape)


def case_groupnorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    shape[0] = rng.choice([1, 2, 3, 4, 6, 8, 9, 12, 16])
    if rng.random() < 0.15:  # one value per group when groups == channels
        shape[1:] = [1] * (len(shape) - 1)
    return shape, gen_groupnorm(rng, sp, shape)


def rmsnorm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    ns: list[int] | None,
    affine: bool | None = None,
    eps: float | None = None,
) -> Layer:
    pos = [] if ns is None else [sp.ints(ns, scalar=False) if len(ns) > 1 else str(ns[0])]
    opts = []
    if affine is not None:
        opts.append(f"{sp.key('affine', 'elementwise_affine')}={sp.boolean(affine)}")
    if eps is not None:
        opts.append(f"eps={eps!r}")
    text = finish("rmsnorm", pos, opts, rng)
    arg: Any = shape[-1] if ns is None else (ns[0] if len(ns) == 1 else tuple(ns))
    ea = True if affine is None else affine
    return Layer("rmsnorm", text, lambda: nn.RMSNorm(arg, eps=eps, elementwise_affine=ea))


def lrn_layer(
    rng: random.Random,
    sp: Speller,
    size: int,
    alpha: float | None = None,
    beta: float | None = None,
    k: float | None = None,
) -> Layer:
    opts = []
    if alpha is not None:
        opts.append(f"alpha={sp.float(alpha)}")
    if beta is not None:
        opts.append(f"beta={sp.float(beta)}")
    if k is not None:
        opts.append(f"k={sp.float(k)}")
    text = finish(rng.choice(["localresponsenorm", "lrn"]), [str(size)], opts, rng)
    kw: dict[str, float] = {}
    if alpha is not None:
        kw["alpha"] = alpha
    if beta is not None:
        kw["beta"] = beta
    if k is not None:
        kw["k"] = k
    return Layer("localresponsenorm", text, lambda: nn.LocalResponseNorm(size, **kw))


def gen_rmsnorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    sc = weighted(rng, {"default": 22, "last": 18, "tail": 28, "bad": 28, "long": 4})
    ns: list[int] | None = None
    if sc == "last":
        ns = [shape[-1]]
    elif sc == "tail":
        m = rng.randint(1, len(shape))
        ns = shape[-m:]
    elif sc == "bad":
        m = rng.randint(1, len(shape))
        ns = list(shape[-m:])
        j = rng.randrange(m)
        ns[j] = max(1, ns[j] + rng.choice([-1, 1, 2])) if ns[j] > 1 else ns[j] + rng.randint(1, 2)
        if ns == shape[-m:]:
            ns[j] += 1
    elif sc == "long":  # more dims than the batched input has
        ns = [rng.randint(1, 3), rng.randint(1, 3), *shape]
    affine = rng.choice([None, None, True, False])
    eps = rng.choice([None, None, None, 1e-5, 1e-6, 1e-8]) if rng.random() < 0.5 else None
    return rmsnorm_layer(rng, sp, shape, ns, affine, eps)


def gen_lrn(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    r = rng.random()
    if r < 0.06:
        size = rng.choice([0, 0, -1, -2, -3])
    elif r < 0.2:
        size = c + rng.randint(0, 6)
    else:
        size = rng.choice([1, 2, 3, 3, 5, 5, 5, 7])
    alpha = rng.choice([None, None, 1e-4, 0.001, 0.0001, 1.0]) if rng.random() < 0.5 else None
    beta = rng.choice([None, 0.75, 0.5, 1.0]) if rng.random() < 0.4 else None
    k = rng.choice([None, 1.0, 2.0, 2.5]) if rng.random() < 0.4 else None
    return lrn_layer(rng, sp, size, alpha, beta, k)


def case_rmsnorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_rmsnorm(rng, sp, shape)


def case_lrn(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.06:  # 6-d batched input (LocalResponseNorm folds the extra dims)
        shape = [rand_channels(rng), *[rng.randint(1, 5) for _ in range(4)]]
    return shape, gen_lrn(rng, sp, shape)
