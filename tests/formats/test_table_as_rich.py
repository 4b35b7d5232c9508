"""The streamed table looks as Rich's Table drew it (tests/formats/rich_drawn.py,
the table code before it streamed): the same bytes without colour, and on a
terminal the same characters in the same styles (a style on a blank shows nothing,
so only the printed characters' styles count), at every width where the layout
changes and a few more, in every layout (wide, narrowed, wrapped, stacked)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

import convcalc
from convcalc.formats import table
from convcalc.formats.report import COMMAND_LINE, Report, Source, make_report
from convcalc.formats.rows import rows, totals
from convcalc.formats.table import LAYOUTS, RF_LAYOUTS, _table_width, _totals_width
from tests.formats import rich_drawn
from tests.paths import EXAMPLES

STEM = "conv2d 64 k=7 s=2 p=3 bias=false; bn; relu; maxpool k=3 s=2 p=1; conv2d 64 k=3 p=1 g=dw"
GRAPH = (
    "block res C; as x; conv2d C k=3 p=1 bias=false; bn; relu; conv2d C k=3 p=1 bias=false; "
    "bn; add x; relu; end; res 16 x2; conv2d 16 k=3 p=1 name=enc; as trunk; gap; flatten; "
    "linear 10; as aux; from trunk; relu; use enc; gap; flatten; linear 10"
)
NAMED = "conv2d 8 k=3 p=1; as 特征层的一个很长的名字; relu; conv2d 8 k=3 p=1; add 特征层的一个很长的名字"

# name: (input, spec, make_report's options)
CASES: dict[str, tuple[str | None, str, dict[str, object]]] = {
    "vgg16": (None, (EXAMPLES / "vgg16.spec").read_text(), {}),
    "stem": ("3x224x224", STEM + "; adaptiveavgpool2d 7; flatten; linear 1000", {}),
    "unknown": ("32", "conv2d k=3 s=2 p=1 d=1; bn; flatten; linear 10", {"optimizer": "sgd"}),
    "graph": ("16x16x16", GRAPH, {"rf": True, "batch": 8, "optimizer": "adam"}),
    "depth1": ("16x16x16", GRAPH, {"depth": 1}),
    "depth0": ("16x16x16", GRAPH, {"depth": 0}),
    "explain": ("3x64x64", STEM, {"explain": True}),
    "wide characters": ("3x32x32", NAMED, {}),
    "long words": (
        "512x14x14",
        "adaptiveavgpool2d 7; conv2d 8 k=1 name=a_long_name_without_digits; flatten; linear 1000",
        {},
    ),
}


def _reports() -> Iterator[tuple[str, Report]]:
    for name, (shape, spec, options) in CASES.items():
        yield name, make_report(convcalc.analyze(spec, shape), **options)  # type: ignore[arg-type]
    keras = convcalc.analyze(
        "Conv2D 64 3 padding=same; MaxPooling2D 2", "32x32x3", framework="keras"
    )
    yield "keras", make_report(keras)
    sources = [Source("models/a/long/path/net.spec", 1, 2), Source(COMMAND_LINE, 3, 3)]
    yield (
        "sources",
        make_report(convcalc.analyze("conv2d 8 k=3; relu; gap", "3x8x8"), sources=sources),
    )
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=3; maxpool k=2; conv2d 64 k=9 p=1", "3x12x12")
    results = info.value.results  # type: ignore[attr-defined]
    partial = convcalc.Analysis(results[0].input, results)
    yield "failed", Report(partial, failed=(info.value.index, info.value.text))


REPORTS = dict(_reports())


def _widths(report: Report) -> list[int | None]:
    """Where the drawing changes: each layout's narrowest width and one less, the
    totals grid's, and a few terminals."""
    table_rows = rows(report)
    edges = [_table_width(table_rows, lay) for lay in (RF_LAYOUTS if report.rf else LAYOUTS)]
    if report.failed is None:
        edges.append(_totals_width(totals(report)))
    found = {w + d for w in edges for d in (-1, 0)} | {24, 40, 80}
    return [None, *sorted(w for w in found if w >= 16)]


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _styled(text: str) -> list[tuple[str, str]]:
    """Each character with the escape codes in force (a blank: none)."""
    out: list[tuple[str, str]] = []
    codes, pos = "", 0
    for match in SGR.finditer(text):
        out += [(ch, "" if ch == " " else codes) for ch in text[pos : match.start()]]
        codes = "" if match.group(1) in ("", "0") else match.group(1)
        pos = match.end()
    return out + [(ch, "" if ch == " " else codes) for ch in text[pos:]]


def _draw(module: object, report: Report, width: int | None, mode: str) -> str:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii" if "ascii" in mode else "utf-8", newline="")
    color = None if mode == "no color" else "color" in mode
    module.write_table(report, out, width=width, color=color)  # type: ignore[attr-defined]
    out.flush()
    return raw.getvalue().decode()


MODES = ["plain", "plain ascii", "color", "color ascii", "no color"]


# An ASCII terminal gets the command's ASCII explanation, and cannot show the wide
# characters at all: those two reports are no table question there.
CASES = [
    (name, mode)
    for name in sorted(REPORTS)
    for mode in MODES
    if not (name in ("explain", "wide characters") and "ascii" in mode)
]


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_the_table_is_drawn_as_rich_drew_it(
    name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = REPORTS[name]
    for key in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    if mode == "no color":  # a terminal (FORCE_COLOR) under NO_COLOR: bold and dim, no colour
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("NO_COLOR", "1")
    for width in _widths(report):
        if width is None and mode != "plain":
            continue
        drawn = _draw(rich_drawn, report, width, mode)
        streamed = _draw(table, report, width, mode)
        if mode.startswith("plain"):
            assert streamed == drawn, (width, streamed, drawn)
        else:
            assert SGR.sub("", streamed) == SGR.sub("", drawn), (width, streamed, drawn)
            assert _styled(streamed) == _styled(drawn), (width, streamed, drawn)
