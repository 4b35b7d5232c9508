"""What several PyTorch families share; no kind registers here, so a family's module
may import it without loading another family (kinds/torch/index.py)."""

from __future__ import annotations

from convcalc.kinds.args import BOOL, PLACED, PLACEMENT, Param
from convcalc.kinds.layer import Signature

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
