"""Keras's own constructor calls (issue 17): for each call in CALLS, Keras 3 builds the
layer, runs it on an input and reports its output shape and count_params(); and
every Keras class convcalc reads gives its constructor's arguments, in order, with
how many are required. Writes tests/data/keras_calls.json (tests/kinds/test_keras_calls.py).

    KERAS_BACKEND=jax /work/tvenv/bin/python tests/vectors/keras_calls.py

This script (and only it) evaluates the calls, with Keras itself: convcalc parses them."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
from keras.src.applications import convnext

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "keras_calls.json"

# (input shape without the batch, the call, convcalc's word form of it)
CALLS = [
    (
        (32, 32, 3),
        'Conv2D(64, 3, strides=2, padding="same", activation="relu")',
        "Conv2D 64 3 strides=2 padding=same activation=relu",
    ),
    (
        (32, 32, 3),
        "layers.Conv2D(64, 3, strides=2, padding='same')",
        "Conv2D 64 3 strides=2 padding=same",
    ),
    (
        (32, 32, 3),
        "keras.layers.Conv2D(16, (3, 5), (1, 2), 'valid', None, (1, 1), 1, None, False)",
        "Conv2D 16 k=3,5 strides=1,2 use_bias=false",
    ),
    (
        (20, 4),
        "Conv1D(8, 3, padding='causal', dilation_rate=2)",
        "Conv1D 8 3 padding=causal dilation_rate=2",
    ),
    ((8, 8, 8, 2), "tf.keras.layers.Conv3D(4, 3, groups=2)", "Conv3D 4 3 groups=2"),
    (
        (7, 7, 8),
        "Conv2DTranspose(16, 3, strides=2, padding='same', output_padding=1)",
        "Conv2DTranspose 16 3 strides=2 padding=same output_padding=1",
    ),
    ((10, 4), "Conv1DTranspose(6, 4, 3)", "Conv1DTranspose 6 4 strides=3"),
    (
        (5, 5, 5, 2),
        "Conv3DTranspose(3, 2, 2, 'valid', 'channels_last', 1)",
        "Conv3DTranspose 3 2 strides=2 output_padding=1",
    ),
    (
        (16, 16, 8),
        "DepthwiseConv2D(3, padding='same', depth_multiplier=2, use_bias=False)",
        "DepthwiseConv2D 3 padding=same depth_multiplier=2 use_bias=false",
    ),
    ((16, 4), "DepthwiseConv1D(5, 2)", "DepthwiseConv1D 5 strides=2"),
    (
        (16, 16, 8),
        "SeparableConv2D(32, 3, activation='relu')",
        "SeparableConv2D 32 3 activation=relu",
    ),
    (
        (16, 4),
        "SeparableConv1D(8, 3, depth_multiplier=3)",
        "SeparableConv1D 8 3 depth_multiplier=3",
    ),
    ((9, 9, 3), "MaxPooling2D((2, 2))", "MaxPooling2D 2"),
    ((9, 9, 3), "MaxPool2D(3, 2, 'same')", "MaxPooling2D 3 strides=2 padding=same"),
    ((9, 3), "MaxPooling1D()", "MaxPooling1D"),
    ((6, 6, 6, 2), "MaxPooling3D()", "MaxPooling3D"),
    ((9, 9, 3), "AveragePooling2D(3, strides=1)", "AveragePooling2D 3 strides=1"),
    ((9, 3), "AvgPool1D(2)", "AveragePooling1D 2"),
    ((6, 6, 6, 2), "AveragePooling3D(2, padding='same')", "AveragePooling3D 2 padding=same"),
    ((9, 9, 3), "GlobalAveragePooling2D()", "GlobalAveragePooling2D"),
    ((9, 9, 3), "GlobalMaxPooling2D(keepdims=True)", "GlobalMaxPooling2D keepdims=true"),
    ((9, 3), "GlobalAvgPool1D()", "GlobalAveragePooling1D"),
    ((4, 4, 4, 3), "GlobalMaxPool3D()", "GlobalMaxPooling3D"),
    ((8, 8, 3), "ZeroPadding2D(((1, 2), (3, 4)))", "ZeroPadding2D 1,2,3,4"),
    ((8, 3), "ZeroPadding1D(2)", "ZeroPadding1D 2"),
    ((4, 4, 4, 3), "ZeroPadding3D()", "ZeroPadding3D"),
    ((8, 8, 3), "Cropping2D(((1, 2), (0, 1)))", "Cropping2D 1,2,0,1"),
    ((8, 3), "Cropping1D()", "Cropping1D"),
    ((6, 6, 6, 3), "Cropping3D(1)", "Cropping3D 1"),
    ((8, 8, 3), "UpSampling2D(interpolation='bilinear')", "UpSampling2D interpolation=bilinear"),
    ((8, 3), "UpSampling1D(3)", "UpSampling1D 3"),
    ((4, 4, 4, 3), "UpSampling3D((1, 2, 3))", "UpSampling3D 1,2,3"),
    ((512,), "Dense(10)", "Dense 10"),
    ((7, 12), "Dense(4, 'softmax', False)", "Dense 4 activation=softmax use_bias=false"),
    ((8, 8, 16), "BatchNormalization()", "BatchNormalization"),
    ((8, 8, 16), "BatchNormalization(1, center=False)", "BatchNormalization axis=1 center=false"),
    ((7, 12), "LayerNormalization(epsilon=1e-6)", "LayerNormalization epsilon=1e-6"),
    ((7, 12), "LayerNormalization([1, 2], scale=False)", "LayerNormalization axis=1,2 scale=false"),
    ((64,), "Dropout(0.5)", "Dropout 0.5"),
    ((8, 8, 3), "SpatialDropout2D(0.2)", "SpatialDropout2D 0.2"),
    ((8, 3), "SpatialDropout1D(0.2)", "SpatialDropout1D 0.2"),
    ((4, 4, 4, 3), "SpatialDropout3D(0.2)", "SpatialDropout3D 0.2"),
    ((64,), "Activation('relu')", "Activation relu"),
    ((64,), "ReLU(6.0)", "ReLU max_value=6.0"),
    ((64,), "LeakyReLU(negative_slope=0.2)", "LeakyReLU negative_slope=0.2"),
    ((64,), "LeakyReLU(alpha=0.2)", "LeakyReLU 0.2"),
    ((64,), "ELU(0.5)", "ELU alpha=0.5"),
    ((6, 5), "Softmax(axis=1)", "Softmax axis=1"),
    ((6, 5), "Identity()", "Identity"),
    ((6, 6, 4), "PReLU(shared_axes=[1, 2])", "PReLU shared_axes=1,2"),
    ((6, 6, 4), "PReLU()", "PReLU"),
    ((6, 6, 4), "Flatten()", "Flatten"),
    ((6, 6, 4), "Reshape((36, 4))", "Reshape 36,4"),
    # --from-keras (formats/keras_model.py): preprocessing and keras.applications' own.
    ((8, 8, 3), "Rescaling(0.00392156862745098)", "Rescaling 0.00392156862745098"),
    ((8, 8, 3), "Rescaling([0.5, 0.25, 2.0], offset=-1.0)", "Rescaling 0.5,0.25,2.0 offset=-1.0"),
    ((8, 8, 3), "Normalization()", "Normalization"),
    ((8, 8, 3), "Normalization(axis=(1, 3))", "Normalization axis=1,3"),
    (
        (8, 8, 3),
        "Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0])",
        "Normalization mean=1.0,2.0,3.0 variance=1.0,4.0,9.0",
    ),
    ((8, 8, 16), "LayerScale(1e-6, 16)", "LayerScale 1e-6 16"),
]


# keras.applications' own layer classes a model file names.
APPLICATIONS = {"LayerScale": convnext.LayerScale}


def _build(call: str) -> keras.layers.Layer:
    namespace = {"keras": keras, "layers": keras.layers, **vars(keras.layers), **APPLICATIONS}
    namespace["tf"] = type("tf", (), {"keras": keras})
    return eval(call, namespace)


def main() -> None:
    cases = []
    for shape, call, words in CALLS:
        layer = _build(call)
        x = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
        y = layer(x)
        cases.append(
            {
                "input": list(shape),
                "call": call,
                "words": words,
                "output": list(y.shape[1:]),
                "params": layer.count_params(),
                "trainable": sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
            }
        )
    signatures = {}
    names = sorted({c.split("(")[0].rsplit(".", 1)[-1] for _, c, _ in CALLS})
    extra = [
        "Convolution1D",
        "Convolution2D",
        "Convolution3D",
        "Convolution2DTranspose",
        "SeparableConvolution2D",
        "GlobalAvgPool2D",
        "AvgPool2D",
        "MaxPool1D",
    ]
    for name in sorted({*names, *extra}):
        cls = APPLICATIONS.get(name) or getattr(keras.layers, name)
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        args = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
        required = sum(
            1 for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty
        )
        signatures[name] = {"args": args, "required": required}
    OUT.write_text(
        json.dumps({"keras": keras.__version__, "calls": cases, "signatures": signatures}, indent=1)
        + "\n"
    )
    print(f"{len(cases)} calls, {len(signatures)} signatures -> {OUT}")


if __name__ == "__main__":
    main()
