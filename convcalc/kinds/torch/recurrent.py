"""Recurrent layers: nn.RNN, nn.LSTM and nn.GRU, and their cells nn.RNNCell, nn.LSTMCell
and nn.GRUCell (docs/language.md#recurrent-layers, docs/arithmetic.md#recurrent-layers).

A sequence layer reads L×H_in per sample, L steps of H_in features, whatever
``batch_first`` says: convcalc's shapes leave the batch out, and batch_first only says
where PyTorch finds it (-o torch writes batch_first=True, as its example input is
batch first). Its output is ``output`` of ``output, h = rnn(x)``, L×(D·H_out) (D = 2
when bidirectional, H_out = proj_size or hidden_size); ``out=hidden`` hands on the last
layer's final hidden state instead, ``h_n[-1]`` (``torch.cat([h_n[-2], h_n[-1]], 1)``
when bidirectional: D·H_out), and an LSTM's ``out=cell`` its final cell state c_n
likewise (D·hidden_size). A cell reads one step, H_in, and gives h' (H; an LSTMCell's
(h', c') gives h').

Parameters are PyTorch's, per layer and direction g·H·(in + R) weights, 2·g·H biases
and an LSTM's H·R projection (g gates: 1 RNN, 4 LSTM, 3 GRU; R = proj_size or H; in =
H_in for the first layer, D·R after it). MACs are the gate matrix products as
FlopCounterMode counts them on PyTorch's decomposed kernels: L·g·H·(in + R) per layer
and direction, plus L·H·R for a projection. The receptive field does not apply: every
output step may depend on every input step before it (and after it, bidirectional)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, PLACED, PLACEMENT, OptionalType, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape, fmt_shape
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"

# Gates per kind: the rows of weight_ih and weight_hh are gates·hidden_size.
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_TORCH_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}

_HIDDEN = Param("hidden_size", INT, positional=True, required=True, help="H, the hidden size")
_INPUT = Param(
    "input_size", INT, None, aliases=("in",), help="H_in, checked against the input's features"
)
_LAYERS = Param("num_layers", INT, 1, aliases=("layers",), help="stacked layers")
_NONLINEARITY = Param("nonlinearity", Choice("tanh", "relu"), "tanh", aliases=("act",))
_BIAS = Param("bias", BOOL, True, help="bias_ih and bias_hh")
_BATCH_FIRST = Param(
    "batch_first",
    BOOL,
    False,
    help="where PyTorch finds the batch; convcalc's L×H_in leaves it out",
)
_DROPOUT = Param("dropout", FLOAT, 0.0, help="between layers in training; no figure changes")
_BIDIRECTIONAL = Param("bidirectional", BOOL, False, aliases=("bidir",), help="D = 2")
_PROJ = Param("proj_size", INT, 0, aliases=("proj",), help="R: h_t projected to R features")
_NO_PROJ = Param(
    "proj_size", OptionalType(INT), None, help="LSTM only: PyTorch refuses it here, even 0"
)
_OUT = "what the layer hands on: output (every step), hidden (final h_n, last layer)"
_OUT_RNN = Param("out", Choice("output", "hidden", aliases={"h_n": "hidden"}), "output", help=_OUT)
_OUT_LSTM = Param(
    "out",
    Choice("output", "hidden", "cell", aliases={"h_n": "hidden", "c_n": "cell"}),
    "output",
    help=_OUT + ", cell (final c_n, last layer)",
)


def _sequence_signature(
    *middle: str, tail: tuple[str, ...] = (), kwonly: tuple[str, ...] = ()
) -> Signature:
    return Signature(
        (
            "input_size",
            "hidden_size",
            "num_layers",
            *middle,
            "bias",
            "batch_first",
            "dropout",
            "bidirectional",
            *tail,
        ),
        required=2,
        kwonly=(*kwonly, *PLACEMENT),
        extra=PLACED,
    )


def _check_steps(kind: str, shape: Shape) -> tuple[int | None, int | None]:
    """(L, H_in) of a sequence layer's input; other ranks are rejected."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 1:
        raise LayerError(
            f"{kind} reads L×H_in per sample (L steps of H_in features), got "
            f"{fmt_shape(shape)}: write one step as 1x{shape[0]}, or use {kind}cell "
            "(PyTorch would read a batch of such vectors as one unbatched sequence)"
        )
    raise LayerError(
        f"{kind} reads L×H_in per sample (L steps of H_in features), got {fmt_shape(shape)} "
        f"({len(shape)} dims; PyTorch: expected input to be 2D or 3D, got {len(shape) + 1}D)"
    )


