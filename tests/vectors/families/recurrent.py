"""Recurrent layers (issue 16): nn.RNN, nn.LSTM, nn.GRU and nn.RNNCell, nn.LSTMCell,
nn.GRUCell — random configurations in convcalc's short forms (``lstm 128 layers=2 bidir
out=hidden``), PyTorch's positional order (``lstm 64 128 2``) and PyTorch's calls
(``nn.LSTM(64, 128, num_layers=2, batch_first=True)``), rejections included (proj_size ≥
hidden_size, proj_size on an RNN or GRU even at 0, num_layers < 1, dropout outside [0, 1],
an input size that is not the input's, an unknown nonlinearity, an input of the wrong
rank), and short chains; the set of rows they make (``SET``).

A sequence layer sees convcalc's L×H_in as PyTorch's (1, L, H_in) when batch_first, and
as (L, 1, H_in) otherwise (the module is fed the transposed tensor and its output
transposed back): convcalc reads L×H_in whatever batch_first says. ``Sequence`` hands on
``output``, or ``h_n[-1]`` (``torch.cat([h_n[-2], h_n[-1]], 1)`` when bidirectional) for
out=hidden, or an LSTM's c_n likewise for out=cell. A cell sees H_in as (1, H_in); an
LSTMCell hands on h'. MACs are FlopCounterMode's count with oneDNN off, as for every
layer (common.run_layer): with oneDNN on it counts nothing for a plain LSTM.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from common import CaseSet, Chain, Layer, Shape, Speller, finish
from torch import nn

from families.activation import act_layer, dropout_layer
from families.linear import linear_layer
from families.norm import layernorm_layer

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CELLS = {"rnncell": nn.RNNCell, "lstmcell": nn.LSTMCell, "grucell": nn.GRUCell}


class Sequence(nn.Module):
    """An nn.RNN, nn.LSTM or nn.GRU on a batched input, handing on ``out``."""

    def __init__(self, rnn: nn.RNNBase, out: str) -> None:
        super().__init__()
        self.rnn, self.out = rnn, out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3 and not self.rnn.batch_first:
            x = x.transpose(0, 1)
        output, state = self.rnn(x)
        if self.out == "output":
            return output if self.rnn.batch_first or output.dim() != 3 else output.transpose(0, 1)
        if isinstance(state, tuple):
            state = state[1] if self.out == "cell" else state[0]
        d = 2 if self.rnn.bidirectional else 1
        return torch.cat(list(state[-d:]), dim=-1)


class Cell(nn.Module):
    """An nn.RNNCell, nn.LSTMCell or nn.GRUCell handing on h'."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.cell(x)
        return h[0] if isinstance(h, tuple) else h


# --------------------------------------------------------------------------------------------
# layers: convcalc text + module
# --------------------------------------------------------------------------------------------


