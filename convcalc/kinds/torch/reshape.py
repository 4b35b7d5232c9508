"""Layers that resample or rearrange: upsample, pixel (un)shuffle, flatten, unflatten,
channel shuffle; and linear and GLU (docs/arithmetic.md#other-layers). Padding is
padding.py's."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOATS, INT, INTS, OPT_BOOL, PLACED, PLACEMENT, Param
from convcalc.kinds.interpolate import MODE_PARAMS, check_mode
from convcalc.kinds.layer import Layer, Out, Signature, WrittenTuple
from convcalc.kinds.shapes import (
    Shape,
    batch_axis_index,
    fmt_shape,
    fmt_tuple,
    prod,
    rank_error,
)
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Resampling, reshaping and linear"


@register
class Upsample(Layer):
    """nn.Upsample / F.interpolate: out = size, or floor(float64(L) · scale)."""

    NAMES = {"upsample": {}, "interpolate": {}}
    TORCH = {
        "Upsample": Signature(
            ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
            whole=("size", "scale_factor"),
        )
    }
    PARAMS = (
        Param("scale_factor", FLOATS, None, aliases=("scale",), per_dim=True),
        Param("size", INTS, None, per_dim=True),
        *MODE_PARAMS,
        # With a scale factor it changes how values are computed, never the size.
        Param("recompute_scale_factor", OPT_BOOL, None),
    )
    SUMMARY = "upsampling"

    scale_factor: tuple[float, ...] | None
    size: tuple[int, ...] | None
    mode: str
    align_corners: bool | None
    recompute_scale_factor: bool | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = len(shape) - 1
        if not 1 <= n <= 3:
            raise rank_error("upsample", shape, "C×L, C×H×W or C×D×H×W")
        scale_factor = self.scale_factor
        if scale_factor is not None and len(scale_factor) == 1 and not scale_factor[0]:
            # nn.Upsample stores `float(scale_factor) if scale_factor else None`: a lone
            # 0 counts as not given (even for mode='area', which would accept a 0 size).
            raise LayerError("scale_factor=0 counts as no scale factor in PyTorch; give one > 0")
        if (self.size is None) == (scale_factor is None):
            raise LayerError("give exactly one of size= and scale_factor=")
        if self.recompute_scale_factor and self.size is not None:
            raise LayerError("recompute_scale_factor=true is not meaningful with an explicit size")
        check_mode(self.mode, self.align_corners, shape)
        spatial = shape[1:]
        if self.size is not None:
            one = len(self.size) == 1 and not isinstance(self.size, WrittenTuple)
            size = self.size * n if one else self.size
            if len(size) != n:
                raise LayerError(
                    f"size has {len(size)} values but the input has {n} spatial dimensions"
                )
            out = list(size)
        else:
            assert self.scale_factor is not None
            one = len(self.scale_factor) == 1 and not isinstance(self.scale_factor, WrittenTuple)
            scale = self.scale_factor * n if one else self.scale_factor
            if len(scale) != n:
                raise LayerError(
                    f"scale_factor has {len(scale)} values but the input has {n} spatial dimensions"
                )
            out = []
            for L, f in zip(spatial, scale):
                assert L is not None
                # PyTorch floors the float64 product: 100 × 0.29 = 28.999… → 28.
                product = float(L) * f
                if not math.isfinite(product):
                    raise LayerError(f"scale_factor {f:g} makes the output size overflow")
                out.append(math.floor(product))
        if self.mode == "area":
            # 'area' runs adaptive average pooling, which accepts a 0 size, an input without
            # channels in 1-d and 2-d (its checks cover the spatial dims only), and any
            # empty input when every output size is 1 (it takes a mean then).
            if any(o < 0 for o in out):
                raise LayerError(f"output size {fmt_tuple(tuple(out))} must not be negative")
            if any(o != 1 for o in out) and 0 in (shape if n == 3 else spatial):
                raise LayerError(
                    f"mode='area' needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                    "accepts an empty batch only" + ("" if n == 3 else " or no channels")
                )
        elif any(o <= 0 for o in out) or 0 in spatial:
            raise LayerError(
                f"input and output sizes must be greater than 0: input {fmt_shape(spatial)}, "
                f"output {fmt_shape(out)}"
            )
        elif shape[0] == 0:
            raise LayerError(
                f"mode={self.mode!r} needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                "accepts an empty batch only"
            )
        return Out("upsample", (shape[0], *out), rf=None)

    EXAMPLE = "scale=2"

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        # One value per spatial dimension: nn.Upsample does not broadcast a 1-tuple.
        n = len(shape) - 1
        values = dict(self.__dict__)
        for key in ("size", "scale_factor"):
            value = values[key]
            if value is not None:
                values[key] = tuple(value) * n if len(value) == 1 else tuple(value)
        return values

    def explain(self, row: Row) -> list[Step]:
        """⌊L × scale⌋, the float64 product floored; or the size given."""
        from convcalc.kinds.explaining import Step, per_dim, torch_sizes

        n = len(row.input) - 1
        steps = []
        for i, name, size, out in torch_sizes(row):
            if self.scale_factor is None:
                steps.append(Step(row.index, name, str(out), out, "size given"))
                continue
            f = per_dim(self.scale_factor, n)[i]
            product = float(size) * f
            note = ""
            if not product.is_integer():
                note = f"the float64 product is {product!r}; PyTorch floors it"
            steps.append(Step(row.index, name, f"⌊{size} × {f!r}⌋", out, note))
        return steps

    # torch.nn.functional's deprecated shorthands and nn's UpsamplingNearest2d and
    # UpsamplingBilinear2d: their mode is fixed. (Their print shows it: mode='nearest'.)

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    UPSAMPLES = True

    def grows_maps(self) -> bool:
        return self.size is not None or any(f > 1 for f in self.scale_factor or ())

    SOLVE = Solve(resample=("size", "scale_factor"))


_FIXED_MODE = Signature(("size", "scale_factor"), kwonly=("mode",), whole=("size", "scale_factor"))


def _fixed_mode(word: str, torch_class: str, mode: str, align_corners: bool | None) -> None:
    """Registers F.upsample_*'s word and nn's Upsampling*2d: an Upsample whose mode is
    fixed, taking only size or scale_factor."""
    fixed = {"mode": mode, "align_corners": align_corners, "recompute_scale_factor": None}
    register(
        Upsample,
        names={word: fixed, torch_class.lower(): {**fixed}},
        params=tuple(p for p in Upsample.PARAMS if p.name in ("scale_factor", "size")),
        torch={torch_class: _FIXED_MODE},
    )


_fixed_mode("upsample_nearest", "UpsamplingNearest2d", "nearest", None)
_fixed_mode("upsample_bilinear", "UpsamplingBilinear2d", "bilinear", True)


@register
class PixelShuffle(Layer):
    """(*, C·r², H, W) → (*, C, H·r, W·r) and its inverse."""

    NAMES = {
        "pixelshuffle": {"inverse": False},
        "pixelunshuffle": {"inverse": True},
        "pixel_shuffle": {"inverse": False},
        "pixel_unshuffle": {"inverse": True},
    }
    TORCH = {
        "PixelShuffle": Signature(("upscale_factor",), required=1),
        "PixelUnshuffle": Signature(
            ("downscale_factor",), required=1, renames={"downscale_factor": "upscale_factor"}
        ),
    }
    PARAMS = (
        Param("upscale_factor", INT, positional=True, required=True, aliases=("r", "factor")),
    )
    SUMMARY = "pixel shuffle"

    inverse: bool
    upscale_factor: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = "pixelunshuffle" if self.inverse else "pixelshuffle"
        r = self.upscale_factor
        if len(shape) < 2:
            raise rank_error(kind, shape, "C×H×W")
        if r <= 0:
            raise LayerError(f"the factor must be positive, got {r}")
        *lead, c, h, w = (None, *shape) if len(shape) == 2 else shape
        assert h is not None and w is not None
        if self.inverse:
            for name, size in (("height", h), ("width", w)):
                if size % r:
                    raise LayerError(f"{name} {size} is not divisible by the factor {r}")
        if len(shape) == 2:
            # PyTorch reads (N, H, W) as one unbatched C×H×W image, the batch as its
            # channels: a factor of 1 changes nothing, any other would change the batch
            # size (except that pixel_unshuffle returns an empty input as it is).
            if r == 1 or (self.inverse and 0 in shape):
                return Out(kind, shape, rf=None)
            raise rank_error(kind, shape, "C×H×W")
        if self.inverse:
            out = (c * r * r if c is not None else None, h // r, w // r)
            if 0 in shape:
                # After its checks, pixel_unshuffle returns an empty input as it is.
                return Out(kind, shape, rf=None)
        else:
            if c is not None and c % (r * r):
                raise LayerError(
                    f"channels {c} are not divisible by the factor squared {r}² = {r * r}"
                )
            out = (c // (r * r) if c is not None else None, h * r, w * r)
        return Out(kind, (*lead, *out), rf=None)

    EXAMPLE = "2"

    def explain(self, row: Row) -> list[Step]:
        """C / r² and H·r, W·r (or the inverse) on the last three dimensions."""
        from convcalc.kinds.explaining import Step, known

        if not known(row.input) or len(row.input) < 3 or row.input == row.output:
            # H×W read as unbatched with factor 1, or an empty input PyTorch hands back
            # unchanged: nothing is computed.
            return []
        *_, c, h, w = row.input
        *_, oc, oh, ow = row.output
        r = self.upscale_factor
        rank = len(row.input)
        # The last three dims; with extra leading ones they are named by number.
        cn, hn, wn = (
            ("C", "H", "W") if rank == 3 else (f"dim {i}" for i in range(rank - 2, rank + 1))
        )
        steps = []
        if self.inverse:
            if c is not None:
                steps.append(Step(row.index, cn, f"{c}·{r}·{r}", oc))
            steps.append(Step(row.index, hn, f"{h} / {r}", oh))
            steps.append(Step(row.index, wn, f"{w} / {r}", ow))
        else:
            if c is not None:
                steps.append(Step(row.index, cn, f"{c} / ({r}·{r})", oc))
            steps.append(Step(row.index, hn, f"{h}·{r}", oh))
            steps.append(Step(row.index, wn, f"{w}·{r}", ow))
        return steps

    # Which (input rank with batch, number of pads) the non-constant pad modes take.

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    UPSAMPLES = True

    def grows_maps(self) -> bool:
        return not self.inverse


@register
class Flatten(Layer):
    """nn.Flatten(start_dim=1, end_dim=-1); dims count the batch dimension as 0."""

    NAMES = {"flatten": {}}
    TORCH = {"Flatten": Signature(("start_dim", "end_dim"))}
    PARAMS = (
        Param("start_dim", INT, 1, aliases=("start",)),
        Param("end_dim", INT, -1, aliases=("end",)),
    )
    SUMMARY = "flatten"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    start_dim: int
    end_dim: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        rank = len(shape) + 1  # with the batch dimension
        dims = []
        for name, d in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -rank <= d < rank:
                raise LayerError(
                    f"{name}={d} is out of range for a {rank}-d input (batch included): "
                    f"expected {-rank}..{rank - 1}"
                )
            dims.append(d + rank if d < 0 else d)
        start, end = dims
        if start > end:
            raise LayerError(f"start_dim={self.start_dim} comes after end_dim={self.end_dim}")
        if start == 0:
            raise LayerError(
                "start_dim=0 would merge the batch dimension; convcalc keeps the batch apart"
            )
        merged = prod(shape[start - 1 : end])
        out = (*shape[: start - 1], merged, *shape[end:])
        return Out("flatten", out, rf=() if start == end else None)

    def explain(self, row: Row) -> list[Step]:
        """The product of the dimensions it merges."""
        from convcalc.kinds.explaining import dim_names, known, merged

        shape = row.input
        if not known(shape):
            return []
        rank = len(shape) + 1
        start = self.start_dim + rank if self.start_dim < 0 else self.start_dim
        end = self.end_dim + rank if self.end_dim < 0 else self.end_dim
        names = dim_names(shape)[start - 1 : end]
        label = "×".join(names) if start > 1 or end < rank - 1 else "features"
        return merged(row, shape[start - 1 : end], label, start - 1)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class Linear(Layer):
    """nn.Linear: (*, in) → (*, out); params in·out + out."""

    NAMES = {"linear": {}, "fc": {}, "dense": {}}
    TORCH = {
        "Linear": Signature(
            ("in_features", "out_features", "bias", *PLACEMENT), required=2, extra=PLACED
        )
    }
    PARAMS = (
        Param("out_features", INT, positional=True, required=True),
        Param("in_features", INT, None, aliases=("in",), help="checked against the input"),
        Param("bias", BOOL, True),
    )
    SUMMARY = "fully connected"

    out_features: int
    in_features: int | None
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        fin = shape[-1]
        fout = self.out_features
        if fout < 0:
            raise LayerError(f"out_features must not be negative, got {fout}")
        if self.in_features is not None:
            if self.in_features < 0:
                raise LayerError(f"in_features must not be negative, got {self.in_features}")
            if fin is not None and fin != self.in_features:
                hint = (
                    f" (the input is {fmt_shape(shape)}; flatten first?)" if len(shape) > 1 else ""
                )
                raise LayerError(
                    f"in_features={self.in_features} but the input's last dimension is {fin}{hint}"
                )
            fin = self.in_features
        if fin is None:
            params = macs = None
        else:
            params = fin * fout + (fout if self.bias else 0)
            lead = prod(shape[:-1])
            macs = None if lead is None else lead * fin * fout
        return Out("linear", (*shape[:-1], fout), params=params, macs=macs, rf=None)

    EXAMPLE, EXAMPLE_INPUT = "10", "512"

    def tie_weight(self, shape: Shape) -> tuple[int, ...] | None:
        fin = shape[-1] if self.in_features is None else self.in_features
        return None if fin is None else (self.out_features, fin)

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        return {**self.__dict__, "in_features": shape[-1]}

    def explain(self, row: Row) -> list[Step]:
        """out_features on the last dimension (explained with the others unknown too)."""
        from convcalc.kinds.explaining import last_axis

        return [last_axis(row, self.out_features)]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
    LINEAR_ON_LAST_AXIS = True


def _batched_dim(name: str, d: int, shape: Shape) -> int:
    """A PyTorch dim (batch counted as 0) as an index into ``shape`` (no batch)."""
    rank = len(shape) + 1
    return batch_axis_index(
        d,
        rank,
        f"{name}={d} is out of range for a {rank}-d input (batch included): "
        f"expected {-rank}..{rank - 1}",
        f"{name}={d} is the batch dimension; convcalc keeps the batch apart",
    )


@register
class Unflatten(Layer):
    """nn.Unflatten(dim, sizes): one dimension becomes several; one size may be -1."""

    NAMES = {"unflatten": {}}
    TORCH = {"Unflatten": Signature(("dim", "unflattened_size"), required=2)}
    PARAMS = (
        Param("dim", INT, positional=True, required=True),
        Param("unflattened_size", INTS, positional=True, required=True, aliases=("sizes",)),
    )
    SUMMARY = "unflatten"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    dim: int
    unflattened_size: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        axis = _batched_dim("dim", self.dim, shape)
        sizes = self.unflattened_size
        size = shape[axis]
        inferred = [i for i, v in enumerate(sizes) if v == -1]
        if len(inferred) > 1:
            raise LayerError(f"only one size can be -1, got {fmt_tuple(sizes)}")
        if any(v < -1 for v in sizes):
            raise LayerError(f"sizes must be positive (or one -1), got {fmt_tuple(sizes)}")
        known = prod(v for v in sizes if v != -1)
        assert known is not None
        new: list[int | None] = list(sizes)
        if size is None:
            if inferred:
                new[inferred[0]] = None
        elif inferred:
            if known == 0 or size % known:
                raise LayerError(
                    f"sizes {fmt_tuple(sizes)} cannot unflatten a dimension of size {size}"
                )
            new[inferred[0]] = size // known
        elif known != size:
            raise LayerError(
                f"sizes {fmt_tuple(sizes)} multiply to {known}, not to the size {size} of "
                f"dimension {self.dim}"
            )
        return Out("unflatten", (*shape[:axis], *new, *shape[axis + 1 :]), rf=None)

    EXAMPLE, EXAMPLE_INPUT = "1 16x7x7", "784"

    def explain(self, row: Row) -> list[Step]:
        """The -1 size: the dimension over the sizes given."""
        from convcalc.kinds.explaining import Step, known

        sizes = self.unflattened_size
        if not known(row.input) or -1 not in sizes:
            return []
        rank = len(row.input) + 1
        axis = self.dim % rank - 1
        size = row.input[axis]
        if size is None:
            return []
        given = [v for v in sizes if v != -1]
        j = sizes.index(-1)
        divisor = "·".join(map(str, given)) or "1"
        expr = f"{size} / ({divisor})" if len(given) > 1 else f"{size} / {divisor}"
        return [Step(row.index, f"dim {axis + j + 1}", expr, row.output[axis + j], "the -1 size")]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class GLU(Layer):
    """nn.GLU(dim=-1): halves one dimension (which must be even)."""

    NAMES = {"glu": {}}
    TORCH = {"GLU": Signature(("dim",))}
    PARAMS = (Param("dim", INT, -1),)
    SUMMARY = "gated linear unit"

    dim: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        axis = _batched_dim("dim", self.dim, shape)
        size = shape[axis]
        if size is not None and size % 2:
            raise LayerError(f"GLU halves dimension {self.dim}, but its size {size} is odd")
        half = None if size is None else size // 2
        # Halving a spatial dimension changes the grid: no receptive field past it.
        return Out("glu", (*shape[:axis], half, *shape[axis + 1 :]), rf=() if axis == 0 else None)

    def explain(self, row: Row) -> list[Step]:
        """The dimension it halves."""
        from convcalc.kinds.explaining import dim_names, halved, known

        return halved(row, dim_names(row.input)) if known(row.input) else []


@register
class ChannelShuffle(Layer):
    """nn.ChannelShuffle(groups): shape-neutral; channels divisible by groups."""

    NAMES = {"channelshuffle": {}, "channel_shuffle": {}}
    TORCH = {"ChannelShuffle": Signature(("groups",), required=1)}
    PARAMS = (Param("groups", INT, positional=True, required=True, aliases=("g",)),)
    SUMMARY = "channel shuffle"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    groups: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        g = self.groups
        if len(shape) < 2:
            raise rank_error("channelshuffle", shape, "C×L, C×H×W or more")
        if g <= 0:
            raise LayerError(f"groups must be positive, got {g}")
        c = shape[0]
        if c is not None and c % g:
            raise LayerError(f"channels {c} are not divisible by groups {g}")
        return Out("channelshuffle", shape)

    EXAMPLE = "2"
