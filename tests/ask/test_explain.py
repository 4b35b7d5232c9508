"""convcalc.ask.explain: every printed expression evaluates to the size PyTorch gave.

The layers and networks are the ones PyTorch ran (tests/data/torch_cases.jsonl and
torch_graphs.jsonl): each step's expression, in both alphabets, is parsed back by
``evaluate`` and must equal torch's size for that row and dimension. Random layers
of every kind with spatial arithmetic add breadth (their sizes come from the
engine, itself checked against PyTorch by kinds/test_vectors.py)."""

from __future__ import annotations

import json
import math
import random
import re
import struct
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import convcalc
from convcalc.ask.explain import evaluate, explain
from convcalc.ask.explain.common import position
from tests.paths import ROOT

DATA = ROOT / "tests" / "data"

# Kinds whose rows explain their arithmetic.
ARITHMETIC = (
    "conv",
    "dwconv",
    "depthwiseconv",
    "convtranspose",
    "deconv",
    "convt",
    "tconv",
    "conv_transpose",
    "maxpool",
    "max_pool",
    "avgpool",
    "avg_pool",
    "lppool",
    "lp_pool",
    "adaptive",
    "gap",
    "gmp",
    "global",
    "maxunpool",
    "max_unpool",
    "fractional",
    "upsample",
    "interpolate",
    "pixel",
    "pad",
    "zeropad",
    "flatten",
    "unflatten",
    "linear",
    "fc",
    "dense",
    "glu",
)


def check(analysis: convcalc.Analysis, torch_outputs: list[Any] | None = None) -> int:
    """Every step of ``analysis`` evaluates to its row's size (torch's, when given).
    Returns how many expressions were checked."""
    checked = 0
    rows = analysis.layers
    if torch_outputs is not None:
        assert [list(r.output) for r in rows] == torch_outputs
    for step, plain in zip(explain(analysis), explain(analysis, ascii=True)):
        assert plain.row == step.row
        assert plain.line().isascii(), plain.line()
        if step.expression is None:
            assert plain.expression is None
            continue
        row = rows[step.row - 1]
        value = evaluate(step.expression)
        assert value == step.value, (row.spec, step)
        assert evaluate(plain.expression or "") == value, (row.spec, plain)
        index = position(step.dim, row.output)
        # A recurrent layer's formulas; attention's, with its key/value cache.
        totals = {
            "params": row.params,
            "MACs": row.macs,
            "KV cache": row.layer.kv_cache(row.input),
        }
        if step.dim in totals:
            assert totals[step.dim] == value, (row.spec, step)
        elif step.dim.startswith("params, layer "):
            pass  # one term of the "params" step's sum
        elif index is not None:
            assert row.output[index] == value, (row.spec, row.input, row.output, step)
        elif step.dim != "all":  # flatten of some dims: the merged size
            assert value in row.output, (row.spec, step)
        checked += 1
    return checked


def _torch_cases() -> list[dict[str, Any]]:
    out = []
    with (DATA / "torch_cases.jsonl").open() as fh:
        for line in fh:
            case = json.loads(line)
            if case["error"] is None and any(
                word.startswith(ARITHMETIC)
                for word in case["spec"].replace(";", " ").replace("|", " ").split()
            ):
                out.append(case)
    return out


def test_every_expression_of_the_layers_torch_ran() -> None:
    checked = 0
    for case in _torch_cases():
        analysis = convcalc.analyze(case["spec"], case["input"])
        checked += check(analysis, [lay["output"] for lay in case["layers"]])
    assert checked > 10_000


def test_every_expression_of_the_graphs_torch_ran() -> None:
    checked = 0
    cases = [json.loads(line) for line in (DATA / "torch_graphs.jsonl").open()]
    # 1,000 of the 2,000 graphs keep the suite fast; merges and crops are in every sample
    for case in random.Random(3).sample(cases, 1000):
        if case["error"] is not None:
            continue
        analysis = convcalc.analyze(case["spec"], case["input"])
        outputs = [op["output"] if isinstance(op, dict) else op[1] for op in case["ops"]]
        checked += check(analysis, outputs)
    assert checked > 1_000


def test_every_expression_of_the_built_in_models() -> None:
    from convcalc.network.zoo import model_spec, models

    for model in models():
        assert check(convcalc.analyze(model_spec(model.name))) > 0


