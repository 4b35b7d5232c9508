"""No silent misreadings (issue 15): where convcalc would print a figure PyTorch does
not give, or read an input in a way the user probably did not mean, the command says
so — an error (exit 1, nothing on stdout) where PyTorch refuses the network, a warning
naming the reading taken and how to ask for the other where PyTorch accepts it."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from convcalc.cli.command import cli


def run(args: str) -> Result:
    return CliRunner().invoke(cli, args.split(), prog_name="convcalc")


def warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("convcalc: warning:")]


# -- an embedding reads integer indices, never a layer's floats ---------------------------


def test_an_embedding_after_a_float_layer_is_refused() -> None:
    # PyTorch: nn.Embedding(100, 8)(linear's output) raises "Expected tensor for argument
    # #1 'indices' to have one of the following scalar types: Long, Int; but got
    # torch.FloatTensor" (checked with torch 2.13); convcalc once printed 10×8×8.
    result = run("-i 10 embedding 100 8 linear 8 embedding 100 8")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "layer 3 (embedding 100 8): it looks up integer indices" in result.stderr
    assert "its input 10x8 holds floats (made by layer 2, linear 8)" in result.stderr
    assert "Long, Int; but got torch.FloatTensor" in result.stderr


def test_an_activation_makes_floats_too() -> None:
    result = run("-i 10 relu embedding 100 8")
    assert result.exit_code == 1 and result.stdout == ""
    assert "(made by layer 1, relu)" in result.stderr


def test_shape_only_layers_hand_the_indices_on() -> None:
    # Identity, eval-mode dropout, flatten, split… keep an index tensor's dtype (torch.long
    # through each, checked with torch 2.13): the input still holds indices.
    for spec in (
        "embedding 100 8",
        "dropout embedding 100 8",
        "identity flatten embedding 100 8",
        "chunk 2 a b embedding 100 8 as ea from b embedding 100 8 concat ea",
    ):
        result = run(f"-i 4x10 {spec} -o json")
        assert result.exit_code == 0, (spec, result.stderr)


def test_torch_code_feeds_indices_to_an_input_an_embedding_reads() -> None:
    # The example at the end of -o torch: long zeros (a valid index), also when a
    # shape-only layer comes first; random floats otherwise.
    code = run("-i 4x10 dropout embedding 100 8 -o torch").stdout
    assert "x = torch.zeros(1, 4, 10, dtype=torch.long)" in code
    assert "torch.Size([1, 4, 10, 8])" in code
    code = run("-i 10 linear 8 -o torch").stdout
    assert "x = torch.randn(1, 10)" in code


# -- a leading 1: the batch written into -i -------------------------------------------------


def test_a_leading_1_before_a_generic_conv_warns() -> None:
    # conv on 1x3x224x224 is a 3-d convolution of a one-channel volume (64×1×222×222, as
    # nn.Conv3d gives): correct for that reading, but most likely a batch.
    for args in ("conv 64 k=3", "--framework onnx Conv 64 k=3"):
        result = run(f"-i 1x3x224x224 {args} -o csv")
        assert result.exit_code == 0
        assert "64x1x222x222" in result.stdout
        (line,) = warnings(result)
        assert "reads 1×3×224×224 as a one-channel 3×224×224 volume" in line
        assert "a leading 1 is most likely the batch" in line
        assert "write -i 3x224x224; to mean a volume, write conv3d" in line


def test_a_leading_1_before_a_2d_kind_hints_at_the_batch() -> None:
    for args in ("conv2d 64 k=3", "--framework onnx conv2d 64 k=3"):
        result = run(f"-i 1x3x224x224 {args}")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "did you include the batch? convcalc's -i excludes it: -i 3x224x224" in (
            result.stderr
        )
    result = run("--framework keras -i 1x224x224x3 Conv2D 64 3")
    assert result.exit_code == 1
    assert "convcalc's -i excludes it: -i 224x224x3" in result.stderr


def test_a_one_channel_image_is_no_batch() -> None:
    assert warnings(run("-i 1x28x28 conv 8 k=3")) == []
    assert warnings(run("-i 1x16x64x64 conv3d 8 k=3")) == []


# -- two sizes before a kind that takes its dimensions from the input -------------------------


def test_two_sizes_before_a_generic_pool_say_which_reading() -> None:
    # maxpool on 224x224 is MaxPool1d on 224 channels of length 224 (224×112, what
    # nn.MaxPool1d(2) gives on that tensor), while maxpool2d reads 224x224 as H×W.
    result = run("-i 224x224 maxpool k=2 -o csv")
    assert result.exit_code == 0
    assert ",224x224,224x112," in result.stdout
    (line,) = warnings(result)
    assert "reads 224×224 as C×L, 224 channels of length 224" in line
    assert "write maxpool2d" in line and "maxpool1d keeps this reading" in line
    result = run("-i 224x224 maxpool2d k=2 -o csv")
    assert ",?x224x224,?x112x112," in result.stdout and warnings(result) == []
    assert warnings(run("-i 224x224 maxpool1d k=2")) == []


def test_solve_with_one_size_suggests_a_map() -> None:
    result = run("solve -i 224 -o 57 maxpool k=? s=2")
    assert result.exit_code == 1
    assert "maxpool2d reads 224 as a 224×224 map" in result.stderr
    assert "3x224x224 for a map" in result.stderr


# -- a layernorm on a map ---------------------------------------------------------------------


def test_a_layernorm_on_a_map_warns() -> None:
    # nn.LayerNorm(56) on 64×56×56: 112 parameters, W normalised alone (torch 2.13).
    result = run("-i 64x56x56 layernorm -o csv")
    assert result.exit_code == 0
    assert ",layernorm,64x56x56,64x56x56,112," in result.stdout
    (line,) = warnings(result)
    assert "normalises the last dimension only (56)" in line
    assert "layernorm 64x56x56 (normalized_shape)" in line and "layernorm2d" in line
    assert warnings(run("-i 64x56x56 layernorm 64x56x56")) == []


# -- concat of the current tensor ---------------------------------------------------------------


def test_concat_of_the_current_tensor_is_that_tensor() -> None:
    # torch.cat([x]) is x: listing the current tensor does not add it again.
    for spec in ("conv2d 4 k=3 as x concat x", "concat input"):
        result = run(f"-i 3x8x8 {spec} -o json")
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        assert data["layers"][-1]["inputs"] == [len(data["layers"]) - 1]
        assert data["output"] == data["layers"][-1]["input"]
    data = json.loads(run("-i 3x8x8 conv2d 4 k=3 as x add x -o json").stdout)
    assert data["layers"][-1]["inputs"] == [1, 1]  # add c after c is c + c, as in torch


def test_solve_hints_at_a_misread_input_when_nothing_fits() -> None:
    """A solve that finds nothing is often a misread input: it says what the main
    command would warn about the nearest answer's reading of it."""
    result = run("solve -i 1x3x224x224 -o 64x112x112 conv 64 k=7 s=2 p=?")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "hint: conv 64 k=7 s=2 p=7,3,3 takes its dimensions from its input" in result.stderr
    assert "a leading 1 is most likely the batch" in result.stderr
    result = run("solve -i 224x224 -o 112x112 maxpool k=? s=2")
    assert result.exit_code == 1
    assert "reads 224×224 as C×L, 224 channels of length 224" in result.stderr


def test_solve_warns_when_its_answers_read_the_input_one_way_of_two() -> None:
    result = run("solve -i 224x224 -o 224x112 maxpool k=? s=2")
    assert result.exit_code == 0
    assert "maxpool k=2 s=2" in result.stdout
    assert result.stderr.startswith("convcalc: warning: maxpool k=2 s=2 takes its dimensions")
    assert "maxpool1d keeps this reading" in result.stderr
    quiet = run("solve -i 3x224x224 -o 64x112x112 conv2d 64 k=7 s=2 p=?")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
