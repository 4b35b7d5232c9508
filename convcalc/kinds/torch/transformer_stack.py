"""PyTorch's transformer stacks written as PyTorch writes them: nn.TransformerEncoder and
nn.TransformerDecoder, each num_layers deep copies of the layer it is given and an
optional final norm (docs/language.md#transformer-stacks).

``TransformerEncoder(TransformerEncoderLayer(512, 8), num_layers=6, norm=LayerNorm(512))``
nests calls: the layer and the norm are bound by their own kinds' binding (the same
checks, defaults and messages as ``TransformerEncoderLayer(512, 8)`` alone), and the
stack's figures are num_layers times the layer's, plus the norm's. The short words
``transformerencoder d_model nhead num_layers [norm]`` and ``transformerdecoder …`` take
the layer's keys instead. A decoder names its memory after the call (``memory=enc``), as
the decoder layer does. MACs follow docs/arithmetic.md's attention rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, ArgType, BoolType, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_tuple
from convcalc.kinds.torch import transformer_decoder as _decoder
from convcalc.kinds.torch.registry import register
from convcalc.kinds.torch.transformer_attention import _LAYER_PARAMS, TransformerEncoderLayer

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step
    from convcalc.language import Value

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

# The layer's own arguments, which the stack takes from the layer it is given.
_LAYER_KEYS = ("d_model", "nhead", *(p.name for p in _LAYER_PARAMS))


class CallType(ArgType):
    """A layer given as another's argument, written as PyTorch's call of one of
    ``classes`` (``TransformerEncoderLayer(512, 8)``), bound by that kind's own binding."""

    call_only = True

    def __init__(self, *classes: str) -> None:
        self.classes = classes
        self.name = " or ".join(f"{c}(…)" for c in classes)  # type: ignore[misc]

    def convert(self, value: Value, source: str) -> Layer:
        from convcalc.kinds.binding import bind_call
        from convcalc.kinds.torch.registry import REGISTRY

        kinds = {c.lower() for c in self.classes}
        expected = f"{self.name}, a layer written as PyTorch's call"
        return bind_call(value, source, REGISTRY, expected, kinds)


class NormType(BoolType):
    """The short form's ``norm`` flag (true: LayerNorm(d_model, eps=layer_norm_eps,
    bias=bias)), or the call's LayerNorm(…) or None."""

    name = "true, false, LayerNorm(d_model) or None"
    words = ("true", "false")

    def convert(self, value: Value, source: str) -> Any:
        if value.kind == "call":
            return CallType("LayerNorm").convert(value, source)
        if value.kind == "name" and str(value.value) == "None":
            return False
        return super().convert(value, source)


_ENCODER_LAYER = CallType("TransformerEncoderLayer")
_DECODER_LAYER = CallType("TransformerDecoderLayer")
_NORM = Param(
    "norm",
    NormType(),
    False,
    help="a final LayerNorm: the flag (LayerNorm(d_model)), or the call's LayerNorm(…) or None",
)


def _shape_params() -> tuple[Param, ...]:
    # Not required in the declaration: the call form gives them through its layer.
    return (
        Param("d_model", INT, None, positional=True),
        Param("nhead", INT, None, positional=True, aliases=("heads",)),
        Param("num_layers", INT, None, positional=True, aliases=("layers",)),
    )


