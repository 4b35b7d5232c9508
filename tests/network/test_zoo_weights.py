"""A built-in model at another weights' size: `-m NAME -i SHAPE` gives the figures torchvision
publishes for every weights member that is not the model's default (SWAG at 384, 512 or 224,
IMAGENET1K_V1 where V2 is the default, …). The records come from
tests/vectors/model_weights.py (torch 2.13, torchvision 0.28), which asserts each member
builds the default's network but for the input size (ViT's position embedding follows it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from convcalc.cli.command import cli
from tests import paths

ROWS = paths.read_jsonl("torch_model_weights.jsonl")
DEFAULTS = {r["name"]: r for r in paths.read_jsonl("torch_models.jsonl")}


def _run(model: str, shape: list[int]) -> dict[str, Any]:
    args = ["-m", model, "-i", "x".join(map(str, shape)), "-o", "json"]
    result = CliRunner().invoke(cli, args, prog_name="convcalc")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("row", ROWS, ids=[r["weights"] for r in ROWS])
def test_input_size_gives_the_weights_figures(row: dict[str, Any]) -> None:
    report = _run(row["model"], row["input"])
    assert report["input"] == row["input"]
    assert report["output"] == row["output"]
    assert report["total"]["params"] == row["params"]
    assert report["total"]["macs"] == row["macs"]
    published = row["published"]
    assert report["total"]["params"] == published["num_params"]
    assert round(report["total"]["macs"] / 1e9, 3) == pytest.approx(published["gflops"], abs=1e-9)


def test_every_row_is_another_weights_of_a_built_in_model() -> None:
    assert ROWS
    for row in ROWS:
        assert row["weights"] != DEFAULTS[row["model"]]["weights"], row["weights"]
    assert len({r["weights"] for r in ROWS}) == len(ROWS)


def test_the_sizes_that_change_the_figures() -> None:
    """The rows that are not their default's figures are exactly the ones at another size:
    SWAG_E2E at 384 or 512, and SWAG_LINEAR at 224 where SWAG_E2E is the default."""
    moved = {
        r["weights"]: r["input"][-1]
        for r in ROWS
        if (r["params"], r["macs"])
        != (DEFAULTS[r["model"]]["params"], DEFAULTS[r["model"]]["macs"])
    }
    assert moved == {
        r["weights"]: r["input"][-1] for r in ROWS if r["input"] != DEFAULTS[r["model"]]["input"]
    }
    assert moved == {
        "RegNet_Y_16GF_Weights.IMAGENET1K_SWAG_E2E_V1": 384,
        "RegNet_Y_32GF_Weights.IMAGENET1K_SWAG_E2E_V1": 384,
        "RegNet_Y_128GF_Weights.IMAGENET1K_SWAG_LINEAR_V1": 224,
        "ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1": 384,
        "ViT_L_16_Weights.IMAGENET1K_SWAG_E2E_V1": 512,
        "ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1": 224,
    }
