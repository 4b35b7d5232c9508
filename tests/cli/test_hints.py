"""The hints under a spec error for the slips a newcomer makes (issue 15, item 5):
each a clear error, exit 2, nothing on stdout, the whole of stderr checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from convcalc.cli.command import cli


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, prog_name="convcalc")


def fails(args: list[str] | str, stderr: str) -> None:
    result = run(args.split() if isinstance(args, str) else args)
    assert result.stderr == stderr
    assert result.stdout == ""
    assert result.exit_code == 2


SLIPS = [
    (
        "3x224x224 conv2d 64 k=3",
        """\
convcalc: error: expected a layer kind, got the number '3x224x224'
  3x224x224 conv2d 64 k=3
  ^^^^^^^^^
hint: the input shape goes after -i: convcalc -i 3x224x224 …
""",
    ),
    (
        "784 linear 10",
        """\
convcalc: error: expected a layer kind, got the number '784'
  784 linear 10
  ^^^
hint: the input shape goes after -i: convcalc -i 784 …
""",
    ),
    (
        "-i 3x224x224 resnet50",
        """\
convcalc: error: unknown layer kind 'resnet50'
  resnet50
  ^^^^^^^^
hint: resnet50 is a built-in model: convcalc -m resnet50 (--list-models lists them)
""",
    ),
    (
        "-i 3x224x224 vit_b_16 linear 10",
        """\
convcalc: error: unknown layer kind 'vit_b_16'
  vit_b_16 linear 10
  ^^^^^^^^
hint: vit_b_16 is a built-in model: convcalc -m vit_b_16 (--list-models lists them)
""",
    ),
    (
        "-i 3x224x224 Conv2D 64 3 padding=same",
        """\
convcalc: error: conv2d needs kernel_size (k=3)
  Conv2D 64 3 padding=same
  ^^^^^^
hint: Conv2D is Keras's spelling; with --framework keras the spec reads as Keras \
(its shapes are channels last, e.g. -i 224x224x3)
""",
    ),
    (
        "-i 3x224x224 MaxPooling2D 2",
        """\
convcalc: error: unknown layer kind 'MaxPooling2D'; did you mean 'maxpool2d'?
  MaxPooling2D 2
  ^^^^^^^^^^^^
hint: MaxPooling2D is Keras's spelling; with --framework keras the spec reads as Keras \
(its shapes are channels last, e.g. -i 224x224x3)
""",
    ),
    (
        "-i 3x224x224 GlobalAveragePool",
        """\
convcalc: error: unknown layer kind 'GlobalAveragePool'; did you mean 'globalavgpool'?
  GlobalAveragePool
  ^^^^^^^^^^^^^^^^^
hint: GlobalAveragePool is ONNX's spelling; with --framework onnx the spec reads as ONNX
""",
    ),
    (
        "-i 3x224x224 Conv 64 kernel_shape=3",
        """\
convcalc: error: conv has no argument 'kernel_shape'; did you mean kernel_size=?
  Conv 64 kernel_shape=3
          ^^^^^^^^^^^^
hint: kernel_shape= is no argument of PyTorch's; with --framework onnx the spec reads as ONNX
""",
    ),
    (
        ["-i", "3x224x224", 'Conv2D(64, 3, padding="same")'],
        """\
convcalc: error: Conv2D is not a PyTorch class convcalc reads; PyTorch spells it Conv2d
  Conv2D(64, 3, padding="same")
  ^^^^^^
hint: or, for Keras's Conv2D: --framework keras, the layer written as words: \
Conv2D 64 3 padding=same
""",
    ),
    (
        ["-i", "3x224x224", "MaxPool(2)"],
        """\
convcalc: error: MaxPool is not a PyTorch class convcalc reads; write it as convcalc's maxpool …
  MaxPool(2)
  ^^^^^^^
hint: or, for ONNX's MaxPool: --framework onnx, the layer written as words \
(convcalc --framework onnx --help-layer MaxPool)
""",
    ),
    (
        "--framework keras -i 224x224x3 Conv2D 64 3 -o torch",
        "convcalc: error: -o torch writes PyTorch code only for PyTorch specs, and this one is "
        "Keras (--framework keras); leave out -o torch, or write the network with PyTorch's "
        "layer words\n",
    ),
    (
        "--framework onnx -i 3x224x224 Conv 64 kernel_shape=3 -o torch",
        "convcalc: error: -o torch writes PyTorch code only for PyTorch specs, and this one is "
        "ONNX (--framework onnx); leave out -o torch, or write the network with PyTorch's "
        "layer words\n",
    ),
    (
        "-i 224x224x3 framework keras ; Conv2D 64 3 -o torch",
        "convcalc: error: -o torch writes PyTorch code only for PyTorch specs, and this one is "
        "Keras (its statement 'framework keras'); leave out -o torch, or write the network "
        "with PyTorch's layer words\n",
    ),
]


@pytest.mark.parametrize(("args", "stderr"), SLIPS)
def test_a_slip_gets_its_hint(args: list[str] | str, stderr: str) -> None:
    fails(args, stderr)


@pytest.mark.parametrize(
    "args",
    [
        "-i 3x224x224 conv2d 64 3",  # PyTorch's own word: the slip is its values
        "-i 3x224x224 convv2d 64 k=3",  # a typo, in no framework
        "--framework torch -i 3x224x224 Conv2D 64 3 padding=same",  # PyTorch was asked for
        "-i 3x224x224 conv2d 64 k=3 3x3",  # a number, not first
    ],
)
def test_no_hint_where_none_applies(args: str) -> None:
    result = run(args.split())
    assert result.exit_code == 2
    assert "hint:" not in result.stderr


def test_a_shape_first_in_a_file_is_an_input_statement(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("# a net\n3x32x32\nconv2d 8 k=3\n")
    fails(
        ["-f", str(spec)],
        f"""\
convcalc: error: {spec}:2:1: expected a layer kind, got the number '3x32x32'
  3x32x32
  ^^^^^^^
hint: an input shape starts the spec as a statement: input 3x32x32
""",
    )


def test_a_shape_after_a_file_goes_after_dash_i(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("conv2d 8 k=3\n")
    fails(
        ["-f", str(spec), "3x32x32"],
        """\
convcalc: error: expected a layer kind, got the number '3x32x32'
  3x32x32
  ^^^^^^^
hint: the input shape goes after -i: convcalc -i 3x32x32 …
""",
    )


def test_the_hinted_commands_work() -> None:
    """What each hint proposes does run."""
    for args in (
        "-i 3x224x224 conv2d 64 k=3",
        "-m resnet50 -o json",
        "--framework keras -i 224x224x3 Conv2D 64 3 padding=same",
        "--framework keras -i 224x224x3 MaxPooling2D 2",
        "--framework onnx -i 3x224x224 GlobalAveragePool",
        "--framework onnx -i 3x224x224 Conv 64 kernel_shape=3",
    ):
        result = run(args.split())
        assert result.exit_code == 0, (args, result.stderr)


def test_an_unknown_word_that_no_framework_spells_gets_no_framework_hint() -> None:
    # 'resnt' is a typo of a family name, not Keras's or ONNX's word: switching
    # frameworks would not help, so no such hint.
    result = CliRunner().invoke(cli, ["-i", "64x56x56", "include", "resnt", "basic", "64"])
    assert result.exit_code == 2
    assert "no model family 'resnt'" in result.stderr
    assert "--framework" not in result.stderr
