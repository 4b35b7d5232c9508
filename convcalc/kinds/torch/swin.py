"""The Swin Transformer's layers as torchvision.models.swin_transformer builds them:
(shifted) window attention with a relative-position bias — v1's learned table, v2's
continuous bias MLP and cosine attention — and patch merging (v1 normalizes before
the reduction, v2 after it). They work channels-last: an H×W×C input, as Swin keeps
its features after the patch embedding's permute (docs/language.md#the-layer-kinds)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, prod
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

# Swin v2's continuous position bias: Linear(2, 512) → ReLU → Linear(512, heads, bias=False).
CPB_HIDDEN = 512


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _channels_last(kind: str, shape: Shape, rank: int | None = 3) -> None:
    if (rank is not None and len(shape) != rank) or len(shape) < 3:
        want = {3: "H×W×C", 4: "T×H×W×C"}.get(rank or 0, "…×H×W×C")
        raise LayerError(
            f"{kind} expects a channels-last {want} input, got {fmt_shape(shape)}"
            + (" (permute a C×H×W map with permute 0,2,3,1 first?)" if len(shape) == 3 else "")
        )


def _check_channels(kind: str, shape: Shape, dim: int) -> None:
    c = shape[-1]
    if c is not None and c != dim:
        raise LayerError(
            f"{kind} was built for {dim} channels, but the input {fmt_shape(shape)} has {c}"
        )


_WINDOW_PARAMS = (
    Param("dim", INT, positional=True, required=True, help="the channels C of the H×W×C input"),
    Param("num_heads", INT, positional=True, required=True, aliases=("heads",)),
    Param("window_size", INTS, positional=False, required=True, aliases=("window", "w")),
    Param(
        "shift_size",
        INTS,
        (0,),
        aliases=("shift",),
        help="the cyclic shift (0 on even blocks, window // 2 on odd ones); no figure changes",
    ),
    Param("qkv_bias", BOOL, True),
    Param("proj_bias", BOOL, True),
    Param("attention_dropout", FLOAT, 0.0),
    Param("dropout", FLOAT, 0.0),
)
_WINDOW_SIGNATURE = Signature(
    (
        "dim",
        "window_size",
        "shift_size",
        "num_heads",
        "qkv_bias",
        "proj_bias",
        "attention_dropout",
        "dropout",
    ),
    required=4,
)


class _WindowAttention(Layer):
    """torchvision's ShiftedWindowAttention(dim, window_size, shift_size, num_heads) on an
    H×W×C input: the map padded at the bottom and right to whole windows, (cyclically
    shifted,) cut into windows of Wh·Ww tokens, multi-head self-attention inside each
    window with a relative-position bias, and cut back to H×W×C."""

    PARAMS = _WINDOW_PARAMS
    RANK: ClassVar[int] = 2  # H×W windows; 3: T×H×W
    # Shrinks a window to an input smaller than it (ShiftedWindowAttention3d); the 2-d
    # attention pads the input to a whole window instead.
    ADAPTS: ClassVar[bool] = False
    EXAMPLE, EXAMPLE_INPUT = "96 3 window=7 shift=3", "56x56x96"
    TORCH_UNWRITABLE = (
        "torchvision's ShiftedWindowAttention has no nn class; build it with "
        "torchvision.models.swin_transformer"
    )

    dim: int
    num_heads: int
    window_size: tuple[int, ...]
    shift_size: tuple[int, ...]
    qkv_bias: bool
    proj_bias: bool
    attention_dropout: float
    dropout: float

    def _window(self) -> tuple[int, ...]:
        rank = self.RANK
        ws, ss = self.window_size, self.shift_size
        ws = ws * rank if len(ws) == 1 else ws
        ss = ss * rank if len(ss) == 1 else ss
        if len(ws) != rank or len(ss) != rank:
            raise LayerError(
                f"window_size and shift_size must be of length {rank}, got window_size="
                f"{fmt_tuple(ws)} and shift_size={fmt_tuple(ss)}"
            )
        if min(ws) <= 0:
            raise LayerError(f"window_size must be positive, got {fmt_tuple(ws)}")
        return ws

    def _check(self, kind: str, shape: Shape) -> tuple[int, ...]:
        window = self._window()
        if self.num_heads <= 0:
            raise LayerError(f"num_heads must be positive, got {self.num_heads}")
        if self.dim <= 0:
            raise LayerError(f"dim must be positive, got {self.dim}")
        if self.dim % self.num_heads:
            raise LayerError(f"dim {self.dim} is not divisible by num_heads {self.num_heads}")
        _channels_last(kind, shape, self.RANK + 1)
        _check_channels(kind, shape, self.dim)
        return window

    def _windows(
        self, shape: Shape, window: tuple[int, ...]
    ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """(the input's sizes, the window used on them: the 3-d attention shrinks a
        window to a smaller input); None if a size is unknown."""
        sizes = tuple(s for s in shape[: self.RANK] if s is not None)
        if len(sizes) < self.RANK:
            return None
        if not self.ADAPTS:
            return sizes, window
        return sizes, tuple(min(s, w) for s, w in zip(sizes, window))

    def bias_params(self, window: tuple[int, ...]) -> tuple[int, int]:
        """(parameters, buffers) of the relative-position bias: v1's learned table of
        (2Wh−1)(2Ww−1) offsets × heads, its index of (Wh·Ww)² offsets (an int64 buffer)."""
        return math.prod(2 * w - 1 for w in window) * self.num_heads, 0

    def bias_macs(self, window: tuple[int, ...]) -> int:
        return 0

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = type(self).__name__.lower()
        window = self._check(kind, shape)
        c, full = self.dim, math.prod(window)
        linear = 4 * c * c + (3 * c if self.qkv_bias else 0) + (c if self.proj_bias else 0)
        bias, floats = self.bias_params(window)
        index = full * full  # relative_position_index, int64
        # qkv (3C² a token) and proj (C²) on every token of the padded map, QKᵀ and AV
        # (N² · C/heads per head each) in every window; the bias MLP once (v2).
        known = self._windows(shape, window)
        macs = None
        if known is not None:
            sizes, used = known
            n = math.prod(used)
            tokens = math.prod(_ceil_div(s, w) for s, w in zip(sizes, used)) * n
            macs = tokens * 4 * c * c + 2 * tokens * n * c + self.bias_macs(window)
        return Out(
            kind,
            shape,
            params=linear + bias,
            buffers=index + floats,
            int64_buffers=index,
            macs=macs,
            rf=None,
        )

    def explain(self, row: Row) -> list[Step]:
        """The windows over the padded map, and the tokens each attends to."""
        from convcalc.kinds.explaining import Step

        known = self._windows(row.input, self._window())
        if known is None:
            return []
        sizes, used = known
        padded = tuple(_ceil_div(s, w) * w for s, w in zip(sizes, used))
        count = math.prod(p // w for p, w in zip(padded, used))
        expression = "·".join(f"⌈{s} / {w}⌉" for s, w in zip(sizes, used))
        shown = "×".join(map(str, used))
        note = f"{expression} = {count} windows of {shown} = {math.prod(used)} tokens"
        if padded != sizes:
            note += f", the map padded to {'×'.join(map(str, padded))}"
        # A remark: the output keeps the input's shape.
        return [Step(row.index, "windows", None, None, note + "; each token attends to its window")]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class ShiftedWindowAttention(_WindowAttention):
    __doc__ = _WindowAttention.__doc__

    NAMES = {"shiftedwindowattention": {}, "windowattention": {}}
    TORCH = {"ShiftedWindowAttention": _WINDOW_SIGNATURE}
    SUMMARY = "Swin's (shifted) window attention"


@register
class ShiftedWindowAttentionV2(_WindowAttention):
    """torchvision's ShiftedWindowAttentionV2: Swin v2's window attention — cosine
    attention with a learned logit scale per head, and a continuous relative-position
    bias computed by a 2 → 512 → heads MLP (cpb_mlp) from the (2Wh−1)(2Ww−1) offsets."""

    NAMES = {"shiftedwindowattentionv2": {}, "windowattentionv2": {}}
    TORCH = {"ShiftedWindowAttentionV2": _WINDOW_SIGNATURE}
    SUMMARY = "Swin v2's window attention"
    EXAMPLE, EXAMPLE_INPUT = "96 3 window=8 shift=4", "64x64x96"
    TORCH_UNWRITABLE = (
        "torchvision's ShiftedWindowAttentionV2 has no nn class; build it with "
        "torchvision.models.swin_transformer"
    )

    def bias_params(self, window: tuple[int, ...]) -> tuple[int, int]:
        """logit_scale (heads), cpb_mlp (2·512 + 512, 512·heads); its input, the
        (2Wh−1)(2Ww−1) offsets' coordinates, is a float buffer."""
        wh, ww = window
        mlp = 2 * CPB_HIDDEN + CPB_HIDDEN + CPB_HIDDEN * self.num_heads
        return self.num_heads + mlp, (2 * wh - 1) * (2 * ww - 1) * 2

    def bias_macs(self, window: tuple[int, ...]) -> int:
        wh, ww = window
        return (2 * wh - 1) * (2 * ww - 1) * (2 * CPB_HIDDEN + CPB_HIDDEN * self.num_heads)


