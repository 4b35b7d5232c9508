"""Mermaid (``-o mermaid``): the network as a flowchart that the sites rendering
Mermaid in Markdown (GitHub, GitLab) draw — a node per layer (its text and output
shape), an edge per tensor it reads (labelled with the shape where it changes), a
subgraph per block instance (its name and arguments), side outputs dashed, folded
blocks (``--depth``) in a heavier box. The structure is diagram.py's.

Only the syntax every Mermaid since 9 accepts is written: ``flowchart TD``, quoted
node labels ``id["…"]``, ``subgraph id ["…"]`` … ``end``, edges ``a --> b`` and
``a -->|"…"| b``, ``classDef`` and ``class``. Inside a label, the characters Mermaid
or its HTML labels read specially are written as its entity codes (``#quot;``,
``#91;``, …; docs/output.md#mermaid); lines are joined by ``<br/>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from convcalc.formats.diagram import Cluster, Diagram, Node, cluster_title, diagram, node_lines
from convcalc.formats.text import is_unicode

if TYPE_CHECKING:
    from convcalc.formats.report import Report

__all__ = ["ESCAPES", "escape", "to_mermaid", "write_mermaid"]

# Mermaid's entity codes (``#name;`` or ``#number;``): quotes and brackets end a
# label, ``#`` starts a code, ``<``, ``>`` and ``&`` are HTML in a label, ``|`` ends an
# edge's, a backtick starts Markdown text (Mermaid 10), braces and ``;`` are kept safe.
ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "[": "#91;",
    "]": "#93;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
    "{": "#123;",
    "}": "#125;",
    ";": "#59;",
}
_TABLE = str.maketrans(ESCAPES)
BREAK = "<br/>"  # a line break inside a label

STYLES = {
    "side": "stroke-dasharray: 5 5",  # on a side output: eval mode does not run it
    "folded": "stroke-width:3px",  # a block instance folded into one node (--depth)
}


def escape(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label (no newlines: one line)."""
    return " ".join(text.split()).translate(_TABLE)


def _label(lines: list[str]) -> str:
    return BREAK.join(escape(line) for line in lines if line)


def to_mermaid(report: Report, *, unicode: bool = True) -> str:
    """The report's network as a Mermaid flowchart (see the module's docstring)."""
    return _render(diagram(report, unicode=unicode))


def _render(graph: Diagram) -> str:
    dot = graph.marks.dot
    lines = ["flowchart TD"]

    def walk(items: tuple[Node | Cluster, ...] | list[Node | Cluster], level: int) -> None:
        pad = "    " * level
        for item in items:
            if isinstance(item, Cluster):
                lines.append(f'{pad}subgraph {item.id} ["{escape(cluster_title(item, dot))}"]')
                walk(item.items, level + 1)
                lines.append(f"{pad}end")
            else:
                lines.append(f'{pad}{item.id}["{_label(node_lines(item, graph.marks.arrow))}"]')

    walk((graph.input, *graph.items), 1)
    for edge in graph.edges:
        arrow = f'-->|"{escape(edge.label)}"|' if edge.label else "-->"
        lines.append(f"    {edge.source} {arrow} {edge.target}")
    nodes = graph.nodes()
    side = [n.id for n in nodes if n.side]
    folded = [n.id for n in nodes if n.kind == "block"]
    for name, ids in (("side", side), ("folded", folded)):
        if ids:
            lines.append(f"    classDef {name} {STYLES[name]}")
            lines.append(f"    class {','.join(ids)} {name}")
    return "\n".join(lines) + "\n"


def write_mermaid(report: Report, out: TextIO) -> None:
    """:func:`to_mermaid` written to ``out`` (ASCII marks where it takes no Unicode)."""
    out.write(to_mermaid(report, unicode=is_unicode(out)))
