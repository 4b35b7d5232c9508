"""The first set of rows: the documented corner cases and the random single-layer plan of the
classic kinds, then chains, the documented networks and the receptive-field cases."""

from __future__ import annotations

import random

from common import CaseGen, CaseSet, Layer, Shape, Speller

from families.activation import (
    ACTIVATIONS,
    case_act,
    case_dropout,
    case_prelu,
    dropout_layer,
    prelu_layer,
)
from families.chains import chain_with_faults
from families.conv import case_conv, case_convt, conv_layer
from families.documented import documented_chains
from families.linear import case_linear, linear_layer
from families.norm import (
    case_groupnorm,
    case_layernorm,
    case_norm,
    groupnorm_layer,
    layernorm_layer,
    norm_layer,
)
from families.pool import adaptive_layer, case_adaptive, case_global, case_pool, pool_layer
from families.resample import case_shuffle, case_upsample, shuffle_layer, upsample_layer
from families.reshape import case_flatten, case_pad, pad_layer
from families.rf import make_rf_case


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The documented corner cases (docs/arithmetic.md#what-checking-against-pytorch-turned-up), always present."""
    r, s = rng, sp
    return [
        ("maxpool", [1, 6], pool_layer(r, s, [1, 6], 1, "max", [2], s=[4], p=[1], ceil=True)),
        ("avgpool", [1, 6], pool_layer(r, s, [1, 6], 1, "avg", [2], s=[4], p=[1], ceil=True)),
        ("maxpool", [1, 5], pool_layer(r, s, [1, 5], 1, "max", [2], s=[2], ceil=True)),
        (
            "maxpool",
            [2, 6, 6],
            pool_layer(r, s, [2, 6, 6], 2, "max", [2, 2], s=[4, 4], p=[1, 1], ceil=True),
        ),
        ("upsample", [1, 100], upsample_layer(r, s, 1, scale=[0.29])),
        ("upsample", [1, 7], upsample_layer(r, s, 1, scale=[0.57])),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.29, 0.57], mode="bilinear")),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.07])),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.07], mode="area")),
        (
            "avgpool",
            [1, 10, 10, 10],
            pool_layer(r, s, [1, 10, 10, 10], 3, "avg", [11] * 3, p=[5] * 3),
        ),
        ("avgpool", [1, 10, 10], pool_layer(r, s, [1, 10, 10], 2, "avg", [11] * 2, p=[5] * 2)),
        (
            "maxpool",
            [1, 10, 10],
            pool_layer(r, s, [1, 10, 10], 2, "max", [3, 3], p=[2, 2], d=[2, 2]),
        ),
        ("maxpool", [1, 10, 10], pool_layer(r, s, [1, 10, 10], 2, "max", [3, 3], p=[2, 2])),
        ("maxpool", [1, 10], pool_layer(r, s, [1, 10], 1, "max", [3], p=[2])),
        (
            "convtranspose",
            [1, 5, 5],
            conv_layer(r, s, [1, 5, 5], 2, 1, [3, 3], d=[2, 2], op=[1, 1], transposed=True),
        ),
        (
            "convtranspose",
            [1, 5, 5],
            conv_layer(r, s, [1, 5, 5], 2, 1, [3, 3], s=[2, 2], op=[2, 2], transposed=True),
        ),
        (
            "convtranspose",
            [1, 1, 1],
            conv_layer(r, s, [1, 1, 1], 2, 1, [1, 2], p=[0, 1], transposed=True),
        ),
        ("conv", [1, 6], conv_layer(r, s, [1, 6], 1, 1, [13], p="same", pm="reflect")),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[10, 10], pm="reflect"),
        ),
        ("conv", [4, 10, 10], conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[9, 9], pm="reflect")),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[10, 10], pm="circular"),
        ),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[11, 11], pm="circular"),
        ),
        ("conv", [3, 10, 10], conv_layer(r, s, [3, 10, 10], 2, 4, [11, 11])),
        ("conv", [3, 8, 8], conv_layer(r, s, [3, 8, 8], 2, 8, [4, 4], p="same")),
        ("conv", [3, 8, 9], conv_layer(r, s, [3, 8, 9], 2, 8, [4, 2], p="same", d=[3, 2])),
        ("conv", [3, 8], conv_layer(r, s, [3, 8], 1, 8, [3], p="same", s=[2])),
        ("conv", [6, 8, 8], conv_layer(r, s, [6, 8, 8], 2, 12, [3, 3], p=[1, 1], g="dw")),
        ("conv", [6, 8, 8], conv_layer(r, s, [6, 8, 8], 2, 8, [3, 3], g=4)),
        ("pad", [1, 6], pad_layer(r, s, [1, 6], [-6, 1], None)),
        ("pad", [1, 6], pad_layer(r, s, [1, 6], [-7, 2], None)),
        ("pad", [1, 10, 10], pad_layer(r, s, [1, 10, 10], 10, "reflect")),
        ("pad", [1, 10, 10], pad_layer(r, s, [1, 10, 10], 9, "reflect")),
        ("batchnorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "batchnorm", track=False)),
        ("batchnorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "batchnorm")),
        ("instancenorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "instancenorm")),
        ("groupnorm", [8, 4, 4], groupnorm_layer(r, s, [8, 4, 4], 3)),
        ("groupnorm", [8, 1, 1], groupnorm_layer(r, s, [8, 1, 1], 8)),
        ("groupnorm", [8, 1, 1], groupnorm_layer(r, s, [8, 1, 1], 4)),
        ("prelu", [7, 4], prelu_layer(r, s, 8)),
        ("linear", [5, 32], linear_layer(r, s, [5, 32], 10)),
        ("layernorm", [2, 8, 3], layernorm_layer(r, s, [2, 8, 3], [8])),
        ("pixelshuffle", [6, 4, 4], shuffle_layer(r, "pixelshuffle", 2)),
        ("pixelunshuffle", [1, 5, 4], shuffle_layer(r, "pixelunshuffle", 2)),
        ("adaptiveavgpool", [3, 5, 7], adaptive_layer(r, s, [3, 5, 7], 2, "avg", [None, 9])),
        ("dropout", [4, 4], dropout_layer(r, 1.5)),
    ]


# family -> (count, wanted fraction rejected, generator)
PLAN: list[tuple[str, int, float, CaseGen]] = [
    ("conv", 1500, 0.32, case_conv),
    ("convtranspose", 900, 0.32, case_convt),
    ("maxpool", 650, 0.32, case_pool("max")),
    ("avgpool", 560, 0.30, case_pool("avg")),
    ("adaptiveavgpool", 170, 0.12, case_adaptive("avg")),
    ("adaptivemaxpool", 130, 0.12, case_adaptive("max")),
    ("gap", 40, 0.0, case_global("avg")),
    ("gmp", 40, 0.0, case_global("max")),
    ("upsample", 450, 0.30, case_upsample),
    ("pixelshuffle", 110, 0.35, case_shuffle("pixelshuffle")),
    ("pixelunshuffle", 90, 0.35, case_shuffle("pixelunshuffle")),
    ("pad", 360, 0.30, case_pad),
    ("flatten", 140, 0.25, case_flatten),
    ("linear", 120, 0.0, case_linear),
    ("batchnorm", 170, 0.15, case_norm("batchnorm")),
    ("instancenorm", 130, 0.15, case_norm("instancenorm")),
    ("layernorm", 140, 0.30, case_layernorm),
    ("groupnorm", 120, 0.35, case_groupnorm),
    *[(name, 18, 0.0, case_act(name)) for name in ACTIVATIONS],
    ("dropout", 60, 0.30, case_dropout),
    ("prelu", 80, 0.35, case_prelu),
]


SET = CaseSet(
    pinned=pinned_cases,
    plan=PLAN,
    chains=chain_with_faults,
    chain_count=900,
    fixed_chains=documented_chains,
    rf_case=make_rf_case,
    rf_count=400,
)
