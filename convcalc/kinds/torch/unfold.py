"""nn.Unfold (F.unfold, im2col: every k×k window of a C×H×W map as a column) and
torch.sum along one dimension: the shape-only words of RAFT's convex upsampling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, rank_error
from convcalc.kinds.torch.registry import register
from convcalc.kinds.torch.reshape import _batched_dim

SECTION = "Resampling, reshaping and linear"

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step


def _pair(name: str, value: tuple[int, ...]) -> tuple[int, int]:
    if len(value) == 1:
        return value[0], value[0]
    if len(value) != 2:
        raise LayerError(f"unfold's {name} takes one size or two (H, W), got {fmt_tuple(value)}")
    return value[0], value[1]


@register
class Unfold(Layer):
    """nn.Unfold(kernel_size, dilation, padding, stride): C×H×W → (C·kh·kw)×L, L the
    number of windows, ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1 along each side, multiplied.
    No parameters and, as PyTorch's flop counter has it, no MACs."""

    NAMES = {"unfold": {}}
    TORCH = {
        "Unfold": Signature(("kernel_size", "dilation", "padding", "stride"), required=1),
    }
    PARAMS = (
        Param("kernel_size", INTS, positional=True, required=True, aliases=("k",)),
        Param("dilation", INTS, default=(1,), aliases=("d",)),
        Param("padding", INTS, default=(0,), aliases=("p",)),
        Param("stride", INTS, default=(1,), aliases=("s",)),
    )
    SUMMARY = "unfold (im2col)"
    KEEPS_DTYPE = True  # moves elements only

    kernel_size: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[int, ...]
    stride: tuple[int, ...]

    def blocks(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        """(size, blocks) per spatial side; raises as F.unfold does."""
        if len(shape) != 3:
            raise rank_error("unfold", shape, "C×H×W")
        k, d = _pair("kernel_size", self.kernel_size), _pair("dilation", self.dilation)
        p, s = _pair("padding", self.padding), _pair("stride", self.stride)
        if min(k) <= 0:
            raise LayerError(f"unfold's kernel_size must be positive, got {fmt_tuple(k)}")
        if min(d) <= 0:
            raise LayerError(f"unfold's dilation must be positive, got {fmt_tuple(d)}")
        if min(p) < 0:
            raise LayerError(f"unfold's padding must not be negative, got {fmt_tuple(p)}")
        if min(s) <= 0:
            raise LayerError(f"unfold's stride must be positive, got {fmt_tuple(s)}")
        if 0 in shape:
            raise LayerError(
                f"unfold expects a non-empty C×H×W input, got {fmt_shape(shape)}: PyTorch "
                "accepts an empty batch only"
            )
        out = []
        for size, kk, dd, pp, ss in zip(shape[1:], k, d, p, s):
            assert size is not None
            out.append((size, (size + 2 * pp - dd * (kk - 1) - 1) // ss + 1))
        if any(b < 1 for _, b in out):
            raise LayerError(
                f"unfold: input {shape[1]}×{shape[2]} with kernel_size={fmt_tuple(k)}, "
                f"dilation={fmt_tuple(d)}, padding={fmt_tuple(p)}, stride={fmt_tuple(s)} "
                f"gives {out[0][1]}×{out[1][1]} windows; each side needs at least one"
            )
        return tuple(out)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        k = _pair("kernel_size", self.kernel_size)
        c = shape[0] if shape else None
        channels = None if c is None else c * k[0] * k[1]
        if len(shape) == 3 and (shape[1] is None or shape[2] is None):
            return Out("unfold", (channels, None), rf=None)
        (_, bh), (_, bw) = self.blocks(shape)
        return Out("unfold", (channels, bh * bw), rf=None)

    EXAMPLE, EXAMPLE_INPUT = "3 p=1", "2x64x64"

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        """Each size as nn.Unfold takes it: one int, or (H, W)."""
        out: dict[str, Any] = {}
        for name in ("kernel_size", "dilation", "padding", "stride"):
            h, w = _pair(name, getattr(self, name))
            out[name] = h if h == w else (h, w)
        return out

    def explain(self, row: Row) -> list[Step]:
        """C·kh·kw, and the windows along each side multiplied."""
        from convcalc.kinds.explaining import Step, known

        if not known(row.input):
            return []
        c = row.input[0]
        kh, kw = _pair("kernel_size", self.kernel_size)
        (h, bh), (w, bw) = self.blocks(row.input)
        dh, dw = _pair("dilation", self.dilation)
        ph, pw = _pair("padding", self.padding)
        sh, sw = _pair("stride", self.stride)
        side = "⌊({} + 2·{} − {}·({} − 1) − 1) / {}⌋ + 1"
        expr = f"({side.format(h, ph, dh, kh, sh)})·({side.format(w, pw, dw, kw, sw)})"
        return [
            Step(row.index, "C", f"{c}·{kh}·{kw}", row.output[0]),
            Step(row.index, "L", expr, bh * bw, "the windows, row by row"),
        ]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class Sum(Layer):
    """torch.sum(x, dim, keepdim): one dimension summed away (kept as 1 with keepdim).
    No parameters and, as PyTorch's flop counter has it, no MACs."""

    NAMES = {"sum": {}}
    PARAMS = (
        Param("dim", INT, positional=True, required=True),
        Param("keepdim", BOOL, default=False),
    )
    SUMMARY = "sum over a dimension"

    dim: int
    keepdim: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        axis = _batched_dim("dim", self.dim, shape)
        rest = (1,) if self.keepdim else ()
        return Out("sum", (*shape[:axis], *rest, *shape[axis + 1 :]), rf=None)

    EXAMPLE, EXAMPLE_INPUT = "2", "2x9x8x8"
    TORCH_HELPER = """
    class Sum(nn.Module):
        \"\"\"torch.sum over one dimension, as a module.\"\"\"

        def __init__(self, dim: int, keepdim: bool = False) -> None:
            super().__init__()
            self.dim = dim
            self.keepdim = keepdim

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sum(x, dim=self.dim, keepdim=self.keepdim)
    """

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"Sum(dim={self.dim}, keepdim={self.keepdim})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
