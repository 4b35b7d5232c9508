"""``convcalc solve`` under --framework keras and onnx, against the frameworks
themselves: every case below is a layer or chain Keras 3 or ONNX built and sized
(tests/data/keras_cases.jsonl, onnx_cases.jsonl, from tests/vectors/). One written
key of each windowed layer is replaced by '?' and solved for the framework's own
output: the value the case was built with must be among the answers, and every
answer must reach that output. No expected value is typed here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from convcalc import analyze
from convcalc.ask.solve import Limits, Solution, solve_chain
from convcalc.ask.solve.kinds import Kind, kind_of
from convcalc.kinds import Layer
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.shapes import expand
from convcalc.language import LayerStmt
from convcalc.network.analysis import _framework
from convcalc.network.graph import build
from tests.paths import DATA


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class _Mark:
    """A key written in a case's spec, to be replaced by '?'."""

    def __init__(self, key: str, start: int, end: int, value: Any) -> None:
        self.key, self.start, self.end, self.value = key, start, end, value


def _expected(kind: Kind, key: str, value: Any, n: int) -> Any:
    """The value as a Solution reports it (per-dimension numbers collapsed), or None
    when the solver does not offer such a value (ONNX's uneven begin/end pads)."""
    if kind.pads_pairs and value in ("same_lower", "valid"):
        # ONNX: the solver offers SAME_UPPER (SAME_LOWER's sizes are the same) and
        # pads 0 (VALID's are).
        return "same_upper" if value == "same_lower" else 0
    if value is None or isinstance(value, str):
        return value
    if key == "padding" and kind.pads_pairs:
        if len(set(value)) != 1:
            return None
        return value[0]
    values = expand(key, value, n)
    return values[0] if len(set(values)) == 1 else tuple(values)


def _dilation(d: tuple[int, ...], k: tuple[int, ...]) -> Any:
    """The dilation as the solver writes it: along a 1-wide kernel it changes nothing,
    so there it takes the other dimensions' value (or 1 if they differ)."""
    rest = {di for di, ki in zip(d, k) if ki != 1}
    if len(rest) == 1:
        return rest.pop()
    values = tuple(di if ki != 1 else 1 for di, ki in zip(d, k))
    return values[0] if len(set(values)) == 1 else values


def _marks(
    spec: str, fw: Framework, shape: list[int]
) -> Iterator[tuple[Layer, Kind, list[_Mark], int]]:
    """The windowed statements of ``spec`` with their keyed, searched arguments and
    the number of spatial dimensions of their input."""
    program, _ = _framework(spec, fw.name, fw.opset)
    graph = build(program, fw)
    rows = analyze(spec, shape, framework=fw.name, opset=fw.opset).layers
    ops = {node.start: node.op for node in graph.nodes}
    ranks = {node.start: len(row.input) - 1 for node, row in zip(graph.nodes, rows)}
    for stmt in program.statements:
        if not isinstance(stmt, LayerStmt) or stmt.kind not in fw.registry:
            continue
        entry = fw.registry[stmt.kind]
        kind = kind_of(entry, fw)
        op = ops.get(stmt.start)
        if kind is None or op is None:
            continue
        canonical = {attr: key for key, attr in kind.attrs.items()}
        marks = []
        for arg in stmt.args:
            param = entry.by_key.get(arg.key) if arg.key else None
            if param is None or param.name not in canonical:
                continue
            key = canonical[param.name]
            marks.append(_Mark(key, arg.value.start, arg.value.end, getattr(op, param.name)))
        yield op, kind, marks, ranks[stmt.start]


def _limits(found: list[tuple[Kind, _Mark, Any]]) -> Limits:
    """Bounds wide enough for the values the cases were built with."""
    top = {"kernel_size": 11, "stride": 4, "dilation": 4, "padding": 0}
    for _, mark, value in found:
        numbers = [
            v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, int)
        ]
        if mark.key in top and numbers:
            top[mark.key] = max(top[mark.key], *numbers)
    big = top["padding"] > 0 and top["padding"]
    return Limits(
        top["kernel_size"],
        top["stride"],
        top["dilation"],
        big or None,
        results=300,
    )


