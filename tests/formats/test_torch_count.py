"""``--from-torch`` on any print: its parameters and buffers from the leaves' constructor
text, whatever containers hold them. tests/data/torchvision_prints.jsonl.gz holds
``print(model)`` of every torchvision classification model with PyTorch's counts
(tests/vectors/torchvision_prints.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from convcalc.cli.command import cli
from convcalc.formats.torch_count import count_print, render_count
from tests.paths import DATA

with gzip.open(DATA / "torchvision_prints.jsonl.gz", "rt", encoding="utf-8") as _fh:
    TORCHVISION = [json.loads(line) for line in _fh]
BY_NAME = {row["name"]: row for row in TORCHVISION}


def test_every_torchvision_classifier_is_recorded() -> None:
    assert len(TORCHVISION) == 80
    assert all(row["params"] == row["num_params"] for row in TORCHVISION)


@pytest.mark.parametrize("row", TORCHVISION, ids=lambda row: row["name"])
def test_torchvision_prints_give_the_published_parameters(row: dict[str, Any]) -> None:
    count = count_print(row["print"], row["input"])
    assert count.complete, count.unknown
    assert (count.params, count.buffers) == (row["num_params"], row["buffers"])
    # the top-level modules add up to the totals, but for what the model holds itself
    # (ViT's class token)
    if row["name"][:4] != "vit_":
        assert sum(m.params for m in count.modules) == count.params


def test_vit_position_embedding_follows_the_input() -> None:
    row = BY_NAME["vit_b_16"]
    without = count_print(row["print"])
    assert without.params < row["params"]
    assert any("give -i" in note for note in without.notes)
    at_224 = count_print(row["print"], (3, 224, 224)).params
    at_240 = count_print(row["print"], (3, 240, 240)).params
    hidden = 768  # conv_proj's out_channels in the print
    assert at_224 == row["params"]
    assert at_240 - at_224 == ((240 // 16) ** 2 - (224 // 16) ** 2) * hidden


NET = (
    "Net(\n"
    "  (conv): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
    "  (act): MyCustomLayer()\n"
    "  (head): Head(\n"
    "    (fc): Linear(in_features=10, out_features=2, bias=True)\n"
    "    (bn): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
    "  )\n"
    ")\n"
)


def test_unknown_leaves_and_containers_are_named() -> None:
    count = count_print(NET)
    assert count.unknown == (("MyCustomLayer", "act"),)
    assert count.unplaced == (("Head", "head"), ("Net", ""))
    conv, act, head = count.modules
    assert (conv.params, act.params, head.params, head.buffers) == (156, 0, 26, 5)
    assert (count.params, count.buffers) == (182, 5)
    assert not count.complete
    warnings = count.warnings()
    assert "forward order of Head (head), Net (the model)" in warnings[0]
    assert "unknown module MyCustomLayer (act): the counts exclude it" in warnings[1]
    assert "(excluding unknown modules)" in render_count(count)


def test_the_cli_counts_what_it_cannot_run(tmp_path: Path) -> None:
    path = tmp_path / "net.txt"
    path.write_text(NET, encoding="utf-8")
    runner = CliRunner()
    table = runner.invoke(cli, ["--from-torch", str(path)])
    assert table.exit_code == 0, table.output
    assert "unknown module MyCustomLayer (act)" in table.stderr
    assert "forward order of Head (head)" in table.stderr
    assert "params" in table.stdout and "182" in table.stdout
    as_json = runner.invoke(cli, ["--from-torch", str(path), "-o", "json"])
    data = json.loads(as_json.stdout)
    assert (data["params"], data["buffers"], data["complete"]) == (182, 5, False)
    assert data["unknown"] == [{"class": "MyCustomLayer", "path": "act"}]
    assert [u["class"] for u in data["unplaced"]] == ["Head", "Net"]
    as_csv = runner.invoke(cli, ["--from-torch", str(path), "-o", "csv"])
    assert as_csv.exit_code == 2 and as_csv.stdout == ""
    assert "give -o table or -o json" in as_csv.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Net(\n  (conv): Conv2d(1, 6\n)\n", "net.txt:2:11: Conv2d( is not closed on its line"),
        ("Net(\n  (conv): Conv2d(1, 6)\n", "net.txt:1:1: Net( is never closed"),
        ("Net(\n  conv = 3\n)\n", "net.txt:2:3: Net's print holds a line that is not one"),
    ],
)
def test_a_malformed_print_names_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "net.txt"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--from-torch", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
