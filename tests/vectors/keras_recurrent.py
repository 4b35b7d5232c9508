"""Keras's recurrent layers (issue 16 item 2), as Keras 3 itself builds them: random
SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, Bidirectional and TimeDistributed layers,
rejections included, each written as Keras's call (the text this script evaluates
with Keras, and convcalc parses) and now and then in convcalc's word form too.

    KERAS_BACKEND=jax /work/tvenv/bin/python tests/vectors/keras_recurrent.py

Writes tests/data/keras_recurrent.jsonl (tests/kinds/test_keras_recurrent.py), one
case a line: ``{"spec", "input", "output", "params", "trainable", "error"}``. The
input and output shapes leave the batch out. ``output`` is what the layer hands on
in a chain: its output, the first of the list Keras returns with return_state=True
or merge_mode=None; a word form with ``out=hidden`` (``out=cell``) is checked
against the state Keras returns (a Bidirectional's two directions' concatenated).
``error`` is Keras's message where it refused the layer (constructing or calling it
on ``keras.Input``). Deterministic: the same rows on every run. It writes
tests/data/keras_recurrent_signatures.json too: each class's constructor arguments,
in order, with how many are required (``… keras_recurrent.py signatures`` writes only
that)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "keras_recurrent.jsonl"
SIGNATURES = ROOT / "tests" / "data" / "keras_recurrent_signatures.json"
CLASSES = (
    "SimpleRNN",
    "LSTM",
    "GRU",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "Bidirectional",
    "TimeDistributed",
)
SEED = 20260516
COUNT = 700


def build(text: str) -> Any:
    """The layer a call's text means, built by Keras (this script alone evaluates)."""
    namespace = {"keras": keras, "layers": keras.layers, **vars(keras.layers)}
    namespace["tf"] = type("tf", (), {"keras": keras})
    return eval(text, namespace)


def _kw(rng: random.Random, options: dict[str, list[Any]], p: float = 0.3) -> list[str]:
    out = []
    for key, values in options.items():
        if rng.random() < p:
            out.append(f"{key}={rng.choice(values)!r}")
    return out


def _prefix(rng: random.Random) -> str:
    return rng.choice(["", "", "", "layers.", "keras.layers.", "tf.keras.layers."])


def rnn(rng: random.Random, kind: str | None = None, bad: bool = False) -> tuple[str, str, dict]:
    """A SimpleRNN, LSTM or GRU call; its word form (or ""); what is handed on."""
    kind = kind or rng.choice(["SimpleRNN", "LSTM", "GRU"])
    units = (
        rng.choice([1, 2, 3, 4, 8, 16, 32])
        if not (bad and rng.random() < 0.4)
        else rng.choice([0, -2])
    )
    opts: dict[str, list[Any]] = {
        "use_bias": [True, False],
        "return_sequences": [True, False],
        "return_state": [True, False],
        "dropout": [0.0, 0.2],
        "recurrent_dropout": [0.1],
        "go_backwards": [True],
        "unroll": [True, False],
        "activation": ["relu", "tanh", None],
    }
    if kind == "GRU":
        opts["reset_after"] = [True, False]
    if kind != "SimpleRNN":
        opts["recurrent_activation"] = ["sigmoid", "hard_sigmoid"]
    if bad and rng.random() < 0.3:
        opts = {"stateful": [True]}
    kws = _kw(rng, opts, 0.35 if not bad else 1.0)
    call = f"{_prefix(rng)}{kind}({', '.join([str(units), *kws])})"
    words = ""
    if rng.random() < 0.35:
        short = {"use_bias": "bias", "return_sequences": "seq"}
        parts = [kind.lower() if rng.random() < 0.5 else kind, str(units)]
        for kw in kws:
            key, value = kw.split("=", 1)
            value = value.strip("'")
            if value in ("True", "False"):
                value = value.lower()
            parts.append(f"{short.get(key, key) if rng.random() < 0.5 else key}={value}")
        words = " ".join(parts)
    return call, words, {}


