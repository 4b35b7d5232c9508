"""Presenting an Analysis: a Rich table for people, JSON/CSV/TSV/Markdown for
programs and documents.

Renderers receive finished results and do no arithmetic: every number shown
comes from the Analysis (or its memory figures) and also exists in the JSON.
Both the table and Markdown are built from the same per-row data (:func:`rows`
for the layers, :func:`totals` for the block under them). Rich is imported only
inside :func:`draw_table`, so the machine formats stay fast.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from convcalc._records import NamedTuple
from convcalc.formats.jsonout import Extras, to_json

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.network.analysis import Analysis, BlockResult, LayerResult, ReceptiveField
    from convcalc.network.memory import Memory, TrainingMemory

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

UNKNOWN = "?"
COMMAND_LINE = "the command line"

# --------------------------------------------------------------------------
# Number and shape formatting (pure text, from exact integers).


def exact(n: int | None) -> str:
    """``1234567`` → ``1,234,567``; None → ``?``."""
    return UNKNOWN if n is None else f"{n:,}"


def _tenths(n: int, scale: int) -> int:
    """``n / scale`` in tenths, rounded half up (n ≥ 0): integers only."""
    return (n * 10 + scale // 2) // scale


def _one_decimal(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def _scientific(n: int) -> str:
    """``n`` (≥ 10) as ``1.2e24``, rounded half up with carry (9.96e23 → 1.0e24)."""
    exponent = len(str(n)) - 1
    mantissa = _tenths(n, 10**exponent)  # 10..100 tenths
    if mantissa == 100:
        exponent, mantissa = exponent + 1, 10
    return f"{_one_decimal(mantissa)}e{exponent}"


_DECIMAL_UNITS = ("K", "M", "G", "T", "P", "E")


def compact(n: int | None) -> str:
    """``11689512`` → ``11.7 M``: thousands up to E (10¹⁸), then ``1.2e24``; below
    a thousand the number as is. Rounding carries: 999,950 → ``1.0 M``."""
    if n is None:
        return UNKNOWN
    if n < 0:
        return "-" + compact(-n)
    if n < 1000:
        return str(n)
    for power, unit in enumerate(_DECIMAL_UNITS, start=1):
        tenths = _tenths(n, 1000**power)
        if tenths < 10_000:  # below 1000.0 once rounded
            return f"{_one_decimal(tenths)} {unit}"
    return _scientific(n)


_BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def size(n: int | None) -> str:
    """Bytes in binary units: ``4014080`` → ``3.8 MiB``; 1,048,575 → ``1.0 MiB``
    (rounding carries); beyond 1024 EiB ``1.2e24 B``."""
    if n is None:
        return UNKNOWN
    if n < 1024:
        return f"{n} B"
    for power, unit in enumerate(_BINARY_UNITS, start=1):
        tenths = _tenths(n, 1024**power)
        if tenths < 10_240:  # below 1024.0 once rounded
            return f"{_one_decimal(tenths)} {unit}"
    return f"{_scientific(n)} B"


def shape(dims: Iterable[int | None], sep: str = "x") -> str:
    """``(64, 112, 112)`` → ``64x112x112``; an unknown size is ``?``."""
    return sep.join(UNKNOWN if d is None else str(d) for d in dims)


def _dims(values: Sequence[int], sep: str) -> str:
    if len(set(values)) == 1 and len(values) > 1:
        return sep.join([str(values[0])] * len(values))
    return sep.join(str(v) for v in values)


def rf_columns(rf: ReceptiveField | None, sep: str = "×") -> tuple[str, str, str]:
    """``--rf``'s cells: the size (``11×11``), the effective stride (``4×4``) and the
    start (``-5,-5``), each per dimension."""
    if rf is None:
        return ("", "", "")
    return (
        sep.join(map(str, rf.size)),
        sep.join(map(str, rf.stride)),
        ",".join(map(str, rf.start)),
    )


def rf_text(rf: ReceptiveField | None, sep: str = "×") -> str:
    """``11×11 /4``: receptive-field size, then the effective stride (one number
    when it is the same along every dimension)."""
    if rf is None:
        return ""
    stride = rf.stride
    jump = str(stride[0]) if len(set(stride)) == 1 else sep.join(map(str, stride))
    return f"{_dims(rf.size, sep)} /{jump}"


# --------------------------------------------------------------------------
# What the table and Markdown show, as data.


class Source(NamedTuple):
    """Where layers ``first``..``last`` (1-based) of the chain were written."""

    name: str  # a file name, or COMMAND_LINE
    first: int
    last: int

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.name, "first": self.first, "last": self.last}


def sources_text(sources: Sequence[Source], dash: str = "–") -> str:
    """``layers 1–10 from net.spec, 11–13 from the command line``."""
    parts = []
    for n, src in enumerate(sources):
        span = str(src.first) if src.first == src.last else f"{src.first}{dash}{src.last}"
        lead = ("layer " if src.first == src.last else "layers ") if n == 0 else ""
        parts.append(f"{lead}{span} from {src.name}")
    return ", ".join(parts)


class Row(NamedTuple):
    """One row of the layer table."""

    number: str  # the layer's index (a block's span of rows: 5–12)
    layer: str  # the layer as written, indented by its block depth
    output: str  # its output shape (or the failure mark)
    params: int | None
    macs: int | None
    rf: str
    failed: bool = False
    note: str = ""  # the graph around it: ← its inputs, → its name, shared weights
    header: bool = False  # a block instance's subtotal, above its rows
    side: bool = False  # on a side output: eval mode does not run it
    rf_stride: str = ""  # with --rf, the receptive field in three columns: rf holds
    rf_start: str = ""  # its size, these its effective stride and its start


INDENT = "  "  # one block level in the layer column


def _labels(analysis: Analysis) -> Callable[[int], str]:
    """How the table names a tensor: its name, ``#5`` (row 5's output) or ``input``."""
    layers = analysis.layers

    def label(tensor: int) -> str:
        if tensor == 0:
            return "input"
        return layers[tensor - 1].name or f"#{tensor}"

    return label


