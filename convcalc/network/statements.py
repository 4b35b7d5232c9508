"""The graph statements (docs/language.md#whole-networks-branches-merges-and-blocks):
``as``, ``from``, ``add``/``subtract``/``mul``/``concat``, ``split``/``chunk``, ``crop``,
``resize_to``, ``use``, ``return`` and RAFT's ``bmm``/``coords_grid``/``corr_lookup``,
each applied to the network graph.py's builder is making. A plain chain has none:
graph.py imports this module the first time a spec uses one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from convcalc.language import Arg, LayerStmt, Located, Value, suggest

if TYPE_CHECKING:
    from convcalc.errors import SpecError
    from convcalc.kinds import Layer
    from convcalc.kinds.frameworks import Framework


class _Scope(Protocol):
    """What the statements read of graph.py's scopes of tensor names."""

    names: dict[str, int]
    spelling: dict[str, str]


class _Builder(Protocol):
    """What the statements use of graph.py's builder, typed by its shape: graph.py
    imports this module, so this one names nothing of graph.py's."""

    current: int
    source: str
    framework: Framework
    nodes: list[Any]  # graph.py's Nodes
    named_tensors: dict[int, str]
    consumed: set[int]
    blocks: Mapping[str, Any]  # the block definitions, by name
    layer_names: dict[str, Any]  # the layers and instances given name=
    counters: dict[str, int]
    returned: list[int] | None

    def error(self, message: str, where: Located) -> SpecError: ...

    def text(self, value: Value) -> str: ...

    def lookup(self, value: Value, scope: Any) -> int: ...

    def emit(
        self,
        text: str,
        op: Layer,
        inputs: tuple[int, ...],
        path: tuple[str, ...],
        stmt: LayerStmt,
        *,
        shared: int | None = None,
        frozen: bool = False,
        tied: int | None = None,
    ) -> int: ...

    def expand(
        self,
        stmt: LayerStmt,
        env: dict[str, Value],
        scope: Any,
        path: tuple[str, ...],
        label: str,
        frozen: bool,
        at: LayerStmt,
    ) -> None: ...


