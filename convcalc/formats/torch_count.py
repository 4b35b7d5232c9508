"""The parameters and buffers of any ``print(model)``, whether or not convcalc knows the
order its modules run in.

A PyTorch module's parameters and buffers are fixed by its constructor, and a print shows
every leaf module's constructor arguments: each known leaf is counted by its kind (bound
from its repr as a PyTorch call, and run on an input it accepts — any input it accepts
gives the same figures). Containers add up their children, with the parameters some of
torchvision's blocks hold without showing them (``_HIDDEN``: MultiheadAttention's input
projection, ViT's class token and position embedding — whose size follows the input —,
ConvNeXt's layer scale, Swin's and MaxViT's relative-position tables). A leaf convcalc
does not know is named, and the count excludes it; a container whose forward convcalc
does not know (neither a Sequential, ModuleList or ModuleDict nor one of torchvision's
blocks that convcalc maps to a graph) is named as not placed in a forward order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from convcalc.errors import ConvcalcError, LayerError
from convcalc.formats.torch_print import ORDERED, parse_modules
from convcalc.formats.torch_tree import Module
from convcalc.formats.torch_windows import (
    HEAD_DIM,
    MAXVIT_PARTITION,
    SWIN3D_WINDOW,
    SWIN_V2_WINDOW,
    SWIN_WINDOW,
)

__all__ = ["Count", "Counted", "count_print", "render_count"]

# Containers whose forward runs their children in order (ModuleDict: in print order).
PLACED = (*ORDERED, "ModuleDict")

# Subclasses that count as their PyTorch base (MultiheadAttention's out_proj).
_SAME_AS = {"NonDynamicallyQuantizableLinear": "Linear"}

# torchvision's parameter-free helper modules whose print leaves out their arguments
# (torchvision.ops.misc.Permute's dims, MaxViT's partition ops): nothing to count.
_EMPTY = frozenset({"Permute", "WindowPartition", "WindowDepartition", "SwapAxes"})

_INT = re.compile(r"(?<![\w.])\d+(?![\w.])")


class Counted(NamedTuple):
    """One module's figures: ``path`` as the print names it (``features.0``)."""

    path: str
    cls: str
    params: int
    buffers: int


class Count(NamedTuple):
    """A print's parameters and buffers (see the module's docstring). ``modules``: the
    top-level module's children; ``unplaced``: (class, first path) of the containers whose
    forward convcalc does not know; ``unknown``: (class, path) of the leaves it does not
    know, which the figures exclude; ``notes``: what the count assumed of blocks that do
    not print all their parameters."""

    params: int
    buffers: int
    modules: tuple[Counted, ...]
    unplaced: tuple[tuple[str, str], ...]
    unknown: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every leaf known: the figures are the model's."""
        return not self.unknown

    def warnings(self) -> list[str]:
        """What the count could not do, one line each."""
        out = []
        if self.unplaced:
            names = ", ".join(f"{cls} ({path or 'the model'})" for cls, path in self.unplaced)
            out.append(
                f"convcalc does not know the forward order of {names}: parameters and buffers "
                "only (--assume-sequential runs every container's children in print order)"
            )
        if self.unknown:
            names = ", ".join(f"{cls} ({path})" for cls, path in self.unknown)
            out.append(f"unknown module {names}: the counts exclude its parameters and buffers")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "buffers": self.buffers,
            "complete": self.complete,
            "modules": [m._asdict() for m in self.modules],
            "unplaced": [{"class": c, "path": p} for c, p in self.unplaced],
            "unknown": [{"class": c, "path": p} for c, p in self.unknown],
            "notes": list(self.notes),
        }


