"""How a layer kind is written as PyTorch code (``-o torch``): the record a kind answers
with, and the generic constructor ``Layer.torch_module`` writes from the kind's PyTorch
``Signature`` — every argument by PyTorch's name, in the signature's order. A kind
with no nn class, or whose constructor is not its signature, overrides the method
(convcalc.formats.torch_code writes the file around the answers). Keras's constructors
(``-o keras``, ``Layer.keras_layer``) write their values with ``keras_py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple

if TYPE_CHECKING:
    from convcalc.kinds.shapes import Shape


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


class Source(str):
    """Source text a value is written as, as it is (a wrapper's layer: its constructor)."""

    __slots__ = ()


def keras_py(value: Any) -> str:
    """A value as Python source for a Keras constructor: strings in double quotes, as
    Keras's own examples write them (``padding="same"``)."""
    if isinstance(value, Source):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        items = [keras_py(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return py(value)
