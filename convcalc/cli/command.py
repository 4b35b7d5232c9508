"""The ``convcalc`` command: parse options, call the core, print.

Exit status: 0 done, 1 a network the framework would reject, 2 a malformed spec or
command line (or a file that cannot be read), 70 a bug in convcalc, 130 Ctrl-C,
141 standard output closed before everything was written (``| head``), in
every format. Errors go to stderr as ``convcalc: error: …``; nothing that could
pass for a result reaches stdout on an error (on a terminal, the table of the
layers that worked may precede the error).
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import click

from convcalc import __version__
from convcalc.errors import ConvcalcError, InternalError, ShapeError, SpecError
from convcalc.formats.names import FORMAT_ALIASES, FORMATS
from convcalc.network.memory import DTYPE_ALIASES, DTYPES

if TYPE_CHECKING:
    from convcalc.ask.lint import LintWarning
    from convcalc.formats.jsonout import Extras
    from convcalc.formats.render import Source
    from convcalc.formats.torch_print import Reading
    from convcalc.network.analysis import Analysis

EXIT_SHAPE = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPT = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left
SHELLS = ("bash", "zsh", "fish")

SHORT_USAGE = """\
Usage: convcalc [OPTIONS] [LAYER]...
  convcalc -i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 gap flatten linear 10
  convcalc -f net.spec            cat net.spec | convcalc -i 3x32x32
