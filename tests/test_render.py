"""The renderers: number formatting, golden tables, machine formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

import convcalc
from convcalc import render

SPEC_CHAIN = (
    "conv2d 64 k=7 s=2 p=3  maxpool2d k=3 s=2 p=1  conv2d 128 k=3 s=2 p=1  gap  flatten  linear 10"
)
STEM = "conv2d 64 k=7 s=2 p=3 bias=false; bn; relu; maxpool k=3 s=2 p=1; conv2d 64 k=3 p=1 g=dw"


def table(analysis: convcalc.Analysis, **kwargs: object) -> str:
    out = io.StringIO()
    render.draw_table(analysis, out, width=100, color=False, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "exact", "compact"),
    [
        (None, "?", "?"),
        (0, "0", "0"),
        (999, "999", "999"),
        (1_000, "1,000", "1.0 K"),
        (9_472, "9,472", "9.5 K"),
        (11_689_512, "11,689,512", "11.7 M"),
        (1_814_083_072, "1,814,083,072", "1.8 G"),
        (3 * 10**12, "3,000,000,000,000", "3.0 T"),
    ],
)
def test_numbers(value: int | None, exact: str, compact: str) -> None:
    assert render.exact(value) == exact
    assert render.compact(value) == compact


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "?"), (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (4_014_080, "3.8 MiB")],
)
def test_sizes(value: int | None, text: str) -> None:
    assert render.size(value) == text


def test_shapes_and_receptive_fields() -> None:
    assert render.shape((None, 16, 16)) == "?x16x16"
    assert render.shape((3, 224, 224), "×") == "3×224×224"
    rf = convcalc.ReceptiveField((11, 11), (4, 4), (-5, -5))
    assert render.rf_text(rf) == "11×11 /4"
    assert render.rf_text(convcalc.ReceptiveField((7, 3), (2, 1), (0, 0))) == "7×3 /2×1"
    assert render.rf_text(convcalc.ReceptiveField((5,), (1,), (0,))) == "5 /1"
    assert render.rf_text(None) == ""


@pytest.mark.parametrize(
    ("name", "spec", "shape"),
    [
        ("spec_chain.txt", SPEC_CHAIN, "3x224x224"),
        ("unknown_channels.txt", "conv2d k=3 s=2 p=1 d=1", "32"),
        ("stem.txt", STEM, "3x224x224"),
        ("conv1d.txt", "conv1d 32 k=5 s=2; relu; maxpool1d k=2; flatten; linear 4", "16x100"),
    ],
)
def test_golden_tables(
    golden: Callable[[str, str], None], name: str, spec: str, shape: str
) -> None:
    golden(name, table(convcalc.analyze(spec, shape)))


def test_golden_failed_table(golden: Callable[[str, str], None]) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=3; maxpool k=2; conv2d 64 k=9 p=1", "3x12x12")
    exc = info.value
    results = exc.results  # type: ignore[attr-defined]
    partial = convcalc.Analysis(results[0].input, results)
    golden("failed.txt", table(partial, failed=(exc.index, exc.text)))


def test_golden_markdown(golden: Callable[[str, str], None]) -> None:
    golden("spec_chain.md", render.to_markdown(convcalc.analyze(SPEC_CHAIN, "3x224x224")))


def test_plain_table_has_no_escape_codes_or_trailing_blanks() -> None:
    text = table(convcalc.analyze(STEM, "3x224x224"))
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_colour_on_request() -> None:
    out = io.StringIO()
    render.draw_table(convcalc.analyze(STEM, "3x64x64"), out, width=100, color=True)
    assert "\x1b[" in out.getvalue()


def test_a_pipe_never_wraps_the_table() -> None:
    long = " ".join(["conv2d 8 k=1 s=1 p=0 d=1 g=1 bias=true pm=zeros"] * 3)
    out = io.StringIO()
    render.draw_table(convcalc.analyze(long, "3x8x8"), out)  # width chosen automatically
    lines = out.getvalue().splitlines()
    assert any("conv2d 8 k=1 s=1 p=0 d=1 g=1 bias=true pm=zeros" in line for line in lines)
    assert len([line for line in lines if line[:1].isdigit()]) == 3


def test_ascii_output_stream_gets_ascii_shapes() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    render.draw_table(convcalc.analyze("conv2d 4 k=3", "3x8x8"), out, width=100, color=False)
    out.flush()
    assert "4x6x6" in raw.getvalue().decode("ascii")


@pytest.mark.parametrize(("batch", "dtype"), [(1, "float32"), (8, "float16"), (2, "bf16")])
def test_json_is_the_analysis_dict(batch: int, dtype: str) -> None:
    analysis = convcalc.analyze(STEM, "3x224x224")
    text = render.to_json(analysis, batch=batch, dtype=dtype)
    assert json.loads(text) == analysis.to_dict(batch=batch, dtype=dtype)


def test_json_unknowns_are_null() -> None:
    data = json.loads(render.to_json(convcalc.analyze("conv2d k=3 s=2 p=1", "32")))
    assert data["output"] == [None, 16, 16]
    assert data["layers"][0]["params"] is None
    assert data["total"]["params"] is None


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_delimited(delimiter: str) -> None:
    analysis = convcalc.analyze(STEM + "; gap; flatten; linear 10", "3x224x224")
    out = io.StringIO()
    render.write_delimited(analysis, out, delimiter)
    rows = list(csv.DictReader(io.StringIO(out.getvalue()), delimiter=delimiter))
    assert list(rows[0]) == list(render.CSV_HEADER)
    assert len(rows) == len(analysis.layers)
    assert rows[0]["spec"] == "conv2d 64 k=7 s=2 p=3 bias=false"
    assert rows[0]["input"] == "3x224x224"
    assert rows[0]["rf_start"] == "-3x-3"
    assert rows[-1]["rf_size"] == ""
    assert sum(int(r["params"]) for r in rows) == analysis.params
    assert sum(int(r["macs"]) for r in rows) == analysis.macs


def test_delimited_unknowns_are_empty() -> None:
    out = io.StringIO()
    render.write_delimited(convcalc.analyze("conv2d k=3", "32"), out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["params"] == ""
    assert row["output"] == "?x30x30"


def test_markdown_is_a_github_table() -> None:
    text = render.to_markdown(convcalc.analyze(SPEC_CHAIN, "3x224x224"))
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 6
    assert all(row.count("|") == 7 for row in rows)
    assert "| 1 | `conv2d 64 k=7 s=2 p=3` | 64×112×112 | 9,472 | 118,013,952 | 7×7 /2 |" in rows


def test_table_totals_match_the_analysis() -> None:
    """Every total the table prints is the Analysis's own figure."""
    analysis = convcalc.analyze(STEM + "; gap; flatten; linear 1000", "3x224x224")
    text = table(analysis)
    lines = dict(
        line.split(None, 1) for line in text.split("\n\n")[1].splitlines() if line[:1].isalpha()
    )
    assert lines["params"].startswith(render.exact(analysis.params) + "  ")
    assert lines["buffers"].startswith(render.exact(analysis.buffers) + "  ")
    assert lines["MACs"].startswith(render.exact(analysis.macs) + "  ")
    assert render.exact(analysis.macs) in text
    assert render.size(analysis.memory().activations_peak) in text


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal
    out = io.StringIO()
    render.draw_table(convcalc.analyze(STEM, "3x64x64"), out, width=100)
    assert "\x1b[36m" in out.getvalue()  # cyan shapes
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    render.draw_table(convcalc.analyze(STEM, "3x64x64"), out, width=100)
    assert "\x1b[36m" not in out.getvalue()
