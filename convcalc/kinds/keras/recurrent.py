"""Keras's recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D (the wrappers
Bidirectional and TimeDistributed are wrappers.py's). Parameters are
model.count_params()'s; MACs the gate matrix products (or the gate convolutions), as
convcalc counts PyTorch's recurrent layers (docs/frameworks.md#recurrent-layers).

A sequence layer reads T×features per sample (Keras's (batch, timesteps, features)),
and hands on its output: the last step's, or every step's with return_sequences.
Keras's ``return_state=True`` makes the layer return a list, [output, *states]; a
chain hands on the first, the output, as a PyTorch recurrent layer written as a call
does. convcalc's own ``out=hidden`` (``out=cell``, an LSTM's) hands on the final
hidden (cell) state instead — a Bidirectional's both directions' concatenated, as
``torch.cat([h_n[-2], h_n[-1]], 1)`` does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import ANY, BOOL, FLOAT, INT, INTS, ArgType, OptionalType, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.keras.common import (
    LAYOUT,
    KerasLayer,
    keras_signature,
    padding_param,
    positive,
    register,
    window_steps,
    windows,
)
from convcalc.kinds.keras.core import ACTIVATION
from convcalc.kinds.layer import Out
from convcalc.kinds.shapes import Shape, expand, fmt_shape, fmt_tuple, prod

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"


_OPT_ACT = OptionalType(ACTIVATION)
_UNITS = Param("units", INT, positional=True, required=True, help="u, the state's size")
_ACTIVATION = Param("activation", _OPT_ACT, "tanh", help="no figure changes")
_RECURRENT_ACT = Param("recurrent_activation", _OPT_ACT, "sigmoid", help="no figure changes")
_BIAS = Param("use_bias", BOOL, True, aliases=("bias",))
# Keras clamps both rates to [0, 1] rather than refusing one outside.
_DROPOUT = Param("dropout", FLOAT, 0.0, help="in training; no figure changes")
_RDROPOUT = Param("recurrent_dropout", FLOAT, 0.0, help="in training; no figure changes")
_BACKWARDS = Param(
    "go_backwards", BOOL, False, help="reads the steps last to first; no figure changes"
)
_SEQUENCES = Param(
    "return_sequences",
    BOOL,
    False,
    aliases=("sequences", "seq"),
    help="hand on every step's output (T×u), not only the last (u)",
)
_STATE = Param(
    "return_state",
    BOOL,
    False,
    aliases=("state",),
    help="Keras returns [output, *states]; the chain hands on the output (out= picks a state)",
)
OUT_HELP = "what the layer hands on: output, hidden (the final state h)"
_OUT_PLAIN = Param(
    "out", Choice("output", "hidden", aliases={"h": "hidden"}), "output", help=OUT_HELP
)
_OUT_CELL = Param(
    "out",
    Choice("output", "hidden", "cell", aliases={"h": "hidden", "c": "cell"}),
    "output",
    help=OUT_HELP + ", cell (an LSTM's final carry c)",
)
_STATEFUL = (
    False,
    "stateful=True needs a fixed batch size (keras.Input(batch_size=…)) and changes no "
    "figure: leave it out",
)
_RNN_ARGS = (
    "dropout",
    "recurrent_dropout",
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
)
_RNN_EXTRA: dict[str, ArgType] = {
    "unroll": BOOL,
    "unit_forget_bias": BOOL,
    "use_cudnn": ANY,
}
_INITIALIZERS = (
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
)
_REGS = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
)


class Recurrent(KerasLayer):
    """What Keras's recurrent kinds share: units (filters), the output or every step's,
    the states ``out=`` may hand on, and the gate count."""

    GATES = 1
    HAS_CELL = False  # an LSTM's carry: out=cell
    dim: int | None = None  # a ConvLSTM's spatial dimensions (its word fixes them)

    return_sequences: bool
    return_state: bool
    out: str
    dropout: float
    recurrent_dropout: float
    go_backwards: bool

    def size(self) -> int:
        """The state's last axis: units, or a ConvLSTM's filters."""
        raise NotImplementedError

    def shaped(self, steps: int | None, state: Shape) -> Shape:
        """What the layer hands on, each step's output being ``state``."""
        if self.out == "output" and self.return_sequences:
            return (steps, *state)
        return state

    # -- Keras code (convcalc.formats.keras_code)
    def keras_values(self, shape: Shape) -> dict[str, Any]:
        """A state handed on (out=hidden, cell) is one Keras returns with return_state."""
        values = dict(self.__dict__)
        if self.out != "output":
            values["return_state"] = True
        return values

    def keras_output(self) -> int | None:
        """[output, h(, c)] with return_state: the output, or the state out= names."""
        if self.out == "output":
            return 0 if self.return_state else None
        return 1 if self.out == "hidden" else 2

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


