"""The second set of layer kinds: lppool, maxunpool, unflatten, embedding, rmsnorm,
localresponsenorm, glu, channelshuffle — corner cases, random single layers and chains."""

from __future__ import annotations

import random
from collections.abc import Callable

from common import (
    LMAX,
    CaseGen,
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    maybe_bias,
    rand_spatial,
    try_inject,
)

from families.activation import act_layer, case_glu, dropout_layer, gen_glu, glu_layer
from families.chains import SAFE_ACTS, head, pool_for, tail_after_error
from families.conv import conv_layer
from families.linear import case_embedding, embedding_layer, linear_layer
from families.norm import (
    case_lrn,
    case_rmsnorm,
    gen_lrn,
    gen_rmsnorm,
    lrn_layer,
    norm_layer,
    rmsnorm_layer,
)
from families.pool import (
    case_lppool,
    case_maxunpool,
    gen_lppool,
    gen_maxunpool,
    lppool_layer,
    maxunpool_layer,
)
from families.resample import case_channelshuffle, channelshuffle_layer, gen_channelshuffle
from families.reshape import case_unflatten, flatten_layer, gen_unflatten, unflatten_layer


def pinned_new_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """Documented corner cases of the second set of kinds, always present."""
    r, s = rng, sp
    return [
        # LPPool3d needs the input >= kernel in every dim, even where ceil_mode would fit
        ("lppool", [2, 2, 5, 5], lppool_layer(r, s, [2, 2, 5, 5], 3, 2.0, [3, 3, 3])),
        ("lppool", [2, 2, 5], lppool_layer(r, s, [2, 2, 5], 2, 2.0, [3, 3], s=[2, 2], ceil=True)),
        (
            "lppool",
            [2, 2, 5, 5],
            lppool_layer(r, s, [2, 2, 5, 5], 3, 2.0, [3, 3, 3], s=[2, 2, 2], ceil=True),
        ),
        ("lppool", [1, 6], lppool_layer(r, s, [1, 6], 1, 1.5, [2], s=[4], ceil=True)),
        ("lppool", [1, 5], lppool_layer(r, s, [1, 5], 1, 2.0, [2], s=[2], ceil=True)),
        ("lppool", [3, 8, 8], lppool_layer(r, s, [3, 8, 8], 2, 0.0, [2, 2])),
        ("maxunpool", [3, 4, 4], maxunpool_layer(r, s, [3, 4, 4], 2, [2, 2])),
        ("maxunpool", [3, 4, 4], maxunpool_layer(r, s, [3, 4, 4], 2, [3, 3], s=[2, 2], p=[1, 1])),
        ("maxunpool", [3, 1], maxunpool_layer(r, s, [3, 1], 1, [2], p=[1])),
        ("maxunpool", [3, 1], maxunpool_layer(r, s, [3, 1], 1, [1], p=[1])),
        ("maxunpool", [3, 5, 5], maxunpool_layer(r, s, [3, 5, 5], 2, [0, 0])),
        ("unflatten", [784], unflatten_layer(r, s, 1, [16, 7, 7])),
        ("unflatten", [6, 4], unflatten_layer(r, s, 1, [-1, -1])),
        ("unflatten", [6, 4], unflatten_layer(r, s, 1, [4, 2])),
        ("unflatten", [6, 4], unflatten_layer(r, s, -1, [2, -1])),
        ("embedding", [5], embedding_layer(r, s, 10, 4, padding_idx=-10)),
        ("embedding", [5], embedding_layer(r, s, 10, 4, padding_idx=10)),
        ("embedding", [2, 5], embedding_layer(r, s, 10, 4, padding_idx=-11)),
        ("rmsnorm", [3, 4], rmsnorm_layer(r, s, [3, 4], [2, 4])),
        ("rmsnorm", [3, 4], rmsnorm_layer(r, s, [3, 4], [3, 4], affine=False)),
        ("localresponsenorm", [8], lrn_layer(r, s, 5)),
        ("localresponsenorm", [8, 4], lrn_layer(r, s, 5)),
        ("glu", [3, 5], glu_layer(r, None)),
        ("glu", [4, 5], glu_layer(r, 1)),
        ("channelshuffle", [6, 4, 4], channelshuffle_layer(r, 4)),
        ("channelshuffle", [6, 4, 4], channelshuffle_layer(r, 0)),
        ("channelshuffle", [6], channelshuffle_layer(r, 2)),
    ]


