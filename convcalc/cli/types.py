"""The command's parameter types: a spec file and a word from a closed set (the
formats, the frameworks, the optimizers), each completing itself in the shell."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from convcalc.formats.names import FORMAT_ALIASES, FORMATS

# Words that look like a wish for a format flag: --json, --md, --yaml, …
_FORMAT_WORDS = {*FORMATS, *FORMAT_ALIASES, "yaml", "yml"}


class SpecFile(click.ParamType):
    """A spec file ('-' = stdin), read and checked by sources.py's ``_read``. Not
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
            from convcalc.language import suggest

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


def _dtypes() -> tuple[Sequence[str], dict[str, str]]:
    from convcalc.network.memory import DTYPE_ALIASES, DTYPES

    return tuple(DTYPES), DTYPE_ALIASES


def _optimizers() -> tuple[Sequence[str], dict[str, str]]:
    from convcalc.network.memory import OPTIMIZER_ALIASES, OPTIMIZERS

    return tuple(OPTIMIZERS), OPTIMIZER_ALIASES


FRAMEWORK_TYPE = Words(_frameworks)
DTYPE_TYPE = Words(_dtypes)
OPTIMIZER_TYPE = Words(_optimizers)