def keyword(
    builder: _Builder,
    stmt: LayerStmt,
    scope: _Scope,
    path: tuple[str, ...],
    frozen: bool,
) -> None:
    kind = stmt.kind
    if kind == "as":
        (value,) = _names_of(builder, stmt, 1, 1)
        _keys_of(builder, stmt, ())
        _bind_name(builder, scope, value, builder.current)
    elif kind == "from":
        (value,) = _names_of(builder, stmt, 1, 1)
        _keys_of(builder, stmt, ())
        tensor = builder.lookup(value, scope)
        if tensor != builder.current:
            _leave(builder, stmt)
        builder.current = tensor
    elif kind in ("add", "subtract", "mul", "concat", "cat"):
        values = _names_of(builder, stmt, 1)
        keys = _keys_of(builder, stmt, _axis_keys(builder) if kind in ("concat", "cat") else ())
        operands = [builder.lookup(v, scope) for v in values]
        arithmetic = kind in ("add", "subtract", "mul")
        if builder.current not in operands or (arithmetic and len(operands) == 1):
            # 'add x' is current + x; naming the current one too ('add a b' after
            # b) does not add it twice, but 'add c' after c is c + c, as in torch.
            # A concat lists its tensors: the current one is put first only when it
            # is not listed, so 'concat c' after c is cat([c]) (docs/language.md).
            operands.insert(0, builder.current)
        from convcalc.kinds.merge import concat, elementwise  # graphs only: chains skip it

        op = (
            concat(
                _axis(builder, keys), builder.framework.channels_last, builder.framework.axis_word
            )
            if kind in ("concat", "cat")
            else elementwise(kind, builder.framework.channels_last, builder.framework.axis_word)
        )
        builder.emit(stmt.text, op, tuple(operands), path, stmt)
    elif kind in ("split", "chunk"):
        _split(builder, stmt, scope, path)
    elif kind == "crop":
        (value,) = _names_of(builder, stmt, 1, 1)
        _keys_of(builder, stmt, ())
        target = builder.lookup(value, scope)
        from convcalc.kinds.merge import crop

        builder.emit(
            stmt.text, crop(builder.framework.channels_last), (builder.current, target), path, stmt
        )
    elif kind == "resize_to":
        (value,) = _names_of(builder, stmt, 1, 1)
        keys = _keys_of(builder, stmt, ("mode", "align_corners"))
        target = builder.lookup(value, scope)
        if builder.framework.channels_last:
            raise builder.error("'resize_to' is PyTorch's F.interpolate: channels first", stmt)
        from convcalc.kinds.merge import resize

        resized = resize(**_resize_keys(builder, keys))  # type: ignore[arg-type]
        builder.emit(stmt.text, resized, (builder.current, target), path, stmt)
    elif kind in ("bmm", "corr_lookup", "coords_grid"):
        _raft_op(builder, stmt, scope, path)
    elif kind == "return":
        if path:
            raise builder.error("'return' stands at the top level, not inside a block", stmt)
        values = _names_of(builder, stmt, 1)
        _keys_of(builder, stmt, ())
        tensors = [builder.lookup(v, scope) for v in values]
        if len(set(tensors)) != len(tensors):
            raise builder.error("'return' names a tensor twice", stmt)
        if builder.current not in tensors:
            _leave(builder, stmt)
        builder.returned = tensors
        builder.current = tensors[0]
    elif kind == "use":
        _use(builder, stmt, scope, path, frozen)
    elif kind == "block":
        raise builder.error("a block is defined at the top level, not inside another", stmt)
    elif kind == "include":  # Blocks.define drops the top level's (zoo.py appends the family)
        raise builder.error("'include' stands at the top level, not inside a block", stmt)
    elif kind == "framework":
        raise builder.error(
            "'framework' must be the spec's first statement, before 'input' and the layers",
            stmt,
        )
    else:  # "end"
        raise builder.error("'end' without a 'block' to close", stmt)


def _raft_op(builder: _Builder, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...]) -> None:
    """``bmm NAME``, ``coords_grid`` and ``corr_lookup LEVEL… radius=R`` (RAFT)."""
    from convcalc.kinds import raft_ops
    from convcalc.kinds.args import INT

    if builder.framework.channels_last:
        raise builder.error(f"'{stmt.kind}' is PyTorch's (channels first)", stmt)
    kind = stmt.kind
    if kind == "coords_grid":
        _names_of(builder, stmt, 0, 0)
        _keys_of(builder, stmt, ())
        builder.emit(stmt.text, raft_ops.coords_grid(), (builder.current,), path, stmt)
        return
    if kind == "bmm":
        (value,) = _names_of(builder, stmt, 1, 1)
        _keys_of(builder, stmt, ())
        operands = (builder.current, builder.lookup(value, scope))
        builder.emit(stmt.text, raft_ops.bmm(), operands, path, stmt)
        return
    values = _names_of(builder, stmt, 1)
    keys = _keys_of(builder, stmt, ("radius",))
    if "radius" not in keys:
        raise builder.error("corr_lookup needs radius=R (RAFT's: 3 small, 4 large)", stmt)
    radius = INT.convert(keys["radius"].value, builder.source)
    levels = tuple(builder.lookup(v, scope) for v in values)
    op = raft_ops.corr_lookup(radius)
    builder.emit(stmt.text, op, (builder.current, *levels), path, stmt)


