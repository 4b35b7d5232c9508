"""``convcalc solve``'s answers in every format: JSON, CSV/TSV and Markdown here,
the table for people in table.py (the only module that imports Rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from convcalc.formats.text import is_unicode, shape

if TYPE_CHECKING:
    from convcalc.ask.solve import Solution

__all__ = ["nearest", "write"]


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
    rows = sorted({int(key.split(".", 1)[0]) for key in answer.values if "." in key})
    if not rows:
        return answer.spec
    from convcalc.network.analysis import analyze

    layers = analyze(answer.spec, input_shape, **conventions).layers
    return "; ".join(f"{row}: {layers[row - 1].spec}" for row in rows)


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
) -> None:
    """The answers in ``fmt``; ``total`` is how many there are (``answers`` may be
    the first of them); ``note`` says which conventions hold (the title's end)."""
    conventions = conventions or {}
    if fmt == "json":
        import json

        items = [json.dumps(answer.to_dict()) for answer in answers]
        out.write("[\n" + ",\n".join(f"  {item}" for item in items) + "\n]\n" if items else "[]\n")
        return
    keys = _keys(answers)
    chain = any("." in key for key in keys)
    if fmt in ("csv", "tsv"):
        import csv

        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(["spec", *keys, "output"])
        for answer in answers:
            values = [_value(answer.values.get(key)) for key in keys]
            writer.writerow([answer.spec, *values, shape(answer.output)])
        return
    unicode = fmt == "markdown" or is_unicode(out)
    sep = "×" if unicode else "x"
    arrow = "→" if unicode else "->"
    head = "layers" if chain else "layer"
    table = [
        [
            str(n),
            _layers(answer, input_shape, conventions) if chain else answer.spec,
            *(_value(answer.values.get(key)) for key in keys),
            shape(answer.output, sep),
        ]
        for n, answer in enumerate(answers, start=1)
    ]
    what = spec.strip() if not chain and "\n" not in spec.strip() else "the ? keys"
    plural = "answer" if total == 1 else "answers"
    title = f"{what}: {total} {plural}, {shape(start, sep)} {arrow} {shape(answers[0].output, sep)}"
    if total > 1:
        title += ", simplest first"
    if note:
        title += f"  ({note})"
    more = ""
    if len(answers) < total:
        more = f"… and {total - len(answers)} more (--limit 0 shows them all)"
        more = more if unicode else more.replace("…", "...")
    if fmt == "markdown":
        lines = [f"{title}", "", f"| # | {head} | {' | '.join(keys)} | output |"]
        lines.append("|--:|:--|" + "--:|" * len(keys) + ":--|")
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in table]
        if more:
            lines += ["", more]
        out.write("\n".join(lines) + "\n")
        return
    from convcalc.formats.table import draw_answers

    draw_answers(out, title, [head, *keys], table, more, unicode)
