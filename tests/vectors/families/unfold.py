"""unfold (nn.Unfold, im2col) and sum (torch.sum over one dimension, as a module), the
shape-only words of RAFT's convex upsampling. Corners: windows that do not fit (too
large a kernel or dilation for the padded map), non-positive kernel, dilation or stride,
negative padding; sum out of range, with and without keepdim. Not generated: what
convcalc refuses whatever PyTorch does at batch 1 — a C×L input to unfold (PyTorch would
read it as one unbatched map), a sum over the batch — and empty maps (an input size is at
least 1)."""

from __future__ import annotations

import random

import torch
from common import CaseSet, Layer, Shape, Speller, finish
from torch import nn


class SumModule(nn.Module):
    """``torch.sum(x, dim, keepdim)`` as a module (convcalc's ``sum`` layer)."""

    def __init__(self, dim: int, keepdim: bool) -> None:
        super().__init__()
        self.dim = dim
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=self.dim, keepdim=self.keepdim)


def _value(sp: Speller, v: tuple[int, int]) -> str:
    return str(v[0]) if v[0] == v[1] else sp.ints(list(v), scalar=False)


def unfold_layer(
    rng: random.Random,
    sp: Speller,
    k: tuple[int, int],
    d: tuple[int, int] | None,
    p: tuple[int, int] | None,
    s: tuple[int, int] | None,
) -> Layer:
    opts = []
    for short, long, v in (("d", "dilation", d), ("p", "padding", p), ("s", "stride", s)):
        if v is not None:
            opts.append(f"{sp.key(short, long)}={_value(sp, v)}")
    kwargs = {
        name: v for name, v in (("dilation", d), ("padding", p), ("stride", s)) if v is not None
    }
    roll = rng.random()
    if roll < 0.3:  # nn.Unfold's call, as a printed model or code has it
        call = [repr(k[0]) if k[0] == k[1] else repr(k)]
        call += [f"{name}={v[0] if v[0] == v[1] else v!r}" for name, v in kwargs.items()]
        text = f"{rng.choice(('Unfold', 'nn.Unfold'))}({', '.join(call)})"
    elif roll < 0.5:
        text = finish("unfold", [], [f"{sp.key('k', 'kernel_size')}={_value(sp, k)}", *opts], rng)
    else:
        text = finish("unfold", [_value(sp, k)], opts, rng)
    return Layer("unfold", text, lambda: nn.Unfold(k, **kwargs))


def _pair(rng: random.Random, low: int, high: int) -> tuple[int, int]:
    a = rng.randint(low, high)
    return (a, a) if rng.random() < 0.6 else (a, rng.randint(low, high))


def case_unfold(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = [rng.randint(1, 4), rng.randint(1, 9), rng.randint(1, 9)]
    k = _pair(rng, 1, 5) if rng.random() < 0.95 else (0, 2)
    d = rng.choice([None, None, _pair(rng, 1, 3), (0, 1)]) if rng.random() < 0.5 else None
    p = rng.choice([None, _pair(rng, 0, 2), (-1, 0)]) if rng.random() < 0.6 else None
    s = rng.choice([None, _pair(rng, 1, 3), (0, 1)]) if rng.random() < 0.5 else None
    return shape, unfold_layer(rng, sp, k, d, p, s)


def sum_layer(rng: random.Random, dim: int, keepdim: bool | None) -> Layer:
    opts = [] if keepdim is None else [f"keepdim={str(keepdim).lower()}"]
    if rng.random() < 0.3:
        text = finish("sum", [], [f"dim={dim}", *opts], rng)
    else:
        text = finish("sum", [str(dim)], opts, rng)
    return Layer("sum", text, lambda: SumModule(dim, bool(keepdim)))


def case_sum(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = [rng.randint(1, 5) for _ in range(rng.randint(1, 5))]
    rank = len(shape) + 1
    # Not the batch (0 or -rank: convcalc keeps it apart); sometimes out of range.
    dims = [d for d in range(-rank + 1, rank) if d != 0]
    dim = rng.choice(dims) if rng.random() < 0.85 else rng.choice((rank, rank + 1, -rank - 1))
    return shape, sum_layer(rng, dim, rng.choice([None, True, False]))


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """RAFT's convex upsampling: unfold 3 p=1 of the 2×64×64 flow, the sum over the 9
    neighbours of the 2×9×8×8×64×64 product."""
    r = rng
    return [
        ("unfold", [2, 64, 64], unfold_layer(r, sp, (3, 3), None, (1, 1), None)),
        ("unfold", [2, 2, 2], unfold_layer(r, sp, (3, 3), None, None, (2, 2))),
        ("unfold", [1, 2, 5], unfold_layer(r, sp, (3, 3), None, None, (2, 2))),
        ("unfold", [2, 4, 4], unfold_layer(r, sp, (2, 2), None, (3, 3), None)),
        ("sum", [2, 9, 8, 8, 64, 64], sum_layer(r, 2, None)),
        ("sum", [2, 9, 8, 8], sum_layer(r, -1, True)),
        ("sum", [3, 4], sum_layer(r, 3, None)),
    ]


PLAN = [("unfold", 80, 0.3, case_unfold), ("sum", 40, 0.2, case_sum)]

SET = CaseSet(pinned=pinned_cases, plan=PLAN)
