"""What several PyTorch families share; no kind registers here, so a family's module
may import it without loading another family (kinds/torch/index.py)."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, PLACED, PLACEMENT, Param
from convcalc.kinds.layer import Signature
from convcalc.kinds.shapes import Shape, fmt_shape

# nn.LayerNorm's constructor; torchvision's LayerNorm2d subclasses it.
LAYER_NORM_SIGNATURE = Signature(
    ("normalized_shape", "eps", "elementwise_affine", "bias", *PLACEMENT),
    required=1,
    extra=PLACED,
)
ELEMENTWISE_AFFINE = Param("elementwise_affine", BOOL, True, aliases=("affine",))


def affine_params(c: int | None, affine: bool, bias: bool) -> int | None:
    """An affine norm's parameters: a weight, and a bias unless bias=False."""
    if not affine:
        return 0
    return None if c is None else c * (2 if bias else 1)


def token_shape(kind: str, shape: Shape) -> tuple[int | None, int | None]:
    """(L, E) of a token input; other ranks are rejected."""
    if len(shape) != 2:
        raise LayerError(
            f"{kind} expects an L×E input (L tokens of E features), got {fmt_shape(shape)}"
            + (" (flatten and transpose a C×H×W map first?)" if len(shape) > 2 else "")
        )
    return shape[0], shape[1]
