"""The drawings (-o mermaid, -o dot, -o tree) against the analysis they draw.

For every built-in model and the random graphs PyTorch ran (tests/data/
torch_graphs.jsonl), unfolded and folded (--depth 0): the nodes are the input and the
analysis's rows, the edges one per input of every layer (a folded block: one from
each node it reads), the clusters the block instances with exactly their rows, each
label the layer as written and its shape. DOT is read back by a real DOT parser
(pydot; Graphviz's ``dot`` too where it is installed). Mermaid is read back by a
checker of the grammar it writes (every line one of the statement forms, ids unique,
edges between declared nodes, subgraphs balanced, no unescaped character in a
label), and by Mermaid's own parser, headless, where CONVCALC_MERMAID names
directories holding ``npm install mermaid jsdom`` (os.pathsep between them; e.g.
one with mermaid@9 and one with mermaid@11): tests/formats/mermaid_check.mjs.
"""

from __future__ import annotations

import collections
import functools
import io
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.formats.diagram import diagram
from convcalc.formats.dot import to_dot
from convcalc.formats.mermaid import ESCAPES, escape, to_mermaid
from convcalc.formats.report import make_report
from convcalc.formats.text import shape
from convcalc.formats.tree import to_tree, write_tree
from convcalc.network.zoo import model_spec, models
from tests import paths

MODELS = [m.name for m in models()]
GRAPHS = [
    case
    for case in map(json.loads, (paths.DATA / "torch_graphs.jsonl").read_text().splitlines())
    if case["error"] is None
]
GRAPH = (
    "block res C\n"
    "  as x\n"
    "  conv2d C k=3 p=1 bias=false; bn; relu\n"
    "  conv2d C k=3 p=1 bias=false; bn\n"
    "  add x; relu\n"
    "end\n"
    "block stage C\n"
    "  res C; res C\n"
    "end\n"
    "stage 16\n"
    "conv2d 16 k=3 p=1 name=enc frozen; as trunk\n"
    "gap; flatten; linear 10; as aux\n"
    "from trunk; relu; use enc\n"
    "concat trunk\n"
    "gap; flatten; linear 10\n"
)


@functools.cache
def model(name: str) -> convcalc.Analysis:
    return convcalc.analyze(model_spec(name), filename=name)


@functools.cache
def graph_case(n: int) -> convcalc.Analysis:
    case = GRAPHS[n]
    return convcalc.analyze(case["spec"], case["input"])


def depths(analysis: convcalc.Analysis) -> list[int | None]:
    return [None, 0] if analysis.blocks else [None]


class Drawn(NamedTuple):
    """What a drawing holds, read back: node ids in order, each node's label lines,
    the edges (source, target) counted, and each cluster's title with its nodes."""

    nodes: list[str]
    labels: dict[str, list[str]]
    edges: collections.Counter[tuple[str, str]]
    clusters: list[tuple[str, frozenset[str]]]


def expected(analysis: convcalc.Analysis, depth: int | None) -> Drawn:
    """The drawing the analysis asks for, from its own records (not from diagram.py)."""
    owner = {0: "n0"}
    nodes = ["n0"]
    labels = {"n0": ["input", shape(analysis.input, "×")]}
    edges: collections.Counter[tuple[str, str]] = collections.Counter()
    spans: dict[str, range] = {}
    for item in analysis.rows(depth):
        if item.is_block:
            node = f"b{item.first}"
            rows = range(item.first, item.last + 1)
            reads = {
                owner[t]
                for lay in analysis.layers[item.first - 1 : item.last]
                for t in lay.inputs
                if t not in rows
            }
            edges.update((source, node) for source in reads)
            labels[node] = [
                f"{item.label}: {item.spec}",
                f"{shape(item.input, '×')} → {shape(item.output, '×')}",
                f"{item.params:,} params",
            ]
        else:
            node = f"n{item.index}"
            rows = range(item.index, item.index + 1)
            edges.update((owner[t], node) for t in item.inputs)
            labels[node] = [item.spec, shape(item.output, "×")]
        for row in rows:
            owner[row] = node
        spans[node] = rows
        nodes.append(node)
    clusters = [
        (
            f"{b.label}: {b.spec}",
            frozenset(n for n, rows in spans.items() if b.first <= rows[0] <= b.last),
        )
        for b in analysis.blocks
        if depth is None or len(b.block) <= depth
    ]
    return Drawn(nodes, labels, edges, clusters)


