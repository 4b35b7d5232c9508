"""The table as Rich's Table drew it before the table streamed (formats/table.py
as it was, Rich doing the layout): the oracle that tests/formats/test_table_as_rich.py
holds the streamed table to, byte for byte without colour and character for
character in style with it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from convcalc._records import NamedTuple
from convcalc.formats.rows import Row, Total, convention, rows, sources_text, totals
from convcalc.formats.text import UNKNOWN, compact, exact, is_unicode, shape

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.formats.report import Report
    from convcalc.network.analysis import Analysis

__all__ = ["LAYOUTS", "RF_LAYOUTS", "Layout", "write_table"]


class Layout(NamedTuple):
    """Which columns the table shows and how, from the widest to the narrowest."""

    rf: bool
    params: Callable[[int | None], str]
    rf_columns: bool = False  # --rf: the RF column is the size, then stride and start


# Narrower and narrower until the table fits: first the RF column goes, then the
# params become compact (the MACs column always is). No number is ever cut; when
# not even the last layout fits, each layer takes two lines instead.
LAYOUTS = (Layout(True, exact), Layout(False, exact), Layout(False, compact))
# With --rf the receptive field was asked for: the params become compact first.
RF_LAYOUTS = (Layout(True, exact, True), Layout(True, compact, True))


def write_table(
    report: Report, out: TextIO, *, width: int | None = None, color: bool | None = None
) -> None:
    """Draw ``report`` as a table on ``out``.

    ``width``: None = the terminal's on a terminal, else as wide as the table
    needs (never wrapped in a pipe). ``color``: None = on a terminal, unless
    NO_COLOR is set. The report's ``failed`` layer closes the table and the totals
    are left out. A narrow terminal drops columns and compacts figures rather than
    cut a number or a shape (see LAYOUTS). With the report's ``rf``, the receptive
    field in three columns and its summary under the totals; its ``explain``, the
    explained arithmetic.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console(
        file=out,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        force_terminal=True if color else None,
        color_system=None if color is False else "auto",
    )
    plain = not console.is_terminal
    if plain:  # a pipe or a test: the same table, captured to trim trailing blanks
        if width is None:
            console.width = 10_000  # the table's own width, never wrapped
        console.file = io.StringIO()
    unicode = is_unicode(out)
    analysis, failed = report.analysis, report.failed
    marks = ("×", "·", "✗", "–") if unicode else ("x", "-", "x", "-")
    sep, dot, cross, dash = marks
    limit = console.width

    header = Text(f"input {shape(analysis.input, sep)}", style="bold")
    note = convention(analysis)
    if note:
        header.append(f"  ({note})", style="dim")
    console.print(header)
    if report.sources:
        console.print(Text(sources_text(report.sources, dash), style="dim"))
    table_rows = rows(report, sep, unicode=unicode)
    if failed is not None:
        index, spec = failed
        table_rows.append(Row(str(index), spec, f"{cross} error", None, None, "", failed=True))
    layouts = RF_LAYOUTS if report.rf else LAYOUTS
    layout = next((lay for lay in layouts if _table_width(table_rows, lay) <= limit), None)
    if layout is not None:
        console.print(_table(table_rows, layout, unicode))
    else:
        for line in _stacked_rows(table_rows, limit, dot):
            console.print(line, no_wrap=True, overflow="ignore", crop=False)
    if failed is None:
        console.print()
        lines = totals(report, sep=sep, dot=dot)
        if _totals_width(lines) <= limit:
            console.print(_totals_grid(lines))
        else:
            for line in _stacked_totals(lines, limit):
                console.print(line, no_wrap=True, overflow="ignore", crop=False)
        if report.rf:
            summary = "no layer has one" if report.field is None else report.field.text(sep)
            console.print(_labelled("receptive field", summary))
        if report.explain:
            _print_explain(console, analysis, report.explain)
    if plain:
        text = console.file.getvalue()  # type: ignore[attr-defined]
        out.write("".join(line.rstrip() + "\n" for line in text.splitlines()))


COLUMN_GAP = 3  # between two columns of the table: padding, rule, padding
TOTALS_GAP = 2  # between two columns of the totals


