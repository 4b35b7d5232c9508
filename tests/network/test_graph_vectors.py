"""Random graphs against PyTorch: residual adds with and without projections,
concatenations, gates, splits, crops, blocks, repeats and shared layers — with
deliberate mismatches — each run in torch 2.13 by tests/vectors/graphs.py. convcalc
must give torch's output, parameters (a shared layer counted once), buffers and
eval-mode MACs (side outputs not run), every operation's shape and figures in
execution order, and reject exactly the graphs torch rejects, at the same operation."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from tests import paths

DATA = paths.DATA / "torch_graphs.jsonl"
CASES = [json.loads(line) for line in DATA.read_text().splitlines()]


def test_the_data_covers_every_graph_statement() -> None:
    specs = "\n".join(c["spec"] for c in CASES)
    for word in (
        "as ",
        "from ",
        "add ",
        "mul ",
        "concat ",
        "split ",
        "chunk ",
        "crop ",
        "block ",
        "use ",
        "name=",
        " x2",
        "dim=",
    ):
        assert word in specs, word
    rejected = sum(c["error"] is not None for c in CASES)
    assert 0.2 < rejected / len(CASES) < 0.45
    assert any(op.get("side") for c in CASES for op in c["ops"])
    assert any(op.get("shared") for c in CASES for op in c["ops"])


def _ops(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "output": list(r.output),
            "macs": r.macs,
            "side": r.side,
            "shared": r.shared is not None,
        }
        for r in rows
    ]


def _torch_ops(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "output": op["output"],
            "macs": op["macs"],
            "side": bool(op.get("side")),
            "shared": bool(op.get("shared")),
        }
        for op in ops
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_graph_equals_pytorch(case: dict[str, Any]) -> None:
    error = case["error"]
    if error is not None:
        with pytest.raises(convcalc.ShapeError) as info:
            convcalc.analyze(case["spec"], case["input"])
        exc = info.value
        assert exc.index == error["op"], (str(exc), error)
        done = exc.results
        expected = case["ops"]
        assert [list(r.output) for r in done] == [op["output"] for op in expected]
        return
    analysis = convcalc.analyze(case["spec"], case["input"])
    assert list(analysis.output) == case["output"]
    assert analysis.params == case["params"]
    assert analysis.buffers == case["buffers"]
    assert analysis.macs == case["macs"]
    assert _ops(analysis.layers) == _torch_ops(case["ops"])
    # A layer's own parameters at its first use; a reuse counts none.
    for row, op in zip(analysis.layers, case["ops"]):
        assert row.params == (0 if op.get("shared") else op["params"])