def _torch_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def sequence_layer(
    rng: random.Random,
    sp: Speller,
    kind: str,
    fin: int,
    hidden: int,
    given: dict[str, Any],
    *,
    out: str = "output",
    form: str | None = None,
    input_size: int | None = None,
) -> Layer:
    """``kind`` with PyTorch's arguments ``given`` (beside input_size and hidden_size) in a
    form: "short" (hidden_size, convcalc's keys), "order" (PyTorch's positional order) or
    "call"; ``input_size``: a size given that may differ from the input's ``fin``."""
    form = form or rng.choice(["short", "short", "order", "call"])
    size = fin if input_size is None else input_size
    if out != "output":
        form = "short" if form == "call" else form  # out= is convcalc's own: no call takes it
    if form == "call":
        cname = kind.upper()
        prefix = rng.choice(["", "nn.", "torch.nn."])
        args = (
            [str(size), str(hidden)]
            if rng.random() < 0.7
            else [
                f"input_size={size}",
                f"hidden_size={hidden}",
            ]
        )
        order = list(given)
        rng.shuffle(order)
        args += [f"{k}={_torch_value(given[k])}" for k in order]
        if rng.random() < 0.3:
            args.append(f"batch_first={rng.choice(['True', 'False'])}")
        text = f"{prefix}{cname}({', '.join(args)})"
        batch_first = "batch_first=True" in text
    else:
        opts: list[str] = []
        batch_first = rng.random() < 0.3
        if batch_first:
            opts.append(rng.choice(["batch_first", "batch_first=true", "batch_first=1"]))
        if form == "order":
            positional = [str(size), str(hidden)]
        else:
            positional = [str(hidden)]
            if input_size is not None or rng.random() < 0.2:
                opts.append(f"{sp.key('in', 'input_size')}={size}")
        for key, value in given.items():
            if key == "num_layers":
                opts.append(f"{sp.key('layers', 'num_layers')}={value}")
            elif key == "bidirectional" and value is True and rng.random() < 0.6:
                opts.append(rng.choice(["bidirectional", "bidir"]))
            elif key == "bidirectional":
                opts.append(f"{sp.key('bidir', 'bidirectional')}={sp.boolean(value)}")
            elif key == "bias":
                opts.append(f"bias={sp.boolean(value)}")
            elif key == "proj_size":
                key_text = sp.key("proj", "proj_size") if kind == "lstm" else "proj_size"
                opts.append(f"{key_text}={value}")
            elif key == "nonlinearity":
                opts.append(f"{sp.key('act', 'nonlinearity')}={value}")
            elif key == "dropout":
                opts.append(f"dropout={sp.float(value)}")
        if out != "output":
            word = {"hidden": ["hidden", "h_n"], "cell": ["cell", "c_n"]}[out]
            opts.append(f"out={rng.choice(word)}")
        elif rng.random() < 0.1:
            opts.append("out=output")
        text = finish(kind, positional, opts, rng)
    kwargs = {**given, "batch_first": batch_first}

    def make() -> nn.Module:
        return Sequence(KINDS[kind](size, hidden, **kwargs), out)

    return Layer(kind, text, make)


def cell_layer(
    rng: random.Random,
    sp: Speller,
    kind: str,
    fin: int,
    hidden: int,
    given: dict[str, Any],
    *,
    input_size: int | None = None,
) -> Layer:
    size = fin if input_size is None else input_size
    form = rng.choice(["short", "short", "order", "call"])
    if form == "call":
        cname = {"rnncell": "RNNCell", "lstmcell": "LSTMCell", "grucell": "GRUCell"}[kind]
        args = [str(size), str(hidden)]
        args += [f"{k}={_torch_value(v)}" for k, v in given.items()]
        text = f"{rng.choice(['', 'nn.'])}{cname}({', '.join(args)})"
    else:
        opts = []
        if form == "order":
            positional = [str(size), str(hidden)]
        else:
            positional = [str(hidden)]
            if input_size is not None or rng.random() < 0.2:
                opts.append(f"{sp.key('in', 'input_size')}={size}")
        for key, value in given.items():
            if key == "bias":
                opts.append(f"bias={sp.boolean(value)}")
            else:
                opts.append(f"{sp.key('act', 'nonlinearity')}={value}")
        text = finish(kind, positional, opts, rng)
    return Layer(kind, text, lambda: Cell(CELLS[kind](size, hidden, **given)))


# --------------------------------------------------------------------------------------------
# random cases
# --------------------------------------------------------------------------------------------


