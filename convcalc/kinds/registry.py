"""Registries of layer kinds: the words of one framework, each bound to its class,
arguments and PyTorch signature, and the ``register`` decorator that fills them."""

from __future__ import annotations

from _thread import RLock
from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from convcalc.kinds.args import Param
from convcalc.kinds.layer import Entry, Layer, Signature

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_keys, dict_values


class LazyRegistry(dict[str, Entry]):
    """A framework's kinds by word, each kind module imported the first time one of its
    words is looked up (``modules``, the framework's index, says which module of
    ``package`` registers which word): a
    start of the command pays only for the kinds it uses. Going over the whole
    registry (iterating, keys, items, len) imports every module first, and keeps
    the order of the registrations in index order, whatever was loaded first.

    A word's entry, once registered, is found by dict's own lookup: binding, the
    engine's work for every layer, costs no more than with a plain dict."""

    def __init__(self, modules: Mapping[str, str], package: str) -> None:
        super().__init__()
        self.modules, self.package = modules, package
        self.complete = False  # every module is loaded, in the index's order

    @property
    def summaries(self) -> Mapping[str, str]:
        """Each word's :attr:`Entry.summary`, from the package's generated
        ``summaries`` module (KIND_SUMMARIES), no kind module imported."""
        summaries: Mapping[str, str] = import_module(f"{self.package}.summaries").KIND_SUMMARIES
        return summaries

    def __missing__(self, word: str) -> Entry:
        module = self.modules.get(word)
        if module is None:
            raise KeyError(word)
        import_module(f"{self.package}.{module}")
        with _LOADING:  # after a whole-registry reordering under way (load_all)
            return dict.__getitem__(self, word)

    def __contains__(self, word: object) -> bool:
        return word in self.modules or dict.__contains__(self, word)

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
        for module in dict.fromkeys(self.modules.values()):
            import_module(f"{self.package}.{module}")
        with _LOADING:
            if self.complete:
                return
            entries = {w: dict.__getitem__(self, w) for w in self.modules}
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


def summaries(registry: Mapping[str, Entry]) -> Mapping[str, str]:
    """Each word's :attr:`Entry.summary`, by word; a lazy registry's from its index,
    without importing its modules (a completion request lists words, not kinds)."""
    if isinstance(registry, LazyRegistry):
        return registry.summaries
    return {word: entry.summary for word, entry in registry.items()}


# Held while load_all reorders the entries (a lookup that misses then waits for it).
_LOADING = RLock()


def register(
    cls: type[Layer] | None = None,
    *,
    names: dict[str, dict[str, Any]] | None = None,
    params: tuple[Param, ...] | None = None,
    torch: dict[str, Signature] | None = None,
    registry: dict[str, Entry],
    classes: dict[str, str] | None = None,
    framework: str = "PyTorch",
) -> Any:
    """Class decorator (or call) adding a kind's names to ``registry`` (and the
    PyTorch class names among them to ``classes``). A word that
    is a PyTorch class name lower-cased follows that class's signature; the other
    words follow the first one (``bn``: BatchNorm1d's, which all three share); the key
    "" gives words that are no class name a signature (dwconv2d: Conv2d's). ``torch``
    defaults to the class's TORCH when the names are the class's own. A lazy
    registry needs a new word in its index too (PyTorch's: ``python -m
    convcalc.kinds.torch.make_index``; tests/kinds/test_layer_index.py fails until then).
    ``framework``: whose classes the signatures are (Keras's kinds pass theirs as
    ``torch``: kinds/keras/common.py)."""
    into = registry

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
        # Each word's own class name (conv2d: Conv2d) and the signature it follows.
        lowered: dict[str, str] = {}
        for cname in sigs:
            lowered.setdefault(cname.lower(), cname)
        own: dict[str, tuple[str, Signature | None]] = {}
        for word in words:
            if dict.__contains__(into, word):  # the entries, not the index's words
                raise RuntimeError(f"layer name {word!r} registered twice")
            cname = lowered.get(word, "")
            own[word] = (cname, sigs[cname] if cname else first)
        named = {cname for cname, _ in own.values() if cname}
        if classes is not None:
            classes.update((cname, word) for word, (cname, _) in own.items() if cname)
        # The class a word follows: its own, else the first with its signature among
        # this registration's words (instancenorm: InstanceNorm1d), else in the whole
        # registry (dwconv2d: Conv2d). A signature object may be shared by classes
        # (BatchNorm's and InstanceNorm's): the registration's own come first.
        owners: dict[int, str] = {}
        for cname, sig in own.values():
            if cname and sig is not None:
                owners.setdefault(id(sig), cname)
        for word, fixed in words.items():
            cname, sig = own[word]
            owner = ""
            if sig is not None:
                owner = cname or owners.get(id(sig)) or _owner(into, sig)
            into[word] = Entry(
                word, klass, fixed, plist, by_key, flags, positional, sig, cname, owner, framework
            )
        for cname in sigs:
            if cname and cname not in named:
                message = f"{framework} class {cname} is not one of the names {list(words)}"
                raise RuntimeError(message)
        return klass

    return add(cls) if cls is not None else add


def _owner(registry: dict[str, Entry], sig: Signature) -> str:
    """The first class name in ``registry`` whose words follow the signature ``sig``."""
    named = (e.torch_name for e in dict.values(registry) if e.torch is sig and e.torch_name)
    return next(named, "")


def class_names(registry: Mapping[str, Entry]) -> dict[str, str]:
    """The framework's class names of the kinds in ``registry``, each with the word that
    names it: the words that are a class name lower-cased."""
    names = {}
    for word, entry in registry.items():
        name = entry.cls(**entry.fixed).class_name()
        if name.lower() == word:
            names[name] = word
    return names


def by_rank(word: str, generic: bool = True, **fixed: Any) -> dict[str, dict[str, Any]]:
    """A kind's words for each number of spatial dimensions, ``word1d`` to ``word3d``
    (``dim`` 1 to 3), then ``word`` itself taking them from its input (``dim`` None)
    unless not ``generic``; ``fixed``: further values every word fixes."""
    names: dict[str, dict[str, Any]] = {f"{word}{n}d": {"dim": n, **fixed} for n in (1, 2, 3)}
    if generic:
        names[word] = {"dim": None, **fixed}
    return names
