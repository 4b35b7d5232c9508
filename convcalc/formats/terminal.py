"""Lines for a terminal or a pipe, as Rich would print them but without its per-cell
layout: Rich's measure and word wrap on plain strings, styles as the escape codes
Rich writes for them, and the lines written a block at a time (a pipe sees the first
rows at once; a closed pipe stops the writing). formats/table.py lays the tables out
with these; rich is imported only inside the functions that need it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

__all__ = [
    "Ink",
    "Lines",
    "Run",
    "Style",
    "cell_len",
    "pad",
    "paint",
    "painted",
    "print_runs",
    "wrap_text",
]

Style = tuple[str, ...]  # Rich style names, each laid over the ones before
Run = tuple[str, Style]  # a piece of text in one style


# -- writing: lines a block at a time, styles as escape codes ------------------------------------

FIRST_BLOCK = 2_000  # characters: the first rows reach a pipe at once
BLOCK = 64_000  # then blocks this large, each written and flushed


class Lines:
    """The table's lines to ``out``, a block at a time, each block flushed: a
    reader sees the first rows as soon as they are known, and a closed pipe stops
    the writing at the next block. ``plain``: trailing blanks trimmed."""

    def __init__(self, out: TextIO, plain: bool) -> None:
        self._out = out
        self._plain = plain
        self._lines: list[str] = []
        self._size = 0
        self._limit = FIRST_BLOCK

    def __call__(self, line: str) -> None:
        if self._plain:
            line = line.rstrip()
        self._lines.append(line)
        self._size += len(line) + 1
        if self._size >= self._limit:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._out.write("\n".join(self._lines) + "\n")
            self._lines.clear()
            self._size = 0
            self._limit = BLOCK
        self._out.flush()


class Ink:
    """Text in a style, as the escape codes Rich writes for it on ``console``:
    none off a terminal, with color=False or on a dumb terminal; under NO_COLOR
    bold and dim but no colour. (A legacy Windows console, which takes no escape
    codes, gets none: Rich styled it through the console's own calls.)"""

    def __init__(self, console: Any) -> None:
        self._console = console
        self.on = console.color_system is not None and not console.legacy_windows
        self._codes: dict[Style, tuple[str, str]] = {}

    def __call__(self, text: str, style: Style) -> str:
        if not (self.on and style and text):
            return text
        codes = self._codes.get(style)
        if codes is None:
            codes = self._codes[style] = self._make(style)
        return codes[0] + text + codes[1]

    def _make(self, style: Style) -> tuple[str, str]:
        from rich.style import Style as RichStyle
        from rich.text import Text

        console = self._console
        combined = RichStyle.combine(console.get_style(name) for name in style)
        with console.capture() as captured:
            console.print(Text("X", style=combined), end="")
        before, _, after = captured.get().partition("X")
        return before, after


def painted(runs: Iterable[Run], ink: Ink) -> str:
    return "".join(ink(text, style) for text, style in runs)


def paint(runs: Sequence[Run], start: int, text: str, ink: Ink) -> str:
    """``text``, a line that starts at ``start`` in the runs' joined text, in the
    runs' styles (past their end: unstyled)."""
    if not ink.on:
        return text
    out = []
    end = start + len(text)
    pos = 0
    for piece, style in runs:
        low, high = max(start, pos), min(end, pos + len(piece))
        if low < high:
            out.append(ink(text[low - start : high - start], style))
        pos += len(piece)
    if end > pos:
        out.append(text[max(pos - start, 0) :])
    return "".join(out)


# -- Rich's measure and word wrap, on plain strings -------------------------------------------


def cell_len(text: str) -> int:
    """How many terminal cells ``text`` takes (a wide character two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len as rich_cell_len

    return int(rich_cell_len(text))


def chop(word: str, width: int) -> list[str]:
    """``word`` in pieces of at most ``width`` cells."""
    if word.isascii():
        return [word[i : i + width] for i in range(0, len(word), width)]
    from rich.cells import chop_cells

    return list(chop_cells(word, width))


def crop(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells."""
    if text.isascii():
        return text[:width]
    from rich.cells import set_cell_size

    return str(set_cell_size(text, width))


def pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))


WORD = re.compile(r"\s*\S+\s*")  # a word with the blanks around it, as Rich splits text


def breaks(text: str, width: int, fold: bool) -> list[int]:
    """Where Rich's word wrap breaks ``text`` to fit ``width`` (rich._wrap.divide_line):
    before a word that does not fit on the line; a word longer than a line is folded
    (``fold``) or left whole."""
    breaks: list[int] = []
    used = 0
    for match in WORD.finditer(text):
        start, word = match.start(), match.group()
        length = cell_len(word.rstrip())
        if width - used >= length:
            used += cell_len(word)
        elif length > width:
            if fold:
                pieces = chop(word, width)
                for piece in pieces[:-1]:
                    if start:
                        breaks.append(start)
                    start += len(piece)
                if start:
                    breaks.append(start)
                used = cell_len(pieces[-1])
            else:
                if start:
                    breaks.append(start)
                used = cell_len(word)
        elif used and start:
            breaks.append(start)
            used = cell_len(word)
    return breaks


def wrap_text(
    text: str, width: int, *, fold: bool = True, ellipsis: bool = False
) -> list[tuple[int, str]]:
    """Rich's Text.wrap of ``text`` at ``width``: each line's start in ``text`` and
    the line, blanks past the width dropped, a line still too long cut (``ellipsis``:
    ending in …)."""
    if cell_len(text) <= width:  # the common case: it fits
        return [(0, text)]
    starts = [0, *breaks(text, width, fold)]
    lines = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        line = text[start:end]
        if len(line) > width:  # Rich's rstrip_end counts characters
            blanks = len(line) - len(line.rstrip())
            line = line[: len(line) - min(blanks, len(line) - width)]
        if cell_len(line) > width:
            line = crop(line, width - 1) + "…" if ellipsis else crop(line, width)
        lines.append((start, line))
    return lines


def print_runs(runs: Sequence[Run], width: int, ink: Ink, emit: Callable[[str], None]) -> None:
    """What console.print(text) prints: the runs wrapped at ``width``."""
    text = "".join(piece for piece, _ in runs)
    offset = 0
    for part in text.split("\n"):
        for start, line in wrap_text(part, width):
            emit(paint(runs, offset + start, line, ink))
        offset += len(part) + 1
