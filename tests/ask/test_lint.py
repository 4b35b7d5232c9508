"""convcalc.ask.lint: a table of networks that must warn (with the layer, the numbers and
the fix) and of networks that must not, every built-in model and example included."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import convcalc
from convcalc.ask.lint import LintWarning, lint
from convcalc.ask.lint.failure import lint_error
from convcalc.network.zoo import model_spec, models
from tests.paths import ROOT

UNET_LIKE = (
    "conv2d 16 k=3 p=1; as e1; maxpool k=2; conv2d 32 k=3 p=1; as e2; maxpool k=2; "
    "conv2d 64 k=3 p=1; convtranspose2d 32 k=2 s=2; concat e2; conv2d 32 k=3 p=1; "
    "convtranspose2d 16 k=2 s=2; concat e1; conv2d 16 k=3 p=1"
)


def codes(spec: str, shape: str, input_text: str | None = None) -> list[tuple[str, int | None]]:
    return [(w.code, w.row) for w in lint(convcalc.analyze(spec, shape), input_text=input_text)]


# (spec, input, input as typed, code, row, words the message and fix must hold)
MUST_WARN = [
    (
        "instancenorm1d c=5",
        "3x8",
        None,
        "ignored-features",
        1,
        ["num_features=5", "3 channels", "PyTorch only warns", "c=3"],
    ),
    (
        "bn1d affine=false track=false c=5",
        "3x8",
        None,
        "ignored-features",
        1,
        ["num_features=5", "3 channels"],
    ),
    (
        "maxpool k=2",
        "3x55x55",
        None,
        "floor-drop",
        1,
        ["on 55×55", "last input row and column (54)", "ceil=true keeps it (28×28)", "p=1"],
    ),
    (
        "conv2d 8 k=3 s=2",
        "3x56x57",
        None,
        "floor-drop",
        1,
        ["last input row (55)", "p=1,0 keeps it (28×28)"],
    ),
    ("avgpool1d k=4 s=4", "1x10", None, "floor-drop", 1, ["last 2 input positions (8…9)"]),
    (
        "conv2d 64 k=3 p=1",
        "224x224x3",
        None,
        "channels-last",
        None,
        ["224×224×3 looks channels-last", "224 channels of 224×3", "-i 3x224x224"],
    ),
    ("bn; conv2d 8 k=1", "28x28x1", None, "channels-last", None, ["-i 1x28x28"]),
    (
        "convtranspose2d 512 k=4",
        "100",
        "100",
        "square-input",
        None,
        ["-i 100 is read as a 100×100 map", "-i 100x1x1"],
    ),
    ("convtranspose2d 8 k=2 s=2", "64", " 64 ", "square-input", None, ["-i 64x1x1"]),
    (
        "conv2d 8 k=3; linear 10",
        "3x32x32",
        None,
        "linear-on-map",
        2,
        ["gets the map 8×30×30", "(30 → 10), giving 8×30×10", "flatten first"],
    ),
    ("gap; linear 10", "3x7x7", None, "linear-on-map", 2, ["3×1×1"]),
    (
        "layernorm",
        "64x56x56",
        None,
        "norm-on-map",
        1,
        ["gets the map 64×56×56", "last dimension only (56)", "layernorm 64x56x56", "layernorm2d"],
    ),
    ("conv2d 8 k=3; rmsnorm", "3x10x10", None, "norm-on-map", 2, ["(8)", "rmsnorm 8x8x8"]),
    (
        "conv 64 k=3",
        "1x3x224x224",
        None,
        "batch-in-input",
        None,
        ["one-channel 3×224×224 volume", "→ 64×1×222×222", "-i 3x224x224", "write conv3d"],
    ),
    ("relu; maxpool k=2", "1x3x8x8", None, "batch-in-input", None, ["write maxpool3d"]),
    (
        "maxpool k=2",
        "224x224",
        None,
        "rank-guess",
        None,
        ["224 channels of length 224", "→ 224×112", "write maxpool2d", "maxpool1d keeps"],
    ),
    ("gap", "64x100", None, "rank-guess", None, ["64 channels of length 100", "-i 3x64x100"]),
    ("conv 8 k=3", "8x8", None, "rank-guess", None, ["8 channels of length 8", "write conv2d"]),
    ("conv1d 8 k=3; linear 4", "2x20", None, "linear-on-map", 2, ["8×18"]),
    (
        # the encoder and the first decoder stage, before the concat is written
        "conv2d 16 k=3 p=1; as e1; maxpool k=2; conv2d 32 k=3 p=1; convtranspose2d 16 k=2 s=2",
        "3x25x25",
        None,
        "odd-skip",
        2,
        ["gets 25×25", "gives back 24×24", "skip from e1", "divisible by 2 (24 or 26)"],
    ),
    (
        "conv2d 8 k=3 p=1; maxpool k=2; maxpool k=2; maxpool k=2; adaptiveavgpool 7",
        "3x8x8",
        None,
        "tiny-map",
        4,
        ["shrinks H to 1 (2×2 → 1×1)", "layer 5 (adaptiveavgpool 7)", "1×1 → 7×7"],
    ),
    (
        "conv2d 8 k=3 s=2; conv2d 8 k=3 p=1",
        "3x4x4",
        None,
        "tiny-map",
        1,
        ["shrinks H to 1", "layer 2 (conv2d 8 k=3 p=1)"],
    ),
    ("pad -3,0", "1x3x3", None, "tiny-map", 1, ["leaves W empty"]),
    (
        "conv2d 8 k=4 p=same",
        "3x32x32",
        None,
        "same-asymmetric",
        1,
        ["H: 1 top, 2 bottom; W: 1 left, 2 right", "pad 1,2,1,2 then p=0"],
    ),
    (
        "conv1d 8 k=2 d=3 p=same",
        "3x32",
        None,
        "same-asymmetric",
        1,
        ["kernel 4", "L: 1 left, 2 right"],
    ),
    (
        "conv2d 8 k=3 p=1; as x; conv2d 8 k=1; as y; from x; conv2d 8 k=3 p=1",
        "3x8x8",
        None,
        "side-output",
        2,
        ["conv2d 8 k=1 (y) is never used", "an eval-mode forward pass does not run"],
    ),
]


@pytest.mark.parametrize(
    ("spec", "shape", "typed", "code", "row", "words"),
    MUST_WARN,
    ids=[f"{c[3]}-{i}" for i, c in enumerate(MUST_WARN)],
)
def test_must_warn(
    spec: str, shape: str, typed: str | None, code: str, row: int | None, words: list[str]
) -> None:
    found = [w for w in lint(convcalc.analyze(spec, shape), input_text=typed) if w.code == code]
    assert [w.row for w in found] == [row]
    (warning,) = found
    text = warning.message + "; " + warning.fix
    for word in words:
        assert word in text, (word, text)
    if row is not None:
        layer = convcalc.analyze(spec, shape).layers[row - 1]
        assert layer.spec in warning.message or "branch" in warning.message
    assert warning.line().startswith("warning: ")


MUST_NOT_WARN = [
    ("instancenorm1d c=3", "3x8", None),
    ("bn1d affine=false track=false", "3x8", None),
    ("conv2d 64 k=7 s=2 p=3; maxpool k=3 s=2 p=1", "3x224x224", None),
    ("maxpool k=2", "3x56x56", None),
    ("maxpool k=2 ceil=true", "3x55x55", None),  # ceil_mode keeps the last column
    ("conv2d 8 k=1 s=2", "3x57x57", None),  # a 1×1 stride-2 conv skips pixels anyway
    ("conv2d 8 k=3 s=2 p=1", "3x57x57", None),
    ("conv2d 64 k=3 p=1", "224", "224"),  # a lone number before a conv: a square map
    ("conv2d 64 k=3 p=1", "3x224x224", "3x224x224"),
    ("convtranspose2d 256 k=4 s=2 p=1", "512x4x4", None),  # not channels-last
    ("convtranspose2d 256 k=4", "100x1x1", "100x1x1"),
    ("conv2d 8 k=3; gap; flatten; linear 10", "3x32x32", None),
    ("conv2d 8 k=3; permute 0,2,3,1; linear 10", "3x32x32", None),  # channels-last MLP
    ("linear 10", "197x768", None),  # tokens
    ("as x; gap; conv2d 8 k=1; relu; conv2d 3 k=1; sigmoid; mul x", "3x8x8", None),  # SE
    # odd sizes into stride 2 without a decoder; the windows reach the end
    ("conv2d 8 k=3 s=2 p=1; as e1; conv2d 8 k=3 s=2 p=1", "3x50x50", None),
    (UNET_LIKE, "3x64x64", None),
    ("conv2d 8 k=3 p=same", "3x32x32", None),  # an odd kernel pads evenly
    ("conv2d 8 k=3 p=1; as x; conv2d 8 k=1; add x", "3x8x8", None),
    (
        "conv2d 8 k=3 p=1; as x; gap; flatten; linear 10; as aux; from x; conv2d 8 k=3 p=1",
        "3x8x8",
        None,
    ),  # an auxiliary head ending in a vector
    ("conv2d 8 k=3; maxpool k=3 s=2; conv2d 8 k=1", "3x5x5", None),  # 1×1 then a 1×1 conv
    # a layernorm given its normalized_shape, on tokens, or over the channels (layernorm2d)
    ("layernorm 64x56x56", "64x56x56", None),
    ("layernorm 56", "64x56x56", None),
    ("layernorm", "197x768", None),
    ("layernorm2d", "64x56x56", None),
    # the dimensions named: no guess about a leading 1 or two sizes
    ("conv3d 8 k=3", "1x16x64x64", None),
    ("conv 8 k=3", "1x28x28", None),  # a one-channel image: three sizes are C×H×W
    ("maxpool2d k=2", "224x224", None),
    ("maxpool1d k=2", "224x224", None),
    ("conv1d 8 k=3", "16x100", None),
    ("conv 8 k=3", "16x100", None),  # a few channels of a signal: C×L is meant
    ("maxpool k=2", "1x6", None),
]


@pytest.mark.parametrize(("spec", "shape", "typed"), MUST_NOT_WARN)
def test_must_not_warn(spec: str, shape: str, typed: str | None) -> None:
    assert codes(spec, shape, typed) == []


@pytest.mark.parametrize("name", [m.name for m in models()])
def test_built_in_models(name: str) -> None:
    found = codes(model_spec(name), None)  # type: ignore[arg-type]
    if name in ("squeezenet1_0", "squeezenet1_1"):
        # A real finding: torchvision's SqueezeNet 1.0 starts with Conv2d(3, 96, 7,
        # stride=2) and no padding; on 224 its 109th window covers rows 216–222, so
        # row and column 223 of the image never reach the network. SqueezeNet 1.1's
        # Conv2d(3, 64, 3, stride=2) likewise: its 111th window covers rows 220–222.
        assert found == [("floor-drop", 1)]
    elif name.startswith("ssd"):
        # A real finding: SSD's last extra layer brings the map to 1×1 by design (SSD300's
        # conv11_2, SSDLite's fourth extra block), and its heads' 3×3 convolutions (padding
        # 1) still run there.
        layer = {"ssd300_vgg16": 51, "ssdlite320_mobilenet_v3_large": 212}[name]
        assert found == [("tiny-map", layer)]
    else:
        assert found == []


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.spec")), ids=lambda p: p.stem)
def test_examples(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    shape = None if "input" in text else "1x28x28"  # mnist.spec leaves the input to -i
    assert codes(text, shape) == []  # type: ignore[arg-type]


def test_the_floor_fix_is_what_the_engine_gives() -> None:
    (warning,) = lint(convcalc.analyze("maxpool k=2", "3x55x55"))
    assert convcalc.analyze("maxpool k=2 ceil=true", "3x55x55").output == (3, 28, 28)
    assert convcalc.analyze("maxpool k=2 p=1", "3x55x55").output == (3, 28, 28)
    assert "ceil=true keeps it (28×28) or p=1 keeps it (28×28)" in warning.fix


def test_a_failed_network_says_why() -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(UNET_LIKE, "3x50x50")
    found = lint_error(info.value)
    assert [(w.code, w.row) for w in found] == [("odd-skip", 4)]
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=9", "3x5x5")
    assert lint_error(info.value) == []


def test_the_warning_record() -> None:
    (warning,) = lint(convcalc.analyze("conv2d 8 k=3; linear 10", "3x32x32"))
    assert isinstance(warning, LintWarning)
    assert warning.to_dict() == {
        "row": 2,
        "code": "linear-on-map",
        "message": warning.message,
        "fix": warning.fix,
    }
    (warning,) = lint(convcalc.analyze("conv2d 3 k=3", "224x224x3"))
    assert warning.row is None
    assert warning.line().startswith("warning: the input 224×224×3")


def test_lint_never_fails_on_what_torch_ran() -> None:
    """Every network of the torch vectors can be linted (a sample, for speed)."""
    data = ROOT / "tests" / "data"
    cases = [json.loads(line) for line in (data / "torch_graphs.jsonl").open()]
    cases += random.Random(1).sample(
        [json.loads(line) for line in (data / "torch_cases.jsonl").open()], 3000
    )
    seen = set()
    for case in cases:
        if case["error"] is not None:
            continue
        for warning in lint(convcalc.analyze(case["spec"], case["input"])):
            seen.add(warning.code)
            assert warning.message and warning.fix
    assert {"floor-drop", "tiny-map"} <= seen


# The layout warnings under the other frameworks: (framework, spec, shape, fragments
# of the warning, or None for none).
LAYOUTS = [
    (
        "keras",
        "Conv2D 16 3",
        "3x224x224",
        ["3×224×224 looks channels-first", "a 3×224 map of 224 channels", "-i 224x224x3"],
    ),
    ("keras", "BatchNormalization; Conv2D 8 1", "1x28x28", ["-i 28x28x1"]),
    ("keras", "Conv2D 16 3", "224x224x3", None),
    ("keras", "Dense 10", "3x224x224", None),  # a Dense reads the last axis by design
    ("onnx", "conv 16 k=3", "224x224x3", ["looks channels-last", "-i 3x224x224"]),
    ("onnx", "conv 16 k=3", "3x224x224", None),
    ("torch", "conv2d 16 k=3", "224x224x3", ["(or --framework keras for Keras's layout)"]),
]


@pytest.mark.parametrize(("framework", "spec", "shape", "fragments"), LAYOUTS)
def test_the_layout_warnings_follow_the_framework(
    framework: str, spec: str, shape: str, fragments: list[str] | None
) -> None:
    found = lint(convcalc.analyze(spec, shape, framework=framework))
    if fragments is None:
        assert found == []
        return
    (warning,) = found
    assert warning.code == ("channels-first" if framework == "keras" else "channels-last")
    for fragment in fragments:
        assert fragment in warning.line()


def test_a_failed_keras_network_keeps_its_framework() -> None:
    # The rows before the failing layer are Keras's: the hint is Keras's layout one.
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("Conv2D 16 3; Conv2D 8 300", "3x224x224", framework="keras")
    assert info.value.framework == "keras"
    (hint,) = lint_error(info.value)
    assert hint.code == "channels-first"


# floor-drop under Keras and ONNX: (framework, spec, shape, the fix's spec): the sizes
# a fix names are the engine's for the fixed layer.
FRAMEWORK_FLOORS = [
    ("keras", "MaxPooling2D 2", "7x7x8", "padding='same'", "MaxPooling2D 2 padding=same"),
    ("keras", "Conv2D 4 2 strides=2", "9x7x3", "padding='same'", "Conv2D 4 2 strides=2 p=same"),
    ("onnx", "maxpool k=2 s=2", "8x7x7", "ceil_mode=1", "maxpool k=2 s=2 ceil"),
    ("onnx", "maxpool k=2 s=2", "8x7x7", "pads=0,0,1,1", "maxpool k=2 s=2 pads=0,0,1,1"),
    ("onnx", "conv 4 k=2 s=2", "8x7x6", "pads=0,0,1,0", "conv 4 k=2 s=2 pads=0,0,1,0"),
]


@pytest.mark.parametrize(("framework", "spec", "shape", "fix", "fixed"), FRAMEWORK_FLOORS)
def test_floor_drop_under_the_other_frameworks(
    framework: str, spec: str, shape: str, fix: str, fixed: str
) -> None:
    (warning,) = lint(convcalc.analyze(spec, shape, framework=framework))
    assert warning.code == "floor-drop"
    out = convcalc.analyze(fixed, shape, framework=framework).output
    spatial = out[:-1] if framework == "keras" else out[1:]
    assert f"{fix} keeps it ({'×'.join(map(str, spatial))})" in warning.fix
    assert lint(convcalc.analyze(fixed, shape, framework=framework)) == []


@pytest.mark.parametrize(
    ("framework", "spec", "shape"),
    [
        ("keras", "MaxPooling2D 2 padding=same", "7x7x8"),
        ("keras", "Conv1D 4 2 strides=2 padding=causal", "9x3"),
        ("keras", "MaxPooling2D 2", "8x8x8"),
        ("onnx", "maxpool k=2 s=2 p=same_upper", "8x7x7"),
        ("onnx", "maxpool k=2 s=2 ceil", "8x7x7"),
        ("onnx", "conv 4 k=3 s=2", "8x7x7"),
    ],
)
def test_no_floor_drop_when_every_input_is_seen(framework: str, spec: str, shape: str) -> None:
    assert lint(convcalc.analyze(spec, shape, framework=framework)) == []


def test_lint_never_fails_on_what_keras_and_onnx_ran() -> None:
    """Every network the Keras and ONNX vectors accepted can be linted, and a
    floor-drop fix, when it names sizes, names the fixed layer's."""
    data = ROOT / "tests" / "data"
    seen = set()
    for name, framework in (("keras_cases.jsonl", "keras"), ("onnx_cases.jsonl", None)):
        for line in (data / name).open():
            case = json.loads(line)
            if case["error"] is not None:
                continue
            analysis = convcalc.analyze(case["spec"], case["input"], framework=framework)
            for warning in lint(analysis):
                seen.add((analysis.framework, warning.code))
                assert warning.message and warning.fix
    assert {("keras", "floor-drop"), ("onnx", "floor-drop")} <= seen


