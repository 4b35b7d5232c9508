"""The renderers: number formatting, golden tables, machine formats."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import convcalc
from convcalc.formats import text as numbers
from convcalc.formats.delimited import CSV_HEADER, write_delimited
from convcalc.formats.jsonout import to_json
from convcalc.formats.markdown import to_markdown
from convcalc.formats.report import COMMAND_LINE, Report, Source, make_report
from convcalc.formats.rows import rows, totals
from convcalc.formats.table import LAYOUTS, _table_width, write_table
from convcalc.network import memory
from tests.paths import EXAMPLES

SPEC_CHAIN = (
    "conv2d 64 k=7 s=2 p=3  maxpool2d k=3 s=2 p=1  conv2d 128 k=3 s=2 p=1  gap  flatten  linear 10"
)
STEM = "conv2d 64 k=7 s=2 p=3 bias=false; bn; relu; maxpool k=3 s=2 p=1; conv2d 64 k=3 p=1 g=dw"


def report(
    analysis: convcalc.Analysis, *, failed: tuple[int, str] | None = None, **options: Any
) -> Report:
    """The report the command builds for ``analysis`` (a partial one with ``failed``)."""
    if failed is not None:
        return Report(analysis, failed=failed)
    return make_report(analysis, **options)


def table(analysis: convcalc.Analysis, **options: Any) -> str:
    out = io.StringIO()
    write_table(report(analysis, **options), out, width=100, color=False)
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
        # Rounding carries into the next unit.
        (999_949, "999,949", "999.9 K"),
        (999_950, "999,950", "1.0 M"),
        (999_950_000_000, "999,950,000,000", "1.0 T"),
        # Through P and E, then scientific notation; exact integers, no float artefacts.
        (269_989_200_000_000_000, "269,989,200,000,000,000", "270.0 P"),
        (5 * 10**18, "5,000,000,000,000,000,000", "5.0 E"),
        (999_949 * 10**15, "999,949,000,000,000,000,000", "999.9 E"),
        (999_950 * 10**15, "999,950,000,000,000,000,000", "1.0e21"),
        (999_999_999_999_999_983_222_784, "999,999,999,999,999,983,222,784", "1.0e24"),
        (123_456 * 10**30, "123,456" + ",000" * 10, "1.2e35"),
        (10**400 + 1, f"{10**400 + 1:,}", "1.0e400"),
        (-1_500, "-1,500", "-1.5 K"),
    ],
)
def test_numbers(value: int | None, exact: str, compact: str) -> None:
    assert numbers.exact(value) == exact
    assert numbers.compact(value) == compact


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "?"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (4_014_080, "3.8 MiB"),
        (1_048_524, "1023.9 KiB"),
        (1_048_575, "1.0 MiB"),  # 1023.999 KiB carries into MiB
        (2**50, "1.0 PiB"),
        (3 * 2**60, "3.0 EiB"),
        (2**70, "1.2e21 B"),
    ],
)
def test_sizes(value: int | None, text: str) -> None:
    assert numbers.size(value) == text


@pytest.mark.parametrize("n", [10**k + d for k in range(3, 40) for d in (-1, 0, 1)])
def test_compact_is_never_a_float_artefact(n: int) -> None:
    """The compact form is the exact value rounded half up to one decimal."""
    from decimal import ROUND_HALF_UP, Decimal, localcontext

    text = numbers.compact(n)
    if n < 1000:
        assert text == str(n)
        return
    if "e" in text:
        mantissa, exponent = text.split("e")
        scale = Decimal(10) ** int(exponent)
    else:
        mantissa, unit = text.split(" ")
        scale = Decimal(1000) ** (" KMGTPE".index(unit))
    with localcontext() as context:
        context.prec = 100
        expected = (Decimal(n) / scale).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert Decimal(mantissa) == expected
    assert Decimal(mantissa) < 1000


def test_shapes_and_receptive_fields() -> None:
    assert numbers.shape((None, 16, 16)) == "?x16x16"
    assert numbers.shape((3, 224, 224), "×") == "3×224×224"
    rf = convcalc.ReceptiveField((11, 11), (4, 4), (-5, -5))
    assert numbers.rf_text(rf) == "11×11 /4"
    assert numbers.rf_text(convcalc.ReceptiveField((7, 3), (2, 1), (0, 0))) == "7×3 /2×1"
    assert numbers.rf_text(convcalc.ReceptiveField((5,), (1,), (0,))) == "5 /1"
    assert numbers.rf_text(None) == ""


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
    golden("spec_chain.md", to_markdown(report(convcalc.analyze(SPEC_CHAIN, "3x224x224"))))


def test_plain_table_has_no_escape_codes_or_trailing_blanks() -> None:
    text = table(convcalc.analyze(STEM, "3x224x224"))
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_colour_on_request() -> None:
    out = io.StringIO()
    write_table(report(convcalc.analyze(STEM, "3x64x64")), out, width=100, color=True)
    assert "\x1b[" in out.getvalue()


def test_a_pipe_never_wraps_the_table() -> None:
    long = " ".join(["conv2d 8 k=1 s=1 p=0 d=1 g=1 bias=true pm=zeros"] * 3)
    out = io.StringIO()
    write_table(report(convcalc.analyze(long, "3x8x8")), out)  # width chosen automatically
    lines = out.getvalue().splitlines()
    assert any("conv2d 8 k=1 s=1 p=0 d=1 g=1 bias=true pm=zeros" in line for line in lines)
    assert len([line for line in lines if line[:1].isdigit()]) == 3


def test_ascii_output_stream_gets_ascii_shapes() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    write_table(report(convcalc.analyze("conv2d 4 k=3", "3x8x8")), out, width=100, color=False)
    out.flush()
    assert "4x6x6" in raw.getvalue().decode("ascii")


@pytest.mark.parametrize(("batch", "dtype"), [(1, "float32"), (8, "float16"), (2, "bf16")])
def test_json_is_the_analysis_dict(batch: int, dtype: str) -> None:
    analysis = convcalc.analyze(STEM, "3x224x224")
    text = to_json(report(analysis, batch=batch, dtype=dtype))
    assert json.loads(text) == analysis.to_dict(batch=batch, dtype=dtype)


def test_json_unknowns_are_null() -> None:
    data = json.loads(to_json(report(convcalc.analyze("conv2d k=3 s=2 p=1", "32"))))
    assert data["output"] == [None, 16, 16]
    assert data["layers"][0]["params"] is None
    assert data["total"]["params"] is None


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_delimited(delimiter: str) -> None:
    analysis = convcalc.analyze(STEM + "; gap; flatten; linear 10", "3x224x224")
    out = io.StringIO()
    write_delimited(report(analysis), out, delimiter)
    rows = list(csv.DictReader(io.StringIO(out.getvalue()), delimiter=delimiter))
    assert list(rows[0]) == list(CSV_HEADER)
    assert len(rows) == len(analysis.layers)
    assert rows[0]["spec"] == "conv2d 64 k=7 s=2 p=3 bias=false"
    assert rows[0]["input"] == "3x224x224"
    assert rows[0]["rf_start"] == "-3x-3"
    assert rows[-1]["rf_size"] == ""
    assert sum(int(r["params"]) for r in rows) == analysis.params
    assert sum(int(r["macs"]) for r in rows) == analysis.macs


def test_delimited_unknowns_are_empty() -> None:
    out = io.StringIO()
    write_delimited(report(convcalc.analyze("conv2d k=3", "32")), out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["params"] == ""
    assert row["output"] == "?x30x30"


def test_markdown_is_a_github_table() -> None:
    text = to_markdown(report(convcalc.analyze(SPEC_CHAIN, "3x224x224")))
    layers, _totals = (block.splitlines() for block in text.split("\n\n")[1:])
    assert len(layers) == 2 + 6
    assert all(row.count("|") == 7 for row in layers)
    assert "| 1 | `conv2d 64 k=7 s=2 p=3` | 64×112×112 | 9,472 | 118,013,952 | 7×7 /2 |" in layers


def test_markdown_totals_are_a_table_of_their_own() -> None:
    """GitHub joins adjacent lines of text into one paragraph: every line of the
    totals is a table row, and the paragraphs are apart."""
    analysis = convcalc.analyze(SPEC_CHAIN, "3x224x224")
    training = memory.training_memory(analysis, 1, "float32", "momentum")
    text = to_markdown(report(analysis, optimizer="momentum"))
    paragraphs = text.rstrip("\n").split("\n\n")
    assert paragraphs[0] == "Input: 3×224×224"
    for table in paragraphs[1:]:
        rows = table.splitlines()
        assert all(row.startswith("|") and row.endswith("|") for row in rows)
        assert len({row.count("|") for row in rows}) == 1
    totals = paragraphs[2].splitlines()
    assert totals[:2] == ["| total | | |", "|:------|--:|:--|"]
    assert "| params | 84,618 | 84.6 K · all trainable |" in totals
    assert "| MACs | 175,817,984 | 175.8 M per sample |" in totals
    assert (
        f"| training | {numbers.size(training.total)} | estimate for momentum (batch 1, float32): |"
        in totals
    )


def test_table_totals_match_the_analysis() -> None:
    """Every total the table prints is the Analysis's own figure."""
    analysis = convcalc.analyze(STEM + "; gap; flatten; linear 1000", "3x224x224")
    text = table(analysis)
    lines = dict(
        line.split(None, 1) for line in text.split("\n\n")[1].splitlines() if line[:1].isalpha()
    )
    assert lines["params"].startswith(numbers.exact(analysis.params) + "  ")
    assert lines["buffers"].startswith(numbers.exact(analysis.buffers) + "  ")
    assert lines["MACs"].startswith(numbers.exact(analysis.macs) + "  ")
    assert numbers.exact(analysis.macs) in text
    assert numbers.size(analysis.memory().activations_peak) in text


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal
    out = io.StringIO()
    write_table(report(convcalc.analyze(STEM, "3x64x64")), out, width=100)
    assert "\x1b[36m" in out.getvalue()  # cyan shapes
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    write_table(report(convcalc.analyze(STEM, "3x64x64")), out, width=100)
    assert "\x1b[36m" not in out.getvalue()


