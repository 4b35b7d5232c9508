"""The block tree (``-o tree``): the network's block instances and their layers as a
tree on the terminal, each line with its output shape and parameters (a block's its
subtotal) — the structure of torchinfo's nested summary. Plain lines in columns,
drawn with ``├─ └─ │`` (``|- \\- |`` where the output takes no Unicode); bold block
lines and dim guides only on a terminal, unless NO_COLOR is set, as the table does.
The structure is diagram.py's; with the report's ``depth``, deeper instances are one
line each."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TextIO

from convcalc._records import NamedTuple
from convcalc.formats.diagram import Cluster, Node, diagram
from convcalc.formats.text import exact, is_unicode, shape

if TYPE_CHECKING:
    from convcalc.formats.report import Report

__all__ = ["to_tree", "write_tree"]

# (branch, last branch, through, blank) guides
UNICODE_GUIDES = ("├─ ", "└─ ", "│  ", "   ")
ASCII_GUIDES = ("|- ", "\\- ", "|  ", "   ")

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


class _Line(NamedTuple):
    number: str  # the row, a folded block's rows; "" for a block instance
    guide: str  # the tree's guides before the text
    text: str
    shape: str
    params: str
    strong: bool  # a block instance, or one folded


def _lines(report: Report, unicode: bool) -> tuple[str, list[_Line]]:
    graph = diagram(report, unicode=unicode)
    arrow = graph.marks.arrow
    branch, last, through, blank = UNICODE_GUIDES if unicode else ASCII_GUIDES
    out: list[_Line] = []

    def walk(items: list[Node | Cluster] | tuple[Node | Cluster, ...], lead: str) -> None:
        for n, item in enumerate(items):
            end = n == len(items) - 1
            guide = lead + (last if end else branch)
            if isinstance(item, Cluster):
                text = item.text + (" (side)" if item.side else "")
                out.append(_Line("", guide, text, item.shape, exact(item.params), True))
                walk(item.items, lead + (blank if end else through))
            else:
                strong = item.kind == "block"
                line = _Line(
                    item.number, guide, item.title(arrow), item.shape, exact(item.params), strong
                )
                out.append(line)

    walk(graph.items, "")
    return graph.input.title(arrow) + " " + graph.input.shape, out


def to_tree(report: Report, *, unicode: bool = True, color: bool = False) -> str:
    """The tree as text (see the module's docstring); ``color``: with ANSI styles."""
    head, lines = _lines(report, unicode)
    analysis = report.analysis
    sep = "×" if unicode else "x"

    def style(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if color and text else text

    output = shape(analysis.output, sep)
    numbers = max([len(line.number) for line in lines] + [1])
    width = max([len(line.guide) + len(line.text) for line in lines] + [len(head), len("total")])
    shapes = max([len(line.shape) for line in lines] + [len("output"), len(output)])
    total = exact(analysis.params)
    params = max([len(line.params) for line in lines] + [len("params"), len(total)])

    def row(number: str, guide: str, text: str, out: str, count: str, code: str) -> str:
        padding = " " * (width - len(guide) - len(text))
        cells = f"   {out.ljust(shapes)}   {count.rjust(params)}"
        return (
            f"{style(number.rjust(numbers), DIM)}  {style(guide, DIM)}{style(text, code)}"
            f"{padding}{cells}"
        ).rstrip()

    lines_out = [style(row("#", "", head, "output", "params", ""), BOLD)]
    for line in lines:
        code = BOLD if line.strong else ""
        lines_out.append(row(line.number, line.guide, line.text, line.shape, line.params, code))
    lines_out.append(row("", "", "total", output, total, BOLD))
    return "\n".join(lines_out) + "\n"


def write_tree(report: Report, out: TextIO, *, color: bool | None = None) -> None:
    """:func:`to_tree` written to ``out``; ``color`` None: on a terminal, unless
    NO_COLOR is set (ASCII guides where ``out`` takes no Unicode)."""
    if color is None:
        isatty = getattr(out, "isatty", None)
        color = bool(isatty and isatty()) and not os.environ.get("NO_COLOR")
    out.write(to_tree(report, unicode=is_unicode(out), color=color))
