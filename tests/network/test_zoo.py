"""The built-in models against PyTorch: every model's totals equal what torchvision's
own definition gives (and its published figures), and every weighted layer —
convolution, linear, norm, attention — equals the module PyTorch ran, in execution
order. The records come from tests/vectors/models.py (torch 2.13, torchvision 0.28)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.network.zoo import model_spec, models
from tests import paths

DATA = paths.DATA / "torch_models.jsonl"
RECORDS = {r["name"]: r for r in map(json.loads, DATA.read_text().splitlines())}
# The torch module types recorded layer by layer, and the convcalc kinds they are.
WEIGHTED = {
    "conv1d",
    "conv2d",
    "conv3d",
    "convtranspose1d",
    "convtranspose2d",
    "convtranspose3d",
    "linear",
    "batchnorm1d",
    "batchnorm2d",
    "batchnorm3d",
    "layernorm",
    "layernorm2d",
    "groupnorm",
    "multiheadattention",
}


def test_every_record_has_a_built_in_model() -> None:
    assert sorted(RECORDS) == sorted(m.name for m in models())


@pytest.fixture(scope="module", params=sorted(RECORDS))
def model(request: pytest.FixtureRequest) -> tuple[dict[str, Any], convcalc.Analysis]:
    record = RECORDS[request.param]
    return record, convcalc.analyze(model_spec(request.param))


def test_totals_equal_pytorch(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    assert list(analysis.input) == record["input"]
    assert list(analysis.output) == record["output"]
    assert analysis.params == record["params"]
    assert analysis.buffers == record["buffers"]
    assert analysis.macs == record["macs"]


def test_published_figures(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    published = record["published"]
    if published is None:  # unet and lenet5: no torchvision weights
        assert record["source"] != "torchvision"
        return
    assert analysis.params == published["num_params"]
    assert analysis.macs is not None
    assert round(analysis.macs / 1e9, 3) == pytest.approx(published["gflops"], abs=1e-9)


def _weighted(rows: Any) -> list[dict[str, Any]]:
    return [
        {"type": r.kind, "output": list(r.output), "params": r.params, "macs": r.macs}
        for r in rows
        if r.kind in WEIGHTED
    ]


def _torch(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": x["type"].lower(), "output": x["output"], "params": x["params"], "macs": x["macs"]}
        for x in layers
    ]


def test_layer_by_layer(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    main = [r for r in analysis.layers if not r.side]
    assert _weighted(main) == _torch(record["layers"])


def test_side_outputs(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    """Inception v3's auxiliary classifier: its parameters count, eval mode does not
    run it; every other model has none."""
    record, analysis = model
    side = [r for r in analysis.layers if r.side]
    if record["side"] is None:
        assert side == []
        return
    assert _weighted(side) == _torch(record["side_layers"])
    assert sum(r.params for r in side) == record["side"]["params"]
    assert [list(r.output) for r in analysis.side_outputs] == [record["side"]["output"]]
