"""Propagation of shapes through a network (a chain is the simplest one), and
the result objects. Three parts are imported only when they are used: the error of a
failing layer (failure.py), weights used again, ``use`` and ``tie=`` (weights.py), and
block instances' subtotals, BlockResult, and their folding (subtotals.py). A graph's
merges read their operands through operands.py (labels, receptive fields' union)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc._gc import gc_paused
from convcalc._records import NamedTuple
from convcalc.errors import ConvcalcError, InternalError, LayerError, ShapeError, SpecError
from convcalc.kinds import Layer, Out, Shape
from convcalc.kinds.frameworks import TORCH, Framework
from convcalc.kinds.shapes import add_up, fmt_shape
from convcalc.language import INT_LIMIT, LayerStmt, Program, parse, parse_value, spec_error
from convcalc.network.graph import Graph, Node, build
from convcalc.network.memory import DTYPE_ALIASES, DTYPES, Memory

if TYPE_CHECKING:
    from convcalc.network.subtotals import BlockResult

__all__ = [
    "DTYPES",
    "DTYPE_ALIASES",
    "Analysis",
    "BlockResult",
    "InternalError",
    "LayerResult",
    "Memory",
    "ReceptiveField",
    "analyze",
    "parse_shape",
]


def __getattr__(name: str) -> Any:
    """BlockResult, whose home is network/subtotals.py, still importable from here."""
    if name == "BlockResult":
        from convcalc.network.subtotals import BlockResult

        return BlockResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ReceptiveField(NamedTuple):
    """Per spatial dim: receptive-field size, effective stride (jump) and the input
    index where output element 0's field starts (negative = in the padding)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    start: tuple[int, ...]

    def to_dict(self) -> dict[str, list[int]]:
        return {"size": list(self.size), "stride": list(self.stride), "start": list(self.start)}


class LayerResult(NamedTuple):
    """One layer's (or graph operation's) figures for the shapes that reached it."""

    # 1-based position in execution order. (It shadows tuple.index, which nobody
    # needs here; a NamedTuple is the cheapest immutable record to make 100,000 of.)
    index: int  # type: ignore[assignment]
    kind: str  # canonical kind, e.g. "conv2d"; graph operations: add, mul, concat, …
    spec: str  # the layer as written (block parameters substituted)
    input: Shape  # the (first) input's shape
    output: Shape
    params: int | None  # 0 where the layer reuses another's weights (``shared``)
    buffers: int | None
    macs: int | None
    rf: ReceptiveField | None
    layer: Layer  # the layer object, as bound from the text
    int64_buffers: int | None = 0  # elements of ``buffers`` stored as int64
    # The graph: the rows whose outputs this one reads (0 = the network's input).
    inputs: tuple[int, ...] = ()
    name: str | None = None  # the name its output was given (``as NAME``)
    block: tuple[str, ...] = ()  # the block instances it sits in, outermost first
    shared: int | None = None  # the row whose weights it applies again
    side: bool = False  # on a side output that eval mode does not run
    frozen: bool = False  # its parameters do not require grad
    # Of ``params``, those the framework never trains (Keras's moving statistics).
    non_trainable: int | None = 0
    # The row whose weight it uses as its own (tie=NAME): ``params`` leaves that out.
    tied: int | None = None

    @property
    def trainable(self) -> int | None:
        if self.frozen:
            return 0
        if self.non_trainable == 0 or self.params is None:
            return self.params
        return None if self.non_trainable is None else self.params - self.non_trainable

    @property
    def is_block(self) -> bool:
        """See network/subtotals.py's BlockResult."""
        return False

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "spec": self.spec,
            # The figures a block's row shows too (subtotals.py's BlockResult.to_dict).
            "input": list(self.input),
            "output": list(self.output),
            "params": self.params,
            "trainable": self.trainable,
            "buffers": self.buffers,
            "macs": self.macs,
            "rf": None if self.rf is None else self.rf.to_dict(),
            "inputs": list(self.inputs),
            "name": self.name,
            "block": "/".join(self.block) if self.block else None,
            "shared": self.shared,
            "side": self.side,
            **({} if self.tied is None else {"tied": self.tied}),
        }


