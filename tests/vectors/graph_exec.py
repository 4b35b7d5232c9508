"""A random graph's description run in PyTorch: the modules it builds, the forward
it runs, and one case's record (tests/vectors/graphs.py)."""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from graph_spec import (
    As,
    BlockDef,
    Crop,
    From,
    Graph,
    Inst,
    Layer,
    Merge,
    Split,
    Stmt,
    Value,
    render,
)
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# --------------------------------------------------------------------------- execution


class HarnessError(ValueError):
    """A rule of the language PyTorch has no op for (crop larger; parts vs names)."""


class Failure(Exception):
    def __init__(self, op: int, exc: BaseException) -> None:
        super().__init__(op, exc)
        self.op = op
        self.exc = exc


class StructureError(AssertionError):
    """The generator wrote a malformed spec (a bug here, never recorded)."""


@dataclass(frozen=True)
class Node:
    op: str  # "layer" | add | mul | concat | split | chunk | crop
    word: str  # what the op record says: the layer kind or the merge keyword
    module: int | None
    inputs: tuple[int, ...]
    arg: Any = None  # concat: dim; split/chunk: (sizes, dim, index, count)


def make_module(layer: Layer, env: dict[str, Value], x: torch.Tensor) -> nn.Module:
    """The torch module a layer statement describes, for input ``x`` (batch first)."""
    pos = [subst(v, env) for v in layer.pos]
    keys = {k: subst(v, env) for k, v in layer.keys}
    kind = layer.kind
    rank = x.dim() - 2  # spatial dims
    if kind in ("conv1d", "conv2d"):
        cls = nn.Conv1d if kind == "conv1d" else nn.Conv2d
        return cls(
            x.shape[1],
            pos[0],
            keys["k"],
            stride=keys.get("s", 1),
            padding=keys.get("p", 0),
            groups=keys.get("g", 1),
            bias=keys.get("bias", True),
        )
    if kind == "bn":
        return (nn.BatchNorm1d if rank <= 1 else nn.BatchNorm2d)(x.shape[1])
    if kind == "relu":
        return nn.ReLU()
    if kind in ("maxpool", "avgpool"):
        table = {
            ("maxpool", 1): nn.MaxPool1d,
            ("maxpool", 2): nn.MaxPool2d,
            ("avgpool", 1): nn.AvgPool1d,
            ("avgpool", 2): nn.AvgPool2d,
        }
        return table[kind, rank](keys["k"], stride=keys.get("s"), padding=keys.get("p", 0))
    if kind == "gap":
        return (nn.AdaptiveAvgPool1d if rank == 1 else nn.AdaptiveAvgPool2d)(1)
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(x.shape[-1], pos[0], bias=keys.get("bias", True))
    raise AssertionError(kind)


def subst(v: Value, env: dict[str, Value]) -> Any:
    if isinstance(v, str):
        return env.get(v, v)
    return v


