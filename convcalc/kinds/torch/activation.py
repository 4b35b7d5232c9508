"""Element-wise layers: activations, dropout, identity. Shape-neutral and
without parameters, except PReLU."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, PLACED, PLACEMENT, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, check_float32, rank_error
from convcalc.kinds.torch.registry import register

# The section of --list-layers the module's kinds are listed under.
SECTION = "Activation and dropout"

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

# name → PyTorch's class, whose arguments are the Params' names in this order.
CLASS_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "relu": ("ReLU", ("inplace",)),
    "relu6": ("ReLU6", ("inplace",)),
    "gelu": ("GELU", ("approximate",)),
    "silu": ("SiLU", ("inplace",)),
    "mish": ("Mish", ("inplace",)),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "hardswish": ("Hardswish", ("inplace",)),
    "hardsigmoid": ("Hardsigmoid", ("inplace",)),
    "hardtanh": ("Hardtanh", ("min_val", "max_val", "inplace")),
    "leakyrelu": ("LeakyReLU", ("negative_slope", "inplace")),
    "elu": ("ELU", ("alpha", "inplace")),
    "celu": ("CELU", ("alpha", "inplace")),
    "selu": ("SELU", ("inplace",)),
    "softplus": ("Softplus", ("beta", "threshold")),
    "softsign": ("Softsign", ()),
    "logsigmoid": ("LogSigmoid", ()),
    "tanhshrink": ("Tanhshrink", ()),
    "softmax": ("Softmax", ("dim",)),
    "logsoftmax": ("LogSoftmax", ("dim",)),
    "softmin": ("Softmin", ("dim",)),
    "identity": ("Identity", ()),  # nn.Identity takes any arguments and ignores them
    "dropout": ("Dropout", ("p", "inplace")),
    "dropout1d": ("Dropout1d", ("p", "inplace")),
    "dropout2d": ("Dropout2d", ("p", "inplace")),
    "dropout3d": ("Dropout3d", ("p", "inplace")),
    "alphadropout": ("AlphaDropout", ("p", "inplace")),
}

# torch.nn.functional's names for the same layers.
FUNCTIONAL_NAMES = {
    "leaky_relu": "leakyrelu",
    "log_softmax": "logsoftmax",
    "alpha_dropout": "alphadropout",
}

# The scalar arguments PyTorch converts to the tensor's dtype (float32 here).
_SCALARS = {
    "elu": ("alpha",),
    "celu": ("alpha",),
    "leakyrelu": ("negative_slope",),
    "softplus": ("beta", "threshold"),
    "hardtanh": ("min_val", "max_val"),
}


class Activation(Layer):
    """A shape-neutral element-wise layer without parameters (``name`` says which)."""

    SUMMARY = "element-wise"
    SHAPE_NEUTRAL = True  # the input's first spatial layer decides what a shape means

    name: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name, values = self.name, self.__dict__
        p = values.get("p")
        if p is not None and not 0.0 <= p <= 1.0:
            raise LayerError(f"dropout probability has to be between 0 and 1, got {p:g}")
        # nn.Hardtanh asserts max_val > min_val when it is built.
        if name == "hardtanh" and not values["max_val"] > values["min_val"]:
            raise LayerError(
                f"max_val ({values['max_val']:g}) must be greater than min_val "
                f"({values['min_val']:g})"
            )
        for arg in _SCALARS.get(name, ()):
            check_float32(arg, values[arg])
        if name == "celu":
            # CELU runs ELU with input_scale = 1/alpha.
            if values["alpha"] == 0:
                raise LayerError("alpha cannot be 0 for CELU (it divides by alpha)")
            check_float32("1/alpha", 1 / values["alpha"])
        if name == "dropout1d" and len(shape) not in (1, 2):
            # Only dropout1d checks its rank; dropout2d/3d merely warn.
            raise rank_error("dropout1d", shape, "C or C×L")
        dim = values.get("dim")
        if dim is not None:
            rank = len(shape) + 1  # PyTorch counts the batch dimension
            if not -rank <= dim < rank:
                raise LayerError(
                    f"dim={dim} is out of range for a {rank}-d input (batch included): "
                    f"expected {-rank}..{rank - 1}"
                )
        return Out(self.name, shape)

    def torch_class(self, kind: str) -> tuple[str, Signature] | None:
        return _CLASSES.get(_SAME_CLASS.get(kind, kind))


class Softmax(Activation):
    """Softmax, log-softmax and softmin: shape-neutral, normalized along ``dim``."""

    SUMMARY = "normalized exponential along a dimension"
    NOTE = (
        "Each output depends on the whole of dimension `dim`; along a spatial dim the "
        "receptive field convcalc reports is still the one of the convolution and pooling "
        "windows before it (what the receptive-field literature means), not that dependence."
    )


class PassThrough(Activation):
    """Identity and (in eval mode) dropout: the input itself, whatever its dtype."""

    SUMMARY = "identity, eval-mode dropout"
    # -- dtypes (convcalc.network.analysis)
    KEEPS_DTYPE = True


_SOFTMAX = ("softmax", "logsoftmax", "softmin")
_PASS_THROUGH = ("identity", "dropout", "dropout1d", "dropout2d", "dropout3d", "alphadropout")
# name → PyTorch's class and signature (-o torch writes it); swish is SiLU's other name.
_CLASSES: dict[str, tuple[str, Signature]] = {}
_SAME_CLASS = {"swish": "silu"}

for _name, _params in ACTIVATIONS.items():
    _cls = Softmax if _name in _SOFTMAX else PassThrough if _name in _PASS_THROUGH else Activation
    _names = {_name: {"name": _name}}
    _names.update({f: {"name": _name} for f, c in FUNCTIONAL_NAMES.items() if c == _name})
    _torch = {}
    if _name in CLASS_NAMES:
        _class, _args = CLASS_NAMES[_name]
        _torch[_class] = Signature(_args, anything=_name == "identity")
        _CLASSES[_name] = (_class, _torch[_class])
    register(_cls, names=_names, params=_params, torch=_torch)


@register
class PReLU(Layer):
    """PReLU(num_parameters=1): one learnable slope, or one per channel."""

    NAMES = {"prelu": {}}
    TORCH = {"PReLU": Signature(("num_parameters", "init", *PLACEMENT), extra=PLACED)}
    PARAMS = (
        Param("num_parameters", INT, 1, aliases=("n",)),
        Param("init", FLOAT, 0.25),
    )
    SUMMARY = "parametric ReLU"

    num_parameters: int
    init: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = self.num_parameters
        if n < 0:
            raise LayerError(f"num_parameters must not be negative, got {n}")
        check_float32("init", self.init)
        c = shape[0]
        if n != 1 and c is not None and c != n:
            raise LayerError(f"num_parameters={n} does not match the input's {c} channels")
        return Out("prelu", shape, params=n)