class Analysis(NamedTuple):
    """The result of analysing a network: per-row results in execution order, and
    totals. ``result`` is the row whose output the network returns (0: the input;
    -1: the last row)."""

    input: Shape
    layers: tuple[LayerResult, ...]
    batch: int = 1  # the batch size the analysis was made for
    result: int = -1
    blocks: tuple[BlockResult, ...] = ()  # every block instance, in execution order
    framework: str = "torch"  # whose conventions: torch, keras or onnx
    opset: int | None = None  # ONNX's opset
    indices: bool = False  # the input holds integer indices (an embedding reads it)
    outputs: tuple[int, ...] = ()  # the rows 'return' names after the result (also run)

    @property
    def output(self) -> Shape:
        if not self.layers or self.result == 0:
            return self.input
        return self.layers[self.result - 1 if self.result > 0 else -1].output

    @property
    def params(self) -> int | None:
        return add_up([lay.params for lay in self.layers])

    @property
    def trainable(self) -> int | None:
        return add_up([lay.trainable for lay in self.layers])

    @property
    def frozen(self) -> int | None:
        """Parameters that do not require grad (``frozen`` layers), and those the
        framework never trains (Keras's moving statistics)."""
        return add_up([lay.params if lay.frozen else lay.non_trainable for lay in self.layers])

    @property
    def buffers(self) -> int | None:
        return add_up([lay.buffers for lay in self.layers])

    @property
    def macs(self) -> int | None:
        """MACs of an eval-mode forward pass: side outputs are not run."""
        return add_up([lay.macs for lay in self.layers if not lay.side])

    @property
    def rf(self) -> ReceptiveField | None:
        if not self.layers or self.result == 0:
            return None
        return self.layers[self.result - 1 if self.result > 0 else -1].rf

    @property
    def side_outputs(self) -> tuple[LayerResult, ...]:
        """The rows that end a side branch (their outputs are not used)."""
        used = {i for lay in self.layers for i in lay.inputs}
        return tuple(lay for lay in self.layers if lay.side and lay.index not in used)

    def rows(self, depth: int | None = None) -> list[LayerResult | BlockResult]:
        """The rows to show: every layer, or with ``depth`` every block instance
        nested deeper than ``depth`` folded into one row (0: top-level blocks)."""
        if depth is None or not self.blocks:
            return list(self.layers)
        from convcalc.network.subtotals import folded

        return folded(self.layers, self.blocks, depth)

    def memory(self, batch: int | None = None, dtype: str = "float32") -> Memory:
        """Parameter and activation memory at ``batch`` (default: the analysis's
        batch) and ``dtype`` (see convcalc.network.memory for the definitions)."""
        from convcalc.network.memory import inference_memory

        return inference_memory(self, batch, dtype)

    def to_dict(
        self,
        batch: int | None = None,
        dtype: str = "float32",
        depth: int | None = None,
        memory: Memory | None = None,
    ) -> dict[str, Any]:
        """The JSON object of docs/output.md#json (plus receptive fields, the graph's structure and
        memory); with ``depth``, "layers" holds the rows of :meth:`rows`; ``memory``:
        the figures at ``batch`` and ``dtype``, when the caller has them already."""
        with gc_paused():
            layers = [row.to_dict() for row in self.rows(depth)]
        data: dict[str, Any] = {
            "input": list(self.input),
            "layers": layers,
            "output": list(self.output),
        }
        if self.framework != "torch":  # PyTorch's convention is the default
            head: dict[str, Any] = {"framework": self.framework}
            if self.opset is not None:
                head["opset"] = self.opset
            data = {**head, **data}
        if self.blocks:
            data["blocks"] = [b.to_dict() for b in self.blocks]
        if self.result != -1 and self.result != len(self.layers):
            data["result"] = self.result
        if self.outputs:
            data["outputs"] = list(self.outputs)
        side = self.side_outputs
        if side:
            data["side_outputs"] = [lay.index for lay in side]
        data.update(
            {
                "total": {
                    "params": self.params,
                    "trainable": self.trainable,
                    "buffers": self.buffers,
                    "macs": self.macs,
                },
                "memory": (memory or self.memory(batch, dtype)).to_dict(),
            }
        )
        return data


