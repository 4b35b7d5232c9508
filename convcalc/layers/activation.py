"""Element-wise layers: activations, dropout, identity. Shape-neutral and
without parameters, except PReLU."""

from __future__ import annotations

from ..errors import LayerError
from .base import BOOL, FLOAT, INT, Layer, Out, Param, Shape, register
from .base import ChoiceType as Choice

_INPLACE = Param("inplace", BOOL, False)
_DIM = Param("dim", INT, None)
_P = Param("p", FLOAT, 0.5)

# name → the arguments PyTorch's module takes (all shape-neutral).
ACTIVATIONS: dict[str, tuple[Param, ...]] = {
    "relu": (_INPLACE,),
    "relu6": (_INPLACE,),
    "gelu": (Param("approximate", Choice("none", "tanh"), "none"),),
    "silu": (_INPLACE,),
    "swish": (_INPLACE,),
    "mish": (_INPLACE,),
    "sigmoid": (),
    "tanh": (),
    "hardswish": (_INPLACE,),
    "hardsigmoid": (_INPLACE,),
    "hardtanh": (Param("min_val", FLOAT, -1.0), Param("max_val", FLOAT, 1.0), _INPLACE),
    "leakyrelu": (Param("negative_slope", FLOAT, 0.01, aliases=("slope",)), _INPLACE),
    "elu": (Param("alpha", FLOAT, 1.0), _INPLACE),
    "celu": (Param("alpha", FLOAT, 1.0), _INPLACE),
    "selu": (_INPLACE,),
    "softplus": (Param("beta", FLOAT, 1.0), Param("threshold", FLOAT, 20.0)),
    "softsign": (),
    "logsigmoid": (),
    "tanhshrink": (),
    "softmax": (_DIM,),
    "logsoftmax": (_DIM,),
    "softmin": (_DIM,),
    "identity": (),
    "dropout": (_P, _INPLACE),
    "dropout1d": (_P, _INPLACE),
    "dropout2d": (_P, _INPLACE),
    "dropout3d": (_P, _INPLACE),
    "alphadropout": (_P, _INPLACE),
}


class Activation(Layer):
    """A shape-neutral element-wise layer without parameters (``name`` says which)."""

    SUMMARY = "element-wise"

    name: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        p = self.__dict__.get("p")
        if p is not None and not 0.0 <= p <= 1.0:
            raise LayerError(f"dropout probability has to be between 0 and 1, got {p:g}")
        dim = self.__dict__.get("dim")
        if dim is not None:
            rank = len(shape) + 1  # PyTorch counts the batch dimension
            if not -rank <= dim < rank:
                raise LayerError(
                    f"dim={dim} is out of range for a {rank}-d input (batch included): "
                    f"expected {-rank}..{rank - 1}"
                )
        return Out(self.name, shape)


for _name, _params in ACTIVATIONS.items():
    register(Activation, names={_name: {"name": _name}}, params=_params)


@register
class PReLU(Layer):
    """PReLU(num_parameters=1): one learnable slope, or one per channel."""

    NAMES = {"prelu": {}}
    PARAMS = (
        Param("num_parameters", INT, 1, aliases=("n",)),
        Param("init", FLOAT, 0.25),
    )
    SUMMARY = "parametric ReLU"

    num_parameters: int
    init: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = self.num_parameters
        if n <= 0:
            raise LayerError(f"num_parameters must be positive, got {n}")
        c = shape[0]
        if n != 1 and c is not None and c != n:
            raise LayerError(f"num_parameters={n} does not match the input's {c} channels")
        return Out("prelu", shape, params=n)
