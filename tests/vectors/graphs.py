"""Random graphs run in PyTorch: branches, merges, blocks and shared layers, with torch's answers.

Each case is drawn as ONE random description (``Graph``: block definitions plus top-level
statements of convcalc's graph language, docs/language.md). The same description is rendered
as the spec text and executed by ``Exec``, which builds the torch modules and runs them, so
the two cannot diverge. Re-run (deterministic; byte-identical output) from the repository
root::

    /path/to/venv-with-torch/bin/python tests/vectors/graphs.py

Written against torch 2.13.0 (CPU). It writes ``tests/data/torch_graphs.jsonl``, one JSON
object per line (sorted keys, compact separators)::

    {"id": "g0001", "spec": "...", "input": [C, H, W],
     "output": [...] | null, "params": int | null, "buffers": int | null, "macs": int | null,
     "ops": [{"op": "conv2d", "output": [...], "params": int, "macs": int,
              "side": true, "shared": true, "part": [i, k]}, ...],
     "error": null | {"op": int, "type": "RuntimeError", "message": "...",
                      "raised_by": "torch" | "harness"}}

  ``side``, ``shared`` and ``part`` appear only where they apply (``part``: split/chunk).
  ``op`` is the statement's keyword or layer kind as written (``cat`` is recorded as
  ``concat``; a ``use`` as the kind of the layer it applies).

* Shapes exclude the batch (torch ran batch 1 on zeros, every module in eval mode).
  ``spec`` holds no ``input`` statement: ``input`` is given beside it (C×H×W, or C×L for
  the conv1d graphs). Specs are written one statement per line (blocks indented), with
  ``; `` between statements, or with plain spaces as a shell one-liner would be.
* ``ops`` are the operations in execution order: one per layer application (each
  repetition of ``xN``, each ``use``, every layer of a block instance), one per ``add``,
  ``mul``, ``concat`` and ``crop``, and one per part of a ``split``/``chunk`` (a statement
  naming k parts is k ops, flagged ``"part": [index, k]``; PyTorch splits once).
  ``as``/``from`` are not ops. Each op's ``params`` are its module's own (for a reused module
  again at every use, flagged ``"shared"``), its ``macs`` are FlopCounterMode / 2 of that
  call alone. The flag ``"side"`` marks ops the result does not depend on (a branch named with
  ``as`` and never used: a side output; or a part of a split nobody reads): they run here
  to give their shapes, but the eval forward does not run them.
* Success: ``output``, ``params`` (``sum(p.numel() for p in model.parameters())``: a shared
  module counts once), ``buffers`` (likewise), ``macs`` (FlopCounterMode total / 2 of the
  eval-mode forward of the whole model, which skips side ops; equal to the sum of the
  non-side ops' ``macs``, asserted).
* Failure: ``error.op`` is the 1-based index, in ``ops`` numbering, of the op that raised;
  ``ops`` holds the ops before it. ``raised_by`` is ``"torch"`` when PyTorch raised (a
  module's constructor or forward, ``torch.add``/``mul``/``cat``/``split``), ``"harness"`` for
  the two rules PyTorch has no op for: ``crop`` to a target larger than the tensor (slicing
  would silently return less) and a ``split``/``chunk`` whose number of parts differs from
  the number of names (``a, b = torch.chunk(x, 3)`` is Python's unpacking error; the message
  here is the harness's own).

Semantics the executor implements (docs/language.md): ``add``/``mul``/``concat`` operands are
the listed names in order, with the current tensor first unless it is itself one of them
(the same tensor, not the same name); ``add``/``mul`` fold left with torch's broadcasting;
``concat`` is ``torch.cat(operands, dim)`` (dim counts the batch as 0); after a
``split``/``chunk`` the current tensor is the first part; ``crop NAME`` centre-crops every
dim after the channels to NAME's sizes (offset ⌊(L−T)/2⌋); a block instance runs its body
with fresh modules and a scope of its own whose reads fall through to the caller's names;
``xN`` repeats with fresh modules; ``use NAME`` applies the module(s) of the layer or block
instance given ``name=NAME`` again. The executor also enforces the language's structural
rules (names exist; a branch left behind is named or used) on every spec it writes, so no
spec here is malformed: every rejection is a shape error. Deliberate mismatches (about 30%
of cases) are residual adds with the wrong channels or size, projection shortcuts with the
wrong stride, concats of mismatched sizes, gates that do not broadcast, split sizes that do
not add up, part counts that differ from the names, crops to a larger target, a shared
layer applied to the wrong number of channels, a concat dim out of range.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SEED = 20250608
CASES = 1500
BAD_SHARE = 0.3
ROOT = Path(__file__).resolve().parents[2]
OUT_PATH = ROOT / "tests" / "data" / "torch_graphs.jsonl"

# --------------------------------------------------------------------------- the description

Value = int | bool | str | tuple[int, ...]  # str: a block parameter (or a tensor name) word


@dataclass(frozen=True)
class Layer:
    kind: str  # conv1d conv2d bn relu maxpool avgpool gap flatten linear
    pos: tuple[Value, ...] = ()
    keys: tuple[tuple[str, Value], ...] = ()
    repeat: int = 1
    name: str | None = None


@dataclass(frozen=True)
class Inst:
    block: str
    pos: tuple[Value, ...] = ()
    keys: tuple[tuple[str, Value], ...] = ()
    repeat: int = 1
    name: str | None = None


@dataclass(frozen=True)
class As:
    name: str


@dataclass(frozen=True)
class From:
    name: str


@dataclass(frozen=True)
class Merge:
    op: str  # add mul concat cat (cat: concat's alias, written as such)
    names: tuple[str, ...]
    dim: int | None = None  # concat only; None = not written (1)


@dataclass(frozen=True)
class Split:
    op: str  # split chunk
    sizes: tuple[int, ...]  # chunk: (n,)
    names: tuple[str, ...]
    dim: int | None = None


@dataclass(frozen=True)
class Crop:
    name: str


@dataclass(frozen=True)
class Use:
    name: str


Stmt = Layer | Inst | As | From | Merge | Split | Crop | Use


@dataclass(frozen=True)
class BlockDef:
    name: str
    params: tuple[tuple[str, int | None], ...]  # (PARAM, default or None)
    body: tuple[Stmt, ...]


@dataclass
class Graph:
    input: tuple[int, ...]
    blocks: dict[str, BlockDef] = field(default_factory=dict)
    body: list[Stmt] = field(default_factory=list)
    style: str = "lines"  # lines | semicolons | spaces


# --------------------------------------------------------------------------- rendering


def render_value(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return ",".join(map(str, v))
    return str(v)


def render_stmt(s: Stmt) -> str:
    words: list[str]
    if isinstance(s, Layer | Inst):
        words = [s.kind if isinstance(s, Layer) else s.block]
        words += [render_value(v) for v in s.pos]
        words += [f"{k}={render_value(v)}" for k, v in s.keys]
        if s.repeat != 1:
            words.append(f"x{s.repeat}")
        if s.name is not None:
            words.append(f"name={s.name}")
    elif isinstance(s, As):
        words = ["as", s.name]
    elif isinstance(s, From):
        words = ["from", s.name]
    elif isinstance(s, Merge):
        words = [s.op, *s.names] + ([f"dim={s.dim}"] if s.dim is not None else [])
    elif isinstance(s, Split):
        words = [s.op, render_value(s.sizes), *s.names]
        words += [f"dim={s.dim}"] if s.dim is not None else []
    elif isinstance(s, Crop):
        words = ["crop", s.name]
    else:
        words = ["use", s.name]
    return " ".join(words)


def render(g: Graph) -> str:
    sep = {"lines": "\n", "semicolons": "; ", "spaces": " "}[g.style]
    parts: list[str] = []
    for b in g.blocks.values():
        head = " ".join(["block", b.name] + [p if d is None else f"{p}={d}" for p, d in b.params])
        body = [render_stmt(s) for s in b.body]
        if g.style == "lines":
            parts.append("\n".join([head, *("  " + line for line in body), "end"]))
        else:
            parts.append(sep.join([head, *body, "end"]))
    parts += [render_stmt(s) for s in g.body]
    return sep.join(parts)


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


# --------------------------------------------------------------------------- generation

CHANNELS = (4, 8, 12, 16, 24, 32, 48, 64)


class Stop(Exception):
    """The description already fails: nothing after it needs a shape."""


def sizes_between(rng: random.Random, total: int, n: int) -> tuple[int, ...]:
    cuts = sorted(rng.sample(range(1, total), n - 1))
    return tuple(b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True))


class Gen:
    """Draws one description, running it as it grows so that choices fit the shapes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        if rng.random() < 0.2:
            shape: tuple[int, ...] = (rng.choice((1, 2, 4, 8)), rng.randint(12, 80))
        else:
            h = rng.randint(6, 36)
            w = h if rng.random() < 0.8 else rng.randint(6, 36)
            shape = (rng.choice((1, 3, 4, 8, 16)), h, w)
        style = rng.choices(("lines", "semicolons", "spaces"), (4, 4, 2))[0]
        self.g = Graph(shape, style=style)
        self.guide = Exec(self.g.blocks, torch.zeros(1, *shape))
        self.count = 0
        self.flat = False  # past the head's flatten
        self.intent: str | None = None  # the deliberate mismatch, if one was placed

    # -- helpers --------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self.guide.failure is not None

    def emit(self, *stmts: Stmt) -> None:
        for s in stmts:
            self.g.body.append(s)
            self.guide.top(s)

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def shape(self) -> tuple[int, ...]:
        s = self.guide.shape()
        if s is None:
            raise Stop
        return s

    def shape_of(self, name: str) -> tuple[int, ...]:
        t = self.guide.tensors[self.guide.scope.get(name)]
        if t is None:
            raise Stop
        return tuple(t.shape[1:])

    @property
    def conv(self) -> str:
        return "conv1d" if len(self.shape()) == 2 else "conv2d"

    def spatial(self) -> int:
        return min(self.shape()[1:])

    def define(self, block: BlockDef) -> str:
        have = self.g.blocks.setdefault(block.name, block)
        assert have == block, block.name
        return block.name

    def conv_layer(
        self, out: Value, k: Value, s: Value = 1, p: Value = 0, g: Value = 1, bias: bool = True
    ) -> Layer:
        keys: list[tuple[str, Value]] = [("k", k)]
        if s != 1 or self.rng.random() < 0.1:
            keys.append(("s", s))
        if p != 0 or self.rng.random() < 0.1:
            keys.append(("p", p))
        if g != 1:
            keys.append(("g", g))
        if not bias:
            keys.append(("bias", False))
        return Layer(self.conv, (out,), tuple(keys))

    def chan(self, avoid: int | None = None) -> int:
        return self.rng.choice([c for c in CHANNELS if c != avoid])

    # -- motifs: each returns False, having emitted nothing, when it does not fit -----

    def m_conv(self, bad: bool) -> bool:
        if bad:
            return False
        rng, m, c = self.rng, self.spatial(), self.shape()[0]
        k = rng.choice((1, 3, 3, 5))
        p = k // 2 if rng.random() < 0.75 or k > m else 0
        s = 2 if m >= 6 and rng.random() < 0.3 else 1
        out, g = self.chan(), 1
        if rng.random() < 0.2:
            common = [d for d in range(2, 65) if c % d == 0 and out % d == 0]
            if common:
                g = rng.choice(common)
        if rng.random() < 0.1 and c > 1:
            out, g = c, c  # depthwise
        layer = self.conv_layer(out, k, s, p, g, rng.random() < 0.5)
        if rng.random() < 0.15 and s == 1 and 2 * p + 1 == k and g == 1:
            layer = Layer(layer.kind, layer.pos, layer.keys, repeat=rng.randint(2, 3))
        self.emit(layer)
        if rng.random() < 0.6:
            self.emit(Layer("bn"))
        if rng.random() < 0.7:
            self.emit(Layer("relu"))
        return True

    def m_pool(self, bad: bool) -> bool:
        if bad or self.spatial() < 2:
            return False
        rng = self.rng
        keys = rng.choice(
            ((("k", 2),), (("k", 3), ("s", 2), ("p", 1)), (("k", 3), ("s", 1), ("p", 1)))
        )
        self.emit(Layer(rng.choice(("maxpool", "avgpool")), (), keys))
        return True

    def m_residual(self, bad: bool) -> bool:
        """Inline basic block, with or without a projection shortcut."""
        rng, c, m = self.rng, self.shape()[0], self.spatial()
        x, y = self.fresh(), self.fresh()
        project = rng.random() < 0.5
        out = self.chan() if project else c
        stride = 2 if project and m >= 4 and rng.random() < 0.5 else 1
        short_out, short_stride = out, stride
        if bad:
            mode = rng.choice(("channels", "stride", "proj_stride", "proj_channels"))
            if m < 3 and mode in ("stride", "proj_stride"):
                mode = "channels"
            self.intent = f"residual:{mode}"
            if mode == "channels":  # no projection, the channels change
                project, out, stride = False, self.chan(avoid=c), 1
            elif mode == "stride":  # no projection, the size halves
                project, out, stride = False, c, 2
            elif mode == "proj_stride":  # projection without the stride
                project, stride, short_stride = True, 2, 1
            else:  # projection to other channels
                project, stride, short_stride = True, 1, 1
                short_out = self.chan(avoid=out)
        bias = rng.random() < 0.3
        self.emit(As(x), self.conv_layer(out, 3, stride, 1, bias=bias), Layer("bn"), Layer("relu"))
        self.emit(self.conv_layer(out, 3, 1, 1, bias=bias), Layer("bn"))
        if project:
            self.emit(As(y), From(x), self.conv_layer(short_out, 1, short_stride, bias=bias))
            self.emit(Layer("bn"), Merge("add", (y,)))
        else:
            self.emit(Merge("add", (x,)))
        self.emit(Layer("relu"))
        return True

    def m_resblock(self, bad: bool) -> bool:
        """ResNet blocks as defined blocks, instantiated (and repeated)."""
        rng, c, m = self.rng, self.shape()[0], self.spatial()
        conv, nd = self.conv, self.conv[-2]
        kind = rng.choice(("basic", "down", "bneck"))
        if kind == "basic":
            name = self.define(
                BlockDef(
                    f"basic{nd}",
                    (("C", None),),
                    (
                        As("sc"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Merge("add", ("sc",)),
                        Layer("relu"),
                    ),
                )
            )
            if bad:
                self.intent = "block:basic_channels"
                self.emit(Inst(name, (self.chan(avoid=c),)))
            else:
                self.emit(Inst(name, (c,), repeat=rng.choice((1, 1, 2, 3))))
            return True
        if kind == "down":
            if bad and m < 3:
                return False
            # S: the main path's stride, T: the shortcut's (normally equal)
            name = self.define(
                BlockDef(
                    f"down{nd}",
                    (("C", None), ("S", 2), ("T", 2)),
                    (
                        As("sc"),
                        Layer(conv, ("C",), (("k", 3), ("s", "S"), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        As("mn"),
                        From("sc"),
                        Layer(conv, ("C",), (("k", 1), ("s", "T"), ("bias", False))),
                        Layer("bn"),
                        Merge("add", ("mn",)),
                        Layer("relu"),
                    ),
                )
            )
            if bad:
                self.intent = "block:down_strides"
                if rng.random() < 0.5:
                    self.emit(Inst(name, (self.chan(),), (("T", 1),)))
                else:
                    self.emit(Inst(name, (self.chan(), 1, 2)))
            elif m >= 2 and rng.random() < 0.7:
                self.emit(Inst(name, (self.chan(),)))
            else:
                self.emit(Inst(name, (self.chan(),), (("S", 1), ("T", 1))))
            return True
        if bad:
            return False
        name = self.define(
            BlockDef(
                f"bneck{nd}",
                (("C", None), ("M", None), ("S", 1)),
                (
                    As("sc"),
                    Layer(conv, ("M",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("M",), (("k", 3), ("s", "S"), ("p", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("C",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    As("mn"),
                    From("sc"),
                    Layer(conv, ("C",), (("k", 1), ("s", "S"), ("bias", False))),
                    Layer("bn"),
                    Merge("add", ("mn",)),
                    Layer("relu"),
                ),
            )
        )
        if m >= 2 and rng.random() < 0.5:
            self.emit(Inst(name, (self.chan(), self.chan()), (("S", 2),)))
        else:
            self.emit(Inst(name, (self.chan(), self.chan())))
        return True

    def m_inception(self, bad: bool) -> bool:
        """Parallel branches from one tensor, concatenated (Inception)."""
        rng, m = self.rng, self.spatial()
        x = self.fresh()
        nb = rng.randint(2, 4)
        wrong = rng.randrange(nb) if bad else -1
        if bad:
            self.intent = "concat:spatial"
        self.emit(As(x))
        branches = []
        for i in range(nb):
            if i:
                self.emit(From(x))
            if i == wrong:  # a branch that changes the spatial size
                if m >= 3 and rng.random() < 0.5:
                    self.emit(self.conv_layer(self.chan(), 3, 2, 1))
                else:
                    self.emit(self.conv_layer(self.chan(), 3, 1, 0 if m >= 3 else 2))
            else:
                form = rng.randrange(3)
                if form == 0:
                    self.emit(self.conv_layer(self.chan(), 1))
                elif form == 1:
                    k = rng.choice((3, 5))
                    self.emit(self.conv_layer(self.chan(), 1), Layer("relu"))
                    self.emit(self.conv_layer(self.chan(), k, 1, k // 2))
                else:
                    pool = rng.choice(("maxpool", "avgpool"))
                    self.emit(Layer(pool, (), (("k", 3), ("s", 1), ("p", 1))))
                    self.emit(self.conv_layer(self.chan(), 1))
            branches.append(self.fresh())
            self.emit(As(branches[-1]))
        # either the current tensor is listed (cat(branches)) or it goes first
        names = tuple(branches) if rng.random() < 0.5 else tuple(branches[:-1])
        self.emit(Merge(rng.choice(("concat", "concat", "cat")), names))
        return True

    def m_dense(self, bad: bool) -> bool:
        """DenseNet layers: each concatenates its new features to its input."""
        if bad:
            return False
        rng, conv = self.rng, self.conv
        name = self.define(
            BlockDef(
                f"dlayer{conv[-2]}",
                (("G", None), ("B", None)),
                (
                    As("d0"),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("B",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("G",), (("k", 3), ("p", 1), ("bias", False))),
                    As("d1"),
                    Merge("concat", ("d0", "d1")),
                ),
            )
        )
        g = rng.choice((4, 8, 12))
        self.emit(Inst(name, (g, 4 * g), repeat=rng.randint(1, 3)))
        return True

    def m_gate(self, bad: bool) -> bool:
        """SE gate (C,H,W)*(C,1,1), spatial gate (C,H,W)*(1,H,W), or both."""
        rng, c = self.rng, self.shape()[0]
        form = rng.randrange(4)
        if form == 0:  # SE as a block
            conv = self.conv
            name = self.define(
                BlockDef(
                    f"se{conv[-2]}",
                    (("C", None), ("R", None)),
                    (
                        As("u"),
                        Layer("gap"),
                        Layer(conv, ("R",), (("k", 1),)),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 1),)),
                        Merge("mul", ("u",)),
                    ),
                )
            )
            r = max(1, c // 4)
            if bad:
                self.intent = "gate:channels"
                self.emit(Inst(name, (self.chan(avoid=c), r)))
            else:
                self.emit(Inst(name, (c,), (("R", r),)))
            return True
        x = self.fresh()
        self.emit(As(x))
        if form == 1:  # inline SE
            out = rng.choice((c, c, c, 1))
            if bad:
                out = self.chan(avoid=c)
                self.intent = "gate:channels"
            self.emit(Layer("gap"), self.conv_layer(max(1, c // 2), 1), Layer("relu"))
            self.emit(self.conv_layer(out, 1), Merge("mul", (x,)))
        elif form == 2:  # spatial gate
            if bad:
                self.intent = "gate:spatial"
                self.emit(self.conv_layer(1, 3, 1, 0 if self.spatial() >= 3 else 2))
            else:
                k = rng.choice((1, 3, 7))
                self.emit(self.conv_layer(1, k, 1, k // 2))
            self.emit(Merge("mul", (x,)))
        else:  # channel gate times spatial gate, times x (CBAM-like)
            y = self.fresh()
            self.emit(Layer("gap"), self.conv_layer(c, 1), As(y), From(x))
            if bad:
                self.intent = "gate:channels"
                self.emit(self.conv_layer(self.chan(avoid=c), 1))
            else:
                self.emit(self.conv_layer(1, 1))
            self.emit(Merge("mul", (y,)), Merge("mul", (x,)))
        return True

    def m_shuffle(self, bad: bool) -> bool:
        """ShuffleNet v2 unit: split the channels, transform one half, concatenate."""
        rng, c = self.rng, self.shape()[0]
        if c < 2:
            return False
        a, b, br = self.fresh(), self.fresh(), self.fresh()
        if bad:
            mode = rng.choice(("sum", "count", "count"))
            self.intent = f"split:{mode}"
            if mode == "sum":
                s1 = rng.randint(1, c)
                s2 = rng.choice([v for v in range(1, c + 3) if v != c - s1])
                self.emit(Split("split", (s1, s2), (a, b)))
            else:  # as many names as chunks asked for, but torch.chunk makes another number
                n = rng.randint(2, 5)
                made = len(torch.chunk(torch.zeros(c), n))
                count = made + rng.choice((-1, 1)) if made > 1 else made + 1
                self.emit(Split("chunk", (n,), tuple(self.fresh() for _ in range(count))))
                return True
        elif c % 2 == 0 and rng.random() < 0.6:
            self.emit(Split("chunk", (2,), (a, b)))
        else:
            self.emit(Split("split", sizes_between(rng, c, 2), (a, b)))
        self.emit(From(b))
        w = self.shape()[0]
        self.emit(self.conv_layer(w, 1, bias=False), Layer("bn"), Layer("relu"))
        self.emit(self.conv_layer(w, 3, 1, 1, g=w, bias=False), Layer("bn"))
        self.emit(self.conv_layer(w, 1, bias=False), Layer("relu"), As(br))
        if rng.random() < 0.5:
            self.emit(Merge("concat", (a, br)))
        else:
            self.emit(From(a), Merge("concat", (br,)))
        return True

    def m_split_many(self, bad: bool) -> bool:
        """split/chunk into 2-4 parts along the channels or a spatial dim; some parts are
        left unused, the others concatenated back along the same dim."""
        rng, shape = self.rng, self.shape()
        dim = 1 if rng.random() < 0.6 else rng.randrange(2, len(shape) + 1)
        size = shape[dim - 1]
        if bad or size < 3:
            return False
        n = rng.randint(2, min(4, size))
        written = None if dim == 1 else dim
        if rng.random() < 0.5:
            made = len(torch.chunk(torch.zeros(size), n))
            names = tuple(self.fresh() for _ in range(made))
            self.emit(Split("chunk", (n,), names, written))
        else:
            names = tuple(self.fresh() for _ in range(n))
            self.emit(Split("split", sizes_between(rng, size, n), names, written))
        keep = [nm for nm in names if rng.random() < 0.7] or [names[0]]
        self.emit(From(keep[0]))
        if len(keep) > 1:
            cat_dim = -1 if dim == len(shape) and rng.random() < 0.5 else written
            self.emit(Merge("concat", tuple(keep), cat_dim))
        return True

    def m_crop(self, bad: bool) -> bool:
        """U-Net crop-and-concat: the skip is cropped to the (smaller) decoder tensor."""
        rng, m = self.rng, self.spatial()
        e, d = self.fresh(), self.fresh()
        if bad:  # the "decoder" tensor grew: cropping the skip to it is impossible
            self.intent = "crop:larger"
            self.emit(As(e), self.conv_layer(self.chan(), 3, 1, 2), Layer("relu"), As(d))
            self.emit(From(e), Crop(d), Merge("concat", (d,)))
            return True
        if m < 5:
            return False
        if rng.random() < 0.4:  # as a block taking the skip's name as a parameter
            conv = self.conv
            name = self.define(
                BlockDef(
                    f"updec{conv[-2]}",
                    (("SKIP", None), ("C", None)),
                    (
                        Layer(conv, ("C",), (("k", 3),)),
                        Layer("relu"),
                        As("up"),
                        From("SKIP"),
                        Crop("up"),
                        Merge("concat", ("up",)),
                    ),
                )
            )
            self.emit(As(e), Inst(name, (e, self.chan())))
            return True
        self.emit(As(e), self.conv_layer(self.chan(), 3), Layer("relu"))
        if rng.random() < 0.5 and m >= 7:
            self.emit(self.conv_layer(self.chan(), 3), Layer("relu"))
        self.emit(As(d), From(e), Crop(d))
        if rng.random() < 0.5:
            self.emit(Merge("concat", (d,)))  # cat([crop(e), d])
        else:
            cropped = self.fresh()
            self.emit(As(cropped), From(d), Merge("concat", (cropped,)))  # cat([d, crop(e)])
        return True

    def m_shared(self, bad: bool) -> bool:
        """A layer (or block instance) named and applied again with the same weights."""
        rng, c, conv = self.rng, self.shape()[0], self.conv
        self.count += 1
        name = f"sh{self.count}"
        if bad:  # the shared conv maps c -> out, then meets out channels
            self.intent = "shared:channels"
            out = self.chan(avoid=c)
            self.emit(Layer(conv, (out,), (("k", 3), ("p", 1)), name=name))
            self.emit(Layer("relu"), Use(name))
            return True
        form = rng.randrange(4)
        if form == 0:  # a block instance used again
            block = self.define(
                BlockDef(
                    f"unit{conv[-2]}",
                    (("C", None),),
                    (
                        As("pa"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1))),
                        Layer("relu"),
                        Merge("add", ("pa",)),
                    ),
                )
            )
            self.emit(Inst(block, (c,), name=name), Layer("relu"), Use(name))
        elif form == 1:  # recursive: the same conv again and again
            self.emit(Layer(conv, (c,), (("k", 3), ("p", 1)), name=name), Layer("relu"))
            for _ in range(rng.randint(1, 2)):
                self.emit(Use(name), Layer("relu"))
        else:  # siamese: the same conv on two branches, then merged
            x, y = self.fresh(), self.fresh()
            pool = rng.choice(("maxpool", "avgpool"))
            self.emit(As(x), Layer(pool, (), (("k", 3), ("s", 1), ("p", 1))))
            self.emit(Layer(conv, (self.chan(),), (("k", 3), ("p", 1)), name=name), As(y))
            self.emit(From(x), Use(name), Merge(rng.choice(("add", "mul", "concat")), (y,)))
        return True

    def m_side(self, bad: bool) -> bool:
        """A side output (an auxiliary head): named, never used."""
        if bad or self.guide.current == 0:  # a network is more than its side outputs
            return False
        rng = self.rng
        s, aux = self.fresh(), self.fresh()
        self.emit(As(s))
        if rng.random() < 0.2:
            self.emit(From("input"))  # a head on the network's input
        if rng.random() < 0.5:
            self.emit(self.conv_layer(self.chan(), 1), Layer("relu"))
        self.emit(Layer("gap"), Layer("flatten"), Layer("linear", (rng.choice((10, 100)),)))
        self.emit(As(aux), From(s))
        return True

    def m_cat_spatial(self, bad: bool) -> bool:
        """concat along a spatial dim (2, 3 or -1)."""
        rng, shape = self.rng, self.shape()
        c = shape[0]
        x = self.fresh()
        dim = rng.choice([*range(2, len(shape) + 1), -1])
        if bad and rng.random() < 0.3:
            self.intent = "concat:dim_range"
            self.emit(As(x), Layer("relu"), Merge("concat", (x,), len(shape) + 1))
        elif bad:
            self.intent = "concat:channels"
            self.emit(As(x), self.conv_layer(self.chan(avoid=c), 3, 1, 1))
            self.emit(Merge("concat", (x,), dim))
        else:
            self.emit(As(x), self.conv_layer(c, 3, 1, 1), Merge("concat", (x,), dim))
        return True

    def m_add3(self, bad: bool) -> bool:
        """An add or mul of three tensors (the current one first)."""
        rng, c = self.rng, self.shape()[0]
        x, a, b = self.fresh(), self.fresh(), self.fresh()
        self.emit(As(x), self.conv_layer(c, 3, 1, 1), As(a), From(x))
        if bad:
            self.intent = "add:channels"
            self.emit(self.conv_layer(self.chan(avoid=c), 1))
        else:
            self.emit(self.conv_layer(rng.choice((c, c, 1)), 1))
        self.emit(As(b), From(x), Merge(rng.choice(("add", "mul")), (a, b)))
        return True

    # -- the flat part, after flatten -------------------------------------------

    def m_head(self) -> None:
        rng = self.rng
        self.flat = True
        self.emit(Layer("gap"), Layer("flatten"), Layer("linear", (rng.choice((16, 32, 64)),)))
        if rng.random() < 0.3:
            self.emit(Layer("bn"))
        self.emit(Layer("relu"))

    def f_motif(self, bad: bool) -> bool:
        rng, f = self.rng, self.shape()[0]
        form = rng.randrange(4)
        if bad and form in (1, 2):
            return False
        h, q = self.fresh(), self.fresh()
        if form == 0:  # residual MLP
            out = f
            if bad:
                out = self.chan(avoid=f)
                self.intent = "flat:add"
            self.emit(As(h), Layer("linear", (f,)), Layer("relu"), Layer("linear", (out,)))
            self.emit(Merge("add", (h,)))
        elif form == 1:  # tied (shared) linear
            self.count += 1
            name = f"sh{self.count}"
            self.emit(Layer("linear", (f,), (("bias", False),), name=name), Layer("relu"))
            self.emit(Use(name))
        elif form == 2:  # two heads concatenated
            self.emit(As(h), Layer("linear", (self.chan(),)), As(q), From(h))
            self.emit(Layer("linear", (self.chan(),)), Merge("concat", (q,)))
        else:  # the features split in two
            if f < 2:
                return False
            a, b = self.fresh(), self.fresh()
            if bad:
                self.intent = "split:sum"
                self.emit(Split("split", (f // 2, f // 2 + 1), (a, b)))
            else:
                self.emit(Split("split", (f // 2, f - f // 2), (a, b), rng.choice((None, -1))))
            self.emit(Layer("linear", (self.chan(),)), As(q), From(b))
            self.emit(Layer("linear", (self.chan(),)), Merge("concat", (q,)))
        return True

    MOTIFS: tuple[tuple[str, int], ...] = (
        ("m_conv", 6),
        ("m_pool", 2),
        ("m_residual", 3),
        ("m_resblock", 3),
        ("m_inception", 2),
        ("m_dense", 2),
        ("m_gate", 2),
        ("m_shuffle", 2),
        ("m_split_many", 1),
        ("m_crop", 2),
        ("m_shared", 2),
        ("m_side", 1),
        ("m_cat_spatial", 1),
        ("m_add3", 1),
    )

    def motif(self, bad: bool) -> None:
        names = [m for m, _ in self.MOTIFS]
        weights = [w for _, w in self.MOTIFS]
        for _ in range(100):
            if getattr(self, self.rng.choices(names, weights)[0])(bad):
                return
        raise AssertionError("no motif fits")

    def draw(self) -> Graph:
        rng = self.rng
        bad = rng.random() < BAD_SHARE
        n = rng.randint(1, 4)
        head = rng.random() < 0.6
        bad_at = rng.randrange(n + head) if bad else -1
        try:
            for i in range(n):
                self.motif(i == bad_at)
            if head:
                self.m_head()
                for _ in range(rng.randint(0, 2)):
                    while not self.f_motif(False):
                        pass
                if bad_at == n:
                    while not self.f_motif(True):
                        pass
                if rng.random() < 0.8:
                    self.emit(Layer("linear", (rng.choice((2, 10)),)))
        except Stop:
            pass
        if self.failed and rng.random() < 0.5:
            # statements after the failure: convcalc must still stop at the first one
            if not self.flat:
                self.emit(Layer("relu"), Layer("gap"), Layer("flatten"))
            self.emit(Layer("relu"), Layer("linear", (10,)))
        return self.g


# --------------------------------------------------------------------------- main


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    torch.manual_seed(SEED)
    torch.set_grad_enabled(False)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    stats: Counter[str] = Counter()
    seen: set[tuple[str, tuple[int, ...]]] = set()
    draw = 0
    while len(rows) < CASES:
        gen = Gen(random.Random(SEED * 100_000 + draw))
        draw += 1
        g = gen.draw()
        spec = render(g)
        if (spec, g.input) in seen:
            continue
        seen.add((spec, g.input))
        record = run_case(g)  # from scratch: the guide's run only steered the choices
        assert (record["error"] is None) == (not gen.failed), spec
        record["id"] = f"g{len(rows) + 1:04d}"
        rows.append(record)
        error = record["error"]
        if error:
            stats[f"error ({error['raised_by']}) {gen.intent or 'unplanned'}"] += 1
        else:
            stats["ok" if gen.intent is None else f"ok despite {gen.intent}"] += 1
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n")
    for key, n in sorted(stats.items()):
        print(f"{n:6d}  {key}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    print(f"{len(rows)} graphs -> {OUT_PATH.relative_to(ROOT)} in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
