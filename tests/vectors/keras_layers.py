"""Random Keras layers for keras_vectors.py: each builder takes the channels-last
shape that reaches the layer and returns the layer twice — as convcalc text (in a
random one of its equivalent spellings) and as a function that constructs the
same keras.layers object. Parameters are drawn so that a good share of layers
is rejected by Keras (a kernel larger than the input, strides with dilation,
groups that do not divide, output_padding not below the stride, …)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keras import layers as L
from keras.src.activations import ALL_OBJECTS_DICT
from spelling import Spell

Shape = tuple[int, ...]

# keras.activations' names, from Keras itself, but threshold, which needs arguments
# (keras.activations.get accepts the others alone): threshold is a rejection case.
ACTIVATIONS = sorted(name for name in ALL_OBJECTS_DICT if name != "threshold")
# Bare kind words that mean Activation(name) (relu, softmax and elu are layer classes).
ACTIVATION_KINDS = [a for a in ACTIVATIONS if a not in ("relu", "softmax", "elu")]


@dataclass
class KLayer:
    """A layer as convcalc text and as the keras.layers class and arguments that
    make it (plain data, so that another process can make it too)."""

    family: str
    text: str
    cls: str  # a keras.layers class name
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def make(self) -> Any:
        cls = getattr(L, self.cls, None) or APPLICATION_LAYERS[self.cls]
        return cls(*self.args, **self.kwargs)


def _application_layers() -> dict[str, Any]:
    """keras.applications' own layer classes a model file names (--from-keras)."""
    from keras.src.applications import convnext

    return {"LayerScale": convnext.LayerScale}


APPLICATION_LAYERS = _application_layers()


def _words(n: int, *names: str) -> list[str]:
    return [w.format(n=n) for w in names]


WORDS = {
    "conv": lambda n: _words(n, "Conv{n}D", "conv{n}d", "Convolution{n}D", "conv"),
    "convt": lambda n: _words(
        n,
        "Conv{n}DTranspose",
        "conv{n}dtranspose",
        "Convolution{n}DTranspose",
        "convtranspose{n}d",
        "deconv{n}d",
        "convtranspose",
        "deconv",
    ),
    "dw": lambda n: _words(
        n, "DepthwiseConv{n}D", "depthwiseconv{n}d", "dwconv{n}d", "dwconv", "depthwiseconv"
    ),
    "sep": lambda n: _words(
        n,
        "SeparableConv{n}D",
        "separableconv{n}d",
        "SeparableConvolution{n}D",
        "sepconv{n}d",
        "separableconv",
        "sepconv",
    ),
    "maxpool": lambda n: _words(n, "MaxPooling{n}D", "maxpooling{n}d", "MaxPool{n}D", "maxpool"),
    "avgpool": lambda n: _words(
        n, "AveragePooling{n}D", "averagepooling{n}d", "AvgPool{n}D", "avgpool{n}d", "avgpool"
    ),
    "gap": lambda n: _words(
        n, "GlobalAveragePooling{n}D", "GlobalAvgPool{n}D", "globalavgpool", "gap"
    ),
    "gmp": lambda n: _words(
        n, "GlobalMaxPooling{n}D", "globalmaxpool{n}d", "GlobalMaxPool{n}D", "globalmaxpool", "gmp"
    ),
    "zeropad": lambda n: _words(n, "ZeroPadding{n}D", "zeropadding{n}d", "zeropadding", "zeropad"),
    "crop": lambda n: _words(n, "Cropping{n}D", "cropping{n}d"),
    "upsample": lambda n: _words(n, "UpSampling{n}D", "upsampling{n}d", "upsample"),
}
CLASSES = {
    "conv": (L.Conv1D, L.Conv2D, L.Conv3D),
    "convt": (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose),
    "dw": (L.DepthwiseConv1D, L.DepthwiseConv2D),
    "sep": (L.SeparableConv1D, L.SeparableConv2D),
    "maxpool": (L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D),
    "avgpool": (L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D),
    "gap": (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D),
    "gmp": (L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D),
    "zeropad": (L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D),
    "crop": (L.Cropping1D, L.Cropping2D, L.Cropping3D),
    "upsample": (L.UpSampling1D, L.UpSampling2D, L.UpSampling3D),
}


