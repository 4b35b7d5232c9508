"""The random graphs' description (block definitions and statements of convcalc's
graph language) and its rendering as spec text: tests/vectors/graphs.py draws it
(graph_gen.py) and runs it in torch (graph_exec.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
