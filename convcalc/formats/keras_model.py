"""Reading a Keras model's configuration: the JSON ``model.to_json()`` writes, or the
``config.json`` inside a ``.keras`` archive (read with the standard library, in
memory, within a size limit; nothing of Keras is imported and nothing is executed).

Sequential and Functional models alike become spec text under Keras's conventions
(docs/frameworks.md#keras-model-files): each layer is its Keras call, built from its
config's arguments (those without effect on any figure, such as initializers, left
out) and followed by ``name=`` its Keras name; a Functional model's ``inbound_nodes``
become ``as``/``from`` and the merges ``add``/``mul``/``concat``; a layer called again
(shared) is ``use NAME``, its weights counted once; ``trainable: false`` is
``frozen``. A nested Sequential model's layers are read in its place.

A file that is not such a configuration — not JSON, not a zip, too large, nested too
deep, a layer or key convcalc does not know — is a :class:`SpecError` naming the problem.
"""

from __future__ import annotations

import heapq
import io
import json
import re
import struct
import zipfile
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from convcalc.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.kinds.layer import Entry
    from convcalc.network.analysis import Analysis

__all__ = ["KerasReading", "analyze_keras", "load_config", "read_config", "read_keras"]

# A model's configuration is a few megabytes at most (NASNetLarge's: ~5 MB).
MAX_BYTES = 64 * 2**20
MAX_LAYERS = 100_000
_MAX_ENTRIES = 10_000  # files in a .keras archive (a real one holds three)
_MAX_NESTING = 16  # Sequential models inside one another

# The layer keys of a Keras 3 (and tf.keras 2) configuration.
_LAYER_KEYS = frozenset(
    {
        "class_name",
        "config",
        "name",
        "inbound_nodes",
        "module",
        "registered_name",
        "build_config",
        "compile_config",
        "shared_object_id",
    }
)
_MODELS = ("Sequential", "Functional", "Model")
# Merges: the graph statement each is (CustomScaleLayer, InceptionResNetV2's x + s·y:
# an add, with no weights).
_MERGES = {"Add": "add", "Multiply": "mul", "Concatenate": "concat", "CustomScaleLayer": "add"}
# Operations on a tensor and numbers (keras.ops.add(x, 3.0), MobileNetV3's hard sigmoid):
# their identity; each is read as the Rescaling it equals.
_SCALAR_OPS = {"Add": 0.0, "Multiply": 1.0}
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


# -- the file -----------------------------------------------------------------


def load_config(data: bytes | BinaryIO | str) -> Any:
    """The configuration (a dict) in ``data``: JSON text, or a .keras archive (bytes, a
    binary file object, or a path). Raises SpecError for anything else."""
    if isinstance(data, str):
        try:
            with open(data, "rb") as opened:
                return load_config(opened)
        except OSError as exc:
            raise _error(f"cannot read it ({exc.strerror or exc})") from None
    handle: BinaryIO = io.BytesIO(data) if isinstance(data, bytes) else data
    head = handle.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        handle.seek(0)
        return _parse(_from_zip(handle), "config.json")
    if head.startswith(b"\x89HDF"):
        raise _error(
            "an HDF5 file (.h5), which convcalc does not read: give model.to_json() or a "
            ".keras archive (model.save('model.keras'))"
        )
    rest = handle.read(MAX_BYTES + 1 - len(head))
    text = head + rest
    if len(text) > MAX_BYTES:
        raise _error(
            f"larger than {MAX_BYTES // 2**20} MiB, far more than a model's configuration "
            "(is it a weights file?)"
        )
    return _parse(text, "the file")


def _from_zip(handle: BinaryIO) -> bytes:
    """config.json from a .keras archive, read within MAX_BYTES whatever its header says."""
    _check_directory(handle)
    try:
        with zipfile.ZipFile(handle) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise _error("a zip archive without config.json: not a .keras file") from None
            if info.file_size > MAX_BYTES:
                raise _error(
                    f"its config.json says it holds {info.file_size:,} bytes, more than the "
                    f"{MAX_BYTES // 2**20} MiB a model's configuration may take"
                )
            with archive.open(info) as member:
                data = member.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise _error(
                    f"its config.json unpacks to more than {MAX_BYTES // 2**20} MiB (a zip bomb?)"
                )
            return data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise _error(f"a damaged or unsupported zip archive ({exc})") from None
    except RuntimeError as exc:  # an encrypted member
        raise _error(f"a zip archive convcalc cannot read ({exc})") from None


