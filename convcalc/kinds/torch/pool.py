"""Max and average pooling, and what the other pools (pool_adaptive.py, pool_lp.py,
pool_unpool.py) share: the arguments, the layout of an input, the window arithmetic
(docs/arithmetic.md#pooling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, Param
from convcalc.kinds.layer import Out, Signature, SpatialLayer
from convcalc.kinds.registry import by_rank
from convcalc.kinds.shapes import (
    Shape,
    check_non_negative,
    check_nonempty,
    check_positive,
    dim_suffix,
    expand,
    fmt_shape,
    fmt_tuple,
    spatial_dims,
)
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import Probe, Solve, dilated, pool_output

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"

KERNEL = Param("kernel_size", INTS, aliases=("k",), required=True, per_dim=True)
STRIDE = Param("stride", INTS, None, aliases=("s",), per_dim=True, help="default: kernel_size")
PADDING = Param("padding", INTS, (0,), aliases=("p",), per_dim=True)
CEIL = Param("ceil_mode", BOOL, False, aliases=("ceil",))
# return_indices=True makes a pool return (output, indices): not one tensor.
ONE_OUTPUT = {
    "return_indices": (
        False,
        "return_indices=True makes it return (output, indices); convcalc follows one tensor",
    )
}


def layout(kind: str, dim: int | None, shape: Shape) -> tuple[int, Shape, Shape]:
    """(n, lead, spatial). PyTorch's pools also take an unbatched C×spatial input: a pool
    whose name fixes n, given one of convcalc's n-dim shapes, pools all of it (the batch
    stands for the channels, and any batch size works)."""
    if dim is not None and len(shape) == dim:
        return dim, (), shape
    n = spatial_dims(kind, dim, shape)
    return n, shape[:1], shape[1:]


def window_output(
    kind: str,
    n: int,
    lead: Shape,
    spatial: Shape,
    k: tuple[int, ...],
    s: tuple[int, ...],
    p: tuple[int, ...],
    d: tuple[int, ...],
    ceil: bool,
    needs_full_kernel: bool,
) -> Out:
    check_positive("kernel_size", k)
    check_positive("stride", s)
    check_positive("dilation", d)
    check_non_negative("padding", p)
    check_nonempty(f"{kind}{n}d", (*lead, *spatial))
    for pi, ki in zip(p, k):
        # The limit uses the UNdilated kernel, even for a dilated max pool.
        if pi > ki // 2:
            raise LayerError(
                f"padding {fmt_tuple(p)} must be at most half of kernel_size {fmt_tuple(k)}"
            )
    if needs_full_kernel:
        # AvgPool3d (unlike 1d/2d) needs the unpadded input to hold the kernel.
        for size, ki in zip(spatial, k):
            assert size is not None
            if size < ki:
                raise LayerError(
                    f"input {fmt_shape(spatial)} is smaller than kernel_size {fmt_tuple(k)} "
                    "(3-d average and LP pooling need the unpadded input to hold the kernel)"
                )
    out = []
    for i, size in enumerate(spatial):
        assert size is not None
        o = pool_output(size, k[i], s[i], p[i], d[i], ceil)
        if o < 1:
            dk = dilated(k[i], d[i])
            kernel = f"kernel {dk}" if d[i] == 1 else f"dilated kernel {dk}"
            differs = len(set(zip(spatial, k, s, p, d))) > 1
            raise LayerError(
                f"output size {o} is too small: {kernel} does not fit in the padded input "
                f"{size + 2 * p[i]} ({size} + 2·{p[i]})" + dim_suffix(n, i, differs)
            )
        out.append(o)
    windows = tuple((dilated(ki, di), si, pi) for ki, si, pi, di in zip(k, s, p, d))
    return Out(f"{kind}{n}d", (*lead, *out), rf=windows if lead else None)


def _solve_size(probe: Probe, ceil: bool, full_kernel: bool) -> int | None:
    """A pool's solve_size: window_output's rules on one dimension, without the messages."""
    k, s, p, d, _ = probe.values
    size = probe.size
    if (full_kernel and k > size) or p > k // 2:
        return None
    out = pool_output(size, k, s, p, d, ceil)
    return out if out >= 1 else None


class WindowPool(SpatialLayer):
    """What MaxPool, AvgPool and LPPool share: PyTorch's sliding windows, whose stride
    defaults to the kernel size, and the answers they give about them."""

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    ceil_mode: bool

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Its windows' dilation and padding, as written (per_dim)."""
        raise NotImplementedError

    EXAMPLE = "k=2"

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        stride = self.kernel_size if self.stride is None else self.stride
        return {**self.__dict__, "stride": stride}

    def explain(self, row: Row) -> list[Step]:
        """⌊…⌋ + 1 (or ceil_mode's ⌈…⌉ + 1, less a window starting in the padding)."""
        from convcalc.kinds.explaining import known, torch_windows

        if not known(row.input):
            return []
        d, p = self._dilation_padding()
        return torch_windows(row, self.kernel_size, self.stride, d, p, self.ceil_mode, False)

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    RANK_FROM_INPUT = True
    # Whether its fixes may offer more padding (LPPool takes none).
    TAKES_PADDING: ClassVar[bool] = True

    def windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        from convcalc.kinds.windows import torch_windows

        d, p = self._dilation_padding()
        return torch_windows(shape, out, self.kernel_size, self.stride, d, p)

    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        return None if self.ceil_mode else self.windows(shape, out)

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        return _floor_fixes(dims, short, padding=self.TAKES_PADDING)

    # -- solve (convcalc.ask.solve)
    # Whether its 3-d form needs the unpadded input to hold the kernel (as window_output checks).
    FULL_KERNEL_3D: ClassVar[bool] = True

    def solve_size(self, probe: Probe) -> int | None:
        return _solve_size(probe, self.ceil_mode, self.FULL_KERNEL_3D and probe.n == 3)


