"""Property tests: whatever the text, only convcalc's own errors escape; every
spelling of a layer means the same; the arithmetic keeps its invariants."""

from __future__ import annotations

import contextlib
import re
import sys
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.kinds import KINDS, REGISTRY, bind
from convcalc.kinds.args import (
    BoolType,
    ChoiceType,
    FloatsType,
    FloatType,
    IntsType,
    IntType,
    OptIntsType,
    OptionalType,
    Param,
    UnionType,
)
from convcalc.kinds.torch.transformer_stack import CallType
from convcalc.language import LayerStmt, parse
from tests.paths import TESTS

WORDS = [*sorted(KINDS), "input", "k", "s", "p", "same", "valid", "dw", "true", "none", "x"]
TOKEN = st.one_of(
    st.sampled_from(WORDS),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(list("=;|(),#\n\t ×x-+.")),
    st.text(max_size=6),
)
SHAPES = st.one_of(
    st.none(),
    st.lists(st.integers(1, 40), min_size=1, max_size=5).map(tuple),
    st.text(max_size=12),
)


def _analyze(text: str, shape: Any) -> None:
    with contextlib.suppress(convcalc.SpecError, convcalc.ShapeError):
        convcalc.analyze(text, shape)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKEN, max_size=14).map(" ".join), SHAPES)
@example("conv2d 1 k=99999999999999999 s=1", (3, 8, 8))
@example("upsample scale=1e308", (3, 8, 8))
@example("upsample scale=1e300 upsample scale=1e300 upsample scale=1e300", (3, 8, 8))
@example("pad -9223372036854775807", (3, 8, 8))
@example("linear 9223372036854775807 linear 9223372036854775807", (3,))
@example("conv k=3\x00", "3x8")
@example("\u00a0conv2d\u2003k=3", (3, 8, 8))
def test_any_text_raises_only_convcalc_errors(text: str, shape: Any) -> None:
    _analyze(text, shape)


@settings(max_examples=300)
@given(st.text(max_size=40), SHAPES)
def test_any_unicode_raises_only_convcalc_errors(text: str, shape: Any) -> None:
    _analyze(text, shape)


# ---------------------------------------------------------------------------
# Spellings: draw a layer with random arguments, write it twice in independent
# random styles, and require both to bind to the same layer.


@st.composite
def _value(draw: st.DrawFn, param: Param, dim: int | None) -> tuple[Any, list[str]]:
    """A value for ``param`` and several spellings of it."""
    t = param.type
    if isinstance(t, CallType):  # a stack's layer (tests/kinds/test_transformer_stack.py)
        return None, ["None"]
    if isinstance(t, OptionalType):
        if draw(st.booleans()):
            return None, ["None", "none"]
        t = t.base
    if isinstance(t, UnionType):
        if draw(st.booleans()):
            word = draw(st.sampled_from(t.words))
            return word, [word, word.upper()]
        t = t.base
    if isinstance(t, BoolType):
        v = draw(st.booleans())
        words = ["true", "yes", "1", "on", "True"] if v else ["false", "no", "0", "off", "FALSE"]
        return v, words
    if isinstance(t, ChoiceType):
        word = draw(st.sampled_from(t.choices))
        return word, [word, word.upper()]
    if isinstance(t, IntType):
        v = draw(st.integers(1, 64))
        return v, [str(v), f"+{v}"]
    if isinstance(t, FloatType):
        v = draw(st.floats(0.0, 1.0))
        return v, [repr(v), f"{v:.17e}"]
    if isinstance(t, (IntsType, OptIntsType, FloatsType)):
        n = draw(st.sampled_from([1, dim or 2]))
        if isinstance(t, FloatsType):
            items = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 1.5]), min_size=n, max_size=n))
            texts = [repr(v) for v in items]
        else:
            items = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
            texts = [str(v) for v in items]
        styles = ["(" + ", ".join(texts) + ")", "(" + ",".join(texts) + ",)"]
        if n > 1:
            styles.append(",".join(texts))
            if not isinstance(t, FloatsType):
                styles += ["x".join(texts), "×".join(texts)]
        else:
            styles.append(texts[0])
        return tuple(items), styles
    raise AssertionError(f"no strategy for {t}")  # pragma: no cover


def _aliases(word: str) -> list[str]:
    """Every kind word meaning the same as ``word`` (conv2d/Conv2d, fc/linear/dense, …)."""
    entry = REGISTRY[word]
    same = [
        w
        for w, e in REGISTRY.items()
        if e.cls is entry.cls and e.fixed == entry.fixed and e.params is entry.params
    ]
    return sorted({spelling for w in same for spelling in (w, w.upper(), w.title())})


@st.composite
def _layer_spellings(draw: st.DrawFn) -> tuple[str, str]:
    word = draw(st.sampled_from(sorted(REGISTRY)))
    entry = REGISTRY[word]
    dim = entry.fixed.get("dim")
    parts_a, parts_b = [word], [draw(st.sampled_from(_aliases(word)))]
    keyed = []
    for param in entry.params:
        if not (param.required or draw(st.booleans())):
            continue
        _, spellings = draw(_value(param, dim))
        a, b = draw(st.sampled_from(spellings)), draw(st.sampled_from(spellings))
        if param.positional:
            parts_a.append(a)
            parts_b.append(b)
        else:
            keyed.append((param, a, b))
    for param, a, b in keyed:
        parts_a.append(f"{param.name}={a}")
        parts_b.append(f"{draw(st.sampled_from(param.keys))}={b}")
    order = draw(st.permutations(range(len(keyed))))
    fixed_b = parts_b[: len(parts_b) - len(keyed)]
    parts_b = fixed_b + [parts_b[len(fixed_b) + i] for i in order]
    return " ".join(parts_a), " ".join(parts_b)


