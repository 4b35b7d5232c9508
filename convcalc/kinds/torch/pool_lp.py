"""Power-average pooling, LPPool: an average pool's windows without padding
(docs/arithmetic.md#pooling)."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import FLOAT, Param
from convcalc.kinds.layer import Out, Signature
from convcalc.kinds.registry import by_rank
from convcalc.kinds.shapes import Shape, expand
from convcalc.kinds.torch.pool import CEIL, KERNEL, STRIDE, WindowPool, layout, window_output
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import Solve

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"


@register
class LPPool(WindowPool):
    """LPPool1d/2d/3d: power-average pooling, shaped like an average pool without
    padding (it runs avg_pool on x^p)."""

    NAMES = {**by_rank("lppool"), **by_rank("lp_pool", generic=False)}
    TORCH = {
        f"LPPool{n}d": Signature(
            ("norm_type", "kernel_size", "stride", "ceil_mode"),
            required=2,
            whole=("kernel_size",),
            scalar=("kernel_size",) if n == 1 else (),
        )
        for n in (1, 2, 3)
    }
    PARAMS = (
        Param("norm_type", FLOAT, positional=True, required=True, aliases=("p_norm",)),
        KERNEL,
        STRIDE,
        CEIL,
    )
    SUMMARY = "power-average pooling"

    norm_type: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.norm_type == 0:
            # Its forward pass raises ZeroDivisionError (it takes the 1/p-th root).
            raise LayerError("norm_type must not be 0")
        n, lead, spatial = layout("lppool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        zero, one = (0,) * n, (1,) * n
        return window_output("lppool", n, lead, spatial, k, s, zero, one, self.ceil_mode, n == 3)

    EXAMPLE = "2 k=2"

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (1,), (0,)  # an average pool's windows without padding

    # -- lint (convcalc.ask.lint)
    TAKES_PADDING = False

    SOLVE = Solve({"kernel_size": "kernel_size", "stride": "stride"}, {"stride": None})