def convlstm(rng: random.Random, n: int, spatial: list[int], bad: bool = False) -> str:
    filters = rng.choice([1, 2, 4, 8]) if not (bad and rng.random() < 0.2) else 0
    k = [rng.choice([1, 2, 3, 5]) for _ in range(n)]
    args = [
        str(filters),
        str(k[0]) if rng.random() < 0.5 else str(tuple(k)) if n > 1 else str(k[0]),
    ]
    if len(set(k)) > 1 and n > 1:
        args[1] = str(tuple(k))
    kws = _kw(
        rng,
        {
            "strides": [1, 2, 3],
            "padding": ["same", "valid"],
            "dilation_rate": [1, 2],
            "use_bias": [False],
            "return_sequences": [True, False],
            "return_state": [True],
            "go_backwards": [True],
        },
        0.35,
    )
    if bad and rng.random() < 0.3:
        kws += ["strides=2", "dilation_rate=2"]
    return f"{_prefix(rng)}ConvLSTM{n}D({', '.join([*args, *kws])})"


def inner_for(rng: random.Random, shape: tuple[int, ...]) -> str:
    """A layer TimeDistributed may wrap for the per-step ``shape``."""
    rank = len(shape)
    choices = [f"Dense({rng.choice([1, 4, 10])})", "Flatten()", "BatchNormalization()"]
    if rank == 2:
        choices += [
            f"Conv1D({rng.choice([2, 4])}, {rng.choice([1, 2, 3])})",
            f"LSTM({rng.choice([2, 4])})",
            "GlobalAveragePooling1D()",
        ]
    if rank == 3:
        choices += [
            f"Conv2D({rng.choice([2, 4])}, {rng.choice([1, 3])}, padding={rng.choice(['same', 'valid'])!r})",
            "MaxPooling2D()",
            f"ConvLSTM1D({rng.choice([2, 3])}, {rng.choice([1, 2])})",
        ]
    return rng.choice(choices)


def case(rng: random.Random) -> tuple[str, str, tuple[int, ...], str]:
    """(call, word form or "", input, out) of one random layer."""
    family = rng.choice(
        ["rnn"] * 4 + ["convlstm", "bidirectional", "bidirectional", "timedistributed"]
    )
    bad = rng.random() < 0.15
    if family == "rnn":
        call, words, _ = rnn(rng, bad=bad)
        shape: tuple[int, ...] = (rng.randint(1, 12), rng.randint(1, 16))
        if bad and rng.random() < 0.4:
            shape = rng.choice([(rng.randint(1, 16),), (3, 4, 5)])
        out = "output"
        if words and rng.random() < 0.5:
            out = rng.choice(
                ["hidden", "cell"] if call.split("(")[0].endswith("LSTM") else ["hidden"]
            )
            words += f" out={out}"
        return call, words, shape, out
    if family == "convlstm":
        n = rng.choice([1, 2, 3])
        lmax = {1: 12, 2: 8, 3: 5}[n]
        spatial = [rng.randint(1, lmax) for _ in range(n)]
        shape = (rng.randint(1, 4), *spatial, rng.choice([1, 2, 3]))
        if bad and rng.random() < 0.3:
            shape = shape[1:]
        return convlstm(rng, n, spatial, bad), "", shape, "output"
    if family == "bidirectional":
        if rng.random() < 0.8:
            inner, _, _ = rnn(rng)
            shape = (rng.randint(1, 10), rng.randint(1, 12))
        else:
            shape = (rng.randint(1, 4), rng.randint(2, 9), rng.choice([1, 2]))
            inner = convlstm(rng, 1, [shape[1]])
        if bad:
            inner = rng.choice([f"Dense({rng.randint(1, 5)})", inner])
            if rng.random() < 0.3:
                shape = (rng.randint(1, 10),)
        kws = _kw(rng, {"merge_mode": ["concat", "sum", "mul", "ave", None]}, 0.5)
        call = f"{_prefix(rng)}Bidirectional({', '.join([inner, *kws])})"
        words, out = "", "output"
        if rng.random() < 0.3:
            out = rng.choice(["output", "hidden"] + (["cell"] if "LSTM" in inner else []))
            mode = " ".join(f"merge_mode={k.split('=')[1].strip(chr(39))}" for k in kws)
            words = f"bidirectional layer={inner} {mode} out={out}".replace("  ", " ")
        return call, words, shape, out
    steps = rng.randint(1, 6)
    per = rng.choice(
        [
            (rng.randint(1, 20),),
            (rng.randint(2, 9), rng.randint(1, 4)),
            (rng.randint(3, 9), rng.randint(3, 9), rng.randint(1, 3)),
        ]
    )
    shape = (steps, *per)
    inner = inner_for(rng, per)
    if bad:
        shape = rng.choice([(rng.randint(1, 20),), shape])
    words = ""
    if rng.random() < 0.3:
        words = f"timedistributed layer={inner}"
    return f"{_prefix(rng)}TimeDistributed({inner})", words, shape, "output"


