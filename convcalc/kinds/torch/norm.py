"""Normalization layers: shape-neutral; learnable affine parameters are
parameters, running statistics are buffers (docs/arithmetic.md#parameters-and-buffers)."""

from __future__ import annotations

from typing import Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, OPT_FLOAT, PLACED, PLACEMENT, Param
from convcalc.kinds.layer import Layer, Out, Signature, SpatialLayer
from convcalc.kinds.registry import by_rank
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, prod, rank_error
from convcalc.kinds.torch.common import ELEMENTWISE_AFFINE, LAYER_NORM_SIGNATURE, affine_params
from convcalc.kinds.torch.registry import register

# The section of --list-layers the module's kinds are listed under.
SECTION = "Normalization"

_EPS = Param("eps", FLOAT, 1e-5)
_MOMENTUM = Param("momentum", OPT_FLOAT, 0.1)
# PyTorch 2.13's bias=False keeps the affine weight and drops the affine bias.
_BIAS = Param("bias", BOOL, True, help="the affine bias (with affine)")

# BatchNorm{n}d and InstanceNorm{n}d take the same arguments.
_NORM_SIGNATURE = Signature(
    ("num_features", "eps", "momentum", "affine", "track_running_stats", *PLACEMENT),
    required=1,
    kwonly=("bias",),
    extra=PLACED,
)


# Accepted input ranks (without the batch) per dimensionality: BatchNorm1d takes
# (N, C) or (N, C, L); the others exactly one rank. No unbatched form.
_RANKS = {1: (1, 2), 2: (3,), 3: (4,)}
_EXPECTED = {1: "C or C×L", 2: "C×H×W", 3: "C×D×H×W"}


def _norm_dim(kind: str, dim: int | None, shape: Shape) -> int:
    if dim is None:
        for d, ranks in _RANKS.items():
            if len(shape) in ranks:
                return d
        raise rank_error(kind, shape, "C, C×L, C×H×W or C×D×H×W")
    if len(shape) not in _RANKS[dim]:
        raise rank_error(f"{kind}{dim}d", shape, _EXPECTED[dim])
    return dim


def _check_statistics(kind: str, values: int, what: str, detail: str) -> None:
    """Layers that normalize with the input's own statistics need more than one
    value per statistic (PyTorch's _verify_batch_size / _verify_spatial_size)."""
    if values == 1:
        raise LayerError(f"{kind} needs more than 1 {what} to compute its statistics, got {detail}")


def _running_stats(c: int | None) -> int | None:
    """running_mean and running_var (C each) plus the int64 num_batches_tracked."""
    return None if c is None else 2 * c + 1


def _features(
    found: int | None,
    given: int | None,
    affine: bool,
    track: bool,
    *,
    empty: bool,
    strict_affine: bool = False,
    what: str = "channels",
) -> int | None:
    """num_features: ``given`` (c=), else the input's channel count. PyTorch compares it
    with the input's ``found`` features only through the tensors it sizes by it — the
    affine weight and the running statistics — and its kernel skips those checks on an
    empty input; without them any value passes (InstanceNorm merely warns).
    ``strict_affine``: InstanceNorm checks the affine case in Python, empty or not."""
    c = found if given is None else given
    if not (affine or track) or c is None:
        return c
    if c < 0:
        raise LayerError(f"num_features must not be negative, got {c}")
    if found is not None and c != found and (not empty or (affine and strict_affine)):
        raise LayerError(f"num_features={c} but the input has {found} {what}")
    if affine and c == 0:
        # Its empty weight fails an index in PyTorch's kernel (IndexError).
        raise LayerError("affine normalization of 0 features fails in PyTorch")
    return c


_WINDOW_NOTE = (
    "convcalc reports the receptive field of the convolution and pooling windows before it "
    "(what the receptive-field literature means), not the dependence of every output on the "
    "whole input that these statistics create."
)