Try 'convcalc --help' for help, 'convcalc --list-layers' for the layer kinds."""


def _color() -> bool | None:
    """False when NO_COLOR is set (https://no-color.org), else click's choice."""
    return False if os.environ.get("NO_COLOR") else None


def _error(message: str, detail: str = "") -> None:
    head = click.style("convcalc: error:", fg="red", bold=True)
    click.echo(f"{head} {message}", err=True, color=_color())
    if detail:
        click.echo(detail, err=True, color=_color())


def _warn(warning: LintWarning) -> None:
    head = click.style("convcalc: warning:", fg="yellow", bold=True)
    text = warning.line().removeprefix("warning: ")
    click.echo(f"{head} {text}", err=True, color=_color())


class Failure(Exception):
    """An error already worded for the user, with its exit status."""

    def __init__(self, message: str, code: int, detail: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.detail = message, code, detail


# Words that look like a wish for a format flag: --json, --md, --yaml, …
_FORMAT_WORDS = {*FORMATS, *FORMAT_ALIASES, "yaml", "yml"}


class ConvcalcCommand(click.Command):
    """A click command whose every failure reads ``convcalc: error: …`` and
    exits with convcalc's codes — never a traceback. ``subcommands`` maps a first
    word (``solve``) to a function giving the command that takes over from it: the
    main job keeps no subcommand word, and those commands load only when used."""

    format_option = "-o"  # how this command spells its format option (for hints)

    def __init__(
        self,
        *args: Any,
        subcommands: dict[str, Callable[[], click.Command]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands = subcommands or {}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """For completion (resilient parsing), a subcommand's context after its word;
        and a note of whether nothing precedes the word being completed."""
        completing = bool(extra.get("resilient_parsing"))
        if completing and args and args[0] in self.subcommands:
            command = self.subcommands[args[0]]()
            return command.make_context(f"{info_name} {args[0]}", args[1:], parent, **extra)
        bare = not args
        ctx = super().make_context(info_name, args, parent, **extra)
        if completing and self.subcommands:
            ctx.meta["convcalc.first_word"] = bare
        return ctx

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
            from convcalc.cli.completion import register

            register()
        elif self.subcommands:
            words = list(sys.argv[1:] if args is None else args)
            if words and words[0] in self.subcommands:
                command = self.subcommands[words[0]]()
                name = f"{prog_name or 'convcalc'} {words[0]}"
                return command.main(words[1:], name, var, standalone_mode, **extra)
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
            sys.exit(EXIT_PIPE)
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Options go to click, layer words after ``--``. From the first layer
        word on, a word that starts with '-' but is not one of convcalc's options
        belongs to the layers (``unflatten 1 -1x28x28``, ``conv2d -16 k=3``); a
        word before it is click's to judge. Options may still follow the layers."""
        takes_value: dict[str, bool] = {}
        longs: dict[str, str] = {}
        for param in self.params:
            if isinstance(param, click.Option):
                long = next((o for o in param.opts if o.startswith("--")), None)
                for opt in param.opts:
                    takes_value[opt] = not param.is_flag
                    # click's parser tries every option as a long one first; for a
                    # short one that attempt builds a translated error message, which
                    # loads gettext and locale (a millisecond of startup). Spelling
                    # short options long avoids it.
                    if long and len(opt) == 2:
                        longs[opt] = long
        options: list[str] = []
        words: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                words.extend(args[i:])
                break
            name = arg.split("=", 1)[0]
            word = name.lstrip("-").lower()
            if arg.startswith("-") and word in _FORMAT_WORDS and name not in takes_value:
                _format_flag(arg, ctx)
            if arg.startswith("--") or arg in takes_value:
                pass  # an option (an unknown long one is click's to report)
            elif arg.startswith("-") and arg != "-" and not words:
                pass  # before the layers: click's
            elif arg.startswith("-") and arg[1:2].isalpha() and arg[:2] in takes_value:
                pass  # -ojson, -i3x32x32: a short option with its value attached
            else:
                if not words and arg in self.subcommands and not ctx.resilient_parsing:
                    raise click.UsageError(
                        f"'{arg}' is a command of its own: write it first (convcalc {arg} --help)",
                        ctx=ctx,
                    )
                words.append(arg)
                continue
            options.append(longs.get(arg, arg))
            if takes_value.get(arg) and i < len(args):
                options.append(args[i])  # the option's value, whatever it looks like
                i += 1
        options = _framework_first(options)
        return super().parse_args(ctx, [*options, "--", *words] if words else options)


# Options that --list-layers and --help-layer (eager, processed in the order given)
# must know first: whose layers to describe.
_FIRST = ("--framework", "--opset")


def _framework_first(options: list[str]) -> list[str]:
    """``options`` with --framework and --opset (and their values) moved to the front."""
    if not any(o.split("=", 1)[0] in _FIRST for o in options):
        return options
    first: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(options):
        opt = options[i]
        if opt.split("=", 1)[0] in _FIRST:
            first.append(opt)
            if "=" not in opt and i + 1 < len(options):
                first.append(options[i + 1])
                i += 1
        else:
            rest.append(opt)
        i += 1
    return [*first, *rest]


def _format_flag(arg: str, ctx: click.Context) -> NoReturn:
    fmt = arg.lstrip("-").lower()
    option = getattr(ctx.command, "format_option", "-o")
    if fmt in ("yaml", "yml"):
        hint = f"there is no YAML output, but JSON is valid YAML: {option} json"
    else:
        hint = f"the format is an option's value: {option} {FORMAT_ALIASES.get(fmt, fmt)}"
    raise click.UsageError(f"no such option: {arg} ({hint})", ctx=ctx)


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


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return stdin is None or stdin.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - a closed or odd stdin
        return True


def _source(layers: tuple[str, ...], spec_file: str | None) -> tuple[str, str | None, str]:
    """The spec text, its file name (None for words on the command line) and,
    after a file, the extra layer words given on the command line."""
    if "-" in layers and (spec_file is not None or layers != ("-",)):
        raise Failure(
            "'-' reads the chain from stdin and must be the only layer word"
            + (" (with -f, give further layers as words)" if spec_file is not None else ""),
            EXIT_USAGE,
        )
    if spec_file is not None:
        text, name = _read(spec_file)
        return text, name, " ".join(layers)
    if layers == ("-",):
        return (*_read("-"), "")
    if layers:
        return " ".join(layers), None, ""
    if _stdin_is_terminal():
        raise Failure("no layers given", EXIT_USAGE, SHORT_USAGE)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    if not data.strip():
        raise Failure(
            "no layers given: none on the command line, and standard input is empty "
            "(write them after the options: convcalc -i 3x32x32 conv2d 16 k=3)",
            EXIT_USAGE,
        )
    try:
        return data.decode("utf-8-sig"), "<stdin>", ""
    except UnicodeDecodeError as exc:
        raise Failure(
            f"<stdin>: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            EXIT_USAGE,
        ) from None


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    from convcalc import parse_shape

    try:
        return parse_shape(text)
    except SpecError as exc:
        raise Failure(f"-i/--input {text!r}: {exc.message}", EXIT_USAGE, exc.excerpt()) from None


def _show_partial(exc: ShapeError, fmt: str, batch: int, dtype: str) -> None:
    """On a terminal, the table of the layers that worked, above the error."""
    results = exc.results
    if fmt != "table" or exc.index is None or not sys.stdout.isatty():
        return
    from convcalc.formats.render import draw_table
    from convcalc.network.analysis import Analysis

    first = results[0].input if results else exc.input
    draw_table(
        Analysis(first, tuple(results), batch, framework=exc.framework, opset=exc.opset),
        sys.stdout,
        batch=batch,
        dtype=dtype,
        failed=(exc.index, exc.text),
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


class Words(click.ParamType):
    """One word of a closed set, any case, with aliases, and a "did you mean"
    for a near miss. (Not click.Choice: convcalc's own wording and aliases.)"""

    name = "word"

    def __init__(
        self,
        choices: Sequence[str] | Callable[[], tuple[Sequence[str], dict[str, str]]],
        aliases: dict[str, str] | None = None,
        hints: dict[str, str] | None = None,
    ) -> None:
        # choices may be a function giving (choices, aliases): its module is then
        # imported only when the option is used, not at every start.
        self._load = choices if callable(choices) else None
        self._choices = () if callable(choices) else tuple(choices)
        self._aliases = aliases or {}
        self.hints = hints or {}

    def _loaded(self) -> None:
        if self._load is not None:
            choices, self._aliases = self._load()
            self._choices, self._load = tuple(choices), None

    @property
    def choices(self) -> tuple[str, ...]:
        self._loaded()
        return self._choices

    @property
    def aliases(self) -> dict[str, str]:
        self._loaded()
        return self._aliases

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"[{'|'.join(self.choices)}]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        low = str(value).lower()
        low = self.aliases.get(low, low)
        if low in self.choices:
            return low
        message = f"{value!r} is not one of {', '.join(self.choices)}"
        if low in self.hints:
            message += f"; {self.hints[low]}"
        else:
            from convcalc.spec import suggest

            hint = suggest(low, [*self.choices, *self.aliases])
            if hint:
                message += f"; did you mean {self.aliases.get(hint, hint)}?"
        self.fail(message, param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in self.choices if c.startswith(incomplete.lower())]


FORMAT_TYPE = Words(
    FORMATS, FORMAT_ALIASES, dict.fromkeys(("yaml", "yml"), "JSON is valid YAML: -o json")
)


def _frameworks() -> tuple[Sequence[str], dict[str, str]]:
    from convcalc.kinds.frameworks import FRAMEWORK_ALIASES, FRAMEWORKS

    return FRAMEWORKS, FRAMEWORK_ALIASES


def _optimizers() -> tuple[Sequence[str], dict[str, str]]:
    from convcalc.network.memory import OPTIMIZER_ALIASES, OPTIMIZERS

    return tuple(OPTIMIZERS), OPTIMIZER_ALIASES


def _complete_layers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from convcalc.cli.completion import complete_layers

    return complete_layers(ctx, param, incomplete)


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    registry = _framework(ctx).registry
    return [CompletionItem(w) for w in sorted(registry) if w.startswith(incomplete.lower())]


def _framework(ctx: click.Context) -> Any:
    """The framework --framework/--opset name (PyTorch's by default)."""
    from convcalc.kinds.frameworks import get

    try:
        return get(ctx.params.get("framework") or "torch", ctx.params.get("opset"))
    except SpecError as exc:
        raise click.UsageError(exc.message, ctx=ctx) from None


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
    from convcalc.cli.completion import script

    click.echo(script(shell), nl=False)
    ctx.exit(0)


def _complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from convcalc.network.zoo import models

    return [
        CompletionItem(m.name, help=m.summary)
        for m in models()
        if m.name.startswith(incomplete.lower())
    ]


def _print_model_list(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from convcalc.network.zoo import models

        listed = models()
        width = max(len(m.name) for m in listed)
        for m in listed:
            click.echo(f"{m.name.ljust(width)}  {m.summary}")
        ctx.exit(0)


def _model_text(name: str) -> str:
    from convcalc.network.zoo import model_spec

    try:
        return model_spec(name)
    except SpecError as exc:
        raise Failure(f"-m/--model: {exc.message}", EXIT_USAGE) from None


def _print_model_spec(ctx: click.Context, _param: click.Parameter, name: str | None) -> None:
    if name is None or ctx.resilient_parsing:
        return
    from convcalc.network.zoo import model_spec

    try:
        text = model_spec(name)
    except SpecError as exc:
        raise click.UsageError(f"--model-spec: {exc.message}", ctx=ctx) from None
    click.echo(text, nl=False)
    ctx.exit(0)


def _print_layer_list(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        import shutil

        from convcalc.cli.catalog import layer_list

        width = shutil.get_terminal_size()[0] if sys.stdout.isatty() else 80
        click.echo(layer_list(max(60, min(width, 100)), _framework(ctx)), nl=False)
        ctx.exit(0)


def _print_layer_help(ctx: click.Context, _param: click.Parameter, kind: str | None) -> None:
    if kind is None or ctx.resilient_parsing:
        return
    from convcalc.cli.catalog import layer_help

    framework = _framework(ctx)
    registry = framework.registry
    word = kind.lower()
    if word not in registry:
        from convcalc.spec import suggest

        hint = suggest(word, registry)
        message = f"--help-layer: unknown layer kind {kind!r}"
        if framework.name != "torch":
            message = f"--help-layer: {framework.name} has no layer kind {kind!r}"
        message += f"; did you mean {hint!r}?" if hint else " (convcalc --list-layers lists them)"
        raise click.UsageError(message, ctx=ctx)
    click.echo(layer_help(word, framework), nl=False)
    ctx.exit(0)


def _solve_command() -> click.Command:
    from convcalc.cli.solve import solve_command

    return solve_command


# Shared with ``convcalc solve``.
HELP_OPTION = click.option(
    "-h",
    "--help",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_help,
    help="Show this message and exit.",
)
FRAMEWORK_OPTION = click.option(
    "--framework",
    type=Words(_frameworks),
    default=None,
    is_eager=True,
    help="Whose conventions: torch (PyTorch's, the default), keras (Keras 3, channels "
    "last: -i 224x224x3) or onnx. A spec may say it in its first statement: framework keras.",
)
OPSET_OPTION = click.option(
    "--opset",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    is_eager=True,
    help="The ONNX opset (default 22; 13 and later); a spec may say framework onnx opset=N.",
)


@click.command(
    cls=ConvcalcCommand,
    subcommands={"solve": _solve_command},
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
    help="Read the chain from a spec file ('-' = stdin); layer words are added after it.",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=FORMAT_TYPE,
    default="table",
    show_default=True,
    help="Output format (md = markdown).",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Batch size: sets the memory figures (MACs stay per sample; norms that use the "
    "batch's own statistics reject a batch of one value per channel, as PyTorch does).",
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
    "--optimizer",
    type=Words(_optimizers),
    default=None,
    help="Add a training-memory estimate: parameters, gradients, this optimizer's state "
    "(sgd none, momentum 1 copy, adam 2) and the activations kept for backward.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Fold block instances nested deeper than N into one row each "
    "(0: every top-level block is one row); the totals do not change.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show how each size is computed, with your numbers, under the table "
    '(JSON: "explain"; CSV/TSV: an explain column).',
)
@click.option(
    "--rf",
    is_flag=True,
    help="Receptive field in three columns (size, effective stride, start) and a "
    'summary against the input size (JSON: "receptive_field").',
)
@click.option(
    "--warnings/--no-warnings",
    default=None,
    help="Report the classic mistakes (a floor that drops input rows, a channels-last "
    'input, …): on stderr, and in JSON a "warnings" list (with --warnings even when '
    "empty). On by default.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Make warnings errors: exit 1 and nothing on stdout.",
)
@FRAMEWORK_OPTION
@OPSET_OPTION
@click.option(
    "-m",
    "--model",
    metavar="NAME",
    shell_complete=_complete_models,
    help="Analyse a built-in network (resnet50, vit_b_16, unet, …) at its usual input "
    "(-i overrides it); layer words are added after it.",
)
@click.option(
    "--from-torch",
    "from_torch",
    type=SpecFile(),
    metavar="FILE",
    help="Read the text print(model) shows ('-' = stdin): nn.Sequential and ModuleList "
    "containers around PyTorch layers. Give the input with -i.",
)
@click.option(
    "--assume-sequential",
    is_flag=True,
    help="With --from-torch: run the children of other containers (a model class) in "
    "print order; the output says so.",
)
@click.option(
    "--list-models",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_model_list,
    help="List the built-in networks and exit.",
)
@click.option(
    "--model-spec",
    metavar="NAME",
    is_eager=True,
    expose_value=False,
    callback=_print_model_spec,
    shell_complete=_complete_models,
    help="Print a built-in network's spec file (a start for your own) and exit.",
)
@click.option(
    "--list-layers",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_layer_list,
    help="List the layer kinds and exit.",
)
@click.option(
    "--help-layer",
    metavar="KIND",
    is_eager=True,
    expose_value=False,
    callback=_print_layer_help,
    shell_complete=_complete_kinds,
    help="Describe a layer kind (arguments, defaults, an example) and exit.",
)
@click.option(
    "--completion",
    type=click.Choice(SHELLS),
    is_eager=True,
    expose_value=False,
    callback=_print_completion,
    help="Print the shell completion script for bash, zsh or fish, and exit.",
)
@HELP_OPTION
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
    optimizer: str | None,
    depth: int | None,
    explain: bool,
    rf: bool,
    warnings: bool | None,
    strict: bool,
    model: str | None,
    from_torch: str | None,
    assume_sequential: bool,
    framework: str | None,
    opset: int | None,
) -> None:
    guarded(
        ctx,
        lambda: run(
            layers,
            input_shape,
            spec_file,
            fmt,
            batch,
            dtype,
            optimizer,
            depth,
            model,
            explain=explain,
            rf=rf,
            warnings=warnings,
            strict=strict,
            from_torch=from_torch,
            assume_sequential=assume_sequential,
            framework=framework,
            opset=opset,
        ),
    )


def guarded(ctx: click.Context, job: Callable[[], None]) -> None:
    """Run a command's job: a Failure is its message and exit status, a closed pipe
    a quiet exit, anything else a bug — a message, not a traceback."""
    try:
        job()
    except Failure as exc:
        _error(exc.message, exc.detail)
        ctx.exit(exc.code)
    except BrokenPipeError:  # the reader left (| head): here, before click's own exit 1
        _quiet_stdout()
        ctx.exit(EXIT_PIPE)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a bug in convcalc: a message, not a traceback
        if os.environ.get("CONVCALC_DEBUG"):
            raise
        _error(f"internal error: {exc!r}; please report it (CONVCALC_DEBUG=1 shows the traceback)")
        ctx.exit(EXIT_BUG)


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
    from convcalc.formats.render import COMMAND_LINE, Source

    try:  # the file's own layers, counted by analysing it alone
        count = len(analyze(text, shape, batch=batch, **fw).layers)
    except ConvcalcError:
        count = 0
    total = len(analysis.layers)
    if not 0 < count < total:
        return analysis, []
    assert filename is not None
    return analysis, [Source(filename, 1, count), Source(COMMAND_LINE, count + 1, total)]


def _torch_print(
    path: str | None,
    layers: tuple[str, ...],
    spec_file: str | None,
    model: str | None,
    assume_sequential: bool,
) -> tuple[str, str, str, Reading]:
    """--from-torch: the print read as spec text (fromtorch.py)."""
    if path is None:
        raise Failure("--assume-sequential goes with --from-torch FILE", EXIT_USAGE)
    if spec_file is not None or model is not None:
        raise Failure("give --from-torch alone, without -f/--file or -m/--model", EXIT_USAGE)
    if "-" in layers:
        raise Failure("'-' reads stdin; with --from-torch give further layers as words", EXIT_USAGE)
    from convcalc.formats.torch_print import read_print

    text, name = _read(path)
    try:
        reading = read_print(text, assume_sequential=assume_sequential)
    except SpecError as exc:
        exc = exc.located(name)
        raise Failure(str(exc), EXIT_USAGE, exc.excerpt()) from None
    return reading.spec, name, " ".join(layers), reading


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
        from convcalc.formats.render import Source

        which = ", ".join(reading.assumed)
        note = f"{filename}, {which}'s children run in print order (--assume-sequential)"
        rest = [s for s in sources if s.name != filename]
        sources = [Source(note, 1, reading.layers), *rest]
        if fmt not in ("table", "json", "markdown"):
            click.echo(f"convcalc: note: {note[len(filename) + 2 :]}", err=True)
    return analysis, sources


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
    if from_torch is not None or assume_sequential:
        text, filename, extra, reading = _torch_print(
            from_torch, layers, spec_file, model, assume_sequential
        )
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
    training = None
    try:
        if reading is None:
            analysis, sources = _analyze(text, filename, extra, shape, batch, conventions)
        else:
            analysis, sources = _analyze_print(reading, filename or "", extra, shape, batch, fmt)
        # Memory figures are computed here so a bad dtype fails before any output.
        memory = analysis.memory(batch, dtype)
        if optimizer is not None:
            from convcalc.network.memory import training_memory

            training = training_memory(analysis, batch, dtype, optimizer, inference=memory)
    except SpecError as exc:
        raise Failure(str(exc), EXIT_USAGE, exc.excerpt()) from None
    except ShapeError as exc:
        _show_partial(exc, fmt, batch, dtype)
        # From a file: its line too (on the command line the message quotes the layer).
        detail = exc.excerpt() if exc.filename else ""
        if warnings is not False:  # what the rows that ran say: often why it failed
            from convcalc.ask.lint import lint_error

            hints = [w.line().replace("warning: ", "hint: ", 1) for w in lint_error(exc)]
            detail = "\n".join(filter(None, [detail, *hints]))
        raise Failure(str(exc), EXIT_SHAPE, detail) from None
    except InternalError as exc:
        raise Failure(str(exc), EXIT_BUG) from None
    except ConvcalcError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    except RecursionError as exc:
        raise Failure(f"internal error: {exc!r}; please report it", EXIT_BUG) from None
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
    extras = _extras(analysis, fmt, out, explain, rf, in_json)
    from convcalc.formats.report import Report

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


def _extras(
    analysis: Analysis,
    fmt: str,
    out: TextIO,
    explain: bool,
    rf: bool,
    warnings: list[LintWarning] | None,
) -> Extras | None:
    """What --explain, --rf and JSON's warnings add; None when nothing was asked
    (nothing more is imported then)."""
    if not (explain or rf or warnings is not None):
        return None
    from convcalc.formats.jsonout import Extras

    steps = None
    if explain:
        from convcalc.ask.explain import explain as explain_steps
        from convcalc.formats.render import is_unicode

        # The machine formats and a terminal without Unicode get ASCII expressions.
        ascii = fmt in ("json", "csv", "tsv") or (fmt == "table" and not is_unicode(out))
        steps = explain_steps(analysis, ascii=ascii)
    summary = None
    if rf:
        from convcalc.network.field import field

        summary = field(analysis)
    return Extras(steps, rf, summary, warnings)


class _Stdout(io.TextIOBase):
    """Standard output for the results, writing every byte or raising
    BrokenPipeError. CPython's BufferedWriter may return a short count for a large
    block written into a pipe whose reader has left, and TextIOWrapper ignores the
    count: a big JSON or table would be cut silently, exit status 0. Writing the
    encoded bytes until all are taken makes the next write fail as it should."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = getattr(stream, "buffer", None)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "errors", None) or "strict"

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._buffer is None:
            return int(self._stream.write(text))
        self._stream.flush()  # anything written to the text layer before
        view = memoryview(text.encode(self.encoding, self.errors))
        while view:
            view = view[self._buffer.write(view) :]
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


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
