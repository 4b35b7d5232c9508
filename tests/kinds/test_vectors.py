"""convcalc against the frameworks themselves, one harness for all three: every case in
tests/data was produced by running PyTorch, Keras or ONNX (see tests/kinds/oracle.py
for which script wrote which file). No number here is typed by hand; a case the
framework rejected must be rejected too, at the same layer."""

from __future__ import annotations

from typing import Any

import pytest

import convcalc
from tests.kinds.oracle import ORACLES, Case, Oracle
from tests.paths import read_jsonl

WITH_RF = [o for o in ORACLES if o.rf_file]


def _ids(oracle: Oracle) -> str:
    return oracle.name


def test_every_framework_has_an_oracle() -> None:
    assert {o.name for o in ORACLES} == set(convcalc.FRAMEWORKS)


@pytest.mark.parametrize("oracle", ORACLES, ids=_ids)
def test_the_data_is_substantial(oracle: Oracle) -> None:
    # The oracle is only as good as its coverage: guard against a truncated file.
    want = oracle.coverage
    cases = oracle.cases
    chains = [c for c in cases if not c.get("graph")]
    singles = [c for c in chains if oracle.single(oracle, c)]
    rejected = [c for c in cases if c["error"] is not None]
    assert len(singles) >= want.singles
    assert len(chains) - len(singles) >= want.chains
    assert len(cases) - len(chains) >= want.graphs
    low, high = want.rejected
    assert low <= len(rejected) / len(cases) <= high
    assert len(oracle.rf_cases) >= want.rf


@pytest.mark.parametrize("oracle", [o for o in ORACLES if o.name != "torch"], ids=_ids)
def test_every_kind_and_alias_appears(oracle: Oracle) -> None:
    # (PyTorch's generator writes its kinds' main words, not every alias.)
    used = {stmt.kind for case in oracle.cases for stmt in oracle.statements(case["spec"])}
    if oracle.name == "keras":  # the recurrent kinds' own data (test_keras_recurrent.py)
        more = read_jsonl("keras_recurrent.jsonl")
        used |= {stmt.kind for case in more for stmt in oracle.statements(case["spec"])}
    missing = sorted(set(oracle.conventions.registry) - used)
    assert not missing, f"never generated: {missing}"


def _layer_at(oracle: Oracle, spec: str, offset: int | None) -> int | None:
    """1-based index of the layer whose text holds ``offset``."""
    for index, stmt in enumerate(oracle.statements(spec), start=1):
        if offset is not None and stmt.start <= offset <= stmt.end:
            return index
    return None


def _check(oracle: Oracle, case: Case) -> str | None:
    """None if convcalc agrees with the framework on the case, else what differs."""
    spec, shape, error = case["spec"], tuple(case["input"]), case["error"]
    who, row = oracle.who, oracle.row
    # Where the framework refused: every case says so but some of Keras's.
    located = error is not None and (oracle.located or row in error)
    try:
        result = oracle.analyze(spec, shape)
    except convcalc.ShapeError as exc:
        if error is None:
            return f"convcalc rejected what {who} accepts: {exc}"
        if located and exc.index != error[row]:
            return (
                f"rejected at {row} {exc.index}, {who} at {error[row]} ({error['message']}): {exc}"
            )
        return None
    except convcalc.SpecError as exc:
        # A spec that cannot even be bound (e.g. 3 output sizes for a 2-d pool) is
        # fine for a case the framework rejects, as long as the word is in the same layer.
        if error is None:
            return f"SpecError: {exc}"
        if located and _layer_at(oracle, spec, exc.start) != error[row]:
            return f"SpecError outside {row} {error[row]}: {exc}"
        return None
    except convcalc.ConvcalcError as exc:
        return f"{type(exc).__name__}: {exc}"
    problem = oracle.first(case, result)
    if problem:
        return problem
    if error is not None:
        by = f"{error['by']}: " if "by" in error else ""
        return f"accepted what {who} rejects ({by}{error['message']}): output {result.output}"
    wanted = oracle.rows(oracle, case, result)
    for got, want in zip(result.layers, wanted):
        mine = oracle.mine(got)
        if mine != want:
            return f"{row} {got.index} ({got.spec}): convcalc {mine} != {who} {want}"
    if oracle.same_rows and len(result.layers) != len(wanted):
        return f"different number of {row}s"
    return oracle.last(case, result)


@pytest.mark.parametrize("oracle", ORACLES, ids=_ids)
def test_every_case(oracle: Oracle) -> None:
    cases = oracle.cases
    failures = []
    for case in cases:
        problem = _check(oracle, case)
        if problem:
            failures.append(f"#{case['id']} {case['input']} {case['spec']!r}: {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(
        failures[:40]
    )


def _rf_problem(oracle: Oracle, case: Case) -> str | None:
    result = oracle.analyze(case["spec"], tuple(case["input"]))
    rf = result.rf
    if rf is None:
        return "no receptive field"
    for m, (u, v), size, stride, start, length in zip(
        case["probe"], case["span"], rf.size, rf.stride, rf.start, case["input"]
    ):
        first, last = m * stride + start, m * stride + start + size - 1
        if oracle.rf_clipped:
            # The gradient only sees the field inside the input: an end of the field
            # in the padding shows as the first (last) tap inside.
            start_ok = u == first if first >= 0 else u >= 0
            end_ok = v == last if last <= length - 1 else v <= length - 1
            agree = start_ok and end_ok and u <= v
        else:
            agree = (first, last) == (u, v)
        if not agree:
            return (
                f"output {m}: convcalc sees [{first}, {last}], {oracle.who}'s gradient [{u}, {v}]"
            )
    return None


def _rf_sample() -> list[Any]:
    # About 50 of each framework's receptive-field cases, one test each, to read.
    return [
        pytest.param(oracle, case, id=f"{oracle.name}-{case['id']}")
        for oracle in WITH_RF
        for case in oracle.rf_cases[:: max(1, len(oracle.rf_cases) // 50)]
    ]


@pytest.mark.parametrize(("oracle", "case"), _rf_sample())
def test_receptive_field_sample(oracle: Oracle, case: Case) -> None:
    # A readable sample; test_every_receptive_field checks them all.
    assert _rf_problem(oracle, case) is None


@pytest.mark.parametrize("oracle", WITH_RF, ids=_ids)
def test_every_receptive_field(oracle: Oracle) -> None:
    failures = [
        f"#{c['id']} {c['spec']!r}: {p}" for c in oracle.rf_cases if (p := _rf_problem(oracle, c))
    ]
    assert not failures, "\n".join(failures[:40])
