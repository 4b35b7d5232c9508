"""convcalc --framework onnx against ONNX itself: every case in tests/data/onnx_cases.jsonl
was produced by the onnx package's shape inference, its checker and onnxruntime
(tests/vectors/onnx_vectors.py). No number here is typed by hand; a node they refuse,
or whose size shape inference puts below 1, must be refused too."""

from __future__ import annotations

import json
from typing import Any

import convcalc
from convcalc.kinds.frameworks import get
from convcalc.spec import LayerStmt, parse
from tests.paths import DATA

ONNX = get("onnx")


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


CASES = _load("onnx_cases.jsonl")


def _statements(spec: str) -> list[LayerStmt]:
    program = parse(spec, ONNX.kinds, ONNX.word_kinds)
    return [s for s in program.statements if isinstance(s, LayerStmt) and s.kind != "framework"]


def test_the_data_is_substantial() -> None:
    singles = [c for c in CASES if len(_statements(c["spec"])) == 1]
    rejected = [c for c in CASES if c["error"] is not None]
    assert len(singles) >= 4000
    assert len(CASES) - len(singles) >= 600
    assert 0.15 <= len(rejected) / len(CASES) <= 0.45
    assert {c["opset"] for c in CASES} >= set(range(13, 27)) - {15}
    # Every way a node is refused occurs.
    assert {c["error"]["by"] for c in rejected} == {
        "checker",
        "shape inference",
        "size",
        "onnxruntime",
    }


def test_every_operator_and_alias_appears() -> None:
    used = {stmt.kind for case in CASES for stmt in _statements(case["spec"])}
    missing = sorted(set(ONNX.registry) - used)
    assert not missing, f"never generated: {missing}"


def _layer_at(spec: str, offset: int | None) -> int | None:
    for index, stmt in enumerate(_statements(spec), start=1):
        if offset is not None and stmt.start <= offset <= stmt.end:
            return index
    return None


def _check(case: dict[str, Any]) -> str | None:
    """None if convcalc agrees with ONNX on the case, else what differs."""
    spec, shape, error = case["spec"], tuple(case["input"]), case["error"]
    try:
        result = convcalc.analyze(spec, shape)
    except convcalc.ShapeError as exc:
        if error is None:
            return f"convcalc rejected what ONNX accepts: {exc}"
        if exc.index != error["node"]:
            return (
                f"rejected at node {exc.index}, ONNX at {error['node']} ({error['message']}): {exc}"
            )
        return None
    except convcalc.SpecError as exc:
        if error is None:
            return f"SpecError: {exc}"
        if _layer_at(spec, exc.start) != error["node"]:
            return f"SpecError outside node {error['node']}: {exc}"
        return None
    if result.opset != case["opset"]:
        return f"opset {result.opset}, the case is for {case['opset']}"
    if error is not None:
        return f"accepted what ONNX rejects ({error['by']}: {error['message']}): output {result.output}"
    for got, want in zip(result.layers, case["nodes"]):
        mine = {"output": list(got.output), "params": got.params, "buffers": got.buffers}
        if mine != want:
            return f"node {got.index} ({got.spec}): convcalc {mine} != ONNX {want}"
    if len(result.layers) != len(case["nodes"]):
        return "different number of nodes"
    return None


def test_every_onnx_case() -> None:
    failures = []
    for case in CASES:
        problem = _check(case)
        if problem:
            failures.append(f"#{case['id']} {case['input']} {case['spec']!r}: {problem}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases differ:\n" + "\n".join(
        failures[:40]
    )


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
