"""The ``convcalc`` command: parse options, call the core, print.

The main job (the default command, no subcommand word) and its workflow,
:func:`run`; ``convcalc solve`` is solve.py's, loaded only when its word comes
first (dispatch.py). Exit status: 0 done, 1 a network the framework would
reject, 2 a malformed spec or command line (or a file that cannot be read), 70 a
bug in convcalc, 130 Ctrl-C, 141 standard output closed before everything was
written (``| head``), in every format (errors.py). Errors go to stderr as
``convcalc: error: …``; nothing that could pass for a result reaches stdout on
an error (on a terminal, the table of the layers that worked may precede the
error).
"""

from __future__ import annotations

import errno
import sys
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import click

from convcalc.cli import options
from convcalc.cli.dispatch import DefaultGroup, LayerCommand
from convcalc.cli.errors import (
    EXIT_BUG,
    EXIT_PIPE,
    EXIT_SHAPE,
    EXIT_USAGE,
    Failure,
    _color,
    _quiet_stdout,
    _Stdout,
    _warn,
    guarded,
)
from convcalc.cli.sources import _input_shape, _keras_model, _model_text, _source, _torch_print
from convcalc.errors import ConvcalcError, InternalError, ShapeError, SpecError

if TYPE_CHECKING:
    from convcalc.formats.report import Source
    from convcalc.formats.torch_count import Count
    from convcalc.formats.torch_print import Reading
    from convcalc.network.analysis import Analysis


def _show_partial(exc: ShapeError, fmt: str, batch: int, dtype: str) -> None:
    """On a terminal, the table of the layers that worked, above the error."""
    results = exc.results
    if fmt != "table" or exc.index is None or not sys.stdout.isatty():
        return
    from convcalc.formats.report import Report
    from convcalc.formats.table import write_table
    from convcalc.network.analysis import Analysis

    first = results[0].input if results else exc.input
    # A partial report: no totals, so no memory figures (batch and dtype are the
    # analysis's own).
    write_table(
        Report(
            Analysis(first, tuple(results), batch, framework=exc.framework, opset=exc.opset),
            None,
            failed=(exc.index, exc.text),
        ),
        sys.stdout,
    )
    sys.stdout.flush()


HELP = """Shapes, parameters, MACs and receptive fields of a network's layers,
exactly as PyTorch computes them — without PyTorch. --framework keras and
--framework onnx follow Keras 3 (channels last) and ONNX instead.

LAYER words form the network: a new layer starts at every layer kind
(conv2d, maxpool, linear, …), each followed by its values and key=value
settings; as/from/add/concat/… make branches and merges, block … end
defines a block (see the README). With no layer words the network is read
from stdin (or give -). With -f or -m, layer words are added after it.

\b
Examples:
  convcalc -i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 gap flatten linear 10
  convcalc conv2d k=3 s=2 p=1 d=1 -i 32          # 32×32 map, channels unknown
  convcalc -i 3x224x224 -f stem.spec -o json
  convcalc -f backbone.spec gap flatten linear 10 # a head on a backbone
  convcalc -i 16x32x32 as x conv2d 16 k=3 p=1 add x   # a residual
  convcalc -m resnet50 --depth 0                  # a built-in model, one row a block
  cat net.spec | convcalc -i 1x28x28
  convcalc --framework keras -i 224x224x3 Conv2D 64 3 strides=2 padding=same
  convcalc --help-layer conv2d                    # a layer kind's arguments
  convcalc solve -i 224 -o 112 conv2d k=3 s=2 p=? # the missing key (solve --help)
  eval "$(convcalc --completion bash)"          # in ~/.bashrc

Exit status: 0 ok, 1 a network the framework would reject (or a warning
under --strict), 2 a malformed spec or command line, 130 interrupted, 141
output closed early (| head).
"""


def _solve_command() -> click.Command:
    from convcalc.cli.solve import solve_command

    return solve_command