def _solve_case(case: dict[str, Any], fw_name: str, chain: bool = False) -> bool:
    """Mark a key of the case's windowed layers (of two at most in a chain) and
    solve; False when it has none the solver would offer."""
    spec = case["spec"]
    _, fw = _framework(spec, fw_name if fw_name == "keras" else None, None)
    chosen: list[tuple[Kind, _Mark, Any]] = []
    for stmt_number, (op, kind, marks, n) in enumerate(_marks(spec, fw, case["input"])):
        kernel = getattr(op, kind.attrs["kernel_size"])
        usable = [
            m
            for m in marks
            if _expected(kind, m.key, m.value, n) is not None
            # The solver offers only d=1 for a 1-wide kernel (the dilation changes
            # nothing there), as its docstring says.
            and not (m.key == "dilation" and kernel is not None and set(kernel) == {1})
        ]
        if not usable:
            continue
        mark = usable[(case["id"] + stmt_number) % len(usable)]
        if mark.key == "output_padding" and mark.value is None:
            continue
        expected = _expected(kind, mark.key, mark.value, n)
        if mark.key == "dilation" and "output_padding" not in kind.attrs:
            expected = _dilation(expand("d", mark.value, n), expand("k", kernel, n))
        if chain and isinstance(expected, tuple):
            continue  # in a chain, '?' takes one value for every dimension
        chosen.append((kind, mark, expected))
        if chain and len(chosen) == 2:
            break
    if not chosen or len({(m.start, m.end) for _, m, _ in chosen}) != len(chosen):
        return False
    output = case.get("model", {}).get("output") or case["nodes"][-1]["output"]
    if 0 in output:  # Keras builds empty tensors; a target size is at least 1
        return False
    if len(chosen) == 1 and not chain and not _offered(chosen[0][2], case["input"], output, fw):
        return False
    text = spec
    for _, mark, _ in sorted(chosen, key=lambda c: -c[1].start):
        text = text[: mark.start] + "?" + text[mark.end :]
    conventions = {"framework": "keras"} if fw_name == "keras" else {}
    limits = _limits(chosen)
    answers = solve_chain(
        text, "x".join(map(str, case["input"])), output, limits=limits, **conventions
    )
    if len(answers) == limits.results and not any(_agrees(a, chosen) for a in answers):
        # The built value may be one a designer ranks low (a window that skips pixels,
        # beyond the first 300 answers): every answer, then.
        limits = limits._replace(results=100_000)
        answers = solve_chain(
            text, "x".join(map(str, case["input"])), output, limits=limits, **conventions
        )
    assert all(list(a.output) == output for a in answers)
    assert any(_agrees(a, chosen) for a in answers), (spec, text, answers[:5])
    return True


def _offered(value: Any, shape: list[int], output: list[int], fw: Framework) -> bool:
    """Whether the solver offers ``value``: dimensions with the same input and output
    size share one answer (k=3, not also k=3,5), so a tuple that differs between
    two such dimensions is not among the answers — the same key's even value is."""
    if not isinstance(value, tuple) or len(shape) != len(output):
        return True
    space = (shape[:-1], output[:-1]) if fw.channels_last else (shape[1:], output[1:])
    pairs = list(zip(*space))
    return all(
        value[i] == value[j] for i in range(len(pairs)) for j in range(i) if pairs[i] == pairs[j]
    )


def _agrees(answer: Solution, chosen: list[tuple[Kind, _Mark, Any]]) -> bool:
    """Whether the answer holds the values the case was built with (one mark per
    layer: a chain's keys, prefixed by their row, come in the layers' order)."""
    wanted = [expected for _, _, expected in sorted(chosen, key=lambda c: c[1].start)]
    channels = ("out_channels", "filters")  # set from the target, not searched
    got = [v for k, v in answer.values.items() if k.rsplit(".", 1)[-1] not in channels]
    return got == wanted