# -- narrow terminals: never a cut number (issue 10, item 7) --------------------------------

NETWORKS = {
    "vgg16": (None, (EXAMPLES / "vgg16.spec").read_text()),
    "stem": ("3x224x224", STEM + "; adaptiveavgpool2d 7; flatten; linear 1000"),
    "unknown": ("32", "conv2d k=3 s=2 p=1 d=1; maxpool k=2"),
    "seq": ("128", "embedding 32000 512; rmsnorm; linear 2048; glu; linear 512"),
    "graph": (
        "16x32x32",
        "block res C; as x; conv2d C k=3 p=1 bias=false; bn; relu; conv2d C k=3 p=1 "
        "bias=false; bn; add x; relu; end; res 16 x2; conv2d 32 k=3 s=2 p=1 name=down; as y; "
        "gap; conv2d 8 k=1; relu; conv2d 32 k=1; sigmoid; mul y; gap; flatten; linear 10",
    ),
}


def _figures(analysis: convcalc.Analysis) -> list[set[str]]:
    """Per layer: its shape, and its params and MACs in any of their forms."""
    out = []
    for lay in analysis.layers:
        out.append({numbers.shape(lay.output, "×")})
        if lay.params != 0:  # a narrow listing leaves a zero out
            out.append({numbers.exact(lay.params), numbers.compact(lay.params)})
        if lay.macs != 0:
            out.append({numbers.compact(lay.macs)})
    return out


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("width", [24, 30, 36, 40, 44, 50, 56, 60, 66, 72, 80, 100, 140])
def test_no_figure_is_ever_cut(name: str, width: int) -> None:
    shape, spec = NETWORKS[name]
    analysis = convcalc.analyze(spec, shape)
    out = io.StringIO()
    write_table(report(analysis, batch=8, optimizer="adam"), out, width=width, color=False)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width, text
    assert "…" not in text
    for word in (w for lay in analysis.layers for w in lay.spec.split()):
        if re.search(r"(?<![A-Za-z_])[0-9]", word):  # a number in the layer's text: whole
            assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", text, re.M), (word, text)
    for forms in _figures(analysis):
        assert any(re.search(rf"(^|\s){re.escape(f)}(\s|$)", text, re.M) for f in forms), (
            forms,
            text,
        )
    for total in totals(report(analysis, batch=8, optimizer="adam")):
        assert re.search(rf"(^|\s){re.escape(total.value)}(\s|$)", text, re.M), (total, text)