@click.command(
    cls=LayerCommand,
    help=HELP,
    context_settings={"max_content_width": 100},
    no_args_is_help=False,
    add_help_option=False,  # our own below: click's loads gettext and locale at every start
)
@options.LAYERS_ARGUMENT
@options.INPUT_OPTION
@options.FILE_OPTION
@options.FORMAT_OPTION
@options.BATCH_OPTION
@options.DTYPE_OPTION
@options.OPTIMIZER_OPTION
@options.DEPTH_OPTION
@options.EXPLAIN_OPTION
@options.RF_OPTION
@options.WARNINGS_OPTION
@options.STRICT_OPTION
@options.FRAMEWORK_OPTION
@options.OPSET_OPTION
@options.MODEL_OPTION
@options.FROM_TORCH_OPTION
@options.FROM_KERAS_OPTION
@options.ASSUME_SEQUENTIAL_OPTION
@options.LIST_MODELS_OPTION
@options.MODEL_SPEC_OPTION
@options.LIST_LAYERS_OPTION
@options.HELP_LAYER_OPTION
@options.COMPLETION_OPTION
@options.HELP_OPTION
@options.VERSION_OPTION
@click.pass_context
def main_command(ctx: click.Context, **options: Any) -> None:
    # The options' names are run's parameters: the decorators above declare them.
    guarded(ctx, lambda: run(**options))


# The command line: ``solve`` by its first word, anything else the main job. (Named
# "cli" as before, the program name CliRunner gives it; the console script says convcalc.)
cli = DefaultGroup(main_command, {"solve": _solve_command}, name="cli")


def analyze(*args: Any, **kwargs: Any) -> Analysis:
    """:func:`convcalc.analyze`, the engine imported on the first call: a completion
    request never needs it (bench/cli_bench.py (c))."""
    from convcalc.network.analysis import analyze as engine_analyze

    return engine_analyze(*args, **kwargs)


def _analyze(
    text: str,
    filename: str | None,
    extra: str,
    shape: tuple[int, ...] | None,
    batch: int,
    conventions: dict[str, Any] | None = None,
) -> tuple[Analysis, list[Source]]:
    """Analyse the file's text followed by the extra command-line words; the
    sources say which layers came from where. An error in the extra words
    points into them, not into the file. ``conventions``: framework and opset."""
    fw = conventions or {}
    if not extra:
        return analyze(text, shape, batch=batch, filename=filename, **fw), []
    offset = len(text) + 1
    try:
        analysis = analyze(f"{text}\n{extra}", shape, batch=batch, filename=filename, **fw)
    except (SpecError, ShapeError) as exc:
        if exc.start is None or exc.start < offset:
            raise
        # In the words after the file: point into them, not into the file.
        start, end = exc.start - offset, None if exc.end is None else exc.end - offset
        if isinstance(exc, SpecError):
            raise SpecError(exc.message, source=extra, start=start, end=end) from None
        raise exc.moved(extra, start, end) from None
    from convcalc.formats.report import COMMAND_LINE, Source

    try:  # the file's own layers, counted by analysing it alone
        count = len(analyze(text, shape, batch=batch, **fw).layers)
    except ConvcalcError:
        count = 0
    total = len(analysis.layers)
    if not 0 < count < total:
        return analysis, []
    assert filename is not None
    return analysis, [Source(filename, 1, count), Source(COMMAND_LINE, count + 1, total)]


def _analyze_print(
    reading: Reading,
    filename: str,
    extra: str,
    shape: tuple[int, ...] | None,
    batch: int,
    fmt: str,
) -> tuple[Analysis, list[Source]]:
    """A print's analysis: errors in its layers point into the print; a container read
    in print order (--assume-sequential) is stated where the sources are shown."""
    try:
        analysis, sources = _analyze(reading.spec, filename, extra, shape, batch)
    except (SpecError, ShapeError) as exc:
        raise reading.locate(exc) from None
    if reading.assumed:
        from convcalc.formats.report import Source

        which = ", ".join(reading.assumed)
        note = f"{filename}, {which}'s children run in print order (--assume-sequential)"
        rest = [s for s in sources if s.name != filename]
        sources = [Source(note, 1, reading.layers), *rest]
        if fmt not in ("table", "json", "markdown"):
            click.echo(f"convcalc: note: {note[len(filename) + 2 :]}", err=True)
    return analysis, sources


