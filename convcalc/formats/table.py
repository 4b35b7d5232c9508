"""The table, for people: the layers (rows.py) and the totals laid out at the
terminal's width, never cutting a figure, colour only on a terminal.

It looks as Rich's Table draws it (a rule under a bold header, the layer column the
only one that wraps, Rich's word wrap), but the widths are computed here in one pass
over the rows' text and the rows are written as lines, a block at a time: a row costs
a few string operations, a pipe sees the first rows at once, and a closed pipe stops
the writing (BrokenPipeError). Rich is imported inside the functions that draw,
never at the top (the other formats and completion never load it): its Console says
whether the output is a terminal, how wide, and which escape codes a style takes.
tests/formats/test_table_as_rich.py checks the drawing against Rich's own."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from convcalc._records import NamedTuple
from convcalc.formats.rows import Row, Total, convention, rows, sources_text, totals
from convcalc.formats.terminal import (
    Ink,
    Lines,
    Run,
    Style,
    cell_len,
    pad,
    paint,
    painted,
    print_runs,
    wrap_text,
)
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

PLAIN: Style = ()
BOLD, DIM, CYAN, YELLOW, RED = ("bold",), ("dim",), ("cyan",), ("yellow",), ("red",)


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
    explained arithmetic. The rows are written as soon as the widths are known, a
    block of lines at a time.
    """
    from rich.console import Console

    console = Console(
        file=out,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        force_terminal=True if color else None,
        color_system=None if color is False else "auto",
    )
    plain = not console.is_terminal  # a pipe or a test: no colour, no trailing blanks
    limit = 10_000 if plain and width is None else console.width  # a pipe: never wrapped
    ink = Ink(console)
    emit = Lines(out, plain)
    unicode = is_unicode(out)
    analysis, failed = report.analysis, report.failed
    marks = ("×", "·", "✗", "–") if unicode else ("x", "-", "x", "-")
    sep, dot, cross, dash = marks

    header: list[Run] = [(f"input {shape(analysis.input, sep)}", BOLD)]
    note = convention(analysis)
    if note:
        header.append((f"  ({note})", (*BOLD, *DIM)))  # Rich's Text: bold under it all
    print_runs(header, limit, ink, emit)
    if report.sources:
        print_runs([(sources_text(report.sources, dash), DIM)], limit, ink, emit)
    table_rows = rows(report, sep, unicode=unicode)
    if failed is not None:
        index, spec = failed
        table_rows.append(Row(str(index), spec, f"{cross} error", None, None, "", failed=True))
    columns = _Columns(table_rows)
    layouts = RF_LAYOUTS if report.rf else LAYOUTS
    layout = next((lay for lay in layouts if columns.narrowest(lay) <= limit), None)
    if layout is not None:
        # Rich's rule: ─ where Unicode goes, else -; and on a terminal whose encoding
        # is not UTF, its ASCII box (columns ruled with |, the rule crossing them with +).
        box = ("-", "-", " ") if not unicode else ("─", "─", " ")
        if not plain and not console.encoding.startswith("utf"):
            box = ("-", "+", "|")
        _draw_table(columns, layout, box, limit, ink, emit)
    else:
        for line in _stacked_rows(table_rows, limit, dot):
            emit(painted(line, ink))
    if failed is None:
        emit("")
        lines = totals(report, sep=sep, dot=dot)
        if _totals_width(lines) <= limit:
            _totals_grid(lines, limit, ink, emit)
        else:
            for line in _stacked_totals(lines, limit):
                emit(painted(line, ink))
        if report.rf:
            summary = "no layer has one" if report.field is None else report.field.text(sep)
            print_runs(_labelled("receptive field", summary), limit, ink, emit)
        if report.explain:
            _print_explain(analysis, report.explain, limit, ink, emit)
    emit.flush()


# -- the widths -----------------------------------------------------------------------------------

COLUMN_GAP = 3  # between two columns of the table: padding, rule, padding
TOTALS_GAP = 2  # between two columns of the totals


FOLD_AT = 10  # a layer word without a number longer than this may fold in a narrow table
NUMBER = re.compile(r"(?<![A-Za-z_])[0-9]")  # a digit that starts a number, not one in conv2d


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _layer_width(text: str) -> int:
    """The narrowest the layer column may be for ``text``: a word holding a
    number (``k=3``, ``3x5``, ``64``) stays whole; a long name may fold
    (``adaptiveav``/``gpool2d``: its digits are part of the name)."""
    words = text.split()
    longest = max(map(len, words), default=0)
    if longest <= FOLD_AT:  # no word may fold
        return longest
    return max(len(w) if len(w) <= FOLD_AT or NUMBER.search(w) else FOLD_AT for w in words)