NEW_PLAN: list[tuple[str, int, float, CaseGen]] = [
    ("lppool", 180, 0.28, case_lppool),
    ("maxunpool", 160, 0.25, case_maxunpool),
    ("unflatten", 150, 0.25, case_unflatten),
    ("embedding", 140, 0.25, case_embedding),
    ("rmsnorm", 140, 0.25, case_rmsnorm),
    ("localresponsenorm", 130, 0.28, case_lrn),
    ("glu", 130, 0.28, case_glu),
    ("channelshuffle", 130, 0.25, case_channelshuffle),
]


def inject_new(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one corner-case layer of the second set; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        choices: list[Callable[[], Layer]] = [
            lambda: gen_unflatten(rng, sp, shape),
            lambda: gen_rmsnorm(rng, sp, shape),
            lambda: gen_glu(rng, sp, shape),
            lambda: gen_lrn(rng, sp, shape),
            lambda: gen_channelshuffle(rng, sp, shape),
        ]
        if 1 <= n <= 3:
            choices += [
                lambda: gen_lppool(rng, sp, shape, n),
                lambda: gen_maxunpool(rng, sp, shape, n),
            ]
        return choices

    try_inject(rng, b, 0.7, candidates)


def checkpoint_new(rng: random.Random, sp: Speller, b: Chain) -> None:
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject_new(rng, sp, b)


def chain_alexnet(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """conv → relu → LRN → (max | LP) pool blocks, optionally unpooled back up."""
    n = rng.choices([1, 2, 3], weights=[25, 60, 15])[0]
    hi = LMAX[n]
    sizes = [max(v, rng.randint(8, hi)) for v in rand_spatial(rng, n, hi=hi)]
    b = Chain([rng.choice([1, 3, 3, 4]), *sizes], inject_at)
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        b.add(conv_layer(rng, sp, shape, n, rng.choice([8, 12, 16]), [3] * n, p=[1] * n))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
        if b.ok and rng.random() < 0.7:
            if rng.random() < 0.5:
                b.add(lrn_layer(rng, sp, rng.choice([3, 5, 5])))
            else:  # AlexNet's
                b.add(lrn_layer(rng, sp, 5, 1e-4, 0.75, 2.0))
        if not b.ok:
            break
        shape = b.shape
        r = rng.random()
        if r < 0.45:
            k = rng.choice([2, 3])
            b.add(
                lppool_layer(
                    rng,
                    sp,
                    shape,
                    n,
                    rng.choice([2.0, 2.0, 1.0, 3.0]),
                    [k] * n,
                    s=[2] * n if k == 3 or rng.random() < 0.3 else None,
                    ceil=rng.choice([None, None, True]),
                )
            )
        elif r < 0.8:
            b.add(pool_for(rng, sp, shape))
    if b.ok and rng.random() < 0.35:
        checkpoint_new(rng, sp, b)
        if b.ok:
            shape = b.shape
            b.add(maxunpool_layer(rng, sp, shape, n, [2] * n, s=rng.choice([None, [2] * n])))
            if b.ok:
                b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
            return b
    checkpoint_new(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_shufflenet(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """grouped 1×1 conv → BN → ReLU → channel shuffle → depthwise 3×3."""
    n = rng.choices([1, 2], weights=[30, 70])[0]
    b = Chain([3, *[rng.randint(8, 32) for _ in range(n)]], inject_at)
    b.add(conv_layer(rng, sp, b.shape, n, rng.choice([12, 24]), [3] * n, s=[2] * n, p=[1] * n))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        g = rng.choice([g for g in (2, 3, 4) if shape[0] % g == 0] or [1])
        b.add(conv_layer(rng, sp, shape, n, g * rng.choice([4, 6]), [1] * n, g=g, bias=False))
        if b.ok:
            b.add(norm_layer(rng, sp, b.shape, n, "batchnorm"))
        if b.ok:
            b.add(act_layer("relu"))
        if b.ok:
            b.add(channelshuffle_layer(rng, g))
        if b.ok:
            b.add(conv_layer(rng, sp, b.shape, n, b.shape[0], [3] * n, p=[1] * n, g="dw"))
    checkpoint_new(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_gated(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Gated convolutions (conv to 2C, GLU over the channels) or a gated MLP."""
    if rng.random() < 0.6:
        n = rng.choice([1, 1, 2])
        b = Chain([rng.choice([1, 4, 8]), *[rng.randint(6, 30) for _ in range(n)]], inject_at)
        for _ in range(rng.randint(1, 3)):
            checkpoint_new(rng, sp, b)
            if not b.ok:
                break
            c = rng.choice([4, 8, 16])
            b.add(conv_layer(rng, sp, b.shape, n, 2 * c, [3] * n, p=[1] * n))
            if b.ok:
                b.add(glu_layer(rng, rng.choice([1, 1, -n - 1])))
        checkpoint_new(rng, sp, b)
        head(rng, sp, b)
        return b
    b = Chain(
        rng.choice([[rng.randint(2, 16), rng.randint(2, 32)], [rng.randint(2, 40)]]), inject_at
    )
    for _ in range(rng.randint(1, 3)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(linear_layer(rng, sp, b.shape, 2 * rng.choice([4, 8, 16]), maybe_bias(rng)))
        if b.ok:
            b.add(glu_layer(rng, rng.choice([None, None, -1])))
        if b.ok and rng.random() < 0.5:
            b.add(rmsnorm_layer(rng, sp, b.shape, rng.choice([None, [b.shape[-1]]])))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    return b


def chain_embed(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Token indices → embedding → (RMSNorm, linear, GLU) stacks → head."""
    shape = rng.choice([[rng.randint(1, 32)], [rng.randint(1, 4), rng.randint(1, 16)]])
    b = Chain(shape, inject_at)
    num = rng.choice([100, 1000, 5000, 30])
    dim = rng.choice([8, 16, 32, 64])
    pad = rng.choice([None, None, 0, -1])
    b.add(embedding_layer(rng, sp, num, dim, padding_idx=pad))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(rmsnorm_layer(rng, sp, b.shape, rng.choice([None, None, [b.shape[-1]]])))
        if b.ok:
            b.add(linear_layer(rng, sp, b.shape, 2 * rng.choice([16, 32]), maybe_bias(rng)))
        if b.ok:
            b.add(glu_layer(rng, rng.choice([None, -1])))
        if b.ok and rng.random() < 0.3:
            b.add(dropout_layer(rng, 0.1))
    if b.ok and rng.random() < 0.5:
        b.add(flatten_layer(rng, sp, None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([2, 10, 100])))
    return b


def chain_unflatten(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """A latent vector → linear → unflatten to (C, H, W) → transposed convs."""
    n = rng.choice([1, 2, 2, 2, 3])
    c = rng.choice([4, 8, 16])
    side = rng.choice([2, 3, 4]) if n < 3 else 2
    b = Chain([rng.choice([8, 16, 32, 100])], inject_at)
    b.add(linear_layer(rng, sp, b.shape, c * side**n))
    if b.ok:
        sizes = [c] + [side] * n
        if rng.random() < 0.3:
            sizes[rng.randrange(n + 1)] = -1
        b.add(unflatten_layer(rng, sp, rng.choice([1, -1]), sizes))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(
            conv_layer(
                rng,
                sp,
                b.shape,
                n,
                rng.choice([4, 8]),
                [4] * n,
                s=[2] * n,
                p=[1] * n,
                transposed=True,
            )
        )
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
    return b


def new_chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(2, 3) if rng.random() < 0.4 else None
    style = rng.choices(
        ["alexnet", "shufflenet", "gated", "embed", "unflatten"], weights=[30, 18, 20, 17, 15]
    )[0]
    makers = {
        "alexnet": chain_alexnet,
        "shufflenet": chain_shufflenet,
        "gated": chain_gated,
        "embed": chain_embed,
        "unflatten": chain_unflatten,
    }
    b = makers[style](rng, sp, inject_at)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


SET = CaseSet(pinned=pinned_new_cases, plan=NEW_PLAN, chains=new_chain_with_faults, chain_count=160)
