"""Receptive-field cases, measured with autograd."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any

import torch
from common import AVGPOOL, CONV, MAXPOOL, Speller, finish, vec
from torch import nn

from families.reshape import Pad


@dataclass
class RfOp:
    kind: str  # conv | max | avg | pad
    k: list[int]
    s: list[int]
    d: list[int]
    p: list[int] | str  # symmetric per-dim pads, or "same"
    pads: list[int]  # pad layer: F.pad tuple
    cout: int = 1

    def geometry(self, i: int) -> tuple[int, int, int, int]:
        """(effective kernel, stride, left pad, right pad) along spatial dim i."""
        n = len(self.k)
        if self.kind == "pad":
            j = 2 * (n - 1 - i)
            return 1, 1, self.pads[j], self.pads[j + 1]
        dk = self.d[i] * (self.k[i] - 1) + 1
        if self.p == "same":
            total = dk - 1
            return dk, 1, total // 2, total - total // 2
        assert isinstance(self.p, list)
        return dk, self.s[i], self.p[i], self.p[i]


def rf_random_op(rng: random.Random, n: int) -> RfOp:
    kind = rng.choices(["conv", "max", "avg", "pad"], weights=[50, 20, 15, 15])[0]
    if kind == "pad":
        if rng.random() < 0.4:
            v = rng.randint(1, 2)
            return RfOp(kind, [1] * n, [1] * n, [1] * n, [0] * n, [v] * (2 * n))
        pads = [rng.randint(0, 2) for _ in range(2 * n)]
        if rng.random() < 0.15:
            pads[rng.randrange(2 * n)] = -1
        return RfOp(kind, [1] * n, [1] * n, [1] * n, [0] * n, pads)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s = vec(rng, n, lambda i: rng.randint(1, 3))
    d = (
        vec(rng, n, lambda i: rng.randint(1, 3))
        if kind != "avg" and rng.random() < 0.4
        else [1] * n
    )
    p: list[int] | str
    if kind == "conv" and rng.random() < 0.2:
        p = "same"
        s = [1] * n
        if rng.random() < 0.6:
            k = vec(rng, n, lambda i: rng.choice([2, 4]))
    elif kind == "conv":
        p = vec(rng, n, lambda i: rng.randint(0, 2))
    else:
        p = vec(rng, n, lambda i: rng.randint(0, min(2, k[i] // 2)))
    return RfOp(kind, k, s, d, p, [], rng.randint(1, 3))


def rf_text(rng: random.Random, sp: Speller, op: RfOp, n: int, rank_ok: bool) -> str:
    if op.kind == "pad":
        if len(set(op.pads)) == 1:
            return f"pad {op.pads[0]}"
        return f"pad {sp.ints(op.pads, scalar=False)}"
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(op.k)}"]
    is_same = op.p == "same"
    # a pool's stride defaults to its kernel: always spell it out
    if op.kind != "conv" or (not is_same and (any(v != 1 for v in op.s) or rng.random() < 0.2)):
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(op.s)}")
    if is_same:
        opts.append(f"{sp.key('p', 'padding')}=same")
    elif isinstance(op.p, list) and (any(op.p) or rng.random() < 0.2):
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(op.p)}")
    if any(v != 1 for v in op.d):
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(op.d)}")
    if op.kind == "conv":
        name = rng.choice([f"conv{n}d", "conv"] if rank_ok else [f"conv{n}d"])
        return finish(name, [str(op.cout)], opts, rng)
    name = rng.choice(
        [f"{op.kind}pool{n}d", f"{op.kind}pool"] if rank_ok else [f"{op.kind}pool{n}d"]
    )
    return finish(name, [], opts, rng)


def rf_real_module(op: RfOp, cin: int, n: int) -> tuple[nn.Module, int]:
    if op.kind == "pad":
        return Pad(tuple(op.pads), "constant"), cin
    pad: Any = op.p if isinstance(op.p, str) else tuple(op.p)
    if op.kind == "conv":
        m = CONV[n - 1](
            cin, op.cout, tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d)
        )
        return m, op.cout
    if op.kind == "max":
        return MAXPOOL[n - 1](
            tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d)
        ), cin
    return AVGPOOL[n - 1](tuple(op.k), stride=tuple(op.s), padding=pad), cin


def rf_geometry_module(op: RfOp, n: int) -> nn.Module:
    if op.kind == "pad":
        return Pad(tuple(op.pads), "constant")
    pad: Any = op.p if isinstance(op.p, str) else tuple(op.p)
    m = CONV[n - 1](
        1, 1, tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d), bias=False
    )
    weight = m.weight
    assert isinstance(weight, torch.Tensor)
    with torch.no_grad():
        weight.fill_(1.0)
    return m.double()


def rf_formula(ops: list[RfOp], i: int) -> tuple[int, int, int]:
    r, j, big_p = 1, 1, 0
    for op in ops:
        dk, s, pl, _ = op.geometry(i)
        r += (dk - 1) * j
        big_p += pl * j
        j *= s
    return r, j, big_p


def rf_sizes(ops: list[RfOp], i: int, length: int) -> list[int]:
    """Input size of every layer along dim i, then the output size (0 = rejected)."""
    sizes = [length]
    for op in ops:
        dk, s, pl, pr = op.geometry(i)
        if op.kind == "pad":
            length = length + pl + pr
            if length < 1:
                return [*sizes, 0]
        else:
            if length + pl + pr < dk:
                return [*sizes, 0]
            length = (length + pl + pr - dk) // s + 1
        sizes.append(length)
    return sizes


def rf_valid_probes(ops: list[RfOp], i: int, length: int) -> list[int]:
    """Output indices whose window, at every layer, lies inside that layer's (unpadded) input."""
    sizes = rf_sizes(ops, i, length)
    good = []
    for m in range(sizes[-1]):
        u = v = m
        inside = True
        for op, size_in in zip(reversed(ops), reversed(sizes[:-1]), strict=True):
            dk, s, pl, _ = op.geometry(i)
            u, v = u * s - pl, v * s - pl + dk - 1
            if u < 0 or v > size_in - 1:
                inside = False
                break
        if inside:
            good.append(m)
    return good