def _check_directory(handle: BinaryIO) -> None:
    """Refuse an archive whose central directory lists more than _MAX_ENTRIES files or
    takes more than MAX_BYTES, before zipfile reads it all into memory."""
    end = handle.seek(0, io.SEEK_END)
    tail_at = max(0, end - (2**16 + 22))
    handle.seek(tail_at)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _error("a damaged zip archive: no end of its central directory")
    entries, size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or size == 0xFFFFFFFF:  # ZIP64: the sizes are in its own record
        loc = at - 20
        if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
            (record,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
            handle.seek(record)
            z64 = handle.read(56)
            if len(z64) == 56 and z64[:4] == b"PK\x06\x06":
                entries, size = struct.unpack("<QQ", z64[32:48])
    if entries > _MAX_ENTRIES or size > MAX_BYTES:
        raise _error(
            f"a zip archive listing {entries:,} files ({size:,} bytes of directory): a .keras "
            "file holds a few"
        )
    handle.seek(0)


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def _parse(data: bytes, what: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "expected model.to_json() or a .keras archive"
        ) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _error(
            f"{what} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): expected "
            "model.to_json() or a .keras archive"
        ) from None
    except RecursionError:
        raise _error(f"{what} is JSON nested too deep for a model's configuration") from None
    except ValueError as exc:  # NaN, Infinity, a number of thousands of digits
        raise _error(f"{what} is not a model's configuration: {exc}") from None


# -- the model ----------------------------------------------------------------


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(f"{what} is not a JSON object (got {type(value).__name__})")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _error(f"{what} is not a JSON list (got {type(value).__name__})")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _error(f"{what} is not a string (got {type(value).__name__})")
    return value


class _Layer(NamedTuple):
    cls: str
    name: str
    config: dict[str, Any]
    frozen: bool
    where: str  # how messages name it


class _Node(NamedTuple):
    """One call of a layer: its inputs, tensors (layer name, node, tensor index)."""

    layer: _Layer
    call: int  # which call of the layer (Keras's node index)
    inputs: tuple[tuple[str, int, int], ...]


def read_config(config: Any) -> KerasReading:
    """Spec text for a Keras model's configuration (the object to_json() writes)."""
    top = _dict(config, "the file")
    cls = top.get("class_name")
    if cls not in _MODELS:
        got = f"its class_name is {cls!r}" if isinstance(cls, str) else "it has no class_name"
        raise _error(
            f"not a Keras model's configuration: {got}; expected Sequential or Functional "
            "(model.to_json(), or config.json in a .keras archive)"
        )
    body = _dict(top.get("config"), f"the {cls} model's config")
    name = body.get("name") if isinstance(body.get("name"), str) else "model"
    frozen = body.get("trainable") is False
    nested: dict[str, str] = {}
    if cls == "Sequential":
        nodes, shape = _sequential(body, frozen, 0, nested)
        output = (nodes[-1].layer.name, 0, 0) if nodes else None
    else:
        nodes, shape, output = _functional(body, frozen, nested)
    return _emit(nodes, shape, output, str(name))._replace(nested=nested)


def _sequential(
    body: dict[str, Any], frozen: bool, depth: int, nested: dict[str, str]
) -> tuple[list[_Node], tuple[int | None, ...] | None]:
    """A Sequential model's layers as a chain of nodes (nested Sequential ones inlined),
    and the input shape its configuration states."""
    if depth > _MAX_NESTING:
        raise _error(f"Sequential models nested more than {_MAX_NESTING} deep")
    layers = _list(body.get("layers"), "the Sequential model's layers")
    shape = _batch_shape(body.get("build_input_shape"), "build_input_shape")
    nodes: list[_Node] = []
    previous: tuple[str, int, int] | None = None
    for i, raw in enumerate(layers):
        layer = _layer(raw, i, frozen)
        if layer.cls == "InputLayer":
            shape = _input_shape(layer)
            continue
        if shape is None:
            for key in ("batch_shape", "batch_input_shape"):
                if key in layer.config:
                    shape = _batch_shape(layer.config[key], f"{layer.where}'s {key}")
        if layer.cls in _MODELS:
            inner, inner_shape = _nested(layer, depth, nested)
            shape = shape if shape is not None else inner_shape
            for node in inner:
                inputs = node.inputs if node is not inner[0] else _after(previous)
                nodes.append(node._replace(inputs=inputs))
                previous = (node.layer.name, 0, 0)
            continue
        nodes.append(_Node(layer, 0, _after(previous)))
        previous = (layer.name, 0, 0)
        if len(nodes) > MAX_LAYERS:
            raise _error(f"more than {MAX_LAYERS:,} layers")
    return nodes, shape


def _after(previous: tuple[str, int, int] | None) -> tuple[tuple[str, int, int], ...]:
    return (previous,) if previous is not None else (("", 0, 0),)


def _nested(
    layer: _Layer, depth: int, nested: dict[str, str]
) -> tuple[list[_Node], tuple[int | None, ...] | None]:
    if layer.cls != "Sequential":
        raise _error(
            f"{layer.where} is a nested {layer.cls} model, which convcalc does not read "
            "inside another (a nested Sequential one it does)"
        )
    inner, shape = _sequential(layer.config, layer.frozen, depth + 1, nested)
    if not inner:
        raise _error(f"{layer.where} is an empty Sequential model")
    nested[layer.name] = inner[-1].layer.name
    return inner, shape


def _layer(raw: Any, i: int, frozen: bool) -> _Layer:
    where = f"layer {i + 1}"
    entry = _dict(raw, where)
    unknown = sorted(set(entry) - _LAYER_KEYS)
    cls = _str(entry.get("class_name"), f"{where}'s class_name")
    config = _dict(entry.get("config", {}), f"{where}'s config")
    name = entry.get("name", config.get("name"))
    name = _str(name, f"{where}'s name") if name is not None else f"{cls.lower()}_{i + 1}"
    where = f"layer {i + 1} ({name!r}, {cls})"
    if unknown:
        raise _error(f"{where} has keys convcalc does not know: {', '.join(unknown)}")
    return _Layer(cls, name, config, frozen or config.get("trainable") is False, where)


def _batch_shape(value: Any, what: str) -> tuple[int | None, ...] | None:
    if value is None:
        return None
    sizes = _list(value, what)
    if len(sizes) > 16 or not all(
        s is None or (isinstance(s, int) and not isinstance(s, bool) and s >= 0) for s in sizes
    ):
        raise _error(f"{what} is not a shape: {json.dumps(sizes)[:80]}")
    if not sizes:
        raise _error(f"{what} is empty")
    return tuple(sizes[1:])


def _input_shape(layer: _Layer) -> tuple[int | None, ...] | None:
    for key in ("batch_shape", "batch_input_shape"):
        if key in layer.config:
            return _batch_shape(layer.config[key], f"{layer.where}'s {key}")
    return None


def _functional(
    body: dict[str, Any], frozen: bool, nested: dict[str, str]
) -> tuple[list[_Node], tuple[int | None, ...] | None, tuple[str, int, int]]:
    layers = _list(body.get("layers"), "the Functional model's layers")
    if len(layers) > MAX_LAYERS:
        raise _error(f"more than {MAX_LAYERS:,} layers")
    inputs = _tensors(body.get("input_layers"), "input_layers")
    outputs = _tensors(body.get("output_layers"), "output_layers")
    if len(inputs) != 1:
        raise _error(f"the model has {len(inputs)} inputs; convcalc reads a model with one")
    if len(outputs) != 1:
        raise _error(f"the model has {len(outputs)} outputs; convcalc reads a model with one")
    by_name: dict[str, _Layer] = {}
    nodes: list[_Node] = []
    shape = None
    expanded: dict[str, tuple[str, int, int]] = {}  # a nested Sequential: its last layer
    for i, raw in enumerate(layers):
        layer = _layer(raw, i, frozen)
        if layer.name in by_name:
            raise _error(f"{layer.where}: two layers are named {layer.name!r}")
        by_name[layer.name] = layer
        calls = _list(raw.get("inbound_nodes", []), f"{layer.where}'s inbound_nodes")
        if layer.cls == "InputLayer":
            if (layer.name, 0, 0) == inputs[0]:
                shape = _input_shape(layer)
            continue
        if layer.cls in _MODELS:
            if len(calls) != 1:
                raise _error(f"{layer.where}: a nested model called {len(calls)} times")
            inner, _ = _nested(layer, 0, nested)
            (given,) = (_node_inputs(c, layer.where) for c in calls)
            for node in inner:
                nodes.append(node._replace(inputs=given if node is inner[0] else node.inputs))
            expanded[layer.name] = (inner[-1].layer.name, 0, 0)
            continue
        for k, call in enumerate(calls):
            numbers = [_SCALAR_OPS[layer.cls]] if layer.cls in _SCALAR_OPS else None
            takes = _node_inputs(call, layer.where, numbers)
            called = layer
            if numbers is not None and len(numbers) > 1:
                if len(takes) != 1:
                    raise _error(f"{layer.where} takes numbers and {len(takes)} tensors")
                called = _scalar_op(layer, numbers)
            nodes.append(_Node(called, k, takes))
    if inputs[0][0] not in by_name or by_name[inputs[0][0]].cls != "InputLayer":
        raise _error(f"input_layers names {inputs[0][0]!r}, which is not an InputLayer")
    # Tensors of a nested model: its last layer's.
    nodes = [n._replace(inputs=tuple(expanded.get(t[0], t) for t in n.inputs)) for n in nodes]
    output = expanded.get(outputs[0][0], outputs[0])
    source = inputs[0]
    nodes = [
        n._replace(inputs=tuple(("", 0, 0) if t == source else t for t in n.inputs)) for n in nodes
    ]
    return _order(nodes, output), shape, output


def _tensors(value: Any, what: str) -> list[tuple[str, int, int]]:
    items = _list(value, what)
    if len(items) == 3 and isinstance(items[0], str):  # a single [name, node, tensor]
        items = [items]
    return [_history(item, what) for item in items]


def _history(item: Any, what: str) -> tuple[str, int, int]:
    parts = _list(item, what)
    if (
        len(parts) < 3
        or not isinstance(parts[0], str)
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in parts[1:3])
    ):
        raise _error(f"{what}: {json.dumps(parts)[:80]} is not [layer name, node, tensor]")
    if parts[2] != 0:
        raise _error(
            f"{what}: output {parts[2]} of layer {parts[0]!r}: convcalc reads layers with "
            "one output"
        )
    return parts[0], parts[1], 0