def _split(builder: _Builder, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...]) -> None:
    kind = stmt.kind
    positional = [a.value for a in stmt.args if a.key is None]
    keys = _keys_of(builder, stmt, _axis_keys(builder))
    if not positional or positional[0].kind not in ("int", "tuple"):
        raise builder.error(f"'{kind}' starts with {_EXAMPLES[kind]}", stmt)
    amount = positional[0]
    sizes: list[int] = []
    for atom in amount.atoms():
        if atom.kind != "int":
            raise builder.error(f"{kind} sizes are integers, got {builder.text(atom)!r}", atom)
        sizes.append(int(atom.value))  # type: ignore[arg-type]
    if kind == "chunk" and len(sizes) != 1:
        raise builder.error("chunk takes one number of chunks; split takes sizes", amount)
    names = positional[1:]
    if not names:
        raise builder.error(f"name each part: {_EXAMPLES[kind]}", stmt)
    for value in names:
        if value.kind != "name":
            raise builder.error(
                f"{kind} parts take names; {builder.text(value)!r} is not one", value
            )
        if str(value.value).lower() == "input":
            raise builder.error("'input' names the network's input; choose another name", value)
    from convcalc.kinds.merge import part

    dim = _axis(builder, keys)
    source = builder.current
    parts = []
    for i, value in enumerate(names):
        op = part(kind, tuple(sizes), dim, i, len(names), builder.framework.axis_word)
        text = f"{stmt.text} [{i + 1}/{len(names)}]"
        parts.append(builder.emit(text, op, (source,), path, stmt))
        _bind_name(builder, scope, value, parts[-1])
    builder.current = parts[0]


def _use(
    builder: _Builder, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...], frozen: bool
) -> None:
    (value,) = _names_of(builder, stmt, 1, 1)
    _keys_of(builder, stmt, ())
    name = str(value.value).lower()
    named = builder.layer_names.get(name)
    if named is None:
        hint = suggest(name, list(builder.layer_names))
        message = f"no layer or block instance is named {builder.text(value)!r}"
        message += f"; did you mean {hint!r}?" if hint else " (name one with name=NAME)"
        raise builder.error(message, value)
    if named.stmt.kind in builder.blocks:
        first = len(builder.nodes)
        uses = builder.counters[f"use {name}"] = builder.counters.get(f"use {name}", 1) + 1
        label = f"{name}~{uses}"
        builder.expand(named.stmt, named.env, scope, path, label, frozen, stmt)
        made = range(first, len(builder.nodes))
        if len(made) != len(named.nodes):  # pragma: no cover - same block, same args
            raise builder.error("internal: a shared block expanded differently", stmt)
        from convcalc.kinds.merge import GraphOp

        for new, old in zip(made, named.nodes):
            if not isinstance(builder.nodes[new].op, GraphOp):  # merges have no weights
                builder.nodes[new] = builder.nodes[new]._replace(shared=old)
        return
    (origin,) = named.nodes
    node = builder.nodes[origin]
    builder.emit(
        f"use {name}",
        node.op,
        (builder.current, *node.inputs[1:]),  # the same other tensors (a decoder's memory)
        path,
        stmt,
        shared=origin,
        frozen=node.frozen,
    )


def _resize_keys(builder: _Builder, keys: dict[str, Arg]) -> dict[str, object]:
    """``resize_to``'s mode= and align_corners=, read as nn.Upsample's."""
    from convcalc.kinds.merge import RESIZE_PARAMS

    out: dict[str, object] = {}
    for param in RESIZE_PARAMS:
        arg = keys.get(param.name)
        if arg is not None:
            out[param.name] = param.type.convert(arg.value, builder.source)
    return out


def _names_of(
    builder: _Builder, stmt: LayerStmt, least: int, most: int | None = None
) -> list[Value]:
    values = [a.value for a in stmt.args if a.key is None]
    if len(values) < least or (most is not None and len(values) > most):
        if most == least == 1:
            want = "one tensor name"
        elif most is None:
            want = f"at least {least} tensor name{'s' if least > 1 else ''}"
        else:
            want = f"{least} to {most} tensor names"
        raise builder.error(f"'{stmt.kind}' takes {want}, e.g. {_EXAMPLES[stmt.kind]}", stmt)
    for value in values:
        if value.kind != "name":
            raise builder.error(
                f"'{stmt.kind}' takes tensor names; {builder.text(value)!r} is not a name", value
            )
    return values