LOADS = """
import sys
import convcalc
from convcalc.ask.lint import lint
analysis = convcalc.analyze(*sys.argv[1:3])
codes = [w.code for w in lint(analysis, input_text=sys.argv[2])]
print(codes, sorted(m for m in sys.modules if m.startswith("convcalc.ask.lint.")))
"""


@pytest.mark.parametrize(
    ("spec", "shape", "said"),
    [
        # The JSON benchmark's chain: no warning, so none of the other modules.
        (
            "conv2d 64 k=7 s=2 p=3; maxpool k=3 s=2 p=1; conv2d 128 k=3 s=2 p=1",
            "3x224x224",
            "[] []",
        ),
        ("maxpool k=2", "3x55x55", "['floor-drop'] ['convcalc.ask.lint.findings']"),
        (
            "conv2d 8 k=1",
            "224x224x3",
            "['channels-last'] ['convcalc.ask.lint.findings', 'convcalc.ask.lint.inputs']",
        ),
        (
            "conv 8 k=3",
            "1x8x8x8",
            "['batch-in-input'] ['convcalc.ask.lint.findings', 'convcalc.ask.lint.inputs']",
        ),
        ("relu", "1x3x8x8", "[] ['convcalc.ask.lint.findings', 'convcalc.ask.lint.inputs']"),
        ("relu", "3x8x8", "[] []"),
        (
            UNET_LIKE,
            "3x64x64",
            "[] ['convcalc.ask.lint.findings', 'convcalc.ask.lint.graph']",
        ),
    ],
)
def test_lint_loads_the_findings_text_inputs_and_graph_checks_when_needed(
    spec: str, shape: str, said: str
) -> None:
    """lint() runs every check as far as a network without warnings gets, and loads the
    findings' text (findings.py), the input's checks (inputs.py) and the checks that
    follow the tensors (graph.py) only when a network may need them."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADS, spec, shape], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == said


def test_lint_warning_is_named_by_the_package() -> None:
    import convcalc.ask.lint as package
    from convcalc.ask.lint import findings

    assert LintWarning is findings.LintWarning
    assert "LintWarning" in dir(package)