def run(call: str, shape: tuple[int, ...], out: str) -> dict[str, Any]:
    try:
        layer = build(call)
        x = keras.Input(shape)
        y = layer(x)
    except Exception as exc:  # Keras's refusal
        return {"error": " ".join(str(exc).split())[:300]}
    ys = y if isinstance(y, (list, tuple)) else [y]
    if out == "output":
        shaped = ys[0].shape
    else:
        # A state: [output, h(, c)] or a Bidirectional's [output, h_fw(, c_fw), h_bw(, c_bw)].
        if not isinstance(ys, list) or len(ys) == 1:
            return {"skip": True}
        states = ys[1:]
        i = 1 if out == "cell" else 0
        if type(layer).__name__ == "Bidirectional":
            half = len(states) // 2
            a, b = states[i], states[half + i]
            shaped = (*a.shape[:-1], a.shape[-1] + b.shape[-1])
        else:
            shaped = states[i].shape
    trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    return {
        "output": list(shaped[1:]),
        "params": layer.count_params(),
        "trainable": trainable,
        "error": None,
    }


def with_state(call: str) -> str:
    """The call with return_state=True (on the wrapped layer of a Bidirectional)."""
    if "return_state=True" in call:
        return call
    if "return_state=False" in call:
        return call.replace("return_state=False", "return_state=True")
    if call.split("(", 1)[0].endswith("Bidirectional"):
        end = call.index(")")
        return call[:end] + ", return_state=True" + call[end:]
    return call[:-1] + ", return_state=True)"


def signatures() -> None:
    import inspect

    out = {}
    for name in CLASSES:
        params = list(inspect.signature(getattr(keras.layers, name).__init__).parameters.values())
        args = [p.name for p in params[1:] if p.kind == p.POSITIONAL_OR_KEYWORD]
        required = sum(
            1 for p in params[1:] if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty
        )
        out[name] = {"args": args, "required": required}
    SIGNATURES.write_text(
        json.dumps({"keras": keras.__version__, "signatures": out}, indent=1) + "\n"
    )


def main() -> None:
    signatures()
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    while len(rows) < COUNT:
        call, words, shape, out = case(rng)
        if (call, shape) in seen:
            continue
        seen.add((call, shape))
        got = run(call, shape, "output")
        rows.append({"spec": call, "input": list(shape), **got})
        if not words:
            continue
        if out != "output":
            got = run(with_state(call), shape, out)
            if got.get("skip"):
                continue
        rows.append({"spec": words, "input": list(shape), **got})
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows))
    errors = sum(1 for r in rows if r["error"])
    print(f"{len(rows)} cases ({errors} rejected) -> {OUT} (keras {keras.__version__})")


if __name__ == "__main__":
    import sys

    signatures() if sys.argv[1:] == ["signatures"] else main()
