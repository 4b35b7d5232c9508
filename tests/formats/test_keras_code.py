"""``-o keras``: the code convcalc writes, checked against what Keras 3 built when it ran
that very code (tests/vectors/keras_codegen.py, tests/data/keras_codegen.jsonl):
count_params(), the trainable and non-trainable weights, the output shape and, for a
Sequential, every layer's. The code for every case must still be byte for byte the one
Keras ran (its sha256), so the data follows the generator. Then the code's own rules
and errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.keras_code import CodeError, to_keras
from tests.paths import DATA

CASES = [json.loads(line) for line in (DATA / "keras_codegen.jsonl").open(encoding="utf-8")]


def _problem(case: dict[str, Any]) -> str | None:
    shape = tuple(case["input"])
    if "Sequential" in case["spec"]:
        shape = None  # a paste: its keras.Input gives the input
    analysis = convcalc.analyze(case["spec"], shape, framework="keras")
    code = to_keras(analysis)
    if hashlib.sha256(code.encode()).hexdigest() != case["sha256"]:
        return "the code differs from the code Keras ran (re-run tests/vectors/keras_codegen.py)"
    if case["layers"] is not None:
        layers = [list(r.output) for r in analysis.layers]
        if layers != case["layers"]:
            return f"layer outputs: convcalc {layers} != keras {case['layers']}"
    mine = [list(analysis.output), analysis.params, analysis.trainable, analysis.frozen]
    keras = [case["output"], case["params"], case["trainable"], case["non_trainable"]]
    return None if mine == keras else f"figures: convcalc {mine} != keras {keras}"


def test_the_round_trip_is_substantial() -> None:
    assert len(CASES) >= 2000
    functional = [c for c in CASES if c["layers"] is None]
    assert len(functional) >= 100
    recurrent = [c for c in CASES if "LSTM" in c["spec"] or "GRU" in c["spec"]]
    assert len(recurrent) >= 200
    assert sum(1 for c in CASES if "Sequential" in c["spec"]) >= 50


def test_the_code_builds_what_convcalc_analysed() -> None:
    failures = [f"{c['id']} {c['spec']!r}: {p}" for c in CASES if (p := _problem(c))]
    assert not failures, f"{len(failures)} of {len(CASES)} differ:\n" + "\n".join(failures[:10])


def _keras(spec: str, shape: str) -> str:
    return to_keras(convcalc.analyze(spec, shape, framework="keras"))


def test_a_chain_is_a_sequential_from_its_input() -> None:
    code = _keras('Conv2D(64, 3, strides=2, padding="same", activation="relu") Flatten', "8x8x3")
    assert "model = keras.Sequential(\n    [\n        keras.Input(shape=(8, 8, 3)),\n" in code
    assert (
        'layers.Conv2D(filters=64, kernel_size=(3, 3), strides=(2, 2), padding="same", '
        'dilation_rate=(1, 1), groups=1, activation="relu", use_bias=True),'
    ) in code
    assert '# 1: Conv2D(64, 3, strides=2, padding="same", activation="relu") -> 4x4x64' in code
    assert "print(model.count_params())  # 1792" in code


def test_a_graph_is_a_functional_model() -> None:
    code = _keras("as x Conv2D 4 3 padding=same as y from x Conv2D 4 1 add y", "6x6x2")
    assert "x0 = keras.Input(shape=(6, 6, 2))" in code
    assert "x3 = layers.Add()([x2, x1])  # 3: add y -> 6x6x4" in code
    assert code.count("model = keras.Model(inputs=x0, outputs=x3)") == 1


def test_what_keras_returns_as_a_list_is_picked() -> None:
    code = _keras("lstm 4 out=cell", "5x3")
    assert "return_state=True" in code and ")(x0)[2]  # 1: lstm 4 out=cell -> 4" in code
    code = _keras("Bidirectional(LSTM(4), merge_mode=None)", "5x3")
    assert 'layers.Bidirectional(layer=layers.LSTM(units=4, activation="tanh"' in code
    assert "merge_mode=None)(x0)[0]" in code


def test_shared_frozen_and_side_outputs() -> None:
    code = _keras("Dense 4 name=enc frozen as a Dense 3 as side from a use enc add a", "4")
    assert (
        "layer_1 = layers.Dense(units=4, activation=None, use_bias=True, trainable=False)" in code
    )
    assert "x3 = layer_1(x1)  # 3: use enc -> 4" in code
    assert "model = keras.Model(inputs=x0, outputs=[x4, x2])" in code


@pytest.mark.parametrize(
    ("spec", "shape", "framework", "message"),
    [
        (
            "conv2d 8 k=3",
            "3x8x8",
            None,
            "-o keras writes Keras code only for Keras specs, and this one is PyTorch; give "
            "--framework keras (Keras's layer names, channels last), or -o torch for PyTorch code",
        ),
        (
            "Conv2D 8 3",
            "8x8",
            "keras",
            "-o keras writes keras.Input(shape=…) with every size, and the input 8x8x? has an "
            "unknown one: give its channels, last (e.g. -i 32x32x3)",
        ),
        (
            "bidirectional layer=LSTM(4) out=hidden",
            "5x3",
            "keras",
            "-o keras cannot write layer 1 (bidirectional layer=LSTM(4) out=hidden): out=hidden "
            "hands on both directions' final states concatenated, which Keras returns apart "
            "(return_state=True): Keras has no one layer for it",
        ),
        (
            "TimeDistributed(LSTM(4, return_state=True))",
            "2x5x3",
            "keras",
            "-o keras cannot write layer 1 (TimeDistributed(LSTM(4, return_state=True))): the "
            "wrapped LSTM returns several tensors (return_state, out=, merge_mode=None), which "
            "TimeDistributed does not hand on",
        ),
    ],
)
def test_what_it_cannot_write(spec: str, shape: str, framework: str | None, message: str) -> None:
    with pytest.raises(CodeError) as info:
        to_keras(convcalc.analyze(spec, shape, framework=framework))
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-i", "3x8x8", "conv2d", "8", "k=3"],
            "convcalc: error: -o keras writes Keras code only for Keras specs, and this one is "
            "PyTorch (PyTorch's conventions, the default); give --framework keras and write the "
            "network with Keras's layers (channels last), or -o torch for PyTorch code\n",
        ),
        (
            ["--framework", "onnx", "-i", "3x8x8", "Conv", "8", "3"],
            "convcalc: error: -o keras writes Keras code only for Keras specs, and this one is "
            "ONNX (--framework onnx); give --framework keras and write the network with Keras's "
            "layers (channels last), or leave out -o keras\n",
        ),
        (
            ["--framework", "keras", "-i", "5x3", "bidirectional", "layer=LSTM(4)", "out=h"],
            "convcalc: error: -o keras cannot write layer 1 (bidirectional layer=LSTM(4) out=h): "
            "out=hidden hands on both directions' final states concatenated, which Keras "
            "returns apart (return_state=True): Keras has no one layer for it\n",
        ),
    ],
)
def test_the_cli_refuses(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "-o", "keras"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


def test_the_cli_writes_it() -> None:
    args = ["--framework", "keras", "-i", "20x8", "LSTM(4)", "Dense(2)", "-o", "Keras"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == convcalc.to_keras("LSTM(4) Dense(2)", (20, 8))
    compile(result.stdout, "<-o keras>", "exec")