def centre_crop(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if x.dim() != target.dim():
        raise HarnessError(f"crop: ranks differ ({list(x.shape)} vs {list(target.shape)})")
    index: list[slice] = [slice(None), slice(None)]
    for d in range(2, x.dim()):
        size, want = x.shape[d], target.shape[d]
        if want > size:
            raise HarnessError(
                f"crop: target size {want} is larger than {size} in dim {d} "
                f"(cropping {list(x.shape[1:])} to {list(target.shape[1:])})"
            )
        left = (size - want) // 2
        index.append(slice(left, left + want))
    return x[tuple(index)]


def apply(node: Node, modules: Sequence[nn.Module], tensors: list[Any]) -> torch.Tensor:
    """Run one op. The trace and the model's forward both go through here."""
    xs = [tensors[i] for i in node.inputs]
    if node.op == "layer":
        assert node.module is not None
        return modules[node.module](xs[0])
    if node.op in ("add", "mul"):
        return functools.reduce(operator.add if node.op == "add" else operator.mul, xs)
    if node.op == "concat":
        return torch.cat(xs, dim=node.arg)
    if node.op in ("split", "chunk"):
        sizes, dim, index, count = node.arg
        if node.op == "chunk":
            parts = torch.chunk(xs[0], sizes[0], dim=dim)
        else:
            parts = torch.split(xs[0], list(sizes) if len(sizes) > 1 else sizes[0], dim=dim)
        if len(parts) != count:
            raise HarnessError(
                f"{node.op} makes {len(parts)} parts "
                f"({', '.join(str(p.shape[dim]) for p in parts)}) but {count} names are given"
            )
        return parts[index]
    if node.op == "crop":
        return centre_crop(xs[0], xs[1])
    raise AssertionError(node.op)


def needed_nodes(nodes: Sequence[Node], result: int) -> list[bool]:
    """needed[t]: tensor t (0 = input, i + 1 = node i's output) feeds the result."""
    needed = [False] * (len(nodes) + 1)
    needed[result] = True
    for i in range(len(nodes), 0, -1):
        if needed[i]:
            for t in nodes[i - 1].inputs:
                needed[t] = True
    return needed


class Net(nn.Module):
    """The finished graph as a torch model: eval mode runs only what the result needs."""

    def __init__(self, modules: list[nn.Module], nodes: list[Node], result: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(modules)
        self.nodes = nodes
        self.result = result
        self.needed = needed_nodes(nodes, result)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors: list[Any] = [x] + [None] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            if self.needed[i + 1]:
                tensors[i + 1] = apply(node, self.layers, tensors)
        out = tensors[self.result]
        assert isinstance(out, torch.Tensor)
        return out


class Scope:
    def __init__(self, parent: Scope | None = None) -> None:
        self.names: dict[str, int] = {}
        self.parent = parent

    def get(self, name: str) -> int:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise StructureError(f"no tensor named {name!r}")


class Exec:
    """Runs a description statement by statement, creating each module on first use with
    the channels it meets. After a failure it keeps walking the statements (without
    tensors) so that the rest of the spec is checked for structure too."""

    def __init__(self, blocks: dict[str, BlockDef], x: torch.Tensor) -> None:
        self.blocks = blocks
        self.modules: list[nn.Module] = []
        self.nodes: list[Node] = []
        self.tensors: list[Any] = [x]
        self.ops: list[dict[str, Any]] = []
        self.current = 0
        self.consumed: set[int] = set()
        self.named: set[int] = set()
        # name= → (its statement, its block environment, its modules in creation order)
        self.layer_names: dict[str, tuple[Layer | Inst, dict[str, Value], list[int]]] = {}
        self.scope = Scope()
        self.failure: Failure | None = None

    # the current tensor's shape (None once failed)
    def shape(self) -> tuple[int, ...] | None:
        t = self.tensors[self.current]
        return None if t is None else tuple(t.shape[1:])

    def top(self, stmt: Stmt) -> None:
        self.run([stmt], self.scope, {}, None)

    def run(
        self,
        stmts: Sequence[Stmt],
        scope: Scope,
        env: dict[str, Value],
        reuse: Iterator[int] | None,
    ) -> None:
        for s in stmts:
            self.stmt(s, scope, env, reuse)

    def node(
        self,
        op: str,
        word: str,
        inputs: tuple[int, ...],
        arg: Any = None,
        module: int | None = None,
        make: Callable[[torch.Tensor], nn.Module] | None = None,
        shared: bool = False,
    ) -> None:
        self.consumed.update(inputs)
        out: torch.Tensor | None = None
        if self.failure is None:
            try:
                if make is not None:
                    self.modules.append(make(self.tensors[inputs[0]]).eval())
                    module = len(self.modules) - 1
                with FlopCounterMode(display=False) as counter:
                    out = apply(Node(op, word, module, inputs, arg), self.modules, self.tensors)
            except Exception as exc:  # every rejection is an answer
                self.failure = Failure(len(self.nodes) + 1, exc)
            else:
                flops = counter.get_total_flops()
                assert flops % 2 == 0
                owned = [] if module is None else list(self.modules[module].parameters())
                record: dict[str, Any] = {
                    "op": word,
                    "output": list(out.shape[1:]),
                    "params": sum(p.numel() for p in owned),
                    "macs": flops // 2,
                }
                if shared:
                    record["shared"] = True
                if op in ("split", "chunk"):
                    record["part"] = [arg[2], arg[3]]
                self.ops.append(record)
        self.nodes.append(Node(op, word, module, inputs, arg))
        self.tensors.append(out)
        self.current = len(self.nodes)

    def leave(self) -> None:
        t = self.current
        if t != 0 and t not in self.consumed and t not in self.named:
            raise StructureError(f"tensor {t} abandoned")

    def stmt(
        self, s: Stmt, scope: Scope, env: dict[str, Value], reuse: Iterator[int] | None
    ) -> None:
        if isinstance(s, Layer):
            if s.name is not None and (
                s.name in self.layer_names or reuse is not None or scope is not self.scope
            ):
                raise StructureError(f"name={s.name}")
            for _ in range(s.repeat):
                if reuse is not None:
                    self.node("layer", s.kind, (self.current,), module=next(reuse), shared=True)
                else:
                    self.node(
                        "layer",
                        s.kind,
                        (self.current,),
                        make=functools.partial(make_module, s, env),
                    )
            if s.name is not None:
                module = self.nodes[-1].module
                self.layer_names[s.name] = (s, env, [] if module is None else [module])
        elif isinstance(s, Inst):
            block = self.blocks[s.block]
            inner = self.bind(block, s, env)
            first = len(self.modules)
            for _ in range(s.repeat):
                self.run(block.body, Scope(scope), inner, reuse)
            if s.name is not None:
                if s.name in self.layer_names or s.repeat != 1 or scope is not self.scope:
                    raise StructureError(f"name={s.name}")
                self.layer_names[s.name] = (s, inner, list(range(first, len(self.modules))))
        elif isinstance(s, As):
            if s.name == "input" or s.name.upper() in env:
                raise StructureError(f"as {s.name}")
            scope.names[s.name] = self.current
            self.named.add(self.current)
        elif isinstance(s, From):
            t = self.lookup(s.name, scope, env)
            if t != self.current:
                self.leave()
            self.current = t
        elif isinstance(s, Merge):
            named = [self.lookup(n, scope, env) for n in s.names]
            operands = named if self.current in named else [self.current, *named]
            if len(operands) < 2:
                raise StructureError("merge of one tensor")
            dim = 1 if s.dim is None else s.dim
            op = "concat" if s.op == "cat" else s.op
            self.node(op, op, tuple(operands), arg=dim if op == "concat" else None)
        elif isinstance(s, Split):
            source = self.current
            dim = 1 if s.dim is None else s.dim
            parts = []
            for i, name in enumerate(s.names):
                self.node(s.op, s.op, (source,), arg=(s.sizes, dim, i, len(s.names)))
                parts.append(self.current)
                scope.names[name] = self.current
                self.named.add(self.current)
            self.current = parts[0]
        elif isinstance(s, Crop):
            self.node("crop", "crop", (self.current, self.lookup(s.name, scope, env)))
        else:
            entry = self.layer_names.get(s.name)
            if entry is None:
                raise StructureError(f"use {s.name}")
            stmt, inner, modules = entry
            # after a failure nothing runs: the modules may not exist, only the walk goes on
            reuse_of = itertools.repeat(-1) if self.failure is not None else iter(modules)
            if isinstance(stmt, Layer):
                self.node("layer", stmt.kind, (self.current,), module=next(reuse_of), shared=True)
            else:
                self.run(self.blocks[stmt.block].body, Scope(scope), inner, reuse_of)

    @staticmethod
    def lookup(name: str, scope: Scope, env: dict[str, Value]) -> int:
        """A tensor name, after the block's parameters are substituted."""
        name = str(env.get(name, name))
        return 0 if name == "input" else scope.get(name)

    def bind(self, block: BlockDef, s: Inst, env: dict[str, Value]) -> dict[str, Value]:
        names = [p for p, _ in block.params]
        bound: dict[str, Value] = {}
        for p, v in zip(names, s.pos, strict=False):
            bound[p] = subst(v, env)
        if len(s.pos) > len(names):
            raise StructureError("too many block arguments")
        for k, v in s.keys:
            if k not in names or k in bound:
                raise StructureError(f"block argument {k}")
            bound[k] = subst(v, env)
        for p, d in block.params:
            if p not in bound:
                if d is None:
                    raise StructureError(f"block {block.name} needs {p}")
                bound[p] = d
        return bound


# --------------------------------------------------------------------------- one case


def run_case(g: Graph) -> dict[str, Any]:
    """torch's answer for a finished description, computed from scratch."""
    x = torch.zeros(1, *g.input)
    ex = Exec(g.blocks, x)
    for s in g.body:
        ex.top(s)
    record: dict[str, Any] = {
        "spec": render(g),
        "input": list(g.input),
        "ops": ex.ops,
        "output": None,
        "params": None,
        "buffers": None,
        "macs": None,
        "error": None,
    }
    if ex.failure is not None:
        exc = ex.failure.exc
        record["error"] = {
            "op": ex.failure.op,
            "type": type(exc).__name__ if not isinstance(exc, HarnessError) else "ValueError",
            "message": str(exc),
            "raised_by": "harness" if isinstance(exc, HarnessError) else "torch",
        }
        assert len(ex.ops) == ex.failure.op - 1
        return record
    net = Net(ex.modules, ex.nodes, ex.current).eval()
    for i, op in enumerate(ex.ops):
        if not net.needed[i + 1]:
            op["side"] = True
    with FlopCounterMode(display=False) as counter:
        out = net(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    macs = flops // 2
    assert macs == sum(op["macs"] for op in ex.ops if not op.get("side")), record["spec"]
    assert ex.current > 0 and out.shape == ex.tensors[ex.current].shape
    record.update(
        output=list(out.shape[1:]),
        params=sum(p.numel() for p in net.parameters()),
        buffers=sum(b.numel() for b in net.buffers()),
        macs=macs,
    )
    return record
