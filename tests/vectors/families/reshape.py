"""Padding (F.pad), flatten and unflatten."""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from common import (
    Layer,
    Shape,
    Speller,
    any_input,
    divisors,
    finish,
    pick_n,
    spatial_input,
    weighted,
)
from torch import nn


class Pad(nn.Module):
    """``F.pad`` as a module (convcalc's ``pad`` layer)."""

    def __init__(self, pads: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.pads = pads
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, mode=self.mode)


def pad_layer(
    rng: random.Random, sp: Speller, shape: Shape, pads: int | list[int], mode: str | None
) -> Layer:
    nsp = len(shape) - 1
    names = ["pad", "pad"] + (["zeropad"] if mode in (None, "constant") else [])
    name = rng.choice(names)
    if name == "zeropad" and rng.random() < 0.7:
        mode = None
    if isinstance(pads, int):
        pos = str(pads)
        torch_pads = (pads,) * (2 * nsp)
    else:
        pos = sp.ints(pads, scalar=False)
        torch_pads = tuple(pads)
    opts = [] if mode is None else [f"mode={mode}"]
    text = finish(name, [pos], opts, rng)
    torch_mode = mode or "constant"
    return Layer("pad", text, lambda: Pad(torch_pads, torch_mode))


def flatten_layer(rng: random.Random, sp: Speller, start: int | None, end: int | None) -> Layer:
    opts = []
    if start is not None:
        opts.append(f"{sp.key('start', 'start_dim')}={start}")
    if end is not None:
        opts.append(f"{sp.key('end', 'end_dim')}={end}")
    text = finish("flatten", [], opts, rng)
    st = 1 if start is None else start
    en = -1 if end is None else end
    return Layer("flatten", text, lambda: nn.Flatten(st, en))


