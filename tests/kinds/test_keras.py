"""convcalc --framework keras against Keras 3 itself: every case in tests/data/keras_*
was produced by building the layers with Keras 3.15 on JAX (tests/vectors/keras_vectors.py).
No number here is typed by hand; a case Keras rejected must be rejected too."""

from __future__ import annotations

import json
from typing import Any

import convcalc
from convcalc.kinds.frameworks import get
from convcalc.spec import LayerStmt, parse
from tests.paths import DATA

KERAS = get("keras")


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


CASES = _load("keras_cases.jsonl")
RF_CASES = _load("keras_rf.jsonl")
CHAINS = [c for c in CASES if not c.get("graph")]
GRAPHS = [c for c in CASES if c.get("graph")]


def _statements(spec: str) -> list[LayerStmt]:
    program = parse(spec, KERAS.kinds, KERAS.word_kinds)
    return [s for s in program.statements if isinstance(s, LayerStmt)]


def test_the_data_is_substantial() -> None:
    singles = [c for c in CHAINS if len(_statements(c["spec"])) == 1]
    rejected = [c for c in CASES if c["error"] is not None]
    assert len(singles) >= 4000
    assert len(CHAINS) - len(singles) >= 700
    assert len(GRAPHS) >= 100
    assert 0.15 <= len(rejected) / len(CASES) <= 0.45
    assert len(RF_CASES) >= 250


def test_every_kind_and_alias_appears() -> None:
    used = {stmt.kind for case in CASES for stmt in _statements(case["spec"])}
    missing = sorted(set(KERAS.registry) - used)
    assert not missing, f"never generated: {missing}"


def test_the_forward_pass_agrees_with_the_symbolic_shapes() -> None:
    # Keras's symbolic shapes are what its forward pass makes, but for glu, which
    # halves the last axis when it runs and declares it unchanged (convcalc gives
    # the forward pass's shape).
    differ = [c for c in CASES if isinstance(c.get("eager"), list)]
    assert differ and all("glu" in c["spec"].split() for c in differ)
    # XLA aborts on a few configurations; those are checked against the symbolic shapes.
    crashed = [c for c in CASES if c.get("eager") == "crash"]
    assert len(crashed) <= len(CASES) // 100


def _layer_at(spec: str, offset: int | None) -> int | None:
    for index, stmt in enumerate(_statements(spec), start=1):
        if offset is not None and stmt.start <= offset <= stmt.end:
            return index
    return None


def _check(case: dict[str, Any]) -> str | None:
    """None if convcalc agrees with Keras on the case, else what differs."""
    spec, shape, error = case["spec"], tuple(case["input"]), case["error"]
    try:
        result = convcalc.analyze(spec, shape, framework="keras")
    except convcalc.ShapeError as exc:
        if error is None:
            return f"convcalc rejected what Keras accepts: {exc}"
        if "layer" in error and exc.index != error["layer"]:
            return f"rejected at layer {exc.index}, Keras at {error['layer']}: {exc}"
        return None
    except convcalc.SpecError as exc:
        if error is None:
            return f"SpecError: {exc}"
        if "layer" in error and _layer_at(spec, exc.start) != error["layer"]:
            return f"SpecError outside layer {error['layer']}: {exc}"
        return None
    if error is not None:
        return f"accepted what Keras rejects ({error['message']}): output {result.output}"
    for got, want in zip(result.layers, case.get("layers", [])):
        mine = {"output": list(got.output), "params": got.params, "trainable": got.trainable}
        if isinstance(case.get("eager"), list) and got.index == len(result.layers):
            want = {**want, "output": case["eager"]}
        if mine != want:
            return f"layer {got.index} ({got.spec}): convcalc {mine} != Keras {want}"
    model = dict(case["model"])
    if isinstance(case.get("eager"), list):
        model["output"] = case["eager"]
    totals = {
        "params": result.params,
        "trainable": result.trainable,
        "non_trainable": result.frozen,
        "output": list(result.output),
    }
    if totals != model:
        return f"model: convcalc {totals} != Keras {model}"
    return None


def test_every_keras_case() -> None:
    failures = []
    for case in CASES:
        problem = _check(case)
        if problem:
            failures.append(f"#{case['id']} {case['input']} {case['spec']!r}: {problem}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases differ:\n" + "\n".join(
        failures[:40]
    )


def _rf_problem(case: dict[str, Any]) -> str | None:
    result = convcalc.analyze(case["spec"], tuple(case["input"]), framework="keras")
    rf = result.rf
    if rf is None:
        return "no receptive field"
    for m, (u, v), size, stride, start, length in zip(
        case["probe"], case["span"], rf.size, rf.stride, rf.start, case["input"]
    ):
        first, last = m * stride + start, m * stride + start + size - 1
        # The gradient only sees the field inside the input: an end of the field in
        # the padding shows as the first (last) tap inside.
        start_ok = u == first if first >= 0 else u >= 0
        end_ok = v == last if last <= length - 1 else v <= length - 1
        if not (start_ok and end_ok and u <= v):
            return f"output {m}: convcalc sees [{first}, {last}], jax.grad [{u}, {v}]"
    return None


def test_most_receptive_fields_lie_inside_the_input() -> None:
    # Where the field stays inside the input, the check above is an exact equality.
    inside = [
        c
        for c in RF_CASES
        if all(u > 0 and v < size - 1 for (u, v), size in zip(c["span"], c["input"]))
    ]
    assert len(inside) >= len(RF_CASES) // 2


def test_every_receptive_field() -> None:
    failures = [f"#{c['id']} {c['spec']!r}: {p}" for c in RF_CASES if (p := _rf_problem(c))]
    assert not failures, "\n".join(failures[:40])


def test_the_activation_names_are_keras_own() -> None:
    # The generator takes the names from keras.activations; every one Keras
    # accepted is convcalc's, and the one it refused (threshold) is not.
    from convcalc.kinds.keras.core import ACTIVATIONS

    accepted, refused = set(), set()
    for case in CHAINS:
        words = case["spec"].split()
        if len(words) == 2 and words[0] == "Activation":  # Activation relu, activation=relu
            name = words[1].removeprefix("activation=")
            (refused if case["error"] else accepted).add(name)
    assert accepted == set(ACTIVATIONS)
    assert "threshold" in refused - accepted  # (glu is refused on an odd axis too)