def is_graph(analysis: Analysis) -> bool:
    """Whether the analysis is more than a chain (branches, merges, names, blocks)."""
    return bool(analysis.blocks) or any(
        lay.inputs != (lay.index - 1,) or lay.name or lay.side for lay in analysis.layers
    )


def _note(lay: LayerResult, label: Callable[[int], str], arrow: str, back: str) -> str:
    parts = []
    if len(lay.inputs) > 1 or lay.inputs != (lay.index - 1,):
        parts.append(f"{back} {', '.join(label(t) for t in lay.inputs)}")
    if lay.name:
        parts.append(f"{arrow} {lay.name}")
    if lay.shared is not None:
        parts.append(f"(weights of #{lay.shared})")
    if lay.side:
        parts.append("(side output)" if not parts else "(side)")
    return " ".join(parts)


def rows(
    analysis: Analysis,
    sep: str = "×",
    *,
    depth: int | None = None,
    unicode: bool = True,
    rf: bool = False,
) -> list[Row]:
    """The layer table's rows: one per layer; for a graph also a subtotal row
    above each block instance's rows, and its inputs and names beside a layer.
    With ``depth``, block instances nested deeper are folded into one row each;
    with ``rf``, the receptive field in three cells (:func:`rf_columns`)."""

    def field(lay: LayerResult) -> tuple[str, str, str]:
        return rf_columns(lay.rf, sep) if rf else (rf_text(lay.rf, sep), "", "")

    if not is_graph(analysis):
        return [
            Row(
                str(lay.index),
                lay.spec,
                shape(lay.output, sep),
                lay.params,
                lay.macs,
                cells[0],
                rf_stride=cells[1],
                rf_start=cells[2],
            )
            for lay in analysis.layers
            for cells in (field(lay),)
        ]
    arrow, back, dash = ("→", "←", "–") if unicode else ("->", "<-", "-")
    label = _labels(analysis)
    blocks = {b.block: b for b in analysis.blocks}
    out: list[Row] = []
    opened: tuple[str, ...] = ()
    for item in analysis.rows(depth):
        folded = item.is_block
        path = item.block[:-1] if folded else item.block
        # Open the block instances this row sits in (their subtotal rows).
        common = 0
        while common < min(len(path), len(opened)) and path[common] == opened[common]:
            common += 1
        for level in range(common, len(path)):
            block = blocks[path[: level + 1]]
            out.append(_block_row(block, level, sep, dash, header=True))
        opened = path
        if folded:
            out.append(_block_row(item, len(path), sep, dash))  # type: ignore[arg-type]
            continue
        lay: LayerResult = item  # type: ignore[assignment]
        cells = field(lay)
        out.append(
            Row(
                str(lay.index),
                INDENT * len(path) + lay.spec,
                shape(lay.output, sep),
                lay.params,
                lay.macs,
                cells[0],
                note=_note(lay, label, arrow, back),
                side=lay.side,
                rf_stride=cells[1],
                rf_start=cells[2],
            )
        )
    return out


