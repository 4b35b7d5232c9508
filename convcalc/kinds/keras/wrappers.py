"""Keras's wrappers, Bidirectional and TimeDistributed, whose argument is another layer
written as Keras's call (``Bidirectional(LSTM(64))``: parsed, never run; bound as a
layer of its own). Bidirectional counts twice its recurrent layer; TimeDistributed runs
its layer on every step (docs/frameworks.md#recurrent-layers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import ArgType, OptionalType, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.keras.common import (
    KerasLayer,
    keras_signature,
    register,
)
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, fmt_shape

if TYPE_CHECKING:
    from convcalc.kinds.code import Source
    from convcalc.kinds.explaining import Row, Step
    from convcalc.language import Value

from convcalc.kinds.keras.recurrent import OUT_HELP, Recurrent

# The section of --list-layers the module's kinds are listed under.
SECTION = "Sequences and transformers"


class LayerType(ArgType):
    """A layer given as another's argument: Keras's call (``LSTM(64)``), bound as a
    layer of its own under Keras's conventions."""

    name = "a layer, as Keras's call (LSTM(64))"
    call_only = True

    def convert(self, value: Value, source: str) -> Layer:
        from convcalc.kinds.binding import bind_call
        from convcalc.kinds.keras.common import REGISTRY

        expected = "a layer written as Keras's call, e.g. LSTM(64)"
        return bind_call(value, source, REGISTRY, expected)


LAYER = LayerType()


