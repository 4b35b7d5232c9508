"""Reading what ``print(model)`` shows in PyTorch: nested ``nn.Sequential`` and
``nn.ModuleList`` containers (numbered or named children, ``(0-2): 3 x …`` runs of
identical ones) around one-line module reprs, as pasted from a REPL or a notebook.

The print becomes spec text: every leaf is its repr, a PyTorch call (spec.py), and every
nested container a block named after its class and path, its instance labelled with the
path, so that the table has a subtotal row per container (``features: Sequential``)
and ``--depth`` folds them. Errors are reported at the print's own
lines and columns (:meth:`Reading.locate`).

A print shows a module's arguments as its ``extra_repr`` does, and some leave arguments
out (AvgPool2d its ceil_mode, count_include_pad and divisor_override; Upsample its
align_corners): those are read at PyTorch's defaults, as the print states them.

Only Sequential and ModuleList say in what order their children run. Any other container
(``Net(…)``) prints its children but not its ``forward``, which may skip, reorder or
combine them (VGG flattens between ``avgpool`` and ``classifier``). torchvision's classes
are known (formats/torch_blocks.py: their forwards as graph steps); any other is an
error, unless ``assume_sequential`` says to run its children in print order — which the
reading then records (``assumed``) for the output to state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from convcalc.errors import ConvcalcError, ShapeError, SpecError
from convcalc.formats.torch_blocks import READ_BY_PARENT, forward_of
from convcalc.formats.torch_tree import Context, Forward, Module
from convcalc.language import KEYWORDS

if TYPE_CHECKING:
    from convcalc.network.analysis import Analysis

__all__ = ["Module", "Reading", "analyze_print", "parse_modules", "read_print"]

ORDERED = ("Sequential", "ModuleList")
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")

# A module line: [(name): ][N x ]Class(… — the name may be a range (0-2) of repeats.
_LINE = re.compile(
    r"(?P<head>\((?P<name>[^()\s]*)\):\s*)?(?:(?P<count>\d+) x )?"
    r"(?P<cls>[A-Za-z_][\w.]*)\((?P<rest>.*)$"
)
# Kinds convcalc models whose print lists submodules instead of their arguments.
_UNREADABLE = {
    "MultiheadAttention": "num_heads, add_bias_kv and add_zero_attn",
    "TransformerEncoderLayer": "nhead, norm_first and activation",
}
_EXAMPLE = {
    "MultiheadAttention": "MultiheadAttention(512, 8, batch_first=True)",
    "TransformerEncoderLayer": "TransformerEncoderLayer(512, 8, batch_first=True)",
}


# A REPL's or notebook's prompt before a line: '>>> ', '... ', 'Out[3]: '.
_PROMPT = re.compile(r"\s*(?:(?:>>>|\.\.\.)(?: |$)|(?:In|Out) ?\[\d*\]: ?)\s*")


# A statement of the spec: its text, and the offset and length of the print's text it
# stands for (a leaf's repr, a container's class name).
_Stmt = tuple[str, int | None, int]


class Reading(NamedTuple):
    """A print read as spec text. ``pieces`` map offsets of ``spec`` back into ``source``
    (spec start, print start, length); ``assumed`` lists the container classes read in
    print order (``assume_sequential``)."""

    source: str
    spec: str
    pieces: tuple[tuple[int, int, int], ...]
    assumed: tuple[str, ...]
    layers: int  # the layers the print holds (repeats counted)

    def locate(self, exc: ConvcalcError) -> ConvcalcError:
        """``exc`` (raised on ``spec``) pointing into the print instead."""
        if not isinstance(exc, (SpecError, ShapeError)) or not exc.source.startswith(self.spec):
            return exc
        if exc.start is not None and exc.start >= len(self.spec):
            return exc  # in layer words after the print
        start = self._map(exc.start)
        end = None if exc.end is None or start is None else start + (exc.end - exc.start)  # type: ignore[operator]
        if isinstance(exc, SpecError):
            return SpecError(
                exc.message, source=self.source, start=start, end=end, filename=exc.filename
            )
        return exc.moved(self.source, start, end, exc.filename)

    def _map(self, offset: int | None) -> int | None:
        if offset is None:
            return None
        for spec_start, source_start, length in self.pieces:
            if spec_start <= offset <= spec_start + length:
                return source_start + min(offset - spec_start, length)
        return None


def _error(message: str, source: str, start: int, end: int | None = None) -> SpecError:
    return SpecError(message, source=source, start=start, end=end)


class _Lines:
    """The print's lines with their offsets, trailing blanks and '\\r' cut."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[tuple[int, str]] = []
        pos = 0
        for raw in source.split("\n"):
            text = raw.rstrip()
            prompt = _PROMPT.match(text)
            if prompt and not prompt.group().lstrip().startswith("Out"):
                text = ""  # what was typed at a prompt, not what it printed
            cut = prompt.end() if prompt and text else len(text) - len(text.lstrip())
            self.lines.append((pos + cut, text[cut:]))
            pos += len(raw) + 1
        self.i = 0

    def module(self) -> Module:
        start, text = self.lines[self.i]
        m = _LINE.fullmatch(text)
        if m is None:
            raise _error(
                "expected a module of the print, e.g. '(0): Conv2d(3, 64, kernel_size=(3, 3))'",
                self.source,
                start,
                start + len(text),
            )
        self.i += 1
        name = m.group("name") or ""
        count = int(m.group("count") or 1)
        cls = m.group("cls")
        offset = start + m.start("cls")
        rest = m.group("rest")
        if rest:  # a one-line module: its repr (the parentheses must close on the line)
            leaf = text[m.start("cls") :]
            if _depth(leaf) != 0:
                raise _error(
                    f"{cls}( is not closed on its line", self.source, offset, offset + len(cls)
                )
            return Module(cls, name, count, offset, leaf, ())
        children: list[Module] = []
        while True:
            if self.i >= len(self.lines):
                raise _error(f"{cls}( is never closed", self.source, offset, offset + len(cls))
            line_start, line = self.lines[self.i]
            if line == ")":
                self.i += 1
                return Module(cls, name, count, offset, "", tuple(children))
            if not line:
                self.i += 1
                continue
            if not line.startswith("("):
                raise _error(
                    f"{cls}'s print holds a line that is not one of its children: convcalc "
                    "reads modules whose print lists their children, one per line",
                    self.source,
                    line_start,
                    line_start + len(line),
                )
            children.append(self.module())

    def modules(self) -> list[Module]:
        """Every top-level module; lines before the first (a prompt such as
        '>>> print(model)') and between them are skipped."""
        out = []
        while self.i < len(self.lines):
            _, text = self.lines[self.i]
            m = _LINE.fullmatch(text)
            if m is None or m.group("head") or m.group("count"):
                self.i += 1
                continue
            out.append(self.module())
        return out