class _Stack(_decoder._Blocks):
    """What the two stacks share: the layer given (or built from the short form's keys),
    num_layers of it, and the final norm."""

    LAYER_KEY: str  # the call's argument naming the layer: encoder_layer, decoder_layer
    MODULE: str  # PyTorch's class: TransformerEncoder, TransformerDecoder
    LAYER_CLASS: type[Layer]

    num_layers: int
    norm: Any  # bool (the short form's flag) or a LayerNorm layer (the call's)

    def __init__(self, **values: Any) -> None:
        inner = values.get(self.LAYER_KEY)
        if isinstance(inner, Layer):
            values.update({k: inner.__dict__[k] for k in _LAYER_KEYS})
        super().__init__(**values)

    def word(self) -> str:
        return self.MODULE.lower()

    @classmethod
    def missing(cls, values: Mapping[str, Any]) -> str | None:
        """The short form needs d_model, nhead and num_layers; the call gives the first
        two with its layer (binding checks the call's num_layers)."""
        given = isinstance(values.get(cls.LAYER_KEY), Layer)
        keys = ("num_layers",) if given else ("d_model", "nhead", "num_layers")
        lacking = [k for k in keys if values.get(k) is None]
        if not lacking:
            return None
        word = cls.MODULE.lower()
        return f"{', '.join(lacking)} ({word} d_model nhead num_layers, e.g. {word} 512 8 6)"

    def require(self) -> None:
        """missing()'s check for a stack made without the binder."""
        lacking = self.missing(self.__dict__)
        if lacking:
            raise LayerError(f"{self.word()} needs {lacking}")

    def layer(self) -> Layer:
        """The layer the stack copies: the call's own, or the short form's keys'."""
        inner = self.__dict__.get(self.LAYER_KEY)
        if isinstance(inner, Layer):
            return inner
        values = {k: self.__dict__[k] for k in _LAYER_KEYS}
        if "causal" in self.__dict__ and self.LAYER_CLASS is not TransformerEncoderLayer:
            values["causal"] = self.__dict__["causal"]
        return self.LAYER_CLASS(**values)

    def norm_layer(self) -> Layer | None:
        """The final norm: the call's LayerNorm(…), the flag's LayerNorm(d_model), or None."""
        from convcalc.kinds.torch.norm import LayerNorm

        if isinstance(self.norm, Layer):
            return self.norm
        if not self.norm:
            return None
        return LayerNorm(
            normalized_shape=(self.d_model,),
            elementwise_affine=True,
            bias=self.bias,
            eps=self.layer_norm_eps,
        )

    def finish(self, one: Out, shape: Shape) -> Out:
        """num_layers times one layer's figures, then the norm on the layer's output."""
        _decoder._check_count("num_layers", self.num_layers, f"nn.{self.MODULE}")
        extra = 0
        norm = self.norm_layer()
        if norm is not None:
            try:
                extra = norm.infer(one.shape).params or 0
            except LayerError as exc:
                given = norm.normalized_shape  # type: ignore[attr-defined]
                raise LayerError(
                    f"{self.word()}: norm=LayerNorm({fmt_tuple(given)}) does not fit its "
                    f"layers' output, d_model {self.d_model} per token ({exc})"
                ) from None
        n = self.num_layers
        params = None if one.params is None else n * one.params + extra
        macs = None if one.macs is None else n * one.macs
        return Out(self.word(), one.shape, params=params, macs=macs, rf=None)

    def norm_code(self) -> str:
        norm = self.norm_layer()
        if norm is None:
            return "None"
        d = norm.__dict__
        shape = d["normalized_shape"]
        shown = str(shape[0]) if len(shape) == 1 else fmt_tuple(shape)
        affine = "" if d["elementwise_affine"] else ", elementwise_affine=False"
        return f"nn.LayerNorm({shown}, eps={d['eps']!r}{affine}, bias={d['bias']})"

    def stack_steps(self, row: Row, one: int, one_expr: str, one_note: str) -> list[Step]:
        """One layer's parameters, the stack's with its norm."""
        from convcalc.kinds.explaining import Step

        n = self.num_layers
        norm = self.norm_layer()
        extra = 0
        if norm is not None:
            extra = norm.infer((row.output[-1],) if row.output else (self.d_model,)).params or 0
        steps = [Step(row.index, "params, one layer", one_expr, one, one_note)]
        expr = f"{n}·{one}" + (f" + {extra}" if norm is not None else "")
        note = f"{n} layer{'s' if n != 1 else ''}" + (
            ", the final norm" if norm is not None else ", no final norm"
        )
        steps.append(Step(row.index, "params", expr, n * one + extra, note))
        return steps

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        extra = ", enable_nested_tensor=False" if self.MODULE == "TransformerEncoder" else ""
        return TorchCode(
            f"nn.{self.MODULE}(nn.{self.LAYER_CLASS.__name__}({self.layer_args()}), "
            f"num_layers={self.num_layers}, norm={self.norm_code()}{extra})"
        )


