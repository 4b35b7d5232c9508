"""From parsed statements to a network: blocks expanded, repeats unrolled, tensor
names resolved and layers bound, giving a flat list of nodes in execution order.

A chain is the special case where every node reads the tensor the node before it
made. Graph statements (README: "Graphs"):

* ``as NAME`` names the current tensor, ``from NAME`` continues from a named one;
* ``add``/``mul``/``concat NAME…`` merge the current tensor with named ones,
  ``split``/``chunk … NAME…`` cut it into named parts, ``crop NAME`` centre-crops it,
  ``resize_to NAME`` interpolates it to a named tensor's size;
* ``block NAME PARAM… [PARAM=DEFAULT…]`` … ``end`` defines a block; ``NAME ARGS…``
  instantiates it (its ``as`` names are local to the instance);
* ``xN`` after a layer or block instance repeats it, ``name=NAME`` names a layer or
  instance and ``use NAME`` applies it again with the same weights; ``tie=NAME`` makes a
  layer use a named layer's weight as its own (a language model's output head and its
  token embedding: counted once); ``frozen`` (or ``requires_grad=false``) marks its
  parameters as not trainable.

The network's result is the current tensor at the end, or the first tensor a
final ``return NAME…`` names (the others are outputs too, which eval mode computes:
a segmentation model's auxiliary classifier); a branch left behind under a name is a
side output (Inception's auxiliary head): its parameters count, but an eval-mode
forward pass does not run it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, cast

from convcalc._records import NamedTuple
from convcalc.errors import SpecError
from convcalc.kinds import Layer, bind
from convcalc.kinds.args import BOOL, Param
from convcalc.language import (
    KEYWORDS,
    Arg,
    InputStmt,
    LayerStmt,
    Located,
    Program,
    Value,
    spec_error,
    suggest,
)

if TYPE_CHECKING:
    from convcalc.kinds.frameworks import Framework
    from convcalc.network.blocks import BlockDef, Blocks

__all__ = ["Graph", "Node", "build"]

_MAX_UNROLL = 1_000_000  # nodes: beyond this a spec is a mistake (x1000 inside x1000)
_MAX_NESTING = 64


class Node(NamedTuple):
    """One operation: node ``i`` reads the tensors ``inputs`` and makes tensor ``i + 1``
    (tensor 0 is the network's input)."""

    text: str  # the statement as written, block parameters substituted
    op: Layer
    inputs: tuple[int, ...]
    path: tuple[str, ...]  # the block instances it sits in, outermost first
    shared: int | None  # the node (0-based) whose weights it uses again, if any
    frozen: bool
    start: int  # where its statement stands in the source
    end: int
    tied: int | None = None  # the node (0-based) whose weight it uses as its own (tie=)


class Instance:
    """A block instance, for its summary row. (Plain classes with slots, here and
    below: a NamedTuple class costs a tenth of a millisecond at every start.)"""

    __slots__ = ("first", "last", "result", "start", "text")

    def __init__(self, text: str, start: int, first: int, last: int, result: int) -> None:
        self.text = text
        self.start = start
        self.first = first  # its first node (0-based)
        self.last = last  # its last node
        self.result = result  # the tensor it hands on


class Graph(NamedTuple):
    source: str
    input_stmt: InputStmt | None  # the spec's own 'input SHAPE', if any
    nodes: tuple[Node, ...]
    result: int  # the tensor the network returns
    names: dict[int, str]  # tensor id → the name it was first given
    side: frozenset[int]  # nodes no output depends on (side outputs)
    instances: dict[tuple[str, ...], Instance]
    outputs: tuple[int, ...] = ()  # the tensors 'return' names after the result


class _Scope:
    """Tensor names: an instance's own, falling back to its caller's."""

    __slots__ = ("names", "parent", "spelling")

    def __init__(self, parent: _Scope | None = None) -> None:
        self.names: dict[str, int] = {}  # by the name lower-cased: names ignore case
        self.spelling: dict[str, str] = {}  # how each was first written here
        self.parent = parent

    def get(self, name: str) -> int | None:
        scope: _Scope | None = self
        while scope is not None:
            tensor = scope.names.get(name)
            if tensor is not None:
                return tensor
            scope = scope.parent
        return None

    def known(self) -> list[str]:
        out: list[str] = []
        scope: _Scope | None = self
        while scope is not None:
            out.extend(scope.names)
            scope = scope.parent
        return out


class _Plan:
    """What a layer statement asks for, once its graph keys are taken out."""

    __slots__ = ("frozen", "layer", "name", "repeat", "tensors", "tie")

    def __init__(
        self,
        layer: Layer,
        repeat: int,
        name: str | None,
        frozen: bool,
        tie: Value | None,
        tensors: tuple[Value, ...] = (),
    ) -> None:
        self.layer, self.repeat, self.name, self.frozen = layer, repeat, name, frozen
        self.tie = tie  # tie=NAME: the named layer whose weight it uses
        self.tensors = tensors  # the names its TENSOR_KEYS give, in their order


class _Named:
    """A layer or block instance given ``name=``: what ``use`` applies again."""

    __slots__ = ("env", "nodes", "stmt")

    def __init__(self, nodes: tuple[int, ...], stmt: LayerStmt, env: dict[str, Value]) -> None:
        self.nodes = nodes  # its nodes (first use)
        self.stmt = stmt  # the statement that made it
        self.env = env


_FROZEN = Param("frozen", BOOL, False)
_REQUIRES_GRAD = Param("requires_grad", BOOL, True)


class _Builder:
    def __init__(self, program: Program, framework: Framework) -> None:
        self.source = program.source
        self.framework = framework
        self.registry = framework.registry
        self.extra = {} if framework.opset is None else {"opset": framework.opset}
        self.nodes: list[Node] = []
        self.current = 0
        self.named_tensors: dict[int, str] = {}
        self.consumed: set[int] = set()
        self.plans: dict[str, _Plan] = {}
        # The spec's blocks: made (and their module imported) only when it defines one.
        self.blocks: Mapping[str, BlockDef] = {}
        self.layer_names: dict[str, _Named] = {}
        self.counters: dict[str, int] = {}
        self.instances: dict[tuple[str, ...], Instance] = {}
        self.stack: list[str] = []  # block names being expanded (no recursion)
        self.returned: list[int] | None = None  # what 'return NAME…' named

    # -- errors -------------------------------------------------------------

    def error(self, message: str, where: Located) -> SpecError:
        return spec_error(message, self.source, where)

    # -- names ----------------------------------------------------------------

    def names_of(self, stmt: LayerStmt, least: int, most: int | None = None) -> list[Value]:
        values = [a.value for a in stmt.args if a.key is None]
        if len(values) < least or (most is not None and len(values) > most):
            if most == least == 1:
                want = "one tensor name"
            elif most is None:
                want = f"at least {least} tensor name{'s' if least > 1 else ''}"
            else:
                want = f"{least} to {most} tensor names"
            raise self.error(f"'{stmt.kind}' takes {want}, e.g. {_EXAMPLES[stmt.kind]}", stmt)
        for value in values:
            if value.kind != "name":
                raise self.error(
                    f"'{stmt.kind}' takes tensor names; {self.text(value)!r} is not a name", value
                )
        return values

    def text(self, value: Value) -> str:
        return self.source[value.start : value.end]

    def bind_name(self, scope: _Scope, value: Value, tensor: int) -> None:
        """Name ``tensor`` (``as NAME``, a split's parts). Names ignore case, as layer
        kinds do; one written again in another case would silently replace the first
        (``as X`` … ``as x``), so that is an error, while ``as x`` again rebinds."""
        spelt = str(value.value)
        name = spelt.lower()
        if name == "input":
            raise self.error("'input' names the network's input; choose another name", value)
        earlier = scope.spelling.get(name)
        if earlier is not None and earlier != spelt:
            raise self.error(
                f"'{spelt}' and '{earlier}' are one name (tensor names ignore case): "
                f"naming this {spelt} would replace {earlier}; choose another name",
                value,
            )
        scope.names[name] = tensor
        scope.spelling[name] = spelt
        self.named_tensors.setdefault(tensor, spelt)

    def lookup(self, value: Value, scope: _Scope) -> int:
        name = str(value.value).lower()
        if name == "input":
            return 0
        tensor = scope.get(name)
        if tensor is None:
            known = scope.known()
            message = f"no tensor is named {self.text(value)!r}"
            hint = suggest(name, known)
            if hint:
                message += f"; did you mean {hint!r}?"
            elif known:
                message += f" (named so far: {', '.join(sorted(set(known)))})"
            else:
                message += "; name one first with 'as NAME'"
            raise self.error(message, value)
        return tensor

    def keys_of(self, stmt: LayerStmt, allowed: Iterable[str]) -> dict[str, Arg]:
        keys: dict[str, Arg] = {}
        allowed = tuple(allowed)
        for arg in stmt.args:
            if arg.key is None:
                continue
            if arg.key not in allowed:
                takes = f" (it takes {', '.join(k + '=' for k in allowed)})" if allowed else ""
                raise self.error(f"'{stmt.kind}' has no argument {arg.key!r}{takes}", arg)
            keys[arg.key] = arg
        return keys

    def axis_keys(self) -> tuple[str, ...]:
        """The keys naming the axis of concat/split/chunk: PyTorch's dim; the
        others' axis (dim too)."""
        return ("dim",) if self.framework.name == "torch" else ("axis", "dim")

    def axis(self, keys: dict[str, Arg]) -> int:
        """The axis a statement names, by default the channels (batch = 0)."""
        if "axis" in keys and "dim" in keys:
            raise self.error("give the axis once: axis= or dim=", keys["dim"])
        key = "axis" if "axis" in keys else "dim"
        return self.int_key(keys, key, self.framework.axis)

    def int_key(self, keys: dict[str, Arg], key: str, default: int) -> int:
        arg = keys.get(key)
        if arg is None:
            return default
        value = arg.value
        if value.kind != "int":
            raise self.error(f"{key} must be an integer, got {self.text(value)!r}", value)
        return int(value.value)  # type: ignore[arg-type]

    # -- nodes --------------------------------------------------------------

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
    ) -> int:
        if len(self.nodes) >= _MAX_UNROLL:
            raise self.error(f"the network unrolls to more than {_MAX_UNROLL:,} operations", stmt)
        self.consumed.update(inputs)
        self.nodes.append(Node(text, op, inputs, path, shared, frozen, stmt.start, stmt.end, tied))
        self.current = len(self.nodes)
        return self.current

    def leave(self, stmt: LayerStmt) -> None:
        """Moving away from the current tensor: it must be used, named or the input."""
        tensor = self.current
        if tensor == 0 or tensor in self.consumed or tensor in self.named_tensors:
            return
        node = self.nodes[tensor - 1]
        raise self.error(
            f"the branch ending at layer {tensor} ({node.text}) is never used: merge it "
            f"(add, mul, concat), or name it with 'as NAME' to keep it as a side output",
            stmt,
        )

    # -- statements ---------------------------------------------------------

    def run(
        self,
        stmts: Iterable[LayerStmt],
        scope: _Scope,
        path: tuple[str, ...],
        frozen: bool,
    ) -> None:
        for stmt in stmts:
            if self.returned is not None:
                raise self.error("'return' ends the network: nothing may follow it", stmt)
            kind = stmt.kind
            if kind in KEYWORDS:
                self.keyword(stmt, scope, path, frozen)
            elif kind in self.blocks:
                self.instance(stmt, scope, path, frozen)
            else:
                self.layer(stmt, scope, path, frozen)

    def layer(self, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...], frozen: bool) -> None:
        plan = self.plans.get(stmt.text)
        if plan is None:
            plan = self.plans[stmt.text] = self.plan(stmt)
        others = tuple(self.lookup(value, scope) for value in plan.tensors)
        first = len(self.nodes)
        tied = None if plan.tie is None else self.tied_node(plan.tie)
        for _ in range(plan.repeat):
            self.emit(
                stmt.text,
                plan.layer,
                (self.current, *others),
                path,
                stmt,
                frozen=frozen or plan.frozen,
                tied=tied,
            )
        if plan.name is not None:
            self.name_layer(plan.name, stmt, (first,), {})

    def plan(self, stmt: LayerStmt) -> _Plan:
        """Take the graph's own keys (xN, name=, frozen) out of a layer statement and
        bind the rest."""
        stmt, tensors = self.tensor_args(stmt)
        args, repeat, name, frozen, tie = self.specials(stmt)
        layer_stmt = stmt if len(args) == len(stmt.args) else stmt._replace(args=tuple(args))
        layer = bind(layer_stmt, self.source, self.registry, self.extra)
        return _Plan(layer, repeat, name, frozen, tie, tensors)

    def tensor_args(self, stmt: LayerStmt) -> tuple[LayerStmt, tuple[Value, ...]]:
        """Take out the keys that name the other tensors a kind reads (its TENSOR_KEYS:
        a decoder's memory=NAME), after a call's parentheses or among the short form's
        keys; each is required and names a tensor."""
        entry = self.registry.get(stmt.kind)
        wanted = {} if entry is None else entry.cls.TENSOR_KEYS
        if not wanted:
            return stmt, ()
        given: dict[str, Value] = {}
        kept: list[Arg] = []
        for i, arg in enumerate(stmt.args):
            key = arg.key
            if i < stmt.inside or key is None or key not in wanted:
                kept.append(arg)
                continue
            value = arg.value
            if value.kind != "name":
                raise self.error(
                    f"{key}= names a tensor ({wanted[key]}): one named earlier with "
                    f"'as NAME', or input; got {self.text(value)!r}",
                    value,
                )
            given[key] = value
        for key, what in wanted.items():
            if key not in given:
                raise self.error(
                    f"{stmt.kind} reads a second tensor, {what}: name it with {key}=NAME "
                    f"(a tensor named earlier with 'as NAME', or {key}=input for the "
                    "network's input)",
                    stmt,
                )
        return stmt._replace(args=tuple(kept)), tuple(given[key] for key in wanted)

    def tied_node(self, value: Value) -> int:
        """The node of the layer ``tie=NAME`` names (given name=NAME before)."""
        name = str(value.value).lower()
        named = self.layer_names.get(name)
        if named is None:
            hint = suggest(name, list(self.layer_names))
            message = f"tie={self.text(value)}: no layer is named {self.text(value)!r}"
            message += (
                f"; did you mean {hint!r}?"
                if hint
                else " (name the layer whose weight it uses first, e.g. embedding 50257 768 "
                "name=wte)"
            )
            raise self.error(message, value)
        if len(named.nodes) != 1 or named.stmt.kind in self.blocks:
            raise self.error(
                f"tie={self.text(value)} names a block instance; tie= takes one layer's weight",
                value,
            )
        return named.nodes[0]

    def specials(self, stmt: LayerStmt) -> tuple[list[Arg], int, str | None, bool, Value | None]:
        args: list[Arg] = []
        repeat, name, frozen = 1, None, False
        tie: Value | None = None
        for i, arg in enumerate(stmt.args):
            value = arg.value
            if i < stmt.inside:  # inside a call's parentheses: the layer's own
                args.append(arg)
                continue
            if arg.key is None and value.kind == "name":
                word = str(value.value)
                if word[:1] in "xX×" and word[1:].isdigit() and word[1:].isascii():
                    repeat = int(word[1:])
                    if repeat < 1:
                        raise self.error(f"a repeat needs at least 1, got {word!r}", value)
                    continue
                if word.lower() == "frozen":
                    frozen = True
                    continue
            elif arg.key == "name":
                if value.kind not in ("name", "string"):  # name='0': a quoted one too
                    raise self.error(f"name= takes a word, got {self.text(value)!r}", value)
                name = str(value.value).lower()
                continue
            elif arg.key in ("frozen", "requires_grad"):
                flag = BOOL.convert(value, self.source)
                frozen = flag if arg.key == "frozen" else not flag
                continue
            elif arg.key == "tie":
                if value.kind not in ("name", "string"):
                    raise self.error(
                        f"tie= takes a layer's name (given with name=), got {self.text(value)!r}",
                        value,
                    )
                if stmt.kind in self.blocks:
                    raise self.error("tie= ties one layer's weight, not a block instance's", arg)
                tie = value
                continue
            args.append(arg)
        if name is not None and repeat != 1 and stmt.kind not in self.blocks:
            raise self.error("name= names one layer; it cannot go with a repeat (xN)", stmt)
        if tie is not None and repeat != 1:
            raise self.error("tie= ties one layer's weight; it cannot go with a repeat (xN)", stmt)
        return args, repeat, name, frozen, tie

    def name_layer(
        self, name: str, stmt: LayerStmt, nodes: tuple[int, ...], env: dict[str, Value]
    ) -> None:
        if name in self.layer_names:
            raise self.error(f"a layer or block instance is already named {name!r}", stmt)
        self.layer_names[name] = _Named(nodes, stmt, env)

    def keyword(
        self,
        stmt: LayerStmt,
        scope: _Scope,
        path: tuple[str, ...],
        frozen: bool,
    ) -> None:
        kind = stmt.kind
        if kind == "as":
            (value,) = self.names_of(stmt, 1, 1)
            self.keys_of(stmt, ())
            self.bind_name(scope, value, self.current)
        elif kind == "from":
            (value,) = self.names_of(stmt, 1, 1)
            self.keys_of(stmt, ())
            tensor = self.lookup(value, scope)
            if tensor != self.current:
                self.leave(stmt)
            self.current = tensor
        elif kind in ("add", "subtract", "mul", "concat", "cat"):
            values = self.names_of(stmt, 1)
            keys = self.keys_of(stmt, self.axis_keys() if kind in ("concat", "cat") else ())
            operands = [self.lookup(v, scope) for v in values]
            arithmetic = kind in ("add", "subtract", "mul")
            if self.current not in operands or (arithmetic and len(operands) == 1):
                # 'add x' is current + x; naming the current one too ('add a b' after
                # b) does not add it twice, but 'add c' after c is c + c, as in torch.
                # A concat lists its tensors: the current one is put first only when it
                # is not listed, so 'concat c' after c is cat([c]) (docs/language.md).
                operands.insert(0, self.current)
            from convcalc.kinds.merge import concat, elementwise  # graphs only: chains skip it

            op = (
                concat(self.axis(keys), self.framework.channels_last, self.framework.axis_word)
                if kind in ("concat", "cat")
                else elementwise(kind, self.framework.channels_last, self.framework.axis_word)
            )
            self.emit(stmt.text, op, tuple(operands), path, stmt)
        elif kind in ("split", "chunk"):
            self.split(stmt, scope, path)
        elif kind == "crop":
            (value,) = self.names_of(stmt, 1, 1)
            self.keys_of(stmt, ())
            target = self.lookup(value, scope)
            from convcalc.kinds.merge import crop

            self.emit(
                stmt.text, crop(self.framework.channels_last), (self.current, target), path, stmt
            )
        elif kind == "resize_to":
            (value,) = self.names_of(stmt, 1, 1)
            keys = self.keys_of(stmt, ("mode", "align_corners"))
            target = self.lookup(value, scope)
            if self.framework.channels_last:
                raise self.error("'resize_to' is PyTorch's F.interpolate: channels first", stmt)
            from convcalc.kinds.merge import resize

            resized = resize(**self.resize_keys(keys))  # type: ignore[arg-type]
            self.emit(stmt.text, resized, (self.current, target), path, stmt)
        elif kind in ("bmm", "corr_lookup", "coords_grid"):
            self.raft_op(stmt, scope, path)
        elif kind == "return":
            if path:
                raise self.error("'return' stands at the top level, not inside a block", stmt)
            values = self.names_of(stmt, 1)
            self.keys_of(stmt, ())
            tensors = [self.lookup(v, scope) for v in values]
            if len(set(tensors)) != len(tensors):
                raise self.error("'return' names a tensor twice", stmt)
            if self.current not in tensors:
                self.leave(stmt)
            self.returned = tensors
            self.current = tensors[0]
        elif kind == "use":
            self.use(stmt, scope, path, frozen)
        elif kind == "block":
            raise self.error("a block is defined at the top level, not inside another", stmt)
        elif kind == "include":  # Blocks.define drops the top level's (zoo.py appends the family)
            raise self.error("'include' stands at the top level, not inside a block", stmt)
        elif kind == "framework":
            raise self.error(
                "'framework' must be the spec's first statement, before 'input' and the layers",
                stmt,
            )
        else:  # "end"
            raise self.error("'end' without a 'block' to close", stmt)

    def raft_op(self, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...]) -> None:
        """``bmm NAME``, ``coords_grid`` and ``corr_lookup LEVEL… radius=R`` (RAFT)."""
        from convcalc.kinds import merge
        from convcalc.kinds.args import INT

        if self.framework.channels_last:
            raise self.error(f"'{stmt.kind}' is PyTorch's (channels first)", stmt)
        kind = stmt.kind
        if kind == "coords_grid":
            self.names_of(stmt, 0, 0)
            self.keys_of(stmt, ())
            self.emit(stmt.text, merge.coords_grid(), (self.current,), path, stmt)
            return
        if kind == "bmm":
            (value,) = self.names_of(stmt, 1, 1)
            self.keys_of(stmt, ())
            operands = (self.current, self.lookup(value, scope))
            self.emit(stmt.text, merge.bmm(), operands, path, stmt)
            return
        values = self.names_of(stmt, 1)
        keys = self.keys_of(stmt, ("radius",))
        if "radius" not in keys:
            raise self.error("corr_lookup needs radius=R (RAFT's: 3 small, 4 large)", stmt)
        radius = INT.convert(keys["radius"].value, self.source)
        levels = tuple(self.lookup(v, scope) for v in values)
        op = merge.corr_lookup(radius)
        self.emit(stmt.text, op, (self.current, *levels), path, stmt)

    def resize_keys(self, keys: dict[str, Arg]) -> dict[str, object]:
        """``resize_to``'s mode= and align_corners=, read as nn.Upsample's."""
        from convcalc.kinds.merge import RESIZE_PARAMS

        out: dict[str, object] = {}
        for param in RESIZE_PARAMS:
            arg = keys.get(param.name)
            if arg is not None:
                out[param.name] = param.type.convert(arg.value, self.source)
        return out

    def split(self, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...]) -> None:
        kind = stmt.kind
        positional = [a.value for a in stmt.args if a.key is None]
        keys = self.keys_of(stmt, self.axis_keys())
        if not positional or positional[0].kind not in ("int", "tuple"):
            raise self.error(f"'{kind}' starts with {_EXAMPLES[kind]}", stmt)
        amount = positional[0]
        sizes: list[int] = []
        for atom in amount.atoms():
            if atom.kind != "int":
                raise self.error(f"{kind} sizes are integers, got {self.text(atom)!r}", atom)
            sizes.append(int(atom.value))  # type: ignore[arg-type]
        if kind == "chunk" and len(sizes) != 1:
            raise self.error("chunk takes one number of chunks; split takes sizes", amount)
        names = positional[1:]
        if not names:
            raise self.error(f"name each part: {_EXAMPLES[kind]}", stmt)
        for value in names:
            if value.kind != "name":
                raise self.error(f"{kind} parts take names; {self.text(value)!r} is not one", value)
            if str(value.value).lower() == "input":
                raise self.error("'input' names the network's input; choose another name", value)
        from convcalc.kinds.merge import part

        dim = self.axis(keys)
        source = self.current
        parts = []
        for i, value in enumerate(names):
            op = part(kind, tuple(sizes), dim, i, len(names), self.framework.axis_word)
            text = f"{stmt.text} [{i + 1}/{len(names)}]"
            parts.append(self.emit(text, op, (source,), path, stmt))
            self.bind_name(scope, value, parts[-1])
        self.current = parts[0]

    def use(self, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...], frozen: bool) -> None:
        (value,) = self.names_of(stmt, 1, 1)
        self.keys_of(stmt, ())
        name = str(value.value).lower()
        named = self.layer_names.get(name)
        if named is None:
            hint = suggest(name, list(self.layer_names))
            message = f"no layer or block instance is named {self.text(value)!r}"
            message += f"; did you mean {hint!r}?" if hint else " (name one with name=NAME)"
            raise self.error(message, value)
        if named.stmt.kind in self.blocks:
            first = len(self.nodes)
            uses = self.counters[f"use {name}"] = self.counters.get(f"use {name}", 1) + 1
            label = f"{name}~{uses}"
            self.expand(named.stmt, named.env, scope, path, label, frozen, stmt)
            made = range(first, len(self.nodes))
            if len(made) != len(named.nodes):  # pragma: no cover - same block, same args
                raise self.error("internal: a shared block expanded differently", stmt)
            from convcalc.kinds.merge import GraphOp

            for new, old in zip(made, named.nodes):
                if not isinstance(self.nodes[new].op, GraphOp):  # merges have no weights
                    self.nodes[new] = self.nodes[new]._replace(shared=old)
            return
        (origin,) = named.nodes
        node = self.nodes[origin]
        self.emit(
            f"use {name}",
            node.op,
            (self.current, *node.inputs[1:]),  # the same other tensors (a decoder's memory)
            path,
            stmt,
            shared=origin,
            frozen=node.frozen,
        )

    # -- blocks -------------------------------------------------------------

    def define_blocks(self, stmts: list[LayerStmt | InputStmt]) -> list[LayerStmt]:
        """The top-level statements, the block definitions taken out of them."""
        from convcalc.network.blocks import Blocks

        blocks = Blocks(self.source, self.registry)
        self.blocks = blocks
        return blocks.define(stmts)

    def defined(self) -> Blocks:
        """The spec's blocks, once a statement has named one."""
        return cast("Blocks", self.blocks)

    def arg_text(self, arg: Arg) -> str:
        """An argument as written: its key as written, then its value's own text (a
        block parameter's value stands elsewhere in the source than its key)."""
        value = " ".join(self.source[arg.value.start : arg.value.end].split())
        if arg.key is None:
            return value
        return f"{self.source[arg.key_start : arg.key_start + len(arg.key)]}={value}"

    def instance(self, stmt: LayerStmt, scope: _Scope, path: tuple[str, ...], frozen: bool) -> None:
        args, repeat, name, frozen_here, _ = self.specials(stmt)
        block = self.blocks[stmt.kind]
        env = self.defined().bind(block, stmt, args)
        instance_stmt = stmt
        if len(args) != len(stmt.args):
            words = [stmt.text.split(" ", 1)[0]]
            words += [self.arg_text(a) for a in args]
            instance_stmt = stmt._replace(args=tuple(args), text=" ".join(w for w in words if w))
        first = len(self.nodes)
        for i in range(repeat):
            count = self.counters[block.name] = self.counters.get(block.name, 0) + 1
            if name is None:
                label = f"{block.name}#{count}"
            else:  # name=layer1 with x3: layer1.1, layer1.2, layer1.3
                label = name if repeat == 1 else f"{name}.{i + 1}"
            self.expand(instance_stmt, env, scope, path, label, frozen or frozen_here, stmt)
        if name is not None and repeat == 1:
            self.name_layer(name, instance_stmt, tuple(range(first, len(self.nodes))), env)

    def expand(
        self,
        stmt: LayerStmt,
        env: dict[str, Value],
        scope: _Scope,
        path: tuple[str, ...],
        label: str,
        frozen: bool,
        at: LayerStmt,
    ) -> None:
        block = self.blocks[stmt.kind]
        if block.name in self.stack:
            chain = " → ".join([*self.stack, block.name])
            raise self.error(f"block {block.name!r} instantiates itself ({chain})", at)
        if len(self.stack) >= _MAX_NESTING:
            raise self.error(f"blocks nest more than {_MAX_NESTING} deep", at)
        inner = (*path, label)
        if inner in self.instances:
            raise self.error(f"two block instances are named {label!r} here", at)
        first = len(self.nodes)
        self.instances[inner] = Instance(stmt.text, stmt.start, first, first - 1, self.current)
        self.stack.append(block.name)
        self.run(self.defined().body(block, env), _Scope(scope), inner, frozen)
        self.stack.pop()
        self.instances[inner] = Instance(
            stmt.text, stmt.start, first, len(self.nodes) - 1, self.current
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


# Statements that only the block definitions' reader (network/blocks.py) handles.
_BLOCK_WORDS = frozenset(("block", "end", "include"))


def build(program: Program, framework: Framework | None = None) -> Graph:
    """The network a parsed spec describes, its layers bound by ``framework``'s
    registry (PyTorch's by default)."""
    if framework is None:
        from convcalc.kinds.frameworks import TORCH

        framework = TORCH
    stmts = list(program.statements)
    input_stmt: InputStmt | None = None
    while stmts and isinstance(stmts[0], InputStmt):
        if input_stmt is not None:
            stmt = stmts[0]
            raise spec_error("the input shape is given twice", program.source, stmt)
        input_stmt = stmts.pop(0)  # type: ignore[assignment]
    builder = _Builder(program, framework)
    if all(type(s) is LayerStmt and s.kind not in _BLOCK_WORDS for s in stmts):
        top: list[LayerStmt] = stmts  # type: ignore[assignment]
    else:
        top = builder.define_blocks(stmts)
    builder.run(top, _Scope(), (), False)
    result = builder.current
    outputs = tuple(builder.returned[1:]) if builder.returned else ()
    side = _side_nodes(builder.nodes, (result, *outputs))
    return Graph(
        program.source,
        input_stmt,
        tuple(builder.nodes),
        result,
        builder.named_tensors,
        side,
        builder.instances,
        outputs,
    )


def _side_nodes(nodes: list[Node], ends: tuple[int, ...]) -> frozenset[int]:
    """The nodes whose outputs no output (the result and any other 'return' names)
    depends on."""
    if ends == (len(nodes),) and all(
        node.inputs == (i,) for i, node in enumerate(nodes)
    ):  # a plain chain: the common case, without a walk
        return frozenset()
    needed = [False] * (len(nodes) + 1)
    for end in ends:
        needed[end] = True
    for i in range(len(nodes), 0, -1):
        if needed[i]:
            for tensor in nodes[i - 1].inputs:
                needed[tensor] = True
    return frozenset(i for i in range(len(nodes)) if not needed[i + 1])
