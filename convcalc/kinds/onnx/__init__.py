"""ONNX conventions (opset 13 and later): its operators under their op types and
attribute names, ``auto_pad``/``pads``, ``ceil_mode`` and ``output_shape`` as ONNX
shape inference sizes them at the opset in force — except that a size below 1
is an error, as onnxruntime makes it (docs/frameworks.md#onnx). Importing the package
registers every operator in :data:`REGISTRY`."""

from __future__ import annotations

from convcalc.kinds.onnx import conv, core, pool  # noqa: F401  (registration)
from convcalc.kinds.onnx.common import REGISTRY
from convcalc.kinds.registry import class_names as registry_class_names

KINDS = frozenset(REGISTRY)
WORD_KINDS: frozenset[str] = frozenset()

__all__ = ["KINDS", "REGISTRY", "WORD_KINDS", "class_names"]


def class_names() -> dict[str, str]:
    """ONNX's operator names (Conv, MaxPool, GlobalAveragePool, Gemm, …), each with
    the word that names it (for the hint on an ONNX spec read under PyTorch's
    conventions)."""
    return registry_class_names(REGISTRY)
