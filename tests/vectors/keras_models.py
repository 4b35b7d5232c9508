"""Keras model files for --from-keras (issue 17): Keras 3 itself writes each model's
``to_json()`` and reports its ``count_params()`` (trainable and non-trainable), its
output shape and every layer's output shape (model.summary()'s column).

* every ``keras.applications`` model, built with ``weights=None``:
  ``tests/data/keras_apps/NAME.json.gz`` (the to_json text, gzipped) and one record per
  model in ``tests/data/keras_apps.json.gz``;
* random Sequential and Functional models (seeded; branches merged by Add, Concatenate
  and Multiply, shared layers, a nested Sequential, frozen layers):
  ``tests/data/keras_models.jsonl.gz``, each record holding its to_json text;
* a real ``.keras`` archive of a small model: ``tests/data/keras_small.keras``;
* the docs' example, a small residual network: ``examples/keras_model.json``.

    KERAS_BACKEND=jax /work/tvenv/bin/python tests/vectors/keras_models.py [NAME…]

The runs that made the files took Keras 3.15.1 on JAX (CPU). Applications whose input size is not fixed (input_shape=None) are measured at their
default size, which the record gives as ``input``; the JSON is the one the default
build writes."""

from __future__ import annotations

import gzip
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
from keras import layers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
APPS = DATA / "keras_apps"


def _shape(t: object) -> list[int | None]:
    return list(t.shape[1:])  # type: ignore[attr-defined]


def _layer_shapes(model: keras.Model) -> dict[str, list[int | None]]:
    """Each layer's output shape (without the batch), as model.summary() shows it;
    a layer called more than once (shared) is left out."""
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or len(layer._inbound_nodes) != 1:
            continue
        tensors = layer.output
        if isinstance(tensors, (list, tuple)):
            continue
        out[layer.name] = _shape(tensors)
    return out


def _record(model: keras.Model) -> dict[str, object]:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {
        "params": model.count_params(),
        "trainable": trainable,
        "output": _shape(model.outputs[0]),
        "layers": _layer_shapes(model),
    }


def applications(names: list[str]) -> None:
    APPS.mkdir(exist_ok=True)
    # KERAS_APPS_INDEX: another file, for runs side by side (merged afterwards).
    index = Path(os.environ.get("KERAS_APPS_INDEX", DATA / "keras_apps.json.gz"))
    for name in names:
        print(name, file=sys.stderr, flush=True)
        keras.backend.clear_session()
        model = getattr(keras.applications, name)(weights=None)
        text = model.to_json()
        record = {"keras": keras.__version__, "input": _shape(model.inputs[0]), **_record(model)}
        if None in record["input"]:  # measured at the default size
            size = model.inputs[0].shape[1:]
            fixed = [224 if s is None else s for s in size]
            keras.backend.clear_session()
            sized = getattr(keras.applications, name)(weights=None, input_shape=tuple(fixed))
            record = {**record, **_record(sized), "input": fixed, "params": record["params"]}
        # Fixed mtime: the same bytes on every run.
        with gzip.GzipFile(APPS / f"{name}.json.gz", "wb", mtime=0) as fh:
            fh.write(text.encode())
        # Read again before writing: another run may be writing other models.
        records = json.loads(gzip.decompress(index.read_bytes())) if index.exists() else {}
        records[name] = record
        with gzip.GzipFile(index, "wb", mtime=0) as fh:
            fh.write((json.dumps(records, indent=1, sort_keys=True) + "\n").encode())


# -- random models


def _conv(rng: random.Random, c: int) -> layers.Layer:
    kind = rng.choice(["conv", "conv", "dw", "sep", "convgroups"])
    k = rng.choice([1, 3, 5])
    s = rng.choice([1, 1, 2])
    pad = rng.choice(["same", "valid"])
    bias = rng.random() < 0.6
    act = rng.choice([None, "relu", "swish"])
    if kind == "dw":
        return layers.DepthwiseConv2D(
            k, s, pad, depth_multiplier=rng.choice([1, 2]), use_bias=bias, activation=act
        )
    if kind == "sep":
        return layers.SeparableConv2D(rng.choice([4, 8, 12]), k, s, pad, use_bias=bias)
    if kind == "convgroups" and c % 2 == 0:
        return layers.Conv2D(2 * rng.choice([2, 4]), k, s, pad, groups=2, use_bias=bias)
    return layers.Conv2D(
        rng.choice([4, 8, 16]), k, s, pad, use_bias=bias, activation=act, dilation_rate=1
    )


def _shape_keeping(rng: random.Random) -> layers.Layer:
    return rng.choice(
        [
            lambda: layers.BatchNormalization(center=rng.random() < 0.8),
            lambda: layers.Activation(rng.choice(["relu", "sigmoid", "gelu", "hard_silu"])),
            lambda: layers.ReLU(rng.choice([None, 6.0])),
            lambda: layers.Dropout(0.2),
            lambda: layers.LayerNormalization(),
            lambda: layers.Rescaling(1 / 255.0),
            lambda: layers.LeakyReLU(),
        ]
    )()


