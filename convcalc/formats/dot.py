"""Graphviz DOT (``-o dot``): the network as ``dot -Tsvg`` draws it — the same nodes,
edges and block instances as Mermaid's (diagram.py), each instance a
``subgraph cluster_N``; side outputs dashed, a folded block (``--depth``) a 3-d box.
Every identifier is a plain ``n5``/``b5``/``cluster_3``; every label a double-quoted
string with ``\\`` and ``"`` escaped, lines joined by ``\\n``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from convcalc.formats.diagram import Cluster, Diagram, Node, cluster_title, diagram, node_lines
from convcalc.formats.text import is_unicode

if TYPE_CHECKING:
    from convcalc.formats.report import Report

__all__ = ["quote", "to_dot", "write_dot"]

HEAD = (
    "digraph convcalc {",
    '    node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '    edge [fontname="Helvetica", fontsize=9];',
)


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (one line; escString's backslash
    escapes such as ``\\N`` or ``\\l`` are not left to be read)."""
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _label(lines: list[str]) -> str:
    # Each line quoted on its own, then joined by DOT's \n escape.
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines if line) + '"'


def _node(node: Node, arrow: str) -> str:
    attrs = [f"label={_label(node_lines(node, arrow))}"]
    if node.kind == "input":
        attrs.append("shape=oval")
    elif node.kind == "block":
        attrs.append("shape=box3d")
    if node.side:
        attrs.append('style="rounded,dashed"')
    return f"{node.id} [{', '.join(attrs)}];"


def to_dot(report: Report, *, unicode: bool = True) -> str:
    """The report's network as a DOT digraph (see the module's docstring)."""
    return _render(diagram(report, unicode=unicode))


def _render(graph: Diagram) -> str:
    dot = graph.marks.dot
    lines = list(HEAD)

    def walk(items: tuple[Node | Cluster, ...] | list[Node | Cluster], level: int) -> None:
        pad = "    " * level
        for item in items:
            if isinstance(item, Cluster):
                lines.append(f"{pad}subgraph cluster_{item.id[1:]} {{")
                lines.append(f"{pad}    label={quote(cluster_title(item, dot))};")
                style = '"rounded,dashed"' if item.side else "rounded"
                lines.append(f"{pad}    style={style};")
                walk(item.items, level + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(pad + _node(item, graph.marks.arrow))

    walk((graph.input, *graph.items), 1)
    for edge in graph.edges:
        label = f" [label={quote(edge.label)}]" if edge.label else ""
        lines.append(f"    {edge.source} -> {edge.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_dot(report: Report, out: TextIO) -> None:
    """:func:`to_dot` written to ``out`` (ASCII marks where it takes no Unicode)."""
    out.write(to_dot(report, unicode=is_unicode(out)))
