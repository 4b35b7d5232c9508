"""Linear and embedding."""

from __future__ import annotations

import random

import torch
from common import Layer, Shape, Speller, any_input, finish, maybe_bias, weighted
from torch import nn


def linear_layer(
    rng: random.Random, sp: Speller, shape: Shape, out: int, bias: bool | None = None
) -> Layer:
    opts = [] if bias is None else [f"bias={sp.boolean(bias)}"]
    text = finish(rng.choice(["linear", "linear", "fc", "dense"]), [str(out)], opts, rng)
    fin = shape[-1]
    return Layer("linear", text, lambda: nn.Linear(fin, out, bias=True if bias is None else bias))


def case_linear(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, linear_layer(rng, sp, shape, rng.randint(1, 16), maybe_bias(rng))


class Lookup(nn.Module):
    """Embedding reading the network's input: fed an int64 index tensor of the input's
    shape (all zeros). A tensor an earlier layer made (``Chain`` marks it ``from_layer``)
    is passed as it is: its floats are what nn.Embedding gets, and refuses, in a network."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if getattr(x, "from_layer", False):
            return self.inner(x)
        return self.inner(torch.zeros_like(x, dtype=torch.int64))


def embedding_layer(
    rng: random.Random,
    sp: Speller,
    num: int,
    dim: int,
    *,
    padding_idx: int | None = None,
    max_norm: float | None = None,
) -> Layer:
    opts = []
    if padding_idx is not None:
        opts.append(f"padding_idx={padding_idx}")
    if max_norm is not None:
        opts.append(f"max_norm={sp.float(max_norm)}")
    text = finish("embedding", [str(num), str(dim)], opts, rng)
    return Layer(
        "embedding",
        text,
        lambda: Lookup(nn.Embedding(num, dim, padding_idx=padding_idx, max_norm=max_norm)),
    )


def gen_embedding(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    num = rng.choice([1, 2, 5, 10, 10, 32, 100, 256, 1000, 5000])
    dim = rng.choice([1, 3, 4, 8, 16, 16, 32, 64, 128])
    sc = weighted(rng, {"plain": 40, "pad": 25, "padbad": 22, "maxnorm": 10, "sizes": 5})
    padding_idx: int | None = None
    max_norm: float | None = None
    if sc == "pad":
        padding_idx = rng.choice([0, 0, num - 1, -1, -num, rng.randrange(-num, num)])
    elif sc == "padbad":
        padding_idx = rng.choice([num, num, num + 1, -num - 1, -num - 1, 2 * num + 3])
    elif sc == "maxnorm":
        max_norm = rng.choice([1.0, 1.0, 2.0, 0.5, 5.0])
        if rng.random() < 0.4:
            padding_idx = rng.randrange(-num, num)
    else:  # table sizes at the edge: 0 rows cannot be indexed, a 0-wide table can
        num, dim = rng.choice([(0, 4), (0, 1), (3, 0), (1, 0), (-1, 4), (4, -2)])
    return embedding_layer(rng, sp, num, dim, padding_idx=padding_idx, max_norm=max_norm)


def case_embedding(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    r = rng.randint(1, 4)
    if r == 1:
        shape = [rng.randint(1, 40)]
    elif r == 4 and rng.random() < 0.5:
        shape = [rng.randint(1, 4) for _ in range(4)]
    else:
        shape = [rng.randint(1, 12) for _ in range(min(r, 3))]
    return shape, gen_embedding(rng, sp, shape)
