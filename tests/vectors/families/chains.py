"""Multi-layer chains of the first set (CNNs, decoders, upsamplers, sequence MLPs, padded
convs), with one corner-case layer injected now and then."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from common import (
    LMAX,
    Chain,
    Layer,
    Shape,
    Speller,
    divisors,
    maybe_bias,
    rand_spatial,
    try_inject,
)
from torch import nn

from families.activation import act_layer, dropout_layer, gen_prelu, prelu_layer
from families.conv import conv_layer, gen_conv, gen_convt
from families.linear import linear_layer
from families.norm import (
    gen_groupnorm,
    gen_layernorm,
    gen_norm,
    groupnorm_layer,
    layernorm_layer,
    norm_layer,
)
from families.pool import adaptive_layer, gen_pool, global_layer, pool_layer
from families.resample import (
    gen_pixelshuffle,
    gen_pixelunshuffle,
    gen_upsample,
    shuffle_layer,
    upsample_layer,
)
from families.reshape import flatten_layer, gen_flatten, gen_pad, pad_layer

SAFE_ACTS = [
    "relu",
    "relu",
    "relu",
    "relu6",
    "silu",
    "gelu",
    "leakyrelu",
    "hardswish",
    "elu",
    "mish",
]


def norm_for(rng: random.Random, sp: Speller, shape: Shape) -> Layer | None:
    n = len(shape) - 1
    r = rng.random()
    if r < 0.55:
        return (
            gen_norm(rng, sp, shape, n, "batchnorm")
            if rng.random() < 0.3
            else norm_layer(rng, sp, shape, n, "batchnorm")
        )
    if r < 0.67:
        return groupnorm_layer(rng, sp, shape, rng.choice(divisors(shape[0])))
    if r < 0.72 and math.prod(shape[1:]) > 1:
        return norm_layer(rng, sp, shape, n, "instancenorm", affine=rng.choice([None, True]))
    return None


def conv_block(rng: random.Random, sp: Speller, b: Chain, budget: int) -> None:
    shape = b.shape
    n = len(shape) - 1
    cout = rng.choice([4, 6, 8, 8, 12, 16])
    k = rng.choice([1, 3, 3, 3, 5] if n < 3 else [1, 3, 3])
    stride = rng.choice([1, 1, 2])
    r = rng.random()
    p: list[int] | str | None
    if r < 0.2 and stride == 1:
        p = "same"
    elif r < 0.8:
        p = [k // 2] * n
    else:
        p = None
    g: int | str | None = None
    if rng.random() < 0.1:
        g = "dw"
        cout = shape[0] * rng.choice([1, 2])
    b.add(
        conv_layer(
            rng,
            sp,
            shape,
            n,
            cout,
            [k] * n,
            s=[stride] * n if stride > 1 or rng.random() < 0.1 else None,
            p=p,
            g=g,
            bias=False if rng.random() < 0.3 else None,
        )
    )
    if budget > 1 and b.ok:
        nl = norm_for(rng, sp, b.shape)
        if nl is not None:
            b.add(nl)
    if budget > 2 and b.ok:
        b.add(
            act_layer(rng.choice(SAFE_ACTS)) if rng.random() < 0.9 else prelu_layer(rng, sp, None)
        )


def pool_for(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    n = len(shape) - 1
    r = rng.random()
    kind = "max" if r < 0.7 else "avg"
    if rng.random() < 0.5:
        return pool_layer(rng, sp, shape, n, kind, [2] * n)
    return pool_layer(
        rng,
        sp,
        shape,
        n,
        kind,
        [3] * n,
        s=[2] * n,
        p=[1] * n,
        ceil=True if rng.random() < 0.2 else None,
    )


def head(rng: random.Random, sp: Speller, b: Chain) -> None:
    if not b.ok:
        return

    def room(k: int) -> bool:
        return len(b.layers) + k <= 12

    r = rng.random()
    if r < 0.6:
        b.add(global_layer(rng, b.shape, "avg" if rng.random() < 0.8 else "max"))
    elif r < 0.75:
        n = len(b.shape) - 1
        b.add(
            adaptive_layer(
                rng, sp, b.shape, n, rng.choice(["avg", "max"]), [rng.choice([1, 2])] * n
            )
        )
    if not b.ok:
        return
    b.add(
        flatten_layer(rng, sp, None, None) if rng.random() < 0.8 else flatten_layer(rng, sp, 1, -1)
    )
    if b.ok and rng.random() < 0.3 and room(4):
        b.add(linear_layer(rng, sp, b.shape, rng.choice([32, 64, 16])))
        if b.ok and rng.random() < 0.4 and room(4):
            b.add(norm_layer(rng, sp, b.shape, 1, "batchnorm"))
        if b.ok:
            b.add(act_layer("relu"))
        if b.ok and rng.random() < 0.5 and room(2):
            b.add(dropout_layer(rng, rng.choice([None, 0.5, 0.2])))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 2, 5, 100, 1])))
    if b.ok and rng.random() < 0.2 and room(1):
        b.add(act_layer(rng.choice(["softmax", "logsoftmax", "sigmoid"])))


def chain_cnn(rng: random.Random, sp: Speller, n: int, inject_at: int | None) -> Chain:
    hi = LMAX[n]
    sizes = rand_spatial(rng, n, hi=hi)
    if rng.random() < 0.6:
        sizes = [max(v, rng.randint(8, hi)) for v in sizes]
    b = Chain([rng.choice([1, 2, 3, 3, 4]), *sizes], inject_at)
    blocks = rng.randint(1, 3)
    for _ in range(blocks):
        checkpoint(rng, sp, b)
        if not b.ok or len(b.layers) > 5:
            break
        conv_block(rng, sp, b, 3)
        if b.ok and rng.random() < 0.6:
            b.add(pool_for(rng, sp, b.shape))
    checkpoint(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_decoder(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[25, 55, 20])[0]
    lim = 3 if n == 3 else 6
    b = Chain([rng.choice([4, 8, 16]), *[rng.randint(1, lim) for _ in range(n)]], inject_at)
    steps = rng.randint(1, 3 if n < 3 else 2)
    for _ in range(steps):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        cout = rng.choice([4, 8, 8, 16])
        style = rng.choice(["k4s2p1", "k3s2p1op1", "k2s2", "k3s1p1"])
        kw: dict[str, Any] = {}
        if style == "k4s2p1":
            k, kw = 4, {"s": [2] * n, "p": [1] * n}
        elif style == "k3s2p1op1":
            k, kw = 3, {"s": [2] * n, "p": [1] * n, "op": [1] * n}
        elif style == "k2s2":
            k, kw = 2, {"s": [2] * n}
        else:
            k, kw = 3, {"p": [1] * n}
        b.add(
            conv_layer(
                rng,
                sp,
                shape,
                n,
                cout,
                [k] * n,
                transposed=True,
                bias=False if rng.random() < 0.3 else None,
                **kw,
            )
        )
        if b.ok and rng.random() < 0.7:
            b.add(norm_layer(rng, sp, b.shape, n, "batchnorm"))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    if b.ok:
        b.add(
            conv_layer(
                rng,
                sp,
                b.shape,
                n,
                rng.choice([1, 3]),
                [3] * n,
                p=[1] * n if rng.random() < 0.5 else "same",
            )
        )
    if b.ok:
        b.add(act_layer(rng.choice(["tanh", "sigmoid", "identity"])))
    return b


def chain_upsample(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[20, 65, 15])[0]
    lim = 4 if n == 3 else 12
    b = Chain([rng.choice([1, 3, 4]), *[rng.randint(2, lim) for _ in range(n)]], inject_at)
    if n == 2 and rng.random() < 0.25:
        sh = b.shape
        f = rng.choice([2, 3])
        b = Chain([sh[0], f * rng.randint(1, 5), f * rng.randint(1, 5)], inject_at)
        b.add(shuffle_layer(rng, "pixelunshuffle", f))
    for _ in range(rng.randint(1, 2)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        b.add(conv_layer(rng, sp, shape, n, rng.choice([4, 8]), [3] * n, p=[1] * n))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
        if not b.ok:
            break
        shape = b.shape
        if n == 2 and rng.random() < 0.4:
            r = rng.choice([2, 3])
            c = rng.choice([1, 2, 3])
            b.add(conv_layer(rng, sp, shape, n, c * r * r, [3] * n, p=[1] * n))
            if b.ok:
                b.add(shuffle_layer(rng, "pixelshuffle", r))
        else:
            modes = {1: "linear", 2: rng.choice(["bilinear", "bicubic"]), 3: "trilinear"}
            mode = rng.choice([None, "nearest", modes[n]])
            align = rng.choice([None, True, False]) if mode == modes[n] else None
            if rng.random() < 0.7:
                b.add(
                    upsample_layer(
                        rng, sp, n, scale=[rng.choice([2.0, 2.0, 1.5, 3.0])], mode=mode, align=align
                    )
                )
            else:
                b.add(
                    upsample_layer(
                        rng, sp, n, size=[2 * v for v in shape[1:]], mode=mode, align=align
                    )
                )
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
    return b


def chain_seq(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Linear / layernorm stacks on (T, F) or (F,) inputs."""
    shape = rng.choice(
        [
            [rng.randint(1, 16), rng.randint(2, 32)],
            [rng.randint(2, 40)],
            [rng.randint(1, 4), rng.randint(1, 8), rng.randint(2, 16)],
        ]
    )
    b = Chain(shape, inject_at)
    for _ in range(rng.randint(1, 3)):
        checkpoint(rng, sp, b)
        if not b.ok or len(b.layers) > 9:
            break
        b.add(linear_layer(rng, sp, b.shape, rng.choice([8, 16, 32, 4]), maybe_bias(rng)))
        if b.ok:
            b.add(act_layer(rng.choice(["gelu", "relu", "tanh", "silu"])))
        if b.ok and rng.random() < 0.6:
            b.add(layernorm_layer(rng, sp, b.shape, rng.choice([None, [b.shape[-1]]])))
        if b.ok and rng.random() < 0.3:
            b.add(dropout_layer(rng, rng.choice([0.1, None])))
    if b.ok and len(b.shape) > 1 and rng.random() < 0.5:
        b.add(flatten_layer(rng, sp, None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    if b.ok and rng.random() < 0.3:
        b.add(act_layer(rng.choice(["softmax", "logsoftmax"])))
    return b


def chain_pad(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[30, 50, 20])[0]
    b = Chain(
        [rng.choice([1, 2, 3]), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else 10)], inject_at
    )
    for _ in range(rng.randint(1, 3)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        mode = rng.choice([None, "reflect", "replicate", "circular", "constant"])
        b.add(pad_layer(rng, sp, shape, rng.randint(1, 2), mode))
        if b.ok:
            b.add(
                conv_layer(
                    rng,
                    sp,
                    b.shape,
                    n,
                    rng.choice([2, 4, 8]),
                    [3] * n,
                    p=rng.choice([None, "valid"]),
                    s=rng.choice([None, [2] * n]),
                )
            )
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    checkpoint(rng, sp, b)
    head(rng, sp, b)
    return b


def inject(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one corner-case layer; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        choices: list[Callable[[], Layer]] = [
            lambda: gen_layernorm(rng, sp, shape),
            lambda: gen_groupnorm(rng, sp, shape),
            lambda: gen_prelu(rng, sp, shape),
            lambda: gen_flatten(rng, sp, shape),
        ]
        if 1 <= n <= 3:
            choices += [
                lambda: gen_conv(rng, sp, shape, n),
                lambda: gen_conv(rng, sp, shape, n),
                lambda: gen_convt(rng, sp, shape, n),
                lambda: gen_pool(rng, sp, shape, n, "max"),
                lambda: gen_pool(rng, sp, shape, n, "avg"),
                lambda: gen_pad(rng, sp, shape),
                lambda: gen_upsample(rng, sp, shape),
            ]
        if n == 2:
            choices += [
                lambda: gen_pixelshuffle(rng, sp, shape),
                lambda: gen_pixelunshuffle(rng, sp, shape),
            ]
        return choices

    try_inject(rng, b, 0.75, candidates)


def tail_after_error(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Layers after the failing one (never run; dimension explicit)."""
    for _ in range(rng.choice([0, 0, 1, 2])):
        r = rng.random()
        if r < 0.3:
            b.layers.append(act_layer("relu"))
        elif r < 0.5:
            b.layers.append(Layer("flatten", "flatten", nn.Flatten))
        elif r < 0.7:
            b.layers.append(Layer("linear", f"linear {rng.choice([10, 4])}", nn.Identity))
        else:
            b.layers.append(Layer("conv", f"conv2d 8 {sp.key('k', 'kernel_size')}=3", nn.Identity))


def make_chain(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    style = rng.choices(
        ["cnn2d", "cnn1d", "cnn3d", "decoder", "upsample", "seq", "pad"],
        weights=[30, 15, 12, 14, 12, 8, 9],
    )[0]
    if style == "cnn2d":
        b = chain_cnn(rng, sp, 2, inject_at)
    elif style == "cnn1d":
        b = chain_cnn(rng, sp, 1, inject_at)
    elif style == "cnn3d":
        b = chain_cnn(rng, sp, 3, inject_at)
    elif style == "decoder":
        b = chain_decoder(rng, sp, inject_at)
    elif style == "upsample":
        b = chain_upsample(rng, sp, inject_at)
    elif style == "seq":
        b = chain_seq(rng, sp, inject_at)
    else:
        b = chain_pad(rng, sp, inject_at)
    return b


def checkpoint(rng: random.Random, sp: Speller, b: Chain) -> None:
    """A point between blocks where a chain may receive its corner-case layer."""
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject(rng, sp, b)


def chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(2, 4) if rng.random() < 0.45 else None
    b = make_chain(rng, sp, inject_at)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b