def _print_count(count: Count, fmt: str, extra: str, filename: str) -> None:
    """A print convcalc cannot run: its parameters and buffers, and why no more."""
    if extra:
        raise Failure(
            f"{filename}: layer words after a print convcalc cannot run ({extra!r}) have "
            "nowhere to go",
            EXIT_USAGE,
        )
    if fmt not in ("table", "json"):
        raise Failure(
            f"{filename}: convcalc cannot run this print (below), only count its "
            "parameters: give -o table or -o json\n" + "\n".join(count.warnings()),
            EXIT_USAGE,
        )
    head = click.style("convcalc: warning:", fg="yellow", bold=True)
    for line in count.warnings():
        click.echo(f"{head} {line}", err=True, color=_color())
    if fmt == "json":
        import json

        click.echo(json.dumps(count.to_dict(), indent=2))
    else:
        from convcalc.formats.torch_count import render_count

        click.echo(render_count(count), nl=False)


def run(
    layers: tuple[str, ...],
    input_shape: str | None,
    spec_file: str | None,
    fmt: str,
    batch: int,
    dtype: str,
    optimizer: str | None = None,
    depth: int | None = None,
    model: str | None = None,
    *,
    explain: bool = False,
    rf: bool = False,
    warnings: bool | None = None,
    strict: bool = False,
    from_torch: str | None = None,
    assume_sequential: bool = False,
    framework: str | None = None,
    opset: int | None = None,
    from_keras: str | None = None,
) -> None:
    """The main job: read the network, analyse it, print it. ``warnings`` None or
    True: on stderr after the text formats, a "warnings" list in JSON (with None,
    only when there are some); False: none."""
    filename: str | None
    conventions: dict[str, Any] = {}
    if framework is not None:
        conventions["framework"] = framework
    if opset is not None:
        conventions["opset"] = opset
    lint_on = strict or warnings is not False
    reading = None
    if from_keras is not None:
        if from_torch is not None or assume_sequential:
            raise Failure("give --from-keras alone, without --from-torch", EXIT_USAGE)
        if framework not in (None, "keras"):
            raise Failure(
                f"--from-keras reads a Keras model, under Keras's conventions: leave out "
                f"--framework {framework}",
                EXIT_USAGE,
            )
        text, filename, extra = _keras_model(
            from_keras, layers, spec_file, model, input_shape is not None
        )
    elif from_torch is not None or assume_sequential:
        text, filename, extra, read = _torch_print(
            from_torch, layers, spec_file, model, assume_sequential, _input_shape(input_shape)
        )
        from convcalc.formats.torch_count import Count

        if isinstance(read, Count):
            return _print_count(read, fmt, extra, filename)
        reading = read
    elif model is not None:
        if spec_file is not None:
            raise Failure("give either -m/--model or -f/--file, not both", EXIT_USAGE)
        if framework not in (None, "torch"):
            raise Failure(
                f"the built-in models are PyTorch networks; --framework {framework} cannot "
                "read them",
                EXIT_USAGE,
            )
        if "-" in layers:
            raise Failure(
                "'-' reads stdin; with -m/--model give further layers as words", EXIT_USAGE
            )
        text, filename, extra = _model_text(model), f"model {model}", " ".join(layers)
    else:
        text, filename, extra = _source(layers, spec_file)
    shape = _input_shape(input_shape)
    if fmt == "torch" and framework not in (None, "torch"):  # before any work on the spec
        raise Failure(_torch_only(framework, f"--framework {framework}"), EXIT_USAGE)
    if fmt == "keras" and framework not in (None, "keras"):
        raise Failure(_keras_only(framework, f"--framework {framework}"), EXIT_USAGE)
    try:
        if reading is None:
            analysis, sources = _analyze(text, filename, extra, shape, batch, conventions)
        else:
            analysis, sources = _analyze_print(reading, filename or "", extra, shape, batch, fmt)
        # Memory figures are computed here so a bad dtype fails before any output.
        from convcalc.formats.report import memory_figures

        memory, training = memory_figures(analysis, batch, dtype, optimizer)
    except SpecError as exc:
        detail = exc.excerpt()
        if reading is None:  # a slip of the spec's writer, not of a print's reader
            from convcalc.cli.hints import spec_hints

            spec = f"{text}\n{extra}" if extra else text
            hints = spec_hints(exc, spec, framework=framework, in_file=exc.filename is not None)
            detail = "\n".join(filter(None, [detail, *hints]))
        raise Failure(str(exc), EXIT_USAGE, detail) from None
    except ShapeError as exc:
        _show_partial(exc, fmt, batch, dtype)
        # From a file: its line too (on the command line the message quotes the layer).
        detail = exc.excerpt() if exc.filename else ""
        if warnings is not False:  # what the rows that ran say: often why it failed
            from convcalc.ask.lint.failure import lint_error

            hints = [w.line().replace("warning: ", "hint: ", 1) for w in lint_error(exc)]
            detail = "\n".join(filter(None, [detail, *hints]))
        raise Failure(str(exc), EXIT_SHAPE, detail) from None
    except InternalError as exc:
        raise Failure(str(exc), EXIT_BUG) from None
    except ConvcalcError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    except RecursionError as exc:
        raise Failure(f"internal error: {exc!r}; please report it", EXIT_BUG) from None
    if fmt == "torch" and analysis.framework != "torch":
        said = f"its statement 'framework {analysis.framework}'"
        raise Failure(_torch_only(analysis.framework, said), EXIT_USAGE)
    if fmt == "keras" and analysis.framework != "keras":
        said = (
            "PyTorch's conventions, the default"
            if analysis.framework == "torch"
            else f"its statement 'framework {analysis.framework}'"
        )
        raise Failure(_keras_only(analysis.framework, said), EXIT_USAGE)
    found = None
    if lint_on:
        from convcalc.ask.lint import lint

        found = lint(analysis, input_text=input_shape)
        if strict and found:
            for warning in found:
                _warn(warning)
            count = f"{len(found)} warning{'s' if len(found) > 1 else ''}"
            raise Failure(f"--strict: {count} (above); nothing was written", EXIT_SHAPE)
    out = cast(TextIO, _Stdout(sys.stdout))
    # JSON lists the warnings when there are any (always with --warnings).
    in_json = found if fmt == "json" and (found or warnings) else None
    from convcalc.formats.report import Report, gather_extras

    ascii = explain and _ascii(fmt, out)
    extras = gather_extras(analysis, explain=explain, ascii=ascii, rf=rf, warnings=in_json)

    report = Report.of(
        analysis, memory, training=training, sources=sources, depth=depth, extras=extras
    )
    try:
        if fmt == "json":  # its writer alone: the table code is not imported
            from convcalc.formats.jsonout import to_json

            out.write(to_json(report))
        else:
            from convcalc.formats.render import write

            write(report, fmt, out)
    except ConvcalcError as exc:  # -o torch: a network it cannot write (nothing written yet)
        raise Failure(str(exc), EXIT_USAGE) from None
    out.flush()
    if found and fmt != "json":
        for warning in found:
            _warn(warning)


