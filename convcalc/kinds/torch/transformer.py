"""Layers of transformers and of whole networks: dimension reordering (permute,
transpose), ConvNeXt's layer scale, stochastic depth, ViT's class token, position
embedding and token selection, GPT-2's and BERT's position tables, BERT's token-type
table and LLaMA's gated MLP (docs/language.md#the-layer-kinds). The attention and the
encoder layer built on it are in transformer_attention.py.

Token layers take an (L, E) input: L tokens of E features, batch first as with
``batch_first=True`` (the batch is never part of a convcalc shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, INTS, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape, fmt_tuple, prod
from convcalc.kinds.torch.common import token_shape
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode

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


@register
class ClassToken(Layer):
    """ViT's class token: a learned (1, 1, E) token put before the others, (L, E) →
    (L+1, E); E parameters."""

    NAMES = {"classtoken": {}, "cls": {}}
    SUMMARY = "prepend a learned class token"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        length, features = token_shape("classtoken", shape)
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
        length, features = token_shape("posembedding", shape)
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
        return token_shape(self.KIND, shape)

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