def _node_inputs(
    call: Any, where: str, numbers: list[float] | None = None
) -> tuple[tuple[str, int, int], ...]:
    """The tensors a call takes: Keras 3's {"args": [...], "kwargs": {...}}, or tf.keras
    2's [[name, node, tensor, kwargs], …]. ``numbers`` (a list holding its operation's
    identity): collects the numbers an operation such as keras.ops.add takes."""
    if isinstance(call, list):  # tf.keras 2
        return tuple(_history(item, f"{where}'s inbound_nodes") for item in call)
    node = _dict(call, f"{where}'s inbound node")
    args = _list(node.get("args", []), f"{where}'s inbound node args")
    found: list[tuple[str, int, int]] = []
    for arg in args:
        for item in arg if isinstance(arg, list) else [arg]:
            if isinstance(item, (int, float)) and not isinstance(item, bool) and numbers:
                numbers.append(float(item))  # keras.ops.add(x, 3.0)
                continue
            found.append(_keras_tensor(item, where))
    for key, value in _dict(node.get("kwargs", {}), f"{where}'s kwargs").items():
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            raise _error(
                f"{where} takes a tensor as its argument {key}=, which convcalc does not read"
            )
    if not found:
        raise _error(f"{where} is called on no tensor")
    return tuple(found)


