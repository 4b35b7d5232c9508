"""--framework keras|onnx and the 'framework' statement: how the command says which
convention is in force, how the two ways of choosing one meet, and the errors. The
arithmetic itself is checked against Keras and ONNX in kinds/test_vectors.py; where a figure is asserted here, it is the framework's own
(looked up in that data)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import convcalc
from convcalc.cli.command import cli
from convcalc.cli.completion import suggest
from tests.paths import DATA, ROOT, read_jsonl


def run(args: list[str] | str, input: str | None = None) -> Result:
    if isinstance(args, str):
        args = args.split()
    return CliRunner().invoke(cli, args, input=input, prog_name="convcalc")


def ok(args: list[str] | str, input: str | None = None) -> str:
    result = run(args, input)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def fails(args: list[str] | str, code: int, input: str | None = None) -> str:
    result = run(args, input)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    return result.stderr


def _case(name: str, want: Any) -> dict[str, Any]:
    """The first case of tests/data/<name> for which ``want(case)`` holds."""
    with (DATA / name).open(encoding="utf-8") as fh:
        for line in fh:
            case = json.loads(line)
            if want(case):
                return case  # type: ignore[no-any-return]
    raise AssertionError(f"no such case in {name}")


# -- saying which convention is in force -------------------------------------------------


def test_pytorch_is_the_default_and_says_nothing() -> None:
    out = ok("-i 3x8x8 conv2d 4 k=3")
    assert out.startswith("input 3×8×8\n")
    data = json.loads(ok("-i 3x8x8 conv2d 4 k=3 -o json"))
    assert "framework" not in data
    assert ok("--framework torch -i 3x8x8 conv2d 4 k=3") == out


def test_the_table_header_names_the_convention() -> None:
    assert ok("--framework keras -i 8x8x3 Conv2D 4 3").startswith(
        "input 8×8×3  (keras, channels last)\n"
    )
    assert ok("--framework onnx -i 3x8x8 Conv 4 k=3").startswith(
        "input 3×8×8  (onnx opset 22, channels first)\n"
    )
    md = ok("--framework onnx --opset 17 -i 3x8x8 Conv 4 k=3 -o md")
    assert md.startswith("Input: 3×8×8 (onnx opset 17, channels first)\n")


def test_json_says_framework_and_opset() -> None:
    keras = json.loads(ok("--framework keras -i 8x8x3 Conv2D 4 3 -o json"))
    assert (keras["framework"], keras["input"], keras["output"][-1]) == ("keras", [8, 8, 3], 4)
    assert "opset" not in keras
    onnx = json.loads(ok("--framework onnx --opset 19 -i 3x8x8 Conv 4 k=3 -o json"))
    assert (onnx["framework"], onnx["opset"]) == ("onnx", 19)


def test_keras_totals_use_keras_words() -> None:
    case = _case(
        "keras_cases.jsonl",
        lambda c: c["spec"] == "BatchNormalization" and c["model"] and len(c["input"]) == 3,
    )
    shape = "x".join(map(str, case["input"]))
    out = ok(f"--framework keras -i {shape} BatchNormalization")
    model = case["model"]
    assert f"trainable {model['trainable']:,} · non-trainable {model['non_trainable']:,}" in out
    # Keras counts the moving statistics as parameters: no buffers.
    assert not [line for line in out.splitlines() if line.startswith("buffers")]
    assert "parameters and buffers" not in out


def test_channels_unknown_are_last_under_keras() -> None:
    data = json.loads(ok("--framework keras -i 32x32 Conv2D 8 3 -o json"))
    assert data["input"] == [32, 32, None]
    assert data["layers"][0]["params"] is None
    assert data["output"][-1] == 8


# -- choosing the framework ---------------------------------------------------------------


def test_a_spec_declares_its_framework(tmp_path: Path) -> None:
    spec = tmp_path / "net.spec"
    spec.write_text("# a Keras network\nframework keras\ninput 16x16x3\nConv2D 8 3 padding=same\n")
    declared = json.loads(ok(["-f", str(spec), "-o", "json"]))
    asked = json.loads(ok("--framework keras -i 16x16x3 Conv2D 8 3 padding=same -o json"))
    assert declared["framework"] == "keras"
    assert declared["output"] == asked["output"] == [16, 16, 8]
    # Both ways at once, agreeing.
    assert json.loads(ok(["--framework", "tf", "-f", str(spec), "-o", "json"]))["output"] == [
        16,
        16,
        8,
    ]


def test_statement_on_the_command_line_and_opset() -> None:
    data = json.loads(ok("-i 3x6 framework onnx opset=17 MaxPool k=2 s=4 p=1 ceil_mode=1 -o json"))
    assert (data["framework"], data["opset"]) == ("onnx", 17)


def test_the_statement_and_the_option_must_agree() -> None:
    err = fails("--framework onnx -i 8x8x3 framework keras Conv2D 4 3", 2)
    assert "the spec says 'framework keras', but onnx was asked for" in err
    err = fails("--opset 18 -i 3x8 framework onnx opset=17 Conv 4 k=3", 2)
    assert "the spec says opset 17, but opset 18 was asked for" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("-i 8x8x3 framework kears Conv2D 4 3", "unknown framework 'kears'"),
        ("-i 8x8x3 framework", "'framework' takes one name"),
        ("-i 3x8x8 framework onnx opset=12 Conv 4 k=3", "ONNX opsets 13 to 26, not 12"),
        ("-i 3x8x8 framework onnx opset=x Conv 4 k=3", "opset= takes a whole number"),
        ("-i 3x8x8 framework keras opset=17 Conv2D 4 3", "an opset is an ONNX setting"),
        ("-i 3x8x8 framework onnx axis=1 Conv 4 k=3", "'framework' has no argument 'axis'"),
        ("-i 3x8x8 conv2d 4 k=3 framework keras", "'framework' must be the spec's first"),
        ("--framework kears -i 3x8x8 conv2d 4 k=3", "did you mean keras?"),
        ("--framework keras --opset 17 -i 8x8x3 Conv2D 4 3", "an opset is an ONNX setting"),
        ("--framework onnx --opset 30 -i 3x8x8 Conv 4 k=3", "not 30"),
        ("--opset 17 -i 8x8x3 framework keras Conv2D 4 3", "the spec says 'framework keras'"),
        ("--opset 17 -i 3x8x8 conv2d 4 k=3", "an opset is an ONNX setting"),
        ("--framework keras -m resnet18", "the built-in models are PyTorch networks"),
    ],
)
def test_framework_errors(args: str, message: str) -> None:
    assert message in fails(args, 2)


def test_a_misspelt_framework_points_at_the_word() -> None:
    err = fails("-i 8x8x3 framework kears Conv2D 4 3", 2)
    assert "did you mean 'keras'?" in err
    assert "^^^^^" in err


def test_the_framework_words_bind_the_kinds() -> None:
    # Keras's Conv2D takes filters and kernel_size as values; PyTorch's and ONNX's one.
    assert ok("--framework keras -i 8x8x3 Conv2D 8 3").count("6×6×8") == 2
    # PyTorch's short form reads two values in PyTorch's order (in, out): no kernel yet.
    assert "conv2d needs kernel_size (k=3)" in fails("--framework torch -i 3x8x8 Conv2D 8 3", 2)
    err = fails("--framework onnx -i 3x8x8 Conv2D 8 3", 2)
    assert "too many positional values for conv2d (it takes out_channels); got '3'" in err
    # In Keras, linear is the identity activation (Dense is the fully connected layer).
    assert "linear takes no positional value; got '10'" in fails(
        "--framework keras -i 8x8x3 linear 10", 2
    )


# -- the catalog and completion -----------------------------------------------------------


@pytest.mark.parametrize("order", ["framework first", "framework last"])
def test_list_layers_lists_the_frameworks_kinds(order: str) -> None:
    args = ["--framework", "keras", "--list-layers"]
    out = ok(args if order == "framework first" else args[::-1][:1] + args[:2])
    assert "conv2dtranspose" in out and "separableconv2d" in out
    assert "convcalc --framework keras --help-layer KIND" in out
    assert "maxunpool" not in out  # PyTorch's


def test_help_layer_under_a_framework() -> None:
    out = ok("--help-layer Conv2DTranspose --framework keras")
    assert out.startswith("conv2dtranspose: transposed convolution")
    assert "long key = Keras's name" in out
    assert "output_padding=" in out
    out = ok("--framework onnx --help-layer MaxPool")
    assert "long key = ONNX's attribute name" in out and "ceil_mode=" in out
    assert "keras has no layer kind 'maxunpool2d'" in fails(
        "--framework keras --help-layer maxunpool2d", 2
    )


def test_completion_follows_the_framework() -> None:
    kinds = [value for value, _ in suggest(["framework", "keras"], "conv2dt")]
    assert kinds == ["Conv2DTranspose"]  # Keras's class name, not the word lower-cased
    assert [v for v, _ in suggest(["framework"], "o")] == ["onnx"]
    keys = [v for v, _ in suggest(["MaxPool"], "ceil", "onnx")]
    assert "ceil_mode=" in keys
    assert [v for v, _ in suggest(["conv2d", "8", "3"], "padding=ca", "keras")] == [
        "padding=causal"
    ]


def test_completion_offers_the_frameworks_class_names_first() -> None:
    # under Keras its class names, as a Keras user writes them, before convcalc's
    # other words; PyTorch's lower-case words stay as they are
    keras = [v for v, _ in suggest([], "max", "keras")]
    assert keras[:3] == ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D"]
    assert "maxpooling2d" not in keras  # the class name stands for it
    assert "maxpool2d" in keras  # convcalc's own spellings follow
    first = [v for v, _ in suggest([], "", "keras")]
    assert first[0] == "input" and first[1][0].isupper()  # then Keras's names
    assert [v for v, _ in suggest(["framework", "keras", ";"], "Dens")] == ["Dense"]
    assert [v for v, _ in suggest(["Conv2D", "64", "3"], "Glob", "keras")][:2] == [
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
    ]
    onnx = [v for v, _ in suggest([], "glob", "onnx")]
    assert onnx[:3] == ["GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool"]
    torch = [v for v, _ in suggest([], "maxpool")]
    assert torch == ["maxpool", "maxpool1d", "maxpool2d", "maxpool3d"]


# -- graph statements keep working under every layout -------------------------------------


def test_keras_concat_defaults_to_the_channels() -> None:
    case = _case(
        "keras_cases.jsonl",
        lambda c: c.get("graph") and "concat a b" in c["spec"] and c["spec"].endswith("a b"),
    )
    shape = "x".join(map(str, case["input"]))
    data = json.loads(
        ok(["--framework", "keras", "-i", shape, *case["spec"].split(), "-o", "json"])
    )
    assert data["output"] == case["model"]["output"]


def test_the_graph_table_gives_each_frameworks_axis() -> None:
    # docs/language.md: concat's and split's default axis is the channels' (the last
    # under Keras, where dim=1 is H), and Keras and ONNX take axis= too
    table = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    concat = next(line for line in table.splitlines() if line.startswith("| `concat NAME"))
    split = next(line for line in table.splitlines() if line.startswith("| `split "))
    assert "the last one under `--framework keras` (where `dim=1` is H)" in concat
    assert "Keras and ONNX take `axis=` too" in concat
    assert "`axis=` under Keras and ONNX" in split and "the channels" in split
    # and so it is: Keras 3's Concatenate() and Concatenate(axis=1) of two 8x8x4 maps
    # give (None, 8, 8, 8) and (None, 16, 8, 4) (run in the torch/keras venv)
    spec = "as a relu concat a"
    assert convcalc.analyze(spec, (8, 8, 4), framework="keras").output == (8, 8, 8)
    for key in ("axis=1", "dim=1"):
        out = convcalc.analyze(f"{spec} {key}", (8, 8, 4), framework="keras").output
        assert out == (16, 8, 4)
    assert convcalc.analyze(f"{spec} axis=1", (4, 8, 8), framework="onnx").output == (8, 8, 8)
    with pytest.raises(convcalc.SpecError, match="axis"):
        convcalc.analyze(f"{spec} axis=1", (4, 8, 8))  # PyTorch's word is dim


def test_keras_merge_errors_speak_of_axes() -> None:
    err = fails("--framework keras -i 8x8x3 as x Conv2D 4 3 as a from x Conv2D 4 1 concat a", 1)
    assert "along axis -1: axis 1 is 8 vs 6" in err
    err = fails("--framework keras -i 8x8x3 as x Conv2D 4 3 as a from x Conv2D 5 3 add a", 1)
    assert "axis 3 (channels) is 5 vs 4" in err


def test_crop_keeps_the_channels_where_the_framework_puts_them() -> None:
    keras = json.loads(
        ok("--framework keras -i 9x9x2 as big MaxPooling2D 2 as small from big crop small -o json")
    )
    torch = json.loads(ok("-i 2x9x9 as big maxpool2d k=2 as small from big crop small -o json"))
    assert keras["output"] == [4, 4, 2]
    assert torch["output"] == [2, 4, 4]


# -- errors in the framework's words -------------------------------------------------------


def test_keras_errors_use_keras_names() -> None:
    err = fails("--framework keras -i 8x8x3 Conv2D 4 3 strides=2 dilation_rate=2", 1)
    assert "Conv2D: strides > 1 is not supported together with dilation_rate > 1" in err
    err = fails("--framework keras -i 2x2x3 Conv2D 4 3", 1)
    assert "computed output size would be zero or negative" in err
    err = fails("--framework keras -i 8x8x3 Conv2D 4 3 padding=1", 2)
    assert "Keras's padding is one of valid, same, causal, not a number" in err


def test_onnx_refuses_a_size_below_one() -> None:
    err = fails("--framework onnx -i 3x3x3 Conv 4 k=5", 1)
    assert "a size below 1" in err


# -- the Python API ------------------------------------------------------------------------


def test_analyze_takes_the_framework() -> None:
    a = convcalc.analyze("Conv2D 4 3 padding=same", (8, 8, 3), framework="keras")
    assert (a.framework, a.opset, a.output) == ("keras", None, (8, 8, 4))
    b = convcalc.analyze("framework onnx opset=18\nConv 4 k=3", (3, 8, 8))
    assert (b.framework, b.opset) == ("onnx", 18)
    with pytest.raises(convcalc.SpecError, match="unknown framework"):
        convcalc.analyze("conv2d 4 k=3", (3, 8, 8), framework="caffe")


# -- examples/frameworks: networks the frameworks themselves built -----------------------

EXAMPLES = sorted((ROOT / "examples" / "frameworks").glob("*.spec"))


def test_there_are_framework_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {"keras_cifar10", "onnx_stem"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_framework_example_is_a_network_the_framework_built(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    keras = "framework keras" in text
    case = _case(
        "keras_cases.jsonl" if keras else "onnx_cases.jsonl",
        lambda c: c.get("documented") and c["spec"] == text,
    )
    analysis = convcalc.analyze(text)  # its own framework statement and input
    assert list(analysis.input) == case["input"]
    if keras:
        got = [
            {"output": list(lay.output), "params": lay.params, "trainable": lay.trainable}
            for lay in analysis.layers
        ]
        assert got == case["layers"]
        assert (analysis.params, analysis.trainable, analysis.frozen) == (
            case["model"]["params"],
            case["model"]["trainable"],
            case["model"]["non_trainable"],
        )
    else:
        got = [
            {"output": list(lay.output), "params": lay.params, "buffers": lay.buffers}
            for lay in analysis.layers
        ]
        assert got == case["nodes"]


def _readme_commands() -> list[tuple[str, str, str]]:
    """(framework, input, layer words) of the --framework commands in the README and
    docs/ that print figures (not the ones that show an error)."""
    import re

    readme = "\n".join(
        path.read_text(encoding="utf-8")
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    )
    pattern = re.compile(
        r"^\$ convcalc --framework (keras|onnx) -i (\S+) (.+?)"
        r"(?: --explain)?(?: -o \w+)?(?: \| (?:cut|tail) .*)?$",
        re.M,
    )
    return [m.groups() for m in pattern.finditer(readme) if "echo" not in m.group(3)]


def test_the_readme_shows_networks_the_frameworks_built() -> None:
    commands = _readme_commands()
    assert {c[0] for c in commands} == {"keras", "onnx"}
    calls = {
        (c["call"], tuple(c["input"]))
        for c in json.loads((DATA / "keras_calls.json").read_text())["calls"]
    }
    # The recurrent layers' commands: Keras built them as a Sequential of the same calls.
    built = {
        (m["documented"], tuple(m["input"])): m
        for m in read_jsonl("keras_sequential.jsonl")
        if m.get("documented")
    }
    # The -o keras commands: Keras ran the code convcalc writes for them (keras_codegen.py).
    ran = {
        (c["documented"], tuple(c["input"])): c
        for c in read_jsonl("keras_codegen.jsonl")
        if c.get("documented")
    }
    for framework, shape, words in commands:
        size = [int(v) for v in shape.split("x")]
        code = ran.get((words, tuple(size)))
        if code is not None:
            result = convcalc.analyze(" ".join(shlex.split(words)), size, framework="keras")
            assert (list(result.output), result.params) == (code["output"], code["params"])
            continue
        model = built.get((words, tuple(size)))
        if model is not None:
            args = shlex.split(words)
            result = convcalc.analyze(" ".join(args), size, framework="keras")
            assert [list(r.output) for r in result.layers] == model["layers"], words
            assert (result.params, result.trainable) == (model["params"], model["trainable"])
            continue
        if framework == "keras" and "(" in words:  # a Keras call: Keras built it
            assert (words.strip("'"), tuple(size)) in calls, words
            continue
        spec = words if framework == "keras" else f"framework onnx\n{words}"
        _case(
            f"{framework}_cases.jsonl",
            lambda c, spec=spec, size=size: c["spec"] == spec and c["input"] == size,
        )


def test_one_resize_size_stands_for_every_spatial_axis() -> None:
    # convcalc's shorthand, as for scales: sizes=29 is sizes=29,29 on a 2-d map
    # (it once resized the first spatial axis only).
    one = convcalc.analyze("Resize sizes=29", "3x100x80", framework="onnx").output
    both = convcalc.analyze("Resize sizes=29,29", "3x100x80", framework="onnx").output
    assert one == both != (3, 29, 80)
