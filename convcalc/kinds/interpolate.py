"""F.interpolate's modes, as nn.Upsample (kinds/torch/reshape.py) and ``resize_to``
(kinds/merge.py) take them: the ``mode`` and ``align_corners`` arguments, and the
checks PyTorch makes of them against the input's spatial rank."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.shapes import Shape, fmt_shape

__all__ = ["INTERPOLATING", "MODE_PARAMS", "check_mode"]

# The interpolating modes, and the number of spatial dimensions each one needs.
INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}

MODE_PARAMS = (
    Param(
        "mode",
        Choice(
            "nearest",
            "linear",
            "bilinear",
            "bicubic",
            "trilinear",
            "area",
            "nearest-exact",
            aliases={"nearest_exact": "nearest-exact"},
        ),
        "nearest",
    ),
    Param("align_corners", BOOL, None),
)


def check_mode(mode: str, align_corners: bool | None, shape: Shape) -> None:
    """PyTorch's refusals: an interpolating mode on the wrong number of spatial
    dimensions of ``shape`` (C×…), align_corners with a mode that does not interpolate."""
    n = len(shape) - 1
    want = INTERPOLATING.get(mode)
    if want is not None and want != n:
        raise LayerError(
            f"mode={mode!r} needs {want} spatial dimension{'s' if want > 1 else ''}, "
            f"the input {fmt_shape(shape)} has {n}"
        )
    if align_corners is not None and mode not in INTERPOLATING:
        raise LayerError(
            "align_corners can only be set with the interpolating modes: "
            f"{', '.join(INTERPOLATING)} (mode is {mode!r})"
        )
