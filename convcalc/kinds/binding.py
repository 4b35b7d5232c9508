"""Binding: one parsed statement (short form or PyTorch call) turned into a layer
object, every argument checked against the kind's declaration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from convcalc.errors import SpecError
from convcalc.kinds.args import ANY, BOOL, BoolType, OptIntsType, OptionalType, Param, is_none
from convcalc.kinds.layer import Entry, Layer, Signature, WrittenTuple
from convcalc.kinds.shapes import fmt_tuple
from convcalc.language import Arg, LayerStmt, Value, suggest

# What one PyTorch argument sets: ("param", Param), ("extra", ArgType), ("only",
# (value, why)) or ("fixed", Param) — a Param the kind word fixes (upsamplingnearest2d's
# mode), which may be given only at that value.
_Target = tuple[str, Any]


def _target(entry: Entry, name: str) -> _Target | None:
    sig = entry.torch
    if sig is not None:
        if name in sig.extra:
            return ("extra", sig.extra[name])
        if name in sig.only:
            return ("only", sig.only[name])
        name = sig.renames.get(name, name)
    for param in entry.params:
        if param.name == name:
            return ("param", param)
    if name in entry.fixed:
        for param in entry.cls.PARAMS:
            if param.name == name:
                return ("fixed", param)
    return None


class _Binder:
    """Turns one statement's arguments into the values of its Params."""

    def __init__(
        self,
        entry: Entry,
        stmt: LayerStmt,
        source: str,
        kinds: Mapping[str, Entry],
    ) -> None:
        self.entry, self.stmt, self.source = entry, stmt, source
        self.kinds = kinds
        self.label = stmt.call or stmt.kind  # how messages name the layer
        self.values: dict[str, Any] = {}
        self.given: dict[str, Arg] = {}

    def error(self, message: str, start: int, end: int) -> SpecError:
        return SpecError(message, source=self.source, start=start, end=end)

    def set(self, target: _Target, value: Value, arg: Arg, name: str) -> None:
        """Give the argument PyTorch calls ``name`` (resolved to ``target``) its value."""
        what, obj = target
        if what == "param":
            self.put(obj, self.convert(obj, value), arg)
        elif what == "extra":
            self.put(Param(name, obj), self.convert(Param(name, obj), value), arg, keep=False)
        elif what == "only":
            want, why = obj
            got = self.convert(Param(name, BOOL if isinstance(want, bool) else ANY), value)
            if got != want:
                raise self.error(f"{self.label}: {why}", arg.key_start, value.end)
            self.put(Param(name, ANY), got, arg, keep=False)
        else:  # a Param the kind word fixes: only its own value
            want = self.entry.fixed[obj.name]
            got = self.convert(obj, value)
            if isinstance(want, tuple) and isinstance(got, tuple) and len(got) == 1:
                got = got * len(want)
            if got != want:
                shown = fmt_tuple(want) if isinstance(want, tuple) else want
                raise self.error(
                    f"{self.label} fixes {obj.name}={shown}; the general kind lets you choose it",
                    arg.key_start,
                    value.end,
                )
            self.put(obj, got, arg, keep=False)

    def put(self, param: Param, value: Any, arg: Arg, *, keep: bool = True) -> None:
        if param.name in self.given:
            raise SpecError(
                f"{param.name} is given twice in {self.label}",
                source=self.source,
                start=arg.key_start,
                end=arg.value.end,
            )
        self.given[param.name] = arg
        if keep:
            self.values[param.name] = value

    def convert(self, param: Param, value: Value) -> Any:
        if (
            is_none(value)
            and not param.required
            and not isinstance(param.type, OptIntsType)
            and (param.default is None or isinstance(param.type, OptionalType))
        ):
            return None  # PyTorch's None: the argument's "not given" (stride=None)
        try:
            return param.type.convert(value, self.source)
        except SpecError as exc:
            raise SpecError(
                f"{self.label} {param.name}: {exc.message}",
                source=self.source,
                start=exc.start,
                end=exc.end,
            ) from None

    # -- the short form ---------------------------------------------------------

    def short(self) -> None:
        entry, stmt, source = self.entry, self.stmt, self.source
        flags: list[tuple[Param, Any, Arg]] = []
        positional: list[Arg] = []
        for arg in stmt.args:
            if arg.key is not None:
                continue
            value = arg.value
            if value.kind == "name":
                word = str(value.value).lower()
                if word in entry.flags:
                    param, flag_value = entry.flags[word]
                    flags.append((param, flag_value, arg))
                    continue
                if word in entry.by_key and isinstance(entry.by_key[word].type, BoolType):
                    flags.append((entry.by_key[word], True, arg))
                    continue
            positional.append(arg)
        # More positional values than the short form takes: PyTorch's order
        # (conv2d 3 64 3 is in, out, kernel; bn 16 is num_features). A word that is
        # none of PyTorch's values there is more likely a misspelt flag or kind
        # (conv2d 16 k=3 rleu): it is reported as one.
        sig = entry.torch
        own = len(positional) <= len(entry.positional) or sig is None
        order = [p.name for p in entry.positional] if own else list(sig.args)  # type: ignore[union-attr]
        for i, arg in enumerate(positional):
            if i >= len(order):
                raise _unexpected_positional(entry, stmt, arg, source, self.kinds)
            name = order[i]
            target = ("param", entry.positional[i]) if own else _target(entry, name)
            assert target is not None, (stmt.kind, name)
            try:
                self.set(target, arg.value, arg, name)
            except SpecError:
                if arg.value.kind == "name" and not own:
                    raise _unexpected_positional(entry, stmt, arg, source, self.kinds) from None
                raise
        for param, flag_value, arg in flags:
            self.put(param, flag_value, arg)
        for arg in stmt.args:
            key = arg.key
            if key is None:
                continue
            keyed = entry.by_key.get(key)
            target = ("param", keyed) if keyed is not None else _target(entry, key)
            if target is None:
                raise _unknown_key(entry, stmt, arg, source)
            self.set(target, arg.value, arg, key)

    # -- a call -------------------------------------------------------------------

    def check_form(self, sig: Signature, name: str, value: Value) -> None:
        """A tuple where PyTorch takes an int, or too short a tuple (see Signature)."""
        if value.kind != "tuple":
            return
        text = self.source[value.start : value.end]
        callee = self.stmt.call
        if name in sig.scalar:
            raise self.error(
                f"{callee}() {name} is one integer; {self.entry.framework} fails on the tuple "
                f"{text}",
                value.start,
                value.end,
            )
        dim = self.entry.fixed.get("dim")
        whole = name in sig.whole
        if name in sig.whole_unless:
            other, harmless = sig.whole_unless[name]
            whole = self.values.get(other, harmless) != harmless
        if whole and dim is not None and len(value.atoms()) == 1 and dim > 1:
            raise self.error(
                f"{callee}() {name} takes one integer or {dim} values; "
                f"{self.entry.framework} fails on {text}",
                value.start,
                value.end,
            )

    def call(self) -> None:
        entry, stmt = self.entry, self.stmt
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
            raise self.error(message, start, start + len(callee))
        sig = entry.torch
        inside = stmt.args[: stmt.inside]
        for arg in stmt.args[stmt.inside :]:
            raise self.error(
                f"after {callee}(…) only the graph's words may follow (xN, name=NAME, "
                f"frozen); got {self.source[arg.key_start : arg.value.end]!r}",
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
                    raise self.error(
                        f"{callee}() takes {len(sig.args)} positional argument"
                        f"{'s' if len(sig.args) != 1 else ''}"
                        + (f" ({', '.join(sig.args)})" if sig.args else "")
                        + f"; got {self.source[value.start : value.end]!r} too",
                        value.start,
                        value.end,
                    )
                name = sig.args[npos]
                npos += 1
            else:
                name = arg.key
                if name not in allowed:
                    raise self.error(
                        _unknown_torch_key(entry, callee, name, allowed),
                        arg.key_start,
                        arg.key_start + len(name),
                    )
            if is_none(value) and name in sig.args[: sig.required]:
                raise self.error(
                    f"{callee}() needs a value for {name}, not None", value.start, value.end
                )
            target = _target(entry, name)
            assert target is not None, (cname, name)
            self.set(target, value, arg, sig.renames.get(name, name))
            written.append((name, value))
        for name, value in written:
            self.check_form(sig, name, value)
            param = sig.renames.get(name, name)
            dim = entry.fixed.get("dim")
            if name in sig.whole and value.kind == "tuple" and dim is None:
                self.values[param] = WrittenTuple(self.values[param])
        missing = [n for n in sig.args[: sig.required] if sig.renames.get(n, n) not in self.given]
        if missing:
            need = ", ".join(sig.args[: sig.required])
            raise self.error(
                f"{callee}() needs {', '.join(missing)} (its required arguments: {need})",
                start,
                start + len(callee),
            )


def given(stmt: LayerStmt, source: str, registry: Mapping[str, Entry]) -> frozenset[str]:
    """The names of the parameters a statement gives (by position, key or flag
    word), read as bind reads it."""
    binder = _Binder(registry[stmt.kind], stmt, source, registry)
    if stmt.call:
        binder.call()
    else:
        binder.short()
    return frozenset(binder.given) | frozenset(binder.values)


def bind(
    stmt: LayerStmt,
    source: str,
    registry: Mapping[str, Entry],
    extra: Mapping[str, Any] | None = None,
) -> Layer:
    """Turn a parsed layer statement (short form or PyTorch call) into a layer
    object, checking its arguments (``registry``: the framework's kinds, PyTorch's
    by default; ``extra``: values the framework sets on every layer, e.g. ONNX's
    opset)."""
    entry = registry[stmt.kind]
    binder = _Binder(entry, stmt, source, registry)
    if stmt.call:
        binder.call()
    else:
        binder.short()
    values, given = binder.values, binder.given
    for param in entry.params:
        if param.name not in values:
            if param.required and param.name not in given:
                example = f"{param.keys[0]}=3" if param.per_dim else param.keys[0]
                raise SpecError(
                    f"{binder.label} needs {param.name} ({example})",
                    source=source,
                    start=stmt.start,
                    end=stmt.start + len(stmt.call or stmt.kind),
                )
            values[param.name] = param.default
    dim = entry.fixed.get("dim")
    if dim is not None:
        for param in entry.params:
            val = values[param.name]
            if not (param.per_dim and isinstance(val, tuple)) or len(val) == dim:
                continue
            if len(val) == 1:
                if val[0] is not None:  # a lone None is refused by the layer itself
                    values[param.name] = val * dim  # one number applies to every dimension
            else:
                arg = given[param.name]
                raise SpecError(
                    f"{param.name} has {len(val)} values but {binder.label} has {dim} spatial "
                    f"dimension{'s' if dim > 1 else ''}",
                    source=source,
                    start=arg.value.start,
                    end=arg.value.end,
                )
    values.update(entry.fixed)
    if extra:
        values.update(extra)
    return entry.cls(**values)


def bind_call(
    value: Value,
    source: str,
    registry: Mapping[str, Entry],
    expected: str,
    kinds: Iterable[str] | None = None,
) -> Layer:
    """A layer given as another's argument, written as a call (one of ``kinds``, any
    when None), bound by ``registry`` as if alone; else a SpecError on the value:
    "expected {expected}; got …"."""
    stmt = value.value
    if (
        value.kind != "call"
        or not isinstance(stmt, LayerStmt)
        or (kinds is not None and stmt.kind not in kinds)
    ):
        raise SpecError(
            f"expected {expected}; got {source[value.start : value.end]!r}",
            source=source,
            start=value.start,
            end=value.end,
        )
    return bind(stmt, source, registry)


def _unknown_torch_key(entry: Entry, callee: str, key: str, allowed: Iterable[str]) -> str:
    message = f"{callee}() has no argument {key!r}"
    param = entry.by_key.get(key.lower())
    if param is not None and param.name in allowed:
        own = f"{entry.framework}'s name is {param.name}"
        return message + f" (that is convcalc's short key; {own})"
    hint = suggest(key, list(allowed))
    if hint:
        return message + f"; did you mean {hint}=?"
    return message + f" (it takes {', '.join(allowed)})" if allowed else message


def _unknown_key(entry: Entry, stmt: LayerStmt, arg: Arg, source: str) -> SpecError:
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


def _unexpected_positional(
    entry: Entry,
    stmt: LayerStmt,
    arg: Arg,
    source: str,
    kinds: Mapping[str, Entry],
) -> SpecError:
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
