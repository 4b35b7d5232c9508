"""The ``convcalc`` command: parse options, call the core, print.

Exit status: 0 done, 1 a network PyTorch would reject, 2 a malformed spec or
command line (or a file that cannot be read), 70 a bug in convcalc, 130 Ctrl-C.
Errors go to stderr as ``convcalc: error: …``; nothing that could pass for a
result reaches stdout on an error (on a terminal, the table of the layers that
worked may precede the error).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from . import (
    DTYPE_ALIASES,
    DTYPES,
    ConvcalcError,
    InternalError,
    ShapeError,
    SpecError,
    __version__,
    analyze,
)
from .render import FORMATS

EXIT_SHAPE = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPT = 130
SHELLS = ("bash", "zsh", "fish")


def _color() -> bool | None:
    """False when NO_COLOR is set (https://no-color.org), else click's choice."""
    return False if os.environ.get("NO_COLOR") else None


def _error(message: str, detail: str = "") -> None:
    head = click.style("convcalc: error:", fg="red", bold=True)
    click.echo(f"{head} {message}", err=True, color=_color())
    if detail:
        click.echo(detail, err=True, color=_color())


class Failure(Exception):
    """An error already worded for the user, with its exit status."""

    def __init__(self, message: str, code: int, detail: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.detail = message, code, detail


class ConvcalcCommand(click.Command):
    """A click command whose every failure reads ``convcalc: error: …`` and
    exits with convcalc's codes — never a traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        var = complete_var or f"_{prog_name or 'convcalc'}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(var):  # a completion request: only now load completion
            from .completion import register

            register()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.UsageError as exc:
            _error(exc.format_message())
            name = exc.ctx.command_path if exc.ctx else "convcalc"
            click.echo(f"Try '{name} --help' for help.", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            _error(exc.format_message())
            sys.exit(EXIT_USAGE)
        except (click.Abort, KeyboardInterrupt):
            sys.exit(EXIT_INTERRUPT)
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # click's parser tries every option as a long one first; for a short one
        # that attempt builds a translated error message, which loads gettext and
        # locale (a millisecond of startup). Spelling short options long avoids it.
        longs = {}
        for param in self.params:
            if isinstance(param, click.Option):
                long = next((o for o in param.opts if o.startswith("--")), None)
                for opt in param.opts:
                    if long and len(opt) == 2:
                        longs[opt] = long
        out = []
        for i, arg in enumerate(args):
            if arg == "--":
                out.extend(args[i:])
                break
            out.append(longs.get(arg, arg))
        return super().parse_args(ctx, out)


def _quiet_stdout() -> None:
    """After EPIPE: point stdout at devnull so the interpreter's final flush is
    silent (the recipe in Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass


def _read(path: str) -> tuple[str, str]:
    """The text of ``path`` ('-' = stdin) and the name to cite it by."""
    try:
        if path == "-":
            name = "<stdin>"
            stdin = sys.stdin
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        else:
            name = path
            with open(path, "rb") as handle:
                data = handle.read()
    except FileNotFoundError:
        raise Failure(f"{path}: no such file", EXIT_USAGE) from None
    except IsADirectoryError:
        raise Failure(f"{path}: is a directory, not a spec file", EXIT_USAGE) from None
    except PermissionError:
        raise Failure(f"{path}: permission denied", EXIT_USAGE) from None
    except OSError as exc:
        raise Failure(f"{path}: cannot read it ({exc.strerror or exc})", EXIT_USAGE) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Failure(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            EXIT_USAGE,
        ) from None
    if not text.strip():
        raise Failure(f"{name}: the spec is empty", EXIT_USAGE)
    return text, name


def _source(layers: tuple[str, ...], spec_file: str | None) -> tuple[str, str | None]:
    """The spec text and its file name (None for words on the command line)."""
    if spec_file is not None:
        if layers:
            raise Failure("give the layers either as words or with -f/--file, not both", EXIT_USAGE)
        return _read(spec_file)
    if layers == ("-",):
        return _read("-")
    if "-" in layers:
        raise Failure("'-' reads the chain from stdin and must be the only layer word", EXIT_USAGE)
    if not layers:
        raise Failure(
            "no layers given: write them after the options "
            "(convcalc -i 3x32x32 conv2d 16 k=3), use -f FILE, or - to read stdin",
            EXIT_USAGE,
        )
    return " ".join(layers), None


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    from . import parse_shape

    try:
        return parse_shape(text)
    except SpecError as exc:
        raise Failure(f"-i/--input {text!r}: {exc.message}", EXIT_USAGE, exc.excerpt()) from None


def _show_partial(exc: ShapeError, fmt: str, batch: int, dtype: str) -> None:
    """On a terminal, the table of the layers that worked, above the error."""
    results = exc.results
    if fmt != "table" or exc.index is None or not sys.stdout.isatty():
        return
    from .engine import Analysis
    from .render import draw_table

    first = results[0].input if results else exc.input
    draw_table(
        Analysis(first, tuple(results), batch),
        sys.stdout,
        batch=batch,
        dtype=dtype,
        failed=(exc.index, exc.text),
    )
    sys.stdout.flush()


HELP = """Shapes, parameters, MACs and receptive fields of a chain of layers,
exactly as PyTorch computes them — without PyTorch.

LAYER words form the chain: a new layer starts at every layer kind
(conv2d, maxpool, linear, …), each followed by its values and key=value
settings. Use - to read the chain from stdin.

\b
Examples:
  convcalc -i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 gap flatten linear 10
  convcalc conv2d k=3 s=2 p=1 d=1 -i 32          # 32×32 map, channels unknown
  convcalc -i 3x224x224 -f stem.spec -o json
  cat net.spec | convcalc -i 1x28x28 -
  eval "$(convcalc --completion bash)"          # in ~/.bashrc

Exit status: 0 ok, 1 a network PyTorch would reject, 2 a malformed spec or
command line, 130 interrupted.
"""


class SpecFile(click.ParamType):
    """A spec file ('-' = stdin), read and checked by :func:`_read`. Not
    click.Path: its constructor loads gettext and locale, a millisecond of
    startup for nothing convcalc's own messages need."""

    name = "file"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="file")]


def _complete_layers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from .completion import complete_layers

    return complete_layers(ctx, param, incomplete)


def _print_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=_color())
        ctx.exit(0)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # Not click.version_option: that one loads gettext and locale at every start.
    if value and not ctx.resilient_parsing:
        click.echo(f"convcalc, version {__version__}")
        ctx.exit(0)