def _check_size(name: str, value: int | None) -> None:
    if value is not None and value <= 0:
        raise LayerError(f"{name} must be greater than zero, got {value}")


class _Sequence(Layer):
    """nn.RNN, nn.LSTM, nn.GRU: L×H_in → L×(D·H_out), or the final state (``out``)."""

    MODE: str = ""
    SUMMARY = "recurrent layer"

    hidden_size: int
    input_size: int | None
    num_layers: int
    bias: bool
    batch_first: bool
    dropout: float
    bidirectional: bool
    out: str

    @property
    def proj(self) -> int:
        return self.__dict__.get("proj_size") or 0

    def check(self, shape: Shape, features: int | None) -> int | None:
        """PyTorch's constructor's checks, in its order, then the input's; the input size
        the layer is built with."""
        h, p = self.hidden_size, self.proj
        given = self.__dict__.get("proj_size")
        if self.MODE != "lstm" and given is not None:
            raise LayerError(
                f"proj_size={given}: proj_size argument is only supported for LSTM, not RNN or GRU"
            )
        if not 0.0 <= self.dropout <= 1.0:
            raise LayerError(f"dropout={self.dropout:g}: it should be a number in range [0, 1]")
        size = self.input_size if self.input_size is not None else features
        _check_size("input_size", size)
        _check_size("hidden_size", h)
        _check_size("num_layers", self.num_layers)
        if p < 0:
            raise LayerError(
                f"proj_size={p}: it should be a positive integer or zero to disable projections"
            )
        if p >= h and p:
            raise LayerError(
                f"proj_size has to be smaller than hidden_size, got proj_size={p} and "
                f"hidden_size={h}"
            )
        if self.input_size is not None and features is not None and features != self.input_size:
            raise LayerError(
                f"input_size={self.input_size}, but the input {fmt_shape(shape)} has {features} "
                "features per step"
            )
        return size

    def sizes(self, size: int | None) -> list[tuple[int | None, int]]:
        """(in, R) of each layer: its input size and the size of the state it feeds back."""
        r = self.proj or self.hidden_size
        d = 2 if self.bidirectional else 1
        return [(size if n == 0 else d * r, r) for n in range(self.num_layers)]

    def counts(self, size: int | None) -> tuple[int | None, int | None]:
        """(parameters, MACs per step) of every layer and direction; None: size unknown."""
        if size is None:
            return None, None
        g, h, p = _GATES[self.MODE], self.hidden_size, self.proj
        d = 2 if self.bidirectional else 1
        bias = 2 * g * h if self.bias else 0
        params = macs = 0
        for fin, r in self.sizes(size):
            assert fin is not None
            params += d * (g * h * (fin + r) + bias + h * p)
            macs += d * (g * h * (fin + r) + h * p)
        return params, macs

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = self.MODE
        length, features = _check_steps(kind, shape)
        size = self.check(shape, features)
        if length == 0:
            raise LayerError(f"{kind} needs at least one step: expected sequence length > 0, got 0")
        params, per_step = self.counts(size)
        macs = None if per_step is None or length is None else length * per_step
        h = self.hidden_size
        r = self.proj or h
        d = 2 if self.bidirectional else 1
        if self.out == "output":
            out: Shape = (length, d * r)
        elif self.out == "hidden":
            out = (d * r,)
        else:
            out = (d * h,)
        return Out(kind, out, params=params, macs=macs, rf=None)

    def construction_warning(self) -> tuple[str, str] | None:
        if self.dropout > 0 and self.num_layers == 1:
            return (
                f"its dropout acts between stacked layers, and with num_layers=1 there are "
                f"none: dropout={self.dropout:g} does nothing (PyTorch only warns)",
                "give num_layers=2 or more, or put a dropout layer after it",
            )
        return None

    def explain(self, row: Row) -> list[Step]:
        """The features of a step (D·H_out), the parameters per layer and direction, the MACs."""
        from convcalc.kinds.explaining import Step

        if row.input[-1] is None and self.input_size is None:
            return []
        g, h, p = _GATES[self.MODE], self.hidden_size, self.proj
        d = 2 if self.bidirectional else 1
        r = p or h
        steps: list[Step] = []
        what = {"output": "every step's h_t", "hidden": "the final h_n", "cell": "the final c_n"}
        size_out = h if self.out == "cell" else r
        given = "proj_size" if p and self.out != "cell" else "hidden_size"
        note = f"{what[self.out]} of the last layer, {given} {size_out}"
        if d == 2:
            note += ", both directions concatenated"
            steps.append(Step(row.index, "features", f"2·{size_out}", 2 * size_out, note))
        else:
            steps.append(Step(row.index, "features", str(size_out), size_out, note))
        gh = f"{g}·{h}" if g > 1 else str(h)
        terms, values, flops = [], [], []
        size = self.input_size if self.input_size is not None else row.input[-1]
        for n, (fin, r_) in enumerate(self.sizes(size)):
            weights = f"{gh}·({fin} + {r_})"
            one = [weights]
            if self.bias:
                one.append(f"2·{gh}")
            if p:
                one.append(f"{h}·{p}")
            expr = " + ".join(one)
            if d == 2:
                expr = f"2·({expr})"
            assert fin is not None
            value = d * (g * h * (fin + r_) + (2 * g * h if self.bias else 0) + h * p)
            parts = [f"weight_ih {g * h}×{fin}", f"weight_hh {g * h}×{r_}"]
            if self.bias:
                parts.append(f"bias_ih and bias_hh {g * h} each")
            if p:
                parts.append(f"weight_hr {p}×{h}")
            each = f"each of 2 directions: {', '.join(parts)}" if d == 2 else ", ".join(parts)
            label = "params" if self.num_layers == 1 else f"params, layer {n + 1}"
            steps.append(Step(row.index, label, expr, value, each))
            terms.append(str(value))
            values.append(value)
            inner = f"{gh}·({fin} + {r_})" + (f" + {h}·{p}" if p else "")
            flops.append(f"2·({inner})" if d == 2 else inner)
        if self.num_layers > 1:
            steps.append(Step(row.index, "params", " + ".join(terms), sum(values)))
        length = row.input[0]
        if length is not None:
            body = " + ".join(flops)
            bare = len(flops) == 1 and (d == 2 or not p)  # a product: no parentheses needed
            expr = f"{length}·{body}" if bare else f"{length}·({body})"
            _, per_step = self.counts(size)
            assert per_step is not None
            steps.append(
                Step(
                    row.index,
                    "MACs",
                    expr,
                    length * per_step,
                    "the gate matrix products of every step, layer and direction",
                )
            )
        steps.append(
            Step(
                row.index,
                "RF",
                None,
                None,
                "not applicable, every output step may depend on every "
                "input step before it" + (" and after it" if d == 2 else ""),
            )
        )
        return steps

    TORCH_HELPER = '''
    class Recurrent(nn.Module):
        """A recurrent layer in a chain, batch first: an nn.RNN, nn.LSTM or nn.GRU hands
        on its output sequence, or with out="hidden" the last layer's final hidden state
        h_n[-1] (torch.cat([h_n[-2], h_n[-1]], 1) when bidirectional), with out="cell" an
        LSTM's final cell state c_n likewise; an nn.LSTMCell hands on h' of (h', c')."""

        def __init__(self, rnn: nn.Module, out: str = "output") -> None:
            super().__init__()
            self.rnn, self.out = rnn, out

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if isinstance(self.rnn, nn.LSTMCell):
                return self.rnn(x)[0]
            output, state = self.rnn(x)
            if self.out == "output":
                return output
            if isinstance(state, tuple):  # an LSTM's (h_n, c_n)
                state = state[1] if self.out == "cell" else state[0]
            d = 2 if self.rnn.bidirectional else 1
            return torch.cat(list(state[-d:]), dim=-1)
    '''

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode, py

        values: dict[str, Any] = {
            "input_size": shape[-1] if self.input_size is None else self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
        }
        if self.MODE == "rnn":
            values["nonlinearity"] = self.__dict__["nonlinearity"]
        values |= {
            "bias": self.bias,
            "batch_first": True,  # the example input is batch first; no figure changes
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }
        if self.MODE == "lstm":
            values["proj_size"] = self.proj
        args = ", ".join(f"{k}={py(v)}" for k, v in values.items())
        out = "" if self.out == "output" else f", out={self.out!r}"
        return TorchCode(f"Recurrent(nn.{_TORCH_NAMES[self.MODE]}({args}){out})", self.TORCH_HELPER)

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
    READS_STEPS = True


