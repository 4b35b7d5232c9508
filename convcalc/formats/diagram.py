"""The network as a picture, as data: a :class:`Node` per layer (the input first), a
:class:`Cluster` per block instance holding its nodes and nested instances, and an
:class:`Edge` per tensor a node reads — the graph as the analysis holds it, text and
figures taken from the report, nothing computed. With the report's ``depth``, a block
instance nested deeper is one node (its input and output shapes, its parameters), as
the table folds it. Mermaid (mermaid.py), Graphviz DOT (dot.py) and the terminal tree
(tree.py) draw this one structure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._records import NamedTuple
from convcalc.formats.rows import convention
from convcalc.formats.text import exact, shape

if TYPE_CHECKING:
    from convcalc.formats.report import Report
    from convcalc.network.analysis import LayerResult
    from convcalc.network.subtotals import BlockResult

__all__ = ["Cluster", "Diagram", "Edge", "Marks", "Node", "cluster_title", "diagram", "node_lines"]


class Marks(NamedTuple):
    """The characters a drawing may use: Unicode, or ASCII where the output takes
    no Unicode."""

    sep: str = "×"  # between a shape's sizes
    arrow: str = "→"  # a name given (→ x), a folded block's shapes (in → out)
    dot: str = "·"  # between a cluster's title and its parameter count
    dash: str = "–"  # a folded block's rows (5–12)


ASCII = Marks("x", "->", "-", "-")


class Node(NamedTuple):
    """One box: the input, a layer, or a folded block instance."""

    id: str  # n0: the input; n5: row 5; b5: the block instance folded from row 5
    number: str  # the row (5), a folded block's rows (5–12); "" for the input
    text: str  # the layer as written; "input"; a folded block's "label: spec"
    shape: str  # its output shape; a folded block's "input → output"
    params: int | None
    name: str = ""  # the name its output was given (``as x``)
    marks: tuple[str, ...] = ()  # shared weights, frozen, side (output), output
    kind: str = "layer"  # "input", "layer" or "block" (a folded instance)
    side: bool = False  # on a side output: eval mode does not run it

    def title(self, arrow: str = "→") -> str:
        """Its text, the name it gives (``→ x``) and its marks in brackets."""
        text = f"{self.text} {arrow} {self.name}" if self.name else self.text
        return f"{text} ({', '.join(self.marks)})" if self.marks else text


class Cluster(NamedTuple):
    """A block instance drawn around its nodes (and the instances nested in it)."""

    id: str  # s1, s2, … in the order the instances start
    text: str  # "label: spec": its name and instance arguments
    shape: str  # its output shape
    params: int | None  # its subtotal
    items: list[Node | Cluster]
    side: bool = False


class Edge(NamedTuple):
    """A tensor from ``source``'s node into ``target``'s; ``label``: its shape where
    the source changed the shape it read ("" where it passes its input's shape on)."""

    source: str
    target: str
    label: str = ""


Item = Node | Cluster


class Diagram(NamedTuple):
    """The input's node, then the top level's nodes and clusters in execution order,
    and every edge (a layer's inputs in its order; a folded block's outside inputs,
    each source once)."""

    input: Node
    items: tuple[Item, ...]
    edges: tuple[Edge, ...]
    marks: Marks

    def nodes(self) -> list[Node]:
        """Every node, the input first, in execution order."""
        out = [self.input]

        def walk(items: list[Item] | tuple[Item, ...]) -> None:
            for item in items:
                if isinstance(item, Cluster):
                    walk(item.items)
                else:
                    out.append(item)

        walk(self.items)
        return out

    def clusters(self) -> list[Cluster]:
        """Every cluster, outer before inner, in the order they start."""
        out: list[Cluster] = []

        def walk(items: list[Item] | tuple[Item, ...]) -> None:
            for item in items:
                if isinstance(item, Cluster):
                    out.append(item)
                    walk(item.items)

        walk(self.items)
        return out


def params_text(params: int | None) -> str:
    """``2,352 params`` (``1 param``)."""
    return f"{exact(params)} param{'' if params == 1 else 's'}"


def node_lines(node: Node, arrow: str = "→") -> list[str]:
    """A node's label, line by line: its text and marks, its shape, and a folded
    block's parameters."""
    lines = [node.title(arrow), node.shape]
    if node.kind == "block":
        lines.append(params_text(node.params))
    return lines


def cluster_title(cluster: Cluster, dot: str) -> str:
    """A cluster's label: ``res#1: res 16 · 2,352 params``."""
    side = " (side)" if cluster.side else ""
    return f"{cluster.text}{side} {dot} {params_text(cluster.params)}"


def diagram(report: Report, *, unicode: bool = True) -> Diagram:
    """The report's network as nodes, clusters and edges (see the module's docstring);
    ``unicode``: False for ASCII marks (x, ->)."""
    analysis = report.analysis
    marks = Marks() if unicode else ASCII
    sep, arrow = marks.sep, marks.arrow
    layers = analysis.layers
    ends = {lay.index for lay in analysis.side_outputs}
    result = len(layers) if analysis.result == -1 else analysis.result
    # Say which row is the output where it is not plain: side outputs, or a result
    # that is not the last row.
    mark_result = bool(ends) or result != len(layers)
    note = convention(analysis)
    input_node = Node(
        "n0",
        "",
        f"input ({note})" if note else "input",
        shape(analysis.input, sep),
        None,
        "",
        ("output",) if mark_result and result == 0 else (),
        "input",
    )
    owner: dict[int, str] = {0: "n0"}  # tensor (row) → the node that draws it
    entry: dict[str, tuple[int | None, ...]] = {"n0": ()}  # a node's id → the shape it read
    blocks = {b.block: b for b in analysis.blocks}
    root: list[Item] = []
    stack: list[tuple[tuple[str, ...], list[Item]]] = [((), root)]
    edges: list[Edge] = []
    count = 0

    def edge(tensor: int, target: str) -> Edge:
        source = owner[tensor]
        out = layers[tensor - 1].output if tensor else analysis.input
        changed = tensor != 0 and tuple(out) != entry[source]
        return Edge(source, target, shape(out, sep) if changed else "")

    for item in analysis.rows(report.depth):
        folded = item.is_block
        path = item.block[:-1] if folded else item.block
        while stack[-1][0] != path[: len(stack[-1][0])]:
            stack.pop()
        for level in range(len(stack[-1][0]), len(path)):
            block = blocks[path[: level + 1]]
            count += 1
            cluster = Cluster(
                f"s{count}",
                f"{block.label}: {block.spec}",
                shape(block.output, sep),
                block.params,
                [],
                block.side,
            )
            stack[-1][1].append(cluster)
            stack.append((path[: level + 1], cluster.items))
        if folded:
            block: BlockResult = item  # type: ignore[no-redef]
            node_id = f"b{block.first}"
            rows = range(block.first, block.last + 1)
            sources: dict[str, Edge] = {}
            for lay in layers[block.first - 1 : block.last]:
                for tensor in lay.inputs:
                    if tensor not in rows and owner[tensor] not in sources:
                        sources[owner[tensor]] = edge(tensor, node_id)
            edges.extend(sources.values())
            span = (
                str(block.first)
                if block.first == block.last
                else f"{block.first}{marks.dash}{block.last}"
            )
            end = ("output",) if mark_result and result in rows else ()
            node = Node(
                node_id,
                span,
                f"{block.label}: {block.spec}",
                f"{shape(block.input, sep)} {arrow} {shape(block.output, sep)}",
                block.params,
                "",
                ("side",) if block.side else end,
                "block",
                block.side,
            )
            for row in rows:
                owner[row] = node_id
            entry[node_id] = tuple(block.input)
        else:
            lay: LayerResult = item  # type: ignore[no-redef]
            node_id = f"n{lay.index}"
            edges.extend(edge(tensor, node_id) for tensor in lay.inputs)
            node = Node(
                node_id,
                str(lay.index),
                lay.spec,
                shape(lay.output, sep),
                lay.params,
                lay.name or "",
                _marks(lay, lay.index in ends, mark_result and lay.index == result),
                "layer",
                lay.side,
            )
            owner[lay.index] = node_id
            entry[node_id] = tuple(lay.input)
        stack[-1][1].append(node)
    return Diagram(input_node, tuple(root), tuple(edges), marks)


def _marks(lay: LayerResult, end: bool, result: bool) -> tuple[str, ...]:
    out = []
    if lay.shared is not None:
        out.append(f"weights of #{lay.shared}")
    if lay.frozen:
        out.append("frozen")
    if end:
        out.append("side output")
    elif lay.side:
        out.append("side")
    if result:
        out.append("output")
    return tuple(out)
