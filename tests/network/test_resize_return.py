"""``resize_to NAME`` (F.interpolate to a named tensor's size) against PyTorch's own
answers (tests/vectors/resize.py), and ``return NAME…``: a network with more than one
output, each of which eval mode computes (a segmentation model's auxiliary head)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import LayerError, SpecError
from convcalc.kinds.merge import resize
from tests import paths

CASES = [json.loads(line) for line in (paths.DATA / "torch_resize.jsonl").read_text().splitlines()]


def test_the_data_has_acceptances_and_rejections() -> None:
    rejected = sum(c["error"] is not None for c in CASES)
    assert 0.2 < rejected / len(CASES) < 0.7
    assert {c["resize"].split()[0] for c in CASES} >= {
        f"mode={m}" for m in ("nearest", "bilinear", "bicubic", "trilinear", "area")
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['x']}->{c['like']} {c['resize']}")
def test_resize_as_pytorch(case: dict[str, Any]) -> None:
    keys = dict(w.split("=") for w in case["resize"].split())
    align = keys.get("align_corners")
    op = resize(keys["mode"], None if align is None else align == "true")
    shapes = [tuple(case["x"]), tuple(case["like"])]
    if case["error"] is not None:
        with pytest.raises(LayerError):
            op.infer_many(shapes, ["x", "like"])
        return
    assert list(op.infer_many(shapes, ["x", "like"]).shape) == case["output"]


SEG = (
    "conv2d 8 k=3 s=4 p=1; as a; conv2d 4 k=1; resize_to input mode=bilinear "
    "align_corners=false; as out; from a; conv2d 2 k=1; resize_to input mode=bilinear; as aux; "
    "return out aux"
)


def test_return_counts_every_output() -> None:
    a = convcalc.analyze(SEG, "3x64x64")
    assert list(a.output) == [4, 64, 64]
    assert not any(r.side for r in a.layers)
    assert a.macs == sum(r.macs or 0 for r in a.layers)
    assert [list(a.layers[i - 1].output) for i in a.outputs] == [[2, 64, 64]]
    assert a.to_dict()["outputs"] == [5]
    # Without 'return' the aux branch is a side output: its MACs do not count.
    side = convcalc.analyze(SEG.rsplit(";", 1)[0], "3x64x64")
    assert list(side.output) == [2, 64, 64]


def test_return_in_pytorch_code() -> None:
    from convcalc.formats.torch_code import to_torch

    code = to_torch(convcalc.analyze(SEG, "3x64x64"))
    assert "return x3, x5" in code
    assert "interpolate(x2, size=x0.shape[2:], mode='bilinear', align_corners=False)" in code
    assert "print(model(x)[0].shape)" in code


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv2d 4 k=3; as a; return a; relu", "'return' ends the network"),
        ("block b; return input; end; conv2d 4 k=3; b", "'return' stands at the top level"),
        ("conv2d 4 k=3; as a; return a a", "'return' names a tensor twice"),
        ("conv2d 4 k=3; as a; conv2d 4 k=1; return a", "is never used"),
        ("conv2d 4 k=3; return zz", "no tensor is named 'zz'"),
        ("conv2d 4 k=3; resize_to", "'resize_to' takes one tensor name"),
        ("conv2d 4 k=3; resize_to input mode=cubic", "expected one of nearest"),
        ("conv2d 4 k=3; resize_to input scale=2", "'resize_to' has no argument 'scale'"),
    ],
)
def test_statement_errors(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        convcalc.analyze(spec, "3x32x32")
    assert message in str(err.value)


def test_resize_shape_error_names_the_tensors() -> None:
    with pytest.raises(convcalc.ShapeError) as err:
        convcalc.analyze("as x; flatten; resize_to x", "3x8x8")
    assert "resize expects" in str(err.value)
    with pytest.raises(convcalc.ShapeError) as err:
        convcalc.analyze("as x; conv1d 4 k=1; resize_to x mode=trilinear", "3x8")
    assert "mode='trilinear' needs 3 spatial dimensions" in str(err.value)


def test_a_tuple_argument_takes_block_parameters() -> None:
    """``s=(1,S,S)`` in a block: each instance its own stride (a body made once per
    distinct set of arguments must tell them apart)."""
    spec = "block b S=1; conv3d 4 k=1 s=(1,S,S); end; b S=2; b"
    a = convcalc.analyze(spec, "2x4x8x8")
    assert [list(r.output) for r in a.layers] == [[4, 4, 4, 4], [4, 4, 4, 4]]
    assert a.layers[0].spec == "conv3d 4 k=1 s=(1,2,2)"
