"""--list-layers and --help-layer: generated from the registry, every kind with
its summary, its arguments and an example that convcalc has run."""

from __future__ import annotations

import re

import pytest

import convcalc
from convcalc.cli import catalog
from convcalc.kinds import REGISTRY


def test_every_kind_is_listed_once_with_its_summary() -> None:
    text = catalog.layer_list()
    for entry in REGISTRY.values():
        assert f"  {entry.cls.SUMMARY}" in text
    summaries = {entry.cls.SUMMARY for entry in REGISTRY.values()}
    lines = text.split("\n\nOne kind in detail")[0].splitlines()
    col = lines[1].index("conv1d")  # where the names start
    listed = [
        name.strip(",")
        for line in lines
        if line.startswith("  ") and len(line) > col and line.strip() not in summaries
        for name in line[col:].split()
    ]
    assert sorted(listed) == sorted(REGISTRY)


def test_sections_follow_the_modules() -> None:
    text = catalog.layer_list()
    titles = [line[:-1] for line in text.splitlines() if line.endswith(":") and line[0] != " "]
    known = [t for t in titles if t in catalog.SECTIONS]
    assert known == [t for t in catalog.SECTIONS if t in titles]
    assert titles[0] == "Convolution"
    section = text.split("Pooling:\n", 1)[1].split("\n\n", 1)[0]
    assert "maxpool2d" in section
    assert "conv2d" not in section


def test_the_list_fits_its_width() -> None:
    for width in (60, 80, 100):
        assert catalog.layer_list(width).endswith("convcalc --help-layer KIND\n")
        lines = catalog.layer_list(width).splitlines()
        assert max(len(line) for line in lines) <= width


@pytest.mark.parametrize("word", sorted(REGISTRY))
def test_help_for_every_kind(word: str) -> None:
    entry = REGISTRY[word]
    text = catalog.layer_help(word)
    assert text.startswith(f"{word}: {entry.cls.SUMMARY}\n")
    for param in entry.params:
        assert param.name in text
        for key in param.aliases:
            assert f"{key}=" in text
    # The example ran: the figures shown are convcalc's own for it.
    layer, shape, analysis = catalog.example(word)
    assert analysis is not None, f"no working example for {word}: give its class an EXAMPLE"
    assert f"  convcalc -i {shape} {layer}\n" in text
    last = analysis.layers[-1]
    assert f"  → {convcalc.formats.text.shape(last.output, '×')}, " in text


def test_help_shows_defaults_and_words() -> None:
    text = catalog.layer_help("conv2d")
    assert re.search(r"\n  s=\s+stride=\s+integer or tuple; default 1\n", text)
    assert re.search(r"\n  k=\s+kernel_size=\s+integer or tuple; required\n", text)
    assert "the words depthwise, dw alone: groups=dw" in text
    assert "A boolean key alone means true: ceil is ceil=true." in catalog.layer_help("maxpool")
    assert "usage: conv2d [out_channels] k=… [key=value …]" in text
    assert "also: conv1d, conv3d, conv" in text


def test_a_note_is_shown_when_the_class_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = REGISTRY["groupnorm"].cls
    monkeypatch.setattr(cls, "NOTE", "", raising=False)
    assert "note:" not in catalog.layer_help("groupnorm")
    monkeypatch.setattr(cls, "NOTE", "statistics span every position", raising=False)
    assert catalog.layer_help("groupnorm").endswith("\nnote: statistics span every position\n")


def test_a_class_example_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = REGISTRY["linear"].cls
    monkeypatch.setattr(cls, "EXAMPLE", "7", raising=False)
    monkeypatch.setattr(cls, "EXAMPLE_INPUT", "3", raising=False)
    layer, shape, analysis = catalog.example("linear")
    assert (layer, shape) == ("linear 7", "3")
    assert analysis is not None
    assert analysis.output == (7,)


@pytest.mark.parametrize("word", ["cropping1d", "cropping2d", "cropping3d"])
def test_keras_croppings_state_the_default_a_bare_layer_has(word: str) -> None:
    """Keras's default cropping differs by class (Cropping2D crops nothing): the help
    states each class's own, and it is what the bare layer does in Keras's vectors."""
    import json

    from convcalc.kinds.frameworks import get
    from tests.paths import DATA

    text = catalog.layer_help(word, get("keras"))
    default = int(
        re.search(r"\n    cropping \(value 1\)\s+integer or tuple; default (\d)", text)[1]
    )  # type: ignore[index]
    assert "(1, 0, 1)" not in text
    bare = [
        case
        for line in (DATA / "keras_cases.jsonl").read_text().splitlines()
        for case in (json.loads(line),)
        if case["spec"].lower() == word and case["error"] is None
    ]
    assert bare
    for case in bare:
        spatial = case["input"][:-1]
        assert case["layers"][-1]["output"][:-1] == [v - 2 * default for v in spatial]
        explicit = f"{word} {default}"
        result = convcalc.analyze(explicit, tuple(case["input"]), framework="keras")
        assert list(result.output) == case["layers"][-1]["output"]


def test_every_kind_module_names_a_known_section() -> None:
    import sys

    from convcalc.kinds import frameworks

    for name in frameworks.FRAMEWORKS:
        for entry in frameworks.get(name).registry.values():
            module = sys.modules[entry.cls.__module__]
            assert getattr(module, "SECTION", None) in catalog.SECTIONS, module.__name__


@pytest.mark.parametrize(
    ("framework", "word", "short", "shape"),
    [
        (
            "torch",
            "transformerencoder",
            "transformerencoder TransformerEncoderLayer(64, 8) 6",
            (10, 64),
        ),
        (
            "torch",
            "transformerdecoder",
            "transformerdecoder TransformerDecoderLayer(64, 8) 6 memory=input",
            (10, 64),
        ),
    ],
)
def test_no_framework_order_a_short_form_cannot_write(
    framework: str, word: str, short: str, shape: tuple[int, ...]
) -> None:
    """A value written only as a call (a layer) ends a short form's values, so the
    framework's positional order cannot be written after it: the help shows the call
    alone. Written that way, the short form is refused."""
    from convcalc.kinds.frameworks import get

    text = catalog.layer_help(word, get(framework))
    assert "s order)" not in text
    assert "call)\n" in text
    with pytest.raises(convcalc.ConvcalcError):
        convcalc.analyze(short, shape, framework=framework)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "usage", "inner"),
    [("bidirectional", "layer=…", "LSTM(8)"), ("timedistributed", "layer=…", "Dense(8)")],
)
def test_a_layer_argument_is_given_by_its_key_in_a_short_form(
    word: str, usage: str, inner: str
) -> None:
    """Keras's wrappers take their layer as a call, which would start a statement of
    its own after the word: the usage shows it keyed (layer=LSTM(8)), and so it works."""
    from convcalc.kinds.frameworks import get

    text = catalog.layer_help(word, get("keras"))
    assert f"usage: {word} {usage}" in text
    assert "(value 1)" not in text
    assert convcalc.analyze(f"{word} layer={inner}", (10, 4), framework="keras").output
    with pytest.raises(convcalc.SpecError, match=f"{word} needs layer"):
        convcalc.analyze(f"{word} {inner}", (10, 4), framework="keras")


def test_the_framework_order_a_short_form_can_write() -> None:
    text = catalog.layer_help("conv2d")
    assert "   or: conv2d in_channels out_channels kernel_size …  (PyTorch's order)\n" in text
    assert convcalc.analyze("conv2d 3 64 3", (3, 8, 8)).output == (64, 6, 6)