@register
class RNN(_Sequence):
    """nn.RNN: an Elman RNN with tanh or ReLU, h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)."""

    MODE = "rnn"
    NAMES = {"rnn": {}}
    SUMMARY = "Elman RNN (tanh or ReLU)"
    TORCH = {"RNN": _sequence_signature("nonlinearity", kwonly=("proj_size",))}
    PARAMS = (
        _HIDDEN,
        _INPUT,
        _LAYERS,
        _NONLINEARITY,
        _BIAS,
        _BATCH_FIRST,
        _DROPOUT,
        _BIDIRECTIONAL,
        _NO_PROJ,
        _OUT_RNN,
    )
    EXAMPLE, EXAMPLE_INPUT = "128 layers=2", "20x64"


@register
class LSTM(_Sequence):
    """nn.LSTM, with its projections (proj_size)."""

    MODE = "lstm"
    NAMES = {"lstm": {}}
    SUMMARY = "long short-term memory"
    TORCH = {"LSTM": _sequence_signature(tail=("proj_size",))}
    PARAMS = (
        _HIDDEN,
        _INPUT,
        _LAYERS,
        _BIAS,
        _BATCH_FIRST,
        _DROPOUT,
        _BIDIRECTIONAL,
        _PROJ,
        _OUT_LSTM,
    )
    EXAMPLE, EXAMPLE_INPUT = "128 layers=2 bidirectional", "20x64"
    NOTE = (
        "reads L×H_in per sample (the batch apart, whatever batch_first says) and hands on "
        "output, L×(D·H_out); out=hidden hands on the last layer's final h_n instead "
        "(h_n[-1], or both directions concatenated: D·H_out), out=cell its c_n. "
        "MACs: L·4·H·(in + R) per layer and direction, plus L·H·R with proj_size "
        "(docs/arithmetic.md#recurrent-layers). No receptive field: every step may see "
        "every earlier one."
    )