def _spatial(rng: random.Random) -> layers.Layer:
    return rng.choice(
        [
            lambda: layers.MaxPooling2D(rng.choice([2, 3]), padding=rng.choice(["same", "valid"])),
            lambda: layers.AveragePooling2D(2, strides=1, padding="same"),
            lambda: layers.ZeroPadding2D(rng.choice([1, ((0, 1), (1, 2))])),
            lambda: layers.Cropping2D(1),
        ]
    )()


def _head(rng: random.Random) -> list[layers.Layer]:
    choice = rng.choice(["gap", "flatten", "gapkeep", "gmp"])
    if choice == "gap":
        out = [layers.GlobalAveragePooling2D()]
    elif choice == "gmp":
        out = [layers.GlobalMaxPooling2D()]
    elif choice == "gapkeep":
        out = [layers.GlobalAveragePooling2D(keepdims=True), layers.Flatten()]
    else:
        out = [layers.Flatten()]
    if rng.random() < 0.5:
        out.append(layers.Dense(rng.choice([8, 16]), activation="relu"))
    return [*out, layers.Dense(rng.choice([3, 10]), activation="softmax")]


def sequential(rng: random.Random, i: int) -> keras.Model:
    size = rng.choice([16, 20, 24])
    c = rng.choice([1, 3])
    stack: list[layers.Layer] = [keras.Input((size, size, c))]
    h = w = size
    for _ in range(rng.randint(2, 6)):
        pick = rng.random()
        if pick < 0.45 and min(h, w) >= 6:
            stack.append(_conv(rng, c))
        elif pick < 0.75:
            stack.append(_shape_keeping(rng))
        elif min(h, w) >= 6:
            stack.append(_spatial(rng))
        if len(stack) > 1:
            h, w, c = stack[-1].compute_output_shape((None, h, w, c))[1:]
    if rng.random() < 0.3:
        head = [layers.Reshape((h * w, c)), layers.Dense(4), layers.Flatten(), layers.Dense(3)]
    else:
        head = _head(rng)
    model = keras.Sequential([*stack, *head], name=f"seq{i}")
    if rng.random() < 0.3:
        model.layers[0].trainable = False
    return model


def functional(rng: random.Random, i: int) -> keras.Model:
    size = rng.choice([16, 24])
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same")(inp)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["add", "concat", "mul", "shared", "gate", "nested"])
        if kind == "shared":  # one layer called twice: its weights count once
            shared = layers.Conv2D(rng.choice([4, 8]), 3, padding="same")
            a = shared(x)
            b = shared(layers.BatchNormalization()(x))
            x = layers.Add()([a, b])
        elif kind == "gate":
            g = layers.GlobalAveragePooling2D(keepdims=True)(x)
            g = layers.Conv2D(x.shape[-1], 1, activation="sigmoid")(g)
            x = layers.Multiply()([x, g])
        elif kind == "nested":  # a Sequential model as a layer
            c = x.shape[-1]
            inner = keras.Sequential(
                [layers.Conv2D(c, 3, padding="same"), layers.BatchNormalization()]
            )
            x = layers.Add()([x, inner(x)])
        elif kind == "concat":
            a = layers.Conv2D(rng.choice([4, 8]), 1)(x)
            b = layers.DepthwiseConv2D(3, padding="same")(x)
            x = layers.Concatenate()([a, b, x] if rng.random() < 0.5 else [b, a])
        else:
            merge = {"add": layers.Add, "mul": layers.Multiply}[kind]
            a = layers.Conv2D(x.shape[-1], 3, padding="same")(x)
            b = layers.BatchNormalization()(a)
            x = merge()([x, b]) if rng.random() < 0.5 else merge()([b, x])
        if rng.random() < 0.4:
            x = layers.MaxPooling2D(2)(x)
    out = x
    for layer in _head(rng):
        out = layer(out)
    model = keras.Model(inp, out, name=f"fn{i}")
    if rng.random() < 0.3:
        model.layers[1].trainable = False
    return model


def random_models() -> None:
    rng = random.Random(17)
    rows = []
    for i in range(30):
        keras.backend.clear_session()
        model = sequential(rng, i) if i % 2 == 0 else functional(rng, i)
        rows.append(
            {
                "id": model.name,
                "kind": type(model).__name__,
                "input": _shape(model.inputs[0]),
                **_record(model),
                "json": model.to_json(),
            }
        )
    lines = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    with gzip.GzipFile(DATA / "keras_models.jsonl.gz", "wb", mtime=0) as fh:
        fh.write(lines.encode())
    keras.backend.clear_session()
    small = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)],
        name="small",
    )
    small.save(DATA / "keras_small.keras")


def example() -> None:
    """examples/keras_model.json, the docs' example: a small residual network."""
    keras.backend.clear_session()
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    y = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_a")(x)
    y = layers.Conv2D(16, 3, padding="same", name="conv_b")(y)
    x = layers.Add(name="residual")([x, y])
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(10, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs, name="resnet_tiny")
    text = json.dumps(json.loads(model.to_json()), indent=1) + "\n"
    (ROOT / "examples" / "keras_model.json").write_text(text)
    print(f"example: {model.count_params()} params, output {model.outputs[0].shape}")


def main() -> None:
    names = sys.argv[1:]
    if not names or "random" in names:
        random_models()
        example()
    apps = [n for n in names if n != "random"] or (
        [] if names else sorted(n for n in dir(keras.applications) if n[0].isupper())
    )
    applications(apps)


if __name__ == "__main__":
    main()