def _channel_norm_params(affine: bool, track: bool) -> tuple[Param, ...]:
    """BatchNorm's and InstanceNorm's arguments: the same, but for two defaults."""
    return (
        Param("affine", BOOL, affine),
        Param("track_running_stats", BOOL, track, aliases=("track",)),
        _EPS,
        _MOMENTUM,
        Param("num_features", INT, None, aliases=("c",), help="checked against the input"),
        _BIAS,
    )


class _ChannelNorm(SpatialLayer):
    """What BatchNorm and InstanceNorm share beyond their arithmetic: num_features,
    the channel count (its input's when not given), and their lint traits."""

    dim: int | None
    affine: bool
    track_running_stats: bool
    eps: float
    momentum: float | None
    num_features: int | None
    bias: bool

    TORCH_LEFT_OUT = {"bias": True}

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        return {**self.__dict__, "num_features": _or_channels(self.num_features, shape)}

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"
    MAKES_MAP = True

    def _out(self, kind: str, shape: Shape, c: int | None) -> Out:
        """The figures of a norm over ``c`` channels: its affine weight (and bias), and
        its running statistics when it tracks them."""
        track = self.track_running_stats
        params = affine_params(c, self.affine, self.bias)
        buffers = _running_stats(c) if track else 0
        return Out(kind, shape, params=params, buffers=buffers, int64_buffers=int(track))

    def ignored_channels(self, shape: Shape) -> int | None:
        """num_features, when it is not the input's channel count and the norm has no
        weights or running statistics (then the layer itself raises on a mismatch)."""
        given = self.num_features
        channels = shape[0] if shape else None
        if given is None or channels is None or given == channels:
            return None
        return None if self.affine or self.track_running_stats else given


@register
class BatchNorm(_ChannelNorm):
    """BatchNorm1d/2d/3d: 2C parameters, 2C+1 buffers."""

    NAMES = {
        "batchnorm1d": {"dim": 1},
        "batchnorm2d": {"dim": 2},
        "batchnorm3d": {"dim": 3},
        "batchnorm": {"dim": None},
        "bn": {"dim": None},
        "bn1d": {"dim": 1},
        "bn2d": {"dim": 2},
        "bn3d": {"dim": 3},
        "batch_norm": {"dim": None},
    }
    TORCH = {f"BatchNorm{n}d": _NORM_SIGNATURE for n in (1, 2, 3)}
    PARAMS = _channel_norm_params(affine=True, track=True)
    SUMMARY = "batch normalization"
    NOTE = (
        "With track_running_stats=false it normalizes with the batch's own statistics, "
        "even in eval mode: every output then depends on the whole batch; " + _WINDOW_NOTE
    )

    def spatial_rank(self) -> int | None:
        # BatchNorm1d takes C or C×L: a lone size is the channel count.
        return None if self.dim == 1 else self.dim

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        d = _norm_dim("batchnorm", self.dim, shape)
        track = self.track_running_stats
        c = _features(shape[0], self.num_features, self.affine, track, empty=0 in shape)
        if track and self.eps < 0:
            raise LayerError(f"eps must not be negative, got {self.eps:g}")
        if not track:
            if self.eps <= 0:
                raise LayerError(
                    f"eps must be positive when batch norm uses the batch's statistics "
                    f"(track_running_stats=false), got {self.eps:g}"
                )
            # Without running statistics it uses the batch's own, even in eval mode.
            spatial = prod(shape[1:])
            assert spatial is not None
            _check_statistics(
                "batch norm without running stats",
                batch * spatial,
                "value per channel",
                f"batch {batch} × {fmt_shape(shape[1:]) or '1'}",
            )
        return self._out(f"batchnorm{d}d", shape, c)


