"""torchvision's building blocks mapped to graphs (formats/torch_blocks.py): a printed
torchvision classifier gives the same table as the built-in model (-m NAME), row by row;
prints of models built otherwise than their weights build them agree with PyTorch itself
(tests/data/torchvision_print_variants.jsonl.gz, tests/vectors/torchvision_prints.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.torch_count import count_print
from convcalc.formats.torch_print import analyze_print, forward_known, read_print
from convcalc.network.zoo import model_spec
from tests.formats.test_torch_count import BY_NAME, TORCHVISION
from tests.paths import DATA

with gzip.open(DATA / "torchvision_print_variants.jsonl.gz", "rt", encoding="utf-8") as _fh:
    VARIANTS = [json.loads(line) for line in _fh]

# Every torchvision classifier but Swin and MaxViT (no built-in model, no mapping: their
# prints give their parameters and buffers only).
COUNT_ONLY = ["maxvit_t", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"]
MAPPED = [row["name"] for row in TORCHVISION if row["name"] not in COUNT_ONLY]


def _rows(analysis: Any) -> list[tuple[Any, ...]]:
    return [(r.output, r.params, r.buffers, r.macs) for r in analysis.layers]


def test_which_prints_are_mapped() -> None:
    mapped = [
        row["name"]
        for row in TORCHVISION
        if not count_print(row["print"], row["input"], placed=forward_known).unplaced
    ]
    assert sorted(mapped) == sorted(MAPPED)
    assert len(MAPPED) == 73


@pytest.mark.parametrize("name", MAPPED)
def test_mapped_prints_give_the_built_in_models_table(name: str) -> None:
    row = BY_NAME[name]
    printed = analyze_print(row["print"], row["input"])
    built_in = convcalc.analyze(model_spec(name), row["input"])
    assert _rows(printed) == _rows(built_in)
    assert (printed.params, printed.buffers, printed.macs, printed.output) == (
        built_in.params,
        built_in.buffers,
        built_in.macs,
        built_in.output,
    )
    assert printed.params == row["num_params"]


@pytest.mark.parametrize("row", VARIANTS, ids=lambda row: row["name"])
def test_variant_prints_agree_with_torch(row: dict[str, Any]) -> None:
    """Other widths, dilation, heads on or off, another input size: PyTorch's figures."""
    analysis = analyze_print(row["print"], row["input"])
    assert (analysis.params, analysis.buffers, list(analysis.output), analysis.macs) == (
        row["params"],
        row["buffers"],
        row["output"],
        row["macs"],
    )
    # GoogLeNet's auxiliary heads: side outputs read after inception4a and 4d, although
    # its print lists them last
    heads = {r.name: list(r.output) for r in analysis.layers if r.name in row["aux"]}
    assert heads == row["aux"]
    assert all(r.side for r in analysis.layers if r.name in row["aux"])


def test_the_variants_cover_the_auxiliary_heads() -> None:
    names = {(row["name"], row["kwargs"].get("aux_logits")) for row in VARIANTS}
    assert {("googlenet", True), ("inception_v3", False)} <= names
    assert len(VARIANTS) >= 13


def test_vit_position_embedding_follows_the_input() -> None:
    """The print of vit_b_16 at 224 is that of the 384 model: -i sizes its embedding."""
    row = next(r for r in VARIANTS if r["name"] == "vit_b_16")
    assert row["print"] == BY_NAME["vit_b_16"]["print"]
    assert analyze_print(row["print"], row["input"]).params == row["params"]


# A user's own classes named as torchvision's, with other children: not torchvision's.
CUSTOM = (
    "Net(\n"
    "  (encoder): Encoder(\n"
    "    (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n"
    "    (act): ReLU()\n"
    "  )\n"
    "  (fire): Fire(\n"
    "    (squeeze): Conv2d(8, 4, kernel_size=(1, 1), stride=(1, 1))\n"
    "  )\n"
    ")\n"
)


def test_a_class_named_as_torchvisions_with_other_children_is_not_mapped() -> None:
    count = count_print(CUSTOM, placed=forward_known)
    assert [cls for cls, _ in count.unplaced] == ["Encoder", "Fire", "Net"]
    with pytest.raises(convcalc.SpecError, match=r"Encoder is not an nn\.Sequential"):
        read_print(CUSTOM.replace("Net(", "Sequential(", 1))