def _block_row(block: BlockResult, level: int, sep: str, dash: str, *, header: bool = False) -> Row:
    span = str(block.first) if block.first == block.last else f"{block.first}{dash}{block.last}"
    return Row(
        "" if header else span,
        f"{INDENT * level}{block.label}: {block.spec}",
        shape(block.output, sep),
        block.params,
        block.macs,
        "",
        note="(side)" if block.side else "",
        header=header,
        side=block.side,
    )


class Total(NamedTuple):
    """One line of the totals under the table: a label, a value, a note."""

    label: str
    value: str
    note: str = ""
    shape: bool = False  # the value is a shape


def convention(analysis: Analysis) -> str:
    """``keras, channels last`` (ONNX: with its opset) for the header: which
    framework's conventions the figures follow; "" for PyTorch's, the default."""
    if analysis.framework == "torch":
        return ""
    name = analysis.framework
    if analysis.opset is not None:
        name += f" opset {analysis.opset}"
    return f"{name}, channels {'last' if analysis.framework == 'keras' else 'first'}"


def _params_note(analysis: Analysis, dot: str) -> str:
    """The compact form and the trainable split, as torchinfo shows it (Keras's
    model.summary() words under Keras); nothing for a network without parameters."""
    params, trainable = analysis.params, analysis.trainable
    if params is None:
        return "unknown: give the input's channel count"
    if params == 0:
        return ""
    note = f"{compact(params)} {dot} " if params >= 1000 else ""
    if trainable == params:
        return note + "all trainable"
    frozen = "non-trainable" if analysis.framework == "keras" else "frozen"
    return note + f"trainable {exact(trainable)} {dot} {frozen} {exact(analysis.frozen)}"


def totals(
    analysis: Analysis,
    *,
    batch: int = 1,
    dtype: str = "float32",
    training: TrainingMemory | None = None,
    sep: str = "×",
    dot: str = "·",
) -> list[Total]:
    """The totals block: exact figures with their compact form, the output, the
    memory (per batch) and, with an optimizer, the training estimate."""
    mem = analysis.memory(batch, dtype)
    params, macs = analysis.params, analysis.macs
    out = [
        Total("params", exact(params), _params_note(analysis, dot)),
        Total("buffers", exact(analysis.buffers), "running statistics"),
        Total(
            "MACs",
            exact(macs),
            f"{compact(macs)} per sample" if macs is not None and macs >= 1000 else "per sample",
        ),
        Total("output", shape(analysis.output, sep), shape=True),
        *(
            Total(
                "side",
                shape(lay.output, sep),
                f"{lay.name or '#' + str(lay.index)}: a side output, not run in eval mode "
                "(its params count, its MACs do not)",
                shape=True,
            )
            for lay in analysis.side_outputs
        ),
        Total(
            "memory",
            size(mem.params),
            "parameters" if analysis.framework == "keras" else "parameters and buffers",
        ),
        Total(
            "",
            size(mem.activations_peak),
            f"peak activations, a lower bound (batch {mem.batch}, {mem.dtype})",
        ),
    ]
    if analysis.framework == "keras":  # Keras counts its moving statistics as params
        out = [t for t in out if t.label != "buffers"]
    if training is not None:
        out += [
            Total(
                "training",
                size(training.total),
                f"estimate for {training.optimizer} (batch {training.batch}, {training.dtype}):",
            ),
            Total("", size(training.params), "parameters and buffers"),
            Total("", size(training.gradients), "gradients"),
            Total("", size(training.optimizer_state), "optimizer state"),
            Total("", size(training.activations), "activations kept for backward"),
        ]
    return out


