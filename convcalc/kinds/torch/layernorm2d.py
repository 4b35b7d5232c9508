"""torchvision's LayerNorm2d (torchvision/models/convnext.py): an nn.LayerNorm applied
to an N×C×H×W tensor permuted to channels-last (N×H×W×C) and permuted back — a
LayerNorm over the channels at every position, as in ConvNeXt's stem, downsampling
layers and head."""

from __future__ import annotations

from typing import Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INTS, Param
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, rank_error
from convcalc.kinds.torch.common import ELEMENTWISE_AFFINE, LAYER_NORM_SIGNATURE, affine_params
from convcalc.kinds.torch.registry import register

# The section of --list-layers the module's kinds are listed under.
SECTION = "Normalization"


@register
class LayerNorm2d(Layer):
    """LayerNorm2d(normalized_shape): normalizes the trailing dims of the channels-last
    H×W×C view (default: C alone); 2·∏normalized_shape parameters."""

    NAMES = {"layernorm2d": {}}
    TORCH = {"LayerNorm2d": LAYER_NORM_SIGNATURE}
    PARAMS = (
        Param(
            "normalized_shape",
            INTS,
            None,
            positional=True,
            help="default: the channel count; a tuple covers trailing dims of H×W×C",
        ),
        ELEMENTWISE_AFFINE,
        Param("bias", BOOL, True),
        Param("eps", FLOAT, 1e-5),
    )
    SUMMARY = "layer normalization over the channels of a C×H×W map"

    normalized_shape: tuple[int, ...] | None
    elementwise_affine: bool
    bias: bool
    eps: float

    def spatial_rank(self) -> int:
        # A lone H×W (or one size) before it is a map with an unknown channel count.
        return 2

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 3:
            # Its forward permutes with (0, 2, 3, 1): exactly N×C×H×W.
            raise rank_error("layernorm2d", shape, "C×H×W")
        c, h, w = shape
        size = c if self.normalized_shape is None else self._normalized_size((h, w, c))
        params = affine_params(size, self.elementwise_affine, self.bias)
        # Statistics per position (over the channels): the receptive field is unchanged.
        return Out("layernorm2d", shape, params=params)

    def _normalized_size(self, last: Shape) -> int:
        norm = self.normalized_shape
        assert norm is not None
        if len(norm) > len(last) or any(
            s is not None and s != n for s, n in zip(last[len(last) - len(norm) :], norm)
        ):
            what = (
                f"the {last[-1]} channels"
                if len(norm) == 1 and last[-1] is not None
                else "the trailing dimensions"
            )
            raise LayerError(
                f"normalized_shape {fmt_tuple(norm)} does not match {what} of the input "
                f"seen channels-last, H×W×C = {fmt_shape(last)}"
            )
        if any(n <= 0 for n in norm):
            raise LayerError(f"normalized_shape must be positive, got {fmt_tuple(norm)}")
        size = 1
        for n in norm:
            size *= n
        return size

    TORCH_HELPER = '''
    class LayerNorm2d(nn.LayerNorm):
        """torchvision's LayerNorm2d (ConvNeXt): a LayerNorm over the channels of N×C×H×W."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.permute(0, 2, 3, 1)
            x = nn.functional.layer_norm(
                x, self.normalized_shape, self.weight, self.bias, self.eps
            )
            return x.permute(0, 3, 1, 2)
    '''

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        norm = self.normalized_shape
        return {**self.__dict__, "normalized_shape": (shape[0],) if norm is None else norm}

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
