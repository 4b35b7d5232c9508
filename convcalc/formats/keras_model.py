"""Reading a Keras model's configuration: the JSON ``model.to_json()`` writes, or the
``config.json`` inside a ``.keras`` archive (read by formats/keras_file.py with the
standard library, in memory, within a size limit; nothing of Keras is imported and
nothing is executed).

Sequential and Functional models alike become spec text under Keras's conventions
(docs/frameworks.md#keras-model-files): each layer is its Keras call, built from its
config's arguments (those without effect on any figure, such as initializers, left
out) and followed by ``name=`` its Keras name; a Functional model's ``inbound_nodes``
become ``as``/``from`` and the merges ``add``/``mul``/``concat``; a layer called again
(shared) is ``use NAME``, its weights counted once; ``trainable: false`` is
``frozen``. A nested Sequential model's layers are read in its place.

A file that is not such a configuration — not JSON, not a zip, too large, nested too
deep (formats/keras_file.py reads the file), a layer or key convcalc does not know — is a
:class:`SpecError` naming the problem.
"""

from __future__ import annotations

import heapq
import json
from typing import TYPE_CHECKING, Any, BinaryIO

from convcalc.errors import SpecError
from convcalc.formats.keras_file import MAX_BYTES, load_config
from convcalc.formats.keras_spec import KerasReading, Layer, Node, emit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.network.analysis import Analysis

__all__ = ["MAX_BYTES", "KerasReading", "analyze_keras", "load_config", "read_config", "read_keras"]

MAX_LAYERS = 100_000
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
# Operations on a tensor and numbers (keras.ops.add(x, 3.0), MobileNetV3's hard sigmoid):
# their identity; each is read as the Rescaling it equals.
_SCALAR_OPS = {"Add": 0.0, "Multiply": 1.0}


def _error(message: str) -> SpecError:
    return SpecError(message)


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
    return emit(nodes, shape, output, str(name))._replace(nested=nested)


def _sequential(
    body: dict[str, Any], frozen: bool, depth: int, nested: dict[str, str]
) -> tuple[list[Node], tuple[int | None, ...] | None]:
    """A Sequential model's layers as a chain of nodes (nested Sequential ones inlined),
    and the input shape its configuration states."""
    if depth > _MAX_NESTING:
        raise _error(f"Sequential models nested more than {_MAX_NESTING} deep")
    layers = _list(body.get("layers"), "the Sequential model's layers")
    shape = _batch_shape(body.get("build_input_shape"), "build_input_shape")
    nodes: list[Node] = []
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
        nodes.append(Node(layer, 0, _after(previous)))
        previous = (layer.name, 0, 0)
        if len(nodes) > MAX_LAYERS:
            raise _error(f"more than {MAX_LAYERS:,} layers")
    return nodes, shape


def _after(previous: tuple[str, int, int] | None) -> tuple[tuple[str, int, int], ...]:
    return (previous,) if previous is not None else (("", 0, 0),)


def _nested(
    layer: Layer, depth: int, nested: dict[str, str]
) -> tuple[list[Node], tuple[int | None, ...] | None]:
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


def _layer(raw: Any, i: int, frozen: bool) -> Layer:
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
    return Layer(cls, name, config, frozen or config.get("trainable") is False, where)


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


def _input_shape(layer: Layer) -> tuple[int | None, ...] | None:
    for key in ("batch_shape", "batch_input_shape"):
        if key in layer.config:
            return _batch_shape(layer.config[key], f"{layer.where}'s {key}")
    return None


def _functional(
    body: dict[str, Any], frozen: bool, nested: dict[str, str]
) -> tuple[list[Node], tuple[int | None, ...] | None, tuple[str, int, int]]:
    layers = _list(body.get("layers"), "the Functional model's layers")
    if len(layers) > MAX_LAYERS:
        raise _error(f"more than {MAX_LAYERS:,} layers")
    inputs = _tensors(body.get("input_layers"), "input_layers")
    outputs = _tensors(body.get("output_layers"), "output_layers")
    if len(inputs) != 1:
        raise _error(f"the model has {len(inputs)} inputs; convcalc reads a model with one")
    if len(outputs) != 1:
        raise _error(f"the model has {len(outputs)} outputs; convcalc reads a model with one")
    by_name: dict[str, Layer] = {}
    nodes: list[Node] = []
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
            nodes.append(Node(called, k, takes))
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


def _scalar_op(layer: Layer, numbers: list[float]) -> Layer:
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


def _order(nodes: list[Node], output: tuple[str, int, int]) -> list[Node]:
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
