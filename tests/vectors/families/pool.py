"""Pooling: max/avg pools, adaptive and global pools, LPPool, MaxUnpool."""

from __future__ import annotations

import random
from typing import Any

import torch
from common import (
    ADAPTIVE_AVG,
    ADAPTIVE_MAX,
    AVGPOOL,
    LMAX,
    MAXPOOL,
    CaseGen,
    Layer,
    Shape,
    Speller,
    finish,
    one,
    pick_n,
    rand_channels,
    rand_spatial,
    spatial_input,
    vec,
    weighted,
)
from torch import nn


def pool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    kind: str,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | None = None,
    d: list[int] | None = None,
    ceil: bool | None = None,
    cip: bool | None = None,
) -> Layer:
    names = [f"{kind}pool{n}d", f"{kind}pool{n}d"] + (
        [f"{kind}pool"] if len(shape) == n + 1 else []
    )
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(p)}")
    if d is not None:
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(d)}")
    if ceil is not None:
        opts.append(f"{sp.key('ceil', 'ceil_mode')}={sp.boolean(ceil)}")
    if cip is not None:
        opts.append(f"count_include_pad={sp.boolean(cip)}")
    text = finish(rng.choice(names), [], opts, rng)

    def make() -> nn.Module:
        stride = None if s is None else one(s, n)
        padding = 0 if p is None else one(p, n)
        if kind == "max":
            return MAXPOOL[n - 1](
                one(k, n),
                stride=stride,
                padding=padding,
                dilation=1 if d is None else one(d, n),
                ceil_mode=bool(ceil),
            )
        return AVGPOOL[n - 1](
            one(k, n),
            stride=stride,
            padding=padding,
            ceil_mode=bool(ceil),
            count_include_pad=True if cip is None else cip,
        )

    return Layer(f"{kind}pool", text, make)


def adaptive_layer(
    rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str, out: list[int | None]
) -> Layer:
    names = [f"adaptive{kind}pool{n}d"] + ([f"adaptive{kind}pool"] if len(shape) == n + 1 else [])
    if len(out) == 1 and out[0] is not None:
        pos = str(out[0])
        arg: int | tuple[int | None, ...] = out[0]
    else:
        pos = sp.ints(out, scalar=len(out) == n)  # a wrong-length tuple must stay a tuple
        arg = tuple(out)
    text = finish(rng.choice(names), [pos], [], rng)
    cls = (ADAPTIVE_AVG if kind == "avg" else ADAPTIVE_MAX)[n - 1]
    return Layer(f"adaptive{kind}pool", text, lambda: cls(arg))


def global_layer(rng: random.Random, shape: Shape, kind: str) -> Layer:
    n = len(shape) - 1
    if kind == "avg":
        name = rng.choice(["gap", "globalavgpool"])
        cls: Any = ADAPTIVE_AVG[n - 1]
    else:
        name = rng.choice(["gmp", "globalmaxpool"])
        cls = ADAPTIVE_MAX[n - 1]
    return Layer("gap" if kind == "avg" else "gmp", name, lambda: cls(1))


