"""PyTorch's multi-head self-attention (nn.MultiheadAttention, with the causal mask,
grouped-query key/value heads and rotary position embedding of decoder language models)
and the transformer encoder layer built on it (docs/language.md#the-layer-kinds); the
decoder layers, which share its checks, are in transformer_decoder.py.

Token layers take an (L, E) input: L tokens of E features, batch first as with
``batch_first=True`` (the batch is never part of a convcalc shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, PLACED, PLACEMENT, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape, prod
from convcalc.kinds.torch.common import token_shape
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"


# batch_first: convcalc's shapes leave the batch out, so either layout reads the same.
_BATCH_FIRST = {"batch_first": BOOL, **PLACED}

# The layer's arguments, nn.TransformerDecoderLayer's (and nn.TransformerEncoderLayer's).
_LAYER_PARAMS = (
    Param("dim_feedforward", INT, 2048, aliases=("ff",)),
    Param("dropout", FLOAT, 0.1),
    Param("activation", Choice("relu", "gelu"), "relu"),
    Param("layer_norm_eps", FLOAT, 1e-5, aliases=("eps",)),
    Param("norm_first", BOOL, False),
    Param("bias", BOOL, True),
)
_LAYER_SIGNATURE = (
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
)


def _check_feed_forward(dim_feedforward: int, dropout: float) -> None:
    """The feed-forward block's rejections: nn.Linear's size, nn.Dropout's p (which
    MultiheadAttention's dropout, never an nn.Dropout, escapes)."""
    if dim_feedforward < 0:
        raise LayerError(f"dim_feedforward must not be negative, got {dim_feedforward}")
    if not 0.0 <= dropout <= 1.0:
        raise LayerError(f"dropout probability has to be between 0 and 1, got {dropout:g}")


def _layer_args(layer: Layer, first: tuple[str, ...] = ("d_model", "nhead")) -> str:
    """An encoder or decoder layer's constructor arguments (nn.Transformer's with its
    layer counts in ``first``), batch first."""
    from convcalc.kinds.code import py

    keys = (*first, "dim_feedforward", "dropout", "activation", "layer_norm_eps")
    given = [f"{k}={py(layer.__dict__[k])}" for k in keys]
    given += ["batch_first=True", f"norm_first={layer.__dict__['norm_first']}"]
    return ", ".join([*given, f"bias={layer.__dict__['bias']}"])


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


def _checktoken_shape(kind: str, shape: Shape, embed_dim: int) -> int | None:
    """L of an (L, E) input whose E must be ``embed_dim``."""
    length, features = token_shape(kind, shape)
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
        length = _checktoken_shape("multiheadattention", shape, e)
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
    TORCH = {"TransformerEncoderLayer": Signature(_LAYER_SIGNATURE, required=2, extra=_BATCH_FIRST)}
    PARAMS = (
        Param("d_model", INT, positional=True, required=True),
        Param("nhead", INT, positional=True, required=True, aliases=("heads",)),
        *_LAYER_PARAMS,
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
        _check_feed_forward(ff, self.dropout)
        _check_heads(e, self.nhead)
        length = _checktoken_shape("transformerencoderlayer", shape, e)
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
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"nn.TransformerEncoderLayer({_layer_args(self)})")

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
