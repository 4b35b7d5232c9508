"""How a layer kind is written as PyTorch code (``-o torch``): the record a kind answers
with, and the generic constructor ``Layer.torch_module`` writes from the kind's PyTorch
``Signature`` — every argument by PyTorch's name, in the signature's order. A kind
with no nn class, or whose constructor is not its signature, overrides the method
(convcalc.formats.torch_code writes the file around the answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple
from convcalc.kinds.args import PLACEMENT

if TYPE_CHECKING:
    from convcalc.kinds.layer import Layer, Shape


class TorchCode(NamedTuple):
    """A layer's code: a constructor (``nn.Conv2d(in_channels=3, …)``), or for a graph
    operation an expression in forward(); and the source of a class or function of our
    own it needs ("" = none), written once at the top of the file."""

    code: str
    helper: str = ""


def py(value: Any) -> str:
    """A value as Python source."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        items = [py(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return repr(value)


def spatial_dims(kind: str, shape: Shape) -> int:
    """Spatial dimensions a layer works on: its name's (conv2d: 2), else its input's."""
    if kind[-1:] == "d" and kind[-2:-1].isdigit():
        return int(kind[-2])
    return len(shape) - 1


def _per_dim(value: Any, n: int) -> Any:
    if isinstance(value, tuple) and len(value) == 1 and n > 1:
        return value * n
    return value


def constructor(layer: Layer, kind: str, shape: Shape) -> TorchCode | None:
    """The constructor of the PyTorch class ``layer.torch_class(kind)`` names, its
    arguments from ``layer.torch_values(shape)`` (None: the kind has no class)."""
    found = layer.torch_class(kind)
    if found is None:
        return None
    cname, sig = found
    n = spatial_dims(kind, shape)
    params = {p.name: p for p in type(layer).PARAMS}
    resolved = layer.torch_values(shape)
    left_out = layer.TORCH_LEFT_OUT
    args: list[str] = []
    for arg in (*sig.args, *sig.kwonly):
        if arg in PLACEMENT:
            continue
        if arg in sig.only:
            args.append(f"{arg}={py(sig.only[arg][0])}")
            continue
        if arg in sig.extra:
            continue
        param = sig.renames.get(arg, arg)
        if param not in resolved:
            continue
        value = resolved[param]
        if param in params and params[param].per_dim:
            value = _per_dim(value, n)
        if arg in left_out and value is left_out[arg]:
            continue
        if arg in sig.scalar:
            value = value[0]  # LPPool1d multiplies by its kernel_size: an int
        args.append(f"{arg}={py(value)}")
    helper = layer.TORCH_HELPER
    prefix = "" if helper else "nn."
    return TorchCode(f"{prefix}{cname}({', '.join(args)})", helper)
