"""Binding's error messages: what a statement's arguments got wrong (an unknown key,
a value too many, a misspelt flag or kind), with the hint that fits. Loaded only when
binding fails (kinds/binding.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from convcalc.errors import SpecError
from convcalc.kinds.layer import Entry
from convcalc.kinds.shapes import fmt_tuple
from convcalc.language import Arg, LayerStmt, suggest


def unknown_torch_key(entry: Entry, callee: str, key: str, allowed: Iterable[str]) -> str:
    """The message for a call's keyword its class does not take (``Conv2d(k=3)``)."""
    message = f"{callee}() has no argument {key!r}"
    param = entry.by_key.get(key.lower())
    if param is not None and param.name in allowed:
        own = f"{entry.framework}'s name is {param.name}"
        return message + f" (that is convcalc's short key; {own})"
    hint = suggest(key, list(allowed))
    if hint:
        return message + f"; did you mean {hint}=?"
    return message + f" (it takes {', '.join(allowed)})" if allowed else message


def unknown_key(entry: Entry, stmt: LayerStmt, arg: Arg, source: str) -> SpecError:
    """The error for a short form's key its kind does not take (or fixes)."""
    assert arg.key is not None
    keys = sorted(entry.by_key)
    for param in entry.cls.PARAMS:
        if arg.key in param.keys and param.name in entry.fixed:
            # e.g. g= after dwconv, whose name fixes groups=dw
            fixed = entry.fixed[param.name]
            shown = fmt_tuple(fixed) if isinstance(fixed, tuple) else fixed
            message = f"{stmt.kind} fixes {param.name}={shown}; the general kind lets you choose it"
            return SpecError(
                message, source=source, start=arg.key_start, end=arg.key_start + len(arg.key)
            )
    if not keys:
        message = f"{stmt.kind} takes no arguments; got {arg.key}="
    else:
        message = f"{stmt.kind} has no argument {arg.key!r}"
        hint = suggest(arg.key, keys)
        if hint:
            message += f"; did you mean {hint}=?"
        else:
            message += f" (it takes {', '.join(_key_list(entry))})"
    return SpecError(message, source=source, start=arg.key_start, end=arg.key_start + len(arg.key))


def unexpected_positional(
    entry: Entry,
    stmt: LayerStmt,
    arg: Arg,
    source: str,
    kinds: Mapping[str, Entry],
) -> SpecError:
    """The error for a positional value past those a kind takes: a misspelt flag or
    kind when it is a word."""
    text = source[arg.value.start : arg.value.end]
    if arg.value.kind == "name":
        word = text.lower()
        hint = suggest(word, sorted(set(entry.flags) | set(entry.by_key)))
        kind = suggest(word, kinds)
        message = f"{stmt.kind} does not understand {text!r}"
        if kind and (not hint or _closeness(word, kind) > _closeness(word, hint)):
            # A misspelt layer kind after the first one (conv2d 16 k=3 rlu).
            message += f"; did you mean the layer kind {kind!r}?"
        elif hint:
            message += f"; did you mean {hint!r}?"
        else:
            message += " (not one of its flags, nor a layer kind)"
    elif not entry.positional and (entry.torch is None or not entry.torch.args):
        keys = _key_list(entry)
        message = f"{stmt.kind} takes no positional value; got {text!r}"
        if keys:
            message += f" (use a key: {', '.join(keys)})"
    else:
        takes = ", ".join(p.name for p in entry.positional)
        if entry.torch is not None and entry.torch.args:
            order = f"{entry.framework}'s {', '.join(entry.torch.args)}"
            takes = f"{takes}, or {order}" if takes else order
        message = f"too many positional values for {stmt.kind} (it takes {takes}); got {text!r}"
    return SpecError(message, source=source, start=arg.value.start, end=arg.value.end)


def _closeness(a: str, b: str) -> float:
    import difflib  # only on the error path

    return difflib.SequenceMatcher(None, a, b).ratio()


def _key_list(entry: Entry) -> list[str]:
    return [f"{p.keys[0]}=" for p in entry.params if not p.positional]