# --------------------------------------------------------------------------
# Machine formats: the standard library only (JSON: tojson.py).


def _rf_fields(rf: ReceptiveField | None) -> tuple[str, str, str]:
    if rf is None:
        return ("", "", "")
    return (shape(rf.size), shape(rf.stride), shape(rf.start))


def csv_rows(
    analysis: Analysis, depth: int | None = None, explain: Sequence[Step] | None = None
) -> Iterable[tuple[Any, ...]]:
    """The header, then one row per layer (with ``depth``, per folded block
    instance too: kind ``block``, index ``first-last``); unknown figures are empty
    fields, ``inputs`` the rows read (0 = the input), space-separated. With
    ``explain``, a last column holds each row's steps, joined by "; "."""
    if explain is not None:
        lines: dict[int, list[str]] = {}
        for step in explain:
            lines.setdefault(step.row, []).append(step.line())
        for row in csv_rows(analysis, depth):
            if row is CSV_HEADER:
                yield (*row, "explain")
            else:
                index = row[0]
                yield (*row, "; ".join(lines.get(index, [])) if isinstance(index, int) else "")
        return
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


def write_delimited(
    analysis: Analysis,
    out: TextIO,
    delimiter: str = ",",
    depth: int | None = None,
    explain: Sequence[Step] | None = None,
) -> None:
    """CSV (RFC 4180 quoting) or TSV, written as it goes."""
    import csv

    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows(csv_rows(analysis, depth, explain))


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
        if step.expression is None:
            text = step.note
        else:
            same = step.expression == str(step.value)
            text = f"`{step.value if same else f'{step.expression} = {step.value}'}`"
            text += f" ({step.note})" if step.note else ""
        lines.append(f"  - {step.dim}: {text}")
    return lines


def to_markdown(
    analysis: Analysis,
    *,
    batch: int = 1,
    dtype: str = "float32",
    training: TrainingMemory | None = None,
    sources: Sequence[Source] = (),
    depth: int | None = None,
    extras: Extras | None = None,
) -> str:
    """A GitHub table, one row per layer (a graph's blocks as bold subtotal rows,
    their layers indented), then the totals as a second table; ``extras``: the
    receptive field in three columns and its summary, the explained arithmetic."""
    extras = extras or Extras()
    note = convention(analysis)
    lines = [f"Input: {shape(analysis.input, '×')}{f' ({note})' if note else ''}", ""]
    if sources:  # a paragraph of its own: GitHub joins adjacent lines
        text = sources_text(sources)
        lines += [f"{text[0].upper()}{text[1:]}.", ""]
    if extras.rf:
        lines += [
            "| # | layer | output | params | MACs | RF size | RF stride | RF start |",
            "|--:|:------|:-------|-------:|-----:|:--------|:----------|:---------|",
        ]
    else:
        lines += [
            "| # | layer | output | params | MACs | receptive field |",
            "|--:|:------|:-------|-------:|-----:|:----------------|",
        ]
    lines.extend(_md_row(row, extras.rf) for row in rows(analysis, depth=depth, rf=extras.rf))
    lines += ["", "| total | | |", "|:------|--:|:--|"]
    lines.extend(
        f"| {t.label} | {_md_cell(t.value)} | {_md_cell(t.note)} |"
        for t in totals(analysis, batch=batch, dtype=dtype, training=training)
    )
    if extras.rf:
        summary = "no layer has one" if extras.field is None else extras.field.text()
        lines += ["", f"Receptive field: {_md_cell(summary)}."]
    if extras.explain:
        lines += _md_explain(analysis, extras.explain)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# The table, for people: Rich, imported here and nowhere else.


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


def is_unicode(out: TextIO) -> bool:
    """Whether ``out`` takes Unicode (×, ⌊…⌋); else the table writes ASCII."""
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    return encoding.startswith(("utf", "cp65001"))


