"""How the command fails: convcalc's exit codes, the :class:`Failure` a command's
job raises, the guard that turns it (or a closed pipe, or a bug) into a message
and an exit status, and the ``convcalc: error: …`` lines on stderr.

Exit status: 0 done, 1 a network the framework would reject, 2 a malformed spec or
command line (or a file that cannot be read), 70 a bug in convcalc, 130 Ctrl-C,
141 standard output closed before everything was written (``| head``), in
every format.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from convcalc.ask.lint import LintWarning

EXIT_SHAPE = 1
EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPT = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


class Failure(Exception):
    """An error already worded for the user, with its exit status."""

    def __init__(self, message: str, code: int, detail: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.detail = message, code, detail


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


def _quiet_stdout() -> None:
    """After EPIPE: point stdout at devnull so the interpreter's final flush is
    silent (the recipe in Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass


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


def exit_status(run: Callable[[], object]) -> int:
    """Run click's main (``standalone_mode=False``) and give convcalc's exit status:
    click's own usage errors worded as convcalc's, Ctrl-C 130, a closed pipe 141."""
    try:
        code = run()
    except click.exceptions.UsageError as exc:
        _error(exc.format_message())
        name = exc.ctx.command_path if exc.ctx else "convcalc"
        click.echo(f"Try '{name} --help' for help.", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        _error(exc.format_message())
        return EXIT_USAGE
    except (click.Abort, KeyboardInterrupt):
        return EXIT_INTERRUPT
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    return code if isinstance(code, int) else 0
