"""Markdown: a GitHub table of the layers (from the same rows as the terminal
table, rows.py), the totals as a second table, then what --rf and --explain add."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from convcalc.formats.rows import Row, convention, rows, sources_text, totals
from convcalc.formats.text import exact, shape

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.formats.report import Report
    from convcalc.network.analysis import Analysis

__all__ = ["to_markdown", "write_markdown"]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_row(row: Row, rf: bool = False) -> str:
    text = row.layer.lstrip(" ")
    indent = "&nbsp;" * (len(row.layer) - len(text))  # GitHub trims a cell's spaces
    layer = f"{indent}**`{_md_cell(text)}`**" if row.header else f"{indent}`{_md_cell(text)}`"
    if row.note:
        layer += f" {_md_cell(row.note)}"
    macs = f"({exact(row.macs)})" if row.side else exact(row.macs)
    field = f"{row.rf} | {row.rf_stride} | {row.rf_start}" if rf else row.rf
    return f"| {row.number} | {layer} | {row.output} | {exact(row.params)} | {macs} | {field} |"


def _md_explain(analysis: Analysis, steps: Sequence[Step]) -> list[str]:
    """``--explain`` in Markdown: a list item per row, its steps nested under it."""
    lines = ["", "**How each size is computed**", ""]
    row = None
    for step in steps:
        if step.row != row:
            row = step.row
            lines.append(f"- layer {row}: `{_md_cell(analysis.layers[row - 1].spec)}`")
        lines.append(step_item(step))
    return lines


def step_item(step: Step) -> str:
    """One explained step as a nested Markdown list item (the main table's and solve's)."""
    if step.expression is None:
        text = step.note
    else:
        same = step.expression == str(step.value)
        text = f"`{step.value if same else f'{step.expression} = {step.value}'}`"
        text += f" ({step.note})" if step.note else ""
    return f"  - {step.dim}: {text}"


def to_markdown(report: Report) -> str:
    """A GitHub table, one row per layer (a graph's blocks as bold subtotal rows,
    their layers indented), then the totals as a second table; with the report's
    ``rf``, the receptive field in three columns and its summary; its ``explain``,
    the explained arithmetic."""
    analysis = report.analysis
    note = convention(analysis)
    lines = [f"Input: {shape(analysis.input, '×')}{f' ({note})' if note else ''}", ""]
    if report.sources:  # a paragraph of its own: GitHub joins adjacent lines
        text = sources_text(report.sources)
        lines += [f"{text[0].upper()}{text[1:]}.", ""]
    if report.rf:
        lines += [
            "| # | layer | output | params | MACs | RF size | RF stride | RF start |",
            "|--:|:------|:-------|-------:|-----:|:--------|:----------|:---------|",
        ]
    else:
        lines += [
            "| # | layer | output | params | MACs | receptive field |",
            "|--:|:------|:-------|-------:|-----:|:----------------|",
        ]
    lines.extend(_md_row(row, report.rf) for row in rows(report))
    lines += ["", "| total | | |", "|:------|--:|:--|"]
    lines.extend(
        f"| {t.label} | {_md_cell(t.value)} | {_md_cell(t.note)} |" for t in totals(report)
    )
    if report.rf:
        summary = "no layer has one" if report.field is None else report.field.text()
        lines += ["", f"Receptive field: {_md_cell(summary)}."]
    if report.explain:
        lines += _md_explain(analysis, report.explain)
    return "\n".join(lines) + "\n"


def write_markdown(report: Report, out: TextIO) -> None:
    """:func:`to_markdown` written to ``out``."""
    out.write(to_markdown(report))
