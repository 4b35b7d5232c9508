"""ONNX conventions (opset 13 and later): its operators under their op types and
attribute names, ``auto_pad``/``pads``, ``ceil_mode`` and ``output_shape`` as ONNX
shape inference sizes them at the opset in force — except that a size below 1
is an error, as onnxruntime makes it (docs/frameworks.md#onnx). Importing the package
registers every operator in :data:`REGISTRY`."""

from __future__ import annotations

from convcalc.kinds.onnx import conv, core, pool  # noqa: F401  (registration)
from convcalc.kinds.onnx.common import REGISTRY

KINDS = frozenset(REGISTRY)
WORD_KINDS: frozenset[str] = frozenset()

__all__ = ["KINDS", "REGISTRY", "WORD_KINDS"]
