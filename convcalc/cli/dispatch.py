"""How the words of a command line reach a command.

:class:`DefaultGroup` is click's group with a default command, in the manner of
sqlite-utils' ``DefaultGroup`` and click-default-group: a first word naming a
subcommand (``solve``) runs it, and any other command line — options, layer
words, ``-``, ``--``, nothing at all — is the default command's, whole. The
default command has no word of its own: no layer word is ever taken for one,
and its usage line and errors read ``convcalc``. A subcommand's module is
imported only when its word is used.

:class:`LayerCommand` is a command whose layer words may stand anywhere among
its options (``convcalc conv2d k=3 s=2 p=1 d=1 -i 32``).

The group's ``main`` answers every failure, its commands' included, as
``convcalc: error: …`` with convcalc's exit codes (errors.py), never with a
traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

import click

from convcalc.cli.errors import exit_status
from convcalc.cli.types import _FORMAT_WORDS
from convcalc.formats.names import FORMAT_ALIASES

# Put first by DefaultGroup when the first word names no subcommand: argv cannot
# hold a NUL byte, so no command line has this word, and click's parser stops at
# it (a word, not an option) and leaves every option to the default command.
_DEFAULT = "\0default"


class _DefaultContext(click.Context):
    """The default command's context: without a word of its own, its path is its
    group's (``convcalc``, not ``convcalc <name>``)."""

    @property
    def command_path(self) -> str:
        if self.info_name is None and self.parent is not None:
            return self.parent.command_path
        return super().command_path


class DefaultGroup(click.Group):
    """Subcommands by their first word (loaded when used); every other command
    line runs ``default``. The group has no options of its own."""

    def __init__(
        self,
        default: click.Command,
        subcommands: dict[str, Callable[[], click.Command]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", default.name)
        super().__init__(add_help_option=False, no_args_is_help=False, **kwargs)
        self.default = default
        self.subcommands = subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.subcommands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        load = self.subcommands.get(cmd_name)
        return None if load is None else load()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.resilient_parsing:  # completion: does the word being typed come first?
            ctx.meta["convcalc.first_word"] = not args
        if not args or args[0] not in self.subcommands:
            args = [_DEFAULT, *args]
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] == _DEFAULT:
            return None, self.default, args[1:]
        return super().resolve_command(ctx, args)

    def is_default(self, command: click.Command) -> bool:
        return command is self.default

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
        run = partial(super().main, args, prog_name, complete_var, False, **extra)
        if not standalone_mode:
            return run()
        sys.exit(exit_status(run))


def _subcommands(ctx: click.Context) -> Sequence[str]:
    """The words that would have named a subcommand in ``ctx``'s place: those of
    the group whose default command ``ctx`` runs."""
    parent = ctx.parent
    if parent is None or not isinstance(parent.command, DefaultGroup):
        return ()
    group = parent.command
    return group.list_commands(parent) if group.is_default(ctx.command) else ()


class LayerCommand(click.Command):
    """A command whose LAYER words may come before, between and after its options."""

    context_class = _DefaultContext
    format_option = "-o"  # how this command spells its format option (for hints)

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
                if not words and arg in _subcommands(ctx) and not ctx.resilient_parsing:
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
