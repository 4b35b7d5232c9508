"""Max, average and adaptive pooling (docs/arithmetic.md#pooling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, OPT_INTS, Param
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
from convcalc.kinds.windows import Probe, Solve, dilated, pool_output, unpool_size

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"

_K = Param("kernel_size", INTS, aliases=("k",), required=True, per_dim=True)
_S = Param("stride", INTS, None, aliases=("s",), per_dim=True, help="default: kernel_size")
_P = Param("padding", INTS, (0,), aliases=("p",), per_dim=True)
_CEIL = Param("ceil_mode", BOOL, False, aliases=("ceil",))
# return_indices=True makes a pool return (output, indices): not one tensor.
_ONE_OUTPUT = {
    "return_indices": (
        False,
        "return_indices=True makes it return (output, indices); convcalc follows one tensor",
    )
}


def _layout(kind: str, dim: int | None, shape: Shape) -> tuple[int, Shape, Shape]:
    """(n, lead, spatial). PyTorch's pools also take an unbatched C×spatial input: a pool
    whose name fixes n, given one of convcalc's n-dim shapes, pools all of it (the batch
    stands for the channels, and any batch size works)."""
    if dim is not None and len(shape) == dim:
        return dim, (), shape
    n = spatial_dims(kind, dim, shape)
    return n, shape[:1], shape[1:]


def _window(
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
    """A pool's solve_size: _window's rules on one dimension, without the messages."""
    k, s, p, d, _ = probe.values
    size = probe.size
    if (full_kernel and k > size) or p > k // 2:
        return None
    out = pool_output(size, k, s, p, d, ceil)
    return out if out >= 1 else None


class _WindowPool(SpatialLayer):
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
    # Whether its 3-d form needs the unpadded input to hold the kernel (as _window checks).
    FULL_KERNEL_3D: ClassVar[bool] = True

    def solve_size(self, probe: Probe) -> int | None:
        return _solve_size(probe, self.ceil_mode, self.FULL_KERNEL_3D and probe.n == 3)


@register
class MaxPool(_WindowPool):
    """MaxPool1d/2d/3d."""

    NAMES = {**by_rank("maxpool"), **by_rank("max_pool", generic=False)}
    TORCH = {
        f"MaxPool{n}d": Signature(
            ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
            required=1,
            only=_ONE_OUTPUT,
        )
        for n in (1, 2, 3)
    }
    PARAMS = (_K, _S, _P, Param("dilation", INTS, (1,), aliases=("d",), per_dim=True), _CEIL)
    SUMMARY = "max pooling"

    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = _layout("maxpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        d = expand("dilation", self.dilation, n)
        return _window("maxpool", n, lead, spatial, k, s, p, d, self.ceil_mode, False)

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
class AvgPool(_WindowPool):
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
        _K,
        _S,
        _P,
        _CEIL,
        Param("count_include_pad", BOOL, True),
        Param("divisor_override", INT, None),
    )
    SUMMARY = "average pooling"

    padding: tuple[int, ...]
    count_include_pad: bool
    divisor_override: int | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = _layout("avgpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        if self.divisor_override is not None and self.divisor_override == 0:
            raise LayerError("divisor_override must not be zero")
        return _window("avgpool", n, lead, spatial, k, s, p, (1,) * n, self.ceil_mode, n == 3)

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (1,), self.padding

    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding")},
        {"stride": None, "padding": 0},
        half_pad=True,
    )


@register
class AdaptivePool(SpatialLayer):
    """AdaptiveAvg/MaxPool1d/2d/3d: the output size is given."""

    NAMES = {
        **{
            f"adaptive{op}pool{n}d": {"dim": n, "op": op}
            for op in ("avg", "max")
            for n in (1, 2, 3)
        },
        **{
            f"adaptive_{op}_pool{n}d": {"dim": n, "op": op}
            for op in ("avg", "max")
            for n in (1, 2, 3)
        },
        "adaptiveavgpool": {"dim": None, "op": "avg"},
        "adaptivemaxpool": {"dim": None, "op": "max"},
    }
    TORCH = {
        **{
            f"AdaptiveAvgPool{n}d": Signature(("output_size",), required=1, whole=("output_size",))
            for n in (1, 2, 3)
        },
        **{
            f"AdaptiveMaxPool{n}d": Signature(
                ("output_size", "return_indices"),
                required=1,
                only=_ONE_OUTPUT,
                whole=("output_size",),
            )
            for n in (1, 2, 3)
        },
    }
    PARAMS = (Param("output_size", OPT_INTS, positional=True, required=True, per_dim=True),)
    SUMMARY = "adaptive pooling"

    dim: int | None
    op: str
    output_size: tuple[int | None, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = f"adaptive{self.op}pool"
        mean = self._mean(shape)
        if mean is not None:
            return mean
        n, lead, spatial = _layout(kind, self.dim, shape)
        if self.output_size == (None,):
            # nn.AdaptiveAvgPool2d(None) fails (len(None)); 1-d pools take no None at all.
            raise LayerError(
                "a lone None is not an output size in PyTorch: write one per dimension "
                "(None,None keeps both sizes of a 2-d input)"
                if n > 1
                else "1-d adaptive pooling takes no None in PyTorch; give the output size"
            )
        size = expand("output_size", self.output_size, n)
        if any(o is not None and o < 0 for o in size):
            raise LayerError(f"output_size must not be negative, got {fmt_tuple(size)}")
        out = [L if o is None else o for o, L in zip(size, spatial)]
        # Empty inputs: average pooling to all-ones sizes takes a shortcut (a mean) that
        # checks nothing; otherwise 1-d and 2-d average pooling check the spatial dims,
        # max pooling and 3-d average pooling every dimension but the batch.
        if self.op == "max" or any(o != 1 for o in out):
            checked = (*lead, *spatial) if self.op == "max" or n == 3 else spatial
            if 0 in checked:
                raise LayerError(
                    f"{kind}{n}d needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                    "accepts an empty batch only"
                    + (" or no channels" if checked is spatial and lead else "")
                )
        # Uniform windows (and so a receptive-field step) only when each size divides.
        rf: tuple[tuple[int, int, int], ...] | None = None
        if lead and all(o and L and L % o == 0 for o, L in zip(out, spatial)):  # type: ignore[operator]
            rf = tuple((L // o, L // o, 0) for o, L in zip(out, spatial))  # type: ignore[operator]
        return Out(f"{kind}{n}d", (*lead, *out), rf=rf)

    def _mean(self, shape: Shape) -> Out | None:
        """2-d and 3-d average pooling to all-ones sizes takes a shortcut, a mean over the
        last 2 or 3 dimensions, before it checks the input's rank: more leading dimensions
        pass (AdaptiveAvgPool2d(1) on C×D×H×W gives C×D×1×1)."""
        d = self.dim
        if self.op != "avg" or d not in (2, 3) or len(shape) <= d + 1:
            return None
        size = self.output_size * d if len(self.output_size) == 1 else self.output_size
        last = shape[-d:]
        if len(size) != d or any((L if o is None else o) != 1 for o, L in zip(size, last)):
            return None
        return Out(f"adaptiveavgpool{d}d", (*shape[:-d], *(1,) * d), rf=None)

    EXAMPLE = "7"

    def explain(self, row: Row) -> list[Step]:
        """The sizes are given; the notes say which windows give them."""
        from convcalc.kinds.explaining import Step, one_window, torch_sizes

        steps = []
        for _, name, size, out in torch_sizes(row):
            if out == 1:
                steps.append(one_window(row.index, name, size))
                continue
            if out == 0:
                note = "an empty output"
            elif size % out == 0:
                w = size // out
                note = f"{out} windows of {size}/{out} = {w}, stride {w}"
            else:
                starts = [i * size // out for i in range(out)]
                ends = [-(-(j + 1) * size // out) for j in range(out)]
                widths = [e - b for b, e in zip(starts, ends)]
                shown = " ".join(f"[{b},{e})" for b, e in list(zip(starts, ends))[:4])
                more = " …" if out > 4 else ""
                note = (
                    f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉): {shown}{more}, "
                    f"{min(widths)}–{max(widths)} wide"
                    if min(widths) != max(widths)
                    else f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉), {widths[0]} "
                    f"wide, overlapping: {shown}{more}"
                )
            steps.append(Step(row.index, name, str(out), out, note))
        return steps

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    RANK_FROM_INPUT = True
    SIZE_IS_GIVEN = True

    SOLVE = Solve(output_size="output_size")


@register
class LPPool(_WindowPool):
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
        _K,
        _S,
        _CEIL,
    )
    SUMMARY = "power-average pooling"

    norm_type: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.norm_type == 0:
            # Its forward pass raises ZeroDivisionError (it takes the 1/p-th root).
            raise LayerError("norm_type must not be 0")
        n, lead, spatial = _layout("lppool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        zero, one = (0,) * n, (1,) * n
        return _window("lppool", n, lead, spatial, k, s, zero, one, self.ceil_mode, n == 3)

    EXAMPLE = "2 k=2"

    def _dilation_padding(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (1,), (0,)  # an average pool's windows without padding

    # -- lint (convcalc.ask.lint)
    TAKES_PADDING = False

    SOLVE = Solve({"kernel_size": "kernel_size", "stride": "stride"}, {"stride": None})


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
    PARAMS = (_K, _S, _P)
    SUMMARY = "max unpooling"

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, lead, spatial = _layout("maxunpool", self.dim, shape)
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


register(
    AdaptivePool,
    names={
        "gap": {"dim": None, "op": "avg", "output_size": (1,)},
        "globalavgpool": {"dim": None, "op": "avg", "output_size": (1,)},
        "gmp": {"dim": None, "op": "max", "output_size": (1,)},
        "globalmaxpool": {"dim": None, "op": "max", "output_size": (1,)},
    },
    params=(),
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
