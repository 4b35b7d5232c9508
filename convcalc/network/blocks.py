"""Blocks: ``block NAME PARAM… [PARAM=DEFAULT…]`` … ``end`` definitions taken out of
a spec, an instance's arguments bound to the parameters, and the body's statements
with the values substituted (errors keep pointing at the instance's own text)."""

from __future__ import annotations

from collections.abc import Mapping

from convcalc.errors import SpecError
from convcalc.kinds.layer import Entry
from convcalc.language import (
    KEYWORDS,
    Arg,
    InputStmt,
    LayerStmt,
    Located,
    Value,
    spec_error,
    suggest,
)

__all__ = ["BlockDef", "Blocks"]


class BlockDef:
    __slots__ = ("body", "name", "params", "stmt")

    def __init__(
        self,
        name: str,
        params: tuple[tuple[str, Value | None], ...],
        body: tuple[LayerStmt, ...],
        stmt: LayerStmt,
    ) -> None:
        self.name, self.params, self.body, self.stmt = name, params, body, stmt


class Blocks(dict[str, "BlockDef"]):
    """The blocks a spec defines, by name (lower-cased)."""

    def __init__(self, source: str, registry: Mapping[str, Entry]) -> None:
        super().__init__()
        self.source = source
        self.registry = registry
        # Bodies with their parameters substituted, by block and argument texts.
        self.bodies: dict[tuple[str, ...], list[LayerStmt]] = {}

    def error(self, message: str, where: Located) -> SpecError:
        return spec_error(message, self.source, where)

    def text(self, value: Value) -> str:
        return self.source[value.start : value.end]

    def define(self, stmts: list[LayerStmt | InputStmt]) -> list[LayerStmt]:
        """Take the block definitions out of the top-level statements."""
        rest: list[LayerStmt] = []
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            i += 1
            if isinstance(stmt, InputStmt):
                raise self.error("'input' must come before the first layer", stmt)
            if stmt.kind != "block":
                if stmt.kind == "include":  # its family's blocks are in the text already
                    continue
                if stmt.kind == "end":
                    raise self.error("'end' without a 'block' to close", stmt)
                rest.append(stmt)
                continue
            head = stmt
            body: list[LayerStmt] = []
            while True:
                if i >= len(stmts):
                    raise self.error(f"block {self.name_of(head)!r} has no 'end'", head)
                inner = stmts[i]
                i += 1
                if isinstance(inner, InputStmt):
                    raise self.error("'input' cannot stand inside a block", inner)
                if inner.kind == "end":
                    if inner.args:
                        raise self.error("'end' takes nothing after it", inner)
                    break
                if inner.kind == "block":
                    raise self.error("blocks cannot be defined inside a block", inner)
                body.append(inner)
            self.add(head, tuple(body))
        return rest

    def name_of(self, stmt: LayerStmt) -> str:
        first = stmt.args[0] if stmt.args else None
        if first is None or first.key is not None or first.value.kind != "name":
            raise self.error("'block' needs a name: block NAME PARAM… (then lines, then end)", stmt)
        return str(first.value.value).lower()

    def add(self, head: LayerStmt, body: tuple[LayerStmt, ...]) -> None:
        name = self.name_of(head)
        if name in self.registry or name in KEYWORDS or name == "input":
            raise self.error(f"{name!r} is a layer kind or keyword; name the block otherwise", head)
        if name in self:
            raise self.error(f"block {name!r} is defined twice", head)
        params: list[tuple[str, Value | None]] = []
        for arg in head.args[1:]:
            if arg.key is None:
                if arg.value.kind != "name":
                    raise self.error(
                        f"block parameters are names; {self.text(arg.value)!r} is not one",
                        arg.value,
                    )
                params.append((str(arg.value.value).lower(), None))
            else:
                params.append((arg.key, arg.value))
        seen: set[str] = set()
        for pname, _ in params:
            if pname in seen:
                raise self.error(f"block {name} has two parameters named {pname!r}", head)
            seen.add(pname)
        if not body:
            raise self.error(f"block {name!r} is empty", head)
        self[name] = BlockDef(name, tuple(params), body, head)

    def bind(self, block: BlockDef, stmt: LayerStmt, args: list[Arg]) -> dict[str, Value]:
        env: dict[str, Value] = {}
        names = [p for p, _ in block.params]
        npos = 0
        for arg in args:
            if arg.key is None:
                if npos >= len(names):
                    raise self.error(
                        f"block {block.name} takes {len(names)} value"
                        f"{'s' if len(names) != 1 else ''} ({', '.join(names) or 'none'}); "
                        f"got {self.text(arg.value)!r} too",
                        arg.value,
                    )
                key = names[npos]
                npos += 1
            else:
                key = arg.key
                if key not in names:
                    hint = suggest(key, names)
                    message = f"block {block.name} has no parameter {key!r}"
                    message += (
                        f"; did you mean {hint}=?"
                        if hint
                        else (f" (it takes {', '.join(names)})" if names else " (it takes none)")
                    )
                    raise self.error(message, arg)
            if key in env:
                raise self.error(f"{key} is given twice to block {block.name}", arg)
            env[key] = arg.value
        for key, default in block.params:
            if key not in env:
                if default is None:
                    raise self.error(f"block {block.name} needs a value for {key}", stmt)
                env[key] = default
        return env

    def body(self, block: BlockDef, env: dict[str, Value]) -> list[LayerStmt]:
        """The block's statements with its parameters substituted, made once per
        distinct set of argument texts (a network repeats its blocks)."""
        source = self.source
        key = (block.name, *(_value_text(v, source) for v in env.values()))
        body = self.bodies.get(key)
        if body is None:
            body = self.bodies[key] = [_substitute(stmt, env, source) for stmt in block.body]
            for stmt, was in zip(body, block.body):
                if stmt.kind != was.kind:  # a parameter standing for the kind
                    self.known_kind(stmt, env[was.kind])
        return body

    def known_kind(self, stmt: LayerStmt, value: Value) -> None:
        """The kind an instance gave a block parameter must be one (or a block)."""
        word = stmt.kind
        if word in self.registry or word in self or word in KEYWORDS:
            return
        hint = suggest(word, [*self.registry, *self])
        raise self.error(
            f"unknown layer kind {self.text(value)!r}"
            + (f"; did you mean {hint!r}?" if hint else ""),
            value,
        )


