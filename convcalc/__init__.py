"""convcalc: output shapes, parameters, MACs and receptive fields of neural-network
layers, exactly as PyTorch computes them — without PyTorch (or as Keras 3 and ONNX
do: ``analyze(..., framework="keras")``).

>>> import convcalc
>>> a = convcalc.analyze("conv2d 64 k=7 s=2 p=3; maxpool k=3 s=2 p=1", input_shape=(3, 224, 224))
>>> a.output
(64, 56, 56)
>>> a.params
9472
"""

from .engine import (
    DTYPE_ALIASES,
    DTYPES,
    Analysis,
    InternalError,
    LayerResult,
    Memory,
    ReceptiveField,
    analyze,
    parse_shape,
)
from .errors import ConvcalcError, ShapeError, SpecError
from .frameworks import FRAMEWORKS
from .layers import KINDS, REGISTRY

__version__ = "0.1.0"

__all__ = [
    "DTYPES",
    "DTYPE_ALIASES",
    "FRAMEWORKS",
    "KINDS",
    "REGISTRY",
    "Analysis",
    "ConvcalcError",
    "InternalError",
    "LayerResult",
    "Memory",
    "ReceptiveField",
    "ShapeError",
    "SpecError",
    "__version__",
    "analyze",
    "parse_shape",
]
