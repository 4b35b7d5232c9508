"""Binding: one parsed statement (short form or PyTorch call) turned into a layer
object, every argument checked against the kind's declaration. The short form is read
here; PyTorch's call form (kinds/binding_call.py) and the messages of a failed binding
(kinds/binding_errors.py) load only when a statement needs them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from convcalc.errors import SpecError
from convcalc.kinds.args import ANY, BOOL, BoolType, OptIntsType, OptionalType, Param, is_none
from convcalc.kinds.layer import Entry, Layer
from convcalc.kinds.shapes import fmt_tuple
from convcalc.language import Arg, LayerStmt, Value

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

    def target(self, name: str) -> _Target | None:
        """What the argument PyTorch calls ``name`` sets (kinds/binding_call.py asks)."""
        return _target(self.entry, name)

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

    def read(self) -> None:
        """Read the statement's arguments: the short form here, a call by binding_call."""
        if self.stmt.call:
            from convcalc.kinds.binding_call import read_call  # only a call loads it

            read_call(self)
        else:
            self.short()

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
                from convcalc.kinds.binding_errors import unexpected_positional  # error path

                raise unexpected_positional(entry, stmt, arg, source, self.kinds)
            name = order[i]
            target = ("param", entry.positional[i]) if own else _target(entry, name)
            assert target is not None, (stmt.kind, name)
            try:
                self.set(target, arg.value, arg, name)
            except SpecError:
                if arg.value.kind == "name" and not own:
                    from convcalc.kinds.binding_errors import unexpected_positional  # error path

                    raise unexpected_positional(entry, stmt, arg, source, self.kinds) from None
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
                from convcalc.kinds.binding_errors import unknown_key  # error path only

                raise unknown_key(entry, stmt, arg, source)
            self.set(target, arg.value, arg, key)


def given(stmt: LayerStmt, source: str, registry: Mapping[str, Entry]) -> frozenset[str]:
    """The names of the parameters a statement gives (by position, key or flag
    word), read as bind reads it."""
    binder = _Binder(registry[stmt.kind], stmt, source, registry)
    binder.read()
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
    binder.read()
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
    lacking = entry.cls.missing(values)
    if lacking:
        raise SpecError(
            f"{binder.label} needs {lacking}",
            source=source,
            start=stmt.start,
            end=stmt.start + len(stmt.call or stmt.kind),
        )
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