def _keys_of(builder: _Builder, stmt: LayerStmt, allowed: Iterable[str]) -> dict[str, Arg]:
    keys: dict[str, Arg] = {}
    allowed = tuple(allowed)
    for arg in stmt.args:
        if arg.key is None:
            continue
        if arg.key not in allowed:
            takes = f" (it takes {', '.join(k + '=' for k in allowed)})" if allowed else ""
            raise builder.error(f"'{stmt.kind}' has no argument {arg.key!r}{takes}", arg)
        keys[arg.key] = arg
    return keys


def _axis_keys(builder: _Builder) -> tuple[str, ...]:
    """The keys naming the axis of concat/split/chunk: PyTorch's dim; the
    others' axis (dim too)."""
    return ("dim",) if builder.framework.name == "torch" else ("axis", "dim")


def _axis(builder: _Builder, keys: dict[str, Arg]) -> int:
    """The axis a statement names, by default the channels (batch = 0)."""
    if "axis" in keys and "dim" in keys:
        raise builder.error("give the axis once: axis= or dim=", keys["dim"])
    key = "axis" if "axis" in keys else "dim"
    return _int_key(builder, keys, key, builder.framework.axis)


def _int_key(builder: _Builder, keys: dict[str, Arg], key: str, default: int) -> int:
    arg = keys.get(key)
    if arg is None:
        return default
    value = arg.value
    if value.kind != "int":
        raise builder.error(f"{key} must be an integer, got {builder.text(value)!r}", value)
    return int(value.value)  # type: ignore[arg-type]


def _bind_name(builder: _Builder, scope: _Scope, value: Value, tensor: int) -> None:
    """Name ``tensor`` (``as NAME``, a split's parts). Names ignore case, as layer
    kinds do; one written again in another case would silently replace the first
    (``as X`` … ``as x``), so that is an error, while ``as x`` again rebinds."""
    spelt = str(value.value)
    name = spelt.lower()
    if name == "input":
        raise builder.error("'input' names the network's input; choose another name", value)
    earlier = scope.spelling.get(name)
    if earlier is not None and earlier != spelt:
        raise builder.error(
            f"'{spelt}' and '{earlier}' are one name (tensor names ignore case): "
            f"naming this {spelt} would replace {earlier}; choose another name",
            value,
        )
    scope.names[name] = tensor
    scope.spelling[name] = spelt
    builder.named_tensors.setdefault(tensor, spelt)


def _leave(builder: _Builder, stmt: LayerStmt) -> None:
    """Moving away from the current tensor: it must be used, named or the input."""
    tensor = builder.current
    if tensor == 0 or tensor in builder.consumed or tensor in builder.named_tensors:
        return
    node = builder.nodes[tensor - 1]
    raise builder.error(
        f"the branch ending at layer {tensor} ({node.text}) is never used: merge it "
        f"(add, mul, concat), or name it with 'as NAME' to keep it as a side output",
        stmt,
    )


_EXAMPLES = {
    "as": "as skip",
    "from": "from skip",
    "add": "add skip",
    "mul": "mul gate",
    "concat": "concat a b",
    "cat": "cat a b",
    "split": "split 24,40 a b (sizes, then one name per part)",
    "chunk": "chunk 2 a b (the number of chunks, then one name per part)",
    "crop": "crop up",
    "use": "use enc (a layer given name=enc)",
    "resize_to": "resize_to input mode=bilinear (to the spatial size of the tensor named)",
    "return": "return out aux (the network's outputs; the first is its result)",
    "subtract": "subtract coords0",
    "coords_grid": "coords_grid (no arguments: the grid of the current map)",
    "bmm": "bmm f2 (torch.bmm of the current tensor by the one named)",
    "corr_lookup": "corr_lookup c0 c1 c2 c3 radius=4 (RAFT's lookup around the coordinates)",
}
