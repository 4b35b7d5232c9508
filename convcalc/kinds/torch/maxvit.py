"""MaxViT's layers as torchvision.models.maxvit builds them: the partition of a C×H×W
map into P×P windows of tokens and back (WindowPartition, WindowDepartition), and
the multi-head attention with a relative-position bias that runs in each window
(RelativePositionalMultiHeadAttention). Block attention partitions into windows of
P×P neighbours; grid attention partitions with the number of windows and swaps the
two token axes (``transpose -3 -2``), so that each group holds pixels spread over
the whole map (docs/language.md#the-layer-kinds)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import INT, Param
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape, prod, rank_error
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

_UNWRITABLE = "torchvision's {} has no nn class; build it with torchvision.models.maxvit"


@register
class WindowPartition(Layer):
    """torchvision's WindowPartition()(x, p): a C×H×W map cut into P×P windows,
    (H/P·W/P) × (P·P) × C — groups of tokens, channels last."""

    NAMES = {"windowpartition": {}}
    PARAMS = (Param("p", INT, positional=True, required=True, help="the window's side P"),)
    SUMMARY = "cut a map into P×P windows"
    EXAMPLE, EXAMPLE_INPUT = "7", "64x56x56"
    TORCH_UNWRITABLE = _UNWRITABLE.format("WindowPartition")
    KEEPS_DTYPE = True  # moves elements only

    p: int

    def spatial_rank(self) -> int:
        return 2

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 3:
            raise rank_error("windowpartition", shape, "C×H×W")
        c, h, w = shape
        p = self.p
        if p <= 0:
            raise LayerError(f"the window's side must be positive, got {p}")
        for name, size in (("height", h), ("width", w)):
            if size is not None and size % p:
                raise LayerError(
                    f"the {name} {size} of {fmt_shape(shape)} is not a multiple of the "
                    f"window's side {p}"
                )
        groups = None if h is None or w is None else (h // p) * (w // p)
        return Out("windowpartition", (groups, p * p, c), rf=None)

    def explain(self, row: Row) -> list[Step]:
        from convcalc.kinds.explaining import Step

        _, h, w = row.input
        if h is None or w is None:
            return []
        p = self.p
        return [
            Step(row.index, "windows", f"{h}/{p}·{w}/{p}", row.output[0]),
            Step(row.index, "tokens", f"{p}·{p}", p * p, "per window"),
        ]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class WindowDepartition(Layer):
    """torchvision's WindowDepartition()(x, p, h_partitions, w_partitions): G×(P·P)×C
    windows put back into a C×(HP·P)×(WP·P) map (a reshape: only the element counts
    must agree)."""

    NAMES = {"windowdepartition": {}}
    PARAMS = (
        Param("p", INT, positional=True, required=True, help="the window's side P"),
        Param("h_partitions", INT, positional=True, required=True, aliases=("hp",)),
        Param("w_partitions", INT, positional=True, required=True, aliases=("wp",)),
    )
    SUMMARY = "put P×P windows back into a map"
    EXAMPLE, EXAMPLE_INPUT = "7 8 8", "64x49x64"
    TORCH_UNWRITABLE = _UNWRITABLE.format("WindowDepartition")
    KEEPS_DTYPE = True  # moves elements only

    p: int
    h_partitions: int
    w_partitions: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 3:
            raise rank_error("windowdepartition", shape, "G×(P·P)×C")
        g, pp, c = shape
        p, hp, wp = self.p, self.h_partitions, self.w_partitions
        if min(p, hp, wp) <= 0:
            raise LayerError(
                f"the window's side and the partitions must be positive, got p={p}, "
                f"h_partitions={hp}, w_partitions={wp}"
            )
        if g is not None and pp is not None and g * pp != hp * wp * p * p:
            raise LayerError(
                f"{fmt_shape(shape)} holds {g}·{pp} tokens, and {hp}×{wp} windows of "
                f"{p}×{p} make {hp * wp * p * p}"
            )
        return Out("windowdepartition", (c, hp * p, wp * p), rf=None)

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True


@register
class RelativePositionalMultiHeadAttention(Layer):
    """torchvision's RelativePositionalMultiHeadAttention(feat_dim, head_dim, max_seq_len):
    self-attention within each of G groups of P tokens (G×P×D → G×P×D), feat_dim /
    head_dim heads, with a learned (2S−1)² × heads relative-position bias table, S = √P."""

    # Its class name is too long a word for the catalog: no call form, the word only.
    NAMES = {"relposattention": {}}
    PARAMS = (
        Param("feat_dim", INT, positional=True, required=True, help="the tokens' features D"),
        Param("head_dim", INT, positional=True, required=True, help="features per head"),
        Param(
            "max_seq_len",
            INT,
            positional=True,
            required=True,
            aliases=("tokens",),
            help="the tokens per group, a square P = S·S",
        ),
    )
    SUMMARY = "MaxViT's relative-position attention"
    EXAMPLE, EXAMPLE_INPUT = "64 32 49", "64x49x64"
    TORCH_UNWRITABLE = _UNWRITABLE.format("RelativePositionalMultiHeadAttention")

    feat_dim: int
    head_dim: int
    max_seq_len: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        d, hd, m = self.feat_dim, self.head_dim, self.max_seq_len
        if hd == 0 or d <= 0 or hd < 0:
            raise LayerError(f"feat_dim and head_dim must be positive, got {d} and {hd}")
        if d % hd:
            raise LayerError(f"feat_dim: {d} must be divisible by head_dim: {hd}")
        if m <= 0:
            raise LayerError(f"max_seq_len must be positive, got {m}")
        size = math.isqrt(m)
        if size * size != m:
            raise LayerError(
                f"max_seq_len {m} is not a square: the bias table is built for "
                f"{size}×{size} = {size * size} positions"
            )
        if len(shape) != 3:
            raise rank_error("relposattention", shape, "G×P×D")
        g, p, c = shape
        if c is not None and c != d:
            raise LayerError(f"feat_dim is {d}, but the input {fmt_shape(shape)} has {c} features")
        if p is not None and p != m and m != 1:
            raise LayerError(
                f"the bias is built for {m} tokens a group, and the input {fmt_shape(shape)} "
                f"has {p}"
            )
        heads = d // hd
        params = 4 * d * d + 4 * d + (2 * size - 1) ** 2 * heads
        index = m * m  # relative_position_index, int64
        tokens = prod((g, p))
        # to_qkv (3D²) and merge (D²) per token; QKᵀ and AV (P · D per token each). With
        # one token a group, AV's einsum sums over a single key: PyTorch computes it as an
        # element-wise product, which FlopCounterMode (and so the MAC rule) does not count.
        macs = None
        if tokens is not None and p is not None:
            macs = tokens * (4 * d * d + (2 if p > 1 else 1) * p * d)
        return Out(
            "relposattention",
            shape,
            params=params,
            buffers=index,
            int64_buffers=index,
            macs=macs,
            rf=None,
        )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