def _word(rng: random.Random, family: str, n: int) -> str:
    word = rng.choice(WORDS[family](n))
    # A dim-free word takes its dimensions from the input: any spatial rank.
    return word


def _per_dim(rng: random.Random, n: int, lo: int, hi: int, same: float = 0.6) -> list[int]:
    if rng.random() < same:
        return [rng.randint(lo, hi)] * n
    return [rng.randint(lo, hi) for _ in range(n)]


def _kw(value: list[int]) -> int | tuple[int, ...]:
    return value[0] if len(set(value)) == 1 and len(value) == 1 else tuple(value)


def _divisors(c: int) -> list[int]:
    return [d for d in range(1, c + 1) if c % d == 0]


def _act(rng: random.Random, sp: Spell, kw: dict[str, Any], keyed: list[Any]) -> None:
    if rng.random() < 0.2:
        name = rng.choice([a for a in ACTIVATIONS if a != "glu"])
        kw["activation"] = name
        keyed.append((["activation"], name))


def _bias(rng: random.Random, sp: Spell, kw: dict[str, Any], keyed: list[Any]) -> None:
    if rng.random() < 0.4:
        value = rng.random() < 0.5
        kw["use_bias"] = value
        keyed.append((["use_bias", "bias"], sp.boolean(value)))


def _padding(
    rng: random.Random, sp: Spell, kw: dict[str, Any], keyed: list[Any], words: list[str]
) -> None:
    value = rng.choice(words)
    if value == "valid" and rng.random() < 0.4:
        return  # the default
    kw["padding"] = value
    keyed.append((["padding", "p", ""], value))


def _spatial(shape: Shape) -> tuple[int, Shape, int]:
    return len(shape) - 1, shape[:-1], shape[-1]


def _kernel(rng: random.Random, n: int, spatial: Shape) -> list[int]:
    if rng.random() < 0.1:
        return [rng.randint(1, max(spatial) + 3) for _ in range(n)]
    return _per_dim(rng, n, 1, 5)


def _strides_dilation(rng: random.Random, n: int) -> tuple[list[int], list[int]]:
    s = [1] * n if rng.random() < 0.5 else _per_dim(rng, n, 1, 3)
    d = [1] * n
    if rng.random() < 0.3:
        d = _per_dim(rng, n, 1, 3)
        if max(s) > 1 and rng.random() < 0.6:
            s = [1] * n  # mostly a legal combination; otherwise Keras rejects it
    return s, d