def _depth(text: str) -> int:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
    return depth


class _Writer:
    """Spec text for the modules, with the offsets of every piece copied from the print."""

    def __init__(
        self,
        source: str,
        assume_sequential: bool,
        kinds: frozenset[str],
        shape: tuple[int, ...] | None = None,
    ) -> None:
        self.source = source
        self.shape = shape
        self.assume = assume_sequential
        self.kinds = kinds
        self.blocks: list[tuple[str, list[_Stmt]]] = []  # block definitions
        self.pieces: list[tuple[int, int, int]] = []
        self.assumed: list[str] = []
        self.names: set[str] = set()
        self.layers = 0

    def body(self, modules: tuple[Module, ...] | list[Module], path: str) -> list[_Stmt]:
        """Statements for modules in a row."""
        out: list[_Stmt] = []
        for module in modules:
            out += self.statements(module, path)
        return out

    def statements(self, module: Module, path: str) -> list[_Stmt]:
        cls = module.cls.rsplit(".", 1)[-1]
        if module.text:
            if cls in ORDERED and module.text.endswith("()"):
                return []  # an empty container
            self.layers += module.repeat
            repeat = f" x{module.repeat}" if module.repeat > 1 else ""
            # a leaf a forward wrote as a statement (Swin's "permute 0,2,3,1") stands
            # for its class name in the print
            shown = module.text if module.text.startswith(module.cls) else module.cls
            return [(module.text + repeat, module.start, len(shown))]
        if cls in _UNREADABLE:
            raise _error(
                f"the print of {cls} leaves out {_UNREADABLE[cls]}: convcalc cannot read it; "
                f"write the layer as a call instead, e.g. {_EXAMPLE[cls]}",
                self.source,
                module.start,
                module.start + len(module.cls),
            )
        forward = forward_of(module)
        if cls.lower() in self.kinds and cls not in ORDERED and forward is None:
            raise _error(
                f"{cls}'s print lists submodules; convcalc reads it from its arguments",
                self.source,
                module.start,
                module.start + len(module.cls),
            )
        if forward is not None and (path or module.name):
            return self.mapped(module, path, cls)
        if cls not in ORDERED and forward is None:
            if not self.assume:
                names = ", ".join(c.name for c in module.children[:6])
                names += ", …" if len(module.children) > 6 else ""
                raise _error(
                    f"{cls} is not an nn.Sequential: its print lists its children ({names}) "
                    "but not the order its forward() runs them in, nor what it does between "
                    "them; print its Sequential parts, or pass --assume-sequential to run the "
                    "children in print order",
                    self.source,
                    module.start,
                    module.start + len(module.cls),
                )
            if cls not in self.assumed:
                self.assumed.append(cls)
        out: list[_Stmt] = []
        for index in _indices(module):
            label = _join(path, index)
            if not path and not module.name:  # the top level: its children stand alone
                if forward is not None:
                    top = forward_of(module, Context(module.name, self.shape))
                    assert top is not None
                    out += self.mapped_body(module, "", top)
                else:
                    out += self.body(module.children, "")
                continue
            block = self.block_name(cls)
            inner = self.body(module.children, label)
            self.define(block, inner)
            shown = label if _NAME.fullmatch(label) else f"'{label}'"
            out.append((f"{block} name={shown}", module.start, len(module.cls)))
        return out

    def mapped(self, module: Module, path: str, cls: str) -> list[_Stmt]:
        """A module whose forward convcalc knows (formats/torch_blocks.py): a block of its graph."""
        out: list[_Stmt] = []
        for index in _indices(module):
            label = _join(path, index)
            forward = forward_of(module, Context(index.rsplit(".", 1)[-1]))
            assert forward is not None
            block = self.block_name(cls)
            self.define(block, self.mapped_body(module, label, forward))
            shown = label if _NAME.fullmatch(label) else f"'{label}'"
            out.append((f"{block} name={shown}", module.start, len(module.cls)))
        return out

    def mapped_body(self, module: Module, label: str, forward: Forward) -> list[_Stmt]:
        children = {c.name: c for c in module.children}
        out: list[_Stmt] = []
        try:
            steps = forward(children)
        except SpecError as exc:  # what the forward needs and the print does not show
            end = module.start + len(module.cls)
            raise _error(exc.message, self.source, module.start, end) from None
        for step in steps:
            if isinstance(step, str):
                out.append((step, None, 0))
            else:
                out += self.statements(step, label)
        return out

    def block_name(self, cls: str) -> str:
        """The container's class as a block name: ``Sequential``, then ``Sequential_2``, …
        for the next containers of that class (each its own definition, so that an error
        points at its own lines). Not its path: the instance is labelled with that, and
        its row shows both (``features: Sequential``)."""
        base = cls
        while base.lower() in self.kinds or base.lower() in _RESERVED:
            base = f"_{base}"  # PatchMerging is also a layer word
        name, n = base, 1
        while name.lower() in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name.lower())
        return name

    def define(self, block: str, body: list[_Stmt]) -> None:
        self.blocks.append((block, body))

    def write(self, top: list[_Stmt]) -> tuple[str, list[tuple[int, int, int]]]:
        parts: list[str] = []
        pos = 0
        pieces: list[tuple[int, int, int]] = []

        def emit(text: str, origin: int | None = None, length: int = 0) -> None:
            nonlocal pos
            if origin is not None:
                pieces.append((pos, origin, length))
            parts.append(text + "\n")
            pos += len(text) + 1

        for block, body in self.blocks:
            emit(f"block {block}")
            for stmt in body:
                emit(*stmt)
            emit("end")
        for stmt in top:
            emit(*stmt)
        return "".join(parts), pieces


