"""CSV (RFC 4180) and TSV: one row per layer, for programs and spreadsheets. The
standard library's csv module only; unknown figures are empty fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from convcalc.formats.text import shape

if TYPE_CHECKING:
    from convcalc.formats.report import Report
    from convcalc.network.analysis import Analysis, LayerResult, ReceptiveField
    from convcalc.network.subtotals import BlockResult

__all__ = ["CSV_HEADER", "csv_rows", "write_delimited"]

CSV_HEADER = (
    "index",
    "kind",
    "spec",
    "input",
    "output",
    "params",
    "trainable",
    "buffers",
    "macs",
    "rf_size",
    "rf_stride",
    "rf_start",
    "block",
    "inputs",
    "name",
    "shared",
    "side",
)


def _rf_fields(rf: ReceptiveField | None) -> tuple[str, str, str]:
    if rf is None:
        return ("", "", "")
    return (shape(rf.size), shape(rf.stride), shape(rf.start))


def csv_rows(report: Report) -> Iterable[tuple[Any, ...]]:
    """The header, then one row per layer (with the report's ``depth``, per folded
    block instance too: kind ``block``, index ``first-last``); unknown figures are
    empty fields, ``inputs`` the rows read (0 = the input), space-separated. With
    its ``explain``, a last column holds each row's steps, joined by "; "."""
    rows = _rows(report.analysis, report.depth)
    if report.explain is None:
        yield from rows
        return
    lines: dict[int, list[str]] = {}
    for step in report.explain:
        lines.setdefault(step.row, []).append(step.line())
    for row in rows:
        if row is CSV_HEADER:
            yield (*row, "explain")
        else:
            index = row[0]
            yield (*row, "; ".join(lines.get(index, [])) if isinstance(index, int) else "")


def _rows(analysis: Analysis, depth: int | None) -> Iterable[tuple[Any, ...]]:
    yield CSV_HEADER

    def num(v: int | None) -> int | str:
        return "" if v is None else v

    for item in analysis.rows(depth):
        if item.is_block:  # a folded block instance
            block: BlockResult = item  # type: ignore[assignment]
            yield (
                f"{block.first}-{block.last}",
                "block",
                block.spec,
                shape(block.input),
                shape(block.output),
                num(block.params),
                num(block.trainable),
                num(block.buffers),
                num(block.macs),
                "",
                "",
                "",
                "/".join(block.block),
                "",
                "",
                "",
                "",
            )
            continue
        lay: LayerResult = item  # type: ignore[assignment]
        yield (
            lay.index,
            lay.kind,
            lay.spec,
            shape(lay.input),
            shape(lay.output),
            num(lay.params),
            num(lay.trainable),
            num(lay.buffers),
            num(lay.macs),
            *_rf_fields(lay.rf),
            "/".join(lay.block),
            " ".join(map(str, lay.inputs)),
            lay.name or "",
            "" if lay.shared is None else lay.shared,
            "true" if lay.side else "",
        )


def write_delimited(report: Report, out: TextIO, delimiter: str = ",") -> None:
    """CSV (RFC 4180 quoting) or TSV, written as it goes."""
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows(csv_rows(report))