def make_rf_case(rng: random.Random, sp: Speller) -> dict[str, Any] | None:
    n = rng.choice([1, 1, 2, 2, 2])
    depth = rng.randint(1, 6)
    ops = [rf_random_op(rng, n) for _ in range(depth)]
    cap = 300 if n == 1 else 72
    sizes = []
    for i in range(n):
        length = 1
        while length <= cap and not rf_valid_probes(ops, i, length):
            length += 1
        if length > cap:
            return None
        length += rng.randint(0, 12)
        if length > cap:
            return None
        sizes.append(length)
    cin = rng.randint(1, 3)
    inp = [cin, *sizes]
    # the real layers must be accepted by PyTorch
    x = torch.randn(1, *inp)
    c = cin
    texts = []
    try:
        with torch.no_grad():
            for op in ops:
                texts.append(rf_text(rng, sp, op, n, rank_ok=True))
                m, c = rf_real_module(op, c, n)
                x = m.eval()(x)
    except Exception:
        return None
    probe = [rng.choice(rf_valid_probes(ops, i, sizes[i])) for i in range(n)]
    # autograd on the geometry-equivalent all-ones single-channel chain
    g = torch.ones(1, 1, *sizes, dtype=torch.float64, requires_grad=True)
    y = g
    for op in ops:
        y = rf_geometry_module(op, n)(y)
    if list(y.shape[2:]) != list(x.shape[2:]):
        raise AssertionError(f"geometry chain shape {list(y.shape)} != real {list(x.shape)}")
    (grad,) = torch.autograd.grad(y[(0, 0, *probe)], g)
    nz = (grad[0, 0] != 0).nonzero()
    span = [[int(nz[:, i].min()), int(nz[:, i].max())] for i in range(n)]
    for i in range(n):
        r, j, big_p = rf_formula(ops, i)
        u = probe[i] * j - big_p
        if span[i] != [u, u + r - 1]:
            print(
                f"note: autograd span {span[i]} != formula {[u, u + r - 1]} for {texts}",
                file=sys.stderr,
            )
    sep = rng.choice([" ", " ", " ; ", " | ", "\n"])
    return {"spec": sep.join(texts), "input": inp, "probe": probe, "span": span}
