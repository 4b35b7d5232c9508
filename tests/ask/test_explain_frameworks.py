"""convcalc.ask.explain under --framework keras and onnx: every printed expression
evaluates to the size the framework gave.

The layers and chains are the ones Keras 3 built and ONNX shape inference sized
(tests/data/keras_cases.jsonl, onnx_cases.jsonl; kinds/test_vectors.py
checks the engine against them): for every case they
accepted, each step's expression, in both alphabets, is parsed back by
``evaluate`` and must equal the framework's size for that row and dimension, and
every row that computes a size explains each dimension it computes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.ask.explain import Step, evaluate, explain
from convcalc.ask.explain.common import position
from convcalc.cli.command import cli
from convcalc.kinds import keras, onnx
from convcalc.kinds.merge import Elementwise
from convcalc.network.analysis import LayerResult
from tests.paths import DATA

# The kinds whose rows compute their spatial sizes: each spatial dimension must be
# explained (or, where the map is pooled away, remarked on).
WINDOWED: dict[str, tuple[type, ...]] = {
    "keras": (
        keras.conv.Conv,
        keras.conv.ConvTranspose,
        keras.conv.DepthwiseConv,
        keras.conv.SeparableConv,
        keras.pool.Pool,
        keras.pool.GlobalPool,
        keras.shape.ZeroPadding,
        keras.shape.Cropping,
        keras.shape.UpSampling,
    ),
    "onnx": (
        onnx.conv.Conv,
        onnx.conv.ConvTranspose,
        onnx.pool.Pool,
        onnx.pool.GlobalPool,
    ),
}
# Their channels are a number the user gives (filters, M), not a computed size.
GIVEN_CHANNELS = (
    keras.conv.Conv,
    keras.conv.ConvTranspose,
    keras.conv.SeparableConv,
    onnx.conv.Conv,
    onnx.conv.ConvTranspose,
)


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [c for line in fh if line.strip() and (c := json.loads(line))["error"] is None]


def _spatial(shape: tuple[int | None, ...], last: bool) -> range:
    return range(len(shape) - 1) if last else range(1, len(shape))


def _covered(row: LayerResult, steps: list[Step], framework: str) -> str | None:
    """What a row computes but does not explain, if anything."""
    last = framework == "keras"
    named = {position(s.dim, row.output, last) for s in steps}
    if len(row.input) != len(row.output) or isinstance(row.layer, keras.shape.Reshape):
        # flatten, reshape (its sizes given but a -1), global pooling away
        return None if steps else "reshapes, no step"
    if isinstance(row.layer, Elementwise):  # broadcasting: a remark
        return None if steps or row.input == row.output else "broadcasts, no remark"
    must = {i for i, (a, b) in enumerate(zip(row.input, row.output)) if a != b}
    if isinstance(row.layer, WINDOWED[framework]) and len(row.input) > 1:
        must |= set(_spatial(row.input, last))
    if isinstance(row.layer, onnx.core.Resize):  # the axes its scales or sizes are for
        must |= {a - 1 for a, _ in row.layer.targets(len(row.input) + 1) if a}
    if isinstance(row.layer, GIVEN_CHANNELS):
        must.discard(len(row.input) - 1 if last else 0)
    missing = sorted(must - named)
    return f"no step for index {missing}" if missing else None


def check(analysis: convcalc.Analysis, framework: str) -> int:
    """Every step of ``analysis`` evaluates to its row's size, in both alphabets,
    and every size a row computes is explained. Returns how many expressions
    were checked."""
    last = framework == "keras"
    rows = analysis.layers
    fancy, plain = explain(analysis), explain(analysis, ascii=True)
    assert len(fancy) == len(plain)
    checked = 0
    by_row: dict[int, list[Step]] = {}
    for step, flat in zip(fancy, plain):
        by_row.setdefault(step.row, []).append(step)
        row = rows[step.row - 1]
        assert flat.row == step.row
        assert flat.line().isascii(), flat.line()
        if step.expression is None:
            assert flat.expression is None and step.value is None, (row.spec, step)
            continue
        value = evaluate(step.expression)
        assert value == step.value, (row.spec, row.input, step)
        assert evaluate(flat.expression or "") == value, (row.spec, flat)
        index = position(step.dim, row.output, last)
        assert index is not None, (row.spec, step)
        assert row.output[index] == value, (row.spec, row.input, row.output, step)
        checked += 1
    for row in rows:
        problem = _covered(row, by_row.get(row.index, []), framework)
        assert problem is None, (row.spec, row.input, row.output, problem, by_row.get(row.index))
    return checked


def _outputs(case: dict[str, Any], framework: str) -> list[list[int]]:
    if framework == "onnx":
        return [node["output"] for node in case["nodes"]]
    outputs = [layer["output"] for layer in case["layers"]]
    if isinstance(case.get("eager"), list):  # glu: the forward pass's shape
        outputs[-1] = case["eager"]
    return outputs


@pytest.mark.parametrize("framework", ["keras", "onnx"])
def test_every_expression_of_the_cases_the_framework_accepted(framework: str) -> None:
    checked = 0
    cases = _load(f"{framework}_cases.jsonl")
    for case in cases:
        analysis = convcalc.analyze(case["spec"], case["input"], framework=framework)
        if not case.get("graph"):  # a graph's rows are its operations, not Keras's layers
            assert [list(r.output) for r in analysis.layers] == _outputs(case, framework)
        checked += check(analysis, framework)
    assert len(cases) > 4000
    assert checked > 7000, checked


GRAPHS = {
    "keras": (
        "16x16x8",
        "as x; Conv2D 4 3 as y; from x; crop y; concat y; split 4,8 a b; chunk 2 c d; add d; "
        "concat b; as e; GlobalAveragePooling2D keepdims=true; mul e; GlobalAveragePooling2D; "
        "Reshape 5,-1; Dense 3",
    ),
    "onnx": (
        "8x16x16",
        "as x; Conv 4 k=3 as y; from x; crop y; concat y; split 4,8 a b; chunk 2 c d; add d; "
        "concat b; as e; GlobalAveragePool; mul e; GlobalAveragePool; Flatten; MatMul 3",
    ),
}


@pytest.mark.parametrize("framework", ["keras", "onnx"])
def test_the_graph_operations_in_the_frameworks_layout(framework: str) -> None:
    # The sizes are the engine's (each operation is checked against the frameworks'
    # conventions by cli/test_frameworks.py); here every step must evaluate to them, the
    # channels being where the framework keeps them.
    shape, spec = GRAPHS[framework]
    analysis = convcalc.analyze(spec, shape, framework=framework)
    assert check(analysis, framework) >= 12
    kinds = {analysis.layers[s.row - 1].kind: s for s in explain(analysis)}
    channels = -1 if framework == "keras" else 0
    concat = kinds["concat"]
    assert concat.dim == "C" and concat.value == analysis.layers[concat.row - 1].output[channels]
    assert {"split", "chunk", "crop", "add", "mul"} <= set(kinds)


def test_the_pytorch_path_imports_neither_framework_module() -> None:
    code = (
        "import sys, convcalc\n"
        "from convcalc.ask.explain import explain\n"
        "explain(convcalc.analyze('conv2d 8 k=3 s=2 maxpool k=2', '3x32x32'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('convcalc.ask.explain.', "
        "'convcalc.kinds.keras', 'convcalc.kinds.onnx'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['convcalc.ask.explain.common']"


# --------------------------------------------------------------------------
# What the steps say, on layers of the vectors.


def _first(framework: str, *words: str) -> dict[str, Any]:
    """The first accepted case whose spec holds every one of ``words``."""
    return next(
        c for c in _load(f"{framework}_cases.jsonl") if all(w in c["spec"].split() for w in words)
    )


def _lines(spec: str, shape: list[int], framework: str) -> list[str]:
    analysis = convcalc.analyze(spec, shape, framework=framework)
    return [s.line() for s in explain(analysis)]


def test_keras_same_puts_the_odd_pixel_at_the_end() -> None:
    case = _first("keras", "padding=same")
    steps = explain(convcalc.analyze(case["spec"], case["input"], framework="keras"))
    assert steps and all(s.expression is not None for s in steps if s.dim != "C")
    # same is ⌈L/s⌉ in Keras; its pads are only a note
    for s in steps:
        if s.dim in ("H", "W", "L", "D") and s.row == 1 and "padding='same'" in s.note:
            assert s.expression.startswith("⌈")  # type: ignore[union-attr]
            if "odd one" in s.note:
                assert "Keras puts the odd one at the" in s.note
                assert s.note.endswith(("bottom", "right", "back"))


def test_keras_causal_pads_only_the_start() -> None:
    case = _first("keras", "padding=causal")
    (step, *_) = explain(convcalc.analyze(case["spec"], case["input"], framework="keras"))
    assert step.dim == "L"
    assert step.expression is not None and step.expression.startswith("⌈")
    assert "padding='causal'" in step.note and "none after" in step.note


def test_onnx_pools_truncate_and_ceil_by_opset() -> None:
    cases = _load("onnx_cases.jsonl")
    texts = {}
    for case in cases:
        analysis = convcalc.analyze(case["spec"], case["input"])
        for step in explain(analysis):
            for key in ("trunc(", "so it is dropped", "before opset 22"):
                if key in step.line():
                    texts.setdefault(key, step.line())
    # every rule shows up somewhere in what ONNX itself sized
    assert set(texts) == {"trunc(", "so it is dropped", "before opset 22"}, texts


def test_onnx_resize_scales_are_float32() -> None:
    cases = [c for c in _load("onnx_cases.jsonl") if "scales=" in c["spec"]]
    seen = 0
    for case in cases:
        for step in explain(convcalc.analyze(case["spec"], case["input"])):
            if "float32(" in (step.expression or ""):
                seen += 1
    assert seen > 10


# --------------------------------------------------------------------------
# The CLI: the table, JSON and CSV carry the steps under keras and onnx.


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, prog_name="convcalc")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("framework", "words"),
    [
        ("keras", ("padding=same",)),
        ("keras", ("Conv2DTranspose",)),
        ("onnx", ("ceil_mode=1",)),
        ("onnx", ("resize",)),
    ],
)
def test_the_cli_explains_under_the_framework(framework: str, words: tuple[str, ...]) -> None:
    case = _first(framework, *words)
    shape = "x".join(map(str, case["input"]))
    base = ["--framework", framework, "-i", shape, case["spec"], "--explain"]
    outputs = _outputs(case, framework)

    data = json.loads(_run([*base, "-o", "json"]))
    assert data["framework"] == framework
    assert data["explain"]
    for step in data["explain"]:
        if step["expression"] is not None:
            assert evaluate(step["expression"]) == step["value"]
            assert step["value"] in outputs[step["row"] - 1]

    table = _run(base)
    assert "how each size is computed" in table
    for step in data["explain"]:
        if step["expression"] is not None:
            assert f"= {step['value']}" in table or f"{step['dim']}: {step['value']}" in table

    csv = _run([*base, "-o", "csv"]).splitlines()
    assert csv[0].endswith(",explain")
    assert any(str(data["explain"][0]["value"]) in line for line in csv[1:])