def same(drawn: Drawn, want: Drawn, where: str = "") -> None:
    assert drawn.nodes == want.nodes, where
    assert drawn.edges == want.edges, where
    assert [members for _, members in drawn.clusters] == [m for _, m in want.clusters], where
    for (title, _), (text, _) in zip(drawn.clusters, want.clusters):
        assert title.startswith(text), (where, title, text)
    for node, lines in want.labels.items():
        got = drawn.labels[node]
        # The layer's text, then any name and marks after it; its shape; its params.
        assert got[0].startswith(lines[0]), (where, got, lines)
        assert got[1:] == lines[1:], (where, got, lines)


# --------------------------------------------------------------------------------------------
# DOT, read back by pydot


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text[1:-1])


def read_dot(text: str) -> Drawn:
    import pydot

    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1, text
    nodes: list[str] = []
    labels: dict[str, list[str]] = {}
    edges: collections.Counter[tuple[str, str]] = collections.Counter()
    clusters: list[tuple[str, set[str]]] = []

    def walk(graph: Any, chain: list[set[str]]) -> None:
        for node in graph.get_nodes():
            name = node.get_name()
            if name in ("node", "edge", "graph"):
                continue
            nodes.append(name)
            labels[name] = _unquote(node.get_label()).split("\n")
            for members in chain:
                members.add(name)
        for edge in graph.get_edges():
            edges[(edge.get_source(), edge.get_destination())] += 1
        for sub in graph.get_subgraphs():
            assert sub.get_name().startswith("cluster_")
            members: set[str] = set()
            clusters.append((_unquote(sub.get_label()), members))
            walk(sub, [*chain, members])

    walk(graphs[0], [])
    order = {name: n for n, name in enumerate(nodes)}
    # Nodes come in the file's order: a cluster's before the ones after it.
    return Drawn(
        sorted(nodes, key=lambda name: (name != "n0", int(name[1:]), order[name])),
        labels,
        edges,
        [(title, frozenset(members)) for title, members in clusters],
    )


# pydot reads a few statements a millisecond: it reads every model folded (--depth 0),
# the small ones unfolded, and a sample of the random graphs; the DOT line checker
# below reads them all.
SMALL = [m for m in MODELS if len(model(m).layers) <= 70]


@pytest.mark.parametrize(
    ("name", "depth"), [(m, 0) for m in MODELS] + [(m, None) for m in SMALL], ids=str
)
def test_dot_of_the_built_in_models_read_by_pydot(name: str, depth: int | None) -> None:
    analysis = model(name)
    same(read_dot(to_dot(make_report(analysis, depth=depth))), expected(analysis, depth))


@pytest.mark.parametrize("n", range(0, len(GRAPHS), 80))
def test_dot_of_random_graphs_read_by_pydot(n: int) -> None:
    analysis = graph_case(n)
    for depth in depths(analysis):
        same(read_dot(to_dot(make_report(analysis, depth=depth))), expected(analysis, depth))


DOT_ID = r"[nb]\d+"
DOT_LABEL = r'"(?:[^"\\\n]|\\[\\"n])*"'
DOT_LINES = (
    re.compile(rf"^ *({DOT_ID}) \[label=({DOT_LABEL})(?:, shape=\w+)?(?:, style=\"[a-z,]+\")?\];$"),
    re.compile(r"^ *subgraph (cluster_\d+) \{$"),
    re.compile(rf"^ *label=({DOT_LABEL});$"),
    re.compile(r'^ *style=(?:rounded|"rounded,dashed");$'),
    re.compile(r"^ *\}$"),
    re.compile(rf"^    ({DOT_ID}) -> ({DOT_ID})(?: \[label={DOT_LABEL}\])?;$"),
)


