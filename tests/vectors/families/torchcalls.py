"""PyTorch's own spellings of every class convcalc models (issue 8): random modules written
as ``repr(module)`` prints them, as constructor calls in random spellings (positional and
keyword mixes, ``nn.``/``torch.nn.`` prefixes, tuples and lists, quoted strings, floats such
as ``1e-05``), and as short forms with PyTorch's positional order (``conv2d 3 64 3``,
``bn 16``) — each with torch's answer for the module. A module PyTorch refuses to build has
no repr: it is written as a call, and its row is a rejection.

A repr that leaves out an argument that changes the answer (AvgPool2d prints no ceil_mode,
Upsample no align_corners) cannot be read back as the module: such a case is written as a
call instead; ``rebuild`` (torch_makers.py) builds the module a repr means to find them.
"""

from __future__ import annotations

import random

import torch
from common import CaseGen, CaseSet, Layer, Shape, Speller, run_layer

from families.torch_makers import (
    MAKERS,
    NO_REPR,
    Call,
    call_text,
    rebuild,
    short_text,
    torch_class,
    wrap,
)


def _answer(m: torch.nn.Module | None, call: Call, x: torch.Tensor) -> tuple[object, object]:
    layer = Layer("probe", "", lambda: wrap(call.cls, m, call.given))  # type: ignore[arg-type]
    _, rec, err, _ = run_layer(layer, x)
    return rec, None if err is None else err["type"]


def _repr_text(call: Call) -> str | None:
    """``repr(module)`` if PyTorch builds the module, its repr is one line and it means
    the same module (same answer on the input), else None."""
    if call.cls in NO_REPR:
        return None
    try:
        m = torch_class(call.cls)(**call.given)
    except Exception:  # PyTorch refuses the arguments: no module, no repr
        return None
    text = repr(m)
    if "\n" in text:
        return None
    try:
        again = rebuild(text)
    except Exception:
        return None
    x = torch.randn(1, *call.shape)
    if _answer(m, call, x) != _answer(again, call, x):
        return None  # the print leaves out something that matters here
    return text


def case_for(cls: str) -> CaseGen:
    maker = MAKERS[cls]

    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        call = maker(rng)
        style = rng.choices(["repr", "call", "short"], weights=[40, 40, 20])[0]
        text = None
        if style == "repr":
            text = _repr_text(call)
        elif style == "short":
            text = short_text(rng, call)
        if text is None:
            text = call_text(rng, call)
        return call.shape, Layer(f"tc_{cls}", text, call.make)

    return gen


def _pinned(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The issue's own examples, each with an input it fits and one it does not."""
    texts = [
        ("Conv2d(3, 64, 7, stride=2, padding=3, bias=False)", "Conv2d", [3, 32, 32]),
        ("Conv2d(3, 64, 7, stride=2, padding=3, bias=False)", "Conv2d", [4, 32, 32]),
        ("nn.BatchNorm2d(64)", "BatchNorm2d", [64, 8, 8]),
        ("nn.BatchNorm2d(64)", "BatchNorm2d", [32, 8, 8]),
        ("torch.nn.Linear(512, 10)", "Linear", [512]),
        ("torch.nn.Linear(512, 10)", "Linear", [256]),
        ("MaxPool2d(2)", "MaxPool2d", [3, 9, 9]),
        ("Dropout(0.5)", "Dropout", [10]),
        ("LeakyReLU(0.2)", "LeakyReLU", [3, 4, 4]),
        ("bn 16", "BatchNorm2d", [16, 4, 4]),
        ("bn 16", "BatchNorm2d", [8, 4, 4]),
        ("maxpool2d 2", "MaxPool2d", [3, 9, 9]),
        ("dropout 0.5", "Dropout", [10]),
        ("leakyrelu 0.2", "LeakyReLU", [3, 4, 4]),
        ("linear 512 10", "Linear", [512]),
        ("conv2d 3 64 3", "Conv2d", [3, 16, 16]),
        ("conv2d 16 k=3 in_channels=3", "Conv2d", [3, 16, 16]),
        ("reflectionpad2d 1", "ReflectionPad2d", [3, 4, 4]),
    ]
    modules = {
        "Conv2d(3, 64, 7, stride=2, padding=3, bias=False)": lambda: torch.nn.Conv2d(
            3, 64, 7, stride=2, padding=3, bias=False
        ),
        "nn.BatchNorm2d(64)": lambda: torch.nn.BatchNorm2d(64),
        "bn 16": lambda: torch.nn.BatchNorm2d(16),
        "torch.nn.Linear(512, 10)": lambda: torch.nn.Linear(512, 10),
        "linear 512 10": lambda: torch.nn.Linear(512, 10),
        "MaxPool2d(2)": lambda: torch.nn.MaxPool2d(2),
        "maxpool2d 2": lambda: torch.nn.MaxPool2d(2),
        "Dropout(0.5)": lambda: torch.nn.Dropout(0.5),
        "dropout 0.5": lambda: torch.nn.Dropout(0.5),
        "LeakyReLU(0.2)": lambda: torch.nn.LeakyReLU(0.2),
        "leakyrelu 0.2": lambda: torch.nn.LeakyReLU(0.2),
        "conv2d 3 64 3": lambda: torch.nn.Conv2d(3, 64, 3),
        "conv2d 16 k=3 in_channels=3": lambda: torch.nn.Conv2d(3, 16, 3),
        "reflectionpad2d 1": lambda: torch.nn.ReflectionPad2d(1),
    }
    out = []
    for text, cls, shape in texts:
        make = modules[text]
        out.append(
            (f"tc_{cls}", shape, Layer(f"tc_{cls}", text, lambda make=make: wrap_plain(make)))
        )
    return out


def wrap_plain(make: object) -> torch.nn.Module:
    from families.corners import KeepBatch

    return KeepBatch(make())  # type: ignore[operator]


PLAN = [(f"tc_{cls}", 36, 0.25, case_for(cls)) for cls in MAKERS]

SET = CaseSet(pinned=_pinned, plan=PLAN)
