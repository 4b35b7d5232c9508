"""MViT's token layers (Fan et al., 2021; Li et al., 2022) as
torchvision.models.video.mvit builds them: pooling attention (``MultiscaleAttention``), the
pooling of a block's skip connection (``Pool`` over a max pool) and the class token with
its separable position embedding (``PositionalEncoding``).

Their tokens are L×E (batch first): the class token, then the T×H×W grid of the others in
row-major order. The grid is not in the shape, so each layer is told it (``thw=T×H×W``,
torchvision's ``input_size`` / ``thw``); a layer that reshapes the tokens to the grid
requires L = 1 + T·H·W, as PyTorch's reshape does (docs/language.md#the-layer-kinds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, Param
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, prod
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

_THW = Param(
    "input_size",
    INTS,
    aliases=("thw",),
    required=True,
    help="T×H×W: the grid of the tokens after the class token",
)


def _tokens(kind: str, shape: Shape) -> tuple[int | None, int | None]:
    if len(shape) != 2:
        raise LayerError(
            f"{kind} expects an L×E input (a class token and a T×H×W grid of tokens, E "
            f"features each), got {fmt_shape(shape)}"
        )
    return shape[0], shape[1]


def _triple(name: str, values: tuple[int, ...] | None) -> tuple[int, int, int]:
    """One value per axis of T×H×W (one value stands for all three; none: 1, 1, 1)."""
    if values is None:
        return (1, 1, 1)
    if len(values) == 1:
        return (values[0],) * 3  # type: ignore[return-value]
    if len(values) != 3:
        raise LayerError(
            f"{name} has {len(values)} values; it takes one per axis of T×H×W (or one for all)"
        )
    return values  # type: ignore[return-value]


def _grid(kind: str, thw: tuple[int, ...]) -> tuple[int, int, int]:
    if len(thw) != 3:
        raise LayerError(f"{kind}: input_size (thw) is T×H×W, 3 sizes; got {fmt_tuple(thw)}")
    if min(thw) < 1:
        raise LayerError(f"{kind}: the grid {fmt_shape(thw)} has no tokens to reshape to it")
    return thw  # type: ignore[return-value]


def _check_grid(kind: str, length: int | None, thw: tuple[int, int, int]) -> None:
    """L = 1 + T·H·W: the tokens after the class token reshape to the grid."""
    if length is not None and length != 1 + _volume(thw):
        raise LayerError(
            f"{kind} reshapes the {length} tokens to the class token and a grid of "
            f"{fmt_shape(thw)} = {_volume(thw)} tokens, which needs {1 + _volume(thw)}"
        )


def _volume(sizes: tuple[int, ...]) -> int:
    out = 1
    for n in sizes:
        out *= n
    return out


class _Figures(NamedTuple):
    """What MultiscaleAttention computes for one input (None: the input's L is unknown)."""

    length: int | None
    embed: int | None
    head_dim: int
    q_thw: tuple[int, ...] | None  # the queries' pooled grid (None: not pooled)
    k_thw: tuple[int, ...] | None  # the keys' and values' pooled grid
    lq: int | None
    lk: int | None
    pool_params: int
    rel_params: int
    params: int
    conv_macs: int
    rel_macs: int
    macs: int | None


def _pooling(thw: Shape, k: tuple[int, ...], s: tuple[int, ...], out: Shape) -> str:
    """How a pooling convolution shrinks the grid, for a note."""
    sizes = ", ".join(
        f"{a} ⌊({n} + 2·{kk // 2} − {kk})/{ss}⌋ + 1" if (kk, ss) != (1, 1) else f"{a} {n}"
        for a, n, kk, ss in zip("THW", thw, k, s)
    )
    return f"{sizes}: {fmt_shape(out)}"


def _pooled(thw: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...]) -> tuple[int, ...]:
    """The grid after MViT's pooling convolution: padding k // 2 on each side."""
    return tuple((n + 2 * (kk // 2) - kk) // ss + 1 for n, kk, ss in zip(thw, k, s))


@register
class MultiscaleAttention(Layer):
    """torchvision's MultiscaleAttention (MViT's pooling attention): q, k, v from one
    linear layer, each pooled over the T×H×W grid by a depthwise Conv3d with a LayerNorm
    (the class token kept apart), attention per head, optional residual pooling (v2: + q)
    and relative positions (v2: rel_pos_h/w/t tables), then a linear projection:
    (1 + T·H·W, E) → (1 + T'·H'·W', OUT), T'×H'×W' the queries' pooled grid."""

    NAMES = {"multiscaleattention": {}, "poolingattention": {}}
    PARAMS = (
        Param("output_dim", INT, positional=True, required=True, help="OUT features per token"),
        Param("num_heads", INT, positional=True, required=True, aliases=("heads",)),
        _THW,
        Param("kernel_q", INTS, None, aliases=("kq",), help="default 1: no query pooling"),
        Param("stride_q", INTS, None, aliases=("sq",), help="default 1"),
        Param("kernel_kv", INTS, None, aliases=("kkv",), help="default 1: no key/value pooling"),
        Param("stride_kv", INTS, None, aliases=("skv",), help="default 1"),
        Param("residual_pool", BOOL, False, help="MViTv2: add the pooled queries to the output"),
        Param("residual_with_cls_embed", BOOL, True),
        Param("rel_pos_embed", BOOL, False, aliases=("rel_pos",), help="MViTv2's tables"),
        Param("dropout", FLOAT, 0.0, help="after the projection (nn.Dropout, off in eval)"),
    )
    SUMMARY = "MViT's pooling attention"
    NOTE = (
        "Its input is the class token and a T×H×W grid of tokens (thw=); a kernel or stride "
        "of one value stands for all three axes, and a pooling whose kernel and stride are all "
        "1 is left out, as torchvision does. Its MACs count QKᵀ, AV and the relative-position "
        "products (two einsums and a matmul per block), as torchvision's published figures do."
    )

    output_dim: int
    num_heads: int
    input_size: tuple[int, ...]
    kernel_q: tuple[int, ...] | None
    stride_q: tuple[int, ...] | None
    kernel_kv: tuple[int, ...] | None
    stride_kv: tuple[int, ...] | None
    residual_pool: bool
    residual_with_cls_embed: bool
    rel_pos_embed: bool
    dropout: float

    def _config(
        self,
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], bool, bool]:
        kq, sq = _triple("kernel_q", self.kernel_q), _triple("stride_q", self.stride_q)
        kkv, skv = _triple("kernel_kv", self.kernel_kv), _triple("stride_kv", self.stride_kv)
        # torchvision builds a pooling when its kernel's or stride's product exceeds 1.
        pool_q = _volume(kq) > 1 or _volume(sq) > 1
        pool_kv = _volume(kkv) > 1 or _volume(skv) > 1
        return kq, sq, kkv, skv, pool_q, pool_kv

    def _head_dim(self) -> int:
        d, h = self.output_dim, self.num_heads
        if h <= 0:
            raise LayerError(
                f"num_heads must be positive, got {h} (head_dim = output_dim // heads)"
            )
        if d <= 0:
            raise LayerError(f"output_dim must be positive, got {d}")
        if d % h:
            raise LayerError(
                f"output_dim {d} is not divisible by num_heads {h}: the q, k, v of "
                f"{3 * d} features do not reshape to 3×{h} heads of {d // h}"
            )
        return d // h

    def _rel_pos_sizes(self, thw: tuple[int, int, int]) -> tuple[int, int]:
        """Rows of rel_pos_h (= rel_pos_w) and rel_pos_t, as torchvision sizes them from the
        grid it is built for: 2·max(H, W) // stride (the H stride, the larger of q's and
        kv's) − 1, and 2·T − 1."""
        _, sq, _, skv, _, _ = self._config()
        size = max(thw[1:])
        if sq[1] == 0 or skv[1] == 0:
            raise LayerError(
                "rel_pos sizes its tables by max(H, W) // stride along H, and a stride is 0"
            )
        spatial = 2 * max(size // sq[1], size // skv[1]) - 1
        if spatial < 0:
            raise LayerError(
                f"rel_pos: the tables would have {spatial} rows (2·max(H, W) // stride − 1 "
                f"with H×W = {thw[1]}×{thw[2]} and H strides {sq[1]}, {skv[1]})"
            )
        return spatial, 2 * thw[0] - 1

    def _check_pool(self, which: str, k: tuple[int, ...], s: tuple[int, ...]) -> None:
        if min(k) < 1:
            raise LayerError(f"kernel_{which} must be positive, got {fmt_tuple(k)}")
        if min(s) < 1:
            raise LayerError(f"stride_{which} must be positive, got {fmt_tuple(s)}")

    def figures(self, shape: Shape) -> _Figures:
        """Everything it computes for an input ``shape`` (raises LayerError)."""
        length, e = _tokens("multiscaleattention", shape)
        hd = self._head_dim()
        d = self.output_dim
        if self.dropout > 1.0:
            # nn.Dropout is only built for p > 0; it checks p.
            raise LayerError(f"dropout probability has to be between 0 and 1, got {self.dropout:g}")
        kq, sq, kkv, skv, pool_q, pool_kv = self._config()
        if pool_q:
            self._check_pool("q", kq, sq)
        if pool_kv:
            self._check_pool("kv", kkv, skv)
        if len(self.input_size) != 3:
            raise LayerError(
                "multiscaleattention: input_size (thw) is T×H×W, 3 sizes; "
                f"got {fmt_tuple(self.input_size)}"
            )
        thw: tuple[int, int, int] = self.input_size  # type: ignore[assignment]
        rel = self._rel_pos_sizes(thw) if self.rel_pos_embed else None
        if pool_q or pool_kv or self.rel_pos_embed:  # the tokens are reshaped to the grid
            _check_grid("multiscaleattention", length, _grid("multiscaleattention", thw))
            if rel is not None and rel[1] < 0:
                raise LayerError(f"rel_pos: T = {thw[0]} gives rel_pos_t {rel[1]} rows")
        q_thw = _pooled(thw, kq, sq) if pool_q else None
        k_thw = _pooled(thw, kkv, skv) if pool_kv else None
        lq = length if q_thw is None else 1 + _volume(q_thw)
        lk = length if k_thw is None else 1 + _volume(k_thw)
        # Each pooling: a depthwise Conv3d over head_dim channels and a LayerNorm(head_dim).
        pool_params = hd * _volume(kq) + 2 * hd if pool_q else 0
        pool_params += 2 * (hd * _volume(kkv) + 2 * hd) if pool_kv else 0
        rel_params = 0 if rel is None else (2 * rel[0] + rel[1]) * hd
        params = (e or 0) * 3 * d + 3 * d + d * d + d + pool_params + rel_params
        # A pooling conv runs on every head: D·∏k per output position.
        conv = 0 if q_thw is None else d * _volume(kq) * _volume(q_thw)
        conv += 0 if k_thw is None else 2 * d * _volume(kkv) * _volume(k_thw)
        rel_macs = 0
        if rel is not None:
            # rel_h and rel_w are einsums over head_dim, which torch runs as a bmm
            # (counted) unless head_dim is 1 (then an element-wise product: 0 MACs);
            # rel_t is a matmul, a bmm whatever its sizes.
            qg, kt, kh, kw = q_thw or thw, *(k_thw or thw)
            rel_macs = d * _volume(qg) * (kt + (kh + kw if hd > 1 else 0))
        macs = None
        if length is not None and e is not None and lq is not None and lk is not None:
            macs = length * e * 3 * d + conv + 2 * d * lq * lk + rel_macs + lq * d * d
        return _Figures(
            length, e, hd, q_thw, k_thw, lq, lk, pool_params, rel_params, params, conv,
            rel_macs, macs,
        )  # fmt: skip

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        f = self.figures(shape)
        return Out(
            "multiscaleattention",
            (f.lq, self.output_dim),
            params=f.params,
            macs=None if f.macs is None else batch * f.macs,
            rf=None,
        )

    def explain(self, row: Row) -> list[Step]:
        """The queries' pooled grid, the parameters and MACs by part."""
        from convcalc.kinds.explaining import Step

        f = self.figures(row.input)
        if f.macs is None:
            return []
        i, d, e, hd = row.index, self.output_dim, f.embed, f.head_dim
        kq, sq, kkv, skv, _, _ = self._config()
        thw = tuple(self.input_size)
        steps: list[Step] = []
        lq, lk = f.lq, f.lk
        if f.q_thw is not None:
            expr = "1 + " + "·".join(map(str, f.q_thw))
            note = f"the class token and the queries' grid, {_pooling(thw, kq, sq, f.q_thw)}"
            steps.append(Step(i, "tokens", expr, lq, note))
        parts = [f"3·{e}·{d} + 3·{d}", f"{d}·{d} + {d}"]
        notes = ["qkv", "project"]
        if f.pool_params:
            parts.append(str(f.pool_params))
            notes.append(f"pooling convs and norms of head_dim {hd}")
        if f.rel_params:
            parts.append(str(f.rel_params))
            notes.append("rel_pos_h, rel_pos_w, rel_pos_t")
        steps.append(Step(i, "params", " + ".join(parts), f.params, ", ".join(notes)))
        macs = [f"{f.length}·{e}·3·{d}"]
        notes = ["qkv"]
        if f.conv_macs:
            macs.append(str(f.conv_macs))
            notes.append("pooling convs")
        macs.append(f"2·{lq}·{lk}·{d}")
        if f.k_thw is None:
            notes.append(f"QK^T and AV over {lk} keys")
        else:
            grid = _pooling(thw, kkv, skv, f.k_thw)
            notes.append(f"QK^T and AV over {lk} keys (the class token and {grid})")
        if f.rel_macs:
            macs.append(str(f.rel_macs))
            notes.append("relative positions")
        macs.append(f"{lq}·{d}·{d}")
        notes.append("project")
        steps.append(Step(i, "MACs", " + ".join(macs), f.macs * row.batch, ", ".join(notes)))
        return steps

    EXAMPLE, EXAMPLE_INPUT = "192 2 thw=8x56x56 kq=3 sq=1x2x2 kkv=3 skv=1x4x4", "25089x96"
    TORCH_HELPER = '''
    class PoolingAttention(nn.Module):
        """torchvision's MViT MultiscaleAttention on a class token and a T×H×W grid of tokens."""

        def __init__(
            self, input_size: list[int], embed_dim: int, output_dim: int, **kwargs: Any
        ) -> None:
            super().__init__()
            from functools import partial

            from torchvision.models.video.mvit import MultiscaleAttention

            self.thw = tuple(input_size)
            norm = partial(nn.LayerNorm, eps=1e-6)
            self.attn = MultiscaleAttention(
                list(input_size), embed_dim, output_dim, norm_layer=norm, **kwargs
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attn(x, self.thw)[0]
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode, py

        kq, sq, kkv, skv, _, _ = self._config()
        args = [
            f"input_size={py(list(self.input_size))}",
            f"embed_dim={shape[1]}",
            f"output_dim={self.output_dim}",
            f"num_heads={self.num_heads}",
            f"kernel_q={py(list(kq))}",
            f"kernel_kv={py(list(kkv))}",
            f"stride_q={py(list(sq))}",
            f"stride_kv={py(list(skv))}",
            f"residual_pool={self.residual_pool}",
            f"residual_with_cls_embed={self.residual_with_cls_embed}",
            f"rel_pos_embed={self.rel_pos_embed}",
            f"dropout={py(self.dropout)}",
        ]
        return TorchCode(f"PoolingAttention({', '.join(args)})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class TokenPool(Layer):
    """MViT's skip-connection pooling, torchvision's Pool(nn.MaxPool3d(k, s, p), None): the
    tokens after the class token reshaped to their T×H×W grid, max-pooled, flattened back
    behind the class token: (1 + T·H·W, C) → (1 + T'·H'·W', C)."""

    NAMES = {"tokenpool": {}}
    PARAMS = (
        _THW,
        Param("kernel_size", INTS, aliases=("k",), required=True),
        Param("stride", INTS, None, aliases=("s",), help="default: kernel_size"),
        Param("padding", INTS, (0,), aliases=("p",)),
    )
    SUMMARY = "max pooling of MViT's token grid"
    NOTE = "As MaxPool3d on the T×H×W grid of the tokens after the class token (thw=)."

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]

    def _pool(self) -> Layer:
        from convcalc.kinds.torch.pool import MaxPool

        return MaxPool(
            dim=3,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=(1,),
            ceil_mode=False,
        )

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        length, c = _tokens("tokenpool", shape)
        thw = _grid("tokenpool", tuple(self.input_size))
        _check_grid("tokenpool", length, thw)
        pooled = self._pool().infer((c, *thw), batch).shape[1:]
        return Out("tokenpool", (1 + prod(pooled), c), rf=None)  # type: ignore[operator]

    def explain(self, row: Row) -> list[Step]:
        """The class token and the pooled grid."""
        from convcalc.kinds.explaining import Step

        thw = tuple(self.input_size)
        out = self._pool().infer((row.input[1], *thw), row.batch).shape[1:]
        k = _triple("kernel_size", self.kernel_size)
        s = k if self.stride is None else _triple("stride", self.stride)
        p = _triple("padding", self.padding)
        sizes = ", ".join(
            f"{a} ⌊({n} + 2·{pp} − {kk})/{ss}⌋ + 1" for a, n, kk, ss, pp in zip("THW", thw, k, s, p)
        )
        expr = "1 + " + "·".join(map(str, out))
        note = f"the class token and the max-pooled grid, {sizes}: {fmt_shape(out)}"
        return [Step(row.index, "tokens", expr, row.output[0], note)]

    EXAMPLE, EXAMPLE_INPUT = "thw=8x56x56 k=1x3x3 s=1x2x2 p=0x1x1", "25089x96"
    TORCH_HELPER = '''
    class TokenPool(nn.Module):
        """MViT's skip pooling: nn.MaxPool3d over the T×H×W grid of the tokens after the
        class token (torchvision's mvit.Pool without a norm)."""

        def __init__(self, input_size: list[int], **kwargs: Any) -> None:
            super().__init__()
            self.thw = tuple(input_size)
            self.pool = nn.MaxPool3d(**kwargs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            cls, x = x[:, :1], x[:, 1:]
            n, _, c = x.shape
            x = self.pool(x.transpose(1, 2).reshape(n, c, *self.thw))
            return torch.cat([cls, x.flatten(2).transpose(1, 2)], dim=1)
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode, py

        k = _triple("kernel_size", self.kernel_size)
        s = k if self.stride is None else _triple("stride", self.stride)
        p = _triple("padding", self.padding)
        args = f"kernel_size={py(k)}, stride={py(s)}, padding={py(p)}"
        return TorchCode(
            f"TokenPool(input_size={py(list(self.input_size))}, {args})", self.TORCH_HELPER
        )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class PositionalEncoding(Layer):
    """torchvision's MViT PositionalEncoding: the class token put first, (T·H·W, E) →
    (1 + T·H·W, E); unless rel_pos (MViTv2), plus a separable position embedding, one per
    H×W position, one per time step and one for the class token: (H·W + T + 1)·E
    parameters besides the token's E."""

    NAMES = {"positionalencoding": {}}
    PARAMS = (
        _THW,
        Param("rel_pos_embed", BOOL, False, aliases=("rel_pos",), help="the class token only"),
    )
    SUMMARY = "MViT's class token and position embedding"

    input_size: tuple[int, ...]
    rel_pos_embed: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        length, e = _tokens("positionalencoding", shape)
        thw = _grid("positionalencoding", tuple(self.input_size))
        t, h, w = thw
        params = e
        if not self.rel_pos_embed:
            if length is not None and length != t * h * w:
                raise LayerError(
                    f"positionalencoding adds an embedding of {t}·{h}·{w} = {t * h * w} "
                    f"positions (and the class token's), but the input has {length} tokens"
                )
            params = prod((h * w + t + 2, e))
        out = None if length is None else length + 1
        return Out("positionalencoding", (out, e), params=params, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """The separable embedding's parameters."""
        from convcalc.kinds.explaining import Step

        t, h, w = self.input_size
        e = row.input[1]
        if self.rel_pos_embed:
            return [Step(row.index, "params", str(e), e, "the class token")]
        expr = f"{e} + ({h}·{w} + {t} + 1)·{e}"
        note = "class token; spatial_pos, temporal_pos, class_pos"
        return [Step(row.index, "params", expr, e + (h * w + t + 1) * e, note)]  # type: ignore[operator]

    EXAMPLE, EXAMPLE_INPUT = "thw=8x56x56", "25088x96"
    TORCH_HELPER = '''
    class PositionalEncoding(nn.Module):
        """torchvision's MViT PositionalEncoding on T·H·W tokens: the class token first."""

        def __init__(self, embed_size: int, input_size: list[int], rel_pos_embed: bool) -> None:
            super().__init__()
            from torchvision.models.video.mvit import PositionalEncoding as Encoding

            t, h, w = input_size
            self.encoding = Encoding(embed_size, (h, w), t, rel_pos_embed)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.encoding(x)
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode, py

        args = f"embed_size={shape[1]}, input_size={py(list(self.input_size))}"
        return TorchCode(
            f"PositionalEncoding({args}, rel_pos_embed={self.rel_pos_embed})", self.TORCH_HELPER
        )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
