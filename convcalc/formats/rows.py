"""What the table and Markdown show, as data: a :class:`Row` per layer (a graph's
block instances as subtotal rows above theirs, or folded into one row) and a
:class:`Total` per line of the block under them — text and figures taken from the
report, nothing computed. The table (table.py) and Markdown (markdown.py) lay these
out; CSV and JSON write the analysis's own records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from convcalc._records import NamedTuple
from convcalc.formats.report import is_graph
from convcalc.formats.text import compact, exact, rf_columns, rf_text, shape, size

if TYPE_CHECKING:
    from convcalc.formats.report import Report, Source
    from convcalc.network.analysis import Analysis, LayerResult
    from convcalc.network.subtotals import BlockResult

__all__ = ["INDENT", "Row", "Total", "convention", "rows", "sources_text", "totals"]


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


def _entered(analysis: Analysis) -> dict[int, str]:
    """The names a block instance gives the tensor it starts from (``as x`` first in
    its body, ResNet's shortcut), by tensor: the row before the instance made it, but
    the name is the instance's, so its mark belongs inside — its first row reads it
    as ``← x`` — not as ``→ x`` on that row, outside. Told by where the tensor is
    read: by rows of that instance only."""
    ends: dict[int, int] = {}  # an instance's first row → the last row of the widest one
    for block in analysis.blocks:
        ends[block.first] = max(ends.get(block.first, 0), block.last)
    layers = analysis.layers
    # The rows just before an instance, whose output has a name (tensor t is row t's).
    named = {
        first - 1: name
        for first in ends
        if first > 1 and (name := layers[first - 2].name) is not None
    }
    if not named:
        return {}
    for lay in layers:
        for t in lay.inputs:
            if t in named and lay.index > ends[t + 1]:  # read after the instance too
                del named[t]
    return named


def _note(
    lay: LayerResult,
    label: Callable[[int], str],
    arrow: str,
    back: str,
    entered: dict[int, str] | None = None,
) -> str:
    """The graph beside a row: ← its inputs (unless it reads the row above), → the
    name of its output, shared or tied weights, a side output. ``entered``: see _entered."""
    parts = []
    if len(lay.inputs) > 1 or lay.inputs != (lay.index - 1,):
        parts.append(f"{back} {', '.join(label(t) for t in lay.inputs)}")
    elif entered and lay.index - 1 in entered:
        parts.append(f"{back} {entered[lay.index - 1]}")
    if lay.name and not (entered and lay.index in entered):
        parts.append(f"{arrow} {lay.name}")
    if lay.shared is not None:
        parts.append(f"(weights of #{lay.shared})")
    if lay.tied is not None:
        parts.append(f"(weight tied to #{lay.tied})")
    if lay.side:
        parts.append("(side output)" if not parts else "(side)")
    return " ".join(parts)


def rows(report: Report, sep: str = "×", *, unicode: bool = True) -> list[Row]:
    """The layer table's rows: one per layer; for a graph also a subtotal row
    above each block instance's rows, and its inputs and names beside a layer.
    With the report's ``depth``, block instances nested deeper are folded into one
    row each; with its ``rf``, the receptive field in three cells (:func:`rf_columns`)."""
    analysis, depth, rf = report.analysis, report.depth, report.rf

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
    entered = _entered(analysis)
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
                note=_note(lay, label, arrow, back, entered),
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


def totals(report: Report, *, sep: str = "×", dot: str = "·") -> list[Total]:
    """The totals block: exact figures with their compact form, the output, the
    memory (per batch) and, with an optimizer, the training estimate."""
    analysis, mem, training = report.analysis, report.memory, report.training
    if mem is None:
        raise ValueError("a partial report (no memory figures) has no totals")
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
        *(
            [
                Total(
                    "",
                    size(mem.kv_cache),
                    f"key/value cache at the input's length (batch {mem.batch}, {mem.dtype})",
                )
            ]
            if mem.kv_cache != 0
            else []
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
