"""``convcalc solve``: the layers that turn one shape into another.

Loaded only when the first word of the command line is ``solve`` (see
``DefaultGroup`` in dispatch.py): the main job's start-up does not pay for it.
The search is :func:`convcalc.ask.solve.solve_chain`; this module parses the options
and presents the answers (a table for people, JSON/CSV/TSV/Markdown for the rest).

Why ``-o`` is the output here while it is the format on the main command: the
issue and SPEC.md give the form ``convcalc solve -i IN -o OUT``, and ``-i``/``-o``
read as a pair ("from … to …"); the format is therefore spelt out (``--format``),
and ``-o json`` gets a hint saying so instead of a puzzling shape error.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from convcalc import ConvcalcError, ShapeError, SpecError, analyze, parse_shape
from convcalc.cli.dispatch import LayerCommand
from convcalc.cli.errors import EXIT_SHAPE, EXIT_USAGE, Failure, guarded
from convcalc.cli.options import FRAMEWORK_OPTION, HELP_OPTION, OPSET_OPTION
from convcalc.cli.sources import _source
from convcalc.cli.streams import _Stdout
from convcalc.cli.types import _FORMAT_WORDS, FORMAT_TYPE, SpecFile
from convcalc.formats.render import is_unicode, shape

if TYPE_CHECKING:
    from convcalc.ask.solve import Solution

TABLE_LIMIT = 10  # answers the table shows unless --limit says otherwise

HELP = """Find the missing hyperparameters: every complete layer (simplest
first) that turns the input shape (-i) into the output shape (-o), checked
by the same engine as the main command.

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
    framework: str | None,
    opset: int | None,
) -> None:
    guarded(
        ctx,
        lambda: run(
            layers, input_shape, output_shape, spec_file, fmt, bounds, limit, framework, opset
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
) -> None:
    """Solve, then print the answers in ``fmt`` (``framework``, ``opset``: whose
    conventions, as for the main command)."""
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
        detail = _nearest(exc.nearest, input_shape, conventions)
        raise Failure(exc.headline, EXIT_SHAPE, detail) from None
    except SpecError as exc:
        where = f"{filename}: " if filename and exc.filename is None else ""
        raise Failure(f"{where}{exc}", EXIT_USAGE, exc.excerpt()) from None
    except ShapeError as exc:
        raise Failure(str(exc), EXIT_SHAPE) from None
    except ConvcalcError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    if limit is None:
        limit = TABLE_LIMIT if fmt == "table" else 0
    shown = answers[:limit] if limit else answers
    out = cast(TextIO, _Stdout(sys.stdout))
    note = "" if first.framework == "torch" else _note(first.framework, first.opset)
    write(shown, len(answers), fmt, out, spec, first.input, input_shape, conventions, note)
    out.flush()


def _note(framework: str, opset: int | None) -> str:
    """The table title's note on the conventions in force, as the main table's."""
    from convcalc.kinds.frameworks import get

    return get(framework, opset).describe()


# --------------------------------------------------------------------------
# Presenting the answers.


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
    layers = analyze(answer.spec, input_shape, **conventions).layers
    return "; ".join(f"{row}: {layers[row - 1].spec}" for row in rows)


def _nearest(
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
    _draw(out, title, [head, *keys], table, more, unicode)


def _draw(
    out: TextIO,
    title: str,
    columns: list[str],
    table: list[list[str]],
    more: str,
    unicode: bool,
) -> None:
    """The table for people: Rich, as the main command draws its own."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    plain = not console.is_terminal
    if plain:
        console.width = 10_000  # never wrapped in a pipe
        console.file = io.StringIO()
    table_box = box.SIMPLE_HEAD if unicode else box.Box("    \n" * 2 + " -- \n" + "    \n" * 5)
    grid = Table(box=table_box, header_style="bold", show_edge=False, pad_edge=False)
    grid.add_column("#", justify="right", style="dim", no_wrap=True)
    grid.add_column(columns[0], overflow="fold")
    for key in columns[1:]:
        grid.add_column(key, justify="right", no_wrap=True)
    grid.add_column("output", style="cyan", no_wrap=True)
    for row in table:
        grid.add_row(*row)
    console.print(Text(title, style="bold"))
    console.print(grid)
    if more:
        console.print(Text(more, style="dim"))
    if plain:
        text = console.file.getvalue()  # type: ignore[attr-defined]
        out.write("".join(line.rstrip() + "\n" for line in text.splitlines()))