def _given(rng: random.Random, kind: str, hidden: int, *, fail: bool) -> dict[str, Any]:
    """PyTorch's arguments beside the sizes; ``fail``: likely one PyTorch refuses."""
    given: dict[str, Any] = {}
    if rng.random() < 0.6:
        given["num_layers"] = rng.choice([1, 2, 2, 3])
    if kind == "rnn" and rng.random() < 0.4:
        given["nonlinearity"] = rng.choice(["tanh", "relu"])
    if rng.random() < 0.25:
        given["bias"] = rng.random() < 0.3
    if rng.random() < 0.5:
        given["bidirectional"] = rng.random() < 0.7
    if rng.random() < 0.2:
        given["dropout"] = rng.choice([0.0, 0.1, 0.5, 1.0])
    if kind == "lstm" and hidden > 1 and rng.random() < 0.35:
        given["proj_size"] = rng.randint(0, hidden - 1)
    if fail:
        how = rng.choice(["proj", "layers", "dropout", "proj_other", "nonlinearity"])
        if how == "proj" and kind == "lstm":
            given["proj_size"] = rng.choice([hidden, hidden + rng.randint(1, 4), -1])
        elif how == "proj" or how == "proj_other":
            if kind != "lstm":
                given["proj_size"] = rng.choice([0, 1, hidden + 1])
            else:
                given["num_layers"] = 0
        elif how == "layers":
            given["num_layers"] = rng.choice([0, -1])
        elif how == "dropout":
            given["dropout"] = rng.choice([1.5, -0.1, 2.0])
        elif kind == "rnn":
            given["nonlinearity"] = rng.choice(["gelu", "sigmoid"])
        else:
            given["dropout"] = 1.25
    return given


