"""``convcalc solve``: the layers that turn one shape into another.

Loaded only when the first word of the command line is ``solve`` (see
``DefaultGroup`` in dispatch.py): the main job's start-up does not pay for it.
The search is :func:`convcalc.ask.solve.solve_chain`; this module parses the options
and presents the answers (a table for people, JSON/CSV/TSV/Markdown for the rest).

Why ``-o`` is the output here while it is the format on the main command: the
issue and docs/solve-explain-lint.md give the form ``convcalc solve -i IN -o OUT``, and
``-i``/``-o`` read as a pair ("from … to …"); the format is therefore spelt out (``--format``),
and ``-o json`` gets a hint saying so instead of a puzzling shape error.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from convcalc.cli.dispatch import LayerCommand
from convcalc.cli.errors import EXIT_SHAPE, EXIT_USAGE, Failure, _Stdout, guarded
from convcalc.cli.options import FRAMEWORK_OPTION, HELP_OPTION, OPSET_OPTION
from convcalc.cli.sources import _source
from convcalc.cli.types import _FORMAT_WORDS, FORMAT_TYPE, SpecFile
from convcalc.errors import ConvcalcError, ShapeError, SpecError
from convcalc.network.analysis import analyze, parse_shape

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.ask.solve import Solution
    from convcalc.formats.answers import Explained

TABLE_LIMIT = 10  # answers the table shows unless --limit says otherwise

HELP = """Find the missing hyperparameters: every complete layer that turns
the input shape (-i) into the output shape (-o), checked by the same engine
as the main command. The usual designs come first: windows that read all
their input, no dilation unless asked (d=?), centred padding, the well-known
stems and pools; answers whose windows skip input pixels are marked.

Mark the unknown keys with ?: p=?, k=?, s=?, d=?, op=?; adaptive pooling's
output size (adaptiveavgpool ?) and upsample's size or scale too
(Keras's UpSampling size, ONNX's Resize sizes or scales). A layer
with no ? solves for every such key it leaves out. In a chain (or a -f file)
the ? keys of any layers are solved so that the final output is -o.
A shape with only the spatial sizes leaves the channels free: -o 112.
In zsh, quote a ? ('p=?'): unmatched, zsh rejects it before convcalc runs.

\b
Examples:
  convcalc solve -i 3x224x224 -o 64x224x224 conv2d 64 k=7 p=?
  convcalc solve -i 224 -o 112 conv2d k=3 s=2 p=?
  convcalc solve -i 8x7x7 -o 14 convtranspose2d 8 k=4 s=2 p=?
  convcalc solve -i 3x224x224 -o 64x56x56 conv2d 64 k=7 s=2 p=? maxpool k=3 s=2 p=?
  convcalc solve -i 224 -o 112 conv2d --format json
  convcalc solve -i 224 -o 56 conv2d 64 k=? s=? p=? -n 3 --explain
  convcalc solve --framework keras -i 224x224x3 -o 112x112x64 Conv2D 64 3 strides=2 padding=?

