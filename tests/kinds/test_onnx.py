"""What only ONNX's data show (tests/data/onnx_cases.jsonl, from tests/vectors/onnx_vectors.py:
the onnx package's shape inference, its checker and onnxruntime); test_vectors.py checks
every case."""

from __future__ import annotations

from convcalc.language import LayerStmt
from tests.kinds.oracle import ONNX

CASES = ONNX.cases
_statements = ONNX.statements


def test_every_opset_and_every_way_of_refusing_occurs() -> None:
    assert {c["opset"] for c in CASES} >= set(range(13, 27)) - {15}
    rejected = [c for c in CASES if c["error"] is not None]
    assert {c["error"]["by"] for c in rejected} == {
        "checker",
        "shape inference",
        "size",
        "onnxruntime",
    }


# Where onnxruntime and shape inference part ways (convcalc follows shape inference and
# the spec): the kinds of nodes it happens at, as the data shows them.
ORT_DIFFERS = {
    *("maxpool", "averagepool", "avgpool", "lppool"),
    *("convtranspose", "deconv", "resize", "upsample"),
}
ORT_LIMITS = (
    "Dilation not supported for AutoPadType",  # Conv with SAME_* and dilations
    "Pad should be smaller than kernel",
    "mode only supports",  # Resize's linear and cubic modes on other ranks
    "Could not find an implementation",  # GlobalLpPool
    "pool_attributes.h:236",  # MaxPool SAME_* with dilations
    "padding values must be non-negative",  # pools with SAME_* and a stride above the kernel
    "onnxruntime crashed",
)


def _kind(stmt: LayerStmt) -> str:
    return stmt.kind.rstrip("123d") if stmt.kind[-2:] in ("1d", "2d", "3d") else stmt.kind


def test_where_onnxruntime_sizes_otherwise() -> None:
    differ = [c for c in CASES if c.get("ort")]
    assert differ
    kinds = {_kind(_statements(c["spec"])[-1]) for c in differ}
    assert kinds <= ORT_DIFFERS, kinds


def test_where_onnxruntime_refuses_what_the_spec_allows() -> None:
    refused = [c for c in CASES if c.get("ort_refuses")]
    assert refused
    assert {c["ort_limit"] for c in refused} <= set(ORT_LIMITS)


def test_shape_inference_drops_axes_of_a_small_output_shape() -> None:
    # ConvTranspose with output_shape below the input size: shape inference returns N×C,
    # onnxruntime the full shape, which the data (and convcalc) take.
    truncated = [c for c in CASES if c.get("truncated")]
    assert truncated
    assert {_kind(_statements(c["spec"])[0]) for c in truncated} <= {"convtranspose", "deconv"}
    assert all("output_shape" in c["spec"] for c in truncated)