def _cell_width(row: Row) -> int:
    """The narrowest the layer column may be for ``row``: its indentation, then
    its widest unbreakable word (of the layer or of its note)."""
    layer = row.layer
    indent = len(layer) - len(layer.lstrip(" "))
    return indent + max(_layer_width(layer), _layer_width(row.note) if row.note else 0)


def _macs(row: Row) -> str:
    """A row's MACs as the table shows them: in parentheses on a side output,
    whose MACs the eval-mode total leaves out."""
    return f"({compact(row.macs)})" if row.side else compact(row.macs)


class _Columns:
    """The table's cells as text, column by column, each made once (the first pass
    over the rows: the widths need every cell), and the columns' widths."""

    def __init__(self, table_rows: Sequence[Row]) -> None:
        self.rows = table_rows
        self._cells: dict[Any, list[str]] = {}
        self._widths: dict[Any, int] = {}

    def cells(self, key: Any) -> list[str]:
        """The column ``key``: #, layer (with its note), output, a params formatter,
        MACs, RF, RF stride, RF start (a failed row: no figures)."""
        if key not in self._cells:
            self._cells[key] = self._make(key)
        return self._cells[key]

    def _make(self, key: Any) -> list[str]:
        table_rows = self.rows
        if key == "#":
            return [r.number for r in table_rows]
        if key == "layer":
            return [f"{r.layer}  {r.note}" if r.note else r.layer for r in table_rows]
        if key == "output":
            return [r.output for r in table_rows]
        if key == "MACs":
            return ["" if r.failed else _macs(r) for r in table_rows]
        if key == "RF":
            return [r.rf for r in table_rows]
        if key == "RF stride":
            return [r.rf_stride for r in table_rows]
        if key == "RF start":
            return [r.rf_start for r in table_rows]
        return ["" if r.failed else key(r.params) for r in table_rows]  # params

    def width(self, key: Any, header: str) -> int:
        """The widest cell of column ``key`` or its ``header`` (in characters)."""
        if key not in self._widths:
            self._widths[key] = max(len(header), max(map(len, self.cells(key)), default=0))
        return self._widths[key]

    def narrowest(self, layout: Layout) -> int:
        """The narrowest the table can be in ``layout`` without cutting a figure:
        every column but the layer's at its widest, the layer's wrapped at its spaces."""
        if "layer min" not in self._widths:
            self._widths["layer min"] = max([len("layer"), *map(_cell_width, self.rows)])
        widths = [self._widths["layer min"]]
        widths += [self.width(c.key, c.header) for c in _columns(layout) if c.key != "layer"]
        return sum(widths) + COLUMN_GAP * (len(widths) - 1)


def _table_width(table_rows: Sequence[Row], layout: Layout) -> int:
    """The narrowest the table can be in ``layout`` without cutting a figure."""
    return _Columns(table_rows).narrowest(layout)


NOTE_WIDTH = 20  # the totals' notes wrap in a column no narrower than this


def _totals_width(lines: Sequence[Total]) -> int:
    """The narrowest the totals grid may be: labels and values whole, the notes
    in a column wide enough to read."""
    label = max(len(t.label) for t in lines)
    value = max(len(t.value) for t in lines)
    note = max(min(len(t.note), max(NOTE_WIDTH, _longest_word(t.note))) for t in lines)
    return label + value + note + 2 * TOTALS_GAP


def _collapse(widths: list[int], wraps: int, limit: int) -> list[int]:
    """Rich's column widths (padding included) when the table is wider than
    ``limit``: the one column that wraps gives up the excess."""
    excess = sum(widths) - limit
    if excess > 0:
        widths = list(widths)
        widths[wraps] -= min(excess, widths[wraps])
    return widths


# -- the table ---------------------------------------------------------------------------------


class _Column(NamedTuple):
    header: str
    key: Any  # its cells in _Columns
    right: bool  # right-justified
    style: Style


def _columns(layout: Layout) -> list[_Column]:
    columns = [
        _Column("#", "#", True, DIM),
        _Column("layer", "layer", False, PLAIN),
        _Column("output", "output", False, CYAN),
        _Column("params", layout.params, True, PLAIN),
        _Column("MACs", "MACs", True, PLAIN),
    ]
    if layout.rf:
        columns.append(_Column("RF", "RF", False, DIM))
    if layout.rf_columns:
        columns += [
            _Column("RF stride", "RF stride", False, DIM),
            _Column("RF start", "RF start", False, DIM),
        ]
    return columns


def _styles(row: Row, cells: Sequence[str]) -> list[Style]:
    """The style of each cell of ``row`` over its column's (the layer's: of its text
    before the note)."""

    def figure(value: str, style: Style) -> Style:
        return YELLOW if value == UNKNOWN else style

    if row.failed:
        return [PLAIN, RED, ("bold", "red"), *([PLAIN] * (len(cells) - 3))]
    bold = BOLD if row.header else PLAIN
    return [
        PLAIN,
        bold,
        figure(cells[2], CYAN),
        figure(cells[3], bold),
        figure(cells[4], DIM if row.side else bold),
        *([PLAIN] * (len(cells) - 5)),
    ]


