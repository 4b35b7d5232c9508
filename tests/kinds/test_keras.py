"""What only Keras's data show (tests/data/keras_*, from tests/vectors/keras_vectors.py:
Keras 3.15 on JAX); test_vectors.py checks every case and receptive field."""

from __future__ import annotations

from tests.kinds.oracle import KERAS

CASES = KERAS.cases
RF_CASES = KERAS.rf_cases
CHAINS = [c for c in CASES if not c.get("graph")]


def test_the_forward_pass_agrees_with_the_symbolic_shapes() -> None:
    # Keras's symbolic shapes are what its forward pass makes, but for glu, which
    # halves the last axis when it runs and declares it unchanged (convcalc gives
    # the forward pass's shape).
    differ = [c for c in CASES if isinstance(c.get("eager"), list)]
    assert differ and all("glu" in c["spec"].split() for c in differ)
    # XLA aborts on a few configurations; those are checked against the symbolic shapes.
    crashed = [c for c in CASES if c.get("eager") == "crash"]
    assert len(crashed) <= len(CASES) // 100


def test_most_receptive_fields_lie_inside_the_input() -> None:
    # Where the field stays inside the input, the harness's clipped comparison is an
    # exact equality.
    inside = [
        c
        for c in RF_CASES
        if all(u > 0 and v < size - 1 for (u, v), size in zip(c["span"], c["input"]))
    ]
    assert len(inside) >= len(RF_CASES) // 2


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
