"""layernorm2d: torchvision's ``LayerNorm2d`` (torchvision/models/convnext.py), an
``nn.LayerNorm`` run on the input permuted to channels-last and permuted back. The module
used is torchvision's own class. Its corners: the input must be exactly N×C×H×W (its
forward permutes with four dims); ``normalized_shape`` is matched against the trailing dims
of the channels-last H×W×C view, so a tuple such as (W, C) or (H, W, C) is accepted with
2·∏shape parameters. Random single layers, ConvNeXt-like chains (patchify stem, downsampling,
head) and the set of rows they make (``SET``)."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable
from typing import Any

# torchvision's compiled ops fail to load in this environment; its Python modules only need
# this module to exist.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
from common import (  # noqa: E402
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    finish,
    rand_channels,
    rand_spatial,
    try_inject,
    weighted,
)
from torchvision.models.convnext import LayerNorm2d  # noqa: E402

from families.activation import act_layer  # noqa: E402
from families.chains import tail_after_error  # noqa: E402
from families.conv import conv_layer  # noqa: E402
from families.linear import linear_layer  # noqa: E402
from families.pool import global_layer  # noqa: E402
from families.reshape import flatten_layer  # noqa: E402


def layernorm2d_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    ns: list[int] | None,
    affine: bool | None = None,
    bias: bool | None = None,
    eps: float | None = None,
) -> Layer:
    """``LayerNorm2d(ns)``; ``ns=None`` writes no normalized_shape (convcalc's default, the
    channel count) and gives torchvision the input's channel count."""
    pos: list[str] = []
    opts: list[str] = []
    if ns is not None:
        value = sp.ints(ns, scalar=False) if len(ns) > 1 else str(ns[0])
        if rng.random() < 0.8:
            pos.append(value)
        else:
            opts.append(f"normalized_shape={value}")
    if affine is not None:
        opts.append(f"{sp.key('affine', 'elementwise_affine')}={sp.boolean(affine)}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    if eps is not None:
        opts.append(f"eps={eps!r}")
    text = finish("layernorm2d", pos, opts, rng)
    arg: Any = shape[0] if ns is None else (ns[0] if len(ns) == 1 else tuple(ns))
    kw: dict[str, Any] = {
        "elementwise_affine": True if affine is None else affine,
        "bias": True if bias is None else bias,
    }
    if eps is not None:
        kw["eps"] = eps
    return Layer("layernorm2d", text, lambda: LayerNorm2d(arg, **kw))


def gen_layernorm2d(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    """Default, the channel count, trailing dims of H×W×C, or a near miss of them."""
    last = [*shape[1:], shape[0]] if len(shape) == 3 else [shape[0]]  # channels-last view
    sc = weighted(rng, {"default": 25, "channels": 25, "tail": 18, "bad": 32})
    ns: list[int] | None = None
    if sc == "channels":
        ns = [shape[0]]
    elif sc == "tail":
        ns = last[-rng.randint(1, len(last)) :]
    elif sc == "bad":
        m = rng.choices([1, 2, 3], weights=[60, 25, 15])[0]
        m = min(m, len(last))
        ns = list(last[-m:])
        j = rng.randrange(m)
        if rng.random() < 0.1:
            ns[j] = 0
        elif rng.random() < 0.2 and m == 1 and len(last) > 1:
            ns = [last[-2]]  # a spatial size where the channels go
        else:
            ns[j] = max(1, ns[j] + rng.choice([-1, 1, 2])) if ns[j] > 1 else ns[j] + 1
        if ns == last[-m:]:
            ns[j] += 1
    affine = rng.choice([None, None, None, True, False])
    bias = rng.choice([None, None, None, True, False])
    eps = rng.choice([None, None, None, 1e-6, 1e-5]) if rng.random() < 0.5 else None
    return layernorm2d_layer(rng, sp, shape, ns, affine, bias, eps)


def case_layernorm2d(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    """Mostly C×H×W; sometimes C×D×H×W, which its four-dim permute rejects. (A 1- or 2-number
    input is not used as a first layer: convcalc reads it as a map with unknown channels.)"""
    if rng.random() < 0.06:
        shape = [rand_channels(rng), *rand_spatial(rng, 3)]
    else:
        c = rand_channels(rng) if rng.random() < 0.7 else rng.choice([16, 24, 32, 48, 96])
        shape = [c, *rand_spatial(rng, 2)]
        if rng.random() < 0.12:
            shape[1:] = [1, 1]  # after a global pool, as in ConvNeXt's head
    return shape, gen_layernorm2d(rng, sp, shape)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """ConvNeXt-T's three uses (stem, downsampling, head) and the documented corners."""
    r, s = rng, sp
    return [
        ("layernorm2d", [96, 56, 56], layernorm2d_layer(r, s, [96, 56, 56], [96], eps=1e-6)),
        ("layernorm2d", [384, 14, 14], layernorm2d_layer(r, s, [384, 14, 14], None, eps=1e-6)),
        ("layernorm2d", [768, 1, 1], layernorm2d_layer(r, s, [768, 1, 1], [768], eps=1e-6)),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [8])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [6])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [6, 4])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [5, 6, 4])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [4, 5, 6])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [0])),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [4], bias=False)),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], None, affine=False)),
        ("layernorm2d", [4, 5, 6], layernorm2d_layer(r, s, [4, 5, 6], [6, 4], affine=False)),
        ("layernorm2d", [4, 3, 5, 6], layernorm2d_layer(r, s, [4, 3, 5, 6], [4])),
    ]