@register
class InstanceNorm(_ChannelNorm):
    """InstanceNorm1d/2d/3d: no affine parameters or running stats by default."""

    NAMES = {**by_rank("instancenorm"), "instance_norm": {"dim": None}}
    TORCH = {f"InstanceNorm{n}d": _NORM_SIGNATURE for n in (1, 2, 3)}
    PARAMS = _channel_norm_params(affine=False, track=False)
    SUMMARY = "instance normalization"
    NOTE = "Its statistics span each channel's whole spatial extent; " + _WINDOW_NOTE

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = len(shape) - 1
        # InstanceNorm{n}d also takes an unbatched input (C, *spatial): given one of
        # convcalc's n-dim shapes, PyTorch takes the batch for the channels.
        unbatched = self.dim is not None and len(shape) == self.dim
        if self.dim is None:
            if not 1 <= n <= 3:
                raise rank_error("instancenorm", shape, "C×L, C×H×W or C×D×H×W")
        elif n != self.dim and not unbatched:
            raise rank_error(
                f"instancenorm{self.dim}d", shape, _EXPECTED[self.dim].split(" or ")[-1]
            )
        track = self.track_running_stats
        if unbatched:
            n = len(shape)
            given = shape[0] if self.num_features is None else self.num_features
            what = "channels: PyTorch reads this input as unbatched, the batch as its channels"
            c = _features(
                batch, given, self.affine, track, empty=0 in shape, strict_affine=True, what=what
            )
        else:
            c = _features(
                shape[0],
                self.num_features,
                self.affine,
                track,
                empty=0 in shape,
                strict_affine=True,
            )
        if not track:
            per_channel = shape if unbatched else shape[1:]
            spatial = prod(per_channel)
            assert spatial is not None
            _check_statistics("instance norm", spatial, "spatial element", fmt_shape(per_channel))
        return self._out(f"instancenorm{n}d", shape, c)


def _normalized_size(norm: tuple[int, ...] | None, shape: Shape) -> int | None:
    """Elements normalized together: the trailing ``norm`` dims (default: the last)."""
    if norm is None:
        return shape[-1]
    if len(norm) > len(shape) or any(
        s is not None and s != n for s, n in zip(shape[len(shape) - len(norm) :], norm)
    ):
        raise LayerError(
            f"normalized_shape {fmt_tuple(norm)} does not match the trailing dimensions "
            f"of the input {fmt_shape(shape)}"
        )
    if any(n < 0 for n in norm):
        raise LayerError(f"normalized_shape must not be negative, got {fmt_tuple(norm)}")
    return prod(norm)


_NORMALIZED_SHAPE = Param(
    "normalized_shape", INTS, None, positional=True, help="default: the last dimension"
)


class _TrailingNorm(Layer):
    """What LayerNorm and RMSNorm share: statistics over the trailing
    ``normalized_shape`` dims (default: the last one), an optional elementwise affine."""

    NOTE = "Its statistics span the normalized trailing dimensions; " + _WINDOW_NOTE
    EXAMPLE_INPUT = "10x64"

    normalized_shape: tuple[int, ...] | None
    elementwise_affine: bool

    # -- lint (convcalc.ask.lint)
    def norms_last_axis(self) -> bool:
        return self.normalized_shape is None

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        norm = self.normalized_shape
        return {**self.__dict__, "normalized_shape": (shape[-1],) if norm is None else norm}


@register
class LayerNorm(_TrailingNorm):
    """LayerNorm(normalized_shape): normalizes the trailing dims; 2·∏shape parameters."""

    NAMES = {"layernorm": {}, "ln": {}, "layer_norm": {}}
    TORCH = {"LayerNorm": LAYER_NORM_SIGNATURE}
    PARAMS = (_NORMALIZED_SHAPE, ELEMENTWISE_AFFINE, Param("bias", BOOL, True), _EPS)
    SUMMARY = "layer normalization"

    bias: bool
    eps: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        size = _normalized_size(self.normalized_shape, shape)
        params = affine_params(size, self.elementwise_affine, self.bias)
        return Out("layernorm", shape, params=params)


