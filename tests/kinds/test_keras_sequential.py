"""A pasted keras.Sequential([...]) under --framework keras (kinds/keras/sequential.py):
random Sequential models that Keras 3 built from their own source text
(tests/data/keras_sequential.jsonl, tests/vectors/keras_sequential.py) give their
count_params(), trainable count and every layer's output shape; the input is
keras.Input's unless -i is given; a file and standard input are read alike; and what
cannot be read is a clear error pointing into the text as written."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.errors import ShapeError, SpecError
from tests.paths import read_jsonl

MODELS = read_jsonl("keras_sequential.jsonl")


def test_the_data_hold_every_spelling() -> None:
    text = "".join(m["source"] for m in MODELS)
    for spelling in (
        "model = keras.Sequential(",
        "tf.keras.Sequential(",
        "keras.models.Sequential(",
        "keras.Input(shape=",
        "layers.Input(",
        "InputLayer(",
        "keras.layers.",
        "import keras",
        "# ",
        "name=",
        "),\n    ]",
        "Bidirectional(",
        "ConvLSTM2D(",
        "TimeDistributed(",
    ):
        assert spelling in text, spelling
    assert len(MODELS) >= 60
    assert sum("error" in m for m in MODELS) >= 5  # Keras's refusals of a list handed on
    assert sum("return_state=True" in m["source"] and "error" not in m for m in MODELS) >= 3


def _label(model: dict[str, Any]) -> str:
    if "error" in model:
        return "refused by Keras"
    return f"{len(model['layers'])} layers @ {model['input']}"


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_keras_s_figures_for_a_pasted_model(model: dict[str, Any]) -> None:
    if "error" in model:  # a layer handed the list a multi-output layer returns
        with pytest.raises(ShapeError, match="returns several tensors: Keras refuses it") as info:
            convcalc.analyze(model["source"], framework="keras")
        assert "expects 1 input(s), but it received" in model["error"]
        source = model["source"]
        refused = source[info.value.start : info.value.end]
        before = source[: info.value.start].rstrip(", ").rsplit("layers.", 1)[1]
        assert "return_state=True" in before or "merge_mode=None" in before, (refused, before)
        return
    result = convcalc.analyze(model["source"], framework="keras")
    assert list(result.input) == model["input"]
    assert [list(r.output) for r in result.layers] == model["layers"]
    assert result.params == model["params"]
    assert result.trainable == model["trainable"]
    assert list(result.output) == model["output"]


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="convcalc")
    return result.exit_code, result.stdout, result.stderr


PASTE = """\
model = keras.Sequential(
    [
        keras.Input(shape=(20, 8)),  # the input
        layers.LSTM(16, return_sequences=True),
        layers.Dense(4),
    ],
    name="m",
)
"""


def test_a_file_and_stdin_read_alike_and_i_wins(tmp_path: Any) -> None:
    path = tmp_path / "model.py"
    path.write_text(PASTE)
    code, out, err = _run("--framework", "keras", "-f", str(path), "-o", "json")
    assert code == 0, err
    code2, out2, _ = _run("--framework", "keras", "-o", "json", stdin=PASTE)
    assert code2 == 0 and out2 == out
    assert convcalc.analyze(PASTE, framework="keras").output == (20, 4)
    assert convcalc.analyze(PASTE, [7, 8], framework="keras").output == (7, 4)
    # A size keras.Input leaves open (None) is given by -i.
    open_ = PASTE.replace("(20, 8)", "(None, 8)")
    assert convcalc.analyze(open_, [5, 8], framework="keras").output == (5, 4)


@pytest.mark.parametrize(
    ("text", "message", "pointed"),
    [
        (PASTE + "model.summary()\n", "nothing more is read", "model.summary()"),
        (PASTE.replace("layers.Dense(4)", "layers.Dense2(4)"), "layers.Dense2", "layers.Dense2"),
        ("keras.Sequential(layers.Dense(4))", "takes its layers as a list", "layers.Dense"),
        ("keras.Sequential([keras.Input(name='x'), layers.Dense(4)])", "needs shape=", "keras"),
        ("keras.Sequential([keras.Input(shape=(4,)), layers.Dense(4)", "never closed", "["),
    ],
)
def test_what_cannot_be_read_points_into_the_text_as_written(
    text: str, message: str, pointed: str
) -> None:
    with pytest.raises(SpecError) as exc:
        convcalc.analyze(text, [8], framework="keras")
    assert message in exc.value.message
    assert exc.value.source == text
    assert exc.value.start is not None
    assert text[exc.value.start :].startswith(pointed)


def test_a_sequential_is_not_read_under_pytorch() -> None:
    with pytest.raises(SpecError):
        convcalc.analyze(PASTE, framework="torch")
