"""``convcalc solve``'s answers in every format: JSON, CSV/TSV and Markdown here,
the table for people in table.py (the only module that imports Rich).

An answer whose windows leave input pixels unread (``Solution.skips_input``) is
marked: JSON's ``"skips_input"`` and CSV's ``skips_input`` column in every answer;
the table and Markdown add a ``skips`` column and a legend line when a shown answer
is one. ``--explain`` (``explained``) adds each answer's size computation, per
solved layer and dimension, as the main command's ``--explain`` writes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from convcalc._records import NamedTuple
from convcalc.formats.text import is_unicode, shape

if TYPE_CHECKING:
    from convcalc.ask.solve import Solution
    from convcalc.kinds.explaining import Step

__all__ = ["Explained", "nearest", "solved_rows", "write"]


def _keys(answers: Sequence[Solution]) -> list[str]:
    keys: dict[str, None] = {}
    for answer in answers:
        keys.update(dict.fromkeys(answer.values))
    return list(keys)


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(map(_value, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _layers(answer: Solution, input_shape: str | None, conventions: dict[str, Any]) -> str:
    """The answer as the layer to write: the spec itself for one layer; for a chain,
    only its solved layers (``1: conv2d … p=3; 2: maxpool … p=1``)."""
    rows = solved_rows(answer)
    if not rows:
        return answer.spec
    from convcalc.network.analysis import analyze

    layers = analyze(answer.spec, input_shape, **conventions).layers
    return "; ".join(f"{row}: {layers[row - 1].spec}" for row in rows)


def solved_rows(answer: Solution) -> list[int]:
    """The table rows of a chain's solved layers ([] for one layer: its only row)."""
    return sorted({int(key.split(".", 1)[0]) for key in answer.values if "." in key})


class Explained(NamedTuple):
    """``--explain`` for one layer of one answer: its row (0: the answer is one
    layer), its spec and the steps of its size computation."""

    row: int
    spec: str
    steps: Sequence[Step]


SKIPS = "skips"  # the column that marks an answer whose windows leave input pixels unread
LEGEND = (
    "skips: some input pixels are read by no window (a stride longer than the window, "
    "or the last rows no window reaches)"
)


def nearest(
    nearest: Sequence[Solution], input_shape: str | None, conventions: dict[str, Any]
) -> str:
    if not nearest:
        return ""
    lines = ["nearest reachable:"]
    width = max(len(shape(s.output, "×")) for s in nearest)
    for answer in nearest:
        layers = _layers(answer, input_shape, conventions)
        lines.append(f"  {shape(answer.output, '×').ljust(width)}  {layers}")
    return "\n".join(lines)


def write(
    answers: Sequence[Solution],
    total: int,
    fmt: str,
    out: TextIO,
    spec: str,
    start: Sequence[int | None],
    input_shape: str | None,
    conventions: dict[str, Any] | None = None,
    note: str = "",
    explained: Sequence[Sequence[Explained]] | None = None,
) -> None:
    """The answers in ``fmt``; ``total`` is how many there are (``answers`` may be
    the first of them); ``note`` says which conventions hold (the title's end);
    ``explained``: for each answer, its solved layers' steps (--explain)."""
    conventions = conventions or {}
    if fmt == "json":
        from convcalc.formats.jsonenc import dumps_function

        dumps = dumps_function()
        items = []
        for n, answer in enumerate(answers):
            data = answer.to_dict()
            if explained is not None:
                data["explain"] = [step.to_dict() for e in explained[n] for step in e.steps]
            items.append(dumps(data))
        out.write("[\n" + ",\n".join(f"  {item}" for item in items) + "\n]\n" if items else "[]\n")
        return
    keys = _keys(answers)
    chain = any("." in key for key in keys)
    if fmt in ("csv", "tsv"):
        import csv

        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        extra = ["explain"] if explained is not None else []
        writer.writerow(["spec", *keys, "output", "skips_input", *extra])
        for n, answer in enumerate(answers):
            values = [_value(answer.values.get(key)) for key in keys]
            steps = [] if explained is None else ["; ".join(_step_lines(explained[n]))]
            skips = "true" if answer.skips_input else "false"
            writer.writerow([answer.spec, *values, shape(answer.output), skips, *steps])
        return
    unicode = fmt == "markdown" or is_unicode(out)
    sep = "×" if unicode else "x"
    arrow = "→" if unicode else "->"
    head = "layers" if chain else "layer"
    marked = any(answer.skips_input for answer in answers)
    marks = [SKIPS] if marked else []
    table = [
        [
            str(n),
            _layers(answer, input_shape, conventions) if chain else answer.spec,
            *(_value(answer.values.get(key)) for key in keys),
            *(("yes" if answer.skips_input else "",) if marked else ()),
            shape(answer.output, sep),
        ]
        for n, answer in enumerate(answers, start=1)
    ]
    what = spec.strip() if not chain and "\n" not in spec.strip() else "the ? keys"
    plural = "answer" if total == 1 else "answers"
    title = f"{what}: {total} {plural}, {shape(start, sep)} {arrow} {shape(answers[0].output, sep)}"
    if total > 1:
        title += ", most conventional first"
    if note:
        title += f"  ({note})"
    more = ""
    if len(answers) < total:
        more = f"… and {total - len(answers)} more (--limit 0 shows them all)"
        more = more if unicode else more.replace("…", "...")
    legend = LEGEND if marked else ""
    if fmt == "markdown":
        columns = [*keys, *marks]
        lines = [f"{title}", "", f"| # | {head} | {' | '.join(columns)} | output |"]
        lines.append("|--:|:--|" + "--:|" * len(columns) + ":--|")
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in table]
        lines += [line for text in (legend, more) if text for line in ("", text)]
        if explained is not None:
            lines += _md_explained(explained, chain)
        out.write("\n".join(lines) + "\n")
        return
    from convcalc.formats.table import draw_answers

    below = "\n".join(text for text in (legend, more) if text)
    draw_answers(out, title, [head, *keys, *marks], table, below, unicode)
    if explained is not None:
        out.write("\n" + "\n".join(_text_explained(explained, chain)) + "\n")


def _step_lines(layers: Sequence[Explained]) -> list[str]:
    """One answer's steps as lines, each prefixed by its layer's row in a chain."""
    return [f"{e.row}: {step.line()}" if e.row else step.line() for e in layers for step in e.steps]


def _text_explained(explained: Sequence[Sequence[Explained]], chain: bool) -> list[str]:
    """--explain under the table: each answer's number, then each solved layer
    (``4: maxpool …`` in a chain) with its steps under it."""
    lines = ["how each answer's size is computed"]
    pad = len(str(len(explained)))
    for n, layers in enumerate(explained, start=1):
        number = str(n).rjust(pad)
        for e in layers:
            label = f"{e.row}: {e.spec}" if chain else e.spec
            lines.append(f"{number}  {label}")
            number = " " * pad
            indent = " " * (pad + 2 + (len(f"{e.row}: ") if chain else 0))
            lines += [indent + step.line() for step in e.steps]
    return lines


def _md_explained(explained: Sequence[Sequence[Explained]], chain: bool) -> list[str]:
    """--explain in Markdown: an item per answer's layer, its steps nested under it."""
    from convcalc.formats.markdown import step_item

    lines = ["", "**How each answer's size is computed**", ""]
    for n, layers in enumerate(explained, start=1):
        for e in layers:
            where = f"answer {n}, layer {e.row}" if chain else f"answer {n}"
            spec = e.spec.replace("|", "\\|")
            lines.append(f"- {where}: `{spec}`")
            lines += [step_item(step) for step in e.steps]
    return lines
