"""``--from-torch``: what print(model) shows, read as a network. Every printed model in
tests/data/torch_prints.jsonl was made and run by PyTorch (tests/vectors/prints.py);
convcalc must agree with torch on every layer, and reject what torch rejects at the same
layer. Then the reader's own errors, each with its message and caret."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.torch_print import analyze_print, read_print
from tests.paths import DATA, EXAMPLES

PRINTS = [json.loads(line) for line in (DATA / "torch_prints.jsonl").open(encoding="utf-8")]
_LEAF = re.compile(r"\s*(?:\([^()\s]*\):\s*)?(?:(\d+) x )?[A-Za-z_][\w.]*\(.*\)\s*")


def _layer_of(text: str, offset: int) -> int:
    """1-based index of the leaf module at ``offset`` of a print (runs counted)."""
    index, pos = 0, 0
    for line in text.split("\n"):
        m = _LEAF.fullmatch(line)
        if m:
            index += int(m.group(1) or 1)
        if pos <= offset <= pos + len(line):
            return index
        pos += len(line) + 1
    raise AssertionError(f"offset {offset} is past the print")


def _problem(case: dict[str, Any]) -> str | None:
    reading = read_print(case["print"], assume_sequential=case["assume"])
    error = case["error"]
    try:
        result = convcalc.analyze(reading.spec, tuple(case["input"]))
    except (convcalc.ShapeError, convcalc.SpecError) as exc:
        located = reading.locate(exc)
        if error is None:
            return f"convcalc rejected what torch accepts: {located}"
        if isinstance(located, convcalc.ShapeError):
            at = located.index
        else:
            assert located.start is not None, located
            at = _layer_of(case["print"], located.start)
        if at != error["layer"]:
            return f"rejected at layer {at}, torch at {error['layer']}: {located}"
        return None
    if error is not None:
        return f"accepted what torch rejects ({error['message']})"
    got = [
        {"output": list(r.output), "params": r.params, "buffers": r.buffers, "macs": r.macs}
        for r in result.layers
    ]
    if got != case["layers"]:
        bad = next(i for i, (a, b) in enumerate(zip(got, case["layers"])) if a != b)
        return f"layer {bad + 1}: convcalc {got[bad]} != torch {case['layers'][bad]}"
    if reading.layers != len(got):
        return f"the reading counts {reading.layers} layers, the analysis has {len(got)}"
    return None


def test_the_prints_are_substantial() -> None:
    assert len(PRINTS) >= 400
    assert sum(1 for c in PRINTS if c["error"]) >= 50
    assert sum(1 for c in PRINTS if c["assume"]) >= 20
    assert sum(1 for c in PRINTS if " x " in c["print"]) >= 10  # ModuleList's folded runs
    assert sum(1 for c in PRINTS if "ModuleList(" in c["print"]) >= 50


# torchvision's own AlexNet and VGG prints: their forward is known (the flatten before
# the classifier), so --assume-sequential does not run them in print order.
MAPPED = [c for c in PRINTS if c["assume"] and c["print"].startswith(("AlexNet(", "VGG("))]


def test_every_print_agrees_with_torch() -> None:
    failures = [f"{c['id']}: {p}" for c in PRINTS if c not in MAPPED and (p := _problem(c))]
    assert not failures, f"{len(failures)} of {len(PRINTS)} differ:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("case", MAPPED, ids=lambda c: c["id"])
def test_known_forwards_run_as_torch_does(case: dict[str, Any]) -> None:
    """The model's own print runs as the Sequential(features, avgpool, Flatten,
    classifier) recorded before it: its forward."""
    assert len(MAPPED) == 4
    whole = PRINTS[PRINTS.index(case) - 1]
    assert "(2): Flatten" in whole["print"]
    for assume in (False, True):
        result = convcalc.analyze(
            read_print(case["print"], assume_sequential=assume).spec, tuple(case["input"])
        )
        assert [(list(r.output), r.params, r.macs) for r in result.layers] == [
            (r["output"], r["params"], r["macs"]) for r in whole["layers"]
        ]


def test_custom_containers_need_assume_sequential() -> None:
    for case in (c for c in PRINTS if c["assume"] and c not in MAPPED):
        with pytest.raises(convcalc.SpecError, match="pass --assume-sequential"):
            read_print(case["print"])


@pytest.mark.parametrize("marker", ["in_features=9216", "(30): MaxPool2d"])  # AlexNet, VGG-16
def test_real_models_read_whole(marker: str) -> None:
    """torchvision's networks as Sequential(features, avgpool, Flatten, classifier): the
    totals of torch's own rows for them."""
    case = next(
        c
        for c in PRINTS
        if "(2): Flatten" in c["print"] and marker in c["print"] and not c["assume"]
    )
    reading = read_print(case["print"])
    result = convcalc.analyze(reading.spec, tuple(case["input"]))
    assert result.params == sum(r["params"] for r in case["layers"])
    assert result.macs == sum(r["macs"] for r in case["layers"])
    assert [b.label for b in result.blocks] == ["0", "3"]
    # each row names the container's path, then its class, not the path again
    assert [b.spec for b in result.blocks] == ["Sequential", "Sequential_2"]