@register
class GRU(_Sequence):
    """nn.GRU: reset, update and new gates."""

    MODE = "gru"
    NAMES = {"gru": {}}
    SUMMARY = "gated recurrent unit"
    TORCH = {"GRU": _sequence_signature(kwonly=("proj_size",))}
    PARAMS = (
        _HIDDEN,
        _INPUT,
        _LAYERS,
        _BIAS,
        _BATCH_FIRST,
        _DROPOUT,
        _BIDIRECTIONAL,
        _NO_PROJ,
        _OUT_RNN,
    )
    EXAMPLE, EXAMPLE_INPUT = "128 out=hidden", "20x64"


RNN.NOTE = GRU.NOTE = (
    LSTM.NOTE.replace("L·4·H", "L·g·H (g = 1 RNN, 3 GRU)")
    .replace(", out=cell its c_n", "")
    .replace(", plus L·H·R with proj_size", "")
)


class _Cell(Layer):
    """nn.RNNCell, nn.LSTMCell, nn.GRUCell: one step, H_in → H (h')."""

    MODE: str = ""

    hidden_size: int
    input_size: int | None
    bias: bool

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = f"{self.MODE}cell"
        if len(shape) != 1:
            raise LayerError(
                f"{kind} reads one step, H_in per sample, got {fmt_shape(shape)} "
                f"(PyTorch: expected input to be 1D or 2D, got {len(shape) + 1}D); for a "
                f"sequence use {self.MODE}"
            )
        h, features = self.hidden_size, shape[0]
        size = self.input_size if self.input_size is not None else features
        for name, value in (("input_size", size), ("hidden_size", h)):
            if value is not None and value < 0:
                raise LayerError(
                    f"{name}={value}: PyTorch cannot create its weights (negative dimension)"
                )
        if self.input_size is not None and features is not None and features != self.input_size:
            raise LayerError(
                f"input_size={self.input_size}, but the input {fmt_shape(shape)} has "
                f"{features} features (PyTorch: input has inconsistent input_size)"
            )
        g = _GATES[self.MODE]
        if size is None:
            params = macs = None
        else:
            macs = g * h * (size + h)
            params = macs + (2 * g * h if self.bias else 0)
        return Out(kind, (h,), params=params, macs=macs, rf=None)

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        return {**self.__dict__, "input_size": shape[-1]}

    def explain(self, row: Row) -> list[Step]:
        from convcalc.kinds.explaining import Step

        size = self.input_size if self.input_size is not None else row.input[-1]
        if size is None:
            return []
        g, h = _GATES[self.MODE], self.hidden_size
        gh = f"{g}·{h}" if g > 1 else str(h)
        expr = f"{gh}·({size} + {h})" + (f" + 2·{gh}" if self.bias else "")
        parts = f"weight_ih {g * h}×{size}, weight_hh {g * h}×{h}"
        if self.bias:
            parts += f", bias_ih and bias_hh {g * h} each"
        macs = g * h * (size + h)
        return [
            Step(row.index, "params", expr, macs + (2 * g * h if self.bias else 0), parts),
            Step(row.index, "MACs", f"{gh}·({size} + {h})", macs, "the gate matrix products"),
        ]

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


