"""MViT's token layers against torchvision: every case of tests/data/torch_mvit.jsonl was run
in torch 2.13 with torchvision 0.28's own modules by tests/vectors/families/mvit.py
(MultiscaleAttention, Pool over a MaxPool3d, PositionalEncoding). convcalc must give their
output, parameters, buffers and MACs, and reject what they reject; then --explain and
-o torch."""

from __future__ import annotations

import re
from typing import Any

import pytest

import convcalc
from convcalc.errors import ConvcalcError
from tests.kinds.oracle import assert_as_torch
from tests.paths import read_jsonl

CASES = read_jsonl("torch_mvit.jsonl")


def test_the_data_covers_every_word_and_rejection() -> None:
    specs = "\n".join(c["spec"] for c in CASES)
    for word in (
        "multiscaleattention ",
        "poolingattention ",
        "tokenpool ",
        "positionalencoding ",
        "kq=",
        "kernel_q=",
        "sq=",
        "stride_kv=",
        "kkv=",
        "residual_pool",
        "residual_with_cls_embed=false",
        "rel_pos",
        "dropout=",
    ):
        assert word in specs, word
    messages = " ".join(c["error"]["message"] for c in CASES if c["error"])
    for torch_says in (
        "is invalid for input of size",  # L is not 1 + T·H·W, or OUT not divisible by heads
        "integer division or modulo by zero",  # no heads, or rel_pos with a 0 stride
        "dropout probability",
        "pad should be at most half",
        "non-positive stride",
        "Dimension size must be non-negative",  # rel_pos tables of -1 rows
    ):
        assert torch_says in messages, torch_says
    rejected = sum(c["error"] is not None for c in CASES)
    assert 0.15 < rejected / len(CASES) < 0.4
    accepted = [c for c in CASES if c["error"] is None and c["spec"].startswith("multi")]
    # Queries pooled (fewer tokens out than in) and relative positions, both accepted often.
    assert sum(c["output"][0] < c["input"][0] for c in accepted) > 30
    rel_pos = re.compile(r"rel_pos(_embed)?(=(true|yes|1))?( |$)")
    assert sum(bool(rel_pos.search(c["spec"])) for c in accepted) > 30


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_mvit_layers_equal_torchvision(case: dict[str, Any]) -> None:
    assert_as_torch(case)


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        (
            "multiscaleattention 16 2 thw=2x4x4 kq=3 sq=1x2x2",
            (30, 8),
            "reshapes the 30 tokens to the class token and a grid of 2x4x4 = 32 tokens, "
            "which needs 33",
        ),
        ("multiscaleattention 10 4 thw=1x2x2", (5, 8), "output_dim 10 is not divisible by"),
        ("multiscaleattention 8 0 thw=1x2x2", (5, 8), "num_heads must be positive"),
        ("multiscaleattention 8 2 thw=1x2x2 kq=3x3", (5, 8), "kernel_q has 2 values"),
        ("multiscaleattention 8 2 thw=2x2", (5, 8), "3 sizes"),
        ("tokenpool thw=2x4x4 k=3 s=2 p=2", (33, 8), "pad"),
        ("positionalencoding thw=2x4x4", (33, 8), "32 positions"),
        ("multiscaleattention 8 2 thw=1x2x2", (5, 8, 2), "expects an L×E input"),
    ],
)
def test_rejections_say_why(spec: str, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ConvcalcError) as info:
        convcalc.analyze(spec, shape)
    assert message in str(info.value)


def test_without_pooling_or_rel_pos_the_grid_is_not_read() -> None:
    """torchvision reshapes the tokens to the grid only to pool them or for relative
    positions: otherwise any length passes, as plain attention."""
    analysis = convcalc.analyze("multiscaleattention 8 2 thw=3x3x3", (10, 8))
    assert list(analysis.output) == [10, 8]


def test_explain_breaks_the_figures_down() -> None:
    spec = "multiscaleattention 16 2 thw=2x8x8 kq=3 sq=1x2x2 kkv=3 skv=1x2x2 rel_pos"
    shape = (129, 8)
    analysis = convcalc.analyze(spec, shape)
    steps = {s.dim: s for s in convcalc.explain(spec, shape) if s.row == 1}
    assert steps["tokens"].line() == (
        "tokens: 1 + 2·4·4 = 33  (the class token and the queries' grid, "
        "T ⌊(2 + 2·1 − 3)/1⌋ + 1, H ⌊(8 + 2·1 − 3)/2⌋ + 1, W ⌊(8 + 2·1 − 3)/2⌋ + 1: 2x4x4)"
    )
    assert steps["tokens"].value == 1 + 2 * 4 * 4 == analysis.output[0]
    assert steps["params"].value == analysis.params
    assert steps["MACs"].value == analysis.macs
    assert "relative positions" in steps["MACs"].note
    pos = {s.dim: s for s in convcalc.explain("positionalencoding thw=2x4x4", (32, 8))}
    assert pos["params"].line() == (
        "params: 8 + (4·4 + 2 + 1)·8 = 160  (class token; spatial_pos, temporal_pos, class_pos)"
    )
    (pool,) = convcalc.explain("tokenpool thw=2x4x4 k=1x3x3 s=1x2x2 p=0x1x1", (33, 8))
    assert pool.line() == (
        "tokens: 1 + 2·2·2 = 9  (the class token and the max-pooled grid, "
        "T ⌊(2 + 2·0 − 1)/1⌋ + 1, H ⌊(4 + 2·1 − 3)/2⌋ + 1, W ⌊(4 + 2·1 − 3)/2⌋ + 1: 2x2x2)"
    )


def test_torch_code_uses_torchvisions_modules() -> None:
    from convcalc.formats.torch_code import to_torch

    spec = (
        "positionalencoding thw=2x4x4; "
        "multiscaleattention 16 2 thw=2x4x4 kq=3 sq=1x2x2 kkv=3 rel_pos; "
        "tokenpool thw=2x2x2 k=3 s=1 p=1"
    )
    code = to_torch(convcalc.analyze(spec, (32, 8)))
    assert "from torchvision.models.video.mvit import MultiscaleAttention" in code
    assert "PoolingAttention(input_size=[2, 4, 4], embed_dim=8, output_dim=16" in code
    assert "TokenPool(input_size=[2, 2, 2], kernel_size=(3, 3, 3)" in code
    assert "PositionalEncoding(embed_size=8, input_size=[2, 4, 4], rel_pos_embed=False)" in code
