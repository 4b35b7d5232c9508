"""Transformer stacks against PyTorch: every case of tests/data/torch_stack.jsonl was run in
torch 2.13 by tests/vectors/families/stack.py (nn.TransformerEncoder and
nn.TransformerDecoder, written as PyTorch's nested calls or as convcalc's short words).
convcalc must give torch's output, parameters, buffers and MACs, and reject what torch
rejects; then the nested layer's binding, the norm's messages, -o torch and --explain."""

from __future__ import annotations

from typing import Any

import pytest

import convcalc
from convcalc.errors import ConvcalcError
from tests.kinds.oracle import assert_as_torch
from tests.paths import read_jsonl

CASES = read_jsonl("torch_stack.jsonl")


def test_the_data_covers_every_form_and_rejection() -> None:
    specs = "\n".join(c["spec"] for c in CASES)
    for word in (
        "nn.TransformerEncoder(nn.TransformerEncoderLayer(",
        "TransformerEncoder(TransformerEncoderLayer(",
        "nn.TransformerDecoder(nn.TransformerDecoderLayer(",
        "TransformerDecoder(TransformerDecoderLayer(",
        "transformerencoder ",
        "transformerdecoder ",
        "norm=None",
        "norm=LayerNorm(",
        "norm=nn.LayerNorm(",
        "elementwise_affine=False",
        "enable_nested_tensor=",
        "num_layers=",
        "memory=mem",
        " norm",
    ):
        assert word in specs, word
    messages = " ".join(c["error"]["message"] for c in CASES if c["error"])
    for torch_says in ("divisible by num_heads", "index 0 is out of range", "normalized_shape"):
        assert torch_says in messages, torch_says
    rejected = sum(c["error"] is not None for c in CASES)
    assert 0.15 < rejected / len(CASES) < 0.5


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_stack_equals_pytorch(case: dict[str, Any]) -> None:
    assert_as_torch(case)


def test_the_call_and_the_short_word_agree() -> None:
    call = convcalc.analyze(
        "TransformerEncoder(TransformerEncoderLayer(16, 4, dim_feedforward=32), 2, "
        "norm=LayerNorm(16))",
        (5, 16),
    )
    short = convcalc.analyze("transformerencoder 16 4 2 ff=32 norm", (5, 16))
    assert (call.params, call.macs) == (short.params, short.macs)
    layer = convcalc.analyze("encoderlayer 16 4 ff=32", (5, 16))
    assert call.params == 2 * layer.params + 2 * 16  # the norm adds 2·d
    assert call.macs == 2 * layer.macs


def test_the_inner_layer_binds_as_its_own_call() -> None:
    # Its messages are the layer's own: a key the layer does not take, a missing nhead.
    with pytest.raises(convcalc.SpecError, match=r"TransformerEncoderLayer\(\) has no argument"):
        convcalc.analyze("TransformerEncoder(TransformerEncoderLayer(16, 4, ffn=3), 2)", (5, 16))
    with pytest.raises(convcalc.SpecError, match=r"TransformerEncoderLayer\(\) needs nhead"):
        convcalc.analyze("TransformerEncoder(TransformerEncoderLayer(16), 2)", (5, 16))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "TransformerEncoder(TransformerDecoderLayer(16, 4), 2)",
            "expected TransformerEncoderLayer(…), a layer written as PyTorch's call; got "
            "'TransformerDecoderLayer(16, 4)'",
        ),
        (
            "TransformerEncoder(TransformerEncoderLayer(16, 4), 2, norm=BatchNorm1d(16))",
            "expected LayerNorm(…)",
        ),
        ("TransformerEncoder(TransformerEncoderLayer(16, 4))", "needs num_layers"),
        ("transformerencoder 16 4", "transformerencoder needs num_layers"),
        (
            "TransformerEncoder(TransformerEncoderLayer(16, 4), 0)",
            "num_layers=0: nn.TransformerEncoder's forward reads its first layer",
        ),
        (
            "TransformerEncoder(TransformerEncoderLayer(16, 4), 2, norm=LayerNorm(8))",
            "norm=LayerNorm(8) does not fit its layers' output, d_model 16 per token",
        ),
        (
            "as m; TransformerDecoder(TransformerDecoderLayer(16, 4), 2)",
            "reads a second tensor, the memory",
        ),
    ],
)
def test_rejections_name_the_layer_and_the_numbers(spec: str, message: str) -> None:
    with pytest.raises(ConvcalcError) as info:
        convcalc.analyze(spec, (5, 16))
    assert message in str(info.value)


