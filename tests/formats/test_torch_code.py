"""``-o torch``: the code convcalc writes, checked against what PyTorch built and computed
when it ran that very code (tests/vectors/codegen.py, tests/data/torch_codegen.jsonl): the
shape of every module call, every module's parameters, the totals. The code for every
case must still be byte for byte the one PyTorch ran (its sha256), so the data follows
the generator. Then the code's own rules and errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.torch_code import CodeError, to_torch
from convcalc.kinds.merge import GraphOp
from tests.paths import DATA

CASES = [json.loads(line) for line in (DATA / "torch_codegen.jsonl").open(encoding="utf-8")]


def _problem(case: dict[str, Any]) -> str | None:
    analysis = convcalc.analyze(case["spec"], tuple(case["input"]))
    code = to_torch(analysis)
    if hashlib.sha256(code.encode()).hexdigest() != case["sha256"]:
        return "the code differs from the code PyTorch ran (re-run tests/vectors/codegen.py)"
    rows = [r for r in analysis.layers if not isinstance(r.layer, GraphOp)]
    calls = [[r.shared or r.index, list(r.output)] for r in rows if not r.side]
    if calls != case["calls"]:
        return f"module calls: convcalc {calls} != torch {case['calls']}"
    modules = [[r.index, r.params] for r in rows if r.shared is None]
    if sorted(modules) != sorted(case["modules"]):
        return f"module parameters: convcalc {modules} != torch {case['modules']}"
    mine = (list(analysis.output), analysis.params, analysis.trainable, analysis.buffers)
    torch = (case["output"], case["params"], case["trainable"], case["buffers"])
    return None if mine == torch else f"totals: convcalc {mine} != torch {torch}"


def test_the_round_trip_is_substantial() -> None:
    assert len(CASES) >= 4000
    # graphs: a module's output read by a later one than the next
    graphs = [c for c in CASES if any(ch[0] != i + 1 for i, ch in enumerate(c["calls"]))]
    assert len(graphs) >= 500
    assert sum(1 for c in CASES if c["modules"] and len(c["calls"]) > len(c["modules"])) >= 10


def test_the_code_builds_what_convcalc_analysed() -> None:
    failures = [f"{c['id']} {c['spec']!r}: {p}" for c in CASES if (p := _problem(c))]
    assert not failures, f"{len(failures)} of {len(CASES)} differ:\n" + "\n".join(failures[:10])


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        (
            "conv2d 8 k=3",
            "32x32",
            "-o torch writes every size, and layer 1 (conv2d 8 k=3) has an unknown one "
            "(?x32x32): give the input's channel count (e.g. -i 3x32x32)",
        ),
        (
            "maxpool2d 2 maxunpool2d 2",
            "3x8x8",
            "-o torch cannot write layer 2 (maxunpool2d 2): PyTorch's MaxUnpool needs the "
            "indices of a MaxPool(return_indices=True), which convcalc does not follow",
        ),
    ],
)
def test_what_it_cannot_write(spec: str, shape: str, message: str) -> None:
    with pytest.raises(CodeError) as info:
        to_torch(convcalc.analyze(spec, shape))
    assert str(info.value) == message


def test_every_argument_is_explicit() -> None:
    code = to_torch(convcalc.analyze("conv2d 64 k=3 bn linear 10", "3x8x8"))
    assert (
        "nn.Conv2d(in_channels=3, out_channels=64, kernel_size=(3, 3), stride=(1, 1), "
        "padding=(0, 0), dilation=(1, 1), groups=1, bias=True, padding_mode='zeros')"
    ) in code
    assert "nn.BatchNorm2d(num_features=64, eps=1e-05, momentum=0.1, affine=True" in code
    assert "nn.Linear(in_features=6, out_features=10, bias=True)" in code
    assert "# 3: linear 10 -> 64x6x10" in code


def test_a_graph_is_a_module_class() -> None:
    spec = "as x; conv2d 8 k=3 p=1 name=c; use c; add x; as y; conv2d 4 k=1 as side; from y; relu"
    analysis = convcalc.analyze(spec, "8x8x8")
    code = to_torch(analysis)
    assert "class Net(nn.Module):" in code
    assert "x2 = self.conv2d_1(x1)  # 2: use c -> 8x8x8" in code  # the same module again
    assert "x3 = x2 + x0  # 3: add x -> 8x8x8 (as y)" in code
    assert "self.conv2d_2" not in code
    assert "if self.training:  # side outputs: eval mode does not run them" in code
    assert "return x5, x4" in code  # the result, then the side output


def test_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["-i", "3x8x8", "conv2d", "8", "k=3", "-o", "pytorch"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# PyTorch code convcalc wrote")
    refused = runner.invoke(cli, ["-i", "8x8", "conv2d", "8", "k=3", "-o", "torch"])
    assert refused.exit_code == 2
    assert "give the input's channel count" in refused.stderr
    assert refused.stdout == ""