def case_sequence(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    kind = rng.choice(list(KINDS))
    fail = rng.random() < 0.3
    length = rng.choice([1, 1, 2, 3, 5, 8, 12, 20, 33])
    fin = rng.choice([1, 2, 3, 4, 8, 10, 16, 32])
    hidden = rng.choice([1, 2, 3, 5, 8, 16, 20, 32])
    shape: Shape = [length, fin]
    input_size = None
    r = rng.random()
    if fail and r < 0.25:
        input_size = fin + rng.choice([-1, 1, 2]) or fin + 1  # a size that is not the input's
    elif fail and r < 0.35:
        shape = [rng.randint(2, 4), length, fin]  # one dimension too many
    elif fail and r < 0.45:
        hidden = rng.choice([0, -2])
    given = _given(rng, kind, max(hidden, 1), fail=fail and r >= 0.5)
    out = "output"
    if rng.random() < 0.35:
        out = "cell" if kind == "lstm" and rng.random() < 0.3 else "hidden"
    layer = sequence_layer(rng, sp, kind, fin, hidden, given, out=out, input_size=input_size)
    return shape, layer


def case_cell(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    kind = rng.choice(list(CELLS))
    fail = rng.random() < 0.3
    fin = rng.choice([1, 2, 3, 4, 8, 10, 16, 32])
    hidden = rng.choice([1, 2, 5, 8, 16, 20, 32])
    shape: Shape = [fin]
    input_size = None
    given: dict[str, Any] = {}
    if rng.random() < 0.3:
        given["bias"] = rng.random() < 0.4
    if kind == "rnncell" and rng.random() < 0.4:
        given["nonlinearity"] = rng.choice(["tanh", "relu"])
    if fail:
        r = rng.random()
        if r < 0.4:
            input_size = fin + rng.choice([1, 3])
        elif r < 0.8:
            shape = [rng.randint(2, 6), fin]  # a sequence into a cell
        else:
            hidden = -rng.randint(1, 3)
    return shape, cell_layer(rng, sp, kind, fin, hidden, given, input_size=input_size)


def _pinned(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """Every class as a call, and the issue's examples."""
    out: list[tuple[str, Shape, Layer]] = []

    def seq(kind: str, shape: Shape, hidden: int, form: str, **kw: Any) -> None:
        out_mode = kw.pop("out", "output")
        layer = sequence_layer(rng, sp, kind, shape[-1], hidden, kw, out=out_mode, form=form)
        out.append((kind, shape, layer))

    seq("lstm", [20, 64], 128, "call", num_layers=2)
    seq("lstm", [20, 64], 128, "short", num_layers=2, bidirectional=True)
    seq("lstm", [20, 64], 128, "short", out="hidden")
    seq("lstm", [20, 64], 128, "short", bidirectional=True, out="hidden")
    seq("lstm", [20, 64], 128, "short", num_layers=2, proj_size=32, bidirectional=True)
    seq("lstm", [20, 64], 128, "call", proj_size=128)
    seq("lstm", [20, 64], 128, "call", dropout=0.5)
    seq("gru", [20, 64], 128, "call", num_layers=2, bidirectional=True)
    seq("gru", [20, 64], 128, "call", proj_size=0)
    seq("rnn", [20, 64], 128, "call", nonlinearity="relu", num_layers=3)
    seq("rnn", [20, 64], 128, "call", proj_size=0)
    for kind in CELLS:
        out.append((kind, [64], cell_layer(rng, sp, kind, 64, 128, {})))
    texts = {
        "rnncell": "RNNCell(64, 128, nonlinearity='relu')",
        "lstmcell": "nn.LSTMCell(64, 128, bias=False)",
        "grucell": "nn.GRUCell(input_size=64, hidden_size=128)",
    }
    makers = {
        "rnncell": lambda: Cell(nn.RNNCell(64, 128, nonlinearity="relu")),
        "lstmcell": lambda: Cell(nn.LSTMCell(64, 128, bias=False)),
        "grucell": lambda: Cell(nn.GRUCell(64, 128)),
    }
    for kind, text in texts.items():
        out.append((kind, [64], Layer(kind, text, makers[kind])))
    return out


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def make_chain(rng: random.Random, sp: Speller) -> Chain:
    """A sequence model: maybe a linear or layernorm first, one to three recurrent layers,
    the last maybe handing on its final state, then a linear head."""
    shape = [rng.choice([3, 5, 8, 12]), rng.choice([4, 8, 16])]
    b = Chain(shape)
    if rng.random() < 0.3:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([8, 16])))
    if rng.random() < 0.2:
        b.add(layernorm_layer(rng, sp, b.shape, None))
    for i in range(rng.randint(1, 3)):
        if not b.ok:
            break
        kind = rng.choice(list(KINDS))
        hidden = rng.choice([4, 8, 12, 16])
        fail = rng.random() < 0.08
        given = _given(rng, kind, hidden, fail=fail)
        last = i > 0 and rng.random() < 0.4
        out = rng.choice(["hidden", "hidden", "cell"] if kind == "lstm" else ["hidden"])
        b.add(
            sequence_layer(rng, sp, kind, b.shape[-1], hidden, given, out=out if last else "output")
        )
        if last:
            break
        if b.ok and rng.random() < 0.3:
            b.add(rng.choice([act_layer("relu"), act_layer("tanh"), dropout_layer(rng, 0.1)]))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    return b


def documented() -> list[tuple[str, Shape, list[Layer]]]:
    """The networks docs/language.md and docs/arithmetic.md show."""

    def layer(text: str, make: Any) -> Layer:
        return Layer("documented", text, make)

    lstm2 = "LSTM(64, 128, num_layers=2, batch_first=True)"
    return [
        (
            "lstm 128 out=hidden linear 10",
            [20, 64],
            [
                layer(
                    "lstm 128 out=hidden",
                    lambda: Sequence(nn.LSTM(64, 128, batch_first=True), "hidden"),
                ),
                layer("linear 10", lambda: nn.Linear(128, 10)),
            ],
        ),
        (
            f"{lstm2} gru 64 bidirectional out=hidden linear 5",
            [20, 64],
            [
                layer(lstm2, lambda: Sequence(nn.LSTM(64, 128, 2, batch_first=True), "output")),
                layer(
                    "gru 64 bidirectional out=hidden",
                    lambda: Sequence(
                        nn.GRU(128, 64, bidirectional=True, batch_first=True), "hidden"
                    ),
                ),
                layer("linear 5", lambda: nn.Linear(128, 5)),
            ],
        ),
        (
            "lstm 128 layers=2 bidirectional proj=32",
            [20, 64],
            [
                layer(
                    "lstm 128 layers=2 bidirectional proj=32",
                    lambda: Sequence(
                        nn.LSTM(64, 128, 2, bidirectional=True, proj_size=32, batch_first=True),
                        "output",
                    ),
                )
            ],
        ),
    ]


SET = CaseSet(
    pinned=_pinned,
    plan=[
        ("recurrent", 300, 0.3, case_sequence),
        ("recurrent_cell", 80, 0.25, case_cell),
    ],
    chains=make_chain,
    chain_count=60,
    fixed_chains=documented,
)