PLAN = [("layernorm2d", 400, 0.30, case_layernorm2d)]


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def inject(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one layernorm2d corner case; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        return [lambda: gen_layernorm2d(rng, sp, shape)]

    try_inject(rng, b, 0.7, candidates)


def checkpoint(rng: random.Random, sp: Speller, b: Chain) -> None:
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject(rng, sp, b)


def chain_convnext(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """ConvNeXt's stem (4×4 patchify conv, LayerNorm2d), a downsampling layer (LayerNorm2d,
    2×2 conv with stride 2) or two, and its head (pool, LayerNorm2d, flatten, linear)."""
    c = rng.choice([4, 8, 12, 16])
    b = Chain([3, *[4 * rng.randint(2, 8)] * 2], inject_at)
    b.add(conv_layer(rng, sp, b.shape, 2, c, [4, 4], s=[4, 4]))
    if b.ok:
        b.add(layernorm2d_layer(rng, sp, b.shape, rng.choice([None, [c]]), eps=1e-6))
    for _ in range(rng.randint(1, 2)):
        checkpoint(rng, sp, b)
        if b.ok and rng.random() < 0.5:
            b.add(conv_layer(rng, sp, b.shape, 2, c, [7, 7], p=[3, 3], g="dw"))
        if b.ok:
            b.add(layernorm2d_layer(rng, sp, b.shape, rng.choice([None, [c]])))
        if b.ok:
            c *= 2
            b.add(conv_layer(rng, sp, b.shape, 2, c, [2, 2], s=[2, 2]))
        if not b.ok:
            break
    checkpoint(rng, sp, b)
    if b.ok:
        b.add(global_layer(rng, b.shape, "avg"))
    if b.ok:
        b.add(layernorm2d_layer(rng, sp, b.shape, rng.choice([None, [c], [1, 1, c]]), eps=1e-6))
    if b.ok:
        b.add(flatten_layer(rng, sp, rng.choice([None, 1]), None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 100])))
    return b


def chain_wrong_rank(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """A layernorm2d after a layer that leaves a C×L or C×D×H×W tensor: rejected."""
    c = rand_channels(rng)
    n = rng.choice([1, 3])
    b = Chain([c, *rand_spatial(rng, n, 12)], inject_at)
    b.add(conv_layer(rng, sp, b.shape, n, rng.choice([4, 8]), [3] * n, p=[1] * n))
    if b.ok and rng.random() < 0.5:
        b.add(act_layer(rng.choice(["relu", "gelu"])))
    if b.ok:
        b.add(layernorm2d_layer(rng, sp, b.shape, rng.choice([None, [b.shape[0]]])))
    return b


def chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(1, 3) if rng.random() < 0.4 else None
    if rng.random() < 0.85:
        b = chain_convnext(rng, sp, inject_at)
    else:
        b = chain_wrong_rank(rng, sp, None)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


SET = CaseSet(pinned=pinned_cases, plan=PLAN, chains=chain_with_faults, chain_count=80)