@register
class RNNCell(_Cell):
    """nn.RNNCell: one step of an Elman RNN."""

    MODE = "rnn"
    NAMES = {"rnncell": {}}
    SUMMARY = "one step of an RNN"
    TORCH = {
        "RNNCell": Signature(
            ("input_size", "hidden_size", "bias", "nonlinearity", *PLACEMENT),
            required=2,
            extra=PLACED,
        )
    }
    PARAMS = (_HIDDEN, _INPUT, _BIAS, _NONLINEARITY)
    EXAMPLE, EXAMPLE_INPUT = "128", "64"


@register
class LSTMCell(_Cell):
    """nn.LSTMCell: one step of an LSTM; hands on h' of (h', c')."""

    MODE = "lstm"
    NAMES = {"lstmcell": {}}
    SUMMARY = "one step of an LSTM"
    TORCH = {
        "LSTMCell": Signature(
            ("input_size", "hidden_size", "bias", *PLACEMENT), required=2, extra=PLACED
        )
    }
    PARAMS = (_HIDDEN, _INPUT, _BIAS)
    EXAMPLE, EXAMPLE_INPUT = "128", "64"
    NOTE = "hands on h' of the (h', c') PyTorch returns; c' has the same size"
    TORCH_HELPER = _Sequence.TORCH_HELPER  # the same class: Recurrent(nn.LSTMCell(…))

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        args = f"input_size={shape[-1]}, hidden_size={self.hidden_size}, bias={self.bias}"
        return TorchCode(f"Recurrent(nn.LSTMCell({args}))", self.TORCH_HELPER)


@register
class GRUCell(_Cell):
    """nn.GRUCell: one step of a GRU."""

    MODE = "gru"
    NAMES = {"grucell": {}}
    SUMMARY = "one step of a GRU"
    TORCH = {
        "GRUCell": Signature(
            ("input_size", "hidden_size", "bias", *PLACEMENT), required=2, extra=PLACED
        )
    }
    PARAMS = (_HIDDEN, _INPUT, _BIAS)
    EXAMPLE, EXAMPLE_INPUT = "128", "64"