def _draw_table(
    table: _Columns,
    layout: Layout,
    box: tuple[str, str, str],
    limit: int,
    ink: Ink,
    emit: Callable[[str], None],
) -> None:
    """The table in ``layout``, as Rich lays out its Table (box SIMPLE_HEAD, no
    edge): each column as wide as its widest cell, a cell padded by one space on
    either side but the outer ones; when that is wider than ``limit``, only the
    layer column narrows, its text wrapped at its spaces. The other columns never
    wrap: the layout chosen leaves room for them. ``box``: the rule's line and its
    crossings, and the columns' rule."""
    columns = _columns(layout)
    cells = [table.cells(c.key) for c in columns]
    layers = cells[1]
    natural = [table.width(c.key, c.header) for c in columns]
    natural[1] = max(cell_len("layer"), max(map(cell_len, layers), default=0))
    pads = [1] + [2] * (len(columns) - 2) + [1]
    padded = [w + p for w, p in zip(natural, pads, strict=True)]
    padded = _collapse(padded, 1, limit - len(columns) + 1)
    widths = [w - p for w, p in zip(padded, pads, strict=True)]
    layer_width = widths[1]
    rule, cross, vertical = box
    gap = f" {vertical} "
    blanks = [" " * w for w in widths]
    rights = [c.right for c in columns]

    emit(
        gap.join(
            ink(c.header.rjust(w) if c.right else c.header.ljust(w), BOLD)
            for c, w in zip(columns, widths, strict=True)
        )
    )
    emit(cross.join(rule * w for w in padded))
    # A line's cells as str.format pads them: every figure takes one cell a character.
    line = gap.join(f"{{:{'>' if r else '<'}{w}}}" for r, w in zip(rights, widths, strict=True))
    for row, texts in zip(table.rows, zip(*cells, strict=True), strict=True):
        layer = texts[1]
        single = len(layer) <= layer_width if layer.isascii() else cell_len(layer) <= layer_width
        if not ink.on and single and (layer.isascii() or cell_len(layer) == len(layer)):
            emit(line.format(*texts))  # the common case: one line, no styles
            continue
        layer_lines = [(0, layer)] if single else wrap_text(layer, layer_width)
        styles = _styles(row, texts)
        runs: list[Run] = [(row.layer, styles[1])]
        if row.note:
            runs.append((layer[len(row.layer) :], (*styles[1], "dim")))
        parts = []
        for i, (text, width, right, column) in enumerate(
            zip(texts, widths, rights, columns, strict=True)
        ):
            if i == 1:
                start, text = layer_lines[0]
                parts.append(paint(runs, start, text, ink) + " " * (width - cell_len(text)))
                continue
            painted = ink(text, (*column.style, *styles[i]))
            fill = " " * (width - len(text))
            parts.append(fill + painted if right else painted + fill)
        emit(gap.join(parts))
        for start, text in layer_lines[1:]:
            blanks[1] = paint(runs, start, text, ink) + " " * (layer_width - cell_len(text))
            emit(gap.join(blanks))


def _pack(tokens: Sequence[Run], width: int, indent: int, glue: str) -> list[list[Run]]:
    """Pack (text, style) tokens into lines of ``width``, ``glue`` between tokens,
    never breaking a token; lines after the first are indented by ``indent``."""
    lines: list[list[Run]] = []
    line: list[Run] = [(" " * indent, PLAIN)]
    used = indent
    fresh = True
    for text, style in tokens:
        need = len(text) if fresh else len(glue) + len(text)
        if not fresh and used + need > width:
            lines.append(line)
            line, used, fresh = [(" " * indent, PLAIN)], indent, True
            need = len(text)
        if not fresh:
            line.append((glue, PLAIN))
        line.append((text, style))
        used += need
        fresh = False
    lines.append(line)
    return lines


