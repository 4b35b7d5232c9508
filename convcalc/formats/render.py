"""Writing a report in the format asked for: the table (table.py, Rich) for people;
JSON (jsonout.py), CSV/TSV (delimited.py) and Markdown (markdown.py) for programs and
documents; PyTorch code (torch_code.py) and Keras code (keras_code.py); the network as
a picture: Mermaid (mermaid.py), Graphviz DOT (dot.py) and the block tree (tree.py).
Each writer is imported only when its format is written, so that ``--format json``
loads neither Rich nor the table code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from convcalc.formats.report import Report

__all__ = ["write"]


def write(
    report: Report,
    fmt: str,
    out: TextIO,
    *,
    width: int | None = None,
    color: bool | None = None,
) -> None:
    """Write ``report`` in format ``fmt`` (one of convcalc.formats.names.FORMATS) to
    ``out``; ``width`` and ``color`` lay out the table (see table.write_table),
    ``color`` the tree too."""
    if fmt == "table":
        from convcalc.formats.table import write_table

        write_table(report, out, width=width, color=color)
    elif fmt == "json":
        from convcalc.formats.jsonout import to_json

        out.write(to_json(report))
    elif fmt in ("csv", "tsv"):
        from convcalc.formats.delimited import write_delimited

        write_delimited(report, out, "," if fmt == "csv" else "\t")
    elif fmt == "markdown":
        from convcalc.formats.markdown import write_markdown

        write_markdown(report, out)
    elif fmt == "torch":  # code, not a report: torch_code.py (it may raise CodeError)
        from convcalc.formats.rows import sources_text
        from convcalc.formats.torch_code import to_torch

        out.write(to_torch(report.analysis, sources_text(report.sources, "-")))
    elif fmt == "keras":  # code: keras_code.py (it may raise its CodeError)
        from convcalc.formats.keras_code import to_keras
        from convcalc.formats.rows import sources_text

        out.write(to_keras(report.analysis, sources_text(report.sources, "-")))
    elif fmt == "mermaid":
        from convcalc.formats.mermaid import write_mermaid

        write_mermaid(report, out)
    elif fmt == "dot":
        from convcalc.formats.dot import write_dot

        write_dot(report, out)
    elif fmt == "tree":
        from convcalc.formats.tree import write_tree

        write_tree(report, out, color=color)
    else:  # pragma: no cover - the CLI's option type guards this
        raise ValueError(f"unknown format {fmt!r}")
