"""Keras's core layers: Dense, Dropout, Activation and the activation layers,
BatchNormalization and LayerNormalization. Dense and the norms act on the last
axis, the channels; parameter counts are model.count_params()'s, BatchNormalization's
moving statistics included (non-trainable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import ANY, BOOL, FLOAT, INT, INTS, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.keras.common import batch_axis, keras_signature, register
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape, prod

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Core layers, normalization and activations"

# keras.activations' names (keras.activations.get accepts each).
ACTIVATIONS = (
    "celu",
    "elu",
    "exponential",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
)
# The activation= of a layer: any of them but glu, which halves the channels (a
# layer's own shape rule does not know that; write an Activation glu after it).
ACTIVATION = Choice(*(a for a in ACTIVATIONS if a != "glu"))


class Dense(Layer):
    """Dense: the last axis becomes ``units``; params in·units + units."""

    NAMES = {"dense": {}, "fc": {}}  # 'linear' is Keras's identity activation
    PARAMS = (
        Param("units", INT, positional=True, required=True),
        Param("use_bias", BOOL, True, aliases=("bias",)),
        Param("activation", ACTIVATION, None, help="applied to the output (shape-neutral)"),
    )
    SUMMARY = "densely connected (on the last axis)"
    KERAS = {
        "Dense": keras_signature(
            "units",
            "activation",
            "use_bias",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
            "lora_rank",
            "lora_alpha",
            "quantization_config",
            required=1,
            only={
                "lora_rank": (None, "lora_rank adds LoRA weights, which convcalc does not count"),
                "quantization_config": (None, "convcalc counts float weights only"),
            },
            extra={"lora_alpha": ANY},
        )
    }
    EXAMPLE, EXAMPLE_INPUT = "10", "512"

    units: int
    use_bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.units <= 0:
            raise LayerError(f"Dense: units must be a positive integer, got {self.units}")
        fin = shape[-1]
        if fin is None:
            params = macs = None
        else:
            params = fin * self.units + (self.units if self.use_bias else 0)
            lead = prod(shape[:-1])
            macs = None if lead is None else lead * fin * self.units
        return Out("Dense", (*shape[:-1], self.units), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """units on the last axis."""
        from convcalc.kinds.explaining import last_axis

        return [last_axis(row, self.units, "axis")]


register(Dense)


class Dropout(Layer):
    """Dropout (and SpatialDropout1D/2D/3D): shape-neutral, an identity at inference."""

    SHAPE_NEUTRAL = True  # the input's first spatial layer decides what a shape means

    NAMES = {"dropout": {"dim": 0}, **{f"spatialdropout{n}d": {"dim": n} for n in (1, 2, 3)}}
    PARAMS = (Param("rate", FLOAT, positional=True, required=True),)
    SUMMARY = "dropout (identity at inference)"
    KERAS = {
        "Dropout": keras_signature("rate", "noise_shape", "seed", required=1),
        "SpatialDropout1D": keras_signature("rate", "seed", "name", "dtype", required=1),
        **{
            f"SpatialDropout{n}D": keras_signature(
                "rate", "data_format", "seed", "name", "dtype", required=1
            )
            for n in (2, 3)
        },
    }
    EXAMPLE = "0.5"

    dim: int
    rate: float

    def spatial_rank(self) -> int | None:
        return self.dim or None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name = f"SpatialDropout{self.dim}D" if self.dim else "Dropout"
        if not 0 <= self.rate <= 1:
            raise LayerError(f"{name}: rate must be between 0 and 1, got {self.rate:g}")
        if self.dim and len(shape) != self.dim + 1:
            raise LayerError(
                f"{name} expects an input with {self.dim} spatial axes and channels "
                f"(ndim={self.dim + 2} with the batch), got {fmt_shape(shape)}"
            )
        return Out(name, shape, rf=())


register(Dropout)


class Activation(Layer):
    """Activation NAME (and each activation's name as a kind): shape-neutral,
    except glu, which halves the last axis."""

    NAMES = {"activation": {}}
    PARAMS = (Param("activation", Choice(*ACTIVATIONS), positional=True, required=True),)
    SHAPE_NEUTRAL = True
    SUMMARY = "activation function"
    KERAS = {"Activation": keras_signature("activation", required=1)}
    EXAMPLE = "relu"
    NOTE = (
        "glu halves the last axis when the model runs, while Keras's symbolic shape (what "
        "model.summary() shows and the next layer is built for) keeps it: convcalc gives the "
        "size the forward pass makes."
    )

    activation: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.activation != "glu":
            return Out("Activation", shape, rf=())
        last = shape[-1]
        if last is not None and last % 2:
            raise LayerError(
                f"glu splits the last axis in two halves, and {last} (of {fmt_shape(shape)}) is odd"
            )
        return Out("Activation", (*shape[:-1], None if last is None else last // 2), rf=())

    def explain(self, row: Row) -> list[Step]:
        """glu halves one axis; the other activations keep the shape."""
        from convcalc.kinds.explaining import dim_names, halved

        if self.activation != "glu":
            return []
        return halved(row, dim_names(row.input, last=True), "glu")


register(Activation)
register(
    Activation,
    names={a: {"activation": a} for a in ACTIVATIONS if a not in ("relu", "softmax", "elu")},
    params=(),
)


class ReLU(Layer):
    """ReLU: max(x, 0) with an optional cap, slope and threshold; shape-neutral."""

    NAMES = {"relu": {}}
    PARAMS = (
        Param("max_value", FLOAT, None),
        Param("negative_slope", FLOAT, 0.0),
        Param("threshold", FLOAT, 0.0),
    )
    SHAPE_NEUTRAL = True
    SUMMARY = "rectified linear unit"
    KERAS = {"ReLU": keras_signature("max_value", "negative_slope", "threshold")}

    max_value: float | None
    negative_slope: float
    threshold: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        for name in ("max_value", "negative_slope", "threshold"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise LayerError(f"ReLU: {name} cannot be negative, got {value:g}")
        return Out("ReLU", shape, rf=())


register(ReLU)


class LeakyReLU(Layer):
    NAMES = {"leakyrelu": {}}
    PARAMS = (Param("negative_slope", FLOAT, 0.3, aliases=("alpha",)),)
    SHAPE_NEUTRAL = True
    SUMMARY = "leaky ReLU"
    # alpha: Keras 3's deprecated name of negative_slope (it warns).
    KERAS = {
        "LeakyReLU": keras_signature(
            "negative_slope", kwonly=("alpha",), renames={"alpha": "negative_slope"}
        )
    }

    negative_slope: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.negative_slope < 0:
            raise LayerError(
                f"LeakyReLU: negative_slope cannot be negative, got {self.negative_slope:g}"
            )
        return Out("LeakyReLU", shape, rf=())


register(LeakyReLU)


class ShapeNeutral(Layer):
    """ELU, Softmax, Identity: shape-neutral, no parameters."""

    SHAPE_NEUTRAL = True
    SUMMARY = "element-wise or along an axis"
    KERAS = {
        "ELU": keras_signature("alpha"),
        "Softmax": keras_signature("axis"),
        "Identity": keras_signature(),
    }

    cls: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.cls == "Softmax":
            axis = self.axis  # type: ignore[attr-defined]
            rank = len(shape) + 1
            if not -rank <= axis < rank:
                raise LayerError(
                    f"Softmax: axis={axis} is out of bounds for a {rank}-d input (batch included)"
                )
        return Out(self.cls, shape, rf=())


register(ShapeNeutral, names={"elu": {"cls": "ELU"}}, params=(Param("alpha", FLOAT, 1.0),))
register(ShapeNeutral, names={"softmax": {"cls": "Softmax"}}, params=(Param("axis", INT, -1),))
register(ShapeNeutral, names={"identity": {"cls": "Identity"}}, params=())


class PReLU(Layer):
    """PReLU: one learned slope per input element, except along ``shared_axes``
    (numbered with the batch as axis 0), where one slope is shared."""

    NAMES = {"prelu": {}}
    PARAMS = (Param("shared_axes", INTS, None),)
    SUMMARY = "parametric ReLU (a slope per element)"
    KERAS = {
        "PReLU": keras_signature(
            "alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"
        )
    }

    shared_axes: tuple[int, ...] | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        sizes: list[int | None] = list(shape)
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise LayerError(
                    f"PReLU: shared_axes holds {axis}, but the axes after the batch are "
                    f"1 to {len(shape)}"
                )
            sizes[axis - 1] = 1
        return Out("PReLU", shape, params=prod(sizes), rf=())


register(PReLU)


class BatchNormalization(Layer):
    """BatchNormalization over ``axis`` (the channels): gamma and beta trainable,
    the moving mean and variance non-trainable — 4C in count_params(), 2C of them
    trainable."""

    NAMES = {"batchnormalization": {}, "batchnorm": {}, "bn": {}}
    PARAMS = (
        Param("axis", INT, -1),
        Param("momentum", FLOAT, 0.99),
        Param("epsilon", FLOAT, 0.001, aliases=("eps",)),
        Param("center", BOOL, True),
        Param("scale", BOOL, True),
    )
    SUMMARY = "batch normalization (moving statistics counted, non-trainable)"
    KERAS = {
        "BatchNormalization": keras_signature(
            "axis",
            "momentum",
            "epsilon",
            "center",
            "scale",
            "beta_initializer",
            "gamma_initializer",
            "moving_mean_initializer",
            "moving_variance_initializer",
            "beta_regularizer",
            "gamma_regularizer",
            "beta_constraint",
            "gamma_constraint",
            "renorm",
            "renorm_clipping",
            "renorm_momentum",
            "synchronized",
            only={"renorm": (False, "renorm=True adds weights convcalc does not count")},
            extra={"renorm_clipping": ANY, "renorm_momentum": ANY, "synchronized": BOOL},
        )
    }
    NOTE = (
        "model.count_params() counts the moving mean and variance too: 4C with center and "
        "scale, 2C of them trainable (PyTorch: 2C parameters and 2C+1 buffers)."
    )

    axis: int
    momentum: float
    epsilon: float
    center: bool
    scale: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        i = batch_axis("BatchNormalization", "axis", self.axis, shape)
        c = shape[i]
        if c is None:
            return Out("BatchNormalization", shape, params=None, non_trainable=None, rf=())
        learned = (int(self.center) + int(self.scale)) * c
        return Out("BatchNormalization", shape, params=learned + 2 * c, non_trainable=2 * c, rf=())

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "last"


register(BatchNormalization)


class LayerNormalization(Layer):
    """LayerNormalization over ``axis`` (the last by default; a tuple for several):
    gamma and beta of the normalized shape."""

    NAMES = {"layernormalization": {}, "layernorm": {}, "ln": {}}
    PARAMS = (
        Param("axis", INTS, (-1,)),
        Param("epsilon", FLOAT, 0.001, aliases=("eps",)),
        Param("center", BOOL, True),
        Param("scale", BOOL, True),
        Param("rms_scaling", BOOL, False),
    )
    SUMMARY = "layer normalization"
    KERAS = {
        "LayerNormalization": keras_signature(
            "axis",
            "epsilon",
            "center",
            "scale",
            "beta_initializer",
            "gamma_initializer",
            "beta_regularizer",
            "gamma_regularizer",
            "beta_constraint",
            "gamma_constraint",
            kwonly=("rms_scaling",),
        )
    }
    EXAMPLE_INPUT = "10x64"

    axis: tuple[int, ...]
    epsilon: float
    center: bool
    scale: bool
    rms_scaling: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        axes = sorted({batch_axis("LayerNormalization", "axis", a, shape) for a in self.axis})
        size = prod(shape[i] for i in axes)
        gamma = self.scale or self.rms_scaling
        beta = self.center and not self.rms_scaling
        params = None if size is None else (int(gamma) + int(beta)) * size
        return Out("LayerNormalization", shape, params=params, rf=())


register(LayerNormalization)
