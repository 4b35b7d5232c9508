"""Generate convcalc's Keras test vectors by running Keras 3 itself (JAX backend, CPU).

Re-run from the repository root (deterministic: the same rows on every run)::

    KERAS_BACKEND=jax /path/to/venv-with-keras/bin/python tests/vectors/keras_vectors.py

It needs keras (written against 3.15, backend jax 0.10) and numpy, and writes

* ``tests/data/keras_cases.jsonl`` — random single layers, random chains (each one a
  ``keras.Sequential`` model), small functional graphs, and the networks the README
  and examples/frameworks show (``"documented": true``):
  ``{"id", "spec", "input", "layers": [{"output", "params", "trainable"}, ...],
  "error": null | {"layer", "type", "message"}, "model": null | {"params", "trainable",
  "non_trainable", "output"}, "eager": null | [...]}``. Shapes exclude the batch and are
  channels last; ``layers`` holds the layers Keras built before the error (1-based
  ``error.layer``); ``model`` is what ``keras.Sequential([Input, *layers])`` reports —
  ``model.count_params()``, the sizes of ``trainable_weights`` and
  ``non_trainable_weights``, and ``output_shape`` — for every accepted chain;
  ``eager`` is the shape of an actual forward pass on zeros where it differs from the
  symbolic one (``"crash"`` where XLA aborted the process: those cases are checked
  against the symbolic shapes only). A model that builds but whose forward pass fails
  is a rejection too (``error.when`` = ``"forward"``; the layer is found by running its
  prefixes). Forward passes run in a worker process, restarted after a crash.
* ``tests/data/keras_rf.jsonl`` — receptive fields measured with jax.grad through Keras
  convolutions and average pools of ones: the output element at ``probe`` depends on
  the input indices ``span[i] = [first, last]``.

How a case runs: ``x = keras.Input(shape)``; each layer is constructed (an exception
there is a rejection) and called on the symbolic tensor (so is an exception there);
its output shape, ``count_params()`` and trainable weight count are recorded. Each
spec is written in convcalc's language in a random one of its equivalent spellings —
Keras class names and convcalc's words, Keras argument names and convcalc's short
keys, tuple styles, flags — and always means exactly the keras.layers object that
produced its numbers (keras_layers.py builds the two together).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np
from keras import layers as L
from keras.src import initializers
from keras.src.initializers import constant_initializers, random_initializers


def _cheap_initializers() -> None:
    """Weights made with numpy: JAX would compile a random initializer for every new
    weight shape (50 ms each), and the values never matter here — but for the
    receptive fields, whose kernels are ones."""

    def zeros(self: Any, shape: Any, dtype: Any = None) -> Any:
        return np.zeros(shape, "float32")

    def ones(self: Any, shape: Any, dtype: Any = None) -> Any:
        return np.ones(shape, "float32")

    for module in (constant_initializers, random_initializers):
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, initializers.Initializer):
                obj.__call__ = ones if obj is constant_initializers.Ones else zeros  # type: ignore[method-assign]


_cheap_initializers()

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from keras_layers import ACTIVATION_KINDS, ACTIVATIONS, BUILDERS, KLayer  # noqa: E402
from spelling import Spell, dump  # noqa: E402

ROOT = HERE.parents[1]
CASES_PATH = ROOT / "tests" / "data" / "keras_cases.jsonl"
RF_PATH = ROOT / "tests" / "data" / "keras_rf.jsonl"
SEED = 20260107

# Single layers per family: (family, count).
PLAN = [
    ("conv", 800),
    ("convt", 450),
    ("depthwise", 300),
    ("separable", 300),
    ("pool", 550),
    ("global", 150),
    ("zeropad", 220),
    ("crop", 220),
    ("upsample", 160),
    ("dense", 220),
    ("flatten", 40),
    ("reshape", 160),
    ("dropout", 80),
    ("activation", 260),
    ("act_layer", 150),
    ("prelu", 90),
    ("batchnorm", 200),
    ("layernorm", 160),
]
CHAINS = 900
GRAPHS = 120
RF_CASES = 300
LMAX = {1: 24, 2: 16, 3: 8}
EAGER_LIMIT = 40_000  # run the forward pass too when the input has at most this many values


# A set of words in a message ({'same', 'valid'}): Python's hash order varies by run.
_SET = re.compile(r"\{('[^'{}]*'(?:, '[^'{}]*')+)\}")


def _message(exc: BaseException) -> str:
    text = str(exc).replace("\x1b[1m", "").replace("\x1b[0m", "")
    text = _SET.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)
    return " ".join(text.split())[:300]


def _weights(ws: list[Any]) -> int:
    return int(sum(int(np.prod(w.shape)) for w in ws))


def random_shape(rng: random.Random, ranks: tuple[int, ...] | None) -> tuple[int, ...]:
    n = rng.choice(ranks if ranks else (0, 1, 2, 3))
    channels = rng.choice([1, 2, 3, 4, 6, 8, 16])
    if n == 0:
        return (rng.randint(1, 64),)
    small = rng.random() < 0.2
    return (*(rng.randint(1, 4 if small else LMAX[n]) for _ in range(n)), channels)


def _forward(shape: tuple[int, ...], layers: list[KLayer]) -> tuple[Any, ...]:
    """A forward pass on zeros through ``keras.Sequential([Input, *layers])``:
    ("ok", output shape) or ("error", layer, type, message) — the layer found by
    running the model's prefixes."""
    model = keras.Sequential([keras.Input(shape), *(layer.make() for layer in layers)])
    try:
        out = model(np.zeros((1, *shape), "float32"))
        return ("ok", [int(v) for v in out.shape[1:]])
    except Exception as exc:  # the symbolic model built, the forward pass failed
        failed = exc
    for i in range(1, len(layers) + 1):
        prefix = keras.Sequential([keras.Input(shape), *(layer.make() for layer in layers[:i])])
        try:
            prefix(np.zeros((1, *shape), "float32"))
        except Exception as exc:
            return ("error", i, type(exc).__name__, _message(exc))
    return ("error", len(layers), type(failed).__name__, _message(failed))