def _substitute(stmt: LayerStmt, env: dict[str, Value], source: str) -> LayerStmt:
    """A block body's statement with its parameter words replaced by the values the
    instance gave (values keep their own offsets, so errors point at them); a
    parameter standing for the kind (``act`` on its line) becomes the kind given."""
    args: list[Arg] = []
    # The statement's text with each swapped value's text replaced by the instance's.
    pieces: list[str] = []
    pos = stmt.anchor if stmt.anchor >= 0 else stmt.start
    end = pos + stmt.end - stmt.start
    kind = env.get(stmt.kind)
    if kind is not None:
        word = source[kind.start : kind.end]
        if kind.kind != "name":
            raise spec_error(
                f"{stmt.kind} stands for a layer kind in this block; {word!r} is not one",
                source,
                kind,
            )
        pieces.append(word)
        pos += len(stmt.kind)
        stmt = stmt._replace(kind=word.lower())
    for arg in stmt.args:
        value = _sub_value(arg.value, env)
        if value is not arg.value:
            old = arg.value
            pieces += [source[pos : old.start], _value_text(value, source)]
            pos = old.end
            arg = arg._replace(value=value)
        args.append(arg)
    if not pieces:
        return stmt
    pieces.append(source[pos:end])
    return stmt._replace(args=tuple(args), text=" ".join("".join(pieces).split()))


def _value_text(value: Value, source: str) -> str:
    """A substituted value's text: a tuple's from its atoms (a parameter among them is
    replaced), in parentheses if it was written in them (``s=(1,S,S)``)."""
    text = source[value.start : value.end]
    if value.kind == "tuple":
        atoms = ",".join(source[a.start : a.end] for a in value.atoms())
        return f"({atoms})" if text.startswith("(") else atoms
    return text


def _sub_value(value: Value, env: dict[str, Value]) -> Value:
    if value.kind == "name":
        return env.get(str(value.value).lower(), value)
    if value.kind == "tuple":
        items: list[Value] = []
        changed = False
        for atom in value.atoms():
            new = _sub_value(atom, env)
            if new is not atom:
                changed = True
            items.extend(new.atoms())
        if changed:
            return value._replace(value=tuple(items))
    return value