def _steps(name: str, shape: Shape) -> tuple[int | None, int | None]:
    """(T, features) of a sequence layer's input (Keras's InputSpec ndim=3)."""
    if len(shape) != 2:
        raise LayerError(
            f"{name} reads timesteps×features per sample (ndim=3 with the batch), got "
            f"{fmt_shape(shape)} (ndim={len(shape) + 1})"
        )
    return shape[0], shape[1]


class _Sequence(Recurrent):
    """SimpleRNN, LSTM, GRU: T×i → u (the last step) or T×u (return_sequences)."""

    units: int

    def size(self) -> int:
        return self.units

    def bias_size(self) -> int:
        return self.GATES * self.units

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        name = self.CLASS
        if self.units <= 0:
            raise LayerError(
                f"{name}: units must be a positive integer, got {self.units} (Keras: "
                "Received an invalid value for argument `units`)"
            )
        steps, fin = _steps(name, shape)
        g, u = self.GATES, self.units
        if fin is None:
            params = macs = None
        else:
            params = g * u * (fin + u) + (self.bias_size() if self.use_bias else 0)  # type: ignore[attr-defined]
            macs = None if steps is None else steps * g * u * (fin + u)
        return Out(name, self.shaped(steps, (u,)), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """The parameters (kernel, recurrent kernel, bias) and the gate products."""
        from convcalc.kinds.explaining import Step

        fin, steps = row.input[-1], row.input[0]
        if fin is None or len(row.input) != 2:
            return []
        g, u = self.GATES, self.units
        gu = f"{g}·{u}" if g > 1 else str(u)
        bias = self.bias_size() if self.use_bias else 0  # type: ignore[attr-defined]
        expr = f"{gu}·({fin} + {u})"
        parts = f"kernel {fin}×{g * u}, recurrent_kernel {u}×{g * u}"
        if bias:
            expr += f" + {bias}"
            parts += f", bias {bias}"
        out = [Step(row.index, "params", expr, g * u * (fin + u) + bias, parts)]
        if steps is not None:
            out.append(
                Step(
                    row.index,
                    "MACs",
                    f"{steps}·{gu}·({fin} + {u})",
                    steps * g * u * (fin + u),
                    "the gate matrix products of every step",
                )
            )
        return out

    # -- lint (convcalc.ask.lint)
    READS_STEPS = True


def _rnn_signature(*head: str) -> Any:
    return keras_signature(
        "units",
        *head,
        *_INITIALIZERS,
        *_REGS,
        *_RNN_ARGS,
        "seed",
        required=1,
        only={"stateful": _STATEFUL},
        extra=_RNN_EXTRA,
    )


_COMMON = (_UNITS, _ACTIVATION, _BIAS, _DROPOUT, _RDROPOUT, _SEQUENCES, _STATE, _BACKWARDS)


class SimpleRNN(_Sequence):
    """SimpleRNN: params u·(i + u) + u."""

    CLASS = "SimpleRNN"
    NAMES = {"simplernn": {}}
    PARAMS = (*_COMMON, _OUT_PLAIN)
    SUMMARY = "fully-connected RNN (Keras)"
    KERAS = {"SimpleRNN": _rnn_signature("activation", "use_bias")}
    EXAMPLE, EXAMPLE_INPUT = "32 return_sequences", "20x8"


register(SimpleRNN)
_LSTM_HEAD = ("activation", "recurrent_activation", "use_bias")


class LSTM(_Sequence):
    """LSTM: params 4u·(i + u) + 4u."""

    GATES = 4
    HAS_CELL = True
    CLASS = "LSTM"
    NAMES = {"lstm": {}}
    PARAMS = (*_COMMON, _RECURRENT_ACT, _OUT_CELL)
    SUMMARY = "long short-term memory (Keras)"
    KERAS = {
        "LSTM": keras_signature(
            "units",
            *_LSTM_HEAD,
            *_INITIALIZERS,
            "unit_forget_bias",
            *_REGS,
            "dropout",
            "recurrent_dropout",
            "seed",
            *_RNN_ARGS[2:],
            "use_cudnn",
            required=1,
            only={"stateful": _STATEFUL},
            extra=_RNN_EXTRA,
        )
    }
    EXAMPLE, EXAMPLE_INPUT = "64", "20x8"
    NOTE = (
        "reads T×features per sample and hands on the last step's output (u), or every "
        "step's with return_sequences (T×u). return_state=True: Keras returns [output, h, c] "
        "and the chain hands on the output; out=hidden hands on h, out=cell c. MACs: "
        "T·4·u·(i + u), the gate matrix products (docs/frameworks.md#recurrent-layers)."
    )


register(LSTM)


class GRU(_Sequence):
    """GRU: params 3u·(i + u + 2) with reset_after (Keras's default: two biases),
    3u·(i + u + 1) without."""

    GATES = 3
    CLASS = "GRU"
    NAMES = {"gru": {}}
    PARAMS = (
        *_COMMON,
        _RECURRENT_ACT,
        Param("reset_after", BOOL, True, help="two bias vectors (Keras's default)"),
        _OUT_PLAIN,
    )
    SUMMARY = "gated recurrent unit (Keras)"
    KERAS = {
        "GRU": keras_signature(
            "units",
            *_LSTM_HEAD,
            *_INITIALIZERS,
            *_REGS,
            "dropout",
            "recurrent_dropout",
            "seed",
            *_RNN_ARGS[2:],
            "reset_after",
            "use_cudnn",
            required=1,
            only={"stateful": _STATEFUL},
            extra=_RNN_EXTRA,
        )
    }
    EXAMPLE, EXAMPLE_INPUT = "64 return_sequences", "20x8"

    reset_after: bool

    def bias_size(self) -> int:
        return 3 * self.units * (2 if self.reset_after else 1)


register(GRU)
SimpleRNN.NOTE = GRU.NOTE = (
    LSTM.NOTE.replace("[output, h, c]", "[output, h]")
    .replace(", out=cell c", "")
    .replace("T·4·u", "T·g·u (g = 1 SimpleRNN, 3 GRU)")
)


class ConvLSTM(Recurrent):
    """ConvLSTM1D/2D/3D: T×spatial×C → spatial'×filters (the last step) or
    T×spatial'×filters, the input convolution's windows giving spatial' (valid or
    same), the recurrent one 'same' with stride 1; params kernel·(C + filters)·4·filters
    + 4·filters."""

    GATES = 4
    HAS_CELL = True
    CLASS = "ConvLSTM{n}D"
    PARAMS = (
        Param("filters", INT, positional=True, required=True, help="output channels"),
        Param("kernel_size", INTS, aliases=("k",), positional=True, required=True, per_dim=True),
        Param("strides", INTS, (1,), aliases=("s",), per_dim=True),
        padding_param("valid", "same"),
        Param("dilation_rate", INTS, (1,), aliases=("d",), per_dim=True),
        _ACTIVATION,
        _RECURRENT_ACT,
        _BIAS,
        _DROPOUT,
        _RDROPOUT,
        _SEQUENCES,
        _STATE,
        _BACKWARDS,
        _OUT_CELL,
    )
    SUMMARY = "convolutional LSTM (Keras)"
    KERAS = {
        f"ConvLSTM{n}D": keras_signature(
            "filters",
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            *_LSTM_HEAD,
            *_INITIALIZERS,
            "unit_forget_bias",
            *_REGS,
            "dropout",
            "recurrent_dropout",
            "seed",
            *_RNN_ARGS[2:6],
            required=2,
            only={"stateful": _STATEFUL},
            extra=_RNN_EXTRA,
            whole=("kernel_size", "strides", "dilation_rate"),
        )
        for n in (1, 2, 3)
    }
    EXAMPLE = "8 3 padding=same"

    dim: int
    filters: int
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    dilation_rate: tuple[int, ...]
    use_bias: bool

    def size(self) -> int:
        return self.filters

    @classmethod
    def catalog_example(cls, word: str) -> tuple[str, str | None]:
        n = int(word[-2])
        return cls.EXAMPLE, "x".join(["5", *["12"] * n, "3"])

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = self.dim
        name = self.keras_name(n)
        if len(shape) != n + 2:
            raise LayerError(
                f"{name} reads timesteps×{LAYOUT[n]} per sample (ndim={n + 3} with the "
                f"batch), got {fmt_shape(shape)} (ndim={len(shape) + 1})"
            )
        k = expand("kernel_size", self.kernel_size, n)
        s = expand("strides", self.strides, n)
        d = expand("dilation_rate", self.dilation_rate, n)
        if self.filters <= 0:
            raise LayerError(f"{name}: filters must be a positive integer, got {self.filters}")
        positive("kernel_size", k)
        positive("strides", s)
        positive("dilation_rate", d)
        if max(s) > 1 and max(d) > 1:
            raise LayerError(
                f"{name}: strides > 1 is not compatible with dilation_rate > 1 "
                f"(strides={fmt_tuple(s)}, dilation_rate={fmt_tuple(d)})"
            )
        steps, spatial, cin = shape[0], shape[1:-1], shape[-1]
        out, _ = windows(name, spatial, k, s, d, self.padding)
        f, kk = self.filters, prod(k)
        assert kk is not None
        if cin is None:
            params = macs = None
        else:
            params = kk * (cin + f) * 4 * f + (4 * f if self.use_bias else 0)
            where = prod(out)
            macs = (
                None if steps is None or where is None else steps * where * kk * (cin + f) * 4 * f
            )
        state = (*out, f)
        return Out(name, self.shaped(steps, state), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """The input convolution's windows on each step's map (Keras's, as a ConvND's),
        named at their place in the output; the parameters of the four gates' input
        and recurrent kernels and bias; their products at every place of every step."""
        from convcalc.kinds.explaining import Step, moved

        n = self.dim
        if len(row.input) != n + 2:
            return []
        steps, cin, f = row.input[0], row.input[-1], self.filters
        timed = len(row.output) == n + 2  # T×spatial'×filters, or one step's
        state = row.output[1:] if timed else row.output
        k = expand("kernel_size", self.kernel_size, n)
        s = expand("strides", self.strides, n)
        d = expand("dilation_rate", self.dilation_rate, n)
        one = row._replace(input=row.input[1:], output=state)
        out = [
            moved(step, state, row.output, timed, last=True)
            for step in window_steps(one, k, s, d, self.padding)
        ]
        if cin is None:
            return out
        kernel = "·".join(map(str, k))
        gates = f"{kernel}·({cin} + {f})·4·{f}"
        kk = prod(k)
        assert kk is not None
        bias = 4 * f if self.use_bias else 0
        parts = f"kernel {'×'.join(map(str, k))}×{cin}×{4 * f}, recurrent_kernel "
        parts += f"{'×'.join(map(str, k))}×{f}×{4 * f}" + (f", bias {bias}" if bias else "")
        expr = gates + (f" + {bias}" if bias else "")
        out.append(Step(row.index, "params", expr, kk * (cin + f) * 4 * f + bias, parts))
        where = state[:-1]
        if steps is not None and all(w is not None for w in where):
            places = "·".join(map(str, where))
            value = steps * prod(where) * kk * (cin + f) * 4 * f  # type: ignore[operator]
            note = "the gates' convolutions at every place of every step"
            out.append(Step(row.index, "MACs", f"{steps}·{places}·{gates}", value, note))
        return out

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "last"


register(ConvLSTM, names={f"convlstm{n}d": {"dim": n} for n in (1, 2, 3)})