@register
class MaxPool(WindowPool):
    """MaxPool1d/2d/3d."""

    NAMES = {**by_rank("maxpool"), **by_rank("max_pool", generic=False)}
    TORCH = {
        f"MaxPool{n}d": Signature(
            ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
            required=1,
            only=ONE_OUTPUT,
        )
        for n in (1, 2, 3)
    }
    PARAMS = (
        KERNEL,
        STRIDE,
        PADDING,
        Param("dilation", INTS, (1,), aliases=("d",), per_dim=True),
        CEIL,
    )
    SUMMARY = "max pooling"

    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = layout("maxpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        d = expand("dilation", self.dilation, n)
        return window_output("maxpool", n, lead, spatial, k, s, p, d, self.ceil_mode, False)

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.dilation, self.padding

    # stride None: the kernel size (a pool's default); padding at most kernel_size // 2
    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding", "dilation")},
        {"stride": None, "padding": 0, "dilation": 1},
        half_pad=True,
    )

    FULL_KERNEL_3D = False


@register
class AvgPool(WindowPool):
    """AvgPool1d/2d/3d (no dilation)."""

    NAMES = {**by_rank("avgpool"), **by_rank("avg_pool", generic=False)}
    TORCH = {
        f"AvgPool{n}d": Signature(
            ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
            + (("divisor_override",) if n > 1 else ()),
            required=1,
        )
        for n in (1, 2, 3)
    }
    PARAMS = (
        KERNEL,
        STRIDE,
        PADDING,
        CEIL,
        Param("count_include_pad", BOOL, True),
        Param("divisor_override", INT, None),
    )
    SUMMARY = "average pooling"

    padding: tuple[int, ...]
    count_include_pad: bool
    divisor_override: int | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = layout("avgpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        if self.divisor_override is not None and self.divisor_override == 0:
            raise LayerError("divisor_override must not be zero")
        return window_output("avgpool", n, lead, spatial, k, s, p, (1,) * n, self.ceil_mode, n == 3)

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (1,), self.padding

    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding")},
        {"stride": None, "padding": 0},
        half_pad=True,
    )


def _floor_fixes(dims: list[WindowDim], short: list[int], padding: bool) -> list[FloorFix]:
    """A floor-mode pool's fixes: ceil=true, when it reaches the end of every short
    axis; more padding (p=, at most half the kernel), for a pool that takes it."""
    from convcalc.kinds.windows import FloorFix, covers, padding_fix

    found = []
    ceil = [pool_output(w.size, w.k, w.s, w.left, w.d, True) for w in dims]
    if all(covers(dims[i].size, ceil[i], dims[i].s, dims[i].left, dims[i].dk) for i in short):
        found.append(FloorFix("ceil=true", ceil))

    def sizes(pads: tuple[int, ...]) -> list[int] | None:
        if any(p > w.k // 2 for p, w in zip(pads, dims)):
            return None  # the pool refuses it
        return [pool_output(w.size, w.k, w.s, p, w.d, False) for p, w in zip(pads, dims)]

    fix = padding_fix(dims, short, sizes) if padding else None
    return found if fix is None else [*found, fix]
