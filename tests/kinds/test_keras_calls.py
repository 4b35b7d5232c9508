"""Keras's own constructor calls under --framework keras (issue 17): Conv2D(64, 3,
strides=2, padding="same"), with or without layers./keras.layers./tf.keras.layers.,
in Keras's positional order and defaults. Keras's answers: tests/data/keras_calls.json
(tests/vectors/keras_calls.py, Keras 3.15 on JAX) and keras_cases.jsonl."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import ConvcalcError
from convcalc.kinds import bind
from convcalc.kinds.frameworks import get
from convcalc.language import LayerStmt, parse
from tests.kinds.oracle import KERAS
from tests.paths import DATA

DATA_ = json.loads((DATA / "keras_calls.json").read_text())
FW = get("keras")


def _figures(spec: str, shape: list[int]) -> tuple[Any, ...]:
    result = convcalc.analyze(spec, shape, framework="keras")
    (row,) = result.layers
    return row.output, row.params, row.macs, row.non_trainable


@pytest.mark.parametrize("case", DATA_["calls"], ids=lambda c: c["call"])
def test_a_call_gives_keras_figures_and_the_word_form_s(case: dict[str, Any]) -> None:
    call = _figures(case["call"], case["input"])
    assert list(call[0]) == case["output"]
    assert call[1] == case["params"]
    assert call[1] - call[3] == case["trainable"]
    assert call == _figures(case["words"], case["input"])


def test_every_keras_kind_is_in_the_table() -> None:
    # Every kind class in kinds/keras, and each kind word's fixed form (ELU, Softmax, …).
    called = {c["call"].split("(")[0].rsplit(".", 1)[-1].lower() for c in DATA_["calls"]}
    # The recurrent kinds' calls are in their own data (tests/kinds/test_keras_recurrent.py).
    called |= {
        n.lower()
        for n in json.loads((DATA / "keras_recurrent_signatures.json").read_text())["signatures"]
    }
    covered = {(FW.registry[w].cls, FW.registry[w].fixed.get("cls")) for w in called}
    everything = {(e.cls, e.fixed.get("cls")) for e in FW.registry.values()}
    assert everything == covered


@pytest.mark.parametrize("name", sorted(DATA_["signatures"]))
def test_each_signature_is_keras_own(name: str) -> None:
    want = DATA_["signatures"][name]
    entry = FW.registry[name.lower()]
    assert entry.framework == "Keras"
    assert entry.torch_name == name
    sig = entry.torch
    assert sig is not None
    assert list(sig.args) == want["args"]
    assert sig.required == want["required"]


def _as_call(stmt: LayerStmt, text: str) -> str | None:
    """The statement rewritten as Keras's call, from its bound arguments: the
    required ones by position, the rest by keyword (None: the word is no class)."""
    entry = FW.registry[stmt.kind]
    cname = entry.torch_name or (entry.torch_class if entry.fixed.get("dim", 0) else "")
    if not cname or entry.torch is None or "activation" in entry.fixed:
        return None
    layer = bind(stmt, text, FW.registry)
    sig = entry.torch
    values = {p.name: getattr(layer, p.name) for p in entry.params}
    defaults = {p.name: p.default for p in entry.params}
    args = [repr(values[a]) for a in sig.args[: sig.required]]
    args += [
        f"{n}={values[n]!r}"
        for n in values
        if n not in sig.args[: sig.required] and values[n] != defaults[n]
    ]
    return f"{cname}({', '.join(args)})"


CHAINS = [c for c in KERAS.cases if not c.get("graph") and not c["error"]]


@pytest.mark.parametrize("case", CHAINS[::7], ids=lambda c: c["spec"])
def test_each_case_written_as_calls_gives_the_same_figures(case: dict[str, Any]) -> None:
    spec = case["spec"]
    stmts = parse(spec, FW.kinds, FW.word_kinds).statements
    parts = []
    for stmt in stmts:
        assert isinstance(stmt, LayerStmt)
        try:
            call = _as_call(stmt, spec)
        except ConvcalcError:
            return  # not bound without an input (checked by test_vectors.py)
        parts.append(call or stmt.text)
    calls = "\n".join(parts)
    want = convcalc.analyze(spec, case["input"], framework="keras")
    got = convcalc.analyze(calls, case["input"], framework="keras")
    assert [(r.output, r.params, r.macs, r.non_trainable) for r in got.layers] == [
        (r.output, r.params, r.macs, r.non_trainable) for r in want.layers
    ], calls


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Conv2D(64, 3, foo=1)", "Conv2D() has no argument 'foo' (it takes filters, kernel_size"),
        ("Conv2D(64, 3, k=1)", "Keras's name is kernel_size"),
        (
            "Dense(10, 'relu', True, 'glorot_uniform', 'zeros', None, None, None, None, None, None, None, None, 4)",
            "Dense() takes 13 positional arguments (units, activation",
        ),
        ("Conv2D(64)", "Conv2D() needs kernel_size"),
        ("AveragePooling2D()", "AveragePooling2D() needs pool_size"),
        ("Conv2D(64, (3,))", "kernel_size takes one integer or 2 values; Keras fails on (3,)"),
        ("Conv2d(64, 3)", "Conv2d is not a Keras class convcalc reads; Keras spells it Conv2D"),
        ("Conv2D(64, 3, data_format='channels_first')", "expected one of channels_last"),
        ("Conv2D(64, 3, trainable=False)", "write frozen after the call"),
        ("Dense(4, lora_rank=2)", "lora_rank adds LoRA weights"),
        ("Conv2D(64, 3, padding=1)", "not a number"),
    ],
)
def test_errors_name_keras_s_arguments(call: str, message: str) -> None:
    with pytest.raises(ConvcalcError) as exc:
        convcalc.analyze(call, [16, 16, 3], framework="keras")
    assert message in str(exc.value)


def test_quoted_padding_reads_as_the_word() -> None:
    for spec in (
        "Conv2D 8 3 padding='same'",
        'Conv2D 8 3 padding="same"',
        "Conv2D 8 3 padding=same",
    ):
        assert _figures(spec, [9, 9, 3])[0] == (9, 9, 8)