FOLD_AT = 10  # a layer word without a number longer than this may fold in a narrow table
NUMBER = r"(?<![A-Za-z_])[0-9]"  # a digit that starts a number, not one in conv2d


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _layer_width(text: str) -> int:
    """The narrowest the layer column may be for ``text``: a word holding a
    number (``k=3``, ``3x5``, ``64``) stays whole; a long name may fold
    (``adaptiveav``/``gpool2d``: its digits are part of the name)."""
    return max(
        (len(w) if re.search(NUMBER, w) else min(len(w), FOLD_AT) for w in text.split()),
        default=0,
    )


def _cell_width(row: Row) -> int:
    """The narrowest the layer column may be for ``row``: its indentation, then
    its widest unbreakable word (of the layer or of its note)."""
    indent = len(row.layer) - len(row.layer.lstrip(" "))
    return indent + max(_layer_width(row.layer), _layer_width(row.note))


def _macs(row: Row) -> str:
    """A row's MACs as the table shows them: in parentheses on a side output,
    whose MACs the eval-mode total leaves out."""
    return f"({compact(row.macs)})" if row.side else compact(row.macs)


def _table_width(table_rows: Sequence[Row], layout: Layout) -> int:
    """The narrowest the table can be in ``layout`` without cutting a figure:
    every column but the layer's at its widest, the layer's wrapped at its spaces."""
    columns = [
        ["#", *(r.number for r in table_rows)],
        ["output", *(r.output for r in table_rows)],
        ["params", *(layout.params(r.params) for r in table_rows if not r.failed)],
        ["MACs", *(_macs(r) for r in table_rows if not r.failed)],
    ]
    if layout.rf:
        columns.append(["RF", *(r.rf for r in table_rows)])
    if layout.rf_columns:
        columns.append(["RF stride", *(r.rf_stride for r in table_rows)])
        columns.append(["RF start", *(r.rf_start for r in table_rows)])
    layer = max([len("layer"), *(_cell_width(r) for r in table_rows)])
    widths = [layer, *(max(map(len, cells)) for cells in columns)]
    return sum(widths) + COLUMN_GAP * (len(widths) - 1)


NOTE_WIDTH = 20  # the totals' notes wrap in a column no narrower than this


def _totals_width(lines: Sequence[Total]) -> int:
    """The narrowest the totals grid may be: labels and values whole, the notes
    in a column wide enough to read."""
    label = max(len(t.label) for t in lines)
    value = max(len(t.value) for t in lines)
    note = max(min(len(t.note), max(NOTE_WIDTH, _longest_word(t.note))) for t in lines)
    return label + value + note + 2 * TOTALS_GAP


