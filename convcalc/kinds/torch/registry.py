"""PyTorch's registry: its kind words (each module loaded on first use, by the
generated index) and its class names."""

from __future__ import annotations

from typing import Any

from convcalc.kinds.layer import Entry, Layer
from convcalc.kinds.registry import LazyRegistry
from convcalc.kinds.registry import register as _register
from convcalc.kinds.torch.index import KIND_MODULES, TORCH_WORDS

REGISTRY: dict[str, Entry] = LazyRegistry(KIND_MODULES, "convcalc.kinds.torch")
KINDS = frozenset(KIND_MODULES)
# PyTorch class name (Conv2d, BatchNorm2d, ReflectionPad2d, …) → its kind word, for
# every class, whether its module is loaded or not (a call Conv2d(…) is parsed by it).
TORCH_CLASSES: dict[str, str] = dict(TORCH_WORDS)


def register(cls: type[Layer] | None = None, **options: Any) -> Any:
    """:func:`convcalc.kinds.registry.register` into PyTorch's registry."""
    return _register(cls, registry=REGISTRY, classes=TORCH_CLASSES, **options)
