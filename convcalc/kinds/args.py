"""Argument types: how one argument's text (a parsed ``Value``) becomes a typed
value, and ``Param``, one argument a layer kind declares."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc._records import NamedTuple
from convcalc.errors import SpecError

if TYPE_CHECKING:
    from convcalc.language import Value


class ArgType:
    """How one argument's text becomes a value."""

    name: ClassVar[str] = "value"
    words: ClassVar[tuple[str, ...]] = ()  # closed set of words, for completion
    # Written only as a call (a layer given as another's argument: LSTM(64)), which
    # ends a statement's values: no positional value may follow it.
    call_only: ClassVar[bool] = False

    def convert(self, value: Value, source: str) -> Any:
        raise NotImplementedError


def _fail(value: Value, source: str, message: str) -> SpecError:
    return SpecError(message, source=source, start=value.start, end=value.end)


def word_of(value: Value, source: str) -> str:
    """A word value's text: a quoted string without its quotes ('nearest')."""
    return str(value.value) if value.kind == "string" else source[value.start : value.end]


def is_none(value: Value) -> bool:
    """Whether the value is the word None (PyTorch's None), in any case."""
    return value.kind == "name" and str(value.value).lower() == "none"


def _as_int(atom: Value, source: str, what: str) -> int:
    if atom.kind == "int":
        return atom.value  # type: ignore[return-value]
    if atom.kind == "float" and float(atom.value).is_integer():  # type: ignore[arg-type]
        raise _fail(atom, source, f"{what} must be an integer; write {int(atom.value)}")  # type: ignore[arg-type]
    raise _fail(atom, source, f"{what} must be an integer, got {source[atom.start : atom.end]!r}")


class IntType(ArgType):
    name = "integer"

    def convert(self, value: Value, source: str) -> int:
        if value.kind == "tuple":
            raise _fail(value, source, "expected a single integer, got a tuple")
        return _as_int(value, source, "the value")


class IntsType(ArgType):
    """An int, or a tuple of ints (one per spatial dimension)."""

    name = "integer or tuple"

    def convert(self, value: Value, source: str) -> tuple[int, ...]:
        return tuple(_as_int(a, source, "each size") for a in value.atoms())


class OptIntsType(ArgType):
    """Ints where ``None`` keeps the input's size (adaptive pooling)."""

    name = "integer or tuple (None keeps a size)"

    def convert(self, value: Value, source: str) -> tuple[int | None, ...]:
        out: list[int | None] = []
        for atom in value.atoms():
            if atom.kind == "name" and str(atom.value).lower() == "none":
                out.append(None)
            else:
                out.append(_as_int(atom, source, "each size"))
        return tuple(out)


class FloatType(ArgType):
    name = "number"

    def convert(self, value: Value, source: str) -> float:
        if value.kind in ("int", "float"):
            return float(value.value)  # type: ignore[arg-type]
        raise _fail(value, source, f"expected a number, got {source[value.start : value.end]!r}")


class FloatsType(ArgType):
    name = "number or tuple"

    def convert(self, value: Value, source: str) -> tuple[float, ...]:
        out = []
        for atom in value.atoms():
            if atom.kind not in ("int", "float"):
                raise _fail(
                    atom, source, f"expected a number, got {source[atom.start : atom.end]!r}"
                )
            out.append(float(atom.value))  # type: ignore[arg-type]
        return tuple(out)


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class BoolType(ArgType):
    name = "boolean"
    words = ("true", "false")

    def convert(self, value: Value, source: str) -> bool:
        text = source[value.start : value.end].lower()
        if value.kind == "string":
            raise _fail(value, source, f"expected true or false, not the string {text}")
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise _fail(value, source, f"expected true or false (or yes/no, 1/0), got {text!r}")


class ChoiceType(ArgType):
    """One word of a closed set; ``aliases`` maps extra spellings to a word."""

    def __init__(self, *choices: str, aliases: dict[str, str] | None = None) -> None:
        self.choices = choices
        self.aliases = aliases or {}
        self.words = choices  # type: ignore[misc]
        self.name = " | ".join(choices)  # type: ignore[misc]

    def convert(self, value: Value, source: str) -> str:
        text = word_of(value, source).lower()
        if text in self.choices:
            return text
        if text in self.aliases:
            return self.aliases[text]
        from convcalc.language import suggest  # a near miss only: completion needs no parser

        hint = suggest(text, list(self.choices) + list(self.aliases))
        message = f"expected one of {', '.join(self.choices)}; got {text!r}"
        if hint:
            message += f" (did you mean {hint!r}?)"
        raise _fail(value, source, message)


class UnionType(ArgType):
    """Ints, or one of a few words (``padding=same``, ``groups=dw``)."""

    def __init__(self, base: ArgType, *words: str, aliases: dict[str, str] | None = None) -> None:
        self.base = base
        self.choice = ChoiceType(*words, aliases=aliases)
        self.words = words  # type: ignore[misc]
        self.name = f"{base.name} or {' | '.join(words)}"  # type: ignore[misc]

    def convert(self, value: Value, source: str) -> Any:
        if value.kind in ("name", "string"):
            return self.choice.convert(value, source)
        return self.base.convert(value, source)


class OptionalType(ArgType):
    """A value of ``base``, or None (BatchNorm's ``momentum=None``)."""

    def __init__(self, base: ArgType) -> None:
        self.base = base
        self.words = base.words  # type: ignore[misc]
        self.name = f"{base.name} or None"  # type: ignore[misc]

    def convert(self, value: Value, source: str) -> Any:
        return None if is_none(value) else self.base.convert(value, source)


class AnyType(ArgType):
    """Any one value, kept as written: PyTorch arguments without effect on the figures
    (``device='cuda'``, ``dtype=torch.float16``)."""

    name = "any value"

    def convert(self, value: Value, source: str) -> str:
        return source[value.start : value.end]


INT = IntType()
INTS = IntsType()
OPT_INTS = OptIntsType()
FLOAT = FloatType()
FLOATS = FloatsType()
BOOL = BoolType()
OPT_FLOAT = OptionalType(FLOAT)
OPT_BOOL = OptionalType(BOOL)
ANY = AnyType()


class Param(NamedTuple):
    """One argument a layer kind takes."""

    name: str  # PyTorch's argument name: the long key and the layer's attribute
    type: ArgType
    default: Any = None
    aliases: tuple[str, ...] = ()  # short keys, e.g. ("k",)
    positional: bool = False
    required: bool = False
    # Bare words that set this argument, e.g. {"ceil": True} or {"depthwise": "dw"}.
    flags: Mapping[str, Any] = MappingProxyType({})
    per_dim: bool = False  # a tuple with one entry per spatial dimension
    help: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.aliases, self.name)


# device= and dtype=: every PyTorch module with weights takes them; no figure depends on them.
PLACEMENT = ("device", "dtype")
PLACED: Mapping[str, ArgType] = MappingProxyType(dict.fromkeys(PLACEMENT, ANY))
