"""The graph statements RAFT needs (bmm, subtract, coords_grid, corr_lookup), checked
against PyTorch's vectors (tests/vectors/raft_ops.py) and in a spec."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import ConvcalcError, LayerError
from convcalc.kinds.merge import elementwise
from convcalc.kinds.raft_ops import bmm, coords_grid, corr_lookup
from tests import paths

CASES = [
    json.loads(line) for line in (paths.DATA / "torch_raft_ops.jsonl").read_text().splitlines()
]


def _op(case: dict[str, Any]) -> Any:
    return {
        "bmm": bmm,
        "subtract": lambda: elementwise("subtract"),
        "coords_grid": coords_grid,
        "corr_lookup": lambda: corr_lookup(case.get("radius", 0)),
    }[case["op"]]()


def test_the_data_has_acceptances_and_rejections() -> None:
    for op in ("bmm", "subtract", "coords_grid", "corr_lookup"):
        rows = [c for c in CASES if c["op"] == op]
        rejected = sum(c["error"] is not None for c in rows)
        assert 0.1 < rejected / len(rows) < 0.7, op


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['op']} {c['inputs']}")
def test_as_pytorch(case: dict[str, Any]) -> None:
    op = _op(case)
    shapes = [tuple(s) for s in case["inputs"]]
    labels = [f"t{i}" for i in range(len(shapes))]

    def infer() -> Any:
        if case["op"] == "coords_grid":
            return op.infer(shapes[0], case["batch"])
        return op.infer_many(shapes, labels, case["batch"])

    if case["error"] is not None or case.get("batch_dependent"):
        # batch_dependent: subtract of tensors of different ranks, which convcalc refuses
        # whatever PyTorch does at one batch size (as it does add and mul).
        with pytest.raises(LayerError):
            infer()
        return
    out = infer()
    assert list(out.shape) == case["output"]
    assert out.params == 0
    assert out.macs == case["macs"]


RAFT_LIKE = """
input 6x64x64
split 3,3 dim=1 a b
from a; conv2d 16 k=8 s=8 name=enc; as f1
from b; use enc; as f2
from f1; flatten 2; transpose 1 2; as f1t
from f2; flatten 2; as f2f
from f1t; bmm f2f; unflatten 2 8,8; as c0
avg_pool2d 2; as c1
from f1; coords_grid; as coords0; as coords1
corr_lookup c0 c1 radius=3; as corr
from coords1; subtract coords0; as flow
concat corr flow dim=1
"""


def test_in_a_spec() -> None:
    a = convcalc.analyze(RAFT_LIKE)
    assert list(a.output) == [2 * 49 + 2, 8, 8]
    kinds = {r.kind: r for r in a.layers}
    assert kinds["bmm"].macs == 64 * 16 * 64  # (H·W)×C by C×(H·W)
    assert list(kinds["bmm"].output) == [64, 64]
    assert list(kinds["corr_lookup"].output) == [98, 8, 8]
    assert list(kinds["coords_grid"].output) == [2, 8, 8]
    assert a.macs == 2 * 16 * 3 * 64 * 64 + 64 * 16 * 64
    code = convcalc.to_torch(RAFT_LIKE)
    for call in ("torch.bmm(", "coords_grid(", "corr_lookup(", "radius=3)", " - "):
        assert call in code


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("input 8x6\nas x; bmm x", "by 8x6 (x: the input): 8×6 by 8×6"),
        ("input 4x8x8\nas x; bmm x", "bmm multiplies matrices: n×k by k×m besides the batch"),
        ("input 2x4x4\nas c; corr_lookup c radius=1", "has 2 channels, but the coordinates' 4×4"),
        ("input 2x4x4\nas c; corr_lookup c", "corr_lookup needs radius=R"),
        ("input 3x4x4\nas c; corr_lookup c radius=1", "coordinates as 2×H×W"),
        ("input 4x8\ncoords_grid", "coords_grid expects a C×H×W map"),
        ("input 4x8x8\ncoords_grid c", "'coords_grid' takes"),
    ],
)
def test_errors(spec: str, message: str) -> None:
    with pytest.raises(ConvcalcError) as info:
        convcalc.analyze(spec)
    assert message in str(info.value)


def test_convex_upsampling_words_write_torch_code() -> None:
    """raft_large's upsampling: unfold as nn.Unfold (sizes as single ints), sum as a module."""
    spec = "input 2x8x8\nunfold 3 p=1; unflatten 2 (8,8); unflatten 1 (2,9,1,1); sum 2"
    a = convcalc.analyze(spec)
    assert [list(r.output) for r in a.layers] == [
        [18, 64],
        [18, 8, 8],
        [2, 9, 1, 1, 8, 8],
        [2, 1, 1, 8, 8],
    ]
    assert a.macs == 0
    code = convcalc.to_torch(spec)
    assert "nn.Unfold(kernel_size=3, dilation=1, padding=1, stride=1)" in code
    assert "Sum(dim=2, keepdim=False)" in code