Exit status: 0 answers found, 1 nothing within the bounds reaches -o (the
nearest reachable sizes are shown), 2 a malformed spec or command line.
"""


def _complete_unknowns(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from convcalc.cli.completion import complete_layers

    return complete_layers(ctx, param, incomplete, unknowns=True)


class SolveCommand(LayerCommand):
    format_option = "--format"


@click.command(
    cls=SolveCommand,
    name="solve",
    help=HELP,
    context_settings={"max_content_width": 100},
    add_help_option=False,
)
@click.argument("layers", nargs=-1, metavar="[LAYER]...", shell_complete=_complete_unknowns)
@click.option(
    "-i",
    "--input",
    "input_shape",
    metavar="SHAPE",
    help="The input shape, as for the main command (3x224x224, or 224: channels unknown).",
)
@click.option(
    "-o",
    "--output",
    "--to",
    "output_shape",
    metavar="SHAPE",
    help="The output shape to reach: 64x112x112, or the spatial sizes only (112, 112x56).",
)
@click.option(
    "-f",
    "--file",
    "spec_file",
    type=SpecFile(),
    metavar="FILE",
    help="Read the layer or chain from a spec file ('-' = stdin); layer words are added after it.",
)
@click.option(
    "--format",
    "fmt",
    type=FORMAT_TYPE,
    default="table",
    show_default=True,
    help='Output format; json: a list of {"spec", the solved keys, "output"}.',
)
@click.option(
    "--max",
    "bounds",
    metavar="BOUNDS",
    help="Widen the search: N bounds k, s and d by N; or keys such as k=21,s=8,d=4,p=30 "
    "(default k ≤ 11, s ≤ 4, d ≤ 4, p ≤ max(k, d·(k−1)), op < max(s, d)).",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help=f"Show at most N answers (0 = all). Default: {TABLE_LIMIT} in the table, all in "
    "the other formats.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show how each shown answer's sizes are computed, per dimension, as the main "
    'command\'s --explain does (JSON: "explain"; CSV/TSV: an explain column).',
)
@FRAMEWORK_OPTION
@OPSET_OPTION
@HELP_OPTION
@click.pass_context
def solve_command(
    ctx: click.Context,
    layers: tuple[str, ...],
    input_shape: str | None,
    output_shape: str | None,
    spec_file: str | None,
    fmt: str,
    bounds: str | None,
    limit: int | None,
    explain: bool,
    framework: str | None,
    opset: int | None,
) -> None:
    guarded(
        ctx,
        lambda: run(
            layers,
            input_shape,
            output_shape,
            spec_file,
            fmt,
            bounds,
            limit,
            framework,
            opset,
            explain,
        ),
    )


def _shape_option(option: str, text: str) -> None:
    try:
        parse_shape(text)
    except SpecError as exc:
        raise Failure(f"{option} {text!r}: {exc.message}", EXIT_USAGE, exc.excerpt()) from None


def run(
    layers: tuple[str, ...],
    input_shape: str | None,
    output_shape: str | None,
    spec_file: str | None,
    fmt: str,
    bounds: str | None = None,
    limit: int | None = None,
    framework: str | None = None,
    opset: int | None = None,
    explain: bool = False,
) -> None:
    """Solve, then print the answers in ``fmt`` (``framework``, ``opset``: whose
    conventions, as for the main command; ``explain``: with each shown answer's
    size computation)."""
    if output_shape is None:
        raise Failure(
            "solve needs the output shape to reach: -o OUT (e.g. -o 112 or -o 64x112x112)",
            EXIT_USAGE,
        )
    if output_shape.strip().lower() in _FORMAT_WORDS:
        raise Failure(
            f"-o/--output is the output shape in solve (-i IN -o OUT); "
            f"for the format write --format {output_shape.strip().lower()}",
            EXIT_USAGE,
        )
    if input_shape is not None:
        _shape_option("-i/--input", input_shape)
    _shape_option("-o/--output", output_shape)
    text, filename, extra = _source(layers, spec_file)
    spec = f"{text}\n{extra}" if extra else text
    from convcalc.ask.solve import Limits, NoSolution, solve_chain

    try:
        limits = Limits() if bounds is None else Limits.parse(bounds)
    except SpecError as exc:
        raise Failure(exc.message, EXIT_USAGE) from None
    conventions: dict[str, Any] = {"framework": framework, "opset": opset}
    try:
        answers = solve_chain(spec, input_shape, output_shape, limits=limits, **conventions)
        first = analyze(answers[0].spec, input_shape, **conventions)
    except NoSolution as exc:
        from convcalc.formats.answers import nearest

        detail = nearest(exc.nearest, input_shape, conventions)
        hints = _misreadings(exc.nearest[:1], input_shape, conventions)
        raise Failure(exc.headline, EXIT_SHAPE, "\n".join(filter(None, [detail, *hints]))) from None
    except SpecError as exc:
        where = f"{filename}: " if filename and exc.filename is None else ""
        raise Failure(f"{where}{exc}", EXIT_USAGE, exc.excerpt()) from None
    except ShapeError as exc:
        raise Failure(str(exc), EXIT_SHAPE) from None
    except ConvcalcError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    from convcalc.ask.lint import input_findings

    for warning in input_findings(first, None):
        click.echo(f"convcalc: {warning.line()}", err=True)
    if limit is None:
        limit = TABLE_LIMIT if fmt == "table" else 0
    shown = answers[:limit] if limit else answers
    out = cast(TextIO, _Stdout(sys.stdout))
    note = "" if first.framework == "torch" else _note(first.framework, first.opset)
    from convcalc.formats.answers import write

    explained = _explained(shown, fmt, out, input_shape, conventions) if explain else None
    write(
        shown, len(answers), fmt, out, spec, first.input, input_shape, conventions, note, explained
    )
    out.flush()


def _misreadings(
    answers: Sequence[Solution], input_shape: str | None, conventions: dict[str, Any]
) -> list[str]:
    """How the first of ``answers`` reads the input, as the main command warns (a
    leading 1 taken for a dimension, 224x224 read as C×L, a layout the first layer
    does not read), each a ``hint:`` line: a solve that finds nothing is often a
    misread input."""
    if not answers:
        return []
    from convcalc.ask.lint import input_findings

    try:
        analysis = analyze(answers[0].spec, input_shape, **conventions)
    except ConvcalcError:
        return []
    return [w.line().replace("warning: ", "hint: ", 1) for w in input_findings(analysis, None)]


def _explained(
    answers: Sequence[Solution],
    fmt: str,
    out: TextIO,
    input_shape: str | None,
    conventions: dict[str, Any],
) -> list[list[Explained]]:
    """--explain for each answer: the steps of its solved layers (of its one layer),
    as the main command's --explain gives them (ASCII where it writes ASCII)."""
    from convcalc.ask.explain import explain
    from convcalc.formats.answers import Explained, solved_rows
    from convcalc.formats.text import is_unicode

    ascii = fmt in ("json", "csv", "tsv") or (fmt == "table" and not is_unicode(out))
    found = []
    for answer in answers:
        analysis = analyze(answer.spec, input_shape, **conventions)
        steps = explain(analysis, ascii=ascii)
        rows = solved_rows(answer)
        layers = [
            Explained(row, analysis.layers[row - 1].spec, [s for s in steps if s.row == row])
            for row in rows or range(1, len(analysis.layers) + 1)
        ]
        if not rows:  # one layer: no row to name
            layers = [e._replace(row=0) for e in layers]
        found.append(layers)
    return found


def _note(framework: str, opset: int | None) -> str:
    """The table title's note on the conventions in force, as the main table's."""
    from convcalc.kinds.frameworks import get

    return get(framework, opset).describe()