def _torch_only(framework: str, said: str) -> str:
    """-o torch under another framework's conventions."""
    whose = {"keras": "Keras", "onnx": "ONNX"}.get(framework, framework)
    return (
        f"-o torch writes PyTorch code only for PyTorch specs, and this one is {whose} "
        f"({said}); leave out -o torch, or write the network with PyTorch's layer words"
    )


def _keras_only(framework: str, said: str) -> str:
    """-o keras under another framework's conventions."""
    whose = {"torch": "PyTorch", "onnx": "ONNX"}.get(framework, framework)
    other = "-o torch for PyTorch code" if framework == "torch" else "leave out -o keras"
    return (
        f"-o keras writes Keras code only for Keras specs, and this one is {whose} "
        f"({said}); give --framework keras and write the network with Keras's layers "
        f"(channels last), or {other}"
    )


def _ascii(fmt: str, out: TextIO) -> bool:
    """Whether --explain writes ASCII expressions: for the machine formats, and for a
    terminal without Unicode."""
    from convcalc.formats.text import is_unicode

    return fmt in ("json", "csv", "tsv") or (fmt == "table" and not is_unicode(out))


def main() -> NoReturn:
    """The ``convcalc`` console script."""
    try:
        cli.main(prog_name="convcalc")
    except BrokenPipeError:  # pragma: no cover - raised while exiting
        _quiet_stdout()
        sys.exit(EXIT_PIPE)
    except OSError as exc:  # pragma: no cover
        if exc.errno != errno.EPIPE:
            raise
        _quiet_stdout()
        sys.exit(EXIT_PIPE)
    sys.exit(0)  # pragma: no cover - cli.main always exits
