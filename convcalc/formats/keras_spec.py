"""A Keras model's layers and calls (formats/keras_model.py reads them from its
configuration) written as spec text under Keras's conventions: each layer its Keras
call, its config's arguments without effect on any figure left out, then ``name=`` its
Keras name; ``as``/``from`` where the graph branches, ``add``/``mul``/``concat`` for
the merges, ``use NAME`` for a layer called again and ``frozen`` for
``trainable: false``."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from convcalc.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.kinds.layer import Entry

__all__ = ["KerasReading", "Layer", "Node", "emit"]


class Layer(NamedTuple):
    """One layer of the model: its Keras class, name and config."""

    cls: str
    name: str
    config: dict[str, Any]
    frozen: bool
    where: str  # how messages name it


class Node(NamedTuple):
    """One call of a layer: its inputs, tensors (layer name, node, tensor index)."""

    layer: Layer
    call: int  # which call of the layer (Keras's node index)
    inputs: tuple[tuple[str, int, int], ...]


# Merges: the graph statement each is (CustomScaleLayer, InceptionResNetV2's x + s·y:
# an add, with no weights).
_MERGES = {"Add": "add", "Multiply": "mul", "Concatenate": "concat", "CustomScaleLayer": "add"}
# Keys of a layer's config that are not its constructor's arguments to read.
_SKIP = frozenset({"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape"})
_WORD = re.compile(r"[A-Za-z_][\w.\-/]*")


class KerasReading(NamedTuple):
    """A Keras model's configuration read as spec text: ``input`` is the model's input
    shape (without the batch; None for a size Keras leaves open), ``layers`` how many
    Keras layers it holds, ``name`` the model's name, ``names`` each layer's ``name=``
    word in the spec with the Keras name it stands for."""

    spec: str
    input: tuple[int | None, ...]
    layers: int
    name: str
    names: dict[str, str]  # each layer's name= in the spec: its Keras name
    nested: dict[str, str]  # a nested model's name: its last layer's, which gives its output


def _error(message: str) -> SpecError:
    return SpecError(message)


def emit(
    nodes: Sequence[Node],
    shape: tuple[int | None, ...] | None,
    output: tuple[str, int, int] | None,
    name: str,
) -> KerasReading:
    from convcalc.kinds.frameworks import get

    registry = get("keras").registry
    if shape is None:
        raise _error(
            "the model's input shape is not in its configuration (no InputLayer, no "
            "batch_shape): build the model with keras.Input(shape=…) first"
        )
    unknown: dict[str, list[str]] = {}
    for node in nodes:
        cls = node.layer.cls
        entry = registry.get(cls.lower())
        if cls not in _MERGES and (entry is None or entry.torch_name != cls):
            unknown.setdefault(cls, []).append(node.layer.name)
    if unknown:
        said = "; ".join(
            f"{cls} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
            for cls, names in unknown.items()
        )
        raise _error(f"layers convcalc does not know: {said}")
    uses: dict[tuple[str, int, int], list[int]] = {}
    for i, node in enumerate(nodes):
        for j, t in enumerate(node.inputs):
            # Named unless it is the only input of the very next node.
            uses.setdefault(t, []).append(-1 if (j or len(node.inputs) > 1) else i)
    from convcalc.kinds import KINDS

    names = _Names({*KINDS, *registry})
    lines = ["framework keras"]
    if None not in shape:
        lines.append("input " + "x".join(str(s) for s in shape))
    current: tuple[str, int, int] = ("", 0, 0)
    defined: set[str] = set()
    for i, node in enumerate(nodes):
        key = (node.layer.name, node.call, 0)
        first = node.inputs[0]
        if first != current:
            lines.append(f"from {names.tensor(first)}")
        layer = node.layer
        if layer.cls in _MERGES:
            lines.append(_merge(layer, node, names))
        elif layer.name in defined:
            if len(node.inputs) != 1:
                raise _error(f"{layer.where} takes {len(node.inputs)} inputs; it takes one")
            lines.append(f"use {names.layer(layer.name)}")
        else:
            if len(node.inputs) != 1:
                raise _error(f"{layer.where} takes {len(node.inputs)} inputs; it takes one")
            defined.add(layer.name)
            text = _call(layer, registry[layer.cls.lower()])
            lines.append(
                f"{text} name={names.layer(layer.name)}{' frozen' if layer.frozen else ''}"
            )
        current = key
        used = uses.get(key, [])
        # A merge's output is named after its layer, as the table shows (→ NAME).
        if (used and used != [i + 1]) or (layer.cls in _MERGES and key[1] == 0):
            lines.append(f"as {names.tensor(key)}")
    if output is not None and current != output:
        lines.append(f"from {names.tensor(output)}")
    count = len({n.layer.name for n in nodes})
    spelt = {word: keras for keras, word in names.layers.items()}
    spelt.update((word, key[0]) for key, word in names.tensors.items() if key[0])
    return KerasReading("\n".join(lines) + "\n", shape, count, name, spelt, {})


class _Names:
    """Spec names for Keras's layer and tensor names: words the language reads (not
    one of its keywords), unique whatever their case."""

    def __init__(self, kinds: frozenset[str] | set[str]) -> None:
        self.kinds = kinds  # words that name a layer kind: a statement would start there
        self.tensors: dict[tuple[str, int, int], str] = {("", 0, 0): "input"}
        self.layers: dict[str, str] = {}
        self.taken: dict[str, set[str]] = {"tensor": {"input"}, "layer": set()}

    def _word(self, text: str, space: str) -> str:
        from convcalc.language import KEYWORDS

        taken = self.taken[space]
        word = re.sub(r"[^\w.\-/]", "_", text) or "t"
        if (
            not _WORD.fullmatch(word)
            or word.lower() in KEYWORDS
            or word.lower() == "frozen"
            or (space == "tensor" and word.lower() in self.kinds)
            or re.fullmatch(r"[xX]\d+", word)
        ):
            word = f"t_{word}"
        base, n = word, 1
        while word.lower() in taken:
            n += 1
            word = f"{base}_{n}"
        taken.add(word.lower())
        return word

    def tensor(self, key: tuple[str, int, int]) -> str:
        if key not in self.tensors:
            text = key[0] if not key[1] else f"{key[0]}_{key[1]}"
            self.tensors[key] = self._word(text, "tensor")
        return self.tensors[key]

    def layer(self, name: str) -> str:
        if name not in self.layers:
            self.layers[name] = self._word(name, "layer")
        return self.layers[name]


def _merge(layer: Layer, node: Node, names: _Names) -> str:
    op = _MERGES[layer.cls]
    others = [names.tensor(t) for t in node.inputs[1:]]
    if op == "concat":
        axis = layer.config.get("axis", -1)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise _error(f"{layer.where}: axis is not an integer")
        listed = [names.tensor(node.inputs[0]), *others]
        return f"concat {' '.join(listed)}" + (f" axis={axis}" if axis != -1 else "")
    if not others:
        raise _error(f"{layer.where} merges one tensor; it needs two or more")
    return f"{op} {' '.join(others)}"


def _call(layer: Layer, entry: Entry) -> str:
    """The layer's Keras call: the config's arguments, in the constructor's order, those
    without effect on any figure left out; a key the constructor does not take is an
    error."""
    sig = entry.torch
    assert sig is not None
    known = (*sig.args, *sig.kwonly)
    parts: list[tuple[str, str]] = []
    for key, value in layer.config.items():
        if key in _SKIP:
            continue
        if key not in known:
            raise _error(
                f"{layer.where}: its config has the key {key!r}, which Keras's "
                f"{layer.cls} does not take (known: {', '.join(known)})"
            )
        if key in sig.extra and key != "data_format":
            continue
        if key in sig.only and value == sig.only[key][0]:
            continue
        if key == "data_format" and value == "channels_last":
            continue
        if _is_default(value, entry, sig.renames.get(key, key)):
            continue
        parts.append((key, _literal(value, layer, key, 0)))
    # The required arguments by position, in the constructor's order, then the keys.
    given = dict(parts)
    front = [given.pop(k) for k in sig.args[: sig.required] if k in given]
    if len(front) < sig.required:
        front = []
        given = dict(parts)
    written = [*front, *(f"{k}={v}" for k, v in given.items())]
    return f"{layer.cls}({', '.join(written)})"


def _is_default(value: Any, entry: Entry, name: str) -> bool:
    """Whether the config's ``value`` is the kind's default (left out of the call)."""
    param = entry.by_key.get(name)
    if param is None or param.required:
        return False
    default = entry.fixed.get(name, param.default)
    if name == "activation" and value == "linear":
        return default is None
    if isinstance(value, list) and isinstance(default, tuple):
        if len(default) == 1:
            return all(v == default[0] and type(v) is type(default[0]) for v in value)
        return tuple(value) == default
    return value == default and type(value) is type(default)


def _literal(value: Any, layer: Layer, key: str, depth: int) -> str:
    """A JSON value as Python writes it (lists as tuples)."""
    if depth > 4:
        raise _error(f"{layer.where}: {key} is nested too deep")
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if not re.fullmatch(r"[\w.\-+ ]*", value):
            raise _error(
                f"{layer.where}: {key}={json.dumps(value)[:60]} is not a value convcalc reads"
            )
        return f'"{value}"'
    if isinstance(value, list):
        if len(value) > 64:
            raise _error(f"{layer.where}: {key} holds {len(value)} values")
        items = [_literal(v, layer, key, depth + 1) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise _error(
        f"{layer.where}: {key} is {json.dumps(value)[:60]}, a value convcalc does not read"
    )
