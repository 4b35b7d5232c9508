"""The catalog of layer kinds. Importing this package registers every kind."""

from . import activation, conv, embedding, layernorm2d, norm, pool, reshape, transformer  # noqa: F401  (registration)
from .base import REGISTRY, Entry, Layer, Out, Param, Shape, bind

KINDS = frozenset(REGISTRY)

__all__ = ["KINDS", "REGISTRY", "Entry", "Layer", "Out", "Param", "Shape", "bind"]
