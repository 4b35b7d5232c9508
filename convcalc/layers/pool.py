"""Max, average and adaptive pooling (SEMANTICS.md §3)."""

from __future__ import annotations

from ..errors import LayerError
from .base import (
    BOOL,
    FLOAT,
    INT,
    INTS,
    OPT_INTS,
    Out,
    Param,
    Shape,
    SpatialLayer,
    check_non_negative,
    check_positive,
    dim_suffix,
    expand,
    fmt_shape,
    fmt_tuple,
    register,
    spatial_dims,
)

_K = Param("kernel_size", INTS, aliases=("k",), required=True, per_dim=True)
_S = Param("stride", INTS, None, aliases=("s",), per_dim=True, help="default: kernel_size")
_P = Param("padding", INTS, (0,), aliases=("p",), per_dim=True)
_CEIL = Param("ceil_mode", BOOL, False, aliases=("ceil",))


def pool_output(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """aten's pooling_output_shape."""
    dk = d * (k - 1) + 1
    out = (size + 2 * p - dk + (s - 1 if ceil else 0)) // s + 1
    # ceil_mode keeps a window that runs off the right edge but not one that would
    # START in the right padding: the last window must begin inside input or left pad.
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _window(
    kind: str,
    n: int,
    shape: Shape,
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
    for pi, ki in zip(p, k):
        # The limit uses the UNdilated kernel, even for a dilated max pool.
        if pi > ki // 2:
            raise LayerError(
                f"padding {fmt_tuple(p)} must be at most half of kernel_size {fmt_tuple(k)}"
            )
    spatial = shape[1:]
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
            dk = d[i] * (k[i] - 1) + 1
            kernel = f"kernel {dk}" if d[i] == 1 else f"dilated kernel {dk}"
            differs = len(set(zip(spatial, k, s, p, d))) > 1
            raise LayerError(
                f"output size {o} is too small: {kernel} does not fit in the padded input "
                f"{size + 2 * p[i]} ({size} + 2·{p[i]})" + dim_suffix(n, i, differs)
            )
        out.append(o)
    windows = tuple((di * (ki - 1) + 1, si, pi) for ki, si, pi, di in zip(k, s, p, d))
    return Out(f"{kind}{n}d", (shape[0], *out), rf=windows)


@register
class MaxPool(SpatialLayer):
    """MaxPool1d/2d/3d."""

    NAMES = {
        "maxpool1d": {"dim": 1},
        "maxpool2d": {"dim": 2},
        "maxpool3d": {"dim": 3},
        "maxpool": {"dim": None},
    }
    PARAMS = (_K, _S, _P, Param("dilation", INTS, (1,), aliases=("d",), per_dim=True), _CEIL)
    SUMMARY = "max pooling"

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims("maxpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        d = expand("dilation", self.dilation, n)
        return _window("maxpool", n, shape, k, s, p, d, self.ceil_mode, False)


@register
class AvgPool(SpatialLayer):
    """AvgPool1d/2d/3d (no dilation)."""

    NAMES = {
        "avgpool1d": {"dim": 1},
        "avgpool2d": {"dim": 2},
        "avgpool3d": {"dim": 3},
        "avgpool": {"dim": None},
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

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]
    ceil_mode: bool
    count_include_pad: bool
    divisor_override: int | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims("avgpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        if self.divisor_override is not None and self.divisor_override == 0:
            raise LayerError("divisor_override must not be zero")
        return _window("avgpool", n, shape, k, s, p, (1,) * n, self.ceil_mode, n == 3)


@register
class AdaptivePool(SpatialLayer):
    """AdaptiveAvg/MaxPool1d/2d/3d: the output size is given."""

    NAMES = {
        **{
            f"adaptive{op}pool{n}d": {"dim": n, "op": op}
            for op in ("avg", "max")
            for n in (1, 2, 3)
        },
        "adaptiveavgpool": {"dim": None, "op": "avg"},
        "adaptivemaxpool": {"dim": None, "op": "max"},
    }
    PARAMS = (Param("output_size", OPT_INTS, positional=True, required=True, per_dim=True),)
    SUMMARY = "adaptive pooling"

    dim: int | None
    op: str
    output_size: tuple[int | None, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims(f"adaptive{self.op}pool", self.dim, shape)
        size = expand("output_size", self.output_size, n)
        spatial = shape[1:]
        out: list[int] = []
        for o, L in zip(size, spatial):
            assert L is not None
            if L == 0:
                raise LayerError(f"input {fmt_shape(shape)} has an empty spatial dimension")
            if o is not None and o < 0:
                raise LayerError(f"output_size must not be negative, got {fmt_tuple(size)}")
            out.append(L if o is None else o)
        # Uniform windows (and so a receptive-field step) only when each size divides.
        rf: tuple[tuple[int, int, int], ...] | None = None
        if all(o > 0 and L % o == 0 for o, L in zip(out, spatial)):  # type: ignore[operator]
            rf = tuple((L // o, L // o, 0) for o, L in zip(out, spatial))  # type: ignore[operator]
        return Out(f"adaptive{self.op}pool{n}d", (shape[0], *out), rf=rf)


@register
class LPPool(SpatialLayer):
    """LPPool1d/2d/3d: power-average pooling, shaped like an average pool without
    padding (it runs avg_pool on x^p)."""

    NAMES = {
        "lppool1d": {"dim": 1},
        "lppool2d": {"dim": 2},
        "lppool3d": {"dim": 3},
        "lppool": {"dim": None},
    }
    PARAMS = (
        Param("norm_type", FLOAT, positional=True, required=True, aliases=("p_norm",)),
        _K,
        _S,
        _CEIL,
    )
    SUMMARY = "power-average pooling"

    dim: int | None
    norm_type: float
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    ceil_mode: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if self.norm_type == 0:
            # Its forward pass raises ZeroDivisionError (it takes the 1/p-th root).
            raise LayerError("norm_type must not be 0")
        n = spatial_dims("lppool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        out = _window("avgpool", n, shape, k, s, (0,) * n, (1,) * n, self.ceil_mode, n == 3)
        return out._replace(kind=f"lppool{n}d")


@register
class MaxUnpool(SpatialLayer):
    """MaxUnpool1d/2d/3d without output_size: out = (L − 1)·s + k − 2p."""

    NAMES = {
        "maxunpool1d": {"dim": 1},
        "maxunpool2d": {"dim": 2},
        "maxunpool3d": {"dim": 3},
        "maxunpool": {"dim": None},
    }
    PARAMS = (_K, _S, _P)
    SUMMARY = "max unpooling"

    dim: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims("maxunpool", self.dim, shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = k if self.stride is None else expand("stride", self.stride, n)
        p = expand("padding", self.padding, n)
        # PyTorch checks little here: zero kernels, zero strides (except in 3-d),
        # negative padding and an empty output all pass; only a negative size fails.
        if n == 3 and any(si <= 0 for si in s):
            raise LayerError(f"stride must be positive, got {fmt_tuple(s)}")
        out = []
        for size, ki, si, pi in zip(shape[1:], k, s, p):
            assert size is not None
            o = (size - 1) * si + ki - 2 * pi
            if o < 0:
                raise LayerError(f"output size {o} is negative: ({size}−1)·{si} + {ki} − 2·{pi}")
            out.append(o)
        return Out(f"maxunpool{n}d", (shape[0], *out), rf=None)


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