_RESERVED = KEYWORDS | {"input"}


def forward_known(module: Module, parent: str = "") -> bool:
    """Whether convcalc maps the container ``module`` to a graph (in ``parent``, the
    class of the module holding it: some blocks read a child themselves)."""
    cls = module.cls.rsplit(".", 1)[-1]
    return cls in ORDERED or forward_of(module) is not None or (parent, cls) in READ_BY_PARENT


def _indices(module: Module) -> list[str]:
    """The names of a run's members: (0-2) → 0, 1, 2."""
    name = module.name
    if module.repeat == 1:
        return [name]
    m = re.fullmatch(r"(\d+)-(\d+)", name)
    if m:
        first = int(m.group(1))
        return [str(first + i) for i in range(module.repeat)]
    return [f"{name}.{i}" for i in range(module.repeat)]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def analyze_print(
    source: str,
    input_shape: str | Sequence[int] | None,
    *,
    assume_sequential: bool = False,
    batch: int = 1,
    filename: str | None = None,
) -> Analysis:
    """Read a model's print and analyse it (see :func:`convcalc.analyze`); errors point
    into the print."""
    from convcalc.network.analysis import analyze, parse_shape

    sizes = None if input_shape is None else parse_shape(input_shape)
    reading = read_print(source, assume_sequential=assume_sequential, input_shape=sizes)
    try:
        return analyze(reading.spec, sizes, batch=batch, filename=filename)
    except (SpecError, ShapeError) as exc:
        raise reading.locate(exc) from None


def parse_modules(source: str) -> list[Module]:
    """The modules of a print (its top-level ones, each with its children); raises
    SpecError, at the line, for text that is not a print."""
    modules = _Lines(source).modules()
    if not modules:
        raise SpecError(
            "no module found: expected the text print(model) shows, e.g. "
            "'Sequential(' then '(0): Conv2d(3, 64, kernel_size=(3, 3))' lines and ')'",
            source=source,
        )
    return modules


def read_print(
    source: str, *, assume_sequential: bool = False, input_shape: Sequence[int] | None = None
) -> Reading:
    """Spec text for a model's print (see the module's docstring); raises SpecError for
    text that is not such a print, an unknown module kind or a custom container.
    ``input_shape`` (without the batch): what the model was built for, where its print
    does not show it (MaxViT's partitions, formats/torch_windows.py)."""
    from convcalc.kinds import KINDS

    modules = parse_modules(source)
    shape = None if input_shape is None else tuple(input_shape)
    writer = _Writer(source, assume_sequential, KINDS, shape)
    top: list[_Stmt] = []
    for module in modules:
        top += writer.statements(module, "")
    spec, pieces = writer.write(top)
    return Reading(source, spec, tuple(pieces), tuple(writer.assumed), writer.layers)