def _table(table_rows: Sequence[Row], layout: Layout, unicode: bool) -> Any:
    """The Rich table of ``table_rows`` in ``layout``. Only the layer column may
    wrap (at its spaces); every figure and shape keeps its width."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # SIMPLE_HEAD: a rule under the header and nothing else; '-' where Unicode can't go.
    table_box = box.SIMPLE_HEAD if unicode else box.Box("    \n" * 2 + " -- \n" + "    \n" * 5)
    table = Table(
        box=table_box,
        header_style="bold",
        show_edge=False,
        pad_edge=False,
        safe_box=True,
    )
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("layer", overflow="fold")
    table.add_column("output", style="cyan", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    if layout.rf:
        table.add_column("RF", style="dim", no_wrap=True)
    if layout.rf_columns:
        table.add_column("RF stride", style="dim", no_wrap=True)
        table.add_column("RF start", style="dim", no_wrap=True)

    def figure(value: str, style: str = "") -> Text:
        return Text(value, style="yellow" if value == UNKNOWN else style)

    for row in table_rows:
        if row.failed:
            table.add_row(
                row.number, Text(row.layer, style="red"), Text(row.output, style="bold red")
            )
            continue
        layer = Text(row.layer, style="bold" if row.header else "")
        if row.note:
            layer.append("  " + row.note, style="dim")
        cells: list[Any] = [
            row.number,
            layer,
            figure(row.output, "cyan"),
            figure(layout.params(row.params), "bold" if row.header else ""),
            figure(_macs(row), "dim" if row.side else ("bold" if row.header else "")),
        ]
        if layout.rf:
            cells.append(row.rf)
        if layout.rf_columns:
            cells += [row.rf_stride, row.rf_start]
        table.add_row(*cells)
    return table


def _wrap(tokens: Sequence[tuple[str, str]], width: int, indent: int, glue: str) -> list[Any]:
    """Pack (text, style) tokens into lines of ``width``, ``glue`` between tokens,
    never breaking a token; lines after the first are indented by ``indent``."""
    from rich.text import Text

    lines: list[Any] = []
    line = Text(" " * indent)
    used = indent
    fresh = True
    for text, style in tokens:
        need = len(text) if fresh else len(glue) + len(text)
        if not fresh and used + need > width:
            lines.append(line)
            line, used, fresh = Text(" " * indent), indent, True
            need = len(text)
        if not fresh:
            line.append(glue)
        line.append(text, style=style)
        used += need
        fresh = False
    lines.append(line)
    return lines


def _stacked_rows(table_rows: Sequence[Row], width: int, dot: str) -> list[Any]:
    """The layers when not even the narrowest table fits: the layer on one line
    (wrapped at its spaces), its figures under it."""
    from rich.text import Text

    pad = max(len(row.number) for row in table_rows) if table_rows else 1
    indent = pad + 2
    lines: list[Any] = []
    for row in table_rows:
        words = [(word, "red" if row.failed else "") for word in row.layer.split()]
        words += [(word, "dim") for word in row.note.split()]
        first, *rest = _wrap(words, width, indent, " ")
        head = Text(row.number.rjust(pad) + "  ", style="dim")
        head.append_text(first[indent:])
        lines += [head, *rest]
        if row.failed:
            figures = [(row.output, "bold red")]
        else:
            figures = [(row.output, "yellow" if row.output == UNKNOWN else "cyan")]
            figures += [
                (f"{text} {label}", "")
                for value, text, label in (
                    (row.params, compact(row.params), "params"),
                    (row.macs, _macs(row), "MACs"),
                )
                if value != 0  # a layer without weights says nothing of them
            ]
            if row.rf:
                figures.append((f"RF {row.rf}", "dim"))
            if row.rf_stride:
                figures.append((f"stride {row.rf_stride} {dot} start {row.rf_start}", "dim"))
        lines += _wrap(figures, width, indent, f" {dot} ")
    return lines


def _labelled(label: str, text: str) -> Any:
    """``label: text``, the label in bold (Rich wraps it at a terminal's width)."""
    from rich.text import Text

    line = Text(f"{label}: ", style="bold")
    line.append(text)
    return line


def _print_explain(console: Any, analysis: Analysis, steps: Sequence[Step]) -> None:
    """``--explain``: each row's steps under its number and spec."""
    from rich.text import Text

    console.print()
    console.print(Text("how each size is computed", style="bold"))
    pad = len(str(max(step.row for step in steps)))
    row = None
    for step in steps:
        if step.row != row:
            row = step.row
            head = Text(str(row).rjust(pad), style="dim")
            head.append("  " + analysis.layers[row - 1].spec)
            console.print(head)
        console.print(Text(" " * (pad + 2) + step.line()))


def _totals_grid(lines: Sequence[Total]) -> Any:
    """The totals as a three-column grid: label, value (right-aligned), note."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, TOTALS_GAP))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(style="dim")
    for t in lines:
        style = "yellow" if t.value == UNKNOWN else ("cyan" if t.shape else "")
        grid.add_row(t.label, Text(t.value, style=style), t.note)
    return grid


def _stacked_totals(lines: Sequence[Total], width: int) -> list[Any]:
    """The totals when the grid does not fit: label and value, the note under
    the value, wrapped at its spaces."""
    from rich.text import Text

    indent = max(len(t.label) for t in lines) + TOTALS_GAP
    out: list[Any] = []
    for t in lines:
        line = Text(t.label.ljust(indent), style="bold")
        style = "yellow" if t.value == UNKNOWN else ("cyan" if t.shape else "")
        line.append(t.value, style=style)
        out.append(line)
        if t.note:
            out += _wrap([(w, "dim") for w in t.note.split()], width, indent, " ")
    return out