@register
class TransformerEncoder(_Stack):
    """nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead, ...), num_layers,
    norm=nn.LayerNorm(d_model) or None): num_layers encoder layers and an optional final
    norm, (L, E) → (L, E)."""

    NAMES = {"transformerencoder": {}}
    TORCH = {
        "TransformerEncoder": Signature(
            ("encoder_layer", "num_layers", "norm", "enable_nested_tensor", "mask_check"),
            required=2,
            extra={"enable_nested_tensor": BOOL, "mask_check": BOOL},
        )
    }
    PARAMS = (
        *_shape_params(),
        *_LAYER_PARAMS,
        _NORM,
        Param("encoder_layer", _ENCODER_LAYER, None, help="the call's layer"),
    )
    SUMMARY = "stack of transformer encoder layers"
    NOTE = (
        "Written as PyTorch writes it, TransformerEncoder(TransformerEncoderLayer(512, 8), "
        "num_layers=6, norm=LayerNorm(512)) (the layer and the norm are calls, read as "
        "they are alone; enable_nested_tensor and mask_check change no figure), or as one "
        "word: transformerencoder d_model nhead num_layers with the layer's keys, and norm "
        "for a final LayerNorm(d_model, eps=layer_norm_eps, bias=bias)."
    )
    LAYER_KEY = "encoder_layer"
    MODULE = "TransformerEncoder"
    LAYER_CLASS = TransformerEncoderLayer

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        self.require()
        return self.finish(self.layer().infer(shape, batch), shape)

    EXAMPLE, EXAMPLE_INPUT = "64 8 6 norm", "10x64"

    def explain(self, row: Row) -> list[Step]:
        """The parameters of one layer, of the stack and its norm; the MACs with S."""
        from convcalc.kinds.explaining import Step

        steps = self.part_steps(row)
        expr, note = self.layer_sum(steps, decoder=False)
        steps += self.stack_steps(row, self.encoder_layer_params(), expr, note)
        s, n = row.input[0], self.num_layers
        macs = self.encoder_layer_macs(s)
        if macs is not None and s is not None:
            steps.append(
                Step(
                    row.index,
                    "MACs",
                    f"{n}·({self.encoder_macs_text(s)})",
                    n * macs,
                    f"per layer: self-attention over S = {s}, feed-forward "
                    "(QKᵀ and AV in full, whatever the mask)",
                )
            )
        return steps


# nn.TransformerDecoder is read here, call and short word together; kinds/torch/
# transformer_decoder.py keeps its arithmetic (_Blocks).
@register
class TransformerDecoder(_Stack):
    """nn.TransformerDecoder(nn.TransformerDecoderLayer(d_model, nhead, ...), num_layers,
    norm=nn.LayerNorm(d_model) or None): num_layers decoder layers, each reading the same
    memory, and an optional final norm."""

    NAMES = {"transformerdecoder": {}}
    TORCH = {"TransformerDecoder": Signature(("decoder_layer", "num_layers", "norm"), required=2)}
    PARAMS = (
        *_shape_params(),
        *_LAYER_PARAMS,
        _NORM,
        _decoder._CAUSAL,
        Param("decoder_layer", _DECODER_LAYER, None, help="the call's layer"),
    )
    NOTE = (
        "Written as PyTorch writes it, TransformerDecoder(TransformerDecoderLayer(512, 8), 6, "
        "norm=LayerNorm(512)) memory=NAME (the layer and the norm are calls, read as they "
        "are alone), or as one word: transformerdecoder d_model nhead num_layers with the "
        "decoder layer's keys, and norm for a final LayerNorm(d_model, eps=layer_norm_eps, "
        "bias=bias). memory=NAME names the tensor every layer attends to, as for "
        "transformerdecoderlayer."
    )
    TENSOR_KEYS = {"memory": _decoder._MEMORY}
    SUMMARY = "stack of transformer decoder layers (memory=NAME)"
    LAYER_KEY = "decoder_layer"
    MODULE = "TransformerDecoder"
    LAYER_CLASS = _decoder.TransformerDecoderLayer

    causal: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:  # pragma: no cover - graph.py
        raise LayerError("a decoder reads a memory too: memory=NAME")

    def params(self) -> int:
        one = self.decoder_layer_params()
        norm = self.norm_layer()
        extra = 0 if norm is None else norm.infer((self.d_model,)).params or 0
        return self.num_layers * one + extra

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        self.require()
        layer = self.layer()
        assert isinstance(layer, _decoder.TransformerDecoderLayer)
        one = layer.infer_many(shapes, labels, batch)
        return self.finish(one, shapes[0])

    EXAMPLE, EXAMPLE_INPUT = "64 8 6 memory=input norm", "10x64"

    def explain(self, row: Row) -> list[Step]:
        """The parameters of one layer, of the stack and its norm; the MACs with L and S."""
        steps = self.part_steps(row)
        expr, note = self.layer_sum(steps, decoder=True)
        steps += self.stack_steps(row, self.decoder_layer_params(), expr, note)
        return steps + self.decoder_macs_steps(row, self.num_layers)

    torch_call = _decoder.TransformerDecoderLayer.torch_call
