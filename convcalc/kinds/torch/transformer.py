"""Layers of transformers and of whole networks: dimension reordering (permute,
transpose), ConvNeXt's layer scale, stochastic depth, multi-head self-attention,
PyTorch's transformer encoder layer and ViT's class token, position embedding and
token selection (docs/language.md#the-layer-kinds).

Token layers take an (L, E) input: L tokens of E features, batch first as with
``batch_first=True`` (the batch is never part of a convcalc shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, PLACED, PLACEMENT, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, prod
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"


def _dim_index(what: str, d: int, rank: int) -> int:
    """A PyTorch dim of a ``rank``-d batched tensor as 0..rank-1 (0 = the batch);
    ``what`` names it in the error."""
    if not -rank <= d < rank:
        raise LayerError(
            f"{what} is out of range for a {rank}-d input (batch included): "
            f"expected {-rank}..{rank - 1}"
        )
    return d % rank


def _tokens(kind: str, shape: Shape) -> tuple[int | None, int | None]:
    """(L, E) of a token input; other ranks are rejected."""
    if len(shape) != 2:
        raise LayerError(
            f"{kind} expects an L×E input (L tokens of E features), got {fmt_shape(shape)}"
            + (" (flatten and transpose a C×H×W map first?)" if len(shape) > 2 else "")
        )
    return shape[0], shape[1]


@register
class Permute(Layer):
    """torch.permute(x, dims): dims count the batch as 0, which must stay first."""

    NAMES = {"permute": {}}
    TORCH = {"Permute": Signature(("dims",), required=1)}  # torchvision.ops.misc.Permute
    PARAMS = (Param("dims", INTS, positional=True, required=True),)
    SUMMARY = "reorder dimensions"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    dims: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        rank = len(shape) + 1
        if len(self.dims) != rank:
            raise LayerError(
                f"permute needs one entry per dimension of the {rank}-d input (batch "
                f"included), got {len(self.dims)}: {fmt_tuple(self.dims)}"
            )
        order = [_dim_index(f"{d} in dims {fmt_tuple(self.dims)}", d, rank) for d in self.dims]
        if len(set(order)) != rank:
            raise LayerError(f"permute dims {fmt_tuple(self.dims)} repeat a dimension")
        if order[0] != 0:
            raise LayerError(
                f"permute dims {fmt_tuple(self.dims)} move the batch dimension; it must stay "
                "first (dims[0] = 0): convcalc keeps the batch apart"
            )
        return Out("permute", tuple(shape[d - 1] for d in order[1:]), rf=None)

    EXAMPLE = "0,2,3,1"
    TORCH_HELPER = '''
    class Permute(nn.Module):
        """x.permute(*dims), the batch dimension counted as 0 (torchvision.ops.misc.Permute)."""

        def __init__(self, dims: tuple[int, ...]) -> None:
            super().__init__()
            self.dims = dims

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.permute(*self.dims)
    '''

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class Transpose(Layer):
    """torch.transpose(x, dim0, dim1): swaps two dimensions (batch counted as 0)."""

    NAMES = {"transpose": {}}
    PARAMS = (
        Param("dim0", INT, positional=True, required=True),
        Param("dim1", INT, positional=True, required=True),
    )
    SUMMARY = "swap two dimensions"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    dim0: int
    dim1: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        rank = len(shape) + 1
        a = _dim_index(f"dim0={self.dim0}", self.dim0, rank)
        b = _dim_index(f"dim1={self.dim1}", self.dim1, rank)
        if (a == 0) != (b == 0):
            raise LayerError(
                f"transpose {self.dim0} {self.dim1} would move the batch dimension (dim 0); "
                "convcalc keeps the batch apart"
            )
        out = list(shape)
        if a and b:
            out[a - 1], out[b - 1] = out[b - 1], out[a - 1]
        return Out("transpose", tuple(out), rf=None if a != b else ())

    EXAMPLE = "1 2"
    TORCH_HELPER = '''
    class Transpose(nn.Module):
        """x.transpose(dim0, dim1), the batch dimension counted as 0."""

        def __init__(self, dim0: int, dim1: int) -> None:
            super().__init__()
            self.dim0, self.dim1 = dim0, dim1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.transpose(self.dim0, self.dim1)
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"Transpose(dim0={self.dim0}, dim1={self.dim1})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class Scale(Layer):
    """A learned per-channel scale (ConvNeXt's layer_scale, timm's LayerScale):
    one parameter per entry of dimension ``dim``, broadcast over the others."""

    NAMES = {"scale": {}, "layerscale": {}}
    PARAMS = (
        Param("dim", INT, 1, help="the dimension holding the channels (batch = 0; -1: last)"),
    )
    SUMMARY = "learned per-channel scale"

    dim: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        rank = len(shape) + 1
        axis = _dim_index(f"dim={self.dim}", self.dim, rank)
        if axis == 0:
            raise LayerError(
                f"dim={self.dim} is the batch dimension; convcalc keeps the batch apart"
            )
        # An element-wise product: no MACs (FlopCounterMode counts none).
        return Out("scale", shape, params=shape[axis - 1])

    TORCH_HELPER = '''
    class Scale(nn.Module):
        """A learned per-channel scale (ConvNeXt's layer_scale): one weight per entry of a
        dimension, broadcast over the ones after it."""

        def __init__(self, channels: int, trailing: int, init: float = 1e-6) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.full((channels, *[1] * trailing), init))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.weight * x
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        rank = len(shape) + 1
        axis = self.dim % rank
        channels = shape[axis - 1]
        return TorchCode(
            f"Scale(channels={channels}, trailing={rank - 1 - axis})", self.TORCH_HELPER
        )


@register
class StochasticDepth(Layer):
    """torchvision.ops.StochasticDepth(p, mode): the identity in eval mode."""

    NAMES = {"stochasticdepth": {}, "droppath": {}}
    TORCH = {"StochasticDepth": Signature(("p", "mode"), required=2)}  # torchvision.ops
    PARAMS = (
        Param("p", FLOAT, positional=True, required=True, help="drop probability"),
        Param("mode", Choice("row", "batch"), "row"),
    )
    SUMMARY = "stochastic depth (identity in eval)"

    p: float
    mode: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        # torchvision checks p even in eval mode, before returning the input.
        if not 0.0 <= self.p <= 1.0:
            raise LayerError(f"drop probability has to be between 0 and 1, got {self.p:g}")
        return Out("stochasticdepth", shape)

    EXAMPLE = "0.1"
    TORCH_HELPER = '''
    class StochasticDepth(nn.Module):
        """torchvision.ops.StochasticDepth: drops whole rows (or the batch) in training; the
        identity in eval mode."""

        def __init__(self, p: float, mode: str) -> None:
            super().__init__()
            self.p, self.mode = p, mode

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.p < 0.0 or self.p > 1.0:
                raise ValueError(f"drop probability has to be between 0 and 1, but got {self.p}")
            if self.mode not in ("batch", "row"):
                raise ValueError(f"mode has to be either 'batch' or 'row', but got {self.mode}")
            if not self.training or self.p == 0.0:
                return x
            size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
            keep = 1.0 - self.p
            noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
            return x * (noise.div_(keep) if keep > 0.0 else noise)
    '''


# batch_first: convcalc's shapes leave the batch out, so either layout reads the same.
_BATCH_FIRST = {"batch_first": BOOL, **PLACED}


def _check_heads(embed_dim: int, num_heads: int) -> None:
    if embed_dim <= 0 or num_heads <= 0:
        raise LayerError(
            f"embed_dim and num_heads must be positive, got embed_dim={embed_dim} and "
            f"num_heads={num_heads}"
        )
    if embed_dim % num_heads:
        raise LayerError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")


def _attention_macs(
    length: int | None, embed_dim: int, source: int | None, kv_dim: int | None = None
) -> int | None:
    """Self-attention over ``length`` tokens attending to ``source`` keys: the q and output
    projections (L·E² each), the k and v projections (L·E·kv_dim each; kv_dim = E unless
    fewer key/value heads), QKᵀ and AV (L·S·E each, over all query heads, in full whatever
    the mask: docs/arithmetic.md#macs)."""
    if length is None or source is None:
        return None
    kv = embed_dim if kv_dim is None else kv_dim
    return 2 * length * embed_dim * (embed_dim + kv) + 2 * length * source * embed_dim


def _check_tokens(kind: str, shape: Shape, embed_dim: int) -> int | None:
    """L of an (L, E) input whose E must be ``embed_dim``."""
    length, features = _tokens(kind, shape)
    if features is not None and features != embed_dim:
        raise LayerError(
            f"embed_dim is {embed_dim}, but the input {fmt_shape(shape)} has {features} "
            "features per token"
        )
    return length


@register
class MultiheadAttention(Layer):
    """nn.MultiheadAttention(embed_dim, num_heads, batch_first=True) as self-attention:
    (L, E) → (L, E); ``causal`` masks the future (``is_causal``), ``kv_heads`` gives
    fewer key/value heads (grouped-query, multi-query at 1), ``rope`` rotates q and k
    (rotary position embedding, no parameters): the attention of today's decoders."""

    NAMES = {"multiheadattention": {}, "mha": {}}
    TORCH = {
        "MultiheadAttention": Signature(
            (
                "embed_dim",
                "num_heads",
                "dropout",
                "bias",
                "add_bias_kv",
                "add_zero_attn",
                "kdim",
                "vdim",
                "batch_first",
                *PLACEMENT,
            ),
            required=2,
            extra=_BATCH_FIRST,
        )
    }
    PARAMS = (
        Param("embed_dim", INT, positional=True, required=True),
        Param("num_heads", INT, positional=True, required=True, aliases=("heads",)),
        # PyTorch never checks it: in eval mode attention's dropout is off.
        Param("dropout", FLOAT, 0.0),
        Param("bias", BOOL, True),
        Param("add_bias_kv", BOOL, False),
        Param("add_zero_attn", BOOL, False),
        Param("kdim", INT, None, help="must equal embed_dim for self-attention"),
        Param("vdim", INT, None, help="must equal embed_dim for self-attention"),
        Param(
            "causal",
            BOOL,
            False,
            aliases=("is_causal",),
            help="mask the future (is_causal); MACs unchanged, a key/value cache counted",
        ),
        Param(
            "kv_heads",
            INT,
            None,
            aliases=("num_kv_heads", "num_key_value_heads"),
            help="key/value heads (grouped-query; 1: multi-query); default num_heads",
        ),
        Param("rope", BOOL, False, aliases=("rotary",), help="rotary position embedding on q, k"),
    )
    SUMMARY = "multi-head self-attention"
    NOTE = (
        "Self-attention: the input is the query, the keys and the values. kv_heads=, rope= "
        "and causal= describe the attention of decoder language models (LLaMA's "
        "q_proj/k_proj/v_proj/o_proj); MACs count QKᵀ and AV in full whatever the mask."
    )

    embed_dim: int
    num_heads: int
    dropout: float
    bias: bool
    add_bias_kv: bool
    add_zero_attn: bool
    kdim: int | None
    vdim: int | None
    causal: bool
    kv_heads: int | None
    rope: bool

    def _kv_dim(self) -> int:
        """Features of the keys (and of the values): kv_heads × head_dim."""
        e, h = self.embed_dim, self.num_heads
        return e if self.kv_heads is None else self.kv_heads * (e // h)

    def _grouped(self) -> bool:
        """Written with separate q/k/v/o projections, not nn.MultiheadAttention's."""
        return self.kv_heads is not None or self.rope

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        e, h = self.embed_dim, self.num_heads
        _check_heads(e, h)
        length = _check_tokens("multiheadattention", shape, e)
        for name, value in (("kdim", self.kdim), ("vdim", self.vdim)):
            if value is not None and value != e:
                # Self-attention feeds the input as keys and values: their size is E.
                raise LayerError(
                    f"{name}={value}, but self-attention's keys and values are the input, "
                    f"with {e} features"
                )
        kv = self.kv_heads
        if kv is not None:
            if kv <= 0:
                raise LayerError(f"kv_heads must be positive, got {kv}")
            if h % kv:
                # F.scaled_dot_product_attention(..., enable_gqa=True) refuses it.
                raise LayerError(
                    f"num_heads {h} is not a multiple of kv_heads {kv}: each key/value head "
                    "serves a whole group of query heads"
                )
        if self._grouped() and (self.add_bias_kv or self.add_zero_attn):
            raise LayerError(
                "add_bias_kv and add_zero_attn are nn.MultiheadAttention's; with kv_heads= or "
                "rope= the attention is written with its own projections, which have neither"
            )
        if self.rope and (e // h) % 2:
            raise LayerError(
                f"rotary position embedding rotates pairs of features: head_dim "
                f"{e // h} (embed_dim {e} / num_heads {h}) must be even"
            )
        kvd = self._kv_dim()
        b = 1 if self.bias else 0
        # q and out (E² + E each), k and v (E·kvd + kvd each), bias_k and bias_v.
        params = 2 * (e * e + e * b) + 2 * (e * kvd + kvd * b) + (2 * e if self.add_bias_kv else 0)
        # bias_kv appends a learned key/value, add_zero_attn a zero one: S = L (+1) (+1).
        extra = int(self.add_bias_kv) + int(self.add_zero_attn)
        source = None if length is None else length + extra
        macs = _attention_macs(length, e, source, kvd)
        return Out("multiheadattention", shape, params=params, macs=macs, rf=None)

    def kv_cache(self, shape: Shape) -> int | None:
        """A causal (decoder) attention keeps the keys and values of every position seen:
        2 · L · kv_heads · head_dim elements per sample."""
        if not self.causal:
            return 0
        length = shape[0] if shape else None
        return None if length is None else 2 * length * self._kv_dim()

    def explain(self, row: Row) -> list[Step]:
        """Its parameters, MACs and key/value cache, with the projections' sizes."""
        from convcalc.kinds.explaining import Step

        length = row.input[0] if row.input else None
        e, h = self.embed_dim, self.num_heads
        if length is None or e % h:
            return []
        kvd, b = self._kv_dim(), self.bias
        if self._grouped():
            expr = f"2·({e}·{e}{f' + {e}' if b else ''}) + 2·({e}·{kvd}{f' + {kvd}' if b else ''})"
            kv = self.kv_heads or h
            note = (
                f"q_proj and o_proj {e}×{e}, k_proj and v_proj {kvd}×{e} ({kv} key/value "
                f"heads of {e // h})" + (", each with a bias" if b else "")
            )
        else:
            expr = f"4·{e}·{e}" + (f" + 4·{e}" if b else "")
            expr += f" + 2·{e}" if self.add_bias_kv else ""
            note = f"in_proj {3 * e}×{e} and out_proj {e}×{e}" + (", with biases" if b else "")
        params = 2 * (e * e + e * b) + 2 * (e * kvd + kvd * b) + (2 * e if self.add_bias_kv else 0)
        steps = [Step(row.index, "params", expr, params, note)]
        source = length + int(self.add_bias_kv) + int(self.add_zero_attn)
        macs = _attention_macs(length, e, source, kvd)
        steps.append(
            Step(
                row.index,
                "MACs",
                f"2·{length}·{e}·({e} + {kvd}) + 2·{length}·{source}·{e}",
                macs,
                f"the projections, then Q·K^T and A·V over all {h} query heads"
                + (", in full whatever the causal mask" if self.causal else ""),
            )
        )
        if self.causal:
            steps.append(
                Step(
                    row.index,
                    "KV cache",
                    f"2·{length}·{kvd}",
                    2 * length * kvd,
                    "elements per sample: the keys and values of every position",
                )
            )
        return steps

    EXAMPLE, EXAMPLE_INPUT = "64 8", "10x64"
    TORCH_HELPER = '''
    class SelfAttention(nn.Module):
        """nn.MultiheadAttention as self-attention: attn(x, x, x) on batch-first tokens."""

        def __init__(self, embed_dim: int, num_heads: int, **kwargs: Any) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, **kwargs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attn(x, x, x, need_weights=False)[0]
    '''
    CAUSAL_HELPER = '''
    class CausalSelfAttention(nn.Module):
        """nn.MultiheadAttention as causal self-attention: each token attends to itself and
        the tokens before it (is_causal, with the mask PyTorch needs beside it)."""

        def __init__(self, embed_dim: int, num_heads: int, **kwargs: Any) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, **kwargs)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n = x.shape[1]
            mask = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            return self.attn(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]
    '''
    GROUPED_HELPER = '''
    class Attention(nn.Module):
        """Self-attention with kv_heads key/value heads (grouped-query; 1: multi-query),
        rotary position embedding on q and k (rope) and a causal mask, as LLaMA's and
        Mistral's: q_proj, k_proj, v_proj, o_proj."""

        def __init__(
            self,
            embed_dim: int,
            num_heads: int,
            kv_heads: int,
            bias: bool = True,
            causal: bool = False,
            rope: bool = False,
        ) -> None:
            super().__init__()
            self.num_heads, self.kv_heads = num_heads, kv_heads
            self.head_dim = embed_dim // num_heads
            self.causal, self.rope = causal, rope
            kv_dim = kv_heads * self.head_dim
            self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
            self.k_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
            self.v_proj = nn.Linear(embed_dim, kv_dim, bias=bias)
            self.o_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

        def rotate(self, x: torch.Tensor) -> torch.Tensor:
            """Rotary position embedding (no parameters): feature pairs turned by position."""
            n, d = x.shape[-2], self.head_dim
            inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2, device=x.device).float() / d)
            angles = torch.outer(torch.arange(n, device=x.device).float(), inv_freq)
            cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()
            half = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], -1)
            return x * cos.to(x.dtype) + half * sin.to(x.dtype)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, n, _ = x.shape
            q = self.q_proj(x).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
            k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
            if self.rope:
                q, k = self.rotate(q), self.rotate(k)
            y = nn.functional.scaled_dot_product_attention(
                q, k, v, is_causal=self.causal, enable_gqa=True
            )
            return self.o_proj(y.transpose(1, 2).reshape(b, n, -1))
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        # Self-attention: nn.MultiheadAttention takes the query, keys and values apart.
        from convcalc.kinds.code import TorchCode, py

        e, h = self.embed_dim, self.num_heads
        if self._grouped():
            kv = h if self.kv_heads is None else self.kv_heads
            return TorchCode(
                f"Attention(embed_dim={e}, num_heads={h}, kv_heads={kv}, bias={self.bias}, "
                f"causal={self.causal}, rope={self.rope})",
                self.GROUPED_HELPER,
            )
        keys = ("dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim")
        args = ", ".join(f"{k}={py(self.__dict__[k])}" for k in keys)
        cls, helper = (
            ("CausalSelfAttention", self.CAUSAL_HELPER)
            if self.causal
            else ("SelfAttention", self.TORCH_HELPER)
        )
        return TorchCode(f"{cls}(embed_dim={e}, num_heads={h}, {args})", helper)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class TransformerEncoderLayer(Layer):
    """nn.TransformerEncoderLayer(d_model, nhead, ..., batch_first=True): self-attention
    and a 2-layer feed-forward block, each with a residual and a LayerNorm."""

    NAMES = {"transformerencoderlayer": {}, "encoderlayer": {}}
    TORCH = {
        "TransformerEncoderLayer": Signature(
            (
                "d_model",
                "nhead",
                "dim_feedforward",
                "dropout",
                "activation",
                "layer_norm_eps",
                "batch_first",
                "norm_first",
                "bias",
                *PLACEMENT,
            ),
            required=2,
            extra=_BATCH_FIRST,
        )
    }
    PARAMS = (
        Param("d_model", INT, positional=True, required=True),
        Param("nhead", INT, positional=True, required=True, aliases=("heads",)),
        Param("dim_feedforward", INT, 2048, aliases=("ff",)),
        Param("dropout", FLOAT, 0.1),
        Param("activation", Choice("relu", "gelu"), "relu"),
        Param("layer_norm_eps", FLOAT, 1e-5, aliases=("eps",)),
        Param("norm_first", BOOL, False),
        Param("bias", BOOL, True),
    )
    SUMMARY = "transformer encoder layer"

    d_model: int
    nhead: int
    dim_feedforward: int
    dropout: float
    activation: str
    layer_norm_eps: float
    norm_first: bool
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        e, ff = self.d_model, self.dim_feedforward
        if ff < 0:
            raise LayerError(f"dim_feedforward must not be negative, got {ff}")
        if not 0.0 <= self.dropout <= 1.0:
            # Unlike MultiheadAttention's, its nn.Dropout modules check p.
            raise LayerError(f"dropout probability has to be between 0 and 1, got {self.dropout:g}")
        _check_heads(e, self.nhead)
        length = _check_tokens("transformerencoderlayer", shape, e)
        b = 1 if self.bias else 0
        # self_attn (4E² + 4E), linear1 (E·F + F), linear2 (F·E + E), norm1 and norm2 (2E).
        params = 4 * e * e + 4 * e * b + 2 * e * ff + (ff + e) * b + 2 * (e + e * b)
        attention = _attention_macs(length, e, length)
        feed_forward = prod((length, 2 * e * ff))
        macs = None if attention is None or feed_forward is None else attention + feed_forward
        return Out("transformerencoderlayer", shape, params=params, macs=macs, rf=None)

    EXAMPLE, EXAMPLE_INPUT = "64 8", "10x64"

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        # batch_first=True: convcalc's tokens are (L, E), the batch before them.
        from convcalc.kinds.code import TorchCode, py

        first = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps")
        given = [f"{k}={py(self.__dict__[k])}" for k in first]
        given += ["batch_first=True", f"norm_first={self.norm_first}", f"bias={self.bias}"]
        return TorchCode(f"nn.TransformerEncoderLayer({', '.join(given)})")

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class ClassToken(Layer):
    """ViT's class token: a learned (1, 1, E) token put before the others, (L, E) →
    (L+1, E); E parameters."""

    NAMES = {"classtoken": {}, "cls": {}}
    SUMMARY = "prepend a learned class token"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        length, features = _tokens("classtoken", shape)
        out = (None if length is None else length + 1, features)
        return Out("classtoken", out, params=features, rf=None)

    EXAMPLE_INPUT = "196x768"
    TORCH_HELPER = '''
    class ClassToken(nn.Module):
        """ViT's class token, put before the other tokens (torchvision's VisionTransformer)."""

        def __init__(self, embed_dim: int) -> None:
            super().__init__()
            self.class_token = nn.Parameter(torch.zeros(1, 1, embed_dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"ClassToken(embed_dim={shape[1]})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class PosEmbedding(Layer):
    """ViT's learned position embedding: a (1, length, E) parameter added to the
    input (PyTorch broadcasting); length defaults to the input's L."""

    NAMES = {"posembedding": {}, "posembed": {}}
    PARAMS = (Param("length", INT, None, aliases=("seq_length",), help="default: the input's L"),)
    SUMMARY = "learned position embedding"

    length: int | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        length, features = _tokens("posembedding", shape)
        n = self.length
        if n is None:
            n = length
        elif n <= 0:
            raise LayerError(f"length must be positive, got {n}")
        out = length
        if n is not None and length is not None and n != length:
            # x + pos_embedding broadcasts a size of 1 against the other.
            if length != 1 and n != 1:
                raise LayerError(
                    f"the position embedding has {n} positions, the input {length} tokens"
                )
            out = max(n, length)
        elif length is None and n is not None and n != 1:
            out = n
        params = prod((n, features))
        return Out("posembedding", (out, features), params=params, rf=() if out == length else None)

    EXAMPLE_INPUT = "197x768"
    TORCH_HELPER = '''
    class PosEmbedding(nn.Module):
        """ViT's learned position embedding, added to the tokens (torchvision's Encoder)."""

        def __init__(self, length: int, embed_dim: int) -> None:
            super().__init__()
            self.pos_embedding = nn.Parameter(torch.empty(1, length, embed_dim).normal_(std=0.02))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.pos_embedding
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        length = shape[0] if self.length is None else self.length
        return TorchCode(f"PosEmbedding(length={length}, embed_dim={shape[1]})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


class _Table(Layer):
    """A learned table of ``num_embeddings`` rows of E features, one row looked up per token
    (nn.Embedding(num, E) on indices the layer makes itself) and added to the tokens."""

    PARAMS = (Param("num_embeddings", INT, positional=True, required=True, aliases=("num",)),)
    EXAMPLE, EXAMPLE_INPUT = "1024", "128x768"

    num_embeddings: int

    def table(self, shape: Shape) -> tuple[int | None, int | None]:
        """(L, E) of the tokens after the table's own checks."""
        n = self.num_embeddings
        if n <= 0:
            raise LayerError(f"num_embeddings must be positive, got {n}")
        return _tokens(self.KIND, shape)

    KIND: ClassVar[str] = ""
    ROWS: ClassVar[str] = ""  # the indices it looks up, for the helper's forward
    TORCH_HELPER_NAME: ClassVar[str] = ""

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        _, features = self.table(shape)
        # A lookup and an addition: no MACs (FlopCounterMode counts none).
        return Out(self.KIND, shape, params=prod((self.num_embeddings, features)), rf=None)

    def tie_weight(self, shape: Shape) -> tuple[int, ...] | None:
        return None if shape[-1] is None else (self.num_embeddings, shape[-1])

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(
            f"{self.TORCH_HELPER_NAME}(num_embeddings={self.num_embeddings}, "
            f"embedding_dim={shape[1]})",
            self.TORCH_HELPER,
        )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class PositionTable(_Table):
    """GPT-2's and BERT's learned positions: nn.Embedding(max_positions, E) read at
    positions 0..L-1 and added to the tokens; L may not exceed the table."""

    NAMES = {"positions": {}, "postable": {}}
    SUMMARY = "learned position table (added)"
    KIND = "positions"
    TORCH_HELPER_NAME = "PositionTable"
    TORCH_HELPER = '''
    class PositionTable(nn.Module):
        """A learned position table (GPT-2's wpe, BERT's position_embeddings): row i is
        added to token i."""

        def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
            super().__init__()
            self.embedding = nn.Embedding(num_embeddings, embedding_dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.embedding(torch.arange(x.shape[1], device=x.device))
    '''

    def table(self, shape: Shape) -> tuple[int | None, int | None]:
        length, features = super().table(shape)
        if length is not None and length > self.num_embeddings:
            # nn.Embedding: "IndexError: index out of range in self".
            raise LayerError(
                f"the position table has {self.num_embeddings} positions, but the input has "
                f"{length} tokens (PyTorch: index out of range)"
            )
        return length, features


@register
class TokenTypes(_Table):
    """BERT's token-type (segment) table: nn.Embedding(types, E) read at token type 0
    (token_type_ids left out) and added to the tokens."""

    NAMES = {"tokentypes": {}, "token_types": {}}
    SUMMARY = "learned token-type table (added)"
    KIND = "tokentypes"
    EXAMPLE = "2"
    TORCH_HELPER_NAME = "TokenTypes"
    TORCH_HELPER = '''
    class TokenTypes(nn.Module):
        """A learned token-type table (BERT's token_type_embeddings): every token is of
        type 0, as when token_type_ids are left out."""

        def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
            super().__init__()
            self.embedding = nn.Embedding(num_embeddings, embedding_dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            types = torch.zeros(x.shape[1], dtype=torch.long, device=x.device)
            return x + self.embedding(types)
    '''


@register
class GatedMLP(Layer):
    """A gated feed-forward block, down(act(gate(x)) · up(x)): SwiGLU (LLaMA's MLP, silu)
    or GeGLU (gelu); three E×F matrices, bias-free by default."""

    NAMES = {"swiglu": {}, "gatedmlp": {}}
    PARAMS = (
        Param("hidden", INT, positional=True, required=True, aliases=("ff", "intermediate_size")),
        Param("bias", BOOL, False),
        Param("activation", Choice("silu", "gelu"), "silu", aliases=("act",)),
    )
    SUMMARY = "gated MLP (SwiGLU)"
    EXAMPLE, EXAMPLE_INPUT = "11008", "16x4096"

    hidden: int
    bias: bool
    activation: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        f = self.hidden
        if f <= 0:
            raise LayerError(f"hidden must be positive, got {f}")
        if not shape:
            raise LayerError("swiglu needs an input with a feature dimension")
        e = shape[-1]
        b = 1 if self.bias else 0
        # gate_proj and up_proj (E·F + F each), down_proj (F·E + E).
        params = None if e is None else 3 * e * f + (2 * f + e) * b
        lead = prod(shape[:-1])
        macs = None if e is None or lead is None else 3 * lead * e * f
        return Out("swiglu", shape, params=params, macs=macs, rf=None)

    TORCH_HELPER = '''
    class GatedMLP(nn.Module):
        """down_proj(act(gate_proj(x)) * up_proj(x)): SwiGLU (LLaMA's MLP) with silu,
        GeGLU with gelu."""

        def __init__(self, dim: int, hidden: int, bias: bool, activation: str) -> None:
            super().__init__()
            self.gate_proj = nn.Linear(dim, hidden, bias=bias)
            self.up_proj = nn.Linear(dim, hidden, bias=bias)
            self.down_proj = nn.Linear(hidden, dim, bias=bias)
            self.act = nn.SiLU() if activation == "silu" else nn.GELU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(
            f"GatedMLP(dim={shape[-1]}, hidden={self.hidden}, bias={self.bias}, "
            f"activation={self.activation!r})",
            self.TORCH_HELPER,
        )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
    LINEAR_ON_LAST_AXIS = True


@register
class SelectToken(Layer):
    """x[:, index]: one token of the input, e.g. ViT's class token (L, E) → (E)."""

    NAMES = {"selecttoken": {}, "token": {}}
    PARAMS = (Param("index", INT, 0, positional=True),)
    SUMMARY = "select one token"
    KEEPS_DTYPE = True  # moves elements only: indices stay indices

    index: int

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) < 2:
            raise LayerError(
                f"selecttoken takes one entry of the first dimension, and the input "
                f"{fmt_shape(shape)} would keep nothing but the batch"
            )
        length, i = shape[0], self.index
        if length is not None and not -length <= i < length:
            raise LayerError(
                f"index {i} is out of range for {length} tokens: {-length}..{length - 1}"
            )
        return Out("selecttoken", shape[1:], rf=None)

    EXAMPLE_INPUT = "197x768"
    TORCH_HELPER = '''
    class SelectToken(nn.Module):
        """x[:, index]: one token, e.g. ViT's class token before its head."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, self.index]
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"SelectToken(index={self.index})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
