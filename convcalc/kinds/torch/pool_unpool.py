"""Max unpooling, MaxUnpool: out = (L − 1)·s + k − 2p (docs/arithmetic.md#pooling)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.layer import Out, Signature, SpatialLayer
from convcalc.kinds.registry import by_rank
from convcalc.kinds.shapes import Shape, check_nonempty, expand, fmt_tuple
from convcalc.kinds.torch.pool import KERNEL, PADDING, STRIDE, layout
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import Probe, Solve, unpool_size

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"


@register
class MaxUnpool(SpatialLayer):
    """MaxUnpool1d/2d/3d without output_size: out = (L − 1)·s + k − 2p."""

    NAMES = {**by_rank("maxunpool"), **by_rank("max_unpool", generic=False)}
    TORCH = {
        f"MaxUnpool{n}d": Signature(
            ("kernel_size", "stride", "padding"),
            required=1,
            whole=("kernel_size", "stride", "padding"),
        )
        for n in (1, 2, 3)
    }
    PARAMS = (KERNEL, STRIDE, PADDING)
    SUMMARY = "max unpooling"

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = layout("maxunpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        # PyTorch checks little here: zero kernels, zero strides (except in 3-d),
        # negative padding and an empty output all pass; only a negative size fails.
        if n == 3 and any(si <= 0 for si in s):
            raise LayerError(f"stride must be positive, got {fmt_tuple(s)}")
        check_nonempty(f"maxunpool{n}d", shape)
        out = []
        for size, ki, si, pi in zip(spatial, k, s, p):
            assert size is not None
            o = unpool_size(size, ki, si, pi)
            if o < 0:
                raise LayerError(f"output size {o} is negative: ({size}−1)·{si} + {ki} − 2·{pi}")
            out.append(o)
        return Out(f"maxunpool{n}d", (*lead, *out), rf=None)

    EXAMPLE = "k=2"
    TORCH_UNWRITABLE = (
        "PyTorch's MaxUnpool needs the indices of a MaxPool(return_indices=True), which "
        "convcalc does not follow"
    )

    def explain(self, row: Row) -> list[Step]:
        """(L − 1)·s + k − 2p per spatial dimension."""
        from convcalc.kinds.explaining import Step, per_dim, torch_sizes

        n = len(row.input) - 1
        k = per_dim(self.kernel_size, n)
        s = k if self.stride is None else per_dim(self.stride, n)
        p = per_dim(self.padding, n)
        return [
            Step(row.index, name, f"({size}−1)·{s[i]} + {k[i]} − 2·{p[i]}", out)
            for i, name, size, out in torch_sizes(row)
        ]

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    UPSAMPLES = True

    def grows_maps(self) -> bool:
        return True

    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding")}, {"stride": None, "padding": 0}
    )

    def solve_size(self, probe: Probe) -> int | None:
        k, s, p, _, _ = probe.values
        out = unpool_size(probe.size, k, s, p)
        return out if out >= 0 else None