def check_dot_lines(text: str) -> Drawn:
    """The DOT convcalc writes, line by line (the statement forms it uses): the same
    record as read_dot, for the networks too large for pydot in a test."""
    lines = text.splitlines()
    assert lines[:3] == [
        "digraph convcalc {",
        '    node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    assert lines[-1] == "}"
    nodes: list[str] = []
    labels: dict[str, list[str]] = {}
    edges: collections.Counter[tuple[str, str]] = collections.Counter()
    clusters: list[tuple[list[str], set[str]]] = []
    open_: list[int] = []
    for line in lines[3:-1]:
        match = next((m for m in (p.match(line) for p in DOT_LINES) if m), None)
        assert match is not None, line
        form = match.re
        if form is DOT_LINES[0]:
            name = match.group(1)
            assert name not in labels, name
            nodes.append(name)
            labels[name] = _unquote(match.group(2)).split("\n")
            for i in open_:
                clusters[i][1].add(name)
        elif form is DOT_LINES[1]:
            clusters.append(([], set()))
            open_.append(len(clusters) - 1)
        elif form is DOT_LINES[2]:
            clusters[open_[-1]][0].append(_unquote(match.group(1)))
        elif form is DOT_LINES[4]:
            open_.pop()
        elif form is DOT_LINES[5]:
            assert match.group(1) in labels and match.group(2) in labels, line
            edges[(match.group(1), match.group(2))] += 1
    assert not open_
    return Drawn(nodes, labels, edges, [(t[0], frozenset(m)) for t, m in clusters])


def every_network() -> Iterator[tuple[str, convcalc.Analysis, int | None]]:
    for name in MODELS:
        for depth in depths(model(name)):
            yield name, model(name), depth
    for n, case in enumerate(GRAPHS):
        for depth in depths(graph_case(n)):
            yield case["id"], graph_case(n), depth


def test_dot_of_every_network_by_its_lines() -> None:
    for name, analysis, depth in every_network():
        drawn = check_dot_lines(to_dot(make_report(analysis, depth=depth)))
        same(drawn, expected(analysis, depth), f"{name} --depth {depth}")


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graphviz_draws_resnet50() -> None:  # pragma: no cover - where Graphviz is
    text = to_dot(make_report(model("resnet50")))
    svg = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True)
    assert svg.stdout.count('class="node"') == len(model("resnet50").layers) + 1
    assert svg.stdout.count('class="cluster"') == len(model("resnet50").blocks)


def test_dot_quotes_what_it_must() -> None:
    from convcalc.formats.dot import quote

    assert quote('a "b" \\N c') == '"a \\"b\\" \\\\N c"'
    text = to_dot(make_report(convcalc.analyze('upsample 2 mode="bilinear"', "3x8x8")))
    assert 'n1 [label="upsample 2 mode=\\"bilinear\\"\\n3×2×2"];' in text
    read_dot(text)


# --------------------------------------------------------------------------------------------
# Mermaid, read back by a checker of its grammar


ENTITY = r"#(?:\d+|quot|lt|gt|amp);"
LABEL = rf'(?:[^"\[\]<>&|`{{}};#\n]|{ENTITY}|<br/>)*'
ID = r"[nb]\d+"
NODE = re.compile(rf'^( *)({ID})\["({LABEL})"\]$')
SUBGRAPH = re.compile(rf'^( *)subgraph (s\d+) \["({LABEL})"\]$')
END = re.compile(r"^( *)end$")
EDGE = re.compile(rf'^    ({ID}) -->(?:\|"({LABEL})"\|)? ({ID})$')
CLASSDEF = re.compile(r"^    classDef (side|folded) [a-z-]+:[ \w]+$")
CLASS = re.compile(rf"^    class ({ID}(?:,{ID})*) (side|folded)$")
NAMED = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}