def _bind_all(text: str) -> list[object]:
    return [
        bind(s, text, REGISTRY) for s in parse(text, KINDS).statements if isinstance(s, LayerStmt)
    ]


@settings(max_examples=400)
@given(
    st.lists(_layer_spellings(), min_size=1, max_size=4),
    st.lists(st.sampled_from([" ", " ; ", "\n", " | ", ";", " # c\n"]), min_size=4, max_size=4),
)
def test_every_spelling_binds_to_the_same_layers(
    layers: list[tuple[str, str]], seps: list[str]
) -> None:
    canonical = " ; ".join(a for a, _ in layers)
    written = "".join(b + seps[i] for i, (_, b) in enumerate(layers))
    try:
        want = _bind_all(canonical)
    except convcalc.SpecError:
        assume(False)  # e.g. a per-dim tuple drawn for a generic kind: not this test's point
        return
    assert _bind_all(written) == want


# ---------------------------------------------------------------------------
# Arithmetic invariants.

CONV = st.fixed_dictionaries(
    {
        "L": st.integers(1, 300),
        "k": st.integers(1, 9),
        "s": st.integers(1, 5),
        "p": st.integers(0, 5),
        "d": st.integers(1, 4),
    }
)


@given(CONV)
def test_transposed_conv_undoes_conv_shape(c: dict[str, int]) -> None:
    L, k, s, p, d = c["L"], c["k"], c["s"], c["p"], c["d"]
    try:
        out = convcalc.analyze(f"conv1d 1 k={k} s={s} p={p} d={d}", (1, L)).output[1]
    except convcalc.ShapeError:
        assume(False)
        return
    assert out is not None
    op = (L + 2 * p - d * (k - 1) - 1) % s
    assume(op < max(s, d))
    back = convcalc.analyze(f"convtranspose1d 1 k={k} s={s} p={p} d={d} op={op}", (1, out))
    assert back.output == (1, L)


@given(st.integers(1, 200), st.integers(1, 9), st.integers(1, 4))
def test_same_padding_keeps_the_size(L: int, k: int, d: int) -> None:
    a = convcalc.analyze(f"conv2d 4 k={k} d={d} p=same", (2, L, L + 1))
    assert a.output == (4, L, L + 1)


@given(CONV)
def test_ceil_mode_adds_at_most_one(c: dict[str, int]) -> None:
    L, k, s = c["L"], c["k"], c["s"]
    p = min(c["p"], k // 2)
    try:
        floor = convcalc.analyze(f"maxpool1d k={k} s={s} p={p}", (1, L)).output[1]
    except convcalc.ShapeError:
        assume(False)
        return
    ceil = convcalc.analyze(f"maxpool1d k={k} s={s} p={p} ceil", (1, L)).output[1]
    assert floor is not None
    assert ceil is not None
    assert floor <= ceil <= floor + 1


@settings(max_examples=200)
@given(
    st.lists(
        st.sampled_from(
            [
                "conv2d 8 k=3 p=1",
                "bn",
                "relu",
                "maxpool k=2",
                "conv2d 16 k=1",
                "groupnorm 4",
                "layernorm",
                "prelu",
                "dropout",
            ]
        ),
        min_size=1,
        max_size=8,
    )
)
def test_totals_are_the_sums_of_the_layers(chain: list[str]) -> None:
    try:
        a = convcalc.analyze(" ; ".join(chain), (8, 64, 64))
    except convcalc.ShapeError:
        assume(False)
        return
    assert a.params == sum(lay.params or 0 for lay in a.layers)
    assert a.macs == sum(lay.macs or 0 for lay in a.layers)
    assert a.buffers == sum(lay.buffers or 0 for lay in a.layers)
    for before, after in zip(a.layers, a.layers[1:]):
        assert after.input == before.output


def test_no_property_test_has_a_deadline() -> None:
    # Nothing in the suite passes or fails on a duration (conftest.py's profiles).
    assert settings.default.deadline is None
    given_tests = [
        test
        for module in list(sys.modules.values())
        if module is not None and module.__name__.startswith("tests.")
        for test in vars(module).values()
        if hasattr(test, "_hypothesis_internal_use_settings")
    ]
    assert given_tests  # this module's own, at least
    assert all(t._hypothesis_internal_use_settings.deadline is None for t in given_tests)
    # nor Hypothesis's check that drawing examples is not too slow
    assert all(
        HealthCheck.too_slow in t._hypothesis_internal_use_settings.suppress_health_check
        for t in given_tests
    )
    # and none asks for one in its source
    for path in TESTS.rglob("*.py"):
        assert not re.search(r"\bdeadline=(?!None\b)", path.read_text(encoding="utf-8")), path
