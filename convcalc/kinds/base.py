"""What every layer kind shares: argument declarations, binding of parsed
arguments to typed values, the registry of kind names, and the result of
running a layer on a shape."""

from __future__ import annotations

from _thread import RLock
from collections.abc import Iterable, Iterator, Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc._records import NamedTuple
from convcalc.errors import LayerError, SpecError
from convcalc.kinds.torch.index import KIND_MODULES, TORCH_WORDS
from convcalc.spec import Arg, LayerStmt, Value, suggest

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_keys, dict_values

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
    # PyTorch's classes of the kind, by class name: how their constructors take
    # arguments (a call ``Conv2d(3, 64, 7)``, and the short form's PyTorch order).
    TORCH: ClassVar[dict[str, Signature]] = {}

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


_NOTHING: Mapping[str, Any] = MappingProxyType({})


class WrittenTuple(tuple):  # type: ignore[type-arg]
    """A tuple a call wrote out where PyTorch does not broadcast one value to every
    dimension (``Upsample(scale_factor=(2.0,))`` on a 2-d input fails): a layer whose
    dimensions come from its input (Upsample) keeps it as it is."""

    __slots__ = ()


class Signature(NamedTuple):
    """A PyTorch constructor as convcalc reads it: what a call ``Conv2d(3, 64, 7,
    stride=2)`` means, and the order of a short form's extra positional values
    (``conv2d 3 64 3``, ``bn 16``). Argument names are PyTorch's; an argument whose
    name is one of the kind's ``Param`` names sets that Param."""

    args: tuple[str, ...]  # positional-or-keyword arguments, in order
    required: int = 0  # how many of ``args`` PyTorch requires
    kwonly: tuple[str, ...] = ()  # keyword-only arguments
    renames: Mapping[str, str] = _NOTHING  # PyTorch's name → the Param's, where they differ
    # Accepted and type-checked, without effect on any figure (inplace=, device=).
    extra: Mapping[str, ArgType] = _NOTHING
    # Accepted at one value only: name → (value, why no other).
    only: Mapping[str, tuple[Any, str]] = _NOTHING
    anything: bool = False  # takes any arguments and ignores them (nn.Identity)
    # Per-dimension arguments PyTorch takes as one int or one value per dimension, never
    # a shorter tuple (Conv2d's kernel_size=(3,) fails), and those it takes as an int only
    # (LPPool1d multiplies by its kernel_size). The short form broadcasts a 1-tuple.
    whole: tuple[str, ...] = ()
    scalar: tuple[str, ...] = ()
    # Arguments that are ``whole`` unless another has a value: Conv2d's padding=(1,)
    # broadcasts, except with a padding_mode other than 'zeros' (F.pad needs 4 pads).
    whole_unless: Mapping[str, tuple[str, Any]] = _NOTHING


# device= and dtype=: every PyTorch module with weights takes them; no figure depends on them.
PLACEMENT = ("device", "dtype")
PLACED: Mapping[str, ArgType] = MappingProxyType(dict.fromkeys(PLACEMENT, ANY))


class Entry(NamedTuple):
    """What a kind word means: the class, the fixed arguments, the arguments."""

    word: str
    cls: type[Layer]
    fixed: dict[str, Any]
    params: tuple[Param, ...]
    by_key: dict[str, Param]
    flags: dict[str, tuple[Param, Any]]
    positional: tuple[Param, ...]
    torch: Signature | None = None  # the PyTorch constructor the word follows
    torch_name: str = ""  # PyTorch's class name when the word is one (conv2d: Conv2d)


