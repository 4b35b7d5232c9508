"""The designer's order of solve's answers (convcalc/ask/solve/design.py): windows
that read all their input before those that skip pixels, no dilation unless asked,
centred padding, the well-known windows first — and the mark on the answers that
skip input pixels, checked against a brute-force count of the pixels the windows
read."""

from __future__ import annotations

from typing import Any

import pytest

import convcalc
from convcalc.ask.solve import Solution, solve, solve_chain
from convcalc.ask.solve.design import STANDARD


def _read_all(size: int, out: int, k: int, s: int, p: int, d: int) -> bool:
    """Whether ``out`` windows of k taps d apart, stride s, p before the first, read
    every one of ``size`` inputs (counted one by one)."""
    seen = {i * s - p + j * d for i in range(out) for j in range(k)}
    return all(x in seen for x in range(size))


def _pixels_skipped(answer: Solution, input_shape: str) -> bool:
    """Brute force: some input pixel of a PyTorch conv/pool answer is read by no
    window (every windowed layer of the answer, each spatial dimension)."""
    analysis = convcalc.analyze(answer.spec, input_shape)
    skipped = False
    for row in analysis.layers:
        layer: Any = row.layer
        if getattr(layer, "kernel_size", None) is None:
            continue
        n = len(row.input) - 1
        k = layer.kernel_size * (n if len(layer.kernel_size) == 1 else 1)
        stride = layer.stride if layer.stride is not None else k
        s = stride * (n if len(stride) == 1 else 1)
        pads = layer.padding * (n if len(layer.padding) == 1 else 1)
        dil = getattr(layer, "dilation", (1,))
        d = dil * (n if len(dil) == 1 else 1)
        for i in range(n):
            size, out = row.input[i + 1], row.output[i + 1]
            assert size is not None and out is not None
            skipped |= not _read_all(size, out, k[i], s[i], pads[i], d[i])
    return skipped


def _first_marked(answers: list[Solution]) -> int:
    return next((i for i, a in enumerate(answers) if a.skips_input), len(answers))


# --------------------------------------------------------------------------
# The examples.


def test_224_to_56_by_one_conv_patchifies_first_and_reads_every_pixel() -> None:
    # The first answer used to be k=1 s=4, which reads one pixel in sixteen. A designer
    # reaches 56 from 224 in one conv as ConvNeXt and Swin do (a 4×4 patchify, stride
    # 4), then with PVTv2's overlapping 7×7 (p=3, centred); k < s comes last, marked.
    found = solve("conv2d 64 k=? s=? p=?", "3x224x224", "64x56x56")
    assert [a.spec for a in found[:2]] == ["conv2d 64 k=4 s=4 p=0", "conv2d 64 k=7 s=4 p=3"]
    marked = _first_marked(found)
    assert marked < len(found)
    assert all(a.skips_input for a in found[marked:])  # every covering one comes first
    old_first = next(a for a in found if a.spec == "conv2d 64 k=1 s=4 p=0")
    assert old_first.skips_input
    for a in found:
        k, s = a.values["k"], a.values["s"]
        if k < s:
            assert a.skips_input, a.spec
    # the same with every key left to the solver (no dilation asked: d=1 first)
    found = solve("conv2d 64", "3x224x224", "64x56x56")
    assert found[0].spec == "conv2d 64 k=4 s=4"
    assert found[0].values["d"] == 1


@pytest.mark.parametrize(
    ("chain", "within"),
    [
        # the chain: ResNet's stem came twelfth
        ("conv2d 64 k=? s=? p=?; maxpool k=3 s=2 p=1", 2),
        ("conv2d 64 k=? s=2 p=?; maxpool k=? s=2 p=?", 3),
        ("conv2d 64 k=7 s=2 p=?; bn; relu; maxpool k=3 s=2 p=?", 1),
    ],
)
def test_resnets_stem_comes_early_in_a_chain(chain: str, within: int) -> None:
    found = solve_chain(chain, "3x224x224", "64x56x56")
    specs = [" ".join(a.spec.replace(";", "").split()) for a in found]
    resnet = next(i for i, s in enumerate(specs) if "k=7 s=2 p=3" in s and "k=3 s=2 p=1" in s)
    assert resnet < within, specs[:5]
    assert not found[resnet].skips_input


def test_the_well_known_windows_come_first() -> None:
    # a pool from 112 to 56: ResNet's 3×3/2 p=1, then VGG's 2×2/2
    found = solve("maxpool k=? s=? p=?", "64x112x112", "56")
    assert [a.spec for a in found[:2]] == ["maxpool k=3 s=2 p=1", "maxpool k=2 s=2 p=0"]
    # a conv from 224 to 112: the strided 3×3, ResNet's 7×7 stem, the 2×2 patch
    found = solve("conv2d", "3x224x224", "112")
    assert [a.spec for a in found[:3]] == [
        "conv2d k=3 s=2 p=1",
        "conv2d k=7 s=2 p=3",
        "conv2d k=2 s=2",
    ]
    # a transposed conv doubling 7: DCGAN's 4×4/2 p=1, then U-Net's 2×2/2
    found = solve("convtranspose2d 8 k=? s=? p=?", "8x7x7", "14")
    assert [a.spec for a in found[:2]] == [
        "convtranspose2d 8 k=4 s=2 p=1",
        "convtranspose2d 8 k=2 s=2 p=0",
    ]
    # each table's windows are distinct and read their input (k ≥ s)
    for table in STANDARD.values():
        assert len(set(table)) == len(table)
        assert all(k >= s for k, s, _, _ in table)


