"""Keras's recurrent layers (convcalc/kinds/keras/recurrent.py) against Keras 3 itself:
tests/data/keras_recurrent.jsonl (tests/vectors/keras_recurrent.py) holds random
SimpleRNN/LSTM/GRU/ConvLSTM/Bidirectional/TimeDistributed layers, as Keras's calls and
convcalc's word forms, with their output shapes and count_params(), or Keras's refusal.
Here too: the nested calls' parsing, the messages, out=, --explain and MACs."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import ConvcalcError, ShapeError, SpecError
from convcalc.kinds.frameworks import get
from tests.paths import DATA, read_jsonl

CASES = read_jsonl("keras_recurrent.jsonl")


def test_the_data_cover_every_kind_and_enough_rejections() -> None:
    specs = " ".join(c["spec"] for c in CASES)
    for word in (
        "SimpleRNN(",
        "LSTM(",
        "GRU(",
        "ConvLSTM1D(",
        "ConvLSTM2D(",
        "ConvLSTM3D(",
        "Bidirectional(",
        "TimeDistributed(",
        "out=hidden",
        "out=cell",
        "merge_mode=None",
        "reset_after=False",
    ):
        assert word in specs, word
    rejected = sum(1 for c in CASES if c["error"])
    assert len(CASES) >= 600
    assert 0.1 < rejected / len(CASES) < 0.4


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['spec']} @ {c['input']}")
def test_keras_s_figures(case: dict[str, Any]) -> None:
    spec, shape = case["spec"], case["input"]
    if case["error"]:
        with pytest.raises(ConvcalcError):
            convcalc.analyze(spec, shape, framework="keras")
        return
    result = convcalc.analyze(spec, shape, framework="keras")
    (row,) = result.layers
    assert list(row.output) == case["output"]
    assert row.params == case["params"]
    assert row.params - row.non_trainable == case["trainable"]


def _one(spec: str, shape: list[int]) -> tuple[Any, ...]:
    (row,) = convcalc.analyze(spec, shape, framework="keras").layers
    return row.output, row.params, row.macs


@pytest.mark.parametrize(
    ("spellings", "shape"),
    [
        (
            [
                "LSTM(64, return_sequences=True)",
                "layers.LSTM(units=64, return_sequences=True)",
                "lstm 64 return_sequences",
                "LSTM 64 seq=true",
            ],
            [20, 8],
        ),
        (
            [
                "Bidirectional(LSTM(16), merge_mode='sum')",
                "keras.layers.Bidirectional(layer=keras.layers.LSTM(16), merge_mode='sum')",
                "bidirectional layer=LSTM(16) merge=sum",
            ],
            [20, 8],
        ),
        (
            [
                "TimeDistributed(Dense(10))",
                "TimeDistributed(\n    Dense(10),  # per step\n)",
                "timedistributed layer=Dense(10)",
            ],
            [5, 12],
        ),
    ],
)
def test_spellings_of_one_layer(spellings: list[str], shape: list[int]) -> None:
    assert len({_one(s, shape) for s in spellings}) == 1


def test_macs_are_the_gate_matrix_products() -> None:
    # T·g·u·(i + u): LSTM g = 4, GRU 3 (reset_after or not), SimpleRNN 1; twice bidirectional.
    assert _one("LSTM(16)", [10, 8])[2] == 10 * 4 * 16 * (8 + 16)
    assert _one("GRU(16, reset_after=False)", [10, 8])[2] == 10 * 3 * 16 * (8 + 16)
    assert _one("SimpleRNN(16)", [10, 8])[2] == 10 * 16 * (8 + 16)
    assert _one("Bidirectional(GRU(16))", [10, 8])[2] == 2 * 10 * 3 * 16 * (8 + 16)
    # ConvLSTM: per step and output position, the gate convolutions k·(C + f)·4f.
    out, _, macs = _one("ConvLSTM2D(4, 3, padding='same')", [5, 9, 9, 3])
    assert out == (9, 9, 4)
    assert macs == 5 * 81 * 9 * (3 + 4) * 4 * 4
    # TimeDistributed: T times the layer's.
    assert _one("TimeDistributed(Dense(7))", [5, 9, 3])[2] == 5 * 9 * 3 * 7


def test_out_continues_from_a_state() -> None:
    # The classic "last state → classifier" in one line, as with PyTorch's out=hidden.
    result = convcalc.analyze("lstm 32 seq out=hidden Dense 5", [20, 8], framework="keras")
    assert [r.output for r in result.layers] == [(32,), (5,)]
    result = convcalc.analyze(
        "bidirectional layer=LSTM(32, return_sequences=True) out=cell Dense 5",
        [20, 8],
        framework="keras",
    )
    assert [r.output for r in result.layers] == [(64,), (5,)]
    # return_state alone hands on the output, Keras's first tensor.
    assert _one("LSTM(32, return_sequences=True, return_state=True)", [20, 8])[0] == (20, 32)


@pytest.mark.parametrize(
    ("spec", "shape", "error", "message"),
    [
        ("LSTM(0)", [5, 4], ShapeError, "units must be a positive integer, got 0"),
        ("GRU(4)", [5], ShapeError, "GRU reads timesteps×features per sample (ndim=3"),
        ("Bidirectional(Dense(4))", [5, 4], ShapeError, "wraps a recurrent layer"),
        ("Bidirectional(LSTM(4, go_backwards=True))", [5, 4], ShapeError, "go_backwards"),
        ("gru 4 out=cell", [5, 4], SpecError, "expected one of output, hidden"),
        ("bidirectional layer=GRU(4) out=cell", [5, 4], ShapeError, "GRU has no cell state"),
        ("bidirectional layer=4", [5, 4], SpecError, "a layer written as Keras's call"),
        ("LSTM(4, stateful=True)", [5, 4], SpecError, "stateful=True needs a fixed batch"),
        ("TimeDistributed(Dense(3))", [5], ShapeError, "at least one axis per step"),
        ("Bidirectional(LSTM(4), backward_layer=LSTM(4))", [5, 4], SpecError, "backward_layer"),
        ("Bidirectional(Lstm2(4))", [5, 4], SpecError, "does not know the module Lstm2"),
        ("Bidirectional(LSTM(4, units=3))", [5, 4], SpecError, "units is given twice in LSTM"),
        (
            "ConvLSTM2D(4, 3, strides=2, dilation_rate=2)",
            [3, 9, 9, 2],
            ShapeError,
            "strides > 1 is not compatible with dilation_rate > 1",
        ),
        ("ConvLSTM2D(4, 3)", [9, 9, 2], ShapeError, "ConvLSTM2D reads timesteps×rows×cols"),
    ],
)
def test_rejections_name_the_layer_and_numbers(
    spec: str, shape: list[int], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as exc:
        convcalc.analyze(spec, shape, framework="keras")
    assert message in str(exc.value)


def test_explain_writes_the_parameter_count() -> None:
    from click.testing import CliRunner

    from convcalc.cli.command import cli

    args = ["--framework", "keras", "-i", "10x8", "GRU(16)", "--explain"]
    result = CliRunner().invoke(cli, args, prog_name="convcalc")
    assert result.exit_code == 0
    assert "params: 3·16·(8 + 16) + 96 = 1248  (kernel 8×48, recurrent_kernel 16×48" in (
        result.stdout
    )
    assert "MACs: 10·3·16·(8 + 16) = 11520" in result.stdout


SIGNATURES = json.loads((DATA / "keras_recurrent_signatures.json").read_text())["signatures"]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_each_signature_is_keras_own(name: str) -> None:
    entry = get("keras").registry[name.lower()]
    assert entry.framework == "Keras"
    assert entry.torch_name == name
    assert entry.torch is not None
    assert list(entry.torch.args) == SIGNATURES[name]["args"]
    assert entry.torch.required == SIGNATURES[name]["required"]


def test_convlstm_and_the_wrappers_explain_keras_s_figures() -> None:
    """ConvLSTM: its input convolution's windows, the gates' kernels and products;
    Bidirectional: twice its layer's parameters and MACs, concat's doubled width;
    TimeDistributed: its layer's steps on one time step, the MACs T times. Every step
    evaluates to its value, which is Keras's figure (the cases' params) or size."""
    from convcalc.ask.explain import evaluate, explain
    from convcalc.ask.explain.common import position

    checked = {"Bidirectional": 0, "TimeDistributed": 0, "ConvLSTM": 0}
    for case in CASES:
        wrapper = case["spec"].split("(", 1)[0].rstrip("123D")
        if case["error"] or wrapper not in checked:
            continue
        analysis = convcalc.analyze(case["spec"], case["input"], framework="keras")
        (row,) = analysis.layers
        for step in explain(analysis):
            if step.expression is None:
                continue
            assert evaluate(step.expression) == step.value, (case["spec"], step)
            if step.dim in ("params", "MACs"):
                figure = row.params if step.dim == "params" else row.macs
                assert step.value == figure, (case["spec"], step)
                assert step.dim == "MACs" or step.value == case["params"]
            else:
                index = position(step.dim, row.output, last=True)
                assert index is not None, (case["spec"], step)
                assert row.output[index] == step.value == case["output"][index]
            checked[wrapper] += 1
    assert min(checked.values()) >= 20, checked


def test_explain_writes_both_directions() -> None:
    (step_params, step_macs, width) = convcalc.explain(
        "Bidirectional(LSTM(8))", (10, 4), framework="keras"
    )
    assert (
        step_params.line() == "params: 2·(4·8·(4 + 8) + 32) = 832  (a forward and a backward LSTM)"
    )
    assert step_macs.line() == "MACs: 2·(10·4·8·(4 + 8)) = 7680  (a forward and a backward LSTM)"
    assert width.line() == "features: 2·8 = 16  (the forward and the backward outputs concatenated)"
