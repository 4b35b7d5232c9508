"""Fractional max pooling (convcalc/kinds/torch/fractional.py) beyond its figures: the
shapes, rejections, explanations and PyTorch code are checked against torch's own runs
(the ``fractional`` set of tests/data/torch_cases.jsonl by kinds/test_vectors.py and
ask/test_explain.py; tests/data/torch_codegen.jsonl by formats/test_torch_code.py).
Here: what those data do not show — the messages, the receptive field, the warnings'
traits, the code's arguments and what solve says."""

from __future__ import annotations

import pytest

import convcalc
from convcalc.ask.lint import lint
from convcalc.ask.solve import solve
from convcalc.formats.torch_code import to_torch


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        # torch: "fractional_max_pool2d(): pool height 3 too large relative to input height 10"
        (
            "fractionalmaxpool2d 3 size=9,8",
            "3x10x10",
            "kernel_size 3 is too large for output size 9 along the input's height 10: "
            "PyTorch needs 9 + 3 − 1 = 11 ≤ 10",
        ),
        # 3-d is strict: torch refuses 7 + 2 − 1 = 8 on a time of 8
        (
            "FractionalMaxPool3d(2, output_size=(7, 8, 9))",
            "2x8x9x10",
            "kernel_size 2 is too large for output size 7 along the input's time 8: "
            "PyTorch needs 7 + 2 − 1 = 8 < 8",
        ),
        (
            "fractionalmaxpool2d 3 ratio=1,0.5",
            "3x10x10",
            "output_ratio must be between 0 and 1 (both excluded), got (1.0, 0.5)",
        ),
        ("fractionalmaxpool2d 3", "3x10x10", "give output_size= or output_ratio="),
        ("fractionalmaxpool2d 3 size=5 ratio=0.5", "3x10x10", "give only one of"),
        ("fractionalmaxpool3d 0,2,2 size=2", "1x5x5x5", "kernel_size must be positive"),
        ("fractionalmaxpool 2 size=1", "3x16", "expects a C×H×W or C×D×H×W input"),
        ("fractionalmaxpool2d 2 size=-1,3", "3x10x10", "output_size must not be negative"),
    ],
)
def test_rejections_name_the_numbers(spec: str, shape: str, message: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(spec, shape)
    assert info.value.index == 1
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)", "(output, indices)"),
        ("FractionalMaxPool2d(3, output_ratio=0.5, _random_samples=t)", "reads only None"),
        ("FractionalMaxPool2d((3,), output_ratio=0.5)", "takes one integer or 2 values"),
    ],
)
def test_what_a_spec_cannot_say(spec: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(spec, "3x10x10")
    assert message in str(info.value)


def test_the_receptive_field_stops_at_it() -> None:
    analysis = convcalc.analyze(
        "conv2d 8 k=3; fractionalmaxpool2d 2 ratio=0.5; conv2d 8 k=3", "3x32x32"
    )
    first, pool, after = analysis.layers
    assert first.rf is not None
    assert pool.rf is None and after.rf is None


def test_its_map_is_a_map_and_its_size_is_meant() -> None:
    # MAKES_MAP: what comes out is a map again, even after a linear layer's tokens, and a
    # linear layer after it acts on its last axis only.
    analysis = convcalc.analyze("linear 16; fractionalmaxpool2d 1 size=2; linear 4", "3x8x8")
    assert [w.row for w in lint(analysis) if w.code == "linear-on-map"] == [1, 3]
    # SIZE_IS_GIVEN: a 1×1 it was asked for is no tiny-map, where a window pool's is.
    spec = "conv2d 8 k=3 p=1; maxpool k=2; maxpool k=2; maxpool k=2; {}; conv2d 8 k=3 p=1"
    pooled = [w.code for w in lint(convcalc.analyze(spec.format("maxpool k=4"), "3x32x32"))]
    given = [
        w.code
        for w in lint(convcalc.analyze(spec.format("fractionalmaxpool2d 2 size=1"), "3x32x32"))
    ]
    assert "tiny-map" in pooled
    assert "tiny-map" not in given


def test_the_code_writes_one_of_size_and_ratio() -> None:
    code = to_torch(
        convcalc.analyze("fractionalmaxpool2d 3 ratio=0.5; FractionalMaxPool2d(2, 3)", "3x32x32")
    )
    assert (
        "nn.FractionalMaxPool2d(kernel_size=(3, 3), output_ratio=(0.5, 0.5), return_indices=False)"
        in code
    )
    assert (
        "nn.FractionalMaxPool2d(kernel_size=(2, 2), output_size=(3, 3), return_indices=False)"
        in code
    )
    assert "None" not in code.split("model = ")[1].split("if __name__")[0]


def test_explain_shows_the_truncated_product() -> None:
    from convcalc.ask.explain import explain

    steps = explain(convcalc.analyze("fractionalmaxpool2d 2 ratio=0.29,0.5", "1x100x100"))
    assert [s.line().split("  (")[0] for s in steps] == [
        "H: ⌊100 × 0.29⌋ = 28",
        "W: ⌊100 × 0.5⌋ = 50",
    ]
    assert "28.999999999999996" in steps[0].note


def test_solve_has_nothing_to_search() -> None:
    # The solver writes a solved output_size as the layer's first value (adaptive
    # pooling's), which is kernel_size here: the kind declares no SOLVE.
    with pytest.raises(convcalc.SpecError, match="cannot solve for output_size"):
        solve("fractionalmaxpool2d 3 size=?", "3x10x10", "3x5x5")
