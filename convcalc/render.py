"""Presenting an Analysis: a Rich table for people, JSON/CSV/TSV/Markdown for
programs and documents.

Renderers receive finished results and do no arithmetic: every number shown
comes from the Analysis (or its Memory) and also exists in the JSON. Rich is
imported only inside :func:`draw_table`, so the machine formats stay fast.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .engine import Analysis, ReceptiveField

FORMATS = ("table", "json", "csv", "tsv", "markdown")

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
)

UNKNOWN = "?"

# --------------------------------------------------------------------------
# Number and shape formatting (pure text; no figures are derived here).


def exact(n: int | None) -> str:
    """``1234567`` → ``1,234,567``; None → ``?``."""
    return UNKNOWN if n is None else f"{n:,}"


_SUFFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def compact(n: int | None) -> str:
    """``11689512`` → ``11.7 M``; below a thousand the number as is."""
    if n is None:
        return UNKNOWN
    for scale, suffix in _SUFFIXES:
        if abs(n) >= scale:
            return f"{n / scale:.1f} {suffix}"
    return str(n)


_BYTE_UNITS = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def size(n: int | None) -> str:
    """Bytes in binary units: ``4014080`` → ``3.8 MiB``."""
    if n is None:
        return UNKNOWN
    for scale, unit in _BYTE_UNITS:
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def shape(dims: Iterable[int | None], sep: str = "x") -> str:
    """``(64, 112, 112)`` → ``64x112x112``; an unknown size is ``?``."""
    return sep.join(UNKNOWN if d is None else str(d) for d in dims)


def _dims(values: Sequence[int], sep: str) -> str:
    if len(set(values)) == 1 and len(values) > 1:
        return sep.join([str(values[0])] * len(values))
    return sep.join(str(v) for v in values)


def rf_text(rf: ReceptiveField | None, sep: str = "×") -> str:
    """``11×11 /4``: receptive-field size, then the effective stride (one number
    when it is the same along every dimension)."""
    if rf is None:
        return ""
    stride = rf.stride
    jump = str(stride[0]) if len(set(stride)) == 1 else sep.join(map(str, stride))
    return f"{_dims(rf.size, sep)} /{jump}"


# --------------------------------------------------------------------------
# Machine formats: the standard library only.


def to_json(analysis: Analysis, *, batch: int = 1, dtype: str = "float32") -> str:
    """SPEC.md §3's object, one layer per line: readable, and built with the
    C encoder (fast for long chains)."""
    data = analysis.to_dict(batch=batch, dtype=dtype)
    import json  # here, not at the top: completion and the table never need it

    dumps = json.dumps
    parts = ["{"]
    keys = list(data)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = data[key]
        if key == "layers" and value:
            parts.append('  "layers": [')
            last = len(value) - 1
            parts.extend(
                f"    {dumps(layer)}{',' if i < last else ''}" for i, layer in enumerate(value)
            )
            parts.append(f"  ]{comma}")
        else:
            parts.append(f"  {dumps(key)}: {dumps(value)}{comma}")
    parts.append("}")
    return "\n".join(parts) + "\n"


def _rf_fields(rf: ReceptiveField | None) -> tuple[str, str, str]:
    if rf is None:
        return ("", "", "")
    return (shape(rf.size), shape(rf.stride), shape(rf.start))


def csv_rows(analysis: Analysis) -> Iterable[tuple[Any, ...]]:
    """The header, then one row per layer; unknown figures are empty fields."""
    yield CSV_HEADER

    def num(v: int | None) -> int | str:
        return "" if v is None else v

    for lay in analysis.layers:
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
        )


def write_delimited(analysis: Analysis, out: TextIO, delimiter: str = ",") -> None:
    """CSV (RFC 4180 quoting) or TSV, written as it goes."""
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows(csv_rows(analysis))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _also(n: int | None) -> str:
    """`` (11.7 M)`` when the compact form says something the exact one does not."""
    return "" if n is None or n < 1000 else f" ({compact(n)})"


def to_markdown(analysis: Analysis, *, batch: int = 1, dtype: str = "float32") -> str:
    """A GitHub table, one row per layer, then the totals."""
    lines = [
        f"Input: {shape(analysis.input, '×')}",
        "",
        "| # | layer | output | params | MACs | receptive field |",
        "|--:|:------|:-------|-------:|-----:|:----------------|",
    ]
    for lay in analysis.layers:
        lines.append(
            f"| {lay.index} | `{_md_cell(lay.spec)}` | {shape(lay.output, '×')} "
            f"| {exact(lay.params)} | {exact(lay.macs)} | {rf_text(lay.rf)} |"
        )
    mem = analysis.memory(batch, dtype)
    lines += [
        "",
        f"**Total:** {exact(analysis.params)} params{_also(analysis.params)}, "
        f"{exact(analysis.trainable)} trainable, {exact(analysis.buffers)} buffers, "
        f"{exact(analysis.macs)} MACs{_also(analysis.macs)}; "
        f"output {shape(analysis.output, '×')}.",
        f"**Memory** (batch {mem.batch}, {mem.dtype}): parameters {size(mem.params)}, "
        f"peak activations {size(mem.activations_peak)}.",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# The table, for people: Rich, imported here and nowhere else.


def draw_table(
    analysis: Analysis,
    out: TextIO,
    *,
    batch: int = 1,
    dtype: str = "float32",
    width: int | None = None,
    color: bool | None = None,
    failed: tuple[int, str] | None = None,
) -> None:
    """Draw ``analysis`` as a table on ``out``.

    ``width``: None = the terminal's on a terminal, else as wide as the table
    needs (never wrapped in a pipe). ``color``: None = on a terminal, unless
    NO_COLOR is set. ``failed``: (index, spec) of a layer that could not be
    computed; its row closes the table and the totals are left out.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
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
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    unicode = encoding.startswith(("utf", "cp65001"))
    sep, dot, cross = ("×", "·", "✗") if unicode else ("x", "-", "x")
    # SIMPLE_HEAD: a rule under the header and nothing else; '-' where Unicode can't go.
    table_box = box.SIMPLE_HEAD if unicode else box.Box("    \n" * 2 + " -- \n" + "    \n" * 5)

    def unknown_style(value: str, style: str = "") -> Text:
        return Text(value, style="yellow" if value == UNKNOWN else style)

    table = Table(
        title=f"input {shape(analysis.input, sep)}",
        title_justify="left",
        title_style="bold",
        box=table_box,
        header_style="bold",
        show_edge=False,
        pad_edge=False,
        safe_box=True,
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer", overflow="fold")
    table.add_column("output", style="cyan", overflow="fold")
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("RF", style="dim")
    for lay in analysis.layers:
        table.add_row(
            str(lay.index),
            lay.spec,
            unknown_style(shape(lay.output, sep), "cyan"),
            unknown_style(exact(lay.params)),
            unknown_style(compact(lay.macs)),
            rf_text(lay.rf, sep),
        )
    if failed is not None:
        index, spec = failed
        table.add_row(str(index), Text(spec, style="red"), Text(f"{cross} error", style="bold red"))
        console.print(table)
    else:
        console.print(table)
        console.print()
        console.print(_totals(analysis, batch, dtype, (sep, dot), Table, Text))
    if plain:
        text = console.file.getvalue()  # type: ignore[attr-defined]
        out.write("".join(line.rstrip() + "\n" for line in text.splitlines()))


def _totals(
    analysis: Analysis, batch: int, dtype: str, marks: tuple[str, str], Table: Any, Text: Any
) -> Any:
    """The totals block under the table: exact numbers and their compact form."""
    sep, dot = marks
    mem = analysis.memory(batch, dtype)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")

    def row(label: str, value: int | None, note: str) -> None:
        text = Text(exact(value), style="yellow" if value is None else "")
        grid.add_row(label, text, note)

    row(
        "params",
        analysis.params,
        f"{compact(analysis.params)} {dot} trainable {exact(analysis.trainable)}"
        if analysis.params is not None
        else "unknown: give the input's channel count",
    )
    row("buffers", analysis.buffers, "running statistics")
    row("MACs", analysis.macs, compact(analysis.macs) if analysis.macs is not None else "")
    grid.add_row("output", Text(shape(analysis.output, sep), style="cyan"), "")
    grid.add_row("memory", Text(size(mem.params)), "parameters and buffers")
    grid.add_row(
        "",
        Text(size(mem.activations_peak)),
        f"peak activations (batch {mem.batch}, {mem.dtype})",
    )
    return grid


def write(
    analysis: Analysis,
    fmt: str,
    out: TextIO,
    *,
    batch: int = 1,
    dtype: str = "float32",
) -> None:
    """Write ``analysis`` in format ``fmt`` (one of FORMATS) to ``out``."""
    if fmt == "table":
        draw_table(analysis, out, batch=batch, dtype=dtype)
    elif fmt == "json":
        out.write(to_json(analysis, batch=batch, dtype=dtype))
    elif fmt == "csv":
        write_delimited(analysis, out, ",")
    elif fmt == "tsv":
        write_delimited(analysis, out, "\t")
    elif fmt == "markdown":
        out.write(to_markdown(analysis, batch=batch, dtype=dtype))
    else:  # pragma: no cover - click's Choice guards this
        raise ValueError(f"unknown format {fmt!r}")
