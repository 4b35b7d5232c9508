"""Resampling and channel rearrangement: upsample/interpolate, pixel (un)shuffle,
channel shuffle."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

from common import (
    CaseGen,
    Layer,
    Shape,
    Speller,
    divisors,
    finish,
    pick_n,
    rand_channels,
    rand_spatial,
    spatial_input,
    vec,
    weighted,
)
from torch import nn


def upsample_layer(
    rng: random.Random,
    sp: Speller,
    nsp: int,
    *,
    scale: list[float] | None = None,
    size: list[int] | None = None,
    mode: str | None = None,
    align: bool | None = None,
) -> Layer:
    opts: list[str] = []
    if scale is not None:
        sc_text = sp.floats(scale, scalar=len(scale) in (1, nsp))
        opts.append(f"{sp.key('scale', 'scale_factor')}={sc_text}")
    if size is not None:
        opts.append(f"size={sp.ints(size, scalar=len(size) in (1, nsp))}")
    if mode is not None:
        opts.append(f"mode={mode}")
    if align is not None:
        opts.append(f"align_corners={sp.boolean(align)}")
    text = finish(rng.choice(["upsample", "upsample", "interpolate"]), [], opts, rng)

    def make() -> nn.Module:
        sc: Any = None if scale is None else (scale[0] if len(scale) == 1 else tuple(scale))
        sz: Any = None if size is None else (size[0] if len(size) == 1 else tuple(size))
        return nn.Upsample(size=sz, scale_factor=sc, mode=mode or "nearest", align_corners=align)

    return Layer("upsample", text, make)


def shuffle_layer(rng: random.Random, kind: str, r: int) -> Layer:
    cls: Any = nn.PixelShuffle if kind == "pixelshuffle" else nn.PixelUnshuffle
    return Layer(kind, f"{kind} {r}", lambda: cls(r))


def floor_pairs() -> dict[int, list[float]]:
    """Sizes L and 2-decimal scales whose float64 product floors below the exact product."""
    found: dict[int, list[float]] = {}
    for length in range(1, 101):
        for c in range(1, 400):
            exact = Fraction(length) * Fraction(c, 100)
            if exact.denominator == 1 and math.floor(float(length) * (c / 100)) != exact:
                found.setdefault(length, []).append(c / 100)
    return found


FLOOR_PAIRS = floor_pairs()


def gen_upsample(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nsp = len(shape) - 1
    sizes = shape[1:]
    rank_modes = {1: "linear", 2: rng.choice(["bilinear", "bicubic"]), 3: "trilinear"}
    all_interp = ["linear", "bilinear", "bicubic", "trilinear"]
    plain = ["nearest", "nearest-exact", "area"]
    good = [*plain, rank_modes.get(nsp, "nearest")]
    sc = weighted(
        rng,
        {
            "scale": 28,
            "floor": 12,
            "tuple": 15,
            "size": 15,
            "badlen": 5,
            "moderank": 8,
            "align": 10,
            "zero": 5,
            "both": 2,
        },
    )
    mode: str | None = rng.choice([None, *good, rank_modes.get(nsp, "nearest")])
    align: bool | None = None
    scale: list[float] | None = None
    size: list[int] | None = None
    cap = 4.0 if nsp < 3 else 3.0
    scales = [0.5, 1.5, 2.0, 2.0, 3.0, 0.3, 0.29, 0.57, 0.7, 1.16, 2.5, 0.75, 1.25, 1.0, 4.0, 1.1]
    if sc == "scale":
        scale = [rng.choice([v for v in scales if v <= cap])]
    elif sc == "floor":
        hits = [v for li in sizes for v in FLOOR_PAIRS.get(li, []) if v <= cap]
        scale = [rng.choice(hits)] if hits else [rng.randint(1, int(cap * 100) - 1) / 100]
    elif sc == "tuple":
        scale = [rng.choice([v for v in scales if v <= cap]) for _ in range(nsp)]
        if nsp > 1 and rng.random() < 0.3:
            scale = [rng.randint(5, int(cap * 100)) / 100 for _ in range(nsp)]
    elif sc == "size":
        size = vec(rng, nsp, lambda i: rng.randint(1, min(2 * sizes[i] + 3, 80 if nsp < 3 else 24)))
    elif sc == "badlen":
        m = rng.choice([v for v in (1, 2, 3) if v != nsp])
        if rng.random() < 0.5:
            size = [rng.randint(1, 10) for _ in range(m)]
            if m == 1:
                size = [size[0], size[0]] if nsp == 1 else size
        else:
            scale = [2.0] * (m if m > 1 else 2)
    elif sc == "moderank":
        mode = rng.choice([v for v in all_interp if v != rank_modes.get(nsp)])
        scale = [2.0]
    elif sc == "align":
        mode = rng.choice([*good, *good, *plain])
        align = rng.random() < 0.5
        scale = [rng.choice([v for v in scales if v <= cap])]
    elif sc == "zero":
        scale = [rng.choice([0.05, 0.1, 0.2, 0.0])]
        mode = rng.choice([None, "area", "area", rank_modes.get(nsp, "nearest")])
    else:
        if rng.random() < 0.7:
            scale = [2.0]
            size = vec(rng, nsp, lambda i: rng.randint(1, 10))
    if scale is not None and size is None and sc not in ("zero", "badlen"):
        # keep the output small
        lim = 160 if nsp < 3 else 36
        while any(math.floor(li * scale[i % len(scale)]) > lim for i, li in enumerate(sizes)):
            scale = [v / 2 for v in scale]
    return upsample_layer(rng, sp, nsp, scale=scale, size=size, mode=mode, align=align)


def gen_pixelshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[-3]
    goods = [r for r in (1, 2, 3, 4) if c % (r * r) == 0]
    r = rng.choice(goods) if rng.random() < 0.6 else rng.choice([1, 2, 2, 3, 3, 4, 0])
    return shuffle_layer(rng, "pixelshuffle", r)


def gen_pixelunshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    h, w = shape[-2], shape[-1]
    goods = [r for r in (1, 2, 3, 4) if h % r == 0 and w % r == 0]
    r = rng.choice(goods) if rng.random() < 0.6 else rng.choice([1, 2, 2, 3, 3, 4, 0])
    return shuffle_layer(rng, "pixelunshuffle", r)


def case_upsample(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = spatial_input(rng, n)
    if n < 3 and rng.random() < 0.2:
        # float64 product just below an integer: floor(L * scale) < L * scale exactly
        choices = sorted(FLOOR_PAIRS) if n == 1 else [v for v in sorted(FLOOR_PAIRS) if v <= 50]
        li = rng.choice(choices)
        dim = 1 if n == 1 else rng.randint(1, 2)
        shape[dim] = li
        scale = rng.choice(FLOOR_PAIRS[li])
        mode = rng.choice(
            [None, "nearest", "area", "nearest-exact", "linear" if n == 1 else "bicubic"]
        )
        if n == 2 and rng.random() < 0.5:
            other = shape[3 - dim]
            scales = [scale, scale]
            scales[3 - dim - 1] = rng.choice(FLOOR_PAIRS.get(other, [rng.choice([0.5, 1.5, 2.0])]))
            return shape, upsample_layer(rng, sp, n, scale=scales, mode=mode)
        return shape, upsample_layer(rng, sp, n, scale=[scale], mode=mode)
    return shape, gen_upsample(rng, sp, shape)


def case_shuffle(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        c = rng.choice([1, 2, 3, 4, 4, 8, 9, 9, 12, 16, 16, 18, 27, 32, 36])
        h, w = rand_spatial(rng, 2, hi=12)
        if kind == "pixelunshuffle" and rng.random() < 0.5:
            f = rng.choice([2, 3, 4])
            h, w = f * rng.randint(1, 4), f * rng.randint(1, 4)
            c = rand_channels(rng)
        shape = [c, h, w]
        if rng.random() < 0.15:
            shape = [rng.randint(1, 3), *shape]
        if kind == "pixelshuffle":
            return shape, gen_pixelshuffle(rng, sp, shape)
        return shape, gen_pixelunshuffle(rng, sp, shape)

    return gen


def channelshuffle_layer(rng: random.Random, groups: int) -> Layer:
    return Layer("channelshuffle", f"channelshuffle {groups}", lambda: nn.ChannelShuffle(groups))


def gen_channelshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    r = rng.random()
    if r < 0.6:
        g = rng.choice(divisors(c))
    elif r < 0.9:
        g = rng.randint(2, 8)
    else:
        g = rng.choice([0, 0, -1, -2])
    return channelshuffle_layer(rng, g)


def case_channelshuffle(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    c = rng.choice([1, 2, 3, 4, 4, 6, 8, 8, 9, 12, 16, 24])
    rank = rng.choices([0, 1, 2, 3, 4], weights=[10, 25, 40, 20, 5])[0]
    shape = [c, *[rng.randint(1, 10 if rank < 3 else 5) for _ in range(rank)]]
    return shape, gen_channelshuffle(rng, sp, shape)