def ceil_drops(length: int, k: int, s: int, p: int, d: int) -> bool:
    naive = (length + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
    return (naive - 1) * s >= length + p and naive - 1 >= 1


def gen_pool(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    sizes = shape[-n:]
    is_max = kind == "max"
    table = {
        "basic": 30,
        "padlim": 14,
        "dilpad": 10 if is_max else 0,
        "ceil": 20,
        "small": 10,
        "stride": 8,
        "bad": 7,
        "kbig": 0 if is_max else 12,
    }
    sc = weighted(rng, table)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    p: list[int] | None = None
    d: list[int] | None = None
    ceil: bool | None = None
    cip: bool | None = None
    if not is_max and rng.random() < 0.3:
        cip = rng.random() < 0.5
    if rng.random() < 0.3:
        ceil = rng.random() < 0.6
    if sc == "basic":
        if rng.random() < 0.6:
            s = vec(rng, n, lambda i: rng.randint(1, 4))
        if rng.random() < 0.6:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
        if is_max and rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "padlim":
        p = vec(rng, n, lambda i: k[i] // 2 + rng.choice([0, 0, 1]))
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "dilpad":
        k = vec(rng, n, lambda i: rng.randint(2, 4))
        dd = vec(rng, n, lambda i: rng.randint(2, 3))
        p = vec(
            rng,
            n,
            lambda i: rng.randint(k[i] // 2, max(k[i] // 2 + 1, (dd[i] * (k[i] - 1) + 1) // 2)),
        )
        d = dd
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "ceil":
        ceil = True
        kk, ss, pp, dd = list(k), [1] * n, [0] * n, [1] * n
        for i in range(n):
            for _ in range(200):
                ki, si = rng.randint(1, 5), rng.randint(2, 5)
                pi = rng.randint(0, ki // 2)
                di = rng.choice([1, 1, 2]) if is_max else 1
                if ceil_drops(sizes[i], ki, si, pi, di) or (i > 0 and rng.random() < 0.05):
                    kk[i], ss[i], pp[i], dd[i] = ki, si, pi, di
                    break
            else:
                kk[i], ss[i] = rng.randint(1, 4), rng.randint(2, 4)
        k, s = kk, ss
        if any(pp):
            p = pp
        if any(v > 1 for v in dd):
            d = dd
    elif sc == "small":
        pp = vec(rng, n, lambda i: rng.randint(0, 1))
        dd = [1] * n
        if is_max and rng.random() < 0.3:
            dd = vec(rng, n, lambda i: rng.randint(1, 2))
        for i in range(n):
            if rng.random() < 0.6 or i == 0:
                target = sizes[i] + 2 * pp[i] + rng.choice([0, 1])
                k[i] = max(1, (target - 1) // dd[i] + 1)
                if k[i] // 2 < pp[i]:
                    pp[i] = k[i] // 2
        p = pp
        if any(v > 1 for v in dd):
            d = dd
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 3))
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
    elif sc == "bad":
        what = rng.choice(["k", "k0s", "s", "p", "d"] if is_max else ["k", "k0s", "s", "p"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "k0s":
            k = [0] * n
            s = vec(rng, n, lambda i: rng.randint(1, 2))
        elif what == "s":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        elif what == "p":
            p = [0] * n
            p[rng.randrange(n)] = -1
        else:
            d = [1] * n
            d[rng.randrange(n)] = 0
    else:  # kbig: kernel larger than the unpadded input (AvgPool3d rejects it)
        k = vec(rng, n, lambda i: sizes[i] + rng.choice([-1, 0, 1, 1, 2]))
        k = [max(1, v) for v in k]
        p = [v // 2 for v in k]
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
    return pool_layer(rng, sp, shape, n, kind, k, s=s, p=p, d=d, ceil=ceil, cip=cip)


def gen_adaptive(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    sizes = shape[-n:]

    def pick(i: int) -> int:
        li = sizes[i]
        return rng.choice(
            [
                1,
                li,
                max(1, li // 2),
                li + rng.randint(1, 5),
                rng.randint(1, 2 * li),
                rng.randint(1, 6),
            ]
        )

    out: list[int | None] = list(vec(rng, n, pick, same=0.3))
    if n > 1 and rng.random() < 0.3:
        for i in range(n):
            if rng.random() < 0.5:
                out[i] = None
    if rng.random() < 0.08:  # wrong number of entries
        out = [*out, rng.randint(1, 4)]
    return adaptive_layer(rng, sp, shape, n, kind, out)


def case_pool(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        shape = spatial_input(rng, n, mismatch=0.02)
        if rng.random() < 0.35:
            shape[1:] = [rng.randint(1, 8) for _ in shape[1:]]
        return shape, gen_pool(rng, sp, shape, n, kind)

    return gen


def case_adaptive(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        shape = spatial_input(rng, n, mismatch=0.05)
        return shape, gen_adaptive(rng, sp, shape, n, kind)

    return gen


def case_global(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        shape = spatial_input(rng, pick_n(rng))
        return shape, global_layer(rng, shape, kind)

    return gen


LPPOOL: tuple[type[nn.Module], ...] = (nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)


MAXUNPOOL: tuple[type[nn.Module], ...] = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)


class Unpool(nn.Module):
    """MaxUnpool called as ``m(x, indices)`` with all-zero int64 indices (index 0 is valid
    whenever the output is non-empty)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, torch.zeros_like(x, dtype=torch.int64))


def spatial_names(kind: str, shape: Shape, n: int) -> list[str]:
    """``kind{n}d`` (twice as likely), plus the rank-from-input alias when it means the same."""
    return [f"{kind}{n}d", f"{kind}{n}d"] + ([kind] if len(shape) == n + 1 else [])


def lppool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    norm: float,
    k: list[int],
    *,
    s: list[int] | None = None,
    ceil: bool | None = None,
) -> Layer:
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if ceil is not None:
        opts.append(f"{sp.key('ceil', 'ceil_mode')}={sp.boolean(ceil)}")
    text = finish(rng.choice(spatial_names("lppool", shape, n)), [sp.float(norm)], opts, rng)
    cls = LPPOOL[n - 1]
    # LPPool1d multiplies by kernel_size, so it must be a plain int there
    return Layer(
        "lppool",
        text,
        lambda: cls(norm, one(k, n), stride=None if s is None else one(s, n), ceil_mode=bool(ceil)),
    )


def maxunpool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | None = None,
) -> Layer:
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(p)}")
    text = finish(rng.choice(spatial_names("maxunpool", shape, n)), [], opts, rng)
    cls = MAXUNPOOL[n - 1]
    return Layer(
        "maxunpool",
        text,
        lambda: Unpool(
            cls(
                one(k, n),
                stride=None if s is None else one(s, n),
                padding=0 if p is None else one(p, n),
            )
        ),
    )


NORM_TYPES = [2.0, 2.0, 2.0, 1.0, 3.0, 1.5, 4.0, 0.5, 2.5]


def gen_lppool(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    sizes = shape[-n:]
    sc = weighted(
        rng, {"basic": 34, "ceil": 20, "kbig": 20, "stride": 8, "bad": 8, "norm": 4, "tuple": 6}
    )
    norm = rng.choice(NORM_TYPES)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    ceil: bool | None = None
    if rng.random() < 0.3:
        ceil = rng.random() < 0.6
    if sc == "basic":
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 4))
    elif sc == "ceil":
        ceil = True
        kk, ss = list(k), [1] * n
        for i in range(n):
            for _ in range(200):
                ki, si = rng.randint(1, 5), rng.randint(2, 5)
                if ceil_drops(sizes[i], ki, si, 0, 1) or (i > 0 and rng.random() < 0.05):
                    kk[i], ss[i] = ki, si
                    break
            else:
                kk[i], ss[i] = rng.randint(1, 4), rng.randint(2, 4)
        k, s = kk, ss
    elif sc == "kbig":  # kernel around the input size: LPPool3d needs L >= k even with ceil
        for i in range(n):
            if i == 0 or rng.random() < 0.5:
                k[i] = max(1, sizes[i] + rng.choice([-1, 0, 1, 1, 2]))
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if ceil is None and rng.random() < 0.5:
            ceil = True
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 3))
    elif sc == "bad":
        what = rng.choice(["k", "k0s", "s"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "k0s":
            k = [0] * n
            s = vec(rng, n, lambda i: rng.randint(1, 2))
        else:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
    elif sc == "norm":  # norm_type 0 divides by zero in forward; a negative one is accepted
        norm = rng.choice([0.0, 0.0, -1.0, -2.0])
    else:  # a full tuple for every dim, stride spelled out
        k = [rng.randint(1, 4) for _ in range(n)]
        s = [rng.randint(1, 3) for _ in range(n)]
    return lppool_layer(rng, sp, shape, n, norm, k, s=s, ceil=ceil)


def gen_maxunpool(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    sizes = shape[-n:]
    sc = weighted(rng, {"basic": 45, "zero": 20, "weird": 12, "bigp": 13, "pool": 10})
    k = vec(rng, n, lambda i: rng.randint(1, 4))
    s: list[int] | None = None
    p: list[int] | None = None
    if sc == "basic":
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.6:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
    elif sc == "zero":  # default output size near 0 (0 is accepted, negative is not)
        default_stride = rng.random() < 0.4
        ss = list(k) if default_stride else vec(rng, n, lambda i: rng.randint(1, 3))
        pp = [0] * n
        for i in range(n):
            if i == 0 or rng.random() < 0.5:
                base = (sizes[i] - 1) * ss[i] + k[i]
                target = rng.choice([t for t in (-2, -1, 0, 1) if (base - t) % 2 == 0])
                pp[i] = max(0, (base - target) // 2)
            else:
                pp[i] = rng.randint(0, 1)
        s = None if default_stride else ss
        p = pp
    elif sc == "weird":  # MaxUnpool validates none of k, s, p
        what = rng.choice(["k0", "k0s", "s0", "pneg"])
        if what == "k0":
            k[rng.randrange(n)] = 0
            if rng.random() < 0.5:
                s = vec(rng, n, lambda i: rng.randint(1, 2))
        elif what == "k0s":
            k = [0] * n
        elif what == "s0":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        else:
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
    elif sc == "bigp":
        s = vec(rng, n, lambda i: rng.randint(1, 3))
        p = vec(rng, n, lambda i: rng.randint(k[i] // 2 + 1, k[i] + 3))
    else:  # the usual inverse of maxpool k=2 / k=3 s=2
        kk = rng.choice([2, 2, 3])
        k = [kk] * n
        if kk == 3:
            s = [2] * n
            if rng.random() < 0.5:
                p = [1] * n
        elif rng.random() < 0.3:
            s = [2] * n
    return maxunpool_layer(rng, sp, shape, n, k, s=s, p=p)


def new_kind_input(rng: random.Random, n: int, hi3: int = 12) -> Shape:
    """[C, *spatial] for an n-d layer; now and then one dim too many (rejected)."""
    shape = [rand_channels(rng), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else hi3)]
    if rng.random() < 0.35:
        shape[1:] = [rng.randint(1, 8) for _ in shape[1:]]
    if rng.random() < 0.04:
        shape.append(rng.randint(1, 8))
    return shape


def case_lppool(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = new_kind_input(rng, n)
    return shape, gen_lppool(rng, sp, shape, n)


def case_maxunpool(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = new_kind_input(rng, n, hi3=8)
    if rng.random() < 0.15:
        shape[1 : n + 1] = [1] * n
    return shape, gen_maxunpool(rng, sp, shape, n)
