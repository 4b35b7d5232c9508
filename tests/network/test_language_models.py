"""The built-in language models (issue 16) against plain PyTorch implementations of their
published configurations (tests/vectors/language_models.py → tests/data/
torch_language_models.jsonl): parameters equal the published counts, MACs equal
FlopCounterMode / 2 at every recorded sequence length (GPT-2: the issue's 16,114,089,984 at
128 tokens and 145,824,153,600 at 1,024), and every recorded layer — embedding, position and
token-type tables, norms, attention, gated MLP, encoder layer, linear (a tied head: no
parameters of its own) — equals the module PyTorch ran, in execution order."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.network.zoo import model_spec, models
from tests import paths

DATA = paths.DATA / "torch_language_models.jsonl"
RECORDS = {r["name"]: r for r in map(json.loads, DATA.read_text().splitlines())}
KINDS = {
    "embedding",
    "positions",
    "tokentypes",
    "layernorm",
    "rmsnorm",
    "multiheadattention",
    "swiglu",
    "linear",
    "transformerencoderlayer",
}


def _file_name(name: str) -> str:
    return name.replace("-", "_")


def test_every_record_is_a_built_in_language_model() -> None:
    language = sorted(m.name for m in models() if m.weights.startswith("hf:"))
    assert language == sorted(_file_name(n) for n in RECORDS)
    assert {m.task for m in models() if m.weights.startswith("hf:")} == {"Language models"}


@pytest.fixture(scope="module", params=sorted(RECORDS))
def model(request: pytest.FixtureRequest) -> tuple[dict[str, Any], convcalc.Analysis]:
    record = RECORDS[request.param]
    return record, convcalc.analyze(model_spec(request.param))


def test_totals_equal_pytorch(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    assert list(analysis.input) == record["input"]
    assert list(analysis.output) == record["output"]
    assert analysis.params == record["params"] == record["published"]
    assert analysis.buffers == record["buffers"]
    assert analysis.macs == record["macs"][str(record["input"][0])]


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_macs_at_every_recorded_length(name: str) -> None:
    record = RECORDS[name]
    for length, macs in record["macs"].items():
        assert convcalc.analyze(model_spec(name), length).macs == macs, length


def test_gpt2_anchors() -> None:
    """The issue's figures, as the generator reproduced them."""
    assert RECORDS["gpt2"]["macs"] == {"128": 16_114_089_984, "1024": 145_824_153_600}


def test_layer_by_layer(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    ours = [
        {"type": r.kind, "output": list(r.output), "params": r.params, "macs": r.macs}
        for r in analysis.layers
        if r.kind in KINDS
    ]
    assert ours == record["layers"]


def test_key_value_cache(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    """2 · layers · L · kv_heads · head_dim elements for a decoder; none for BERT."""
    record, analysis = model
    config = record["config"]
    length = record["input"][0]
    figures = analysis.memory(2, "bfloat16")
    if config["family"] == "bert":
        assert figures.kv_cache == 0
        return
    kv_heads = config.get("kv_heads", config["heads"])
    head_dim = config["d"] // config["heads"]
    assert figures.kv_cache == 2 * config["layers"] * length * kv_heads * head_dim * 2 * 2


def test_a_longer_input_than_the_position_table_is_rejected() -> None:
    with pytest.raises(convcalc.ShapeError, match="the position table has 1024 positions"):
        convcalc.analyze(model_spec("gpt2"), "1025")


def test_list_models_shows_them_in_their_own_group() -> None:
    from convcalc.cli.catalog import model_list

    lines = model_list().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Language models"))
    assert lines[start] == (
        "Language models: Hugging Face's configurations, their published parameter counts "
        "(GFLOPS at the input's length):"
    )
    group = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        group.append(line.split()[:4])
    assert sorted(row[0] for row in group) == sorted(_file_name(n) for n in RECORDS)
    for name, params, gflops, size in group:
        record = next(r for n, r in RECORDS.items() if _file_name(n) == name)
        macs = record["macs"][str(record["input"][0])]
        assert params == f"{record['published']:,}" and size == str(record["input"][0])
        assert gflops == f"{(macs + 500_000) // 1_000_000 / 1000:.3f}"