def parse_shape(text: str | Sequence[int]) -> tuple[int, ...]:
    """A shape from ``3x224x224``, ``3,224,224``, ``(3, 224, 224)`` or a sequence."""
    if isinstance(text, str):
        value = parse_value(text)
        sizes = []
        for atom in value.atoms():
            if atom.kind != "int":
                raise spec_error(
                    f"a shape holds whole numbers, got {text[atom.start : atom.end]!r}", text, atom
                )
            if atom.value < 1:  # type: ignore[operator]
                raise spec_error(
                    f"every size in a shape must be at least 1, got {atom.value}", text, atom
                )
            sizes.append(int(atom.value))  # type: ignore[arg-type]
        return tuple(sizes)
    try:
        sizes = [int(v) for v in text]
    except (TypeError, ValueError) as exc:
        raise SpecError(f"a shape is a sequence of whole numbers, got {text!r}") from exc
    if any(isinstance(v, bool) or not isinstance(v, int) for v in text):
        raise SpecError(f"a shape is a sequence of whole numbers, got {text!r}")
    if not sizes or any(v < 1 for v in sizes):
        raise SpecError(f"every size in a shape must be at least 1, got {tuple(sizes)}")
    return tuple(sizes)


def _resolve_input(
    sizes: tuple[int, ...], layers: Sequence[Layer], channels_last: bool = False
) -> Shape:
    """Give the channel dimension meaning: a shape with exactly as many sizes as
    the first spatial layer has spatial dims (or one size, for 2-d/3-d) is a map
    with an unknown channel count (first, or last under ``channels_last``)."""
    rank = None
    for layer in layers:
        if getattr(layer, "SHAPE_NEUTRAL", False):  # activations, Keras's Dropout, …
            continue
        rank = layer.spatial_rank()
        break
    if rank is not None:
        if len(sizes) == rank:
            return (*sizes, None) if channels_last else (None, *sizes)
        if len(sizes) == 1 and rank > 1:
            return (*(sizes * rank), None) if channels_last else (None, *(sizes * rank))
    return sizes


def _checked(out: Out) -> Out:
    """PyTorch sizes are int64: a larger one cannot be allocated, nor printed sanely."""
    for size in out.shape:
        if size is not None and size > INT_LIMIT:
            raise LayerError(f"an output size has {len(str(size))} digits: it overflows int64")
    return out