@register
class RMSNorm(_TrailingNorm):
    """RMSNorm(normalized_shape): like LayerNorm, with a weight and no bias."""

    NAMES = {"rmsnorm": {}, "rms_norm": {}}
    TORCH = {
        "RMSNorm": Signature(
            ("normalized_shape", "eps", "elementwise_affine", *PLACEMENT),
            required=1,
            extra=PLACED,
        )
    }
    PARAMS = (_NORMALIZED_SHAPE, ELEMENTWISE_AFFINE, Param("eps", FLOAT, None))
    SUMMARY = "RMS normalization"

    eps: float | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        size = _normalized_size(self.normalized_shape, shape)
        params = affine_params(size, self.elementwise_affine, bias=False)
        return Out("rmsnorm", shape, params=params)


@register
class LocalResponseNorm(Layer):
    """LocalResponseNorm(size): across channels; shape-neutral, no parameters."""

    NAMES = {"localresponsenorm": {}, "lrn": {}, "local_response_norm": {}}
    TORCH = {"LocalResponseNorm": Signature(("size", "alpha", "beta", "k"), required=1)}
    PARAMS = (
        Param("size", INT, positional=True, required=True),
        Param("alpha", FLOAT, 1e-4),
        Param("beta", FLOAT, 0.75),
        Param("k", FLOAT, 1.0),
    )
    SUMMARY = "local response normalization"

    size: int
    alpha: float
    beta: float
    k: float

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) < 2:
            raise rank_error("localresponsenorm", shape, "C×L, C×H×W or C×D×H×W")
        if self.size <= 0:
            raise LayerError(f"size must be positive, got {self.size}")
        return Out("localresponsenorm", shape)

    EXAMPLE = "5"


@register
class GroupNorm(Layer):
    """GroupNorm(G, C): C divisible by G; 2C parameters."""

    NAMES = {"groupnorm": {}, "gn": {}, "group_norm": {}}
    TORCH = {
        "GroupNorm": Signature(
            ("num_groups", "num_channels", "eps", "affine", *PLACEMENT),
            required=2,
            kwonly=("bias",),
            extra=PLACED,
        )
    }
    PARAMS = (
        Param("num_groups", INT, positional=True, required=True, aliases=("groups", "g")),
        Param("affine", BOOL, True),
        _EPS,
        Param("num_channels", INT, None, aliases=("c",), help="checked against the input"),
        _BIAS,
    )
    SUMMARY = "group normalization"
    NOTE = "Its statistics span each group of channels over all positions; " + _WINDOW_NOTE

    num_groups: int
    affine: bool
    eps: float
    num_channels: int | None
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        g = self.num_groups
        c = shape[0]
        if g <= 0:
            raise LayerError(f"num_groups must be positive, got {g}")
        given = self.num_channels
        if given is not None:
            # PyTorch checks it when it builds the module; the input's channels only
            # through the affine weight it sizes.
            if given < 0:
                raise LayerError(f"num_channels must not be negative, got {given}")
            if given % g:
                raise LayerError(f"num_channels {given} is not divisible by num_groups {g}")
            if self.affine and c is not None and c != given:
                raise LayerError(f"num_channels={given} but the input has {c} channels")
            if c is None:
                c = given
        if c is not None and c % g:
            raise LayerError(f"num_channels {c} is not divisible by num_groups {g}")
        spatial = prod(shape[1:])
        if c is not None and spatial is not None:
            _check_statistics(
                "group norm",
                batch * (c // g) * spatial,
                "value per group",
                f"batch {batch} × {c // g} channel{'s' if c // g > 1 else ''} per group"
                + (f" × {fmt_shape(shape[1:])}" if len(shape) > 1 else ""),
            )
        return Out("groupnorm", shape, params=affine_params(c, self.affine, self.bias))

    TORCH_LEFT_OUT = {"bias": True}
    EXAMPLE = "4"

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        return {**self.__dict__, "num_channels": _or_channels(self.num_channels, shape)}


def _or_channels(given: int | None, shape: Shape) -> int | None:
    """A channel count for the constructor: the one given, else the input's."""
    return shape[0] if given is None else given
