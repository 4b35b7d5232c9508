"""What every layer kind shares: argument declarations, binding of parsed
arguments to typed values, the registry of kind names, and the result of
running a layer on a shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from ..errors import LayerError, SpecError
from ..spec import Arg, LayerStmt, Value, suggest

# A shape without the batch dimension, channels first. ``None`` is a size that
# is not known (the channel count when the user gave only a spatial size).
Shape = tuple[int | None, ...]

# A layer's effect on the receptive field, per spatial dimension:
# (effective kernel d·(k-1)+1, stride, left padding).
Window = tuple[int, int, int]

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class Out(NamedTuple):
    """What one layer does to one input shape."""

    kind: str  # canonical kind with the dimension resolved, e.g. "conv2d"
    shape: Shape
    params: int | None = 0
    buffers: int | None = 0
    macs: int | None = 0
    # () = no change to the receptive field; None = the layer has no uniform
    # receptive-field step (it is not tracked past it); else one Window per dim.
    rf: tuple[Window, ...] | None = ()
    # Elements of ``buffers`` that PyTorch keeps as int64 whatever the model's
    # dtype (BatchNorm's num_batches_tracked): memory counts them at 8 bytes.
    int64_buffers: int | None = 0
    # Elements of ``params`` that are not trainable (Keras's BatchNormalization
    # moving statistics, which count_params() includes).
    non_trainable: int | None = 0


# --------------------------------------------------------------------------
# Argument types: each turns a parsed Value into a Python value or raises.


class ArgType:
    """How one argument's text becomes a value."""

    name: ClassVar[str] = "value"
    words: ClassVar[tuple[str, ...]] = ()  # closed set of words, for completion

    def convert(self, value: Value, source: str) -> Any:
        raise NotImplementedError


def _fail(value: Value, source: str, message: str) -> SpecError:
    return SpecError(message, source=source, start=value.start, end=value.end)


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
        text = source[value.start : value.end].lower()
        if text in self.choices:
            return text
        if text in self.aliases:
            return self.aliases[text]
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
        if value.kind == "name":
            return self.choice.convert(value, source)
        return self.base.convert(value, source)


INT = IntType()
INTS = IntsType()
OPT_INTS = OptIntsType()
FLOAT = FloatType()
FLOATS = FloatsType()
BOOL = BoolType()


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


# --------------------------------------------------------------------------
# The layer base class and the registry.