def _random_layer(rng: random.Random) -> tuple[str, tuple[int, ...]]:
    n = rng.choice((1, 2, 3))
    shape = (rng.randint(1, 8), *(rng.randint(1, 30) for _ in range(n)))
    k = rng.randint(1, 6)
    s = rng.randint(1, 4)
    d = rng.randint(1, 3)
    p = rng.randint(0, k)
    kind = rng.choice(
        (
            *("conv", "convt", "maxpool", "avgpool", "lppool", "maxunpool", "adaptive"),
            *("upsample", "pad", "pixelshuffle", "flatten", "same"),
        )
    )
    ceil = " ceil=true" if rng.random() < 0.5 else ""
    if kind == "conv":
        spec = f"conv{n}d {rng.randint(1, 9)} k={k} s={s} p={p} d={d}"
    elif kind == "same":
        spec = f"conv{n}d 4 k={k} d={d} p=same"
    elif kind == "convt":
        spec = f"convtranspose{n}d 3 k={k} s={s} p={p} d={d} op={rng.randrange(max(s, d))}"
    elif kind == "maxpool":
        spec = f"maxpool{n}d k={k} s={s} p={min(p, k // 2)} d={d}{ceil}"
    elif kind == "avgpool":
        spec = f"avgpool{n}d k={k} s={s} p={min(p, k // 2)}{ceil}"
    elif kind == "lppool":
        spec = f"lppool{n}d 2 k={k} s={s}{ceil}"
    elif kind == "maxunpool":
        spec = f"maxunpool{n}d k={k} s={s} p={rng.randint(0, k // 2)}"
    elif kind == "adaptive":
        spec = f"adaptiveavgpool{n}d {rng.randint(1, 12)}"
    elif kind == "upsample":
        scale = rng.choice((2, 3, 0.5, 0.29, 0.57, 1.7, 2.25, 1 / 3))
        spec = f"upsample scale={scale!r}" if rng.random() < 0.8 else f"upsample size={k * 3}"
    elif kind == "pad":
        pads = ",".join(str(rng.randint(-2, 4)) for _ in range(2 * rng.randint(1, n)))
        spec = f"pad {pads}"
    elif kind == "pixelshuffle":
        r = rng.randint(1, 3)
        shape = (rng.randint(1, 3) * r * r, rng.randint(1, 9) * r, rng.randint(1, 9) * r)
        spec = rng.choice(("pixelshuffle", "pixelunshuffle")) + f" {r}"
    else:
        spec = "flatten" + rng.choice(("", " start=2", " end=-2")) + "; linear 5"
    return spec, shape


def test_every_expression_of_random_layers() -> None:
    rng = random.Random(42)
    checked = runs = 0
    while runs < 3000:
        spec, shape = _random_layer(rng)
        try:
            analysis = convcalc.analyze(spec, shape)
        except convcalc.ShapeError:
            continue
        runs += 1
        checked += check(analysis)
    assert checked > 5000


# --------------------------------------------------------------------------
# What the steps say.


def lines(spec: str, shape: str, *, ascii: bool = False) -> list[str]:
    return [s.line() for s in explain(convcalc.analyze(spec, shape), ascii=ascii)]


def test_the_convolution_formula_with_the_users_numbers() -> None:
    assert lines("conv2d 64 k=7 s=2 p=3", "3x224x224") == [
        "H: ⌊(224 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 112",
        "W: ⌊(224 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 112",
    ]
    assert lines("conv2d 64 k=7 s=2 p=3", "3x224x224", ascii=True)[0] == (
        "H: floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1 = 112"
    )


def test_same_says_where_the_odd_pixel_goes() -> None:
    h, w = lines("conv2d 8 k=4 p=same", "3x10x10")
    assert h.startswith("H: ⌊(10 + 1 + 2 − 1·(4−1) − 1) / 1⌋ + 1 = 10")
    assert "1 top, 2 bottom" in h
    assert "1 left, 2 right" in w
    (one,) = lines("conv1d 8 k=3 d=2 p=same", "3x10")
    assert "2 on each side" in one