def analyze(
    spec: str | Program,
    input_shape: str | Sequence[int] | None = None,
    *,
    batch: int = 1,
    filename: str | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> Analysis:
    """Parse ``spec`` and propagate ``input_shape`` through it.

    ``spec`` is a chain of layers or a whole network (graph statements, blocks;
    see the README). ``input_shape`` excludes the batch dimension (channels first);
    if omitted, the spec must start with ``input SHAPE``. ``batch`` is the batch
    size: it sets the memory figures, and a few layers (norms that use the batch's
    statistics) reject a batch of one. Layers are taken in inference (eval) mode.
    ``framework`` is whose conventions apply: "torch" (PyTorch's, the default),
    "keras" (Keras 3, channels last) or "onnx" (``opset``: 13 and later); a spec
    may declare its own in its first statement, ``framework keras``, which must
    then agree with ``framework`` if both are given.
    Raises SpecError for malformed text and ShapeError for a network the framework
    would reject; both carry ``filename`` and the position of the statement at fault.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a whole number of at least 1, got {batch!r}")
    # Parsed here, outside the block below: its errors point into the shape's own
    # text, not into the spec file.
    sizes = None if input_shape is None else parse_shape(input_shape)
    try:
        with gc_paused():
            return _analyze(spec, sizes, batch, framework, opset)
    except (SpecError, ShapeError) as exc:
        if filename and not exc.filename:
            raise exc.located(filename) from None
        raise
    except RecursionError as exc:  # pragma: no cover - defensive
        raise InternalError(f"internal error: {exc!r}") from exc


def _framework(
    spec: str | Program, framework: str | None, opset: int | None
) -> tuple[Program, Framework]:
    """The parsed spec and the framework whose conventions apply: the one asked
    for, or the one the spec's first statement declares, or PyTorch's."""
    from convcalc.kinds import frameworks

    if framework is None and opset is None and isinstance(spec, str) and "framework" not in spec:
        return parse(spec, TORCH.kinds, calls=TORCH.classes), TORCH  # the common case
    source = spec.source if isinstance(spec, Program) else spec
    word = frameworks.declared(source)
    try:
        chosen = frameworks.get(word if word is not None else (framework or "torch"))
    except SpecError:  # a misspelt name: the statement's own check says so, in place
        chosen = frameworks.get(framework or "torch")
    if isinstance(spec, Program):
        program = spec
    else:  # a pasted keras.Sequential is read as the chain it spells, offsets kept
        text = frameworks.prepared(chosen, spec)
        try:
            program = parse(text, chosen.kinds, chosen.word_kinds, chosen.classes)
        except SpecError as exc:  # pointed at in the text as the user wrote it
            if text is spec:
                raise
            raise SpecError(exc.message, source=spec, start=exc.start, end=exc.end) from None
        if text is not spec:
            program = program._replace(source=spec)
    stmts = program.statements
    if stmts and isinstance(stmts[0], LayerStmt) and stmts[0].kind == "framework":
        fw = frameworks.from_statement(stmts[0], source, framework, opset)
        return program._replace(statements=stmts[1:]), fw
    return program, frameworks.get(framework or "torch", opset)


def _analyze(
    spec: str | Program,
    input_sizes: tuple[int, ...] | None,
    batch: int,
    framework: str | None = None,
    opset: int | None = None,
) -> Analysis:
    if isinstance(spec, str) and "include" in spec.lower():
        from convcalc.network.zoo import with_families  # include NAME: a family's blocks

        spec = with_families(spec)
    program, fw = _framework(spec, framework, opset)
    source = program.source
    graph = build(program, fw)
    # An explicit input_shape wins over the spec's own 'input' line (which must
    # still be well formed).
    own = None
    if graph.input_stmt is not None:
        value = graph.input_stmt.value
        own = parse_shape(source[value.start : value.end])
    if input_sizes is not None:
        sizes = input_sizes
    elif own is not None:
        sizes = own
    else:
        raise SpecError(
            "no input shape: pass one (e.g. -i 3x224x224) or start the spec with 'input 3x224x224'",
            source=source,
        )
    nodes = graph.nodes
    if not nodes:
        raise SpecError("no layers given", source=source)
    shape = _resolve_input(sizes, [node.op for node in nodes[:64]], fw.channels_last)
    indices, floats = _dtypes(nodes)
    refused = None
    if fw.name == "keras" and "Sequential" in source:  # a pasted keras.Sequential
        from convcalc.kinds.keras.sequential import refused as sequential_refused

        refused = sequential_refused(source, [(node.text, node.op) for node in nodes])
    try:
        results = _propagate(graph, shape, batch, fw.channels_last, floats, refused)
    except ShapeError as exc:
        exc.framework, exc.opset = fw.name, fw.opset  # for the rows shown above it
        raise
    blocks: tuple[BlockResult, ...] = ()
    if graph.instances:  # a spec that instantiates blocks: their subtotals
        from convcalc.network.subtotals import block_results

        blocks = block_results(graph, shape, results)
    return Analysis(
        shape,
        results,
        batch,
        graph.result,
        blocks,
        fw.name,
        fw.opset,
        indices,
        graph.outputs,
    )


def _dtypes(nodes: Sequence[Node]) -> tuple[bool, dict[int, int]]:
    """Which tensors hold integer indices (docs/language.md#integer-indices): whether the
    input does — a kind that reads indices reads it, directly or through kinds that keep
    the dtype —, and the nodes that read indices from floats, each with the tensor that
    made the floats (every kind but those makes floats)."""
    if not any(node.op.READS_INDICES for node in nodes):
        return False, {}
    carried = [True]  # tensor t has the input's dtype
    for node in nodes:
        carried.append(node.op.KEEPS_DTYPE and all(carried[t] for t in node.inputs))
    indices = any(node.op.READS_INDICES and carried[node.inputs[0]] for node in nodes)
    floats: dict[int, int] = {}
    for pos, node in enumerate(nodes):
        tensor = node.inputs[0]
        if node.op.READS_INDICES and not (indices and carried[tensor]):
            # Back through the dtype keepers to the node that made floats.
            while tensor and nodes[tensor - 1].op.KEEPS_DTYPE:
                tensor = next(t for t in nodes[tensor - 1].inputs if not carried[t])
            floats[pos] = tensor
    return indices, floats


def _propagate(
    graph: Graph,
    shape: Shape,
    batch: int,
    channels_last: bool = False,
    floats: dict[int, int] | None = None,
    refused: dict[int, str] | None = None,  # a layer the framework refuses where it is, why
) -> tuple[LayerResult, ...]:
    nodes = graph.nodes
    names = graph.names
    side = graph.side
    shapes: list[Shape] = [shape]
    nsp = len(shape) - 1
    fields: list[ReceptiveField | None] = [
        ReceptiveField((1,) * nsp, (1,) * nsp, (0,) * nsp) if nsp > 0 else None
    ]
    results: list[LayerResult] = []
    # Networks repeat themselves (blocks of the same layers): run each distinct
    # (layer text, input shape) pair once.
    seen: dict[tuple[str, Shape], Out] = {}
    for pos, node in enumerate(nodes):
        index = pos + 1
        inputs = node.inputs
        first = inputs[0]
        shape = shapes[first]
        if floats and pos in floats:
            from convcalc.network.failure import failure, float_indices
            from convcalc.network.operands import label

            made = "the input" if floats[pos] == 0 else label(graph, floats[pos])
            reason = float_indices(node, made, shape)
            raise failure(reason, graph, node, index, results, shape)
        if refused and pos in refused:
            from convcalc.network.failure import failure

            raise failure(refused[pos], graph, node, index, results, shape)
        try:
            if len(inputs) == 1:
                key = (node.text, shape)
                out = seen.get(key)
                if out is None:
                    out = seen[key] = _checked(node.op.infer(shape, batch))
            else:  # a graph's merge
                from convcalc.network.operands import infer_many

                out = _checked(infer_many(node, graph, shapes, batch))
        except LayerError as exc:
            reason = str(exc)
            unbatched = getattr(exc, "unbatched", None)
            if unbatched is not None and shape == shapes[0]:
                reason += (
                    "; did you include the batch? convcalc's -i excludes it: "
                    f"-i {fmt_shape(unbatched)}"
                )
            from convcalc.network.failure import failure

            raise failure(reason, graph, node, index, results, shape) from None
        except ConvcalcError:
            raise
        except Exception as exc:  # a bug: report it, never a traceback
            raise InternalError(
                f"layer {index} ({node.text}): internal error {exc!r}; please report it"
            ) from exc
        # Receptive field, forward form (docs/arithmetic.md#receptive-field):
        # size r, jump j, start −P.
        rf = fields[first]
        if len(inputs) > 1:  # the union of its operands' fields
            from convcalc.network.operands import merged_field

            rf = merged_field(node, fields, shapes, channels_last)
        windows = out.rf
        if rf is not None and windows != ():
            if windows is None or len(windows) != len(rf.size):
                rf = None
            else:
                size, stride, start = list(rf.size), list(rf.stride), list(rf.start)
                for i, (k, s, p) in enumerate(windows):
                    size[i] += (k - 1) * stride[i]
                    start[i] -= p * stride[i]
                    stride[i] *= s
                rf = ReceptiveField(tuple(size), tuple(stride), tuple(start))
        shared = node.shared
        if (
            shared is not None
            and None not in (out.params, results[shared].params)
            and out.params != results[shared].params
        ):
            from convcalc.network.weights import reused_elsewhere

            raise reused_elsewhere(out, node, shape, results[shared], graph, index, results)
        if node.tied is not None:
            from convcalc.network.weights import tied

            out = tied(out, node, shape, results[node.tied], graph, index, results)
        fields.append(rf)
        shapes.append(out.shape)
        params, buffers = (out.params, out.buffers) if shared is None else (0, 0)
        results.append(
            LayerResult(
                index,
                out.kind,
                node.text,
                shape,
                out.shape,
                params,
                buffers,
                out.macs,
                rf,
                node.op,
                out.int64_buffers if shared is None else 0,
                inputs,
                names.get(index),
                node.path,
                None if shared is None else shared + 1,
                pos in side,
                node.frozen,
                out.non_trainable if shared is None else 0,
                None if node.tied is None else node.tied + 1,
            )
        )
    return tuple(results)
