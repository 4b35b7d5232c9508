"""PyTorch's transformer decoder layer and its whole transformer: nn.TransformerDecoderLayer
and nn.Transformer (an encoder stack and a decoder stack, each with its final LayerNorm)
(docs/language.md#transformer-decoders); nn.TransformerDecoder, a stack of decoder
layers, is in transformer_stack.py on the arithmetic kept here.

A decoder reads two tensors: its target, the tensor before it, and the memory it
attends to, which the layer names (``memory=enc``: a tensor named with ``as enc``, or
``input``); nn.Transformer reads its target the same way and names its source
(``src=NAME``). Both are (L, E) tokens, batch first as with ``batch_first=True``; the
memory's (source's) length S may differ from the target's L, its E must be d_model.
MACs follow docs/arithmetic.md's attention rule: the projections, and QKᵀ and AV in
full whatever the mask (a causal mask changes no figure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, PLACEMENT, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape
from convcalc.kinds.torch.registry import register
from convcalc.kinds.torch.transformer_attention import (
    _BATCH_FIRST,
    _LAYER_PARAMS,
    _LAYER_SIGNATURE,
    _check_feed_forward,
    _check_heads,
    _layer_args,
)

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

_MEMORY = "the memory it attends to (the encoder's output)"
_SRC = "the source sequence its encoder reads"

_CAUSAL = Param(
    "causal",
    BOOL,
    False,
    aliases=("tgt_is_causal",),
    help="a causal mask on the target's self-attention (-o torch passes it); no figure changes",
)


def _tokens(kind: str, what: str, shape: Shape, d_model: int) -> int | None:
    """L of an (L, E) tensor whose E must be d_model; ``what`` names it in messages."""
    if len(shape) != 2:
        raise LayerError(
            f"{kind} expects its {what} as L×E (L tokens of E features), got {fmt_shape(shape)}"
        )
    length, features = shape
    if features is not None and features != d_model:
        raise LayerError(
            f"d_model is {d_model}, but the {what} {fmt_shape(shape)} has {features} "
            "features per token (they must match)"
        )
    return length


def _times(n: int | None, each: int | None) -> int | None:
    return None if n is None or each is None else n * each


class _Blocks(Layer):
    """What the decoder kinds share: the layer's arguments, their checks, the parameter
    and MAC counts of one encoder and one decoder layer."""

    d_model: int
    nhead: int
    dim_feedforward: int
    dropout: float
    activation: str
    layer_norm_eps: float
    norm_first: bool
    bias: bool

    def check(self) -> None:
        """PyTorch's rejections, in the order its constructor meets them."""
        _check_heads(self.d_model, self.nhead)
        _check_feed_forward(self.dim_feedforward, self.dropout)

    def norm_params(self) -> int:
        """One LayerNorm(d_model, bias=bias): weight and bias."""
        return self.d_model * (2 if self.bias else 1)

    def attention_params(self) -> int:
        """One nn.MultiheadAttention(d_model, nhead, bias=bias): in_proj 3E² (+ 3E),
        out_proj E² (+ E)."""
        e = self.d_model
        return 4 * e * e + (4 * e if self.bias else 0)

    def feed_forward_params(self) -> int:
        e, ff, b = self.d_model, self.dim_feedforward, 1 if self.bias else 0
        return 2 * e * ff + (ff + e) * b

    def encoder_layer_params(self) -> int:
        """nn.TransformerEncoderLayer: self-attention, feed-forward, norm1 and norm2."""
        return self.attention_params() + self.feed_forward_params() + 2 * self.norm_params()

    def decoder_layer_params(self) -> int:
        """nn.TransformerDecoderLayer: self-attention, cross-attention, feed-forward, norm1-3."""
        return 2 * self.attention_params() + self.feed_forward_params() + 3 * self.norm_params()

    def encoder_layer_macs(self, s: int | None) -> int | None:
        """Over S tokens: q, k, v and out projections 4·S·E², QKᵀ and AV 2·S²·E, the
        feed-forward 2·S·E·F."""
        if s is None:
            return None
        e, ff = self.d_model, self.dim_feedforward
        return 4 * s * e * e + 2 * s * s * e + 2 * s * e * ff

    def decoder_layer_macs(self, length: int | None, s: int | None) -> int | None:
        """L target tokens over a memory of S: self-attention 4·L·E² + 2·L²·E; cross-attention
        q and out projections 2·L·E², k and v on the memory 2·S·E², QKᵀ and AV 2·L·S·E; the
        feed-forward 2·L·E·F."""
        if length is None or s is None:
            return None
        e, ff = self.d_model, self.dim_feedforward
        self_attention = 4 * length * e * e + 2 * length * length * e
        cross = 2 * length * e * e + 2 * s * e * e + 2 * length * s * e
        return self_attention + cross + 2 * length * e * ff

    def layer_args(self) -> str:
        """nn.TransformerDecoderLayer's (or EncoderLayer's) constructor arguments."""
        return _layer_args(self)

    def part_steps(self, row: Row) -> list[Step]:
        """The parameters of one attention, one feed-forward block and one LayerNorm."""
        from convcalc.kinds.explaining import Step

        e, ff, b = self.d_model, self.dim_feedforward, self.bias
        bias = "" if b else ", no biases"
        return [
            Step(
                row.index,
                "attention",
                f"4·{e}²" + (f" + 4·{e}" if b else ""),
                self.attention_params(),
                f"in_proj 3·{e}×{e}, out_proj {e}×{e}{bias}",
            ),
            Step(
                row.index,
                "feed-forward",
                f"2·{e}·{ff}" + (f" + {ff} + {e}" if b else ""),
                self.feed_forward_params(),
                f"linear1 {ff}×{e}, linear2 {e}×{ff}{bias}",
            ),
            Step(
                row.index,
                "LayerNorm",
                f"2·{e}" if b else str(e),
                self.norm_params(),
                "weight" + (" and bias" if b else "") + f" of {e}",
            ),
        ]

    def layer_sum(self, parts: list[Step], decoder: bool) -> tuple[str, str]:
        """One encoder (or decoder) layer's parameters as a sum of ``parts``
        (part_steps'), and what it counts."""
        att, feed, norm = (step.value for step in parts)
        if decoder:
            return (
                f"2·{att} + {feed} + 3·{norm}",
                "self_attn and multihead_attn, linear1 and linear2, norm1 to norm3",
            )
        return f"{att} + {feed} + 2·{norm}", "self_attn, linear1 and linear2, norm1 and norm2"

    def decoder_macs_steps(self, row: Row, n: int | None = None) -> list[Step]:
        """The MACs of one decoder layer (of ``n``, per layer) with L and the memory's S."""
        from convcalc.kinds.explaining import Step

        length, s = row.input[0], row.operands[1][0] if len(row.operands) > 1 else None
        macs = self.decoder_layer_macs(length, s)
        if macs is None or length is None or s is None:
            return []
        text = self.decoder_macs_text(length, s)
        note = (
            f"self-attention over L = {length}, attention to the memory's S = {s}, "
            "feed-forward (QKᵀ and AV in full, whatever the mask)"
        )
        if n is None:
            return [Step(row.index, "MACs", text, macs, note)]
        return [Step(row.index, "MACs", f"{n}·({text})", n * macs, f"per layer: {note}")]

    def decoder_macs_text(self, length: int, s: int) -> str:
        e, ff = self.d_model, self.dim_feedforward
        return (
            f"4·{length}·{e}² + 2·{length}²·{e} + 2·{length}·{e}² + 2·{s}·{e}² + "
            f"2·{length}·{s}·{e} + 2·{length}·{e}·{ff}"
        )

    def encoder_macs_text(self, s: int) -> str:
        e, ff = self.d_model, self.dim_feedforward
        return f"4·{s}·{e}² + 2·{s}²·{e} + 2·{s}·{e}·{ff}"

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class TransformerDecoderLayer(_Blocks):
    """nn.TransformerDecoderLayer(d_model, nhead, ..., batch_first=True): self-attention on
    the target, attention to the memory, a 2-layer feed-forward block, each with a
    residual and a LayerNorm: (L, E) with a memory (S, E) → (L, E)."""

    NAMES = {"transformerdecoderlayer": {}, "decoderlayer": {}}
    TORCH = {"TransformerDecoderLayer": Signature(_LAYER_SIGNATURE, required=2, extra=_BATCH_FIRST)}
    PARAMS = (
        Param("d_model", INT, positional=True, required=True),
        Param("nhead", INT, positional=True, required=True, aliases=("heads",)),
        *_LAYER_PARAMS,
        _CAUSAL,
    )
    TENSOR_KEYS = {"memory": _MEMORY}
    SUMMARY = "transformer decoder layer (memory=NAME)"
    NOTE = (
        "The input is the target, L×d_model; memory=NAME names the tensor it attends to "
        "(an earlier one named with 'as NAME', or memory=input), S×d_model, S free. "
        "memory= is required and follows a call too: 'TransformerDecoderLayer(512, 8)' "
        "memory=enc. causal (tgt_is_causal) masks the self-attention and changes no figure."
    )

    causal: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:  # pragma: no cover - graph.py
        raise LayerError("a decoder layer reads a memory too: memory=NAME")

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        self.check()
        kind = "transformerdecoderlayer"
        tgt, memory = shapes
        length = _tokens(kind, "target", tgt, self.d_model)
        s = _tokens(kind, f"memory ({labels[1]})", memory, self.d_model)
        macs = self.decoder_layer_macs(length, s)
        return Out(kind, tgt, params=self.decoder_layer_params(), macs=macs, rf=None)

    EXAMPLE, EXAMPLE_INPUT = "64 8 memory=input", "10x64"

    def explain(self, row: Row) -> list[Step]:
        """The parameters of its parts and their sum, the MACs with L and S."""
        from convcalc.kinds.explaining import Step

        steps = self.part_steps(row)
        expr, note = self.layer_sum(steps, decoder=True)
        steps.append(Step(row.index, "params", expr, self.decoder_layer_params(), note))
        steps += self.decoder_macs_steps(row)
        return steps

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"nn.TransformerDecoderLayer({self.layer_args()})")

    def torch_call(self, module: str, args: list[str]) -> str:
        if not self.causal:
            return f"{module}({args[0]}, {args[1]})"
        mask = f"nn.Transformer.generate_square_subsequent_mask({args[0]}.size(1))"
        return f"{module}({args[0]}, {args[1]}, tgt_mask={mask}, tgt_is_causal=True)"


