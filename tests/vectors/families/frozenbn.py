"""frozenbatchnorm2d: torchvision's ``FrozenBatchNorm2d`` (torchvision/ops/misc.py), the
batch norm of the detectors' ResNet backbones when their builders are given weights: four
C-sized buffers, no parameters, no num_batches_tracked. The module used is torchvision's own
class. Its corners: num_features other than the input's channels (its 1×C×1×1 reshape
broadcasts against one channel, or one feature against any); convcalc takes it on C×H×W maps only, so its rows are C×H×W. Random single
layers, a convolution before it, in its word and call spellings."""

from __future__ import annotations

import random
import sys
import types
from typing import Any

sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
from common import CaseSet, Layer, Shape, Speller, finish, rand_channels, rand_spatial  # noqa: E402
from torchvision.ops.misc import FrozenBatchNorm2d  # noqa: E402

_WORDS = ("frozenbatchnorm2d", "frozenbn", "frozen_batch_norm2d")
_CALLS = ("FrozenBatchNorm2d", "torchvision.ops.FrozenBatchNorm2d")


def frozenbn_layer(
    rng: random.Random, shape: Shape, c: int | None, eps: float | None = None
) -> Layer:
    """``FrozenBatchNorm2d(c)``; ``c=None`` writes no num_features (convcalc's default,
    the input's channels) and gives torchvision the input's channel count."""
    features = shape[0] if c is None else c
    kw: dict[str, Any] = {} if eps is None else {"eps": eps}
    if c is not None and rng.random() < 0.4:
        name = rng.choice(_CALLS)
        args = [str(c), *([f"eps={eps!r}"] if eps is not None else [])]
        text = f"{name}({', '.join(args)})"
    else:
        opts: list[str] = []
        if c is not None:
            opts.append(f"{rng.choice(['c', 'num_features'])}={c}")
        if eps is not None:
            opts.append(f"eps={eps!r}")
        text = finish(rng.choice(_WORDS), [], opts, rng)
    return Layer("frozenbatchnorm2d", text, lambda: FrozenBatchNorm2d(features, **kw))


def case_frozenbn(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = [rand_channels(rng), *rand_spatial(rng, 2)]
    c: int | None = rng.choice([None, shape[0]])
    if rng.random() < 0.3:
        c = shape[0] + rng.choice([-1, 1, 2]) if shape[0] > 1 else 2
    eps = rng.choice([None, None, 1e-3])
    return shape, frozenbn_layer(rng, shape, c, eps)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """ResNet-50's stem and stages as the detectors build them, and the mismatch."""
    r = rng
    return [
        ("frozenbatchnorm2d", [64, 400, 400], frozenbn_layer(r, [64, 400, 400], None)),
        ("frozenbatchnorm2d", [2048, 25, 25], frozenbn_layer(r, [2048, 25, 25], 2048)),
        ("frozenbatchnorm2d", [8, 5, 5], frozenbn_layer(r, [8, 5, 5], 4)),
        ("frozenbatchnorm2d", [8, 1, 1], frozenbn_layer(r, [8, 1, 1], 8, 1e-3)),
        ("frozenbatchnorm2d", [1, 4, 4], frozenbn_layer(r, [1, 4, 4], 3)),
        ("frozenbatchnorm2d", [5, 4, 4], frozenbn_layer(r, [5, 4, 4], 1)),
    ]


PLAN = [("frozenbatchnorm2d", 60, 0.25, case_frozenbn)]

SET = CaseSet(pinned=pinned_cases, plan=PLAN)
