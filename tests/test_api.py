"""The Python API: what `import convcalc` offers, and its contract.

Expected figures are taken from the torch-generated vectors where a number is
needed (see _torch_case); the rest checks structure and consistency."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import convcalc

DATA = Path(__file__).parent / "data" / "torch_cases.jsonl"


def _torch_case(spec: str, shape: list[int]) -> dict[str, Any]:
    """The torch-generated record for a spec, to compare against without typing numbers."""
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            case = json.loads(line)
            if case["spec"] == spec and case["input"] == shape:
                return case
    raise LookupError(spec)


def _first_accepted_case(kind: str, n_layers: int = 1) -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            case = json.loads(line)
            if (
                case["error"] is None
                and len(case["layers"]) == n_layers
                and case["spec"].split()[0] == kind
            ):
                return case
    raise LookupError(kind)


def test_issue_example_surface() -> None:
    a = convcalc.analyze("conv2d 64 k=7 s=2 p=3; maxpool k=3 s=2 p=1", input_shape=(3, 224, 224))
    same = convcalc.analyze("conv2d 64 k=7 s=2 p=3; maxpool k=3 s=2 p=1", input_shape="3x224x224")
    assert a.to_dict() == same.to_dict()
    assert a.output == a.layers[-1].output
    assert a.params == sum(lay.params for lay in a.layers)  # type: ignore[misc]
    assert a.macs == sum(lay.macs for lay in a.layers)  # type: ignore[misc]
    assert a.layers[0].input == (3, 224, 224)
    assert a.layers[1].input == a.layers[0].output
    assert [lay.kind for lay in a.layers] == ["conv2d", "maxpool2d"]
    assert [lay.spec for lay in a.layers] == ["conv2d 64 k=7 s=2 p=3", "maxpool k=3 s=2 p=1"]


def test_agrees_with_a_torch_record() -> None:
    case = _first_accepted_case("conv2d")
    a = convcalc.analyze(case["spec"], case["input"])
    want = case["layers"][0]
    assert list(a.output) == want["output"]
    assert (a.params, a.buffers, a.macs) == (want["params"], want["buffers"], want["macs"])


def test_the_spec_example_chain_is_torchs() -> None:
    # README.md's first example, as PyTorch ran it (documented_chains() in the generator).
    spec = "conv2d 64 k=7 s=2 p=3  maxpool2d k=3 s=2 p=1  conv2d 128 k=3 s=2 p=1  gap  flatten  linear 10"
    case = _torch_case(spec, [3, 224, 224])
    got = convcalc.analyze(spec, "3x224x224").to_dict()["layers"]
    assert [
        {k: layer[k] for k in ("output", "params", "buffers", "macs")} for layer in got
    ] == case["layers"]


def test_to_dict_has_the_spec_fields() -> None:
    d = convcalc.analyze("input 3x32x32\nconv2d 8 k=3\nbn\nflatten\nlinear 10").to_dict()
    assert {"input", "layers", "output", "total"} <= set(d)
    assert set(d["total"]) >= {"params", "trainable", "buffers", "macs"}
    for i, layer in enumerate(d["layers"], start=1):
        assert {
            "index",
            "kind",
            "spec",
            "input",
            "output",
            "params",
            "trainable",
            "buffers",
            "macs",
        } <= set(layer)
        assert layer["index"] == i
    assert d["input"] == [3, 32, 32]
    assert d["output"] == d["layers"][-1]["output"]
    assert json.loads(json.dumps(d)) == d  # plain JSON types only


def test_input_statement_and_override() -> None:
    text = "input 3x32x32\nconv2d 8 k=3"
    assert convcalc.analyze(text).input == (3, 32, 32)
    # An explicit shape wins over the file's own input line.
    assert convcalc.analyze(text, "1x16x16").input == (1, 16, 16)


@pytest.mark.parametrize(
    ("shape", "first", "want"),
    [
        ("32", "conv2d 4 k=3", (None, 32, 32)),
        ("32x30", "conv2d 4 k=3", (None, 32, 30)),
        ("3x32x30", "conv2d 4 k=3", (3, 32, 30)),
        ("100", "conv1d 4 k=3", (None, 100)),
        ("8", "conv3d 4 k=3", (None, 8, 8, 8)),
        ("16x100", "conv1d 4 k=3", (16, 100)),
        ("512", "linear 10", (512,)),
        ("32", "relu ; conv2d 4 k=3", (None, 32, 32)),
        ("5", "bn1d", (5,)),
    ],
)
def test_channels_unknown_when_only_the_map_is_given(
    shape: str, first: str, want: tuple[int | None, ...]
) -> None:
    assert convcalc.analyze(first, shape).input == want


def test_unknown_channels_propagate_as_none() -> None:
    a = convcalc.analyze("conv2d k=3 s=2 p=1 d=1 ; bn ; conv2d 16 k=3 ; flatten ; linear 10", "32")
    conv, bn, conv2, flat, fc = a.layers
    assert conv.output[0] is None and conv.params is None and conv.macs is None
    assert bn.params is None and bn.buffers is None
    # A known out_channels makes the shape known again, but not the weights.
    assert conv2.output[0] == 16 and conv2.params is None
    assert flat.output[0] is not None
    assert fc.params is not None
    assert a.params is None  # a total with an unknown part is unknown
    assert a.to_dict()["total"]["params"] is None
    assert a.to_dict()["layers"][0]["output"][0] is None


def test_linear_in_features_is_checked_or_supplied() -> None:
    with pytest.raises(
        convcalc.ShapeError, match=r"in_features=100 but the input's last dimension is 128"
    ):
        convcalc.analyze("conv2d 8 k=3 ; flatten ; linear 10 in=100", "2x6x6")
    a = convcalc.analyze("conv2d k=3 ; flatten ; linear 10 in_features=100", "6")
    assert a.layers[-1].params == convcalc.analyze("linear 10", "100").params


def test_shape_error_carries_the_layer_and_what_worked() -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=3 ; relu ; conv2d 64 k=9", "3x7x7")
    err = info.value
    assert err.index == 3
    assert err.text == "conv2d 64 k=9"
    assert str(err) == "layer 3 (conv2d 64 k=9): kernel 9 is larger than the input 5"
    assert [r.index for r in err.results] == [1, 2]
    assert err.input == err.results[-1].output
    assert isinstance(err, convcalc.ConvcalcError)
    assert isinstance(err, ValueError)


def test_spec_error_is_a_value_error_with_a_location() -> None:
    with pytest.raises(ValueError, match="did you mean") as info:
        convcalc.analyze("conv2d 8 k=3\nmaxpol k=2", "3x8x8")
    err = info.value
    assert isinstance(err, convcalc.SpecError)
    assert (err.line, err.column, err.word) == (2, 1, "maxpol")


def test_memory_figures_follow_batch_and_dtype() -> None:
    a = convcalc.analyze("conv2d 8 k=3 p=1 ; bn", "3x16x16")
    m1, m4 = a.memory(), a.memory(batch=4, dtype="fp16")
    wide = sum(lay.int64_buffers for lay in a.layers)  # num_batches_tracked: int64
    assert wide == 1
    assert m1.params == (a.params + a.buffers - wide) * 4 + wide * 8  # type: ignore[operator]
    assert m4.params == (a.params + a.buffers - wide) * 2 + wide * 8  # type: ignore[operator]
    assert m4.activations_peak == m1.activations_peak * 4 // 2  # type: ignore[operator]
    with pytest.raises(convcalc.SpecError, match="unknown dtype"):
        a.memory(dtype="float13")


def test_long_repetitive_chains_are_exact() -> None:
    # The engine caches per distinct layer text; a cache must not blur positions.
    block = "conv2d 8 k=3 p=1\nrelu\n"
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(block * 500 + "maxpool k=2\n" * 5, "8x16x16")
    assert info.value.index == 1005
    with pytest.raises(convcalc.SpecError) as spec_info:
        convcalc.analyze(block * 3 + "conv2d 8 k=3 p=1 stirde=2\n", "8x16x16")
    assert spec_info.value.line == 7


def test_importing_the_core_imports_neither_click_nor_rich() -> None:
    code = (
        "import convcalc, sys; convcalc.analyze('conv2d 8 k=3', '3x8x8'); "
        "print(sorted(m for m in ('click', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_bad_input_shape_is_not_blamed_on_the_file() -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze("conv2d 8 k=3", "3x0x8", filename="net.spec")
    assert info.value.filename is None
    assert info.value.source == "3x0x8"
    assert info.value.word == "0"


# -- the questions and writers: convcalc.solve, explain, lint, report, to_torch, read_print --
# Each is compared with what the command prints for the same network.


def _cli(*args: str) -> str:
    from click.testing import CliRunner

    from convcalc.cli.command import cli

    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _solve_cli(*args: str) -> Any:
    from click.testing import CliRunner

    from convcalc.cli.solve import solve_command

    result = CliRunner().invoke(solve_command, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


FLOOR = "conv2d 16 k=3 s=2; maxpool k=2; bn; relu"  # on 3x56x56: a row the floor drops


@pytest.mark.parametrize(
    ("spec", "shape", "target", "extra"),
    [
        ("conv2d 64 k=7 s=2 p=?", "3x224x224", "64x112x112", ()),
        ("conv2d k=3 s=2 p=?", "224", "112", ()),
        ("conv2d 64 k=7 s=2 p=? maxpool k=3 s=2 p=?", "3x224x224", "64x56x56", ()),
        ("Conv2D 64 3 strides=2 padding=?", "224x224x3", "112x112x64", ("--framework", "keras")),
    ],
)
def test_solve_is_the_commands(spec: str, shape: str, target: str, extra: tuple[str, ...]) -> None:
    framework = extra[1] if extra else None
    found = convcalc.solve(spec, shape, target, framework=framework)
    want = _solve_cli(*extra, "-i", shape, "-o", target, *spec.split(), "--format", "json")
    assert [s.to_dict() for s in found] == want
    assert found[0].output == convcalc.analyze(found[0].spec, shape, framework=framework).output


def test_solve_takes_the_commands_bounds_and_says_when_nothing_fits() -> None:
    spec, shape, target = "conv2d 8 k=?", "3x64x64", "8x40x40"
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.solve(spec, shape, target)
    assert info.value.nearest  # type: ignore[attr-defined]
    wide = convcalc.solve(spec, shape, target, limits="k=25")
    assert [s.to_dict() for s in wide] == _solve_cli(
        "-i", shape, "-o", target, *spec.split(), "--max", "k=25", "--format", "json"
    )


@pytest.mark.parametrize("spec", [FLOOR, "conv2d 8 k=3 p=1; as x; conv2d 8 k=3 p=1; add x"])
def test_explain_is_the_commands(spec: str) -> None:
    data = json.loads(_cli("-i", "3x56x56", *spec.split(), "--explain", "-o", "json"))
    steps = convcalc.explain(spec, "3x56x56", ascii=True)  # JSON's expressions are ASCII
    assert [s.to_dict() for s in steps] == data["explain"]
    analysis = convcalc.analyze(spec, "3x56x56")
    assert convcalc.explain(analysis) == convcalc.explain(spec, (3, 56, 56))
    assert {s.row for s in steps} <= {lay.index for lay in analysis.layers}


def test_lint_is_the_commands() -> None:
    data = json.loads(_cli("-i", "3x56x56", *FLOOR.split(), "-o", "json"))
    found = convcalc.lint(FLOOR, "3x56x56")
    assert [w.to_dict() for w in found] == data["warnings"]
    assert found and {w.code for w in found} == {"floor-drop"}
    assert convcalc.lint("relu", "3x8x8") == []
    # The input as written matters: 64 alone is a map of unknown channels.
    square = _cli("-i", "64", "convtranspose2d", "8", "k=2", "s=2", "-o", "json")
    assert [w.to_dict() for w in convcalc.lint("convtranspose2d 8 k=2 s=2", "64")] == (
        json.loads(square)["warnings"]
    )


def test_an_analysis_needs_no_shape_and_takes_none() -> None:
    analysis = convcalc.analyze(FLOOR, "3x56x56")
    assert convcalc.lint(analysis) == convcalc.lint(FLOOR, (3, 56, 56))
    with pytest.raises(TypeError, match="input_shape, batch: for a spec string"):
        convcalc.explain(analysis, "3x56x56", batch=2)


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ("conv2d 16 k=3 p=1; bn; relu; gap; flatten; linear 10", "3x32x32"),
        ("conv2d 8 k=3 p=1; as x; conv2d 8 k=3 p=1; bn; add x; relu", "8x16x16"),  # a graph
    ],
)
def test_to_torch_is_the_commands(spec: str, shape: str) -> None:
    code = convcalc.to_torch(spec, shape)
    assert code == _cli("-i", shape, *spec.split(), "-o", "torch")
    assert code == convcalc.to_torch(convcalc.analyze(spec, shape))


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        (
            "Conv2D 16 3 padding=same; BatchNormalization; ReLU; GlobalAveragePooling2D; Dense 10",
            "32x32x3",
        ),
        ("Conv2D 8 3 padding=same; as x; Conv2D 8 3 padding=same; add x", "16x16x8"),  # a graph
    ],
)
def test_to_keras_is_the_commands(spec: str, shape: str) -> None:
    code = convcalc.to_keras(spec, shape)
    assert code == _cli("--framework", "keras", "-i", shape, *spec.split(), "-o", "keras")
    assert code == convcalc.to_keras(convcalc.analyze(spec, shape, framework="keras"))


PRINT = """Sequential(
  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (1): ReLU(inplace=True)
  (2): Flatten(start_dim=1, end_dim=-1)
  (3): Linear(in_features=16384, out_features=10, bias=True)
)"""


def test_read_print_is_the_commands(tmp_path: Path) -> None:
    reading = convcalc.read_print(PRINT)
    assert reading.layers == 4
    analysis = convcalc.analyze(reading.spec, "3x32x32")
    assert analysis.to_dict() == convcalc.analyze_print(PRINT, "3x32x32").to_dict()
    path = tmp_path / "model.txt"
    path.write_text(PRINT, encoding="utf-8")
    data = json.loads(_cli("--from-torch", str(path), "-i", "3x32x32", "-o", "json"))
    assert data["layers"] == analysis.to_dict()["layers"]
    assert data["total"]["params"] == analysis.params


@pytest.mark.parametrize(
    ("fmt", "options", "args"),
    [
        ("json", {"warnings": True}, ()),  # the command lists any warnings in JSON
        ("json", {}, ("--no-warnings",)),
        (
            "json",
            {"explain": True, "ascii": True, "rf": True, "warnings": True},
            ("--explain", "--rf"),
        ),
        ("csv", {"explain": True, "ascii": True}, ("--explain",)),
        ("tsv", {}, ()),
        ("markdown", {"optimizer": "adam", "batch": 8}, ("--optimizer", "adam", "--batch", "8")),
        ("table", {"rf": True, "dtype": "float16"}, ("--rf", "--dtype", "float16")),
        ("table", {"explain": True}, ("--explain",)),
    ],
)
def test_a_report_written_is_the_commands_output(
    fmt: str, options: dict[str, Any], args: tuple[str, ...]
) -> None:
    """convcalc.report gathers what the command's options ask; any writer writes it."""
    import io

    from convcalc.formats.render import write

    report = convcalc.report(FLOOR, "3x56x56", **options)
    assert isinstance(report, convcalc.Report)
    assert report.memory == report.analysis.memory(options.get("batch"), report.dtype)
    out = io.StringIO()
    write(report, fmt, out)
    assert out.getvalue() == _cli("-i", "3x56x56", *FLOOR.split(), *args, "-o", fmt)
