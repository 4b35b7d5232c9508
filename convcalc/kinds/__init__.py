"""The catalog of layer kinds. Every word is known from the index (layers/index.py);
a kind's module is imported, and registers its words, the first time one is used."""

from convcalc.kinds.base import REGISTRY, Entry, Layer, Out, Param, Shape, bind
from convcalc.kinds.torch.index import KIND_MODULES

KINDS = frozenset(KIND_MODULES)

__all__ = ["KINDS", "REGISTRY", "Entry", "Layer", "Out", "Param", "Shape", "bind"]
