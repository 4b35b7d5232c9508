"""How the command fails: convcalc's exit codes, the :class:`Failure` a command's
job raises, the guard that turns it (or a closed pipe, or a bug) into a message
and an exit status, and the ``convcalc: error: …`` lines on stderr; and the
standard output that fails loudly rather than cut a result short.

Exit status: 0 done, 1 a network the framework would reject, 2 a malformed spec or
command line (or a file that cannot be read), 70 a bug in convcalc, 130 Ctrl-C,
141 standard output closed before everything was written (``| head``), in
every format.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return stdin is None or stdin.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - a closed or odd stdin
        return True