class Layer:
    """A layer kind: an immutable record of its arguments (its ``Param`` names plus
    the fixed ones its name implies, e.g. ``dim``: spatial dimensions, None = from
    the input) that computes what it does to a shape.

    Records compare and hash by value. They are plain classes rather than
    dataclasses because generating dataclass code for every kind would cost
    milliseconds at every start of the command."""

    PARAMS: ClassVar[tuple[Param, ...]] = ()
    # The names a user may write, each with the fixed arguments it implies,
    # e.g. {"conv2d": {"dim": 2}, "conv": {"dim": None}}.
    NAMES: ClassVar[dict[str, dict[str, Any]]] = {}
    SUMMARY: ClassVar[str] = ""
    # A remark for ``--help-layer`` on how convcalc reads the kind ("" = none).
    NOTE: ClassVar[str] = ""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((type(self), frozenset(self.__dict__.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({args})"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        """The output shape and figures for an input ``shape``; raises LayerError."""
        raise NotImplementedError

    def spatial_rank(self) -> int | None:
        """Number of spatial dims this layer needs, if its name fixes it (conv2d: 2)."""
        return None


class SpatialLayer(Layer):
    """A layer over C×spatial inputs whose name may fix the number of spatial
    dimensions (``dim``: conv2d → 2; conv → None, taken from the input)."""

    dim: int | None

    def spatial_rank(self) -> int | None:
        return self.dim


class Entry(NamedTuple):
    """What a kind word means: the class, the fixed arguments, the arguments."""

    word: str
    cls: type[Layer]
    fixed: dict[str, Any]
    params: tuple[Param, ...]
    by_key: dict[str, Param]
    flags: dict[str, tuple[Param, Any]]
    positional: tuple[Param, ...]


REGISTRY: dict[str, Entry] = {}


def register(
    cls: type[Layer] | None = None,
    *,
    names: dict[str, dict[str, Any]] | None = None,
    params: tuple[Param, ...] | None = None,
    registry: dict[str, Entry] | None = None,
) -> Any:
    """Class decorator (or call) adding a kind's names to the registry (PyTorch's,
    unless another framework's ``registry`` is given)."""
    into = REGISTRY if registry is None else registry

    def add(klass: type[Layer]) -> type[Layer]:
        plist = klass.PARAMS if params is None else params
        by_key: dict[str, Param] = {}
        flags: dict[str, tuple[Param, Any]] = {}
        for p in plist:
            for key in p.keys:
                by_key[key] = p
            for word, val in p.flags.items():
                flags[word] = (p, val)
        positional = tuple(p for p in plist if p.positional)
        for word, fixed in (names if names is not None else klass.NAMES).items():
            if word in into:
                raise RuntimeError(f"layer name {word!r} registered twice")
            into[word] = Entry(word, klass, fixed, plist, by_key, flags, positional)
        return klass

    return add(cls) if cls is not None else add


def bind(
    stmt: LayerStmt,
    source: str,
    registry: Mapping[str, Entry] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Layer:
    """Turn a parsed layer statement into a layer object, checking its arguments
    (``registry``: the framework's kinds, PyTorch's by default; ``extra``: values
    the framework sets on every layer, e.g. ONNX's opset)."""
    kinds = REGISTRY if registry is None else registry
    entry = kinds[stmt.kind]
    values: dict[str, Any] = {}
    given: dict[str, Arg] = {}
    positional = entry.positional
    npos = 0
    for arg in stmt.args:
        key = arg.key
        if key is None:
            value = arg.value
            if value.kind == "name":
                word = str(value.value).lower()
                if word in entry.flags:
                    param, flag_value = entry.flags[word]
                    _set(values, given, param, flag_value, arg, stmt, source)
                    continue
                if word in entry.by_key and isinstance(entry.by_key[word].type, BoolType):
                    _set(values, given, entry.by_key[word], True, arg, stmt, source)
                    continue
            if npos >= len(positional):
                raise _unexpected_positional(entry, stmt, arg, source, kinds)
            param = positional[npos]
            npos += 1
            _set(values, given, param, _convert(param, value, stmt, source), arg, stmt, source)
            continue
        keyed = entry.by_key.get(key)
        if keyed is None:
            raise _unknown_key(entry, stmt, arg, source)
        _set(values, given, keyed, _convert(keyed, arg.value, stmt, source), arg, stmt, source)
    for param in entry.params:
        if param.name not in values:
            if param.required:
                example = f"{param.keys[0]}=3" if param.per_dim else param.keys[0]
                raise SpecError(
                    f"{stmt.kind} needs {param.name} ({example})",
                    source=source,
                    start=stmt.start,
                    end=stmt.start + len(stmt.kind),
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
                    f"{param.name} has {len(val)} values but {stmt.kind} has {dim} spatial "
                    f"dimension{'s' if dim > 1 else ''}",
                    source=source,
                    start=arg.value.start,
                    end=arg.value.end,
                )
    values.update(entry.fixed)
    if extra:
        values.update(extra)
    return entry.cls(**values)


def _convert(param: Param, value: Value, stmt: LayerStmt, source: str) -> Any:
    try:
        return param.type.convert(value, source)
    except SpecError as exc:
        raise SpecError(
            f"{stmt.kind} {param.name}: {exc.message}", source=source, start=exc.start, end=exc.end
        ) from None


def _set(
    values: dict[str, Any],
    given: dict[str, Arg],
    param: Param,
    value: Any,
    arg: Arg,
    stmt: LayerStmt,
    source: str,
) -> None:
    if param.name in values:
        raise SpecError(
            f"{param.name} is given twice in {stmt.kind}",
            source=source,
            start=arg.key_start,
            end=arg.value.end,
        )
    values[param.name] = value
    given[param.name] = arg


def _unknown_key(entry: Entry, stmt: LayerStmt, arg: Arg, source: str) -> SpecError:
    assert arg.key is not None
    keys = sorted(entry.by_key)
    for param in entry.cls.PARAMS:
        if arg.key in param.keys and param.name in entry.fixed:
            # e.g. g= after dwconv, whose name fixes groups=dw
            fixed = entry.fixed[param.name]
            shown = fmt_tuple(fixed) if isinstance(fixed, tuple) else fixed
            message = f"{stmt.kind} fixes {param.name}={shown}; the general kind lets you choose it"
            return SpecError(
                message, source=source, start=arg.key_start, end=arg.key_start + len(arg.key)
            )
    if not keys:
        message = f"{stmt.kind} takes no arguments; got {arg.key}="
    else:
        message = f"{stmt.kind} has no argument {arg.key!r}"
        hint = suggest(arg.key, keys)
        if hint:
            message += f"; did you mean {hint}=?"
        else:
            message += f" (it takes {', '.join(_key_list(entry))})"
    return SpecError(message, source=source, start=arg.key_start, end=arg.key_start + len(arg.key))


def _unexpected_positional(
    entry: Entry, stmt: LayerStmt, arg: Arg, source: str, kinds: Mapping[str, Entry]
) -> SpecError:
    text = source[arg.value.start : arg.value.end]
    if arg.value.kind == "name":
        word = text.lower()
        hint = suggest(word, sorted(set(entry.flags) | set(entry.by_key)))
        kind = suggest(word, kinds)
        message = f"{stmt.kind} does not understand {text!r}"
        if kind and (not hint or _closeness(word, kind) > _closeness(word, hint)):
            # A misspelt layer kind after the first one (conv2d 16 k=3 rlu).
            message += f"; did you mean the layer kind {kind!r}?"
        elif hint:
            message += f"; did you mean {hint!r}?"
        else:
            message += " (not one of its flags, nor a layer kind)"
    elif not entry.positional:
        keys = _key_list(entry)
        message = f"{stmt.kind} takes no positional value; got {text!r}"
        if keys:
            message += f" (use a key: {', '.join(keys)})"
    else:
        names = ", ".join(p.name for p in entry.positional)
        message = f"too many positional values for {stmt.kind} (it takes {names}); got {text!r}"
    return SpecError(message, source=source, start=arg.value.start, end=arg.value.end)


def _closeness(a: str, b: str) -> float:
    import difflib  # only on the error path

    return difflib.SequenceMatcher(None, a, b).ratio()


def _key_list(entry: Entry) -> list[str]:
    return [f"{p.keys[0]}=" for p in entry.params if not p.positional]


# --------------------------------------------------------------------------
# Helpers for the arithmetic.


def expand(name: str, values: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """Broadcast a 1-tuple to ``n`` spatial dims; reject other lengths."""
    if len(values) == n:
        return values
    if len(values) == 1:
        return values * n
    raise LayerError(
        f"{name} has {len(values)} values but the input has {n} spatial dimension"
        f"{'s' if n > 1 else ''}"
    )


def prod(values: Iterable[int | None]) -> int | None:
    """Product of sizes; None if any is unknown."""
    out = 1
    for v in values:
        if v is None:
            return None
        out *= v
    return out


def fmt_shape(shape: Iterable[int | None]) -> str:
    return "x".join("?" if v is None else str(v) for v in shape)


def fmt_tuple(values: tuple[Any, ...]) -> str:
    return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"


def dim_suffix(n: int, i: int, differs: bool) -> str:
    """' along W' when it matters which spatial dimension failed."""
    if n == 1 or not differs:
        return ""
    return f" along {SPATIAL_NAMES[n][i]}"


def rank_error(kind: str, shape: Shape, expected: str) -> LayerError:
    return LayerError(
        f"{kind} expects a {expected} input, got {fmt_shape(shape)} ({len(shape)} dim"
        f"{'s' if len(shape) != 1 else ''})"
    )


def spatial_dims(kind: str, dim: int | None, shape: Shape, lo: int = 1, hi: int = 3) -> int:
    """The number of spatial dims of ``shape`` (C, *spatial) for a layer of ``dim``."""
    n = len(shape) - 1
    if dim is None:
        if n == 0 and lo >= 1:
            raise LayerError(
                f"{kind} takes its dimensions from the input, and {fmt_shape(shape)} has no "
                f"spatial dimension: give the channel count too (e.g. 3x{fmt_shape(shape)}) "
                f"or name the dimensions ({kind}2d)"
            )
        if not lo <= n <= hi:
            want = " or ".join("C×" + "×".join(SPATIAL_NAMES[i]) for i in range(max(lo, 1), hi + 1))
            raise rank_error(kind, shape, want)
        return n
    if n != dim:
        raise rank_error(f"{kind}{dim}d", shape, "C×" + "×".join(SPATIAL_NAMES[dim]))
    return n


def check_positive(name: str, values: tuple[int, ...]) -> None:
    for v in values:
        if v <= 0:
            raise LayerError(f"{name} must be positive, got {fmt_tuple(values)}")


def check_non_negative(name: str, values: tuple[int, ...]) -> None:
    for v in values:
        if v < 0:
            raise LayerError(f"{name} must not be negative, got {fmt_tuple(values)}")


def check_nonempty(kind: str, shape: Shape) -> None:
    """PyTorch's "non-zero size for non-batch dimensions" check: many kernels accept an
    empty batch only."""
    if 0 in shape:
        raise LayerError(
            f"{kind} needs a non-empty input, got {fmt_shape(shape)}: PyTorch accepts an "
            "empty batch only"
        )


# Largest finite float32: PyTorch converts a layer's scalar arguments (an ELU's alpha, a
# pad value) to the tensor's dtype and refuses a finite value beyond its range (an
# infinity passes). convcalc checks against float32, the dtype of the torch vectors.
FLOAT32_MAX = 3.4028234663852886e38


def check_float32(name: str, value: float) -> None:
    if abs(value) > FLOAT32_MAX and value not in (float("inf"), float("-inf")):
        raise LayerError(
            f"{name}={value:g} is beyond float32's range (±{FLOAT32_MAX:.8g}): PyTorch cannot "
            "convert it to the tensor's dtype"
        )