@register
class ShiftedWindowAttention3d(_WindowAttention):
    """torchvision's ShiftedWindowAttention3d (Video Swin): window attention over
    T×H×W×C with Wd×Wh×Ww windows and a (2Wd−1)(2Wh−1)(2Ww−1) × heads bias table; a
    window larger than the input along an axis shrinks to the input's size there (no
    shift then), otherwise the input is padded to whole windows."""

    NAMES = {"shiftedwindowattention3d": {}, "windowattention3d": {}}
    TORCH = {"ShiftedWindowAttention3d": _WINDOW_SIGNATURE}
    SUMMARY = "Video Swin's 3-d window attention"
    RANK = 3
    ADAPTS = True
    EXAMPLE, EXAMPLE_INPUT = "96 3 window=8,7,7 shift=4,3,3", "8x56x56x96"
    TORCH_UNWRITABLE = (
        "torchvision's ShiftedWindowAttention3d has no nn class; build it with "
        "torchvision.models.video.swin_transformer"
    )


class _PatchMerging(Layer):
    """torchvision's PatchMerging(dim): each 2×2 patch's four C-vectors concatenated
    (the map padded at the bottom and right to even sizes), a LayerNorm over the 4C
    features and a Linear 4C → 2C without bias: …×H×W×C → …×⌈H/2⌉×⌈W/2⌉×2C."""

    PARAMS = (Param("dim", INT, positional=True, required=True, help="the input's channels C"),)
    NORM_FEATURES: ClassVar[int] = 4  # the norm's features, in C: 4C before, 2C after
    EXAMPLE, EXAMPLE_INPUT = "96", "56x56x96"

    dim: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = type(self).__name__.lower()
        if self.dim < 0:
            raise LayerError(f"dim must not be negative, got {self.dim}")
        _channels_last(kind, shape, rank=None)
        _check_channels(kind, shape, self.dim)
        *lead, h, w, _ = shape
        oh = None if h is None else _ceil_div(h, 2)
        ow = None if w is None else _ceil_div(w, 2)
        d = self.dim
        out = (*lead, oh, ow, 2 * d)
        params = 8 * d * d + 2 * self.NORM_FEATURES * d
        tokens = prod((*lead, oh, ow))
        macs = None if tokens is None else tokens * 8 * d * d
        return Out(kind, out, params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """⌈H/2⌉, ⌈W/2⌉ (padded to even sizes) and 4C → 2C."""
        from convcalc.kinds.explaining import Step

        steps = []
        rank = len(row.input)
        # Channels last: named in words, as H, W and C name a channels-first map's axes.
        for name, i in (("height", rank - 3), ("width", rank - 2)):
            size = row.input[i]
            if size is not None:
                note = "padded by one to an even size" if size % 2 else ""
                steps.append(Step(row.index, name, f"⌈{size} / 2⌉", row.output[i], note))
        note = "each 2×2 patch's 4·C features, then a linear 4C → 2C"
        steps.append(Step(row.index, "channels", f"2·{self.dim}", 2 * self.dim, note))
        return steps

    def torch_module(self, kind: str, shape: Shape) -> None:
        return None

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class PatchMerging(_PatchMerging):
    __doc__ = _PatchMerging.__doc__

    NAMES = {"patchmerging": {}}
    TORCH = {"PatchMerging": Signature(("dim",), required=1)}
    SUMMARY = "Swin's patch merging (2×2 → 2C)"
    TORCH_UNWRITABLE = (
        "torchvision's PatchMerging has no nn class; build it with "
        "torchvision.models.swin_transformer"
    )


@register
class PatchMergingV2(_PatchMerging):
    """torchvision's PatchMergingV2(dim): Swin v2's patch merging, the Linear 4C → 2C
    first and the LayerNorm over its 2C features after it."""

    NAMES = {"patchmergingv2": {}}
    TORCH = {"PatchMergingV2": Signature(("dim",), required=1)}
    SUMMARY = "Swin v2's patch merging"
    NORM_FEATURES = 2
    TORCH_UNWRITABLE = (
        "torchvision's PatchMergingV2 has no nn class; build it with "
        "torchvision.models.swin_transformer"
    )
