"""Conv1d/2d/3d and ConvTranspose1d/2d/3d: layer builders and corner-seeking generators."""

from __future__ import annotations

import random
from typing import Any

from common import (
    CONV,
    CONVT,
    LMAX,
    Layer,
    Shape,
    Speller,
    divisors,
    finish,
    maybe_bias,
    one,
    pick_n,
    rand_channels,
    rand_spatial,
    spatial_input,
    vec,
    weighted,
)
from torch import nn


def conv_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    cout: int,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | str | None = None,
    d: list[int] | None = None,
    g: int | str | None = None,
    bias: bool | None = None,
    pm: str | None = None,
    op: list[int] | None = None,
    transposed: bool = False,
) -> Layer:
    cin = shape[0]
    rank_ok = len(shape) == n + 1
    if transposed:
        names = [f"convtranspose{n}d", f"deconv{n}d", f"convt{n}d", f"tconv{n}d"]
        if rank_ok:
            names += ["convtranspose"]
    else:
        names = [f"conv{n}d", f"conv{n}d"] + (["conv"] if rank_ok else [])
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={p if isinstance(p, str) else sp.ints(p)}")
    if d is not None:
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(d)}")
    if g is not None:
        opts.append(f"{sp.key('g', 'groups')}={g}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    if pm is not None:
        opts.append(f"{sp.key('pm', 'padding_mode')}={pm}")
    if op is not None:
        opts.append(f"{sp.key('op', 'output_padding')}={sp.ints(op)}")
    text = finish(rng.choice(names), [str(cout)], opts, rng)
    groups = cin if g == "dw" else (1 if g is None else int(g))

    def make() -> nn.Module:
        kw: dict[str, Any] = {
            "kernel_size": one(k, n),
            "stride": 1 if s is None else one(s, n),
            "padding": 0 if p is None else (p if isinstance(p, str) else one(p, n)),
            "dilation": 1 if d is None else one(d, n),
            "groups": groups,
            "bias": True if bias is None else bias,
            "padding_mode": pm or "zeros",
        }
        if transposed:
            kw["output_padding"] = 0 if op is None else one(op, n)
            return CONVT[n - 1](cin, cout, **kw)
        return CONV[n - 1](cin, cout, **kw)

    return Layer("convtranspose" if transposed else "conv", text, make)


KS = [1, 2, 3, 3, 3, 4, 5, 5, 7]


def gen_conv(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    cin = shape[0]
    sizes = shape[-n:]
    sc = weighted(
        rng,
        {
            "basic": 25,
            "same": 15,
            "valid": 5,
            "pm": 12,
            "groups": 15,
            "kbig": 12,
            "stride": 6,
            "bad": 6,
            "defaults": 4,
        },
    )
    cout = rng.randint(1, 8)
    s: list[int] | None = None
    p: list[int] | str | None = None
    d: list[int] | None = None
    g: int | str | None = None
    pm: str | None = None
    bias = maybe_bias(rng)
    k = vec(rng, n, lambda i: rng.choice(KS))
    if sc == "basic":
        if rng.random() < 0.6:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.4:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        dd = d or [1] * n
        if rng.random() < 0.75:
            p = vec(rng, n, lambda i: rng.randint(0, (dd[i] * (k[i] - 1)) // 2 + 1))
        if rng.random() < 0.2:
            pm = rng.choice(["zeros", "reflect", "replicate", "circular"])
    elif sc == "same":
        k = vec(rng, n, lambda i: rng.randint(1, 6))
        p = "same"
        if rng.random() < 0.5:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        r = rng.random()
        if r < 0.25:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
            if all(v == 1 for v in s):
                s[rng.randrange(n)] = 2
        elif r < 0.4:
            s = [1] * n
        pm = rng.choice([None, None, "zeros", "reflect", "replicate", "circular"])
    elif sc == "valid":
        p = "valid"
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "pm":
        pm = rng.choice(["reflect", "reflect", "circular", "circular", "replicate"])
        p = vec(
            rng,
            n,
            lambda i: max(0, rng.choice([sizes[i] - 1, sizes[i], sizes[i] + 1, rng.randint(0, 3)])),
        )
        k = vec(rng, n, lambda i: rng.randint(1, 4))
        if rng.random() < 0.4:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.2:
            d = vec(rng, n, lambda i: rng.randint(1, 2))
    elif sc == "groups":
        r = rng.random()
        if r < 0.3:
            g = "dw"
            cout = rng.choice([cin, cin, 2 * cin, cin + 1, rng.randint(1, 8)])
        else:
            gi = rng.choice(divisors(cin)) if rng.random() < 0.6 else rng.randint(2, 6)
            g = gi
            cout = gi * rng.randint(1, 3) if rng.random() < 0.75 else rng.randint(1, 9)
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: k[i] // 2)
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
    elif sc == "kbig":
        big = rng.randrange(n)
        pp = [rng.randint(0, 2) for _ in range(n)]
        dd = [rng.choice([1, 1, 2, 3]) for _ in range(n)]
        for i in range(n):
            if i == big or rng.random() < 0.4:
                target = sizes[i] + 2 * pp[i] + rng.choice([-1, 0, 0, 1, 1])
                k[i] = max(1, (target - 1) // dd[i] + 1)
        p = pp
        if any(v > 1 for v in dd):
            d = dd
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 4))
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, 2))
    elif sc == "bad":
        what = rng.choice(["k", "s", "p", "d", "g", "g-"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "s":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        elif what == "p":
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
        elif what == "d":
            d = vec(rng, n, lambda i: rng.randint(1, 2))
            d[rng.randrange(n)] = 0
        elif what == "g":
            g = 0
        else:
            g = -rng.randint(1, 2)
    else:  # explicit defaults
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s, p, d, g = [1] * n, [0] * n, [1] * n, 1
        bias, pm = True, "zeros"
    return conv_layer(rng, sp, shape, n, cout, k, s=s, p=p, d=d, g=g, bias=bias, pm=pm)


def gen_convt(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    cin = shape[0]
    sizes = shape[-n:]
    sc = weighted(
        rng, {"basic": 30, "op": 20, "zero": 15, "groups": 13, "bad": 10, "pm": 6, "big_p": 6}
    )
    smax = 4 if n < 3 else 3
    cout = rng.randint(1, 8)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    p: list[int] | None = None
    d: list[int] | None = None
    op: list[int] | None = None
    g: int | str | None = None
    pm: str | None = None
    bias = maybe_bias(rng)
    if sc in ("basic", "groups", "pm"):
        if rng.random() < 0.7:
            s = vec(rng, n, lambda i: rng.randint(1, smax))
        if rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        ss, dd = s or [1] * n, d or [1] * n
        if rng.random() < 0.7:
            p = vec(rng, n, lambda i: rng.randint(0, (dd[i] * (k[i] - 1)) // 2 + 1))
        if rng.random() < 0.4:
            op = vec(rng, n, lambda i: rng.randint(0, max(ss[i], dd[i]) - 1))
        if sc == "groups":
            if rng.random() < 0.3:
                g = "dw"
                cout = rng.choice([cin, 2 * cin, cin + 1])
            else:
                gi = rng.choice(divisors(cin)) if rng.random() < 0.6 else rng.randint(2, 6)
                g = gi
                cout = gi * rng.randint(1, 3) if rng.random() < 0.75 else rng.randint(1, 9)
        if sc == "pm":
            pm = rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
    elif sc == "op":
        ss = vec(rng, n, lambda i: rng.randint(1, smax))
        dd = vec(rng, n, lambda i: rng.randint(1, 3))
        op = vec(
            rng,
            n,
            lambda i: rng.choice(
                [max(ss[i], dd[i]) - 1, max(ss[i], dd[i]), ss[i], dd[i], rng.randint(0, 2)]
            ),
        )
        s, d = ss, dd
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, 2))
    elif sc == "zero":
        s = vec(rng, n, lambda i: rng.randint(1, smax))
        dd = [rng.choice([1, 1, 2]) for _ in range(n)]
        k = vec(rng, n, lambda i: rng.randint(1, 4))
        pp = []
        for i in range(n):
            base = (sizes[i] - 1) * s[i] + dd[i] * (k[i] - 1) + 1
            target = rng.choice([-1, 0, 0, 1, 2])
            pv = (base - target) // 2
            pp.append(max(0, pv))
        p = pp
        if any(v > 1 for v in dd):
            d = dd
    elif sc == "bad":
        what = rng.choice(["p", "op", "k", "s", "d", "g"])
        s = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "p":
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
        elif what == "op":
            op = [0] * n
            op[rng.randrange(n)] = -1
        elif what == "k":
            k[rng.randrange(n)] = 0
        elif what == "s":
            s[rng.randrange(n)] = 0
        elif what == "d":
            d = [1] * n
            d[rng.randrange(n)] = 0
        else:
            g = rng.choice([0, -1])
    else:  # big_p: padding near/above the full output
        s = vec(rng, n, lambda i: rng.randint(1, smax))
        p = vec(rng, n, lambda i: rng.randint(0, k[i] + 2))
    return conv_layer(
        rng, sp, shape, n, cout, k, s=s, p=p, d=d, g=g, bias=bias, pm=pm, op=op, transposed=True
    )


def case_conv(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = spatial_input(rng, n, mismatch=0.02)
    if rng.random() < 0.3:
        shape[0] = rng.choice([2, 3, 4, 6, 8, 9, 12])
    return shape, gen_conv(rng, sp, shape, n)


def case_convt(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = [rand_channels(rng), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else 8)]
    if rng.random() < 0.3:
        shape[0] = rng.choice([2, 3, 4, 6, 8])
    if rng.random() < 0.15:
        shape[1:] = [1] * n
    return shape, gen_convt(rng, sp, shape, n)