def _name(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


# Whether a container (in a parent of that class) has a forward convcalc knows.
_Placed = Callable[[Module, str], bool]


class _Counter:
    def __init__(self, shape: tuple[int, ...] | None, placed: _Placed) -> None:
        self.shape = shape
        self.placed = placed
        self.leaves: dict[str, tuple[int, int] | None] = {}
        self.unplaced: dict[str, str] = {}
        self.unknown: list[tuple[str, str]] = []
        self.notes: dict[str, None] = {}
        self.rows: list[Counted] = []

    def leaf(self, cls: str, text: str) -> tuple[int, int] | None:
        """A leaf's parameters and buffers from its repr; None: not a kind convcalc knows."""
        if cls in _EMPTY:
            return 0, 0
        if text not in self.leaves:
            self.leaves[text] = _leaf_figures(_SAME_AS.get(cls, cls) + text[len(cls) :])
        return self.leaves[text]

    def module(
        self, module: Module, path: str, depth: int = 0, parent: str = ""
    ) -> tuple[int, int]:
        p, b = self.figures(module, path, depth, parent)
        if depth == 1 or (depth == 0 and module.text):
            self.rows.append(Counted(path, _name(module.cls), p, b))
        return p, b

    def figures(self, module: Module, path: str, depth: int, parent: str) -> tuple[int, int]:
        cls = _name(module.cls)
        if module.text:
            if cls in PLACED and module.text.endswith("()"):
                return 0, 0
            figures = self.leaf(cls, module.text)
            if figures is None:
                self.unknown.append((cls, path))
                return 0, 0
            return figures[0] * module.repeat, figures[1] * module.repeat
        params = buffers = 0
        for child in module.children:
            p, b = self.module(child, _join(path, child.name), depth + 1, cls)
            params += p
            buffers += b
        hidden = _HIDDEN.get(cls)
        if hidden is not None:
            p, b = hidden(self, module)
            params += p
            buffers += b
        if cls not in PLACED and not self.placed(module, parent):
            self.unplaced.setdefault(cls, path)
        return params * module.repeat, buffers * module.repeat

    # -- what torchvision's blocks hold without printing it ---------------------------

    def first_ints(self, module: Module, cls: str) -> list[int]:
        """The integers of the first leaf of class ``cls`` under ``module``, in order."""
        for child in module.children:
            if child.text and _name(child.cls) == cls:
                return [int(n) for n in _INT.findall(child.text)]
            found = self.first_ints(child, cls)
            if found:
                return found
        return []

    def child(self, module: Module, name: str) -> Module | None:
        return next((c for c in module.children if c.name == name), None)

    def note(self, text: str) -> None:
        self.notes[text] = None


def _leaf_figures(text: str) -> tuple[int, int] | None:
    from convcalc.kinds.binding import bind
    from convcalc.kinds.frameworks import TORCH
    from convcalc.language.parse import LayerStmt, parse

    try:
        program = parse(text, TORCH.kinds, calls=TORCH.classes)
        (stmt,) = program.statements
        assert isinstance(stmt, LayerStmt)
        layer = bind(stmt, text, TORCH.registry)
    except (ConvcalcError, ValueError, AssertionError):
        return None
    out = _accepted(layer, text)
    if out is None or out.params is None or out.buffers is None:
        return None
    return out.params, out.buffers


def _accepted(layer: Any, text: str) -> Any:
    """The layer run on the first of a few inputs it accepts: its channel or feature
    count is one of the integers of its repr."""
    ints = list(dict.fromkeys(int(n) for n in _INT.findall(text)))[:4]
    side = 2 * max([*ints, 0]) + 64
    for rank in range(4):
        for n in [*ints, 1]:
            if n < 1:
                continue
            try:
                return layer.infer((n, *[side] * rank))
            except (ConvcalcError, LayerError):
                continue
    return None


def _mha(counter: _Counter, module: Module) -> tuple[int, int]:
    """MultiheadAttention's in_proj_weight (3E×E) and in_proj_bias (3E, with out_proj's
    bias), as torchvision builds it (kdim = vdim = embed_dim)."""
    ints = counter.first_ints(module, "NonDynamicallyQuantizableLinear") or counter.first_ints(
        module, "Linear"
    )
    if not ints:
        return 0, 0
    out_proj = counter.child(module, "out_proj")
    bias = out_proj is None or "bias=False" not in out_proj.text
    embed = ints[0]
    counter.note(
        "MultiheadAttention: in_proj_weight and in_proj_bias of embed_dim = kdim = vdim, "
        "as its out_proj shows"
    )
    return 3 * embed * embed + (3 * embed if bias else 0), 0


def _vit(counter: _Counter, module: Module) -> tuple[int, int]:
    """VisionTransformer's class_token (hidden) and its Encoder's pos_embedding
    ((patches + 1) × hidden): the patch count follows the input size."""
    conv = counter.child(module, "conv_proj")
    if conv is None or not conv.text:
        return 0, 0
    from convcalc.kinds.binding import bind
    from convcalc.kinds.frameworks import TORCH
    from convcalc.language.parse import LayerStmt, parse

    ints = [int(n) for n in _INT.findall(conv.text)]
    hidden = ints[1]
    if counter.shape is None:
        counter.note(
            "VisionTransformer: its Encoder's pos_embedding follows the input size: "
            "give -i to count it"
        )
        return hidden, 0
    try:
        (stmt,) = parse(conv.text, TORCH.kinds, calls=TORCH.classes).statements
        assert isinstance(stmt, LayerStmt)
        out = bind(stmt, conv.text, TORCH.registry).infer(counter.shape)
    except (ConvcalcError, LayerError):
        return hidden, 0
    patches = 1
    for size in out.shape[1:]:
        if size is None:
            return hidden, 0
        patches *= size
    counter.note(
        "VisionTransformer: class_token and pos_embedding ((patches + 1) x hidden) at the "
        "input size -i"
    )
    return hidden + (patches + 1) * hidden, 0


def _layer_scale(counter: _Counter, module: Module) -> tuple[int, int]:
    """ConvNeXt's CNBlock: layer_scale (dim×1×1), dim = its depthwise convolution's."""
    ints = counter.first_ints(module, "Conv2d")
    return (ints[0], 0) if ints else (0, 0)


def _swin(window: tuple[int, ...]) -> Callable[[_Counter, Module], tuple[int, int]]:
    """ShiftedWindowAttention (and Video Swin's ...3d): relative_position_bias_table
    (∏(2W-1) × heads) and its relative_position_index buffer ((∏W)²)."""

    def hidden(counter: _Counter, module: Module) -> tuple[int, int]:
        ints = counter.first_ints(module, "Linear")
        if not ints:
            return 0, 0
        heads = ints[0] // HEAD_DIM
        table = tokens = 1
        for w in window:
            table *= 2 * w - 1
            tokens *= w
        size = "x".join(map(str, window))
        counter.note(f"{_name(module.cls)}: windows of {size}, heads of {HEAD_DIM} channels")
        return table * heads, tokens**2

    return hidden


def _swin_v2(counter: _Counter, module: Module) -> tuple[int, int]:
    """ShiftedWindowAttentionV2: logit_scale (heads, from cpb_mlp's last Linear), and the
    relative_coords_table ((2W-1)²×2) and relative_position_index (W⁴) buffers."""
    cpb = counter.child(module, "cpb_mlp")
    linears = [c for c in (cpb.children if cpb else ()) if _name(c.cls) == "Linear"]
    if not linears:
        return 0, 0
    heads = [int(n) for n in _INT.findall(linears[-1].text)][1]
    w = SWIN_V2_WINDOW[0]
    counter.note(f"ShiftedWindowAttentionV2: windows of {w}x{w}")
    return heads, (2 * w - 1) ** 2 * 2 + w**4


def _maxvit(counter: _Counter, module: Module) -> tuple[int, int]:
    """MaxViT's RelativePositionalMultiHeadAttention: relative_position_bias_table
    ((2P-1)² × heads) and its relative_position_index buffer (P²×P²)."""
    ints = counter.first_ints(module, "Linear")
    if not ints:
        return 0, 0
    p, heads = MAXVIT_PARTITION, ints[0] // HEAD_DIM
    counter.note(
        f"RelativePositionalMultiHeadAttention: partitions of {p}x{p}, heads of {HEAD_DIM} channels"
    )
    return (2 * p - 1) ** 2 * heads, p**4


_HIDDEN: dict[str, Callable[[_Counter, Module], tuple[int, int]]] = {
    "MultiheadAttention": _mha,
    "VisionTransformer": _vit,
    "CNBlock": _layer_scale,
    "ShiftedWindowAttention": _swin(SWIN_WINDOW),
    "ShiftedWindowAttention3d": _swin(SWIN3D_WINDOW),
    "ShiftedWindowAttentionV2": _swin_v2,
    "RelativePositionalMultiHeadAttention": _maxvit,
}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def count_print(
    source: str,
    input_shape: Sequence[int] | None = None,
    *,
    placed: _Placed = lambda module, parent: False,
) -> Count:
    """The parameters and buffers of a model's print (see the module's docstring);
    ``input_shape`` (without the batch) sizes what follows the input (ViT's position
    embedding); ``placed(module, parent class)`` says which other containers have a known forward.
    Raises SpecError for text that is not a print."""
    modules = parse_modules(source)
    counter = _Counter(None if input_shape is None else tuple(input_shape), placed)
    params = buffers = 0
    for top in modules:
        p, b = counter.module(top, "")
        params += p
        buffers += b
    return Count(
        params,
        buffers,
        tuple(counter.rows),
        tuple(counter.unplaced.items()),
        tuple(dict.fromkeys(counter.unknown)),
        tuple(counter.notes),
    )


def render_count(count: Count) -> str:
    """The count as plain text: the top-level modules, then the totals."""
    rows = [(m.path or "(model)", m.cls, f"{m.params:,}", f"{m.buffers:,}") for m in count.modules]
    head = ("module", "class", "params", "buffers")
    total = ("total", "" if count.complete else "(excluding unknown modules)")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = []
    for row in [head, *rows]:
        lines.append(
            f"{row[0]:<{widths[0]}}   {row[1]:<{widths[1]}}   "
            f"{row[2]:>{widths[2]}}   {row[3]:>{widths[3]}}".rstrip()
        )
    lines.append("")
    lines.append(f"params   {count.params:>15,}   {total[1]}".rstrip())
    lines.append(f"buffers  {count.buffers:>15,}")
    lines += [f"note: {n}" for n in count.notes]
    return "\n".join(lines) + "\n"
