"""convcalc against PyTorch itself: every case in tests/data was produced by
running the layer in torch 2.13 (tests/vectors/generate.py). No number here is
typed by hand; a case torch rejected must be rejected too."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.kinds import KINDS
from convcalc.spec import LayerStmt, parse
from tests.paths import DATA


def _load(name: str) -> list[dict[str, Any]]:
    path = DATA / name
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


CASES = _load("torch_cases.jsonl")
RF_CASES = _load("torch_rf.jsonl")


def test_the_data_is_substantial() -> None:
    # The oracle is only as good as its coverage: guard against a truncated file.
    singles = [c for c in CASES if len(c["layers"]) + (c["error"] is not None) == 1]
    rejected = [c for c in CASES if c["error"] is not None]
    assert len(singles) >= 5000
    assert 0.15 <= len(rejected) / len(CASES) <= 0.4
    assert len(CASES) - len(singles) >= 500
    assert len(RF_CASES) >= 300


def _layer_at(spec: str, offset: int | None) -> int | None:
    """1-based index of the layer whose text holds ``offset``."""
    layers = [s for s in parse(spec, KINDS).statements if isinstance(s, LayerStmt)]
    for index, stmt in enumerate(layers, start=1):
        if offset is not None and stmt.start <= offset <= stmt.end:
            return index
    return None


def _check(case: dict[str, Any]) -> str | None:
    """None if convcalc agrees with torch on the case, else what differs."""
    spec, shape = case["spec"], tuple(case["input"])
    error = case["error"]
    try:
        result = convcalc.analyze(spec, shape)
    except convcalc.ShapeError as exc:
        if error is None:
            return f"convcalc rejected what torch accepts: {exc}"
        if exc.index != error["layer"]:
            return f"rejected at layer {exc.index}, torch at {error['layer']}: {exc}"
        return None
    except convcalc.SpecError as exc:
        # A spec that cannot even be bound (e.g. 3 output sizes for a 2-d pool) is
        # fine for a case torch rejects, as long as the word is in the same layer.
        if error is None:
            return f"SpecError: {exc}"
        if _layer_at(spec, exc.start) != error["layer"]:
            return f"SpecError outside layer {error['layer']}: {exc}"
        return None
    except convcalc.ConvcalcError as exc:
        return f"{type(exc).__name__}: {exc}"
    if error is not None:
        return f"accepted what torch rejects ({error['message']}): output {result.output}"
    for got, want in zip(result.layers, case["layers"]):
        mine = {
            "output": list(got.output),
            "params": got.params,
            "buffers": got.buffers,
            "macs": got.macs,
        }
        if mine != want:
            return f"layer {got.index} ({got.spec}): convcalc {mine} != torch {want}"
    if len(result.layers) != len(case["layers"]):
        return "different number of layers"
    return None


def test_every_torch_case() -> None:
    failures = []
    for case in CASES:
        problem = _check(case)
        if problem:
            failures.append(f"#{case['id']} {case['input']} {case['spec']!r}: {problem}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases differ:\n" + "\n".join(
        failures[:40]
    )


@pytest.mark.parametrize(
    "case", RF_CASES[:: max(1, len(RF_CASES) // 50)], ids=lambda c: str(c["id"])
)
def test_receptive_field_sample(case: dict[str, Any]) -> None:
    # A readable sample; test_every_receptive_field checks them all.
    assert _rf_problem(case) is None


def _rf_problem(case: dict[str, Any]) -> str | None:
    result = convcalc.analyze(case["spec"], tuple(case["input"]))
    rf = result.rf
    if rf is None:
        return "no receptive field"
    for m, (u, v), size, stride, start in zip(
        case["probe"], case["span"], rf.size, rf.stride, rf.start
    ):
        first = m * stride + start
        if (first, first + size - 1) != (u, v):
            return f"output {m}: convcalc sees [{first}, {first + size - 1}], autograd [{u}, {v}]"
    return None


def test_every_receptive_field() -> None:
    failures = [f"#{c['id']} {c['spec']!r}: {p}" for c in RF_CASES if (p := _rf_problem(c))]
    assert not failures, "\n".join(failures[:40])
