"""Keras's preprocessing layers a model may start with (Rescaling, Normalization) and
keras.applications' own LayerScale (ConvNeXt's), as their configurations in a Keras model
file name them (docs/frameworks.md#keras-model-files)."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import ANY, BOOL, INT, INTS, Param
from convcalc.kinds.keras.common import batch_axis, keras_signature, register
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape, prod

# The section of --list-layers the module's kinds are listed under.
SECTION = "Core layers, normalization and activations"


class Rescaling(Layer):
    """Rescaling: x·scale + offset, element-wise; no weights."""

    NAMES = {"rescaling": {}}
    PARAMS = (
        Param("scale", ANY, positional=True, required=True, help="a number or one per channel"),
        Param("offset", ANY, 0.0),
    )
    SHAPE_NEUTRAL = True
    SUMMARY = "rescale the values (x·scale + offset)"
    KERAS = {"Rescaling": keras_signature("scale", "offset", required=1)}
    EXAMPLE, EXAMPLE_INPUT = "0.00392156862745098", "32x32x3"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        return Out("Rescaling", shape, rf=())


register(Rescaling)


def _given(value: object) -> bool:
    """Whether an argument read as written (ANY) has a value: not left out, not None."""
    return value is not None and value != "None"


class Normalization(Layer):
    """Normalization: (x − mean)/√variance along ``axis``; without a mean and variance
    given, their weights (one per element of the axes kept) and a count, all
    non-trainable, are what count_params() counts."""

    NAMES = {"normalization": {}}
    PARAMS = (
        Param("axis", INTS, (-1,)),
        Param("mean", ANY, None),
        Param("variance", ANY, None),
        Param("invert", BOOL, False),
    )
    SHAPE_NEUTRAL = True
    SUMMARY = "normalize with a mean and variance (adapted or given)"
    KERAS = {"Normalization": keras_signature("axis", "mean", "variance", "invert")}
    EXAMPLE, EXAMPLE_INPUT = "", "32x32x3"
    NOTE = (
        "Without mean= and variance=, Keras keeps them as weights to adapt (one per element "
        "of the axes kept, and a count): 2·C + 1 non-trainable; with them, none."
    )

    axis: tuple[int, ...]
    mean: object
    variance: object
    invert: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        mean, variance = _given(self.mean), _given(self.variance)
        if mean != variance:
            raise LayerError("Normalization: give both mean and variance, or neither")
        axes = sorted({batch_axis("Normalization", "axis", a, shape) for a in self.axis})
        if mean:
            return Out("Normalization", shape, params=0, rf=())
        size = prod(shape[i] for i in axes)
        params = None if size is None else 2 * size + 1
        return Out("Normalization", shape, params=params, non_trainable=params, rf=())


register(Normalization)


class LayerScale(Layer):
    """keras.applications' LayerScale (ConvNeXt's): x·gamma, gamma one learned value per
    channel (projection_dim of them)."""

    NAMES = {"layerscale": {}}
    PARAMS = (
        Param("init_values", ANY, positional=True, required=True),
        Param("projection_dim", INT, positional=True, required=True),
    )
    SHAPE_NEUTRAL = True
    SUMMARY = "learned per-channel scale (ConvNeXt's)"
    KERAS = {"LayerScale": keras_signature("init_values", "projection_dim", required=2)}
    EXAMPLE, EXAMPLE_INPUT = "1e-6 96", "14x14x96"

    projection_dim: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        dim = self.projection_dim
        if dim <= 0:
            raise LayerError(f"LayerScale: projection_dim must be positive, got {dim}")
        if shape[-1] is not None and shape[-1] != dim:
            raise LayerError(
                f"LayerScale: projection_dim={dim}, but the input {fmt_shape(shape)} has "
                f"{shape[-1]} channels"
            )
        return Out("LayerScale", shape, params=dim, rf=())


register(LayerScale)