def _scalar_op(layer: _Layer, numbers: list[float]) -> _Layer:
    """keras.ops.add(x, a) as Rescaling(1.0, offset=a), keras.ops.multiply(x, a) as
    Rescaling(a): the same shape, no weights."""
    if layer.cls == "Add":
        config = {"scale": 1.0, "offset": sum(numbers)}
    else:
        scale = 1.0
        for n in numbers[1:]:
            scale *= n
        config = {"scale": scale, "offset": 0.0}
    return layer._replace(cls="Rescaling", config={"name": layer.name, **config})


def _keras_tensor(item: Any, where: str) -> tuple[str, int, int]:
    if not (isinstance(item, dict) and item.get("class_name") == "__keras_tensor__"):
        raise _error(
            f"{where} is called with {json.dumps(item)[:60]}, which is not a tensor "
            "(convcalc reads layers called on tensors only)"
        )
    config = _dict(item.get("config"), f"{where}'s input tensor")
    return _history(config.get("keras_history"), f"{where}'s keras_history")


def _order(nodes: list[_Node], output: tuple[str, int, int]) -> list[_Node]:
    """The nodes the output depends on, each after its inputs, in the file's order
    where it allows (Kahn's algorithm with the file's position as priority)."""
    made = {(n.layer.name, n.call, 0): i for i, n in enumerate(nodes)}
    made[("", 0, 0)] = -1
    for n in nodes:
        for t in n.inputs:
            if t not in made:
                raise _error(
                    f"{n.layer.where} takes the output of {t[0]!r} (call {t[1]}), which no "
                    "layer of the model makes"
                )
    if output not in made or made[output] < 0:
        raise _error(f"output_layers names {output[0]!r}, which no layer of the model makes")
    needed = {made[output]}
    stack = [made[output]]
    while stack:
        for t in nodes[stack.pop()].inputs:
            i = made[t]
            if i >= 0 and i not in needed:
                needed.add(i)
                stack.append(i)
    waiting = {i: sum(1 for t in nodes[i].inputs if made[t] >= 0) for i in needed}
    users: dict[int, list[int]] = {}
    for i in needed:
        for t in nodes[i].inputs:
            if made[t] >= 0:
                users.setdefault(made[t], []).append(i)
    ready = [i for i, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users.get(i, ()):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(needed):
        raise _error("the model's layers form a cycle")
    return [nodes[i] for i in order]


# -- spec text ----------------------------------------------------------------


def _emit(
    nodes: Sequence[_Node],
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


def _merge(layer: _Layer, node: _Node, names: _Names) -> str:
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


def _call(layer: _Layer, entry: Entry) -> str:
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


def _literal(value: Any, layer: _Layer, key: str, depth: int) -> str:
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


def read_keras(data: bytes | BinaryIO | str) -> KerasReading:
    """Spec text for a Keras model file (a path, its bytes or a binary file object)."""
    return read_config(load_config(data))


def analyze_keras(
    data: bytes | BinaryIO | str,
    input_shape: str | Sequence[int] | None = None,
    *,
    batch: int = 1,
) -> Analysis:
    """A Keras model file analysed, as ``--from-keras`` does (``input_shape``, channels
    last, replaces the file's; it must be given where the file leaves a size open)."""
    from convcalc.network.analysis import analyze

    reading = read_keras(data)
    check_input(reading, input_shape is not None)
    return analyze(reading.spec, input_shape, batch=batch)


def check_input(reading: KerasReading, given: bool) -> None:
    """A model whose input size Keras leaves open needs one (-i)."""
    if not given and None in reading.input:
        shown = "×".join("None" if s is None else str(s) for s in reading.input)
        raise _error(
            f"the model's input shape is {shown}: give its size with -i "
            f"(e.g. -i {'x'.join('224' if s is None else str(s) for s in reading.input)})"
        )