def test_the_layouts_in_order() -> None:
    analysis = convcalc.analyze(*reversed(NETWORKS["vgg16"]))
    table_rows = rows(report(analysis))
    widths = [_table_width(table_rows, layout) for layout in LAYOUTS]
    assert widths == sorted(widths, reverse=True)

    def header(width: int) -> str:
        out = io.StringIO()
        write_table(report(analysis), out, width=width, color=False)
        return out.getvalue().splitlines()[1]

    assert header(widths[0]).split() == ["#", "layer", "output", "params", "MACs", "RF"]
    assert header(widths[0] - 1).split() == ["#", "layer", "output", "params", "MACs"]
    assert header(widths[2]).split() == ["#", "layer", "output", "params", "MACs"]
    assert header(widths[2] - 1).split()[:2] == ["1", "conv2d"]  # a layer per two lines


def test_stacked_layout() -> None:
    analysis = convcalc.analyze("conv2d 64 k=3 p=1; relu; flatten; linear 10", "3x8x8")
    out = io.StringIO()
    write_table(report(analysis), out, width=30, color=False)
    assert out.getvalue().split("\n\n")[0].splitlines() == [
        "input 3×8×8",
        "1  conv2d 64 k=3 p=1",
        "   64×8×8 · 1.8 K params",
        "   110.6 K MACs · RF 3×3 /1",
        "2  relu",
        "   64×8×8 · RF 3×3 /1",
        "3  flatten",
        "   4096",
        "4  linear 10",
        "   10 · 41.0 K params",
        "   41.0 K MACs",
    ]


