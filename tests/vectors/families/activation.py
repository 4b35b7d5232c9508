"""Activations (incl. PReLU and GLU) and dropout."""

from __future__ import annotations

import random
from collections.abc import Callable

from common import CaseGen, Layer, Shape, Speller, any_input
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leakyrelu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "softmax": lambda: nn.Softmax(dim=-1),
    "logsoftmax": lambda: nn.LogSoftmax(dim=-1),
    "identity": nn.Identity,
}


def act_layer(name: str) -> Layer:
    return Layer(name, name, ACTIVATIONS[name])


def dropout_layer(rng: random.Random, p: float | None) -> Layer:
    text = "dropout" if p is None else f"dropout p={p!r}"
    return Layer("dropout", text, lambda: nn.Dropout(0.5 if p is None else p))


def prelu_layer(rng: random.Random, sp: Speller, n: int | None) -> Layer:
    text = "prelu" if n is None else f"prelu {sp.key('n', 'num_parameters')}={n}"
    return Layer("prelu", text, lambda: nn.PReLU(1 if n is None else n))


def gen_dropout(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    if rng.random() < 0.65:
        p = rng.choice([None, 0.0, 0.1, 0.5, 0.25, 1.0, 0.9])
    else:
        p = rng.choice([1.5, -0.1, 2.0, 1.01, -1.0])
    return dropout_layer(rng, p)


def gen_prelu(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    n = rng.choice([None, 1, c, c, c + 1, max(1, c - 1), rng.randint(2, 8)])
    return prelu_layer(rng, sp, n)


def case_act(name: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        return any_input(rng), act_layer(name)

    return gen


def case_dropout(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_dropout(rng, sp, shape)


def case_prelu(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_prelu(rng, sp, shape)


def glu_layer(rng: random.Random, dim: int | None) -> Layer:
    text = "glu" if dim is None else f"glu dim={dim}"
    return Layer("glu", text, lambda: nn.GLU(-1 if dim is None else dim))


def gen_glu(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1
    r = rng.random()
    if r < 0.35:
        return glu_layer(rng, None)
    if r < 0.93:
        v = rng.randint(1, nd - 1)
        return glu_layer(rng, v - nd if rng.random() < 0.4 else v)
    return glu_layer(rng, rng.choice([nd, nd + 1, -nd - 1]))


def case_glu(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.7:  # usually make some dims even
        shape = [v if v % 2 == 0 or rng.random() < 0.3 else v + 1 for v in shape]
    return shape, gen_glu(rng, sp, shape)