def _accepted(cases: list[dict[str, Any]], chains: bool) -> list[dict[str, Any]]:
    out = []
    for case in cases:
        if case["error"] is not None or case.get("graph") or None in case["input"]:
            continue
        if (len(case.get("layers") or case.get("nodes") or []) > 1) == chains:
            out.append(case)
    return out


KERAS = _load("keras_cases.jsonl")
ONNX = _load("onnx_cases.jsonl")


@pytest.mark.parametrize(
    ("cases", "framework", "least"),
    [(KERAS, "keras", 800), (ONNX, "onnx", 1000)],
    ids=["keras", "onnx"],
)
def test_each_layer_solves_back_to_the_value_it_was_built_with(
    cases: list[dict[str, Any]], framework: str, least: int
) -> None:
    # Every other case (by id): the suite's time is shared; the rest add little.
    singles = [c for c in _accepted(cases, chains=False) if c["id"] % 2 == 0]
    solved = sum(_solve_case(case, framework) for case in singles)
    assert solved >= least


@pytest.mark.parametrize(
    ("cases", "framework", "least"),
    [(KERAS, "keras", 250), (ONNX, "onnx", 300)],
    ids=["keras", "onnx"],
)
def test_chains_solve_back_to_the_values_they_were_built_with(
    cases: list[dict[str, Any]], framework: str, least: int
) -> None:
    solved = sum(_solve_case(case, framework, chain=True) for case in _accepted(cases, chains=True))
    assert solved >= least


def _resampling(case: dict[str, Any], fw_name: str) -> tuple[str, str] | None:
    """The spec with its size or scale argument replaced by '?', and the argument's
    name, for a lone Keras UpSampling or ONNX Resize (stretching, every spatial
    axis) that the framework ran; None for other cases."""
    spec = case["spec"]
    _, fw = _framework(spec, fw_name if fw_name == "keras" else None, None)
    program, _ = _framework(spec, fw.name, fw.opset)
    stmts = [s for s in program.statements if isinstance(s, LayerStmt)]
    if len(stmts) != 1 or case["error"] is not None or len(case["input"]) < 2:
        return None
    stmt = stmts[0]
    entry = fw.registry.get(stmt.kind)
    if entry is None or entry.cls.__name__ not in ("UpSampling", "Resize"):
        return None
    keys = {"size"} if fw.name == "keras" else {"sizes", "scales"}
    for arg in stmt.args:
        if arg.key in ("axes", "keep_aspect_ratio_policy"):
            return None
    for i, arg in enumerate(stmt.args):
        param = entry.by_key.get(arg.key) if arg.key else entry.positional[0] if i == 0 else None
        if param is not None and param.name in keys:
            return spec[: arg.value.start] + "?" + spec[arg.value.end :], param.name
    return None


@pytest.mark.parametrize(("cases", "framework"), [(KERAS, "keras"), (ONNX, "onnx")])
def test_resampling_solves_to_the_framework_output(
    cases: list[dict[str, Any]], framework: str
) -> None:
    solved = 0
    for case in cases:
        found = _resampling(case, framework)
        if found is None:
            continue
        text, name = found
        output = case.get("model", {}).get("output") or case["nodes"][-1]["output"]
        at = -1 if framework == "keras" else 0
        if output[at] != case["input"][at]:
            continue  # a Resize of the channels too: the solver sizes the spatial axes
        conventions = {"framework": "keras"} if framework == "keras" else {}
        answers = solve_chain(text, "x".join(map(str, case["input"])), output, **conventions)
        assert answers, text
        for answer in answers:
            assert list(answer.output) == output, (case["spec"], answer)
            assert name in answer.values
        solved += 1
    assert solved >= 40
