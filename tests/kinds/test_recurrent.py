"""Recurrent layers (convcalc/kinds/torch/recurrent.py): what the torch vectors cannot
show — the spellings that mean one layer, how the input is read (L×H_in, a 1-d input
refused), out=hidden/out=cell, the messages of the rejections, the warnings, --explain,
-o torch, --help-layer and completion. The figures themselves are PyTorch's, checked by
kinds/test_vectors.py on the "recurrent" set of tests/data/torch_cases.jsonl."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.ask.lint import lint
from convcalc.cli.command import cli
from convcalc.formats.torch_code import to_torch
from tests.ask.test_explain import check
from tests.paths import read_jsonl


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="convcalc")
    return result.exit_code, result.stdout, result.stderr


def _figures(spec: str, shape: str) -> tuple[tuple[int | None, ...], int | None, int | None]:
    a = convcalc.analyze(spec, shape)
    return a.output, a.params, a.macs


@pytest.mark.parametrize(
    ("spellings", "shape"),
    [
        (
            [
                "LSTM(64, 128, num_layers=2, batch_first=True)",
                "nn.LSTM(input_size=64, hidden_size=128, num_layers=2)",
                "lstm 128 layers=2",
                "lstm 128 num_layers=2 in=64 batch_first",
                "lstm 64 128 2",
            ],
            "20x64",
        ),
        (
            [
                "nn.GRU(64, 32, bidirectional=True, bias=False)",
                "gru 32 bidirectional bias=false",
                "gru 32 bidir=yes bias=no",
                "gru 64 32 1 False False 0.0 True",
            ],
            "7x64",
        ),
        (
            [
                "torch.nn.RNN(16, 8, 2, 'relu')",
                "rnn 8 layers=2 act=relu",
                "rnn 16 8 2 nonlinearity=relu",
            ],
            "5x16",
        ),
        (["nn.LSTMCell(10, 20)", "lstmcell 20", "lstmcell 10 20", "lstmcell 20 in=10"], "10"),
    ],
)
def test_every_spelling_means_one_layer(spellings: list[str], shape: str) -> None:
    figures = {_figures(s, shape) for s in spellings}
    assert len(figures) == 1, figures


def test_output_and_final_states() -> None:
    # output: L×(D·H_out); out=hidden: h_n[-1] (both directions: D·H_out); out=cell: c_n.
    shapes = {
        "lstm 128": (20, 128),
        "lstm 128 bidirectional": (20, 256),
        "lstm 128 proj=32 bidirectional": (20, 64),
        "lstm 128 out=hidden": (128,),
        "lstm 128 out=h_n bidirectional": (256,),
        "lstm 128 proj=32 out=hidden bidirectional": (64,),
        "lstm 128 proj=32 out=cell bidirectional": (256,),
        "lstm 128 out=c_n layers=3": (128,),
        "gru 16 out=hidden layers=2 bidir": (32,),
    }
    for spec, want in shapes.items():
        assert convcalc.analyze(spec, "20x64").output == want, spec
    # The classic classifier in one line: the same parameters whatever it hands on.
    head = convcalc.analyze("lstm 128 out=hidden linear 10", "20x64")
    assert head.output == (10,)
    assert head.params == convcalc.analyze("lstm 128 linear 10", "20x64").params


def test_no_receptive_field() -> None:
    result = convcalc.analyze("conv1d 16 k=3 transpose 1 2 lstm 32", "4x50")
    assert result.layers[-1].rf is None
    code, out, _ = _run("-i", "20x64", "lstm", "32")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert row.rstrip().endswith("K")  # the MACs close the row: no RF column entry


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        (
            "lstm 128",
            "64",
            "lstm reads L×H_in per sample (L steps of H_in features), got 64: "
            "write one step as 1x64, or use lstmcell",
        ),
        (
            "gru 8",
            "2x5x6",
            "gru reads L×H_in per sample (L steps of H_in features), got 2x5x6 "
            "(3 dims; PyTorch: expected input to be 2D or 3D, got 4D)",
        ),
        (
            "lstm 16 proj=16",
            "5x4",
            "proj_size has to be smaller than hidden_size, got proj_size=16 and hidden_size=16",
        ),
        ("lstm 16 proj=-1", "5x4", "proj_size=-1: it should be a positive integer or zero"),
        (
            "gru 16 proj_size=0",
            "5x4",
            "proj_size=0: proj_size argument is only supported for LSTM, not RNN or GRU",
        ),
        ("nn.RNN(4, 16, proj_size=0)", "5x4", "proj_size argument is only supported for LSTM"),
        ("lstm 16 layers=0", "5x4", "num_layers must be greater than zero, got 0"),
        ("lstm 0", "5x4", "hidden_size must be greater than zero, got 0"),
        ("lstm 16 dropout=1.5", "5x4", "dropout=1.5: it should be a number in range [0, 1]"),
        ("lstm 16 in=5", "5x4", "input_size=5, but the input 5x4 has 4 features per step"),
        (
            "lstmcell 16",
            "5x4",
            "lstmcell reads one step, H_in per sample, got 5x4 (PyTorch: "
            "expected input to be 1D or 2D, got 3D); for a sequence use lstm",
        ),
        ("grucell 16 in=3", "4", "input_size=3, but the input 4 has 4 features"),
        ("rnncell -2", "4", "hidden_size=-2: PyTorch cannot create its weights"),
    ],
)
def test_rejections(spec: str, shape: str, message: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(spec, shape)
    assert message in str(info.value)


def test_words_of_one_kind_only() -> None:
    with pytest.raises(convcalc.SpecError, match="expected one of output, hidden"):
        convcalc.analyze("gru 8 out=cell", "5x4")  # c_n is an LSTM's
    with pytest.raises(convcalc.SpecError, match="no argument 'out'"):
        convcalc.analyze("nn.LSTM(4, 8, out='hidden')", "5x4")  # PyTorch's call has none
    with pytest.raises(convcalc.SpecError, match="expected one of tanh, relu"):
        convcalc.analyze("rnn 8 nonlinearity=gelu", "5x4")


def test_the_cli_exit_status() -> None:
    code, out, err = _run("-i", "64", "lstm", "128")
    assert (code, out) == (1, "")
    assert "lstm reads L×H_in per sample" in err


def test_dropout_with_one_layer_only_warns() -> None:
    warned = lint(convcalc.analyze("lstm 16 dropout=0.2", "5x4"))
    assert [(w.row, w.code) for w in warned] == [(1, "framework-warns")]
    assert "num_layers=1" in warned[0].message
    assert not lint(convcalc.analyze("lstm 16 dropout=0.2 layers=2", "5x4"))
    assert not lint(convcalc.analyze("lstm 16", "5x4"))


def test_steps_taken_from_channels_warn() -> None:
    # Conv1d gives C×L; an LSTM reads L×H_in: without a transpose the channels are steps.
    warned = lint(convcalc.analyze("conv1d 16 k=3 lstm 32", "4x50"))
    assert [(w.row, w.code) for w in warned] == [(2, "steps-on-channels")]
    assert "transpose 1 2" in warned[0].fix
    assert not lint(convcalc.analyze("conv1d 16 k=3 transpose 1 2 lstm 32", "4x50"))
    assert not lint(convcalc.analyze("linear 16 lstm 32", "4x50"))


@pytest.mark.parametrize(
    "spec",
    [
        "lstm 32 proj=16 layers=2 bidir",
        "lstm 32 proj=16",
        "gru 8 layers=3 bias=false out=hidden",
        "rnn 8 bidirectional",
        "lstm 12 out=cell bidir",
        "lstmcell 20",
        "grucell 7 bias=false",
    ],
)
def test_explain_gives_the_parameter_formula(spec: str) -> None:
    shape = "7" if "cell" in spec.split()[0] else "20x7"
    result = convcalc.analyze(spec, shape)
    assert check(result) >= 2  # params and MACs, each equal to the row's (see check)


def test_explain_per_layer_and_direction() -> None:
    code, out, _ = _run("-i", "20x64", "lstm", "32", "proj=16", "layers=2", "bidir", "--explain")
    assert code == 0
    assert "params, layer 1: 2·(4·32·(64 + 16) + 2·4·32 + 32·16) = 22016" in out
    assert "params, layer 2: 2·(4·32·(32 + 16) + 2·4·32 + 32·16) = 13824" in out
    assert "RF: not applicable" in out


@pytest.mark.parametrize(
    ("spec", "shape", "module"),
    [
        (
            "lstm 128 layers=2 out=hidden bidir",
            "20x64",
            "Recurrent(nn.LSTM(input_size=64, hidden_size=128, num_layers=2, bias=True, "
            "batch_first=True, dropout=0.0, bidirectional=True, proj_size=0), out='hidden')",
        ),
        (
            "rnn 8 act=relu",
            "5x4",
            "Recurrent(nn.RNN(input_size=4, hidden_size=8, num_layers=1, nonlinearity='relu', "
            "bias=True, batch_first=True, dropout=0.0, bidirectional=False))",
        ),
        ("lstmcell 8", "4", "Recurrent(nn.LSTMCell(input_size=4, hidden_size=8, bias=True))"),
        ("grucell 8", "4", "nn.GRUCell(input_size=4, hidden_size=8, bias=True)"),
    ],
)
def test_torch_code(spec: str, shape: str, module: str) -> None:
    code = to_torch(convcalc.analyze(spec, shape))
    assert module in code
    compile(code, "<generated>", "exec")
    assert ("class Recurrent(nn.Module)" in code) == ("Recurrent(" in module)


def test_torch_code_ran_in_pytorch() -> None:
    # tests/vectors/codegen.py ran -o torch's code of every recurrent case in PyTorch:
    # tests/formats/test_torch_code.py checks the figures; here, that they are there.
    kinds = {"rnn", "lstm", "gru", "rnncell", "lstmcell", "grucell"}
    word = re.compile(r"\b(" + "|".join(kinds) + r")\b", re.IGNORECASE)
    ran = [c for c in read_jsonl("torch_codegen.jsonl") if word.search(c["spec"])]
    assert {m.lower() for c in ran for m in word.findall(c["spec"])} == kinds
    assert len(ran) >= 300


def test_help_layer() -> None:
    code, out, _ = _run("--help-layer", "lstm")
    assert code == 0
    assert "out=" in out and "proj=" in out and "layers=" in out
    assert "convcalc -i 20x64 lstm 128 layers=2 bidirectional" in out
    assert "h_n[-1]" in out
    code, out, _ = _run("--help-layer", "gru")
    assert code == 0 and "LSTM only" in out


def test_json_keeps_every_figure() -> None:
    code, out, _ = _run("-i", "20x64", "lstm", "128", "out=hidden", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert data["layers"][0]["output"] == [128]
    assert data["layers"][0]["params"] == 99_328
