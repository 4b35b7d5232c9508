"""Graphs in every format and on the command line: block subtotal rows, inputs
and names beside the layers, side outputs and shared weights marked, --depth
folding (totals unchanged), and the built-in models (--model, --list-models,
--model-spec)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.markdown import to_markdown
from convcalc.formats.report import make_report
from convcalc.formats.rows import totals
from convcalc.formats.table import write_table
from convcalc.network.zoo import model_spec, models

GRAPH = (
    "block res C\n"
    "  as x\n"
    "  conv2d C k=3 p=1 bias=false; bn; relu\n"
    "  conv2d C k=3 p=1 bias=false; bn\n"
    "  add x; relu\n"
    "end\n"
    "res 16 x2\n"
    "conv2d 16 k=3 p=1 name=enc; as trunk\n"
    "gap; flatten; linear 10; as aux\n"
    "from trunk; relu; use enc\n"
    "gap; flatten; linear 10\n"
)


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def table(analysis: convcalc.Analysis, **options: Any) -> str:
    out = io.StringIO()
    write_table(make_report(analysis, **options), out, width=100, color=False)
    return out.getvalue()


@pytest.mark.parametrize("depth", [None, 0])
def test_golden_graph_tables(golden: Callable[[str, str], None], depth: int | None) -> None:
    analysis = convcalc.analyze(GRAPH, "16x16x16")
    name = "graph.txt" if depth is None else f"graph_depth{depth}.txt"
    golden(name, table(analysis, depth=depth))


def test_golden_graph_markdown(golden: Callable[[str, str], None]) -> None:
    golden("graph.md", to_markdown(make_report(convcalc.analyze(GRAPH, "16x16x16"))))


def test_the_table_shows_the_graph() -> None:
    text = table(convcalc.analyze(GRAPH, "16x16x16"))
    lines = text.splitlines()
    assert any(line.split()[:2] == ["res#1:", "res"] for line in lines)  # a subtotal row
    assert any("add x  ← #12, x" in line for line in lines)  # a merge names its inputs
    assert any("(weights of #15)" in line for line in lines)  # the reused layer
    assert any("→ aux (side)" in line for line in lines)  # the side output, by name
    assert any(line.startswith("side") and "not run in eval mode" in line for line in lines)
    assert "    conv2d 16 k=3 p=1 bias=false" in text  # a block's layers are indented


def test_a_chain_table_is_unchanged_by_the_graph_features() -> None:
    text = table(convcalc.analyze("conv2d 8 k=3; relu; gap; flatten; linear 2", "3x8x8"))
    assert "←" not in text and "→" not in text and "side" not in text


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "markdown", "table"])
@pytest.mark.parametrize("depth", [None, 0, 1])
def test_every_format_folds_and_keeps_the_totals(fmt: str, depth: int | None) -> None:
    args = ["-m", "resnet18", "-o", fmt] + ([] if depth is None else ["--depth", str(depth)])
    code, out, err = run(*args)
    assert code == 0, err
    total = convcalc.analyze(model_spec("resnet18"))
    if fmt == "json":
        data = json.loads(out)
        rows = data["layers"]
        assert sum(r["params"] for r in rows) == data["total"]["params"] == total.params
        assert sum(r["macs"] for r in rows if not r["side"]) == data["total"]["macs"]
        kinds = {r["kind"] for r in rows}
        assert ("block" in kinds) == (depth in (0, 1))  # ResNet-18's stages hold blocks
    elif fmt in ("csv", "tsv"):
        rows = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
        assert sum(int(r["params"]) for r in rows) == total.params
        assert sum(int(r["macs"]) for r in rows if not r["side"]) == total.macs
        blocks = [r for r in rows if r["kind"] == "block"]
        assert bool(blocks) == (depth in (0, 1))
        assert all(r["block"] for r in blocks)
    else:
        assert f"{total.params:,}" in out and f"{total.macs:,}" in out


def test_depth_zero_is_one_row_per_top_level_block() -> None:
    code, out, _ = run("-m", "resnet50", "--depth", "0", "-o", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    # ResNet-50's stem and four stages (of 3, 4, 6, 3 bottlenecks), then its head's 3 layers
    assert [r["kind"] for r in rows].count("block") == 1 + 4
    assert len(rows) == 1 + 4 + 3


def test_csv_carries_the_graph_columns() -> None:
    code, out, _ = run("-i", "16x16x16", "-o", "csv", GRAPH)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[5]["inputs"] == "5 0" and rows[5]["block"] == "res#1"
    aux = next(r for r in rows if r["name"] == "aux")
    assert aux["side"] == "true"
    assert any(r["shared"] == "15" for r in rows)


# -- built-in models ------------------------------------------------------------------------


def test_list_models_lists_every_model_with_its_summary() -> None:
    """By task and weights (tests/network/test_zoo.py checks the figures)."""
    code, out, _ = run("--list-models")
    assert code == 0
    rows = [line.split() for line in out.splitlines()[1:] if line.startswith("  ")]
    assert sorted(row[0] for row in rows) == [m.name for m in models()]
    assert {"resnet18", "resnet152", "unet"} <= {row[0] for row in rows}
    assert all(len(row) > 5 for row in rows)  # name, figures, input, summary


def test_model_spec_prints_what_model_analyses() -> None:
    code, out, _ = run("--model-spec", "unet")
    assert code == 0 and out == model_spec("unet")
    _, direct, _ = run("-m", "unet", "-o", "json")
    _, piped, _ = run("-o", "json", "-", stdin=out)
    assert json.loads(direct)["layers"] == json.loads(piped)["layers"]


def test_model_input_can_be_overridden_and_extended() -> None:
    code, out, _ = run("-m", "resnet18", "-i", "3x64x64", "-o", "json")
    assert code == 0 and json.loads(out)["input"] == [3, 64, 64]
    code, out, _ = run("-m", "resnet18", "linear", "10", "-o", "json")
    data = json.loads(out)
    assert data["output"] == [10]
    assert data["sources"][0]["from"] == "model resnet18"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "resnt50"], "-m/--model: no built-in model 'resnt50'; did you mean resnet50"),
        (["--model-spec", "nope"], "--model-spec: no built-in model 'nope'"),
        (["-m", "resnet18", "-f", "x.spec"], "give either -m/--model or -f/--file, not both"),
    ],
)
def test_model_errors(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert message in err


def test_model_completion() -> None:
    env = {
        **os.environ,
        "_CONVCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcalc --model res",
        "COMP_CWORD": "2",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc"], env=env, capture_output=True, text=True, check=False
    )
    names = [line.split(",", 1)[1] for line in proc.stdout.splitlines()]
    assert names == [m.name for m in models() if m.name.startswith("res")]
    assert {"resnet18", "resnet152", "resnext50_32x4d"} <= set(names)


def test_file_line_and_excerpt_for_a_shape_error_in_a_file(tmp_path: object) -> None:
    code, out, err = run("-i", "16x8x8", "-", stdin="as x\nconv2d 8 k=1\nadd x\n")
    assert code == 1 and out == ""
    assert err.splitlines()[0].startswith("convcalc: error: <stdin>:3: layer 2 (add x): cannot add")
    assert err.splitlines()[1:] == ["  add x", "  ^^^^^"]


def test_totals_split_trainable_and_frozen() -> None:
    frozen = convcalc.analyze("conv2d 8 k=3 frozen; bn; relu", "3x8x8")
    notes = {t.label: t.note for t in totals(make_report(frozen))}
    assert notes["params"] == (
        f"trainable {frozen.trainable} · frozen {frozen.layers[0].params}"  # no compact < 1,000
    )
    assert frozen.frozen == frozen.layers[0].params
    nothing = convcalc.analyze("relu", "3x8x8")
    assert {t.label: t.note for t in totals(make_report(nothing))}["params"] == ""
