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

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._lazy import lazy
from convcalc.errors import ConvcalcError, InternalError, ShapeError, SpecError

if TYPE_CHECKING:
    from convcalc._version import __version__
    from convcalc.api import (
        analyze_keras,
        analyze_print,
        explain,
        lint,
        read_keras,
        read_print,
        report,
        solve,
        to_keras,
        to_torch,
    )
    from convcalc.formats.report import Report
    from convcalc.kinds import KINDS, REGISTRY
    from convcalc.kinds.frameworks import FRAMEWORKS
    from convcalc.network.analysis import (
        DTYPE_ALIASES,
        DTYPES,
        Analysis,
        LayerResult,
        Memory,
        ReceptiveField,
        analyze,
        parse_shape,
    )


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
    "Report",
    "ShapeError",
    "SpecError",
    "__version__",
    "analyze",
    "analyze_keras",
    "analyze_print",
    "explain",
    "lint",
    "parse_shape",
    "read_keras",
    "read_print",
    "report",
    "solve",
    "to_keras",
    "to_torch",
]

# The rest of the API, by the module that defines it, imported on first use: the
# command imports this package at every start, and a completion request needs
# neither the engine nor the renderers (bench/cli_bench.py (c)).
_LAZY = {
    **dict.fromkeys(
        (
            "DTYPE_ALIASES",
            "DTYPES",
            "Analysis",
            "LayerResult",
            "Memory",
            "ReceptiveField",
            "analyze",
            "parse_shape",
        ),
        "network.analysis",
    ),
    # What the command asks besides the analysis, and what it writes (api.py).
    **dict.fromkeys(
        (
            "analyze_keras",
            "analyze_print",
            "explain",
            "lint",
            "read_keras",
            "read_print",
            "report",
            "solve",
            "to_keras",
            "to_torch",
        ),
        "api",
    ),
    "Report": "formats.report",
    "__version__": "_version",
    "FRAMEWORKS": "kinds.frameworks",
    "KINDS": "kinds",
    "REGISTRY": "kinds",
}


__getattr__, __dir__ = lazy(globals(), _LAZY, __all__)