def gen_pad(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nsp = len(shape) - 1

    def dim_of(j: int) -> int:  # F.pad entry j pads dim -(j//2)-1
        return shape[-(j // 2) - 1]

    sc = weighted(
        rng,
        {
            "int": 18,
            "tuple": 22,
            "reflect": 13,
            "circular": 11,
            "replicate": 8,
            "negative": 14,
            "short": 6,
            "odd": 3,
            "channel": 5,
        },
    )
    modes = [None, "constant", "reflect", "replicate", "circular"]
    if sc == "int":
        mode = rng.choice(modes)
        pv = rng.randint(0, 4)
        if mode in (None, "constant") and rng.random() < 0.3:
            pv = -rng.randint(1, 3)
        return pad_layer(rng, sp, shape, pv, mode)
    if sc == "tuple":
        return pad_layer(
            rng, sp, shape, [rng.randint(0, 4) for _ in range(2 * nsp)], rng.choice(modes)
        )
    if sc in ("reflect", "circular", "replicate"):
        pads = []
        for j in range(2 * nsp):
            li = dim_of(j)
            if sc == "reflect":
                pads.append(max(0, rng.choice([li - 1, li - 1, li, rng.randint(0, 2)])))
            elif sc == "circular":
                pads.append(
                    rng.choice([li, li, li + 1, li - 1 if li > 1 else 0, rng.randint(0, 2)])
                )
            else:
                pads.append(rng.randint(0, 2 * li + 2))
        if rng.random() < 0.25 and len(set(pads)) == 1:
            return pad_layer(rng, sp, shape, pads[0], sc)
        return pad_layer(rng, sp, shape, pads, sc)
    if sc == "negative":
        pads = [rng.randint(-1, 3) for _ in range(2 * nsp)]
        for pair in range(nsp):
            if pair == 0 or rng.random() < 0.4:
                li = shape[-pair - 1]
                target = rng.choice([-1, 0, 1, 1, 2, rng.randint(1, li)])
                neg = max(0, li - target)
                left = rng.randint(0, neg)
                lv, rv = -left, -(neg - left)
                if rng.random() < 0.25:
                    if rng.random() < 0.5:
                        lv = rng.randint(0, 2)
                    else:
                        rv = rng.randint(0, 2)
                pads[2 * pair], pads[2 * pair + 1] = lv, rv
        return pad_layer(rng, sp, shape, pads, rng.choice([None, "constant"]))
    if sc == "short":
        m = rng.randint(1, max(1, nsp - 1))
        return pad_layer(
            rng, sp, shape, [rng.randint(0, 3) for _ in range(2 * m)], rng.choice(modes)
        )
    if sc == "odd":
        m = rng.choice([3, 5])
        return pad_layer(rng, sp, shape, [rng.randint(0, 2) for _ in range(m)], rng.choice(modes))
    pads = [rng.randint(0, 3) for _ in range(2 * (nsp + 1))]
    return pad_layer(rng, sp, shape, pads, rng.choice([None, "constant"]))


def gen_flatten(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1  # PyTorch's dims incl. the batch dim

    def valid() -> int:
        v = rng.randint(1, nd - 1)
        return v - nd if rng.random() < 0.4 else v

    def resolve(v: int) -> int:
        return v + nd if v < 0 else v

    sc = weighted(
        rng, {"default": 12, "start": 20, "end": 15, "both": 30, "order": 13, "range": 10}
    )
    start: int | None = None
    end: int | None = None
    if sc == "start":
        start = valid()
    elif sc == "end":
        end = valid()
    elif sc == "both":
        a, b = valid(), valid()
        if resolve(a) > resolve(b):
            a, b = b, a
        start, end = a, b
    elif sc == "order":
        if nd <= 2:
            start, end = 1, nd + 1
        else:
            a, b = valid(), valid()
            while resolve(a) == resolve(b):
                b = valid()
            if resolve(a) < resolve(b):
                a, b = b, a
            start, end = a, b
    elif sc == "range":
        bad = rng.choice([nd, nd + 1, -nd - 1, -nd - 2])
        if rng.random() < 0.5:
            start = bad
        else:
            end = bad
            if rng.random() < 0.5:
                start = 1
    return flatten_layer(rng, sp, start, end)


def case_pad(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = spatial_input(rng, pick_n(rng))
    if rng.random() < 0.4:
        shape[1:] = [rng.randint(1, 6) for _ in shape[1:]]
    return shape, gen_pad(rng, sp, shape)


def case_flatten(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_flatten(rng, sp, shape)


def sizes_text(sp: Speller, sizes: list[int]) -> str:
    """A tuple in a random style; a 1-element tuple always in parentheses."""
    if len(sizes) == 1:
        return sp.rng.choice(["({})", "({},)", "( {} )"]).format(sizes[0])
    return sp.ints(sizes, scalar=False)


def unflatten_layer(rng: random.Random, sp: Speller, dim: int, sizes: list[int]) -> Layer:
    style = rng.choice(["pos", "pos", "keys", "mixed"])
    st = sizes_text(sp, sizes)
    size_key = rng.choice(["sizes", "unflattened_size"])
    if style == "pos":
        text = finish("unflatten", [str(dim), st], [], rng)
    elif style == "keys":
        text = finish("unflatten", [], [f"dim={dim}", f"{size_key}={st}"], rng)
    else:
        text = finish("unflatten", [str(dim)], [f"{size_key}={st}"], rng)
    return Layer("unflatten", text, lambda: nn.Unflatten(dim, tuple(sizes)))


def factor_split(rng: random.Random, value: int, parts: int) -> list[int]:
    """``parts`` positive ints whose product is ``value``."""
    out = [1] * parts
    rest = value
    for i in range(parts - 1):
        f = rng.choice(divisors(rest))
        out[i] = f
        rest //= f
    out[-1] = rest
    rng.shuffle(out)
    return out


def gen_unflatten(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1  # PyTorch's dims incl. the batch dim
    dim = rng.randint(1, nd - 1)
    size = shape[dim - 1]
    spelled = dim - nd if rng.random() < 0.35 else dim
    sc = weighted(
        rng,
        {
            "ok": 45,
            "infer": 22,
            "mismatch": 12,
            "two": 6,
            "range": 6,
            "badneg": 3,
            "zero": 2,
            "single": 4,
        },
    )
    sizes = factor_split(rng, size, rng.choice([2, 2, 2, 3, 3, 4]))
    if sc == "infer":
        sizes[rng.randrange(len(sizes))] = -1
    elif sc == "mismatch":
        j = rng.randrange(len(sizes))
        sizes[j] = (
            sizes[j] + rng.choice([1, 1, 2]) if sizes[j] == 1 else sizes[j] + rng.choice([-1, 1])
        )
        if rng.random() < 0.4 and len(sizes) > 1:  # -1 with a rest that does not divide
            sizes[(j + 1) % len(sizes)] = -1
    elif sc == "two":
        a, b = rng.sample(range(len(sizes)), 2)
        sizes[a] = sizes[b] = -1
    elif sc == "range":
        spelled = rng.choice([nd, nd + 1, -nd - 1])
    elif sc == "badneg":
        sizes[rng.randrange(len(sizes))] = rng.choice([-2, -3])
    elif sc == "zero":
        sizes[rng.randrange(len(sizes))] = 0
        if rng.random() < 0.5:
            sizes[(sizes.index(0) + 1) % len(sizes)] = -1
    elif sc == "single":
        sizes = [rng.choice([size, size, -1, size + 1])]
    return unflatten_layer(rng, sp, spelled, sizes)


def case_unflatten(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.6:
        shape[rng.randrange(len(shape))] = rng.choice([4, 6, 8, 12, 12, 16, 18, 24, 30, 36, 64])
    return shape, gen_unflatten(rng, sp, shape)
