"""Binding PyTorch's call form (``Conv2d(3, 64, 7)``, ``nn.MaxPool2d(kernel_size=3)``):
the call's arguments read by the framework's signature, positional then keyword, and
checked as its constructor checks them. Loaded only when a statement is a call
(kinds/binding.py reads the short form)."""

from __future__ import annotations

from typing import Any, Protocol

from convcalc.errors import SpecError
from convcalc.kinds.args import is_none
from convcalc.kinds.layer import Entry, Signature, WrittenTuple
from convcalc.language import Arg, LayerStmt, Value


class Binder(Protocol):
    """What a call needs of binding's binder (kinds/binding.py), named by its shape:
    binding imports this module, so this one does not import binding."""

    entry: Entry
    stmt: LayerStmt
    source: str
    values: dict[str, Any]
    given: dict[str, Arg]

    def error(self, message: str, start: int, end: int) -> SpecError: ...

    def target(self, name: str) -> tuple[str, Any] | None: ...

    def set(self, target: tuple[str, Any], value: Value, arg: Arg, name: str) -> None: ...


def check_form(binder: Binder, sig: Signature, name: str, value: Value) -> None:
    """A tuple where PyTorch takes an int, or too short a tuple (see Signature)."""
    if value.kind != "tuple":
        return
    text = binder.source[value.start : value.end]
    callee = binder.stmt.call
    if name in sig.scalar:
        raise binder.error(
            f"{callee}() {name} is one integer; {binder.entry.framework} fails on the tuple {text}",
            value.start,
            value.end,
        )
    dim = binder.entry.fixed.get("dim")
    whole = name in sig.whole
    if name in sig.whole_unless:
        other, harmless = sig.whole_unless[name]
        whole = binder.values.get(other, harmless) != harmless
    if whole and dim is not None and len(value.atoms()) == 1 and dim > 1:
        raise binder.error(
            f"{callee}() {name} takes one integer or {dim} values; "
            f"{binder.entry.framework} fails on {text}",
            value.start,
            value.end,
        )


def read_call(binder: Binder) -> None:
    """Give ``binder`` the values of a PyTorch call's arguments (``Conv2d(3, 64, 7)``),
    checked as the framework's constructor checks them."""
    entry, stmt = binder.entry, binder.stmt
    callee = stmt.call
    cname = callee.rsplit(".", 1)[-1]
    start = stmt.start
    if cname != entry.torch_name or entry.torch is None:
        real = [entry.torch_name] if entry.torch_name else []
        framework = entry.framework
        message = f"{callee} is not a {framework} class convcalc reads"
        if real:
            message += f"; {framework} spells it {real[0]}"
        else:
            message += f"; write it as convcalc's {stmt.kind} …"
        raise binder.error(message, start, start + len(callee))
    sig = entry.torch
    inside = stmt.args[: stmt.inside]
    for arg in stmt.args[stmt.inside :]:
        raise binder.error(
            f"after {callee}(…) only the graph's words may follow (xN, name=NAME, "
            f"frozen); got {binder.source[arg.key_start : arg.value.end]!r}",
            arg.key_start,
            arg.value.end,
        )
    if sig.anything:
        return
    allowed = (*sig.args, *sig.kwonly)
    npos = 0
    written: list[tuple[str, Value]] = []
    for arg in inside:
        value = arg.value
        if arg.key is None:
            if npos >= len(sig.args):
                raise binder.error(
                    f"{callee}() takes {len(sig.args)} positional argument"
                    f"{'s' if len(sig.args) != 1 else ''}"
                    + (f" ({', '.join(sig.args)})" if sig.args else "")
                    + f"; got {binder.source[value.start : value.end]!r} too",
                    value.start,
                    value.end,
                )
            name = sig.args[npos]
            npos += 1
        else:
            name = arg.key
            if name not in allowed:
                from convcalc.kinds.binding_errors import unknown_torch_key  # error path only

                raise binder.error(
                    unknown_torch_key(entry, callee, name, allowed),
                    arg.key_start,
                    arg.key_start + len(name),
                )
        if is_none(value) and name in sig.args[: sig.required]:
            raise binder.error(
                f"{callee}() needs a value for {name}, not None", value.start, value.end
            )
        target = binder.target(name)
        assert target is not None, (cname, name)
        binder.set(target, value, arg, sig.renames.get(name, name))
        written.append((name, value))
    for name, value in written:
        check_form(binder, sig, name, value)
        param = sig.renames.get(name, name)
        dim = entry.fixed.get("dim")
        if name in sig.whole and value.kind == "tuple" and dim is None:
            binder.values[param] = WrittenTuple(binder.values[param])
    missing = [n for n in sig.args[: sig.required] if sig.renames.get(n, n) not in binder.given]
    if missing:
        need = ", ".join(sig.args[: sig.required])
        raise binder.error(
            f"{callee}() needs {', '.join(missing)} (its required arguments: {need})",
            start,
            start + len(callee),
        )