def test_explain_writes_the_stack_formulas() -> None:
    spec = "TransformerEncoder(TransformerEncoderLayer(16, 4, dim_feedforward=32), 2, norm=LayerNorm(16))"
    steps = {s.dim: s.value for s in convcalc.explain(spec, (5, 16))}
    analysis = convcalc.analyze(spec, (5, 16))
    assert steps["params"] == analysis.params and steps["MACs"] == analysis.macs
    spec = "split 3,5 dim=1 m t; from t; TransformerDecoder(TransformerDecoderLayer(16, 4), 2) memory=m"
    lines = [s.line() for s in convcalc.explain(spec, (8, 16)) if s.row == 3]
    analysis = convcalc.analyze(spec, (8, 16))
    assert any(line.startswith(f"params: 2·{analysis.params // 2} = ") for line in lines), lines


def test_torch_code_writes_the_stacks() -> None:
    # (tests/vectors/codegen.py runs this code for the accepted cases of the data.)
    spec = (
        "split 3,5 dim=1 m t; from t; "
        "nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4), 2, "
        "norm=nn.LayerNorm(16, elementwise_affine=False)); "
        "TransformerDecoder(TransformerDecoderLayer(16, 2), 1) memory=m"
    )
    code = convcalc.to_torch(convcalc.analyze(spec, (8, 16)))
    assert (
        "nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=16, nhead=4, "
        "dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05, "
        "batch_first=True, norm_first=False, bias=True), num_layers=2, "
        "norm=nn.LayerNorm(16, eps=1e-05, elementwise_affine=False, bias=True), "
        "enable_nested_tensor=False)"
    ) in code
    assert "num_layers=1, norm=None)" in code
    assert "self.transformerdecoder_4(x3, x1)" in code


def test_completion_knows_the_stack_words_and_their_keys() -> None:
    from tests.cli.test_completion import complete

    assert "transformerencoder" in complete(["-i", "10x64"], "transformerenc")
    keys = complete(["-i", "10x64", "transformerencoder", "64", "8", "2"], "no")
    assert "norm_first=" in keys or "norm" in keys or "norm=" in keys, keys
    memory = complete(["-i", "10x64", "as", "m", "transformerdecoder", "64", "8", "2"], "mem")
    assert "memory=" in memory, memory


@pytest.mark.parametrize(
    ("spec", "lacking"),
    [
        ("transformerencoder 16 4", "num_layers"),
        ("transformerencoder", "d_model, nhead, num_layers"),
        ("as m; transformerdecoder 16 4 memory=m", "num_layers"),
    ],
)
def test_a_short_form_missing_its_sizes_is_a_malformed_spec(spec: str, lacking: str) -> None:
    """Like any required argument left out (conv2d without k=): a SpecError pointing at
    the word, exit 2 on the command line, not a rejection of the network (exit 1)."""
    from click.testing import CliRunner

    from convcalc.cli import cli
    from convcalc.errors import SpecError

    with pytest.raises(SpecError, match=f"needs {lacking} ") as info:
        convcalc.analyze(spec, (5, 16))
    word = spec.split("; ")[-1].split()[0]
    assert spec[info.value.start : info.value.end] == word
    result = CliRunner().invoke(cli, ["-i", "5x16", *spec.split()])
    assert result.exit_code == 2
    assert result.stdout == ""
