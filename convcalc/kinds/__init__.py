"""The layer kinds: what every kind shares (argument types, the ``Layer``
protocol, binding, registries) and each framework's kinds in ``torch/``,
``keras/`` and ``onnx/``, side by side. PyTorch's are the default: every word is
known from its index, and a kind's module is imported the first time it is used."""

from convcalc.kinds.args import Param
from convcalc.kinds.binding import bind
from convcalc.kinds.layer import Entry, Layer, Out
from convcalc.kinds.shapes import Shape
from convcalc.kinds.torch.registry import KINDS, REGISTRY

__all__ = ["KINDS", "REGISTRY", "Entry", "Layer", "Out", "Param", "Shape", "bind"]
