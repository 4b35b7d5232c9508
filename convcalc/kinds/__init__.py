"""The layer kinds: what every kind shares (argument types, the ``Layer``
protocol, binding, registries) and each framework's kinds in ``torch/``,
``keras/`` and ``onnx/``, side by side. PyTorch's are the default: every word is
known from its index, and a kind's module is imported the first time it is used.

The names below are imported on first use: a module of the package (shapes.py,
for the memory figures) costs no more than itself — a completion request imports
no parser and no registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._lazy import lazy

if TYPE_CHECKING:
    from convcalc.kinds.args import Param
    from convcalc.kinds.binding import bind
    from convcalc.kinds.layer import Entry, Layer, Out
    from convcalc.kinds.shapes import Shape
    from convcalc.kinds.torch.registry import KINDS, REGISTRY

__all__ = ["KINDS", "REGISTRY", "Entry", "Layer", "Out", "Param", "Shape", "bind"]

_LAZY = {
    "Param": "args",
    "bind": "binding",
    "Entry": "layer",
    "Layer": "layer",
    "Out": "layer",
    "Shape": "shapes",
    "KINDS": "torch.registry",
    "REGISTRY": "torch.registry",
}


__getattr__, __dir__ = lazy(globals(), _LAZY, __all__)