def draw_table(
    analysis: Analysis,
    out: TextIO,
    *,
    batch: int = 1,
    dtype: str = "float32",
    width: int | None = None,
    color: bool | None = None,
    failed: tuple[int, str] | None = None,
    training: TrainingMemory | None = None,
    sources: Sequence[Source] = (),
    depth: int | None = None,
    extras: Extras | None = None,
) -> None:
    """Draw ``analysis`` as a table on ``out``.

    ``width``: None = the terminal's on a terminal, else as wide as the table
    needs (never wrapped in a pipe). ``color``: None = on a terminal, unless
    NO_COLOR is set. ``failed``: (index, spec) of a layer that could not be
    computed; its row closes the table and the totals are left out.
    A narrow terminal drops columns and compacts figures rather than cut a
    number or a shape (see LAYOUTS). ``extras``: the receptive field in three
    columns and its summary under the totals, then the explained arithmetic.
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
    extras = extras or Extras()
    marks = ("×", "·", "✗", "–") if unicode else ("x", "-", "x", "-")
    sep, dot, cross, dash = marks
    limit = console.width

    header = Text(f"input {shape(analysis.input, sep)}", style="bold")
    note = convention(analysis)
    if note:
        header.append(f"  ({note})", style="dim")
    console.print(header)
    if sources:
        console.print(Text(sources_text(sources, dash), style="dim"))
    table_rows = rows(analysis, sep, depth=depth, unicode=unicode, rf=extras.rf)
    if failed is not None:
        index, spec = failed
        table_rows.append(Row(str(index), spec, f"{cross} error", None, None, "", failed=True))
    layouts = RF_LAYOUTS if extras.rf else LAYOUTS
    layout = next((lay for lay in layouts if _table_width(table_rows, lay) <= limit), None)
    if layout is not None:
        console.print(_table(table_rows, layout, unicode))
    else:
        for line in _stacked_rows(table_rows, limit, dot):
            console.print(line, no_wrap=True, overflow="ignore", crop=False)
    if failed is None:
        console.print()
        lines = totals(analysis, batch=batch, dtype=dtype, training=training, sep=sep, dot=dot)
        if _totals_width(lines) <= limit:
            console.print(_totals_grid(lines))
        else:
            for line in _stacked_totals(lines, limit):
                console.print(line, no_wrap=True, overflow="ignore", crop=False)
        if extras.rf:
            summary = "no layer has one" if extras.field is None else extras.field.text(sep)
            console.print(_labelled("receptive field", summary))
        if extras.explain:
            _print_explain(console, analysis, extras.explain)
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


def write(
    analysis: Analysis,
    fmt: str,
    out: TextIO,
    *,
    batch: int = 1,
    dtype: str = "float32",
    training: TrainingMemory | None = None,
    sources: Sequence[Source] = (),
    depth: int | None = None,
    extras: Extras | None = None,
    memory: Memory | None = None,
) -> None:
    """Write ``analysis`` in format ``fmt`` (one of convcalc.formats.FORMATS) to ``out``; ``depth``
    folds block instances nested deeper than it into one row each; ``extras`` adds
    what --explain and --rf asked for; ``memory``: its figures, if computed already."""
    extra: dict[str, Any] = {"batch": batch, "dtype": dtype, "training": training}
    steps = extras.explain if extras is not None else None
    if fmt == "table":
        draw_table(analysis, out, sources=sources, depth=depth, extras=extras, **extra)
    elif fmt == "json":
        json_text = to_json(
            analysis, sources=sources, depth=depth, extras=extras, memory=memory, **extra
        )
        out.write(json_text)
    elif fmt == "csv":
        write_delimited(analysis, out, ",", depth, steps)
    elif fmt == "tsv":
        write_delimited(analysis, out, "\t", depth, steps)
    elif fmt == "markdown":
        out.write(to_markdown(analysis, sources=sources, depth=depth, extras=extras, **extra))
    elif fmt == "torch":  # code, not a report: totorch.py (it may raise CodeError)
        from convcalc.formats.torch_code import to_torch

        out.write(to_torch(analysis, sources_text(sources, "-")))
    else:  # pragma: no cover - the CLI's option type guards this
        raise ValueError(f"unknown format {fmt!r}")