def test_ceil_mode_and_the_dropped_last_window() -> None:
    # L=6, k=2, s=4, p=1: a naive ceil gives 3; the third window would start in the
    # right padding, so PyTorch drops it (docs/arithmetic.md#pooling, a torch vector)
    (line,) = lines("maxpool1d k=2 s=4 p=1 ceil=true", "1x6")
    assert line.startswith("L: ⌈(6 + 2·1 − 1·(2−1) − 1) / 4⌉ + 1 − 1 = 2")
    assert "would start at (3−1)·4 = 8" in line
    (line,) = lines("maxpool1d k=2 ceil=true", "1x5")
    assert line == "L: ⌈(5 + 2·0 − 1·(2−1) − 1) / 2⌉ + 1 = 3"
    assert (
        "in the right padding, so it is dropped" in lines("maxpool1d k=2 s=4 p=1 ceil=1", "1x6")[0]
    )


def test_the_dropped_window_is_in_the_padding_at_the_dimensions_end() -> None:
    # H ends at the bottom, W at the right, D at the back: not "right" for every one
    d, h, w = lines("maxpool3d k=2 s=2 p=1 ceil=true", "3x5x5x5")
    assert "≥ 5 + 1, in the back padding, so it is dropped" in d
    assert "≥ 5 + 1, in the bottom padding, so it is dropped" in h
    assert "≥ 5 + 1, in the right padding, so it is dropped" in w
    h, w = lines("avgpool2d k=2 s=2 p=1 ceil=true", "3x5x5")
    assert "in the bottom padding" in h and "right" not in h
    assert "in the right padding" in w


def test_the_floor_that_drops_input() -> None:
    h, _ = lines("maxpool k=2", "3x55x55")
    assert h.startswith("H: ⌊(55 + 2·0 − 1·(2−1) − 1) / 2⌋ + 1 = 27")
    assert "the last input row (54) is in no window" in h
    (line,) = lines("conv1d 8 k=4 s=4", "1x14")
    assert "the last 2 input positions (12–13) are in no window" in line
    (line,) = lines("conv1d 8 k=3 s=4", "1x14")  # narrower than the stride: gaps anyway
    assert line == "L: ⌊(14 + 2·0 − 1·(3−1) − 1) / 4⌋ + 1 = 3"


def test_transposed_interpolate_adaptive_and_merges() -> None:
    assert lines("convtranspose2d 8 k=3 s=2 p=1 op=1", "4x7x7")[0] == (
        "H: (7−1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 14  (output_padding adds 1 at the bottom)"
    )
    h, w = lines("upsample scale=0.29", "1x100x7")
    assert w.startswith("W: ⌊7 × 0.29⌋ = 2  (the float64 product is 2.03")
    assert (
        h == "H: ⌊100 × 0.29⌋ = 28  (the float64 product is 28.999999999999996; PyTorch floors it)"
    )
    # adaptive bins [⌊i·L/o⌋, ⌈(i+1)·L/o⌉) (docs/arithmetic.md#pooling)
    assert lines("adaptiveavgpool1d 3", "1x10") == [
        "L: 3  (3 windows [⌊i·10/3⌋, ⌈(i+1)·10/3⌉), 4 wide, overlapping: [0,4) [3,7) [6,10))"
    ]
    assert lines("adaptiveavgpool1d 6", "1x10") == [
        "L: 6  (6 windows [⌊i·10/6⌋, ⌈(i+1)·10/6⌉): [0,2) [1,4) [3,5) [5,7) …, 2–3 wide)"
    ]
    assert lines("adaptiveavgpool1d 5", "1x10") == ["L: 5  (5 windows of 10/5 = 2, stride 2)"]
    assert lines("gap", "3x7x7")[0] == "H: 1  (one window over all 7)"
    # the current tensor comes first unless it is listed (docs/language.md)
    graph = "as x; conv2d 8 k=1; as y; from x; conv2d 4 k=1; concat y x"
    assert (
        lines(graph, "3x5x5")[-1]
        == "C: 4 + 8 + 3 = 15  (concat along C; the other dims (H×W = 5×5) match)"
    )
    assert (
        lines("as x; gap; mul x", "3x5x5")[-1]
        == "all: 3×1×1 × 3×5×5 → 3×5×5 (broadcast H: 1 → 5, W: 1 → 5)"
    )