def _print_completion(ctx: click.Context, _param: click.Parameter, shell: str | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    from .completion import script

    click.echo(script(shell), nl=False)
    ctx.exit(0)


@click.command(
    cls=ConvcalcCommand,
    help=HELP,
    context_settings={"max_content_width": 100},
    no_args_is_help=False,
    add_help_option=False,  # our own below: click's loads gettext and locale at every start
)
@click.argument("layers", nargs=-1, metavar="[LAYER]...", shell_complete=_complete_layers)
@click.option(
    "-i",
    "--input",
    "input_shape",
    metavar="SHAPE",
    help="Input shape without the batch, channels first: 3x224x224, 16x100, 32 "
    "(a map with unknown channels). Optional when the spec starts with 'input SHAPE'.",
)
@click.option(
    "-f",
    "--file",
    "spec_file",
    type=SpecFile(),
    metavar="FILE",
    help="Read the chain from a spec file ('-' = stdin).",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Batch size: sets the memory figures (and norms that use the batch's own "
    "statistics reject a batch of one value per channel, as PyTorch does).",
)
@click.option(
    "--dtype",
    type=click.Choice([*DTYPES, *DTYPE_ALIASES], case_sensitive=False),
    default="float32",
    show_default=True,
    metavar="DTYPE",
    help=f"Element type for the memory figures: {', '.join(DTYPES)} (or fp16, bf16, …).",
)
@click.option(
    "--completion",
    type=click.Choice(SHELLS),
    is_eager=True,
    expose_value=False,
    callback=_print_completion,
    help="Print the shell completion script for bash, zsh or fish, and exit.",
)
@click.option(
    "-h",
    "--help",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_help,
    help="Show this message and exit.",
)
@click.option(
    "-V",
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    layers: tuple[str, ...],
    input_shape: str | None,
    spec_file: str | None,
    fmt: str,
    batch: int,
    dtype: str,
) -> None:
    try:
        run(layers, input_shape, spec_file, fmt, batch, dtype)
    except Failure as exc:
        _error(exc.message, exc.detail)
        ctx.exit(exc.code)
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug in convcalc: a message, not a traceback
        if os.environ.get("CONVCALC_DEBUG"):
            raise
        _error(f"internal error: {exc!r}; please report it (CONVCALC_DEBUG=1 shows the traceback)")
        ctx.exit(EXIT_BUG)


def run(
    layers: tuple[str, ...],
    input_shape: str | None,
    spec_file: str | None,
    fmt: str,
    batch: int,
    dtype: str,
) -> None:
    """The main job: read the chain, analyse it, print it."""
    text, filename = _source(layers, spec_file)
    shape = _input_shape(input_shape)
    try:
        analysis = analyze(text, shape, batch=batch, filename=filename)
        # Memory figures are computed here so a bad dtype fails before any output.
        analysis.memory(batch, dtype)
    except SpecError as exc:
        raise Failure(str(exc), EXIT_USAGE, exc.excerpt()) from None
    except ShapeError as exc:
        _show_partial(exc, fmt, batch, dtype)
        raise Failure(str(exc), EXIT_SHAPE) from None
    except InternalError as exc:
        raise Failure(str(exc), EXIT_BUG) from None
    except ConvcalcError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    except RecursionError as exc:
        raise Failure(f"internal error: {exc!r}; please report it", EXIT_BUG) from None
    from .render import write

    out = sys.stdout
    write(analysis, fmt, out, batch=batch, dtype=dtype)
    out.flush()


def main() -> NoReturn:
    """The ``convcalc`` console script."""
    try:
        cli.main(prog_name="convcalc")
    except BrokenPipeError:  # pragma: no cover - raised while exiting
        _quiet_stdout()
        sys.exit(1)
    except OSError as exc:  # pragma: no cover
        if exc.errno != errno.EPIPE:
            raise
        _quiet_stdout()
        sys.exit(1)
    sys.exit(0)  # pragma: no cover - cli.main always exits