def _stacked_rows(table_rows: Sequence[Row], width: int, dot: str) -> list[list[Run]]:
    """The layers when not even the narrowest table fits: the layer on one line
    (wrapped at its spaces), its figures under it."""
    pad = max(len(row.number) for row in table_rows) if table_rows else 1
    indent = pad + 2
    lines: list[list[Run]] = []
    for row in table_rows:
        words = [(word, RED if row.failed else PLAIN) for word in row.layer.split()]
        words += [(word, DIM) for word in row.note.split()]
        first, *rest = _pack(words, width, indent, " ")
        # As Rich drew it: the first line in the number's dim, the words' styles over it.
        first = [(text, (*DIM, *style)) for text, style in first[1:]]
        lines += [[(row.number.rjust(pad) + "  ", DIM), *first], *rest]
        figures: list[Run]
        if row.failed:
            figures = [(row.output, ("bold", "red"))]
        else:
            figures = [(row.output, YELLOW if row.output == UNKNOWN else CYAN)]
            figures += [
                (f"{text} {label}", PLAIN)
                for value, text, label in (
                    (row.params, compact(row.params), "params"),
                    (row.macs, _macs(row), "MACs"),
                )
                if value != 0  # a layer without weights says nothing of them
            ]
            if row.rf:
                figures.append((f"RF {row.rf}", DIM))
            if row.rf_stride:
                figures.append((f"stride {row.rf_stride} {dot} start {row.rf_start}", DIM))
        lines += _pack(figures, width, indent, f" {dot} ")
    return lines


def _labelled(label: str, text: str) -> list[Run]:
    """``label: text`` in bold (as Rich drew it; the label was meant)."""
    return [(f"{label}: ", BOLD), (text, BOLD)]


def _print_explain(
    analysis: Analysis,
    steps: Sequence[Step],
    width: int,
    ink: Ink,
    emit: Callable[[str], None],
) -> None:
    """``--explain``: each row's steps under its number and spec."""
    emit("")
    print_runs([("how each size is computed", BOLD)], width, ink, emit)
    pad = len(str(max(step.row for step in steps)))
    row = None
    for step in steps:
        if step.row != row:
            row = step.row
            spec = analysis.layers[row - 1].spec
            print_runs([(str(row).rjust(pad) + "  " + spec, DIM)], width, ink, emit)
        print_runs([(" " * (pad + 2) + step.line(), PLAIN)], width, ink, emit)


def _value_style(total: Total) -> Style:
    return YELLOW if total.value == UNKNOWN else (CYAN if total.shape else PLAIN)


def _totals_grid(lines: Sequence[Total], limit: int, ink: Ink, emit: Callable[[str], None]) -> None:
    """The totals as Rich's grid of three columns: label (bold), value
    (right-aligned), note (dim, wrapped at its spaces when the grid is too wide)."""
    label = max(cell_len(t.label) for t in lines)
    value = max(len(t.value) for t in lines)
    note = max(cell_len(t.note) for t in lines)
    padded = [min(label + TOTALS_GAP, limit), min(value + TOTALS_GAP, limit), min(note, limit) or 1]
    label, value, note = _collapse(padded, 2, limit)
    label, value = label - TOTALS_GAP, value - TOTALS_GAP
    gap = " " * TOTALS_GAP
    for t in lines:
        notes = wrap_text(t.note, note, fold=False, ellipsis=True)
        head = ink(pad(t.label, label), BOLD) + gap
        head += ink(t.value.rjust(value), _value_style(t)) + gap
        for n, (_, text) in enumerate(notes):
            lead = head if n == 0 else " " * (label + value + 2 * TOTALS_GAP)
            emit(lead + ink(pad(text, note), DIM))


def _stacked_totals(lines: Sequence[Total], width: int) -> list[list[Run]]:
    """The totals when the grid does not fit: label and value, the note under
    the value, wrapped at its spaces."""
    indent = max(len(t.label) for t in lines) + TOTALS_GAP
    out: list[list[Run]] = []
    for t in lines:
        out.append([(t.label.ljust(indent), BOLD), (t.value, (*BOLD, *_value_style(t)))])
        if t.note:
            out += _pack([(w, DIM) for w in t.note.split()], width, indent, " ")
    return out


def draw_answers(
    out: TextIO,
    title: str,
    columns: list[str],
    table: list[list[str]],
    more: str,
    unicode: bool,
) -> None:
    """``convcalc solve``'s answers as a table for people (formats/answers.py)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    plain = not console.is_terminal
    if plain:
        console.width = 10_000  # never wrapped in a pipe
        console.file = io.StringIO()
    table_box = box.SIMPLE_HEAD if unicode else box.Box("    \n" * 2 + " -- \n" + "    \n" * 5)
    grid = Table(box=table_box, header_style="bold", show_edge=False, pad_edge=False)
    grid.add_column("#", justify="right", style="dim", no_wrap=True)
    grid.add_column(columns[0], overflow="fold")
    for key in columns[1:]:
        grid.add_column(key, justify="right", no_wrap=True)
    grid.add_column("output", style="cyan", no_wrap=True)
    for row in table:
        grid.add_row(*row)
    console.print(Text(title, style="bold"))
    console.print(grid)
    if more:
        console.print(Text(more, style="dim"))
    if plain:
        text = console.file.getvalue()  # type: ignore[attr-defined]
        out.write("".join(line.rstrip() + "\n" for line in text.splitlines()))