class Bidirectional(KerasLayer):
    """Bidirectional(layer): a forward and a backward copy of a recurrent layer, their
    outputs merged (concat doubles the last axis; sum, mul, ave keep it; None hands on
    the forward one's); twice the parameters and MACs."""

    CLASS = "Bidirectional"
    NAMES = {"bidirectional": {}}
    PARAMS = (
        Param("layer", LAYER, required=True, positional=True, help="the recurrent layer"),
        Param(
            "merge_mode",
            OptionalType(Choice("concat", "sum", "mul", "ave")),
            "concat",
            aliases=("merge",),
        ),
        Param(
            "out",
            Choice("output", "hidden", "cell", aliases={"h": "hidden", "c": "cell"}),
            "output",
            help=OUT_HELP + ", both directions' concatenated; cell likewise",
        ),
    )
    SUMMARY = "both directions of a recurrent layer"
    KERAS = {
        "Bidirectional": keras_signature(
            "layer",
            "merge_mode",
            "weights",
            "backward_layer",
            required=1,
            only={
                "weights": (
                    None,
                    "weights= sets values, which convcalc does not need: leave it out",
                ),
                "backward_layer": (
                    None,
                    "a backward_layer of its own is not read: convcalc's backward copy is the "
                    "layer's own",
                ),
            },
        )
    }
    EXAMPLE, EXAMPLE_INPUT = "layer=LSTM(32)", "20x8"
    NOTE = (
        "merge_mode=None makes Keras return [forward, backward]: the chain hands on the "
        "forward output. out=hidden (cell) hands on both directions' final h (c) "
        "concatenated, 2u, whatever the merge mode."
    )

    dim = None  # no spatial dimensions of its own
    layer: Layer
    merge_mode: str | None
    out: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        inner = self.layer
        if not isinstance(inner, Recurrent):
            raise LayerError(
                f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM), "
                f"not {inner.class_name()}"
            )
        if self.out == "cell" and not inner.HAS_CELL:
            raise LayerError(f"out=cell: a {inner.class_name()} has no cell state (only h)")
        if inner.go_backwards:
            raise LayerError(
                f"Bidirectional: the wrapped {inner.class_name()} has go_backwards=True, and "
                "so would its backward copy (Keras: Forward layer and backward layer should "
                "have different `go_backwards` value)"
            )
        if inner.out != "output":
            raise LayerError("write out= on the Bidirectional, not on the layer it wraps")
        one = inner.infer(shape, batch)
        last = one.shape[-1]
        if self.out != "output":
            state = type(inner)(**{**inner.__dict__, "return_sequences": False})
            h = state.infer(shape, batch).shape
            out: Shape = (*h[:-1], None if h[-1] is None else 2 * h[-1])
        elif self.merge_mode == "concat":
            out = (*one.shape[:-1], None if last is None else 2 * last)
        else:
            out = one.shape
        params = None if one.params is None else 2 * one.params
        macs = None if one.macs is None else 2 * one.macs
        return Out("Bidirectional", out, params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """Twice the wrapped layer's parameters and MACs (a forward and a backward
        copy); concat's output, the two directions side by side."""
        from convcalc.kinds.explaining import Step

        inner = self.layer
        steps = [
            Step(row.index, step.dim, f"2·({step.expression})", 2 * step.value, _both(inner))
            for step in inner.explain(row)
            if step.dim in ("params", "MACs") and step.expression and step.value is not None
        ]
        last = row.output[-1] if row.output else None
        if self.out == "output" and self.merge_mode == "concat" and last is not None:
            half = last // 2
            note = "the forward and the backward outputs concatenated"
            steps.append(Step(row.index, "features", f"2·{half}", last, note))
        return steps

    # -- Keras code (convcalc.formats.keras_code)
    def keras_unwritable(self) -> str:
        if self.out != "output":
            return (
                f"out={self.out} hands on both directions' final states concatenated, which "
                "Keras returns apart (return_state=True): Keras has no one layer for it"
            )
        return ""

    def keras_values(self, shape: Shape) -> dict[str, Any]:
        """The wrapped layer as its own constructor."""
        return {**self.__dict__, "layer": _inner(self.layer, shape)}

    def keras_output(self) -> int | None:
        """merge_mode=None returns [forward, backward], return_state adds the states
        after the output: the first either way."""
        inner = self.layer
        returns_list = self.merge_mode is None or getattr(inner, "return_state", False)
        return 0 if returns_list else None

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
    READS_STEPS = True


def _joined(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def _both(layer: Layer) -> str:
    return f"a forward and a backward {layer.class_name()}"


def _inner(layer: Layer, shape: Shape) -> Source:
    """A wrapper's layer as Keras's constructor for its input ``shape``."""
    from convcalc.kinds.code import Source

    code = layer.keras_layer(layer.infer(shape).kind, shape)
    assert code is not None  # every layer a wrapper takes is a Keras kind's
    return Source(code)


register(Bidirectional)


class TimeDistributed(KerasLayer):
    """TimeDistributed(layer): the layer on every step of a T×… input, one set of
    weights: T×(its output); its parameters, T times its MACs."""

    CLASS = "TimeDistributed"
    NAMES = {"timedistributed": {}}
    PARAMS = (Param("layer", LAYER, required=True, positional=True, help="the layer per step"),)
    SUMMARY = "a layer on every time step"
    KERAS = {"TimeDistributed": keras_signature("layer", required=1)}
    EXAMPLE, EXAMPLE_INPUT = "layer=Dense(16)", "20x8"

    dim = None  # no spatial dimensions of its own
    layer: Layer

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) < 2:
            raise LayerError(
                f"TimeDistributed reads timesteps×… with at least one axis per step (ndim >= 3 "
                f"with the batch), got {fmt_shape(shape)} (ndim={len(shape) + 1})"
            )
        steps = shape[0]
        one = self.layer.infer(shape[1:], batch)

        def times(value: int | None) -> int | None:
            return None if value is None or steps is None else steps * value

        return Out(
            "TimeDistributed",
            (steps, *one.shape),
            params=one.params,
            buffers=one.buffers,
            macs=times(one.macs),
            rf=None,
            non_trainable=one.non_trainable,
        )

    def explain(self, row: Row) -> list[Step]:
        """The wrapped layer's steps on one time step, each size at its place after
        the time axis; its MACs T times (one set of weights for every step)."""
        from convcalc.kinds.explaining import Step, moved

        steps_n = row.input[0] if row.input else None
        one = row._replace(input=row.input[1:], output=row.output[1:])
        out = []
        for step in self.layer.explain(one):
            if step.dim == "MACs" and step.expression and step.value is not None:
                if steps_n is None:
                    continue
                note = f"{self.layer.class_name()} on each of the {steps_n} steps"
                expr, value = f"{steps_n}·({step.expression})", steps_n * step.value
                out.append(Step(row.index, "MACs", expr, value, note))
            elif step.dim == "params":
                out.append(step._replace(note=_joined(step.note, "one set for every step")))
            else:  # a size: its axis one on, after the time axis
                out.append(moved(step, one.output, row.output, 1, last=True))
        return out

    # -- Keras code (convcalc.formats.keras_code)
    def keras_unwritable(self) -> str:
        inner = self.layer
        why = inner.keras_unwritable()
        if why:
            return why
        if inner.keras_output() is not None:
            return (
                f"the wrapped {inner.class_name()} returns several tensors (return_state, "
                "out=, merge_mode=None), which TimeDistributed does not hand on"
            )
        return ""

    def keras_values(self, shape: Shape) -> dict[str, Any]:
        """The wrapped layer as its own constructor, for one step's shape."""
        return {**self.__dict__, "layer": _inner(self.layer, shape[1:])}

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True


register(TimeDistributed)