def unescape(label: str) -> list[str]:
    """A label's lines, Mermaid's entity codes read."""

    def entity(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code)) if code.isdigit() else NAMED[code]

    return [re.sub(r"#(\w+);", entity, line) for line in label.split("<br/>")]


def check_mermaid(text: str) -> Drawn:
    """Every line one of the forms convcalc writes (the subset of Mermaid since 9:
    flowchart TD, id["…"], subgraph id ["…"] … end, edges, classDef, class), in that
    order: the nodes and subgraphs, then the edges, then the styles; subgraphs
    balanced and indented by their nesting; ids unique; edges and classes between
    declared nodes; no special character in a label but as an entity code."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: list[str] = []
    labels: dict[str, list[str]] = {}
    ids: set[str] = set()
    edges: collections.Counter[tuple[str, str]] = collections.Counter()
    clusters: list[tuple[str, set[str]]] = []
    open_: list[int] = []
    styles: set[str] = set()
    section = 0  # 0: nodes and subgraphs; 1: edges; 2: styles
    for line in lines[1:]:
        if m := NODE.match(line):
            assert section == 0 and len(m.group(1)) == 4 * (len(open_) + 1), line
            assert m.group(2) not in ids, line
            ids.add(m.group(2))
            nodes.append(m.group(2))
            labels[m.group(2)] = unescape(m.group(3))
            for i in open_:
                clusters[i][1].add(m.group(2))
        elif m := SUBGRAPH.match(line):
            assert section == 0 and len(m.group(1)) == 4 * (len(open_) + 1), line
            assert m.group(2) not in ids, line
            ids.add(m.group(2))
            clusters.append(("\n".join(unescape(m.group(3))), set()))
            open_.append(len(clusters) - 1)
        elif m := END.match(line):
            assert open_ and len(m.group(1)) == 4 * len(open_), line
            open_.pop()
        elif m := EDGE.match(line):
            assert section <= 1 and not open_, line
            section = 1
            assert m.group(1) in labels and m.group(3) in labels, line
            edges[(m.group(1), m.group(3))] += 1
        elif m := CLASSDEF.match(line):
            section = 2
            styles.add(m.group(1))
        elif m := CLASS.match(line):
            assert section == 2 and m.group(2) in styles, line
            assert all(node in labels for node in m.group(1).split(",")), line
        else:
            raise AssertionError(f"not a statement convcalc writes: {line!r}")
    assert not open_
    return Drawn(nodes, labels, edges, [(t, frozenset(m)) for t, m in clusters])


def test_mermaid_of_every_network_by_its_grammar() -> None:
    for name, analysis, depth in every_network():
        drawn = check_mermaid(to_mermaid(make_report(analysis, depth=depth)))
        same(drawn, expected(analysis, depth), f"{name} --depth {depth}")


def test_mermaid_escapes_every_special_character() -> None:
    text = 'a "b" [c] <d> & e | `f` {g}; #h #quot; ×'
    escaped = escape(text)
    assert re.fullmatch(LABEL, escaped), escaped
    assert unescape(escaped) == [text]
    assert set(ESCAPES) == set('#"[]<>&|`{};')
    for spec in ("conv2d 8 k=[3,3]", 'upsample 2 mode="bilinear"', "Conv2d(3, 8, [3, 3])"):
        analysis = convcalc.analyze(spec, "3x8x8")
        drawn = check_mermaid(to_mermaid(make_report(analysis)))
        assert drawn.labels["n1"][0] == spec


def test_folded_models_fit_the_limits_of_a_page() -> None:
    """Mermaid's defaults, GitHub's too: 500 edges and 50,000 characters at most."""
    for name in MODELS:
        text = to_mermaid(make_report(model(name), depth=0))
        assert text.count("-->") <= 500 and len(text) <= 50_000, name


def _mermaid_dirs() -> list[str]:
    return [d for d in os.environ.get("CONVCALC_MERMAID", "").split(os.pathsep) if d]


@pytest.mark.skipif(
    not _mermaid_dirs() or shutil.which("node") is None,
    reason="set CONVCALC_MERMAID to directories with `npm install mermaid jsdom`",
)
@pytest.mark.parametrize("where", _mermaid_dirs() or ["-"])
def test_mermaid_read_by_mermaid(where: str) -> None:  # pragma: no cover - where Node is
    # Mermaid 11 reads a few diagrams a second: the models, and a tenth of the graphs.
    networks = [net for n, net in enumerate(every_network()) if n < 2 * len(MODELS) or n % 10 == 0]
    texts = [to_mermaid(make_report(analysis, depth=depth)) for _, analysis, depth in networks]
    texts.append('flowchart TD\n    n0["a"b"]\n')  # and it does say no
    proc = subprocess.run(
        ["node", str(paths.ROOT / "tests/formats/mermaid_check.mjs"), where],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(proc.stdout)
    assert "error" in results.pop()
    for (name, analysis, depth), result in zip(networks, results):
        assert "error" not in result, (name, depth, result)
        if "nodes" not in result:  # Mermaid 9: parsed, nothing to read back
            continue
        want = expected(analysis, depth)
        assert [n["id"] for n in result["nodes"]] == want.nodes, name
        got = collections.Counter((e["start"], e["end"]) for e in result["edges"])
        assert got == want.edges, name
        subgraphs = sorted(
            sorted(n for n in s["nodes"] if not n.startswith("s")) for s in result["subgraphs"]
        )
        # Mermaid lists a subgraph's own nodes (and the subgraphs in it), not theirs.
        inner = [
            members - frozenset().union(*(m for _, m in want.clusters if m < members))
            for _, members in want.clusters
        ]
        assert subgraphs == sorted(sorted(m) for m in inner), name


# --------------------------------------------------------------------------------------------
# The tree


def test_the_tree_is_the_block_hierarchy() -> None:
    analysis = convcalc.analyze(GRAPH, "16x16x16")
    text = to_tree(make_report(analysis))
    lines = text.splitlines()
    assert lines[0].split() == ["#", "input", "16×16×16", "output", "params"]
    assert lines[1].split()[:4] == ["├─", "stage#1:", "stage", "16"]
    assert lines[2].split()[:4] == ["│", "├─", "res#1:", "res"]
    assert lines[3].split()[:5] == ["1", "│", "│", "├─", "conv2d"]
    assert any(
        line.split()[:4] == ["15", "├─", "conv2d", "16"] and "frozen" in line for line in lines
    )
    assert any("use enc (weights of #15, frozen)" in line for line in lines)
    assert any("linear 10 → aux (side output)" in line for line in lines)
    assert lines[-2].split()[:3] == ["24", "└─", "linear"] and "(output)" in lines[-2]
    # Each block's line carries its subtotal; the last line the total.
    for block in analysis.blocks:
        line = next(line for line in lines if f"{block.label}: {block.spec}" in line)
        assert line.split()[-1] == f"{block.params:,}"
    assert lines[-1].split() == ["total", "10", f"{analysis.params:,}"]
    assert (
        sum(int(line.split()[-1].replace(",", "")) for line in lines if line.split()[0].isdigit())
        == analysis.params
    )


def test_the_tree_folds_and_falls_back_to_ascii() -> None:
    analysis = model("resnet18")
    folded = to_tree(make_report(analysis, depth=0)).splitlines()
    assert len(folded) == len(analysis.rows(0)) + 2
    (layer1,) = [line for line in folded if "layer1.1:" in line]
    assert layer1.split()[:5] == ["5–11", "├─", "layer1.1:", "basic", "64"]
    assert "64×56×56 → 64×56×56" in layer1
    plain = to_tree(make_report(analysis), unicode=False)
    assert plain.isascii() and "|- " in plain and "\\- " in plain and "|  " in plain


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_tree_is_styled_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    report = make_report(convcalc.analyze(GRAPH, "16x16x16"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _Terminal()
    write_tree(report, out)
    assert "\x1b[1mstage#1: stage 16\x1b[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = _Terminal()
    write_tree(report, out)
    assert "\x1b" not in out.getvalue() and out.getvalue() == to_tree(report)
    monkeypatch.delenv("NO_COLOR")
    piped = io.StringIO()
    write_tree(report, piped)
    assert piped.getvalue() == to_tree(report)


# --------------------------------------------------------------------------------------------
# On the command line, under every framework


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("fmt", "writer"),
    [
        ("mermaid", to_mermaid),
        ("mmd", to_mermaid),
        ("dot", to_dot),
        ("GV", to_dot),
        ("tree", to_tree),
    ],
)
def test_the_command_writes_the_drawings(fmt: str, writer: Any) -> None:
    code, out, err = run("-i", "16x16x16", GRAPH.replace("\n", "; "), "-o", fmt, "--depth", "0")
    assert code == 0, err
    assert out == writer(make_report(convcalc.analyze(GRAPH, "16x16x16"), depth=0))


def test_a_built_in_model_folded_is_a_readable_page() -> None:
    # resnet50's stages are blocks of bottleneck blocks: --depth 1 keeps the stages
    # as clusters and folds each bottleneck, the readable page.
    code, out, _ = run("-m", "resnet50", "--depth", "1", "-o", "mermaid")
    assert code == 0
    drawn = check_mermaid(out)
    same(drawn, expected(model("resnet50"), 1))
    analysis = model("resnet50")
    bottlenecks = [b for b in analysis.blocks if len(b.block) == 2]
    assert len(bottlenecks) == 16
    assert len(drawn.nodes) == len(analysis.rows(1)) + 1  # the input, then a node a row


KERAS = (
    "Conv2D 16 3 padding=same use_bias=false; BatchNormalization; as x; ReLU\n"
    "Conv2D 16 3 padding=same; add x; concat x; GlobalAveragePooling2D; Dense 10"
)
ONNX = "Conv 16 kernel_shape=3 pads=1; as x; Relu; Conv 16 kernel_shape=3 pads=1; Add x; GlobalAveragePool"


@pytest.mark.parametrize(
    ("framework", "spec", "shape_in", "first"),
    [("keras", KERAS, "8x8x3", "Conv2D 16 3"), ("onnx", ONNX, "3x8x8", "Conv 16")],
)
def test_every_framework_draws_in_its_own_words(
    framework: str, spec: str, shape_in: str, first: str
) -> None:
    analysis = convcalc.analyze(spec, shape_in, framework=framework)
    for depth in (None,):
        same(check_mermaid(to_mermaid(make_report(analysis))), expected(analysis, depth))
        same(read_dot(to_dot(make_report(analysis))), expected(analysis, depth))
    drawing = diagram(make_report(analysis))
    assert drawing.input.text.startswith(f"input ({framework}")
    assert drawing.nodes()[1].text.startswith(first)
    code, out, _ = run(
        "--framework", framework, "-i", shape_in, spec.replace("\n", "; "), "-o", "tree"
    )
    assert code == 0 and first in out and f"({framework}" in out.splitlines()[0]


def test_the_drawings_are_ascii_where_the_output_takes_no_unicode() -> None:
    report = make_report(convcalc.analyze(GRAPH, "16x16x16"))
    for writer in (to_mermaid, to_dot, to_tree):
        text = writer(report, unicode=False)
        assert text.isascii(), writer
        assert "16x16x16" in text


# --------------------------------------------------------------------------------------------
# The README's diagram


def test_the_readme_diagram_is_what_its_command_prints() -> None:
    text = (paths.ROOT / "README.md").read_text()
    block = re.search(
        r"```console\n\$ (convcalc [^\n]*-o mermaid)\n.*?```.*?```mermaid\n(.*?)```", text, re.S
    )
    assert block is not None
    args = shlex.split(block.group(1))[1:]
    code, out, _ = run(*args)
    assert code == 0
    assert block.group(2) == out
    check_mermaid(out)
