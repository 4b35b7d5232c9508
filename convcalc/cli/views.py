"""The options that answer and exit (click callbacks): --help, --version,
--completion, --list-models, --model-spec, --list-layers, --help-layer; and the
shell completion of the values they take. The catalog's text is
:mod:`convcalc.cli.catalog`'s; nothing here is imported by the core."""

from __future__ import annotations

import sys
from typing import Any

import click

from convcalc.cli.errors import _color
from convcalc.errors import SpecError


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
        from convcalc._version import __version__

        click.echo(f"convcalc, version {__version__}")
        ctx.exit(0)


def _print_completion(ctx: click.Context, _param: click.Parameter, shell: str | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    from convcalc.cli.completion import script

    click.echo(script(shell, ctx.find_root().command), nl=False)
    ctx.exit(0)


def _complete_layers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from convcalc.cli.completion import complete_layers

    return complete_layers(ctx, param, incomplete)


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    registry = _framework(ctx).registry
    return [CompletionItem(w) for w in sorted(registry) if w.startswith(incomplete.lower())]


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
        from convcalc.cli.catalog import model_list

        click.echo(model_list(), nl=False)
        ctx.exit(0)


def _print_model_spec(ctx: click.Context, _param: click.Parameter, name: str | None) -> None:
    if name is None or ctx.resilient_parsing:
        return
    from convcalc.network.zoo import family_spec, model_spec

    try:
        text = model_spec(name)
    except SpecError as exc:  # or a family's blocks (include NAME)
        family = family_spec(name)
        if family is None:
            raise click.UsageError(f"--model-spec: {exc.message}", ctx=ctx) from None
        text = family
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
        from convcalc.language import suggest

        hint = suggest(word, registry)
        message = f"--help-layer: unknown layer kind {kind!r}"
        if framework.name != "torch":
            message = f"--help-layer: {framework.name} has no layer kind {kind!r}"
        message += f"; did you mean {hint!r}?" if hint else " (convcalc --list-layers lists them)"
        raise click.UsageError(message, ctx=ctx)
    click.echo(layer_help(word, framework), nl=False)
    ctx.exit(0)
