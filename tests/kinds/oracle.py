"""The three frameworks as oracles: what each one answered (tests/data, written by
running the framework itself: tests/vectors/generate.py for PyTorch 2.13,
keras_vectors.py for Keras 3.15 on JAX, onnx_vectors.py for onnx's shape inference,
checker and onnxruntime), and how convcalc is asked the same question and its answer
compared. test_vectors.py runs every framework through one harness with these;
test_keras.py and test_onnx.py hold what only one framework's data show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import convcalc
from convcalc.kinds.frameworks import Framework, get
from convcalc.language import LayerStmt, parse
from convcalc.network.analysis import Analysis, LayerResult
from tests.paths import read_jsonl

Case = dict[str, Any]


@dataclass(frozen=True)
class Coverage:
    """How much of its data each framework must have: the oracle is only as good
    as its coverage, so a truncated file fails."""

    singles: int  # one-layer cases
    chains: int  # cases of two layers or more (graphs apart)
    rejected: tuple[float, float]  # the share of cases the framework refused
    graphs: int = 0
    rf: int = 0  # receptive-field cases


@dataclass(frozen=True)
class Oracle:
    name: str  # as --framework spells it
    who: str  # as a failure message names the framework
    cases_file: str
    rf_file: str | None
    row: str  # "layer" or "node": the case's key for where an error is, "<row>s" the results
    # One row of convcalc's answer as the framework's data give it.
    mine: Callable[[LayerResult], dict[str, Any]]
    # Is every rejection located (error[row])? Keras does not always say which layer.
    located: bool
    # Must convcalc give exactly as many rows? (Keras gives totals for every case instead.)
    same_rows: bool
    # Passed to convcalc.analyze (ONNX's specs say "framework onnx opset=N" themselves).
    framework: str | None
    # The one-layer cases (PyTorch's data say it by the rows it recorded).
    single: Callable[[Oracle, Case], bool]
    coverage: Coverage
    # Checked before anything else once convcalc has accepted (ONNX: the opset).
    first: Callable[[Case, Analysis], str | None] = lambda case, result: None
    # Checked last (Keras: the model's totals).
    last: Callable[[Case, Analysis], str | None] = lambda case, result: None
    # The expected rows beside convcalc's (Keras: the forward pass's shape where it differs).
    rows: Callable[[Oracle, Case, Analysis], list[dict[str, Any]]] = lambda self, case, result: (
        case.get(f"{self.row}s", [])
    )
    # Receptive fields: exact (autograd sees the padding) or clipped to the input
    # (jax.grad sees only the taps inside it).
    rf_clipped: bool = False

    @property
    def conventions(self) -> Framework:
        return get(self.name)

    @property
    def cases(self) -> list[Case]:
        return _read(self.cases_file)

    @property
    def rf_cases(self) -> list[Case]:
        return _read(self.rf_file) if self.rf_file else []

    def statements(self, spec: str) -> list[LayerStmt]:
        """The layers of ``spec`` as this framework reads it (a framework statement apart)."""
        fw = self.conventions
        program = parse(spec, fw.kinds, fw.word_kinds)
        return [s for s in program.statements if isinstance(s, LayerStmt) and s.kind != "framework"]

    def analyze(self, spec: str, shape: tuple[int, ...]) -> Analysis:
        if self.framework is None:
            return convcalc.analyze(spec, shape)
        return convcalc.analyze(spec, shape, framework=self.framework)


@cache
def _read(name: str) -> list[Case]:
    return read_jsonl(name)


def _keras_rows(oracle: Oracle, case: Case, result: Analysis) -> list[dict[str, Any]]:
    # Keras's symbolic shapes are what its forward pass makes but for glu, which halves
    # the last axis when it runs; the data keep both, and convcalc's last layer gives
    # the forward pass's.
    rows = list(case.get("layers", []))
    last = len(result.layers) - 1
    if isinstance(case.get("eager"), list) and 0 <= last < len(rows):
        rows[last] = {**rows[last], "output": case["eager"]}
    return rows


def _keras_totals(case: Case, result: Analysis) -> str | None:
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


def _onnx_opset(case: Case, result: Analysis) -> str | None:
    if result.opset != case["opset"]:
        return f"opset {result.opset}, the case is for {case['opset']}"
    return None


def _one_statement(oracle: Oracle, case: Case) -> bool:
    return len(oracle.statements(case["spec"])) == 1


TORCH = Oracle(
    name="torch",
    who="torch",
    cases_file="torch_cases.jsonl",
    rf_file="torch_rf.jsonl",
    row="layer",
    mine=lambda got: {
        "output": list(got.output),
        "params": got.params,
        "buffers": got.buffers,
        "macs": got.macs,
    },
    located=True,
    same_rows=True,
    framework=None,
    # torch's data record the layers it ran: one, or none and the error.
    single=lambda oracle, case: len(case["layers"]) + (case["error"] is not None) == 1,
    coverage=Coverage(singles=5000, chains=500, rejected=(0.15, 0.4), rf=300),
)

KERAS = Oracle(
    name="keras",
    who="Keras",
    cases_file="keras_cases.jsonl",
    rf_file="keras_rf.jsonl",
    row="layer",
    mine=lambda got: {"output": list(got.output), "params": got.params, "trainable": got.trainable},
    located=False,
    same_rows=False,
    framework="keras",
    single=_one_statement,
    coverage=Coverage(singles=4000, chains=700, graphs=100, rejected=(0.15, 0.45), rf=250),
    last=_keras_totals,
    rows=_keras_rows,
    rf_clipped=True,
)

ONNX = Oracle(
    name="onnx",
    who="ONNX",
    cases_file="onnx_cases.jsonl",
    rf_file=None,
    row="node",
    mine=lambda got: {"output": list(got.output), "params": got.params, "buffers": got.buffers},
    located=True,
    same_rows=True,
    framework=None,
    single=_one_statement,
    coverage=Coverage(singles=4000, chains=600, rejected=(0.15, 0.45)),
    first=_onnx_opset,
)

ORACLES = (TORCH, KERAS, ONNX)


def assert_as_torch(case: Case) -> None:
    """One case of a standalone PyTorch family (tests/vectors/families/decoder.py,
    stack.py, mvit.py: a spec, its input, and torch's output, parameters, buffers and
    MACs, or the error torch raised): convcalc gives the same figures, or refuses it."""
    import pytest

    from convcalc.errors import ConvcalcError

    if case["error"] is not None:
        with pytest.raises(ConvcalcError):
            convcalc.analyze(case["spec"], case["input"])
        return
    analysis = convcalc.analyze(case["spec"], case["input"])
    got = [list(analysis.output), analysis.params, analysis.buffers, analysis.macs]
    assert got == [case["output"], case["params"], case["buffers"], case["macs"]]