class _Registry(dict[str, Entry]):
    """PyTorch's kinds by word, each layer module imported the first time one of its
    words is looked up (layers/index.py says which module registers which word): a
    start of the command pays only for the kinds it uses. Going over the whole
    registry (iterating, keys, items, len) imports every module first, and keeps
    the order of the registrations in index order, whatever was loaded first.

    A word's entry, once registered, is found by dict's own lookup: binding, the
    engine's work for every layer, costs no more than with a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.complete = False  # every module is loaded, in the index's order

    def __missing__(self, word: str) -> Entry:
        module = KIND_MODULES.get(word)
        if module is None:
            raise KeyError(word)
        import_module(f"convcalc.kinds.torch.{module}")
        with _LOADING:  # after a whole-registry reordering under way (load_all)
            return dict.__getitem__(self, word)

    def __contains__(self, word: object) -> bool:
        return word in KIND_MODULES or dict.__contains__(self, word)

    def get(self, word: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[word]
        except KeyError:
            return default

    def load_all(self) -> None:
        """Import every layer module; then the entries are in the index's order (the
        order of a fresh import of them all, which --list-layers follows)."""
        if self.complete:
            return
        for module in dict.fromkeys(KIND_MODULES.values()):
            import_module(f"convcalc.kinds.torch.{module}")
        with _LOADING:
            if self.complete:
                return
            entries = {w: dict.__getitem__(self, w) for w in KIND_MODULES}
            unindexed = {w: e for w, e in dict.items(self) if w not in entries}
            dict.clear(self)
            dict.update(self, entries)
            dict.update(self, unindexed)  # only while the index is stale: a test fails
            self.complete = True

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.load_all()
        return dict.__len__(self)

    def keys(self) -> dict_keys[str, Entry]:
        self.load_all()
        return dict.keys(self)

    def values(self) -> dict_values[str, Entry]:
        self.load_all()
        return dict.values(self)

    def items(self) -> dict_items[str, Entry]:
        self.load_all()
        return dict.items(self)

    def __repr__(self) -> str:
        self.load_all()
        return dict.__repr__(self)


# Held while load_all reorders the entries (a lookup that misses then waits for it).
_LOADING = RLock()

REGISTRY: dict[str, Entry] = _Registry()
# PyTorch class name (Conv2d, BatchNorm2d, ReflectionPad2d, …) → its kind word, for
# every class, whether its module is loaded or not (a call Conv2d(…) is parsed by it).
TORCH_CLASSES: dict[str, str] = dict(TORCH_WORDS)


def register(
    cls: type[Layer] | None = None,
    *,
    names: dict[str, dict[str, Any]] | None = None,
    params: tuple[Param, ...] | None = None,
    torch: dict[str, Signature] | None = None,
    registry: dict[str, Entry] | None = None,
) -> Any:
    """Class decorator (or call) adding a kind's names to the registry. A word that
    is a PyTorch class name lower-cased follows that class's signature; the other
    words follow the first one (``bn``: BatchNorm1d's, which all three share); the key
    "" gives words that are no class name a signature (dwconv2d: Conv2d's). ``torch``
    defaults to the class's TORCH when the names are the class's own. A new PyTorch
    word or class name goes into layers/index.py too: ``python -m
    convcalc.kinds.torch.make_index`` (tests/test_layer_index.py fails until then)."""
    into = REGISTRY if registry is None else registry  # another framework's kinds

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
        sigs = (klass.TORCH if names is None else {}) if torch is None else torch
        first = next(iter(sigs.values()), None)
        words = names if names is not None else klass.NAMES
        named = set()
        for word, fixed in words.items():
            if dict.__contains__(into, word):  # the entries, not the index's words
                raise RuntimeError(f"layer name {word!r} registered twice")
            cname = next((c for c in sigs if c.lower() == word), "")
            sig = sigs[cname] if cname else first
            if cname:
                TORCH_CLASSES[cname] = word
                named.add(cname)
            into[word] = Entry(word, klass, fixed, plist, by_key, flags, positional, sig, cname)
        for cname in sigs:
            if cname and cname not in named:
                raise RuntimeError(f"PyTorch class {cname} is not one of the names {list(words)}")
        return klass

    return add(cls) if cls is not None else add


# What one PyTorch argument sets: ("param", Param), ("extra", ArgType), ("only",
# (value, why)) or ("fixed", Param) — a Param the kind word fixes (upsamplingnearest2d's
# mode), which may be given only at that value.
_Target = tuple[str, Any]


def _target(entry: Entry, name: str) -> _Target | None:
    sig = entry.torch
    if sig is not None:
        if name in sig.extra:
            return ("extra", sig.extra[name])
        if name in sig.only:
            return ("only", sig.only[name])
        name = sig.renames.get(name, name)
    for param in entry.params:
        if param.name == name:
            return ("param", param)
    if name in entry.fixed:
        for param in entry.cls.PARAMS:
            if param.name == name:
                return ("fixed", param)
    return None


class _Binder:
    """Turns one statement's arguments into the values of its Params."""

    def __init__(
        self,
        entry: Entry,
        stmt: LayerStmt,
        source: str,
        kinds: Mapping[str, Entry] | None = None,
    ) -> None:
        self.entry, self.stmt, self.source = entry, stmt, source
        self.kinds = REGISTRY if kinds is None else kinds
        self.label = stmt.call or stmt.kind  # how messages name the layer
        self.values: dict[str, Any] = {}
        self.given: dict[str, Arg] = {}

    def error(self, message: str, start: int, end: int) -> SpecError:
        return SpecError(message, source=self.source, start=start, end=end)

    def set(self, target: _Target, value: Value, arg: Arg, name: str) -> None:
        """Give the argument PyTorch calls ``name`` (resolved to ``target``) its value."""
        what, obj = target
        if what == "param":
            self.put(obj, self.convert(obj, value), arg)
        elif what == "extra":
            self.put(Param(name, obj), self.convert(Param(name, obj), value), arg, keep=False)
        elif what == "only":
            want, why = obj
            got = self.convert(Param(name, BOOL if isinstance(want, bool) else ANY), value)
            if got != want:
                raise self.error(f"{self.label}: {why}", arg.key_start, value.end)
            self.put(Param(name, ANY), got, arg, keep=False)
        else:  # a Param the kind word fixes: only its own value
            want = self.entry.fixed[obj.name]
            got = self.convert(obj, value)
            if isinstance(want, tuple) and isinstance(got, tuple) and len(got) == 1:
                got = got * len(want)
            if got != want:
                shown = fmt_tuple(want) if isinstance(want, tuple) else want
                raise self.error(
                    f"{self.label} fixes {obj.name}={shown}; the general kind lets you choose it",
                    arg.key_start,
                    value.end,
                )
            self.put(obj, got, arg, keep=False)

    def put(self, param: Param, value: Any, arg: Arg, *, keep: bool = True) -> None:
        if param.name in self.given:
            raise SpecError(
                f"{param.name} is given twice in {self.label}",
                source=self.source,
                start=arg.key_start,
                end=arg.value.end,
            )
        self.given[param.name] = arg
        if keep:
            self.values[param.name] = value

    def convert(self, param: Param, value: Value) -> Any:
        if (
            is_none(value)
            and not param.required
            and not isinstance(param.type, OptIntsType)
            and (param.default is None or isinstance(param.type, OptionalType))
        ):
            return None  # PyTorch's None: the argument's "not given" (stride=None)
        try:
            return param.type.convert(value, self.source)
        except SpecError as exc:
            raise SpecError(
                f"{self.label} {param.name}: {exc.message}",
                source=self.source,
                start=exc.start,
                end=exc.end,
            ) from None

    # -- the short form ---------------------------------------------------------

    def short(self) -> None:
        entry, stmt, source = self.entry, self.stmt, self.source
        flags: list[tuple[Param, Any, Arg]] = []
        positional: list[Arg] = []
        for arg in stmt.args:
            if arg.key is not None:
                continue
            value = arg.value
            if value.kind == "name":
                word = str(value.value).lower()
                if word in entry.flags:
                    param, flag_value = entry.flags[word]
                    flags.append((param, flag_value, arg))
                    continue
                if word in entry.by_key and isinstance(entry.by_key[word].type, BoolType):
                    flags.append((entry.by_key[word], True, arg))
                    continue
            positional.append(arg)
        # More positional values than the short form takes: PyTorch's order
        # (conv2d 3 64 3 is in, out, kernel; bn 16 is num_features). A word that is
        # none of PyTorch's values there is more likely a misspelt flag or kind
        # (conv2d 16 k=3 rleu): it is reported as one.
        sig = entry.torch
        own = len(positional) <= len(entry.positional) or sig is None
        order = [p.name for p in entry.positional] if own else list(sig.args)  # type: ignore[union-attr]
        for i, arg in enumerate(positional):
            if i >= len(order):
                raise _unexpected_positional(entry, stmt, arg, source, self.kinds)
            name = order[i]
            target = ("param", entry.positional[i]) if own else _target(entry, name)
            assert target is not None, (stmt.kind, name)
            try:
                self.set(target, arg.value, arg, name)
            except SpecError:
                if arg.value.kind == "name" and not own:
                    raise _unexpected_positional(entry, stmt, arg, source, self.kinds) from None
                raise
        for param, flag_value, arg in flags:
            self.put(param, flag_value, arg)
        for arg in stmt.args:
            key = arg.key
            if key is None:
                continue
            keyed = entry.by_key.get(key)
            target = ("param", keyed) if keyed is not None else _target(entry, key)
            if target is None:
                raise _unknown_key(entry, stmt, arg, source)
            self.set(target, arg.value, arg, key)

    # -- a call -------------------------------------------------------------------

    def check_form(self, sig: Signature, name: str, value: Value) -> None:
        """A tuple where PyTorch takes an int, or too short a tuple (see Signature)."""
        if value.kind != "tuple":
            return
        text = self.source[value.start : value.end]
        callee = self.stmt.call
        if name in sig.scalar:
            raise self.error(
                f"{callee}() {name} is one integer; PyTorch fails on the tuple {text}",
                value.start,
                value.end,
            )
        dim = self.entry.fixed.get("dim")
        whole = name in sig.whole
        if name in sig.whole_unless:
            other, harmless = sig.whole_unless[name]
            whole = self.values.get(other, harmless) != harmless
        if whole and dim is not None and len(value.atoms()) == 1 and dim > 1:
            raise self.error(
                f"{callee}() {name} takes one integer or {dim} values; PyTorch fails on {text}",
                value.start,
                value.end,
            )

    def call(self) -> None:
        entry, stmt = self.entry, self.stmt
        callee = stmt.call
        cname = callee.rsplit(".", 1)[-1]
        start = stmt.start
        if cname not in TORCH_CLASSES or entry.torch is None:
            real = [c for c, w in TORCH_CLASSES.items() if w == stmt.kind]
            message = f"{callee} is not a PyTorch class convcalc reads"
            if real:
                message += f"; PyTorch spells it {real[0]}"
            else:
                message += f"; write it as convcalc's {stmt.kind} …"
            raise self.error(message, start, start + len(callee))
        sig = entry.torch
        inside = stmt.args[: stmt.inside]
        for arg in stmt.args[stmt.inside :]:
            raise self.error(
                f"after {callee}(…) only the graph's words may follow (xN, name=NAME, "
                f"frozen); got {self.source[arg.key_start : arg.value.end]!r}",
                arg.key_start,
                arg.value.end,
            )
        if sig.anything:
            return
        allowed = (*sig.args, *sig.kwonly)
        npos = 0
        written: list[tuple[str, Value]] = []
        for arg in inside:
            value = arg.value
            if arg.key is None:
                if npos >= len(sig.args):
                    raise self.error(
                        f"{callee}() takes {len(sig.args)} positional argument"
                        f"{'s' if len(sig.args) != 1 else ''}"
                        + (f" ({', '.join(sig.args)})" if sig.args else "")
                        + f"; got {self.source[value.start : value.end]!r} too",
                        value.start,
                        value.end,
                    )
                name = sig.args[npos]
                npos += 1
            else:
                name = arg.key
                if name not in allowed:
                    raise self.error(
                        _unknown_torch_key(entry, callee, name, allowed),
                        arg.key_start,
                        arg.key_start + len(name),
                    )
            if is_none(value) and name in sig.args[: sig.required]:
                raise self.error(
                    f"{callee}() needs a value for {name}, not None", value.start, value.end
                )
            target = _target(entry, name)
            assert target is not None, (cname, name)
            self.set(target, value, arg, sig.renames.get(name, name))
            written.append((name, value))
        for name, value in written:
            self.check_form(sig, name, value)
            param = sig.renames.get(name, name)
            dim = entry.fixed.get("dim")
            if name in sig.whole and value.kind == "tuple" and dim is None:
                self.values[param] = WrittenTuple(self.values[param])
        missing = [n for n in sig.args[: sig.required] if sig.renames.get(n, n) not in self.given]
        if missing:
            need = ", ".join(sig.args[: sig.required])
            raise self.error(
                f"{callee}() needs {', '.join(missing)} (its required arguments: {need})",
                start,
                start + len(callee),
            )


def given(
    stmt: LayerStmt, source: str, registry: Mapping[str, Entry] | None = None
) -> frozenset[str]:
    """The names of the parameters a statement gives (by position, key or flag
    word), read as bind reads it."""
    kinds = REGISTRY if registry is None else registry
    binder = _Binder(kinds[stmt.kind], stmt, source, kinds)
    if stmt.call:
        binder.call()
    else:
        binder.short()
    return frozenset(binder.given) | frozenset(binder.values)


def bind(
    stmt: LayerStmt,
    source: str,
    registry: Mapping[str, Entry] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Layer:
    """Turn a parsed layer statement (short form or PyTorch call) into a layer
    object, checking its arguments (``registry``: the framework's kinds, PyTorch's
    by default; ``extra``: values the framework sets on every layer, e.g. ONNX's
    opset)."""
    kinds = REGISTRY if registry is None else registry
    entry = kinds[stmt.kind]
    binder = _Binder(entry, stmt, source, kinds)
    if stmt.call:
        binder.call()
    else:
        binder.short()
    values, given = binder.values, binder.given
    for param in entry.params:
        if param.name not in values:
            if param.required and param.name not in given:
                example = f"{param.keys[0]}=3" if param.per_dim else param.keys[0]
                raise SpecError(
                    f"{binder.label} needs {param.name} ({example})",
                    source=source,
                    start=stmt.start,
                    end=stmt.start + len(stmt.call or stmt.kind),
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
                    f"{param.name} has {len(val)} values but {binder.label} has {dim} spatial "
                    f"dimension{'s' if dim > 1 else ''}",
                    source=source,
                    start=arg.value.start,
                    end=arg.value.end,
                )
    values.update(entry.fixed)
    if extra:
        values.update(extra)
    return entry.cls(**values)


def _unknown_torch_key(entry: Entry, callee: str, key: str, allowed: Iterable[str]) -> str:
    message = f"{callee}() has no argument {key!r}"
    param = entry.by_key.get(key.lower())
    if param is not None and param.name in allowed:
        return message + f" (that is convcalc's short key; PyTorch's name is {param.name})"
    hint = suggest(key, list(allowed))
    if hint:
        return message + f"; did you mean {hint}=?"
    return message + f" (it takes {', '.join(allowed)})" if allowed else message


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
    entry: Entry,
    stmt: LayerStmt,
    arg: Arg,
    source: str,
    kinds: Mapping[str, Entry] | None = None,
) -> SpecError:
    text = source[arg.value.start : arg.value.end]
    if arg.value.kind == "name":
        word = text.lower()
        hint = suggest(word, sorted(set(entry.flags) | set(entry.by_key)))
        kind = suggest(word, REGISTRY if kinds is None else kinds)
        message = f"{stmt.kind} does not understand {text!r}"
        if kind and (not hint or _closeness(word, kind) > _closeness(word, hint)):
            # A misspelt layer kind after the first one (conv2d 16 k=3 rlu).
            message += f"; did you mean the layer kind {kind!r}?"
        elif hint:
            message += f"; did you mean {hint!r}?"
        else:
            message += " (not one of its flags, nor a layer kind)"
    elif not entry.positional and (entry.torch is None or not entry.torch.args):
        keys = _key_list(entry)
        message = f"{stmt.kind} takes no positional value; got {text!r}"
        if keys:
            message += f" (use a key: {', '.join(keys)})"
    else:
        takes = ", ".join(p.name for p in entry.positional)
        if entry.torch is not None and entry.torch.args:
            torch_order = ", ".join(entry.torch.args)
            takes = f"{takes}, or PyTorch's {torch_order}" if takes else f"PyTorch's {torch_order}"
        message = f"too many positional values for {stmt.kind} (it takes {takes}); got {text!r}"
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