ATTENTION = (
    "Sequential(\n"
    "  (0): MultiheadAttention(\n"
    "    (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
    "  )\n"
    ")\n"
)


def test_attention_is_read_only_inside_vits_encoder_block(tmp_path: Path) -> None:
    """Its print leaves out its heads and options: alone, it is counted, not run."""
    count = count_print(ATTENTION, placed=forward_known)
    assert count.unplaced == (("MultiheadAttention", "0"),)
    assert count.params == 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8
    path = tmp_path / "mha.txt"
    path.write_text(ATTENTION, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--from-torch", str(path), "-i", "4x8"])
    assert result.exit_code == 0, result.output
    assert "forward order of MultiheadAttention (0)" in result.stderr


def test_vits_attention_heads_are_torchvisions() -> None:
    reading = read_print(BY_NAME["vit_h_14"]["print"])
    assert "multiheadattention 1280 16" in reading.spec
    reading = read_print(BY_NAME["vit_b_32"]["print"])
    assert "multiheadattention 768 12" in reading.spec


def test_a_printed_torchvision_model_runs_from_the_command_line(tmp_path: Path) -> None:
    row = BY_NAME["mobilenet_v3_small"]
    path = tmp_path / "model.txt"
    path.write_text(row["print"], encoding="utf-8")
    runner = CliRunner()
    printed = runner.invoke(cli, ["--from-torch", str(path), "-i", "3x224x224", "-o", "json"])
    built_in = runner.invoke(cli, ["-m", "mobilenet_v3_small", "-o", "json"])
    assert printed.exit_code == 0, printed.output
    assert printed.stderr == ""
    got, want = json.loads(printed.stdout), json.loads(built_in.stdout)
    assert (got["total"], got["output"]) == (want["total"], want["output"])
    assert [(r["output"], r["params"], r["macs"]) for r in got["layers"]] == [
        (r["output"], r["params"], r["macs"]) for r in want["layers"]
    ]


def _cut(text: str, head: str) -> str:
    """The print of one module of a model's print: from its line ``head`` to its ``)``,
    dedented, without its name."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == head)
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == " " * indent + ")")
    block = [line[indent:] for line in lines[start : end + 1]]
    block[0] = block[0].split(": ", 1)[1]
    return "\n".join(block) + "\n"


@pytest.mark.parametrize(
    ("name", "head", "label"),
    [
        ("mobilenet_v2", "(2): InvertedResidual(", "features.2"),  # no shortcut
        ("mobilenet_v2", "(3): InvertedResidual(", "features.3"),  # a shortcut
        ("densenet121", "(denseblock1): _DenseBlock(", "features.denseblock1"),
        ("inception_v3", "(Mixed_7b): InceptionE(", "Mixed_7b"),
    ],
)
def test_a_blocks_own_print_gives_its_figures_in_the_model(
    name: str, head: str, label: str
) -> None:
    """print(model.features[2]): the block alone, at the input it has in the model
    (block labels are names, which the spec language reads in lower case)."""
    row = BY_NAME[name]
    whole = analyze_print(row["print"], row["input"])
    (inside,) = [b for b in whole.blocks if b.block[-1] == label.lower()]
    alone = analyze_print(_cut(row["print"], head), inside.input)
    assert (alone.params, alone.buffers, alone.macs, alone.output) == (
        inside.params,
        inside.buffers,
        inside.macs,
        inside.output,
    )


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        # a convolution's channels that do not follow: the shape error, at its line
        ("mobilenet_v2", "(1): Conv2d(32, 16,", "(1): Conv2d(33, 16,"),
        # ConvNeXt's block without its second Permute: the shortcut adds channels-last to C×H×W
        ("convnext_tiny", "          (6): Permute()\n", ""),
        # a ResNet block's downsample that no longer halves the size
        ("resnet18", "kernel_size=(1, 1), stride=(2, 2)", "kernel_size=(1, 1), stride=(1, 1)"),
    ],
)
def test_a_broken_torchvision_print_is_a_clear_error(
    tmp_path: Path, name: str, old: str, new: str
) -> None:
    row = BY_NAME[name]
    assert old in row["print"]
    path = tmp_path / "model.txt"
    path.write_text(row["print"].replace(old, new, 1), encoding="utf-8")
    size = "x".join(map(str, row["input"]))
    result = CliRunner().invoke(cli, ["--from-torch", str(path), "-i", size])
    assert result.exit_code in (1, 2), result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("convcalc: ") or "model.txt:" in result.stderr