def _worker(conn: Any) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        shape, specs = job
        layers = [KLayer("", "", cls, args, kwargs) for cls, args, kwargs in specs]
        conn.send(_forward(shape, layers))


class Forward:
    """Forward passes in a worker process. XLA aborts the whole process on a few
    configurations (a Conv3DTranspose with padding='same' and output_padding on a
    size-1 axis): such a case is recorded as a crash and the worker restarted."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.crashes = 0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()

    def run(self, shape: tuple[int, ...], layers: list[KLayer]) -> tuple[Any, ...]:
        self.conn.send((shape, [(lay.cls, lay.args, lay.kwargs) for lay in layers]))
        try:
            if self.conn.poll(600):
                return tuple(self.conn.recv())
        except EOFError:
            pass
        self.proc.kill()
        self.proc.join()
        self.crashes += 1
        self._start()
        return ("crash",)

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join()


FORWARD: Forward | None = None


def run(shape: tuple[int, ...], layers: list[KLayer]) -> dict[str, Any]:
    """Build the layers one by one on a symbolic input, recording what Keras says;
    then the whole model and a forward pass through it."""
    x = keras.Input(shape)
    rows: list[dict[str, Any]] = []
    error = None
    for i, layer in enumerate(layers, start=1):
        try:
            obj = layer.make()
            y = obj(x)
        except Exception as exc:  # a rejection: construction or call
            error = {"layer": i, "type": type(exc).__name__, "message": _message(exc)}
            break
        rows.append(
            {
                "output": [int(v) for v in y.shape[1:]],
                "params": int(obj.count_params()),
                "trainable": _weights(obj.trainable_weights),
            }
        )
        x = y
    row: dict[str, Any] = {"layers": rows, "error": error, "model": None, "eager": None}
    if error is not None:
        # A layer before it may fail when run (Keras checks some arguments only then).
        i = error["layer"]
        if i > 1 and int(np.prod(shape)) <= EAGER_LIMIT:
            assert FORWARD is not None
            result = FORWARD.run(shape, layers[: i - 1])
            if result[0] == "error":
                _, j, kind, message = result
                error = {"layer": j, "type": kind, "message": message, "when": "forward"}
                return {"layers": rows[: j - 1], "error": error, "model": None, "eager": None}
        return row
    model = keras.Sequential([keras.Input(shape), *(layer.make() for layer in layers)])
    row["model"] = {
        "params": int(model.count_params()),
        "trainable": _weights(model.trainable_weights),
        "non_trainable": _weights(model.non_trainable_weights),
        "output": [int(v) for v in model.output_shape[1:]],
    }
    if int(np.prod(shape)) > EAGER_LIMIT:
        return row
    assert FORWARD is not None
    result = FORWARD.run(shape, layers)
    if result[0] == "crash":
        row["eager"] = "crash"
    elif result[0] == "ok":
        if result[1] != row["model"]["output"]:
            row["eager"] = result[1]
    else:
        _, i, kind, message = result
        error = {"layer": i, "type": kind, "message": message, "when": "forward"}
        return {"layers": rows[: i - 1], "error": error, "model": None, "eager": None}
    return row


def singles(rng: random.Random, sp: Spell) -> list[tuple[str, tuple[int, ...], list[KLayer]]]:
    # Every activation once under its own name and once as Activation NAME.
    out = []
    for name in ACTIVATIONS:
        shape = random_shape(rng, None)
        if name in ACTIVATION_KINDS:
            out.append(("activation", shape, [KLayer("activation", name, "Activation", (name,))]))
        text = f"Activation {name}"
        out.append(("activation", shape, [KLayer("activation", text, "Activation", (name,))]))
    for family, count in PLAN:
        builder, ranks = BUILDERS[family]
        for _ in range(count):
            shape = random_shape(rng, ranks)
            out.append((family, shape, [builder(rng, sp, shape)]))
    return out


# Families that keep a spatial layout, and the ones that may end a chain's map.
SPATIAL_FAMILIES = [
    "conv", "conv", "conv", "convt", "depthwise", "separable", "pool", "pool", "zeropad",
    "crop", "upsample", "batchnorm", "activation", "act_layer", "dropout", "layernorm", "prelu",
]  # fmt: skip
FLAT_FAMILIES = ["dense", "dense", "activation", "dropout", "batchnorm", "layernorm", "reshape"]


def _next_shape(shape: tuple[int, ...], layer: KLayer) -> tuple[int, ...] | None:
    """The shape Keras gives (None if it rejects), to steer the chain."""
    try:
        x = keras.Input(shape)
        y = layer.make()(x)
        return tuple(int(v) for v in y.shape[1:])
    except Exception:
        return None


def chain(rng: random.Random, sp: Spell) -> tuple[tuple[int, ...], list[KLayer]]:
    shape = random_shape(rng, (1, 2, 3) if rng.random() < 0.9 else None)
    layers: list[KLayer] = []
    current: tuple[int, ...] | None = shape
    for _ in range(rng.randint(2, 7)):
        assert current is not None
        n = len(current) - 1
        if 1 <= n <= 3:
            family = rng.choice([*SPATIAL_FAMILIES, "global", "flatten"])
        else:
            family = rng.choice(FLAT_FAMILIES)
        builder, ranks = BUILDERS[family]
        if ranks is not None and n not in ranks:
            family, (builder, ranks) = "conv", BUILDERS["conv"]
        layer = builder(rng, sp, current)
        while "glu" in (*layer.args, *layer.kwargs.values()):
            # Keras's symbolic shape of glu is not the one its forward pass makes: a
            # layer built on it fails. glu stays in the single-layer cases.
            layer = builder(rng, sp, current)
        layers.append(layer)
        current = _next_shape(current, layer)
        if current is None or 0 in current:
            break
    return shape, layers


def graph(rng: random.Random, sp: Spell) -> tuple[str, tuple[int, ...], Any]:
    """A small functional network written with convcalc's graph statements: a
    residual block, an inception-style concat, or a squeeze-and-excitation gate.
    Returns (spec, input shape, a function building the Keras output from the input)."""
    h, w = rng.randint(3, 12), rng.randint(3, 12)
    cin = rng.choice([2, 3, 4, 8])
    shape = (h, w, cin)
    kind = rng.choice(["residual", "concat", "gate"])
    f = rng.choice([cin, cin, 4, 8])
    if kind == "residual":
        pad = "same" if rng.random() < 0.85 else "valid"
        proj = f != cin or rng.random() < 0.3
        spec = (
            f"as x Conv2D {f} 3 padding={pad} BatchNormalization ReLU Conv2D {f} 3 padding=same "
            f"as y from x {f'Conv2D {f} 1 ' if proj else ''}add y"
        )

        def build(x: Any) -> Any:
            y = L.Conv2D(f, 3, padding=pad)(x)
            y = L.ReLU()(L.BatchNormalization()(y))
            y = L.Conv2D(f, 3, padding="same")(y)
            s = L.Conv2D(f, 1)(x) if proj else x
            return L.Add()([s, y])

    elif kind == "concat":
        axis = rng.choice([None, None, -1, 3, 1, 2])
        pad = "same" if rng.random() < 0.8 else "valid"
        f2 = rng.choice([2, 4, 6])
        key = "" if axis is None else f" {rng.choice(['axis', 'dim'])}={axis}"
        spec = (
            f"as x conv2d {f} 1 as a from x conv2d {f2} 3 padding={pad} as b "
            f"from x MaxPooling2D 3 strides=1 padding=same concat a b{key}"
        )

        def build(x: Any) -> Any:
            a = L.Conv2D(f, 1)(x)
            b = L.Conv2D(f2, 3, padding=pad)(x)
            c = L.MaxPooling2D(3, strides=1, padding="same")(x)
            return L.Concatenate(axis=-1 if axis is None else axis)([c, a, b])

    else:
        r = rng.choice([1, 2, 4])
        keep = rng.random() < 0.8
        spec = (
            f"as x GlobalAveragePooling2D keepdims={'true' if keep else 'false'} "
            f"Dense {r} activation=relu Dense {cin} activation=sigmoid mul x"
        )

        def build(x: Any) -> Any:
            g = L.GlobalAveragePooling2D(keepdims=keep)(x)
            g = L.Dense(cin, activation="sigmoid")(L.Dense(r, activation="relu")(g))
            return L.Multiply()([g, x])

    return spec, shape, build


def run_graph(spec: str, shape: tuple[int, ...], build: Any) -> dict[str, Any]:
    x = keras.Input(shape)
    try:
        y = build(x)
        model = keras.Model(x, y)
    except Exception as exc:
        return {"model": None, "error": {"type": type(exc).__name__, "message": _message(exc)}}
    return {
        "model": {
            "params": int(model.count_params()),
            "trainable": _weights(model.trainable_weights),
            "non_trainable": _weights(model.non_trainable_weights),
            "output": [int(v) for v in y.shape[1:]],
        },
        "error": None,
    }


def rf_case(rng: random.Random) -> dict[str, Any]:
    """A chain of convolutions and average pools of ones on one channel; the input
    elements one output element depends on, by jax.grad."""
    n = rng.choice([1, 2])
    size = [rng.randint(12, 40) for _ in range(n)]
    texts, made = [], []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "pool", "zeropad", "crop"])
        if kind == "conv":
            k = rng.randint(1, 5)
            pad = rng.choice(["valid", "same", "same"] + (["causal"] if n == 1 else []))
            s, d = (rng.randint(1, 3), 1) if rng.random() < 0.6 else (1, rng.randint(1, 3))
            texts.append(
                f"Conv{n}D 1 {k} strides={s} padding={pad} dilation_rate={d} use_bias=false"
            )
            cls = (L.Conv1D, L.Conv2D)[n - 1]
            made.append(cls(1, k, strides=s, padding=pad, dilation_rate=d, use_bias=False,
                            kernel_initializer="ones"))  # fmt: skip
        elif kind == "pool":
            k, s = rng.randint(1, 4), rng.randint(1, 3)
            pad = rng.choice(["valid", "same"])
            texts.append(f"AveragePooling{n}D {k} strides={s} padding={pad}")
            made.append((L.AveragePooling1D, L.AveragePooling2D)[n - 1](k, strides=s, padding=pad))
        elif kind == "zeropad":
            a, b = rng.randint(0, 2), rng.randint(0, 2)
            texts.append(
                f"ZeroPadding{n}D {a},{b}" if n == 1 else f"ZeroPadding2D (({a},{b}),({b},{a}))"
            )
            made.append(L.ZeroPadding1D((a, b)) if n == 1 else L.ZeroPadding2D(((a, b), (b, a))))
        else:
            a = rng.randint(0, 2)
            texts.append(f"Cropping{n}D {a},0" if n == 1 else f"Cropping2D (({a},0),(0,{a}))")
            made.append(L.Cropping1D((a, 0)) if n == 1 else L.Cropping2D(((a, 0), (0, a))))
    shape = (*size, 1)
    try:
        model = keras.Sequential([keras.Input(shape), *made])
        out_shape = model.output_shape[1:-1]
    except Exception:
        return {}
    if 0 in out_shape:
        return {}
    # Mostly a middle output, whose field is likeliest to lie inside the input.
    probe = [o // 2 if rng.random() < 0.7 else rng.randrange(o) for o in out_shape]
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    def pick(x: Any) -> Any:
        y, _ = model.stateless_call(tv, ntv, x)
        return y[(0, *probe, 0)]

    grad = np.asarray(jax.grad(pick)(np.ones((1, *shape), "float32")))[0, ..., 0]
    span = []
    for axis in range(n):
        other = tuple(i for i in range(n) if i != axis)
        hit = np.nonzero(np.abs(grad).sum(axis=other) if other else np.abs(grad))[0]
        if len(hit) == 0:
            return {}
        span.append([int(hit[0]), int(hit[-1])])
    return {"spec": "; ".join(texts), "input": list(shape), "probe": probe, "span": span}


def _doc(text: str, cls: str, *args: Any, **kwargs: Any) -> KLayer:
    return KLayer("documented", text, cls, args, kwargs)


# The networks the README and examples/frameworks show: (spec, input, layers).
CIFAR10 = (ROOT / "examples" / "frameworks" / "keras_cifar10.spec").read_text(encoding="utf-8")
DOCUMENTED = [
    (
        CIFAR10,
        (32, 32, 3),
        [
            _doc("", "Conv2D", 32, 3, padding="same", activation="relu"),
            _doc("", "Conv2D", 32, 3, activation="relu"),
            _doc("", "MaxPooling2D"),
            _doc("", "Dropout", 0.25),
            _doc("", "Conv2D", 64, 3, padding="same", activation="relu"),
            _doc("", "Conv2D", 64, 3, activation="relu"),
            _doc("", "MaxPooling2D"),
            _doc("", "Dropout", 0.25),
            _doc("", "Flatten"),
            _doc("", "Dense", 512, activation="relu"),
            _doc("", "Dropout", 0.5),
            _doc("", "Dense", 10, activation="softmax"),
        ],
    ),
    (
        "Conv2D 32 3 strides=2 padding=same use_bias=false BatchNormalization ReLU "
        "DepthwiseConv2D 3 padding=same use_bias=false BatchNormalization ReLU "
        "Conv2D 64 1 use_bias=false BatchNormalization ReLU GlobalAveragePooling2D Dense 10",
        (224, 224, 3),
        [
            _doc("", "Conv2D", 32, 3, strides=2, padding="same", use_bias=False),
            _doc("", "BatchNormalization"),
            _doc("", "ReLU"),
            _doc("", "DepthwiseConv2D", 3, padding="same", use_bias=False),
            _doc("", "BatchNormalization"),
            _doc("", "ReLU"),
            _doc("", "Conv2D", 64, 1, use_bias=False),
            _doc("", "BatchNormalization"),
            _doc("", "ReLU"),
            _doc("", "GlobalAveragePooling2D"),
            _doc("", "Dense", 10),
        ],
    ),
    (
        "Conv2DTranspose 16 3 strides=2 padding=same",
        (7, 7, 8),
        [_doc("", "Conv2DTranspose", 16, 3, strides=2, padding="same")],
    ),
    (
        "Conv2DTranspose 16 3 strides=2 padding=same output_padding=1",
        (7, 7, 8),
        [_doc("", "Conv2DTranspose", 16, 3, strides=2, padding="same", output_padding=1)],
    ),
    ("Conv1D 1 2 padding=same", (6, 1), [_doc("", "Conv1D", 1, 2, padding="same")]),
    ("MaxPooling2D 3", (7, 7, 1), [_doc("", "MaxPooling2D", 3)]),
    ("BatchNormalization", (7, 7, 64), [_doc("", "BatchNormalization")]),
]


# Corners the random draws may miss, each once: (spec, input, layers).
PINNED = [
    ("ZeroPadding2D -1", (5, 5, 3), [_doc("", "ZeroPadding2D", -1)]),
    ("ZeroPadding3D -1", (5, 5, 5, 3), [_doc("", "ZeroPadding3D", -1)]),
    ("ZeroPadding1D -1", (5, 3), [_doc("", "ZeroPadding1D", -1)]),
    ("Conv2DTranspose 4 2 strides=2 padding=same output_padding=0", (1, 5, 3), [
        _doc("", "Conv2DTranspose", 4, 2, strides=2, padding="same", output_padding=0)
    ]),
    ("Activation glu", (4, 3), [_doc("", "Activation", "glu")]),
    ("DepthwiseConv2D 3 strides=2 dilation_rate=2", (9, 9, 2), [
        _doc("", "DepthwiseConv2D", 3, strides=2, dilation_rate=2)
    ]),
    ("SeparableConv2D 4 3 strides=2 dilation_rate=2", (9, 9, 2), [
        _doc("", "SeparableConv2D", 4, 3, strides=2, dilation_rate=2)
    ]),
    ("Conv2DTranspose 4 3 strides=2 dilation_rate=2", (5, 5, 2), [
        _doc("", "Conv2DTranspose", 4, 3, strides=2, dilation_rate=2)
    ]),
    ("Conv2D 4 3 padding=causal", (9, 9, 2), [_doc("", "Conv2D", 4, 3, padding="causal")]),
    ("Conv1D 4 3 strides=2 padding=causal dilation_rate=1", (9, 2), [
        _doc("", "Conv1D", 4, 3, strides=2, padding="causal", dilation_rate=1)
    ]),
    ("MaxPooling2D 2 strides=0", (6, 6, 1), [_doc("", "MaxPooling2D", 2, strides=0)]),
    ("AveragePooling2D", (6, 6, 1), [_doc("", "AveragePooling2D")]),
    ("Cropping2D 2,0", (4, 4, 1), [_doc("", "Cropping2D", (2, 0))]),
    ("UpSampling1D 0", (4, 1), [_doc("", "UpSampling1D", 0)]),
    ("BatchNormalization axis=1", (5, 4, 3), [_doc("", "BatchNormalization", axis=1)]),
    ("LayerNormalization axis=(1,2) rms_scaling=true", (5, 4, 3), [
        _doc("", "LayerNormalization", axis=(1, 2), rms_scaling=True)
    ]),
    ("Dense 7 use_bias=false", (5, 4, 3), [_doc("", "Dense", 7, use_bias=False)]),
    ("Dropout 1.5", (4,), [_doc("", "Dropout", 1.5)]),
    ("Activation threshold", (4,), [_doc("", "Activation", "threshold")]),
    ("PReLU shared_axes=1,2", (5, 4, 3), [_doc("", "PReLU", shared_axes=[1, 2])]),
    ("GlobalMaxPooling1D keepdims=true", (5, 3), [_doc("", "GlobalMaxPooling1D", keepdims=True)]),
    # The kinds a Keras model file may hold (--from-keras): after the others, drawing
    # nothing from the random generator, so the cases above stay as they were.
    ("Rescaling 0.5", (6, 6, 3), [_doc("", "Rescaling", 0.5)]),
    ("rescaling scale=2.0 offset=-1.0", (4, 5), [_doc("", "Rescaling", 2.0, offset=-1.0)]),
    ("Normalization", (6, 6, 3), [_doc("", "Normalization")]),
    ("normalization axis=1", (5, 4, 3), [_doc("", "Normalization", axis=1)]),
    ("Normalization axis=1,3", (5, 4, 3), [_doc("", "Normalization", axis=(1, 3))]),
    ("Normalization axis=-1 mean=1.0 variance=4.0", (7, 2), [
        _doc("", "Normalization", axis=-1, mean=1.0, variance=4.0)
    ]),
    ("Normalization axis=4", (5, 4, 3), [_doc("", "Normalization", axis=4)]),
    ("LayerScale 1e-6 8", (4, 4, 8), [_doc("", "LayerScale", 1e-6, 8)]),
    ("layerscale 0.1 projection_dim=5", (3, 5), [_doc("", "LayerScale", 0.1, 5)]),
]  # fmt: skip


def main() -> None:
    global FORWARD
    FORWARD = Forward()
    start = time.time()
    rng = random.Random(SEED)
    sp = Spell(rng)
    rows: list[dict[str, Any]] = []
    for _family, shape, layers in singles(rng, sp):
        rows.append({"spec": layers[0].text, "input": list(shape), **run(shape, layers)})
    print(f"singles: {len(rows)} in {time.time() - start:.0f} s", flush=True)
    for _ in range(CHAINS):
        shape, layers = chain(rng, sp)
        spec = rng.choice(["\n", "; ", " "]).join(layer.text for layer in layers)
        rows.append({"spec": spec, "input": list(shape), **run(shape, layers)})
    print(f"chains: {len(rows)} in {time.time() - start:.0f} s", flush=True)
    for _ in range(GRAPHS):
        spec, shape, build = graph(rng, sp)
        rows.append(
            {"spec": spec, "input": list(shape), "graph": True, **run_graph(spec, shape, build)}
        )
    for spec, shape, layers in DOCUMENTED:
        rows.append({"spec": spec, "input": list(shape), "documented": True, **run(shape, layers)})
    for spec, shape, layers in PINNED:
        rows.append({"spec": spec, "input": list(shape), "pinned": True, **run(shape, layers)})
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    dump(CASES_PATH, rows)
    rf_rows = []
    while len(rf_rows) < RF_CASES:
        case = rf_case(rng)
        if case:
            rf_rows.append({"id": len(rf_rows) + 1, **case})
    dump(RF_PATH, rf_rows)
    FORWARD.close()
    rejected = sum(1 for r in rows if r["error"] is not None)
    eager = sum(1 for r in rows if r.get("eager"))
    print(
        f"{len(rows)} cases ({rejected} rejected, {eager} eager differences, "
        f"{FORWARD.crashes} crashes), "
        f"{len(rf_rows)} receptive fields, {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
