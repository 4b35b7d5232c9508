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
# Video Swin's prints (swin3d_t/s/b), by the same script
with gzip.open(DATA / "torchvision_video_prints.jsonl.gz", "rt", encoding="utf-8") as _fh:
    VIDEO = {row["name"]: row for row in map(json.loads, _fh)}

# Every torchvision classifier (Swin and MaxViT: formats/torch_windows.py).
MAPPED = [row["name"] for row in TORCHVISION]


def _rows(analysis: Any) -> list[tuple[Any, ...]]:
    return [(r.output, r.params, r.buffers, r.macs) for r in analysis.layers]


def test_which_prints_are_mapped() -> None:
    mapped = [
        row["name"]
        for row in TORCHVISION
        if not count_print(row["print"], row["input"], placed=forward_known).unplaced
    ]
    assert sorted(mapped) == sorted(MAPPED)
    assert len(MAPPED) == 80


@pytest.mark.parametrize("name", [*MAPPED, *VIDEO])
def test_mapped_prints_give_the_built_in_models_table(name: str) -> None:
    row = BY_NAME.get(name) or VIDEO[name]
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


def test_video_swin_prints_are_mapped_and_counted() -> None:
    """swin3d_t/s/b: every container placed, and the count (with ShiftedWindowAttention3d's
    bias table and index) PyTorch's."""
    assert sorted(VIDEO) == ["swin3d_b", "swin3d_s", "swin3d_t"]
    for row in VIDEO.values():
        count = count_print(row["print"], row["input"], placed=forward_known)
        assert not count.unplaced and not count.unknown
        assert (count.params, count.buffers) == (row["params"], row["buffers"])
        assert row["params"] == row["num_params"]


def test_the_variants_cover_the_auxiliary_heads_and_the_windows() -> None:
    names = {(row["name"], row["kwargs"].get("aux_logits")) for row in VARIANTS}
    assert {("googlenet", True), ("inception_v3", False)} <= names
    assert len(VARIANTS) >= 18
    # Swin without stochastic depth and at other sizes, MaxViT built for 448, Video Swin
    # on 8 frames of 112
    windowed = {"SwinTransformer", "swin_s", "swin_v2_t", "maxvit_t", "swin3d_t"}
    assert windowed <= {row["name"] for row in VARIANTS}


def test_swins_windows_shift_on_odd_blocks_and_heads_follow_the_width() -> None:
    """The shift alternates with the block's index in its stage; v1's heads are of 32
    channels, v2's the outputs of its cpb_mlp; v1's windows 7, v2's 8, Video Swin's 8x7x7."""
    spec = read_print(BY_NAME["swin_t"]["print"]).spec
    assert "shiftedwindowattention 96 3 window=7,7 shift=0\n" in spec
    assert "shiftedwindowattention 96 3 window=7,7 shift=3,3\n" in spec
    assert "shiftedwindowattention 768 24 window=7,7 shift=3,3\n" in spec
    spec = read_print(BY_NAME["swin_v2_b"]["print"]).spec
    assert "shiftedwindowattentionv2 128 4 window=8,8 shift=0\n" in spec
    assert "shiftedwindowattentionv2 1024 32 window=8,8 shift=4,4\n" in spec
    spec = read_print(VIDEO["swin3d_t"]["print"]).spec
    assert "shiftedwindowattention3d 96 3 window=8,7,7 shift=4,3,3\n" in spec


def test_maxvits_partitions_follow_the_input() -> None:
    """Block attention on windows of 7, grid attention on a 7x7 grid of a map the input
    sizes (224: 56/7 = 8 a side in the first block); 224 without an input."""
    print_ = BY_NAME["maxvit_t"]["print"]
    spec = read_print(print_, input_shape=(3, 224, 224)).spec
    assert spec == read_print(print_).spec
    assert "windowpartition 7\n" in spec and "windowdepartition 7 8 8\n" in spec
    assert "windowpartition 8\ntranspose -3 -2\n" in spec
    assert "windowdepartition 8 7 7\n" in spec
    spec = read_print(print_, input_shape=(3, 448, 448)).spec
    assert "windowdepartition 7 16 16\n" in spec and "windowdepartition 16 7 7\n" in spec


def test_a_maxvit_attention_layer_alone_needs_the_input() -> None:
    cut = _cut(BY_NAME["maxvit_t"]["print"], "(window_attention): PartitionAttentionLayer(")
    with pytest.raises(convcalc.SpecError, match=r"give the input \(-i") as info:
        read_print(cut)
    assert info.value.word == "PartitionAttentionLayer"


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
        ("swin_t", "(1): SwinTransformerBlock(", "features.1.1"),  # shifted
        ("swin_v2_t", "(2): PatchMergingV2(", "features.2"),
        ("maxvit_t", "(0): MaxVitBlock(", "blocks.0"),
        ("maxvit_t", "(0): MaxVitLayer(", "blocks.0.layers.0"),  # strides: its grid halves
        ("maxvit_t", "(1): MaxVitLayer(", "blocks.0.layers.1"),
        (
            "maxvit_t",
            "(grid_attention): PartitionAttentionLayer(",
            "blocks.0.layers.0.layers.grid_attention",
        ),
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
        # a Swin block's norm of another width than its attention's
        ("swin_t", "(norm1): LayerNorm((96,)", "(norm1): LayerNorm((97,)"),
        # a MaxViT MLP that does not come back to the block's width
        (
            "maxvit_t",
            "(3): Linear(in_features=256, out_features=64,",
            "(3): Linear(in_features=256, out_features=65,",
        ),
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


def test_maxvit_built_for_448_from_the_command_line_and_the_library(tmp_path: Path) -> None:
    """-i gives the grid MaxViT's print does not show: the model torchvision built for
    448×448 (its print is maxvit_t's) gives PyTorch's MACs."""
    row = next(r for r in VARIANTS if r["name"] == "maxvit_t")
    assert row["print"] == BY_NAME["maxvit_t"]["print"]
    path = tmp_path / "maxvit.txt"
    path.write_text(row["print"], encoding="utf-8")
    result = CliRunner().invoke(cli, ["--from-torch", str(path), "-i", "3x448x448", "-o", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert (got["total"]["params"], got["total"]["macs"]) == (row["params"], row["macs"])
    assert (
        "windowdepartition 16 7 7"
        in convcalc.read_print(row["print"], input_shape="3x448x448").spec
    )