def test_a_containers_row_names_its_class_not_its_path_again() -> None:
    text = (
        "Net(\n  (features): Sequential(\n    (0): Sequential(\n      (0): ReLU()\n    )\n"
        "    (1): Sequential(\n      (0): ReLU()\n    )\n  )\n"
        "  (pool): ModuleList(\n    (0): ReLU()\n  )\n)\n"
    )
    result = convcalc.analyze(read_print(text, assume_sequential=True).spec, (3, 4, 4))
    rows = [f"{b.label}: {b.spec}" for b in result.blocks]
    assert rows == [
        "features: Sequential",
        "features.0: Sequential_2",
        "features.1: Sequential_3",
        "pool: ModuleList",
    ]


SEQ = "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): ReLU()\n)\n"


@pytest.mark.parametrize(
    ("text", "message", "word"),
    [
        (
            "Model(\n  (body): Sequential(\n    (0): ReLU()\n  )\n  (head): Linear(in_features=4, "
            "out_features=2, bias=True)\n)",
            "Model is not an nn.Sequential: its print lists its children (body, head) but not "
            "the order its forward() runs them in, nor what it does between them; print its "
            "Sequential parts, or pass --assume-sequential to run the children in print order",
            "Model",
        ),
        (
            "Sequential(\n  (0): MyLayer(3, 4)\n)",
            "convcalc does not know the module MyLayer (--list-layers lists the kinds)",
            "MyLayer",
        ),
        (
            "Sequential(\n  (0): Mish2()\n)",
            "convcalc does not know the module Mish2; did you mean Mish?",
            "Mish2",
        ),
        (
            "Sequential(\n  (0): Swish()\n)",
            "Swish is not a PyTorch class convcalc reads; write it as convcalc's swish …",
            "Swish",
        ),
        (
            "Sequential(\n  (0): MultiheadAttention(\n    (out_proj): NonDynamicallyQuantizable"
            "Linear(in_features=8, out_features=8, bias=True)\n  )\n)",
            "the print of MultiheadAttention leaves out num_heads, add_bias_kv and "
            "add_zero_attn: convcalc cannot read it; write the layer as a call instead, e.g. "
            "MultiheadAttention(512, 8, batch_first=True)",
            "MultiheadAttention",
        ),
        ("Sequential(\n  (0): ReLU()\n", "Sequential( is never closed", "Sequential"),
        (
            "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3)\n)",
            "Conv2d( is not closed on its line",
            "Conv2d",
        ),
        (
            "Net(\n  in_features=3\n  (0): ReLU()\n)",
            "Net's print holds a line that is not one of its children: convcalc reads modules "
            "whose print lists their children, one per line",
            "in_features=3",
        ),
        (
            "hello",
            "no module found: expected the text print(model) shows, e.g. 'Sequential(' "
            "then '(0): Conv2d(3, 64, kernel_size=(3, 3))' lines and ')'",
            "",
        ),
        (
            "Sequential(\n  (0): Permute()\n)",
            "Permute() needs dims (its required arguments: dims)",
            "Permute",
        ),
    ],
)
def test_reader_errors(text: str, message: str, word: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        analyze_print(text, (3, 16, 16))
    err = info.value
    assert err.message == message
    assert err.word == word
    assert err.source == text  # the caret points into the print itself


def test_a_shape_error_points_at_the_print_line() -> None:
    text = "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n  (1): Linear(in_features=5, out_features=2, bias=True)\n)"
    with pytest.raises(convcalc.ShapeError) as info:
        analyze_print(text, (3, 16, 16), filename="model.txt")
    err = info.value
    assert str(err).startswith("model.txt:3: layer 2 (Linear(in_features=5, ")
    assert err.index == 2
    assert err.reason == (
        "in_features=5 but the input's last dimension is 14 (the input is 8x14x14; flatten first?)"
    )
    assert (err.line, err.column) == (3, 8)


def test_prompts_and_indentation_are_skipped() -> None:
    pasted = "In [3]: model\nOut[3]: \n" + "".join("    " + line + "\n" for line in SEQ.split("\n"))
    assert analyze_print(pasted, (3, 16, 16)).output == (8, 14, 14)
    assert analyze_print("Out[3]: " + SEQ, (3, 16, 16)).output == (8, 14, 14)
    assert analyze_print(SEQ.replace("\n", "\r\n"), (3, 16, 16)).output == (8, 14, 14)


def test_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_text(">>> print(model)\n" + SEQ + ">>> \n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["--from-torch", str(path), "-i", "3x16x16", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["output"] for row in data["layers"]] == [[8, 14, 14], [8, 14, 14]]
    # extra layer words follow the print's layers; '-' reads stdin
    result = runner.invoke(
        cli, ["--from-torch", "-", "-i", "3x16x16", "flatten", "-o", "csv"], input=SEQ
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("3,flatten,flatten,8x14x14,1568,")


def test_the_cli_states_assume_sequential(tmp_path: Path) -> None:
    text = "Net(\n  (features): " + SEQ.replace("\n", "\n  ").rstrip() + "\n  (act): Tanh()\n)\n"
    path = tmp_path / "net.txt"
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    counted = runner.invoke(cli, ["--from-torch", str(path), "-i", "3x16x16"])
    assert counted.exit_code == 0  # its parameters only (tests/formats/test_torch_count.py)
    assert "forward order of Net (the model)" in counted.stderr
    ok = runner.invoke(cli, ["--from-torch", str(path), "-i", "3x16x16", "--assume-sequential"])
    assert ok.exit_code == 0, ok.output
    assert "Net's children run in print order (--assume-sequential)" in ok.stdout
    as_json = runner.invoke(
        cli, ["--from-torch", str(path), "-i", "3x16x16", "--assume-sequential", "-o", "json"]
    )
    assert "--assume-sequential" in json.loads(as_json.stdout)["sources"][0]["from"]
    as_csv = runner.invoke(
        cli, ["--from-torch", str(path), "-i", "3x16x16", "--assume-sequential", "-o", "csv"]
    )
    assert "--assume-sequential" in as_csv.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--assume-sequential", "relu", "-i", "3"], "--assume-sequential goes with --from-torch"),
        (["--from-torch", "x.txt", "-m", "resnet18"], "give --from-torch alone"),
        (["--from-torch", "missing.txt", "-i", "3"], "missing.txt: no such file"),
    ],
)
def test_cli_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_the_example_print_is_one_torch_made() -> None:
    text = (EXAMPLES / "alexnet_print.txt").read_text()
    assert text.rstrip("\n") in {c["print"] for c in PRINTS}
    model = (EXAMPLES / "alexnet_model_print.txt").read_text()
    assert model.rstrip("\n") in {c["print"] for c in PRINTS if c["assume"]}
