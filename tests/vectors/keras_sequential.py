"""Pasted keras.Sequential([...]) models (issue 17 item 2): random Sequential models
built by Keras 3 itself from their source text, in the spellings people paste
(``model = keras.Sequential([...])``, ``tf.keras.Sequential``, ``layers.`` and
``keras.layers.`` prefixes, trailing commas, comments, ``name=``, import lines, the
input as ``keras.Input(shape=…)``, ``layers.Input``, ``InputLayer``).

    KERAS_BACKEND=jax /work/tvenv/bin/python tests/vectors/keras_sequential.py

Writes tests/data/keras_sequential.jsonl (tests/kinds/test_keras_sequential.py), one
model a line: ``{"source", "input", "layers": [output shape, ...], "params",
"trainable", "output"}`` (shapes without the batch). This script alone runs the
source (``exec``, with Keras); convcalc parses it. Deterministic."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "keras_sequential.jsonl"
SEED = 20260517
COUNT = int(os.environ.get("COUNT", "70"))


def _image(rng: random.Random) -> tuple[tuple[int, ...], list[str]]:
    shape = (rng.randint(12, 32), rng.randint(12, 32), rng.choice([1, 3]))
    body = []
    for _ in range(rng.randint(1, 4)):
        body.append(
            rng.choice(
                [
                    f"Conv2D({rng.choice([4, 8, 16])}, {rng.choice([1, 3])}, "
                    f"padding={rng.choice(['same', 'valid'])!r}, activation='relu')",
                    f"Conv2D({rng.choice([8, 16])}, 3, strides=2, padding='same', use_bias=False)",
                    "BatchNormalization()",
                    "MaxPooling2D()",
                    "Dropout(0.25)",
                    "DepthwiseConv2D(3, padding='same')",
                ]
            )
        )
    body.append(rng.choice(["Flatten()", "GlobalAveragePooling2D()"]))
    body.append(f"Dense({rng.choice([10, 32])}, activation='softmax')")
    return shape, body


def _sequence(rng: random.Random) -> tuple[tuple[int, ...], list[str]]:
    shape = (rng.randint(4, 30), rng.randint(2, 16))
    body = []
    u = lambda: rng.choice([4, 8, 16, 32])  # noqa: E731
    for _ in range(rng.randint(0, 3)):
        body.append(
            rng.choice(
                [
                    f"LSTM({u()}, return_sequences=True)",
                    f"GRU({u()}, return_sequences=True, reset_after={rng.choice([True, False])})",
                    f"SimpleRNN({u()}, return_sequences=True)",
                    f"Bidirectional(LSTM({u()}, return_sequences=True), "
                    f"merge_mode={rng.choice(['concat', 'sum', 'ave', 'mul'])!r})",
                    f"Conv1D({u()}, 3, padding='causal')",
                    f"TimeDistributed(Dense({u()}))",
                    "Dropout(0.2)",
                    f"Dense({u()}, activation='tanh')",
                    "LayerNormalization()",
                ]
            )
        )
    body.append(
        rng.choice(
            [
                f"LSTM({u()})",
                f"GRU({u()})",
                f"SimpleRNN({u()})",
                f"Bidirectional(GRU({u()}))",
                "GlobalAveragePooling1D()",
            ]
        )
    )
    body.append(f"Dense({rng.choice([1, 5, 10])})")
    return shape, body


def _video(rng: random.Random) -> tuple[tuple[int, ...], list[str]]:
    shape = (rng.randint(2, 5), rng.randint(6, 12), rng.randint(6, 12), rng.choice([1, 3]))
    body = [
        rng.choice(
            [
                f"ConvLSTM2D({rng.choice([2, 4])}, 3, padding='same', return_sequences=True)",
                f"TimeDistributed(Conv2D({rng.choice([2, 4])}, 3, padding='same'))",
            ]
        ),
        rng.choice(["TimeDistributed(MaxPooling2D())", "BatchNormalization()"]),
        f"ConvLSTM2D({rng.choice([2, 4])}, 3)",
        "Flatten()",
        "Dense(3)",
    ]
    return shape, body


def _prefixed(call: str, prefix: str) -> str:
    """Every layer class in ``call`` with ``prefix`` (nested ones too)."""
    return re.sub(r"(?<![\w.])([A-Z]\w*)\(", prefix + r"\1(", call)


def source(rng: random.Random, shape: tuple[int, ...], body: list[str]) -> tuple[str, str]:
    """The pasted text, and the same assigned to ``model`` (for Keras to run)."""
    prefix = rng.choice(["layers.", "keras.layers.", "layers.", ""])
    lines = []
    if rng.random() < 0.5:
        lines += ["import keras", "from keras import layers", ""]
    if rng.random() < 0.3:
        lines.append("# a model pasted from a notebook")
    head = rng.choice(
        ["keras.Sequential", "tf.keras.Sequential", "keras.models.Sequential", "keras.Sequential"]
    )
    if rng.random() < 0.6:
        head = "model = " + head
    dims = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
    first = rng.choice(
        [
            f"keras.Input(shape=({dims}))",
            f"keras.Input(({dims}))",
            f"layers.Input(shape=({dims}))",
            f"keras.layers.InputLayer(shape=({dims}))",
        ]
    )
    items = [first, *(_prefixed(c, prefix) for c in body)]
    name = f', name="m{rng.randint(1, 99)}"' if rng.random() < 0.4 else ""
    if rng.random() < 0.25:
        lines.append(f"{head}([{', '.join(items)}]{name})")
    else:
        lines.append(f"{head}(")
        lines.append("    [")
        for i, item in enumerate(items):
            comma = "," if i < len(items) - 1 or rng.random() < 0.6 else ""
            note = "  # the input" if i == 0 and rng.random() < 0.4 else ""
            lines.append(f"        {item}{comma}{note}")
        lines.append("    ]" + ("," if name else ""))
        if name:
            lines.append(f"    {name[2:]},")
        lines.append(")")
    text = "\n".join(lines) + "\n"
    runnable = text if "model = " in text else text.replace(head + "(", "model = " + head + "(", 1)
    return text, runnable


def _first(shape: Any) -> list[Any]:
    """A shape without the batch; a layer or model with several outputs: its first's."""
    if isinstance(shape, list):
        shape = shape[0]
    return list(getattr(shape, "shape", shape)[1:])