def test_odd_kernels_with_centred_padding_before_even_ones() -> None:
    # 224 → 56 by k=6 s=4 p=2 is as near the centre as an even kernel gets; k=7 p=3
    # and k=9 p=4 are centred
    specs = [a.spec for a in solve("conv2d 64 k=? s=? p=?", "3x224x224", "64x56x56")]
    assert specs.index("conv2d 64 k=7 s=4 p=3") < specs.index("conv2d 64 k=6 s=4 p=2")
    assert specs.index("conv2d 64 k=9 s=4 p=4") < specs.index("conv2d 64 k=6 s=4 p=2")
    # off-centre padding (k=7 p=2) after both
    assert specs.index("conv2d 64 k=6 s=4 p=2") < specs.index("conv2d 64 k=7 s=4 p=2")


def test_no_dilation_unless_asked() -> None:
    # d left to the solver: every d=1 answer that reads all its input comes first
    found = solve("conv2d", "3x224x224", "112")
    dilated = [i for i, a in enumerate(found) if a.values["d"] > 1]
    plain = [i for i, a in enumerate(found) if a.values["d"] == 1 and not a.skips_input]
    assert dilated and plain and max(plain) < min(dilated)
    # d=? asks for it: a centred dilated window (k=3 d=3 p=3) comes before an even
    # kernel's nearly centred one (k=4 p=1)
    specs = [a.spec for a in solve("conv2d k=? s=2 p=? d=?", "3x224x224", "112")]
    assert specs.index("conv2d k=3 s=2 p=3 d=3") < specs.index("conv2d k=4 s=2 p=1 d=1")
    specs = [a.spec for a in found]
    assert specs.index("conv2d k=3 s=2 p=3 d=3") > specs.index("conv2d k=4 s=2 p=1")


def test_a_dilation_that_lands_on_one_parity_skips_pixels() -> None:
    # s=2: taps 2 apart read only the even pixels (marked, after); 3 apart reach both
    found = solve("conv2d 64 k=3 s=2", "3x224x224", "112")
    assert [(a.values["d"], a.skips_input) for a in found] == [
        (1, False),
        (3, False),
        (2, True),
        (4, True),
    ]


@pytest.mark.parametrize(
    ("spec", "shape", "target"),
    [
        ("conv2d 64 k=? s=? p=?", "3x224x224", "56"),
        ("conv2d", "3x224x224", "112"),
        ("conv2d k=? s=? p=? d=?", "3x33x33", "8"),
        ("maxpool k=? s=? p=?", "8x55x55", "27"),
        ("avgpool k=? s=?", "8x31x17", "7x4"),
        ("conv1d 4 k=? s=? p=? d=?", "2x50", "12"),
        ("conv2d 64 k=? s=2 p=?; maxpool k=? s=2 p=?", "3x224x224", "56"),
        ("conv2d 8 k=3 s=? p=?; conv2d 8 k=? s=? p=1", "3x30x30", "5"),
    ],
)
def test_the_mark_is_a_pixel_no_window_reads(spec: str, shape: str, target: str) -> None:
    found = solve_chain(spec, shape, target)
    assert any(a.skips_input for a in found) and not all(a.skips_input for a in found)
    for answer in found:
        assert answer.skips_input == _pixels_skipped(answer, shape), answer.spec


def test_the_mark_agrees_with_the_floor_drop_warning() -> None:
    # an answer that leaves the last rows unread is the one lint warns about
    for answer in solve("conv2d 64 k=? s=? p=?", "3x224x224", "64x56x56"):
        warned = any(w.code == "floor-drop" for w in convcalc.lint(answer.spec, "3x224x224"))
        gaps = answer.values["k"] < answer.values["s"]
        assert answer.skips_input == (warned or gaps), answer.spec


@pytest.mark.parametrize(
    ("framework", "spec", "shape", "target", "first"),
    [
        ("keras", "Conv2D 64 ? strides=? padding=?", "224x224x3", "56x56x64",
         ["Conv2D 64 4 strides=4 padding=valid", "Conv2D 64 7 strides=4 padding=same"]),
        ("keras", "Conv2D 64 ? strides=? padding=?", "224x224x3", "112x112x64",
         ["Conv2D 64 3 strides=2 padding=same", "Conv2D 64 7 strides=2 padding=same"]),
        ("keras", "MaxPool2D ? strides=? padding=?", "112x112x64", "56x56x64",
         ["MaxPool2D 3 strides=2 padding=same", "MaxPool2D 2 strides=2 padding=valid"]),
        ("onnx", "conv 64 k=? s=? p=?", "3x224x224", "64x56x56",
         ["conv 64 k=4 s=4 p=0", "conv 64 k=7 s=4 p=3"]),
        # SAME_UPPER is ONNX's own spelling of the centred 3×3 window
        ("onnx", "maxpool k=? s=? p=?", "64x112x112", "56",
         ["maxpool k=3 s=2 p=1", "maxpool k=3 s=2 p=same_upper", "maxpool k=2 s=2 p=0"]),
    ],
)  # fmt: skip
def test_the_order_is_the_same_in_every_framework(
    framework: str, spec: str, shape: str, target: str, first: list[str]
) -> None:
    # the keys come through each kind's SOLVE record: the same windows lead
    found = solve(spec, shape, target, framework=framework)
    assert [a.spec for a in found[: len(first)]] == first
    assert not any(a.skips_input for a in found[: len(first)])