def test_the_step_record() -> None:
    (step,) = explain(convcalc.analyze("pad 1,-2", "1x4x6"))  # two pads: the last dim only
    assert step.to_dict() == {
        "row": 1,
        "dim": "W",
        "expression": "6 + 1 − 2",
        "value": 5,
        "note": "1 left, −2 right (a negative pad crops)",
    }


# --------------------------------------------------------------------------
# The parser.


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("⌊(224 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1", 112),
        ("floor((224 + 2*3 - 1*(7-1) - 1) / 2) + 1", 112),
        ("⌈(5 + 2·0 − 1·(2−1) − 1) / 2⌉ + 1", 3),
        ("ceil(-1 / 2)", 0),
        ("⌊100 × 0.29⌋", 28),  # the float64 product, as PyTorch computes it
        ("⌊7 × 0.57⌋", 3),
        ("27 / (3·3)", 3),
        ("−−3", 3),
        ("6 + 1 − 2", 5),
        ("⌊1e2 × 0.5⌋", 50),
        ("10 − 3·⌈10 / 4⌉", 1),  # the last of 4 chunks of 10
        ("trunc(−7 / 2)", -3),  # C++'s division, toward zero
        ("trunc(7 / 2) + 1", 4),
        ("trunc((3 − 1·(4−1) − 1) / 3) + 1", 1),
    ],
)
def test_evaluate(text: str, value: int) -> None:
    assert evaluate(text) == value


@pytest.mark.parametrize("scale", [0.29, 0.57, 1.7, 2.25, 1 / 3, 0.1])
def test_evaluate_float32(scale: float) -> None:
    # ONNX holds a Resize scale as a float32 and multiplies it in double
    f32 = struct.unpack("f", struct.pack("f", scale))[0]
    for size in (7, 100, 1000):
        assert evaluate(f"⌊{size} × float32({scale!r})⌋") == math.floor(size * f32)
        assert evaluate(f"floor({size} * float32({scale!r}))") == math.floor(size * f32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("2 +", "ends too early"),
        ("(2 + 3", "expected ')'"),
        ("⌊2 / 3⌉", "expected '⌋'"),
        ("1 / 0", "division by zero"),
        ("1 / 2", "not a whole number"),
        ("2 3", "unexpected '3'"),
        ("__import__('os')", "unexpected"),
        ("x + 1", "unexpected"),
        ("float32(1e300)", "out of float32's range"),
        ("float32 + 1", "unexpected"),
    ],
)
def test_evaluate_rejects(text: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError, match=re.escape(message)):
        evaluate(text)


def _tree(depth: int) -> st.SearchStrategy[tuple[str, str, Fraction]]:
    """Random expressions printed in both alphabets, with their exact value."""
    leaf = st.integers(0, 50).map(lambda n: (str(n), str(n), Fraction(n)))
    if depth == 0:
        return leaf

    def combine(parts: tuple[Any, Any, str]) -> tuple[str, str, Fraction]:
        (a, a2, x), (b, b2, y), op = parts
        if op == "+":
            return f"({a} + {b})", f"({a2} + {b2})", x + y
        if op == "-":
            return f"({a} − {b})", f"({a2} - {b2})", x - y
        if op == "*":
            return f"{a}·{b}", f"{a2}*{b2}", x * y
        if op == "floor" and y != 0:
            return f"⌊{a} / ({b})⌋", f"floor({a2} / ({b2}))", Fraction(math.floor(x / y))
        if op == "ceil" and y != 0:
            return f"⌈{a} / ({b})⌉", f"ceil({a2} / ({b2}))", Fraction(math.ceil(x / y))
        return a, a2, x

    sub = _tree(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, sub, st.sampled_from(["+", "-", "*", "floor", "ceil"])).map(combine),
    )


@given(_tree(4))
def test_evaluate_agrees_with_exact_arithmetic(case: tuple[str, str, Fraction]) -> None:
    unicode, ascii_text, value = case
    assert evaluate(unicode) == value
    assert evaluate(ascii_text) == value


def test_a_merged_label_of_numbered_dims_is_no_position() -> None:
    """flatten 2 3 of a 5-d tensor (raft_large's convex upsampling) labels its step with
    the merged names, dim 2×dim 3: a label, not one dimension."""
    assert position("dim 2×dim 3", (2, 512, 64, 8)) is None
    assert position("dim 3", (2, 512, 64, 8)) == 2