def test_a_long_kind_name_may_fold_but_a_number_never() -> None:
    analysis = convcalc.analyze("adaptiveavgpool2d 7; flatten; linear 1000", "512x14x14")
    narrowest = _table_width(rows(report(analysis)), LAYOUTS[-1])
    out = io.StringIO()
    write_table(report(analysis), out, width=narrowest, color=False)
    lines = out.getvalue().splitlines()
    assert lines[1].split() == ["#", "layer", "output", "params", "MACs"]
    assert lines[3].split()[:2] == ["1", "adaptiveav"]  # folded where it has no digit
    assert lines[4].split() == ["gpool2d", "7"]
    assert lines[6].split() == ["3", "linear", "1000", "25.1", "M", "25.1", "M"]
    assert lines[7].split() == ["1000"]  # wrapped at the space, whole


def test_sources_under_the_title() -> None:
    analysis = convcalc.analyze("conv2d 8 k=3; relu; gap", "3x8x8")
    sources = [Source("net.spec", 1, 2), Source(COMMAND_LINE, 3, 3)]
    assert table(analysis, sources=sources).splitlines()[:2] == [
        "input 3×8×8",
        "layers 1–2 from net.spec, 3 from the command line",
    ]
    data = json.loads(to_json(report(analysis, sources=sources)))
    assert data["sources"] == [
        {"from": "net.spec", "first": 1, "last": 2},
        {"from": "the command line", "first": 3, "last": 3},
    ]


def test_training_rows_in_the_totals() -> None:
    analysis = convcalc.analyze(STEM, "3x224x224")
    training = memory.training_memory(analysis, 16, "bf16", "adam")
    lines = totals(report(analysis, batch=16, dtype="bf16", optimizer="adam"))
    assert [t.label for t in lines][-5:] == ["training", "", "", "", ""]
    assert [t.value for t in lines][-5:] == [
        numbers.size(v)
        for v in (
            training.total,
            training.params,
            training.gradients,
            training.optimizer_state,
            training.activations,
        )
    ]
    data = json.loads(to_json(report(analysis, batch=16, dtype="bf16", optimizer="adam")))
    assert data["training_memory"] == training.to_dict()
