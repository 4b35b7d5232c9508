"""Transformer decoders against PyTorch: every case of tests/data/torch_decoder.jsonl was
run in torch 2.13 by tests/vectors/families/decoder.py (nn.TransformerDecoderLayer,
nn.TransformerDecoder, nn.Transformer reading a named memory or source). convcalc must give
torch's output, parameters, buffers and MACs, and reject what torch rejects; then the
language around them: memory= and src= name tensors, their messages, -o torch, --explain."""

from __future__ import annotations

from typing import Any

import pytest

import convcalc
from tests.kinds.oracle import assert_as_torch
from tests.paths import read_jsonl

CASES = read_jsonl("torch_decoder.jsonl")


def test_the_data_covers_every_kind_and_rejection() -> None:
    specs = "\n".join(c["spec"] for c in CASES)
    for word in (
        "decoderlayer ",
        "transformerdecoderlayer ",
        "TransformerDecoderLayer(",
        "transformerdecoder ",
        "transformer ",
        "Transformer(",
        "memory=input",
        "src=input",
        "memory=mem",
        "src=mem",
        "causal",
        "norm_first",
        "bias=",
        " norm",
        " x2",
    ):
        assert word in specs, word
    messages = " ".join(c["error"]["message"] for c in CASES if c["error"])
    for torch_says in ("divisible by num_heads", "greater than 0", "index 0 is out of range"):
        assert torch_says in messages, torch_says
    rejected = sum(c["error"] is not None for c in CASES)
    assert 0.2 < rejected / len(CASES) < 0.5
    # The memory's length differs from the target's in most accepted cases.
    assert sum(c["input"][0] != c["output"][0] for c in CASES if c["output"]) > 50


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_decoder_equals_pytorch(case: dict[str, Any]) -> None:
    assert_as_torch(case)


def test_memory_names_a_tensor_and_is_required() -> None:
    with pytest.raises(convcalc.SpecError, match=r"reads a second tensor, the memory"):
        convcalc.analyze("decoderlayer 16 4", (5, 16))
    with pytest.raises(convcalc.SpecError, match=r"src= names a tensor .*got '20x16'"):
        convcalc.analyze("transformer 16 4 src=20x16", (5, 16))
    with pytest.raises(convcalc.SpecError, match=r"no tensor is named 'enc'"):
        convcalc.analyze("decoderlayer 16 4 memory=enc", (5, 16))
    # Inside the constructor's parentheses memory= is no argument of PyTorch's.
    with pytest.raises(convcalc.SpecError, match="memory"):
        convcalc.analyze("TransformerDecoderLayer(16, 4, memory=input)", (5, 16))


def test_the_memory_must_have_d_model_features() -> None:
    spec = "as t; linear 8 as enc; from t; decoderlayer 16 4 memory=enc"
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(spec, (5, 16))
    assert "d_model is 16, but the memory (enc: layer 1, linear 8) 5x8 has 8" in str(info.value)


def test_causal_changes_no_figure_and_the_table_shows_the_memory() -> None:
    plain = convcalc.analyze("split 3,5 dim=1 m t; from t; decoderlayer 16 4 memory=m", (8, 16))
    causal = convcalc.analyze(
        "split 3,5 dim=1 m t; from t; decoderlayer 16 4 memory=m causal", (8, 16)
    )
    assert (plain.params, plain.macs) == (causal.params, causal.macs)
    decoder = plain.layers[-1]
    assert decoder.inputs == (2, 1)  # the target (part 2), then the memory (part 1)


def test_a_shared_decoder_layer_reads_its_memory_again() -> None:
    spec = "as m; decoderlayer 16 4 ff=32 memory=m name=dec; use dec"
    analysis = convcalc.analyze(spec, (5, 16))
    first, again = analysis.layers
    assert again.inputs == (1, 0) and again.params == 0 and again.macs == first.macs


def test_explain_writes_the_parameter_formulas() -> None:
    spec = "split 3,5 dim=1 m t; from t; decoderlayer 16 4 ff=32 memory=m"
    lines = [step.line() for step in convcalc.explain(spec, (8, 16)) if step.row == 3]
    assert lines[:4] == [
        "attention: 4·16² + 4·16 = 1088  (in_proj 3·16×16, out_proj 16×16)",
        "feed-forward: 2·16·32 + 32 + 16 = 1072  (linear1 32×16, linear2 16×32)",
        "LayerNorm: 2·16 = 32  (weight and bias of 16)",
        "params: 2·1088 + 1072 + 3·32 = 3344  (self_attn and multihead_attn, linear1 and "
        "linear2, norm1 to norm3)",
    ]
    assert lines[4].startswith("MACs: 4·5·16² + 2·5²·16 + 2·5·16² + 2·3·16² + 2·5·3·16")
    spec = "split 3,5 dim=1 s t; from t; transformer 16 4 2 1 ff=32 src=s"
    steps = {s.dim: s.value for s in convcalc.explain(spec, (8, 16)) if s.row == 3}
    analysis = convcalc.analyze(spec, (8, 16))
    assert steps["params"] == analysis.params and steps["MACs"] == analysis.macs
    assert steps["params, decoder"] == 3344 + 32
    spec = "split 3,5 dim=1 m t; from t; transformerdecoder 16 4 2 ff=32 norm memory=m"
    steps = {s.dim: s.value for s in convcalc.explain(spec, (8, 16)) if s.row == 3}
    analysis = convcalc.analyze(spec, (8, 16))
    assert steps["params"] == analysis.params == 2 * 3344 + 32
    assert steps["MACs"] == analysis.macs


def test_torch_code_calls_them_with_their_memory_and_source() -> None:
    # (tests/vectors/codegen.py runs this code for every accepted case of the data.)
    spec = (
        "split 3,5 dim=1 s t; from t; decoderlayer 16 4 ff=32 memory=s causal; "
        "transformer 16 4 1 1 ff=32 src=s; transformerdecoder 16 2 2 norm memory=s"
    )
    code = convcalc.to_torch(convcalc.analyze(spec, (8, 16)))
    mask = "tgt_mask=nn.Transformer.generate_square_subsequent_mask(x2.size(1)), tgt_is_causal=True"
    assert f"x3 = self.transformerdecoderlayer_3(x2, x1, {mask})" in code
    assert "x4 = self.transformer_4(x1, x3)" in code  # forward(src, tgt)
    assert "x5 = self.transformerdecoder_5(x4, x1)" in code
    assert "norm=nn.LayerNorm(16, eps=1e-05, bias=True))" in code
