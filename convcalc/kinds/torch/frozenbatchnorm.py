"""torchvision's FrozenBatchNorm2d (torchvision/ops/misc.py): batch normalization whose
affine weight and bias and running statistics are all fixed buffers — no parameters, 4C
buffers (no num_batches_tracked). torchvision's detectors put it in their ResNet backbones
when their builders are given weights (RetinaNet v1, FCOS)."""

from __future__ import annotations

from typing import Any

from convcalc.errors import LayerError
from convcalc.kinds.args import FLOAT, INT, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, rank_error
from convcalc.kinds.torch.registry import register

# The section of --list-layers the module's kinds are listed under.
SECTION = "Normalization"


@register
class FrozenBatchNorm2d(Layer):
    """FrozenBatchNorm2d(C): x·scale + shift from four C-sized buffers; 0 parameters."""

    NAMES = {"frozenbatchnorm2d": {}, "frozenbn": {}, "frozen_batch_norm2d": {}}
    TORCH = {"FrozenBatchNorm2d": Signature(("num_features", "eps"), required=1)}
    PARAMS = (
        Param("num_features", INT, None, aliases=("c",), help="checked against the input"),
        Param("eps", FLOAT, 1e-5),
    )
    SUMMARY = "frozen batch normalization (torchvision's, buffers only)"
    NOTE = (
        "Its forward multiplies by its weight and adds its bias reshaped to 1×C×1×1: "
        "convcalc takes it on a C×H×W map, as torchvision's detectors use it."
    )

    num_features: int | None
    eps: float

    def spatial_rank(self) -> int:
        return 2

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 3:
            raise rank_error("frozenbatchnorm2d", shape, "C×H×W")
        c = shape[0] if self.num_features is None else self.num_features
        if c is not None and c < 0:
            raise LayerError(f"num_features must not be negative, got {c}")
        found = shape[0]
        out = shape
        if c is not None and found is not None and c != found:
            # x * weight.reshape(1, -1, 1, 1): broadcasting, not a check.
            if found == 1:
                out = (c, *shape[1:])
            elif c != 1:
                raise LayerError(
                    f"num_features={c} does not broadcast against the input's {found} "
                    "channels (its forward multiplies by a 1×C×1×1 view)"
                )
        # weight, bias, running_mean and running_var: C each, all float buffers.
        return Out("frozenbatchnorm2d", out, buffers=None if c is None else 4 * c)

    TORCH_HELPER = '''
    class FrozenBatchNorm2d(nn.Module):
        """torchvision.ops.FrozenBatchNorm2d: batch norm with fixed statistics and affine."""

        def __init__(self, num_features: int, eps: float = 1e-5) -> None:
            super().__init__()
            self.eps = eps
            self.register_buffer("weight", torch.ones(num_features))
            self.register_buffer("bias", torch.zeros(num_features))
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            scale = self.weight * (self.running_var + self.eps).rsqrt()
            shift = self.bias - self.running_mean * scale
            return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)
    '''

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        c = shape[0] if self.num_features is None else self.num_features
        return {**self.__dict__, "num_features": c}

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"
    MAKES_MAP = True
