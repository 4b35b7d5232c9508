"""The output formats' names: what -o/--format accepts. A module of its own so that
the command line can check a format (and complete one) without loading the
renderers (convcalc.formats.render)."""

from __future__ import annotations

__all__ = ["FORMATS", "FORMAT_ALIASES"]

FORMATS = ("table", "json", "csv", "tsv", "markdown", "torch", "keras", "mermaid", "dot", "tree")
# Other spellings -o accepts (case never matters).
FORMAT_ALIASES = {
    "md": "markdown",
    "mdown": "markdown",
    "text": "table",
    "txt": "table",
    "pytorch": "torch",
    "mmd": "mermaid",
    "graphviz": "dot",
    "gv": "dot",
}