def conv(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n, spatial, cin = _spatial(shape)
    k = _kernel(rng, n, spatial)
    s, d = _strides_dilation(rng, n)
    groups = 1
    if rng.random() < 0.25:
        groups = rng.choice(_divisors(cin)) if rng.random() < 0.8 else rng.randint(2, 4)
    filters = groups * rng.randint(1, 4)
    if rng.random() < 0.03:
        filters = rng.choice([0, groups + 1])
    kw: dict[str, Any] = {"kernel_size": _kw(k)}
    keyed: list[Any] = []
    if max(s) > 1 or rng.random() < 0.2:
        kw["strides"] = _kw(s)
        keyed.append((["strides", "s"], sp.ints(s)))
    words = ["valid", "same"] + (["causal"] if n == 1 else [])
    if n > 1 and rng.random() < 0.02:
        words = ["causal"]
    _padding(rng, sp, kw, keyed, words)
    if max(d) > 1 or rng.random() < 0.1:
        kw["dilation_rate"] = _kw(d)
        keyed.append((["dilation_rate", "d"], sp.ints(d)))
    if groups != 1 or rng.random() < 0.1:
        kw["groups"] = groups
        keyed.append((["groups", "g"], str(groups)))
    _bias(rng, sp, kw, keyed)
    _act(rng, sp, kw, keyed)
    positional = [str(filters)]
    if rng.random() < 0.5:
        positional.append(sp.ints(k))
    else:
        keyed.append((["kernel_size", "k"], sp.ints(k)))
    if rng.random() < 0.15:
        keyed.append((["filters"], positional.pop(0)))
        if len(positional) == 1:
            keyed.append((["kernel_size", "k"], positional.pop()))
    cls = CLASSES["conv"][n - 1]
    text = sp.layer(_word(rng, "conv", n), positional, keyed)
    return KLayer("conv", text, cls.__name__, (filters,), kw)


def convt(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n = len(shape) - 1
    k = _per_dim(rng, n, 1, 5)
    s, d = _strides_dilation(rng, n)
    filters = rng.randint(1, 6)
    kw: dict[str, Any] = {"kernel_size": _kw(k)}
    keyed: list[Any] = [(["kernel_size", "k"], sp.ints(k))]
    if max(s) > 1 or rng.random() < 0.2:
        kw["strides"] = _kw(s)
        keyed.append((["strides", "s"], sp.ints(s)))
    _padding(rng, sp, kw, keyed, ["valid", "same"])
    if rng.random() < 0.4:
        op = [rng.randint(0, max(si - 1, 0)) for si in s]
        if rng.random() < 0.15:
            op = [rng.randint(0, si) for si in s]
        kw["output_padding"] = _kw(op)
        keyed.append((["output_padding", "op"], sp.ints(op)))
    if max(d) > 1 or rng.random() < 0.1:
        kw["dilation_rate"] = _kw(d)
        keyed.append((["dilation_rate", "d"], sp.ints(d)))
    _bias(rng, sp, kw, keyed)
    cls = CLASSES["convt"][n - 1]
    text = sp.layer(_word(rng, "convt", n), [str(filters)], keyed)
    return KLayer("convt", text, cls.__name__, (filters,), kw)


def depthwise(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n, spatial, _ = _spatial(shape)
    k = _kernel(rng, n, spatial)
    s, d = _strides_dilation(rng, n)
    dm = rng.choice([1, 1, 2, 3]) if rng.random() > 0.03 else 0
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if max(s) > 1 or rng.random() < 0.2:
        kw["strides"] = _kw(s)
        keyed.append((["strides", "s"], sp.ints(s)))
    _padding(rng, sp, kw, keyed, ["valid", "same"])
    if dm != 1 or rng.random() < 0.2:
        kw["depth_multiplier"] = dm
        keyed.append((["depth_multiplier", "dm"], str(dm)))
    if max(d) > 1 or rng.random() < 0.1:
        kw["dilation_rate"] = _kw(d)
        keyed.append((["dilation_rate", "d"], sp.ints(d)))
    _bias(rng, sp, kw, keyed)
    cls = CLASSES["dw"][n - 1]
    positional = [sp.ints(k)]
    if rng.random() < 0.3:
        keyed.append((["kernel_size", "k"], positional.pop()))
    text = sp.layer(_word(rng, "dw", n), positional, keyed)
    return KLayer("depthwise", text, cls.__name__, (_kw(k),), kw)


def separable(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n, spatial, _ = _spatial(shape)
    k = _kernel(rng, n, spatial)
    s, d = _strides_dilation(rng, n)
    dm = rng.choice([1, 1, 2])
    filters = rng.randint(1, 8)
    kw: dict[str, Any] = {}
    keyed: list[Any] = [(["kernel_size", "k"], sp.ints(k))]
    if max(s) > 1 or rng.random() < 0.2:
        kw["strides"] = _kw(s)
        keyed.append((["strides", "s"], sp.ints(s)))
    _padding(rng, sp, kw, keyed, ["valid", "same"])
    if dm != 1 or rng.random() < 0.2:
        kw["depth_multiplier"] = dm
        keyed.append((["depth_multiplier", "dm"], str(dm)))
    if max(d) > 1 or rng.random() < 0.1:
        kw["dilation_rate"] = _kw(d)
        keyed.append((["dilation_rate", "d"], sp.ints(d)))
    _bias(rng, sp, kw, keyed)
    cls = CLASSES["sep"][n - 1]
    text = sp.layer(_word(rng, "sep", n), [str(filters)], keyed)
    return KLayer("separable", text, cls.__name__, (filters, _kw(k)), kw)


def pool(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n, spatial, _ = _spatial(shape)
    family = rng.choice(["maxpool", "avgpool"])
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    positional: list[str] = []
    k = [2] * n
    if rng.random() < 0.8:
        k = _per_dim(rng, n, 1, 4) if rng.random() < 0.9 else _per_dim(rng, n, 1, max(spatial) + 2)
        kw["pool_size"] = _kw(k)
        if rng.random() < 0.5:
            positional.append(sp.ints(k))
        else:
            keyed.append((["pool_size", "k"], sp.ints(k)))
    if rng.random() < 0.5:
        s = _per_dim(rng, n, 1, 3) if rng.random() > 0.03 else [0] * n
        kw["strides"] = _kw(s)
        keyed.append((["strides", "s"], sp.ints(s)))
    _padding(rng, sp, kw, keyed, ["valid", "same"])
    cls = CLASSES[family][n - 1]
    text = sp.layer(_word(rng, family, n), positional, keyed)
    return KLayer("pool", text, cls.__name__, (), kw)


def global_pool(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n = len(shape) - 1
    family = rng.choice(["gap", "gmp"])
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if rng.random() < 0.5:
        kw["keepdims"] = rng.random() < 0.6
        keyed.append((["keepdims"], sp.boolean(kw["keepdims"])))
    cls = CLASSES[family][n - 1]
    return KLayer("global", sp.layer(_word(rng, family, n), [], keyed), cls.__name__, (), kw)


def _amounts(rng: random.Random, sp: Spell, n: int, lo: int, hi: int) -> tuple[str, Any]:
    """A padding or cropping amount: one number, one per axis, or a pair per axis."""
    form = rng.choice(["one", "axis", "pairs"])
    if form == "one":
        v = rng.randint(lo, hi)
        return str(v), v
    if form == "axis" and n > 1:
        vals = [rng.randint(lo, hi) for _ in range(n)]
        return sp.ints(vals, scalar=False), tuple(vals)
    pairs = [(rng.randint(lo, hi), rng.randint(lo, hi)) for _ in range(n)]
    return sp.pairs(pairs), (pairs[0] if n == 1 else tuple(pairs))


def zeropad(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n = len(shape) - 1
    kw: dict[str, Any] = {}
    positional: list[str] = []
    keyed: list[Any] = []
    if rng.random() < 0.85:
        text, value = _amounts(rng, sp, n, -1 if rng.random() < 0.1 else 0, 3)
        kw["padding"] = value
        if rng.random() < 0.5:
            positional.append(text)
        else:
            keyed.append((["padding", "p"], text))
    cls = CLASSES["zeropad"][n - 1]
    return KLayer(
        "zeropad", sp.layer(_word(rng, "zeropad", n), positional, keyed), cls.__name__, (), kw
    )


def crop(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n, spatial, _c = _spatial(shape)
    kw: dict[str, Any] = {}
    positional: list[str] = []
    keyed: list[Any] = []
    if rng.random() < 0.85:
        text, value = _amounts(
            rng, sp, n, -1 if rng.random() < 0.05 else 0, max(1, min(spatial) // 2 + 1)
        )
        kw["cropping"] = value
        if rng.random() < 0.5:
            positional.append(text)
        else:
            keyed.append((["cropping"], text))
    cls = CLASSES["crop"][n - 1]
    return KLayer("crop", sp.layer(_word(rng, "crop", n), positional, keyed), cls.__name__, (), kw)


def upsample(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    n = len(shape) - 1
    kw: dict[str, Any] = {}
    positional: list[str] = []
    keyed: list[Any] = []
    if rng.random() < 0.8:
        size = [rng.randint(1, 3)] if n == 1 else _per_dim(rng, n, 1, 3)
        if rng.random() < 0.03:
            size = [0] * len(size)
        kw["size"] = size[0] if n == 1 else tuple(size)
        text = sp.ints(size)
        if rng.random() < 0.5:
            positional.append(text)
        else:
            keyed.append((["size"], text))
    if n == 2 and rng.random() < 0.3:
        kw["interpolation"] = rng.choice(["nearest", "bilinear", "bicubic", "lanczos3", "area"])
        keyed.append((["interpolation"], kw["interpolation"]))
    cls = CLASSES["upsample"][n - 1]
    return KLayer(
        "upsample", sp.layer(_word(rng, "upsample", n), positional, keyed), cls.__name__, (), kw
    )


def dense(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    units = rng.randint(1, 16) if rng.random() > 0.03 else 0
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    _bias(rng, sp, kw, keyed)
    _act(rng, sp, kw, keyed)
    word = rng.choice(["Dense", "dense", "fc"])
    return KLayer("dense", sp.layer(word, [str(units)], keyed), "Dense", (units,), kw)


def flatten(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    return KLayer("flatten", rng.choice(["Flatten", "flatten"]), "Flatten")


def reshape(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    total = 1
    for v in shape:
        total *= v
    factors = []
    rest = total
    for _ in range(rng.randint(1, 3)):
        divs = [d for d in _divisors(rest) if d > 1] or [1]
        f = rng.choice(divs)
        factors.append(f)
        rest //= f
    if rest > 1:
        factors.append(rest)
    if rng.random() < 0.5:
        factors[rng.randrange(len(factors))] = -1
    if rng.random() < 0.1:
        factors[rng.randrange(len(factors))] += 1  # most likely a mismatch
    target = tuple(factors)
    text = sp.ints(list(target), scalar=False) if len(target) > 1 else f"({target[0]},)"
    if len(target) == 1 and rng.random() < 0.5:
        text = str(target[0])
    word = rng.choice(["Reshape", "reshape"])
    if rng.random() < 0.3:
        text = f"target_shape={text}"
    return KLayer("reshape", f"{word} {text}", "Reshape", (target,))


def dropout(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    rate = rng.choice([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]) if rng.random() > 0.05 else 1.5
    n = len(shape) - 1
    if 1 <= n <= 3 and rng.random() < 0.4:
        cls = (L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D)[n - 1]
        word = rng.choice([f"SpatialDropout{n}D", f"spatialdropout{n}d"])
        return KLayer("dropout", f"{word} {sp.number(rate)}", cls.__name__, (rate,))
    word = rng.choice(["Dropout", "dropout"])
    text = f"{word} {sp.number(rate)}" if rng.random() < 0.7 else f"{word} rate={sp.number(rate)}"
    return KLayer("dropout", text, "Dropout", (rate,))


def activation(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    name = rng.choice(ACTIVATIONS + ["threshold"] * (rng.random() < 0.05))
    if name in ACTIVATION_KINDS and rng.random() < 0.4:
        return KLayer("activation", name, "Activation", (name,))
    word = rng.choice(["Activation", "activation"])
    text = f"{word} {name}" if rng.random() < 0.8 else f"{word} activation={name}"
    return KLayer("activation", text, "Activation", (name,))


def act_layer(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    kind = rng.choice(["ReLU", "LeakyReLU", "ELU", "Softmax", "Identity"])
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if kind == "ReLU":
        for arg in ("max_value", "negative_slope", "threshold"):
            if rng.random() < 0.3:
                kw[arg] = rng.choice([0.0, 0.5, 1.0, 6.0, -1.0])
                keyed.append(([arg], sp.number(kw[arg])))
    elif kind == "LeakyReLU":
        if rng.random() < 0.5:
            kw["negative_slope"] = rng.choice([0.0, 0.1, 0.3, -0.2])
            keyed.append(
                (
                    ["negative_slope", "alpha"] if False else ["negative_slope"],
                    sp.number(kw["negative_slope"]),
                )
            )
    elif kind == "ELU":
        if rng.random() < 0.5:
            kw["alpha"] = rng.choice([0.5, 1.0, 2.0])
            keyed.append((["alpha"], sp.number(kw["alpha"])))
    elif kind == "Softmax":  # noqa: SIM102 - the draws stay in this order
        if rng.random() < 0.6:
            rank = len(shape) + 1
            kw["axis"] = rng.randint(-rank - 1, rank)
            keyed.append((["axis"], str(kw["axis"])))
    cls = getattr(L, kind)
    word = rng.choice([kind, kind.lower()])
    return KLayer("act_layer", sp.layer(word, [], keyed), cls.__name__, (), kw)


def prelu(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if rng.random() < 0.6:
        axes = sorted(rng.sample(range(1, len(shape) + 1), rng.randint(1, len(shape))))
        if rng.random() < 0.05:
            axes = [len(shape) + 1]
        kw["shared_axes"] = axes
        keyed.append((["shared_axes"], sp.ints(axes, scalar=len(axes) == 1)))
    word = rng.choice(["PReLU", "prelu"])
    return KLayer("prelu", sp.layer(word, [], keyed), "PReLU", (), kw)


def batchnorm(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if rng.random() < 0.2:
        rank = len(shape) + 1
        kw["axis"] = rng.randint(-rank, rank - 1) if rng.random() > 0.1 else rank
        keyed.append((["axis"], str(kw["axis"])))
    for arg in ("center", "scale"):
        if rng.random() < 0.3:
            kw[arg] = rng.random() < 0.5
            keyed.append(([arg], sp.boolean(kw[arg])))
    if rng.random() < 0.2:
        kw["momentum"] = 0.9
        keyed.append((["momentum"], "0.9"))
    if rng.random() < 0.2:
        kw["epsilon"] = 1e-5
        keyed.append((["epsilon", "eps"], "1e-5"))
    word = rng.choice(["BatchNormalization", "batchnormalization", "batchnorm", "bn"])
    return KLayer("batchnorm", sp.layer(word, [], keyed), "BatchNormalization", (), kw)


def layernorm(rng: random.Random, sp: Spell, shape: Shape) -> KLayer:
    kw: dict[str, Any] = {}
    keyed: list[Any] = []
    if rng.random() < 0.4:
        rank = len(shape) + 1
        if rng.random() < 0.5:
            kw["axis"] = rng.randint(-rank, rank - 1)
            keyed.append((["axis"], str(kw["axis"])))
        else:
            axes = sorted(rng.sample(range(1, rank), rng.randint(1, rank - 1)))
            kw["axis"] = axes
            keyed.append(
                (["axis"], sp.ints(axes, scalar=False) if len(axes) > 1 else f"({axes[0]},)")
            )
    for arg in ("center", "scale", "rms_scaling"):
        if rng.random() < 0.25:
            kw[arg] = rng.random() < 0.5
            keyed.append(([arg], sp.boolean(kw[arg])))
    word = rng.choice(["LayerNormalization", "layernormalization", "layernorm", "ln"])
    return KLayer("layernorm", sp.layer(word, [], keyed), "LayerNormalization", (), kw)


# family → (builder, spatial ranks it takes: None = any rank)
BUILDERS: dict[
    str, tuple[Callable[[random.Random, Spell, Shape], KLayer], tuple[int, ...] | None]
] = {
    "conv": (conv, (1, 2, 3)),
    "convt": (convt, (1, 2, 3)),
    "depthwise": (depthwise, (1, 2)),
    "separable": (separable, (1, 2)),
    "pool": (pool, (1, 2, 3)),
    "global": (global_pool, (1, 2, 3)),
    "zeropad": (zeropad, (1, 2, 3)),
    "crop": (crop, (1, 2, 3)),
    "upsample": (upsample, (1, 2, 3)),
    "dense": (dense, None),
    "flatten": (flatten, None),
    "reshape": (reshape, None),
    "dropout": (dropout, None),
    "activation": (activation, None),
    "act_layer": (act_layer, None),
    "prelu": (prelu, None),
    "batchnorm": (batchnorm, None),
    "layernorm": (layernorm, None),
}