def _check_count(name: str, n: int, module: str) -> None:
    if n < 1:
        raise LayerError(
            f"{name}={n}: {module}'s forward reads its first layer, so it needs at least one"
        )


@register
class Transformer(_Blocks):
    """nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, ...,
    batch_first=True): an encoder stack over the source and a decoder stack over the
    target attending to the encoder's output, each with a final LayerNorm; its input is
    the target (L, E), ``src=NAME`` names the source (S, E), and it hands on (L, E)."""

    NAMES = {"transformer": {}}
    TORCH = {
        "Transformer": Signature(
            (
                "d_model",
                "nhead",
                "num_encoder_layers",
                "num_decoder_layers",
                "dim_feedforward",
                "dropout",
                "activation",
                "custom_encoder",
                "custom_decoder",
                "layer_norm_eps",
                "batch_first",
                "norm_first",
                "bias",
                *PLACEMENT,
            ),
            extra=_BATCH_FIRST,
            only={
                "custom_encoder": (None, "convcalc builds nn.Transformer's own encoder"),
                "custom_decoder": (None, "convcalc builds nn.Transformer's own decoder"),
            },
        )
    }
    PARAMS = (
        Param("d_model", INT, 512, positional=True),
        Param("nhead", INT, 8, positional=True, aliases=("heads",)),
        Param("num_encoder_layers", INT, 6, positional=True, aliases=("encoder_layers",)),
        Param("num_decoder_layers", INT, 6, positional=True, aliases=("decoder_layers",)),
        *_LAYER_PARAMS,
        _CAUSAL,
    )
    TENSOR_KEYS = {"src": _SRC}
    SUMMARY = "encoder–decoder transformer (src=NAME)"
    NOTE = (
        "nn.Transformer's forward(src, tgt): the layer's input is the target tgt, L×d_model, "
        "and src=NAME names the source, S×d_model (a tensor named earlier with 'as NAME', or "
        "src=input), S free. It hands on the decoder's output, L×d_model. src= is required "
        "and follows a call too: 'Transformer(512, 8)' src=source. causal (tgt_is_causal) "
        "masks the decoder's self-attention and changes no figure."
    )

    num_encoder_layers: int
    num_decoder_layers: int
    causal: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:  # pragma: no cover - graph.py
        raise LayerError("a transformer reads a source too: src=NAME")

    def encoder_params(self) -> int:
        return self.num_encoder_layers * self.encoder_layer_params() + self.norm_params()

    def decoder_params(self) -> int:
        return self.num_decoder_layers * self.decoder_layer_params() + self.norm_params()

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        self.check()
        for name in ("num_encoder_layers", "num_decoder_layers"):
            _check_count(name, self.__dict__[name], "nn.Transformer")
        kind = "transformer"
        tgt, src = shapes
        length = _tokens(kind, "target", tgt, self.d_model)
        s = _tokens(kind, f"source ({labels[1]})", src, self.d_model)
        encoder = _times(self.num_encoder_layers, self.encoder_layer_macs(s))
        decoder = _times(self.num_decoder_layers, self.decoder_layer_macs(length, s))
        macs = None if encoder is None or decoder is None else encoder + decoder
        params = self.encoder_params() + self.decoder_params()
        return Out(kind, tgt, params=params, macs=macs, rf=None)

    EXAMPLE, EXAMPLE_INPUT = "64 8 2 2 ff=256 src=input", "10x64"

    def explain(self, row: Row) -> list[Step]:
        """The parameters of one encoder and one decoder layer, of each stack with its norm,
        and their sum; the MACs of each stack with S and L."""
        from convcalc.kinds.explaining import Step

        ne, nd = self.num_encoder_layers, self.num_decoder_layers
        steps = self.part_steps(row)
        norm = steps[-1].value
        enc, dec = self.encoder_layer_params(), self.decoder_layer_params()
        enc_expr, enc_note = self.layer_sum(steps, decoder=False)
        dec_expr, dec_note = self.layer_sum(steps, decoder=True)
        steps += [
            Step(row.index, "params, encoder layer", enc_expr, enc, enc_note),
            Step(row.index, "params, decoder layer", dec_expr, dec, dec_note),
            Step(
                row.index,
                "params, encoder",
                f"{ne}·{enc} + {norm}",
                self.encoder_params(),
                f"{ne} layer{'s' if ne != 1 else ''} and the final norm",
            ),
            Step(
                row.index,
                "params, decoder",
                f"{nd}·{dec} + {norm}",
                self.decoder_params(),
                f"{nd} layer{'s' if nd != 1 else ''} and the final norm",
            ),
            Step(
                row.index,
                "params",
                f"{self.encoder_params()} + {self.decoder_params()}",
                self.encoder_params() + self.decoder_params(),
            ),
        ]
        length, s = row.input[0], row.operands[1][0] if len(row.operands) > 1 else None
        if length is not None and s is not None:
            encoder = ne * (self.encoder_layer_macs(s) or 0)
            decoder = nd * (self.decoder_layer_macs(length, s) or 0)
            steps += [
                Step(
                    row.index,
                    "MACs, encoder",
                    f"{ne}·({self.encoder_macs_text(s)})",
                    encoder,
                    f"per layer: self-attention over the source's S = {s}, feed-forward",
                ),
                Step(
                    row.index,
                    "MACs, decoder",
                    f"{nd}·({self.decoder_macs_text(length, s)})",
                    decoder,
                    f"per layer: self-attention over L = {length}, attention to the "
                    f"encoder's output, S = {s}, feed-forward",
                ),
                Step(
                    row.index,
                    "MACs",
                    f"{encoder} + {decoder}",
                    encoder + decoder,
                    "QKᵀ and AV in full, whatever the mask",
                ),
            ]
        return steps

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        first = ("d_model", "nhead", "num_encoder_layers", "num_decoder_layers")
        return TorchCode(f"nn.Transformer({_layer_args(self, first)})")

    def torch_call(self, module: str, args: list[str]) -> str:
        # forward(src, tgt): the source first; the graph's order is the target first.
        tgt, src = args
        if not self.causal:
            return f"{module}({src}, {tgt})"
        mask = f"nn.Transformer.generate_square_subsequent_mask({tgt}.size(1))"
        return f"{module}({src}, {tgt}, tgt_mask={mask}, tgt_is_causal=True)"