def run(text: str, keep_error: bool = False) -> dict[str, Any] | None:
    """Keras's figures for the model ``text`` builds; None (or, ``keep_error``, Keras's
    message) when Keras refuses it."""
    namespace: dict[str, Any] = {"keras": keras, "layers": keras.layers}
    namespace["tf"] = type("tf", (), {"keras": keras})
    try:
        exec(text, namespace)  # Keras builds the model from its own source
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]} if keep_error else None
    model = namespace["model"]
    return {
        "layers": [_first(layer.output) for layer in model.layers],
        "params": model.count_params(),
        "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "output": _first(model.output_shape),
    }


# Layers that return several tensors (return_state=True, merge_mode=None): Keras takes
# one last (the model's outputs are a list; convcalc shows the first) and refuses one
# anywhere else, the next layer receiving the list.
MULTI_OUTPUT = [
    ["LSTM(8, return_state=True)", "Dense(2)"],
    ["LSTM(8, return_state=True)"],
    ["GRU(6, return_state=True)", "Dense(2)"],
    ["GRU(6, return_state=True)"],
    ["SimpleRNN(5, return_sequences=True, return_state=True)", "LSTM(4)"],
    ["LSTM(8, return_sequences=True)", "SimpleRNN(5, return_state=True)"],
    ["Bidirectional(LSTM(8), merge_mode=None)", "Dense(2)"],
    ["Bidirectional(LSTM(8), merge_mode=None)"],
    ["Bidirectional(GRU(4, return_state=True))", "Dense(2)"],
    ["Dense(3)", "LSTM(8, return_state=True)", "Dense(2)"],
]


# The docs' --framework keras commands of recurrent layers (docs/frameworks.md): their
# words, their input, and the same network as Keras's calls (tests/cli/test_frameworks.py
# finds them by their words).
DOCUMENTED = [
    (
        '"Bidirectional(LSTM(64, return_sequences=True))" "LSTM(32)" "Dense(10)"',
        (20, 8),
        ["Bidirectional(LSTM(64, return_sequences=True))", "LSTM(32)", "Dense(10)"],
    ),
    (
        '"TimeDistributed(Conv2D(16, 3, strides=2))" "ConvLSTM2D(8, 3, padding=\'same\')" '
        '"GlobalAveragePooling2D()"',
        (10, 32, 32, 3),
        [
            "TimeDistributed(Conv2D(16, 3, strides=2))",
            "ConvLSTM2D(8, 3, padding='same')",
            "GlobalAveragePooling2D()",
        ],
    ),
    ("lstm 32 out=hidden Dense 5", (20, 8), ["LSTM(32)", "Dense(5)"]),
]


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    # The documented example (docs/frameworks.md), pasted as keras.io writes it.
    example = (ROOT / "examples" / "frameworks" / "keras_mnist.py").read_text()
    rows.append({"source": example, "input": [28, 28, 1], **run(example)})  # type: ignore[dict-item]
    for words, shape, calls in DOCUMENTED:
        items = ", ".join(
            [f"keras.Input(shape={shape})", *(_prefixed(c, "layers.") for c in calls)]
        )
        text = f"model = keras.Sequential([{items}])\n"
        rows.append({"documented": words, "source": text, "input": list(shape), **run(text)})  # type: ignore[dict-item]
    while len(rows) < COUNT:
        shape, body = rng.choice([_image, _sequence, _sequence, _video])(rng)
        text, runnable = source(rng, shape, body)
        got = run(runnable)
        if got is None:
            continue
        rows.append({"source": text, "input": list(shape), **got})
    for calls in MULTI_OUTPUT:
        items = ", ".join(["keras.Input(shape=(10, 4))", *(_prefixed(c, "layers.") for c in calls)])
        text = f"model = keras.Sequential([{items}])\n"
        rows.append({"source": text, "input": [10, 4], **run(text, keep_error=True)})  # type: ignore[dict-item]
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} models -> {OUT} (keras {keras.__version__})")


if __name__ == "__main__":
    main()
