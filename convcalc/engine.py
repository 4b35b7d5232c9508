"""Propagation of a shape through a chain of layers, and the result objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from .errors import ConvcalcError, LayerError, ShapeError, SpecError
from .layers import KINDS, Layer, Out, Shape, bind
from .layers.activation import Activation
from .spec import INT_LIMIT, InputStmt, LayerStmt, Program, parse, parse_value

__all__ = [
    "DTYPES",
    "Analysis",
    "InternalError",
    "LayerResult",
    "Memory",
    "ReceptiveField",
    "analyze",
    "parse_shape",
]

# Bytes per element of the dtypes offered for memory figures.
DTYPES = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "float8": 1,
}
DTYPE_ALIASES = {
    "fp32": "float32",
    "float": "float32",
    "fp16": "float16",
    "half": "float16",
    "bf16": "bfloat16",
    "fp64": "float64",
    "double": "float64",
    "fp8": "float8",
}


class InternalError(ConvcalcError):
    """A bug in convcalc itself, reported instead of a traceback."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. An analysis makes many small objects and
    no reference cycles: the collector would only rescan them again and again,
    which makes long chains superlinear."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ReceptiveField(NamedTuple):
    """Per spatial dim: receptive-field size, effective stride (jump) and the input
    index where output element 0's field starts (negative = in the padding)."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    start: tuple[int, ...]

    def to_dict(self) -> dict[str, list[int]]:
        return {"size": list(self.size), "stride": list(self.stride), "start": list(self.start)}


class LayerResult(NamedTuple):
    """One layer's figures for the shape that reached it."""

    # 1-based position in the chain. (It shadows tuple.index, which nobody needs
    # here; a NamedTuple is the cheapest immutable record to make 100,000 of.)
    index: int  # type: ignore[assignment]
    kind: str  # canonical kind, e.g. "conv2d"
    spec: str  # the layer as written
    input: Shape
    output: Shape
    params: int | None
    buffers: int | None
    macs: int | None
    rf: ReceptiveField | None
    layer: Layer  # the layer object, as bound from the text
    int64_buffers: int | None = 0  # elements of ``buffers`` stored as int64

    @property
    def trainable(self) -> int | None:
        # Every PyTorch parameter requires grad unless frozen by the user.
        return self.params

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "spec": self.spec,
            "input": list(self.input),
            "output": list(self.output),
            "params": self.params,
            "trainable": self.trainable,
            "buffers": self.buffers,
            "macs": self.macs,
            "rf": None if self.rf is None else self.rf.to_dict(),
        }


class Memory(NamedTuple):
    """Memory figures in bytes at a batch size and dtype (None when unknown)."""

    batch: int
    dtype: str
    params: int | None  # parameters (and buffers) held by the model
    activations_peak: int | None  # largest input+output pair of one layer (inference)
    activations_total: int | None  # every layer's output kept (as for training)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "dtype": self.dtype,
            "params_bytes": self.params,
            "activations_peak_bytes": self.activations_peak,
            "activations_total_bytes": self.activations_total,
        }


def _sum(values: Sequence[int | None]) -> int | None:
    total = 0
    for v in values:
        if v is None:
            return None
        total += v
    return total


def _numel(shape: Shape) -> int | None:
    out = 1
    for v in shape:
        if v is None:
            return None
        out *= v
    return out


class Analysis(NamedTuple):
    """The result of analysing a chain: per-layer results and totals."""

    input: Shape
    layers: tuple[LayerResult, ...]
    batch: int = 1  # the batch size the analysis was made for

    @property
    def output(self) -> Shape:
        return self.layers[-1].output if self.layers else self.input

    @property
    def params(self) -> int | None:
        return _sum([lay.params for lay in self.layers])

    @property
    def trainable(self) -> int | None:
        return _sum([lay.trainable for lay in self.layers])

    @property
    def buffers(self) -> int | None:
        return _sum([lay.buffers for lay in self.layers])

    @property
    def macs(self) -> int | None:
        return _sum([lay.macs for lay in self.layers])

    @property
    def rf(self) -> ReceptiveField | None:
        return self.layers[-1].rf if self.layers else None

    def memory(self, batch: int | None = None, dtype: str = "float32") -> Memory:
        """Parameter and activation memory at ``batch`` (default: the analysis's
        batch) and ``dtype``."""
        if batch is None:
            batch = self.batch
        dtype = DTYPE_ALIASES.get(dtype.lower(), dtype.lower())
        if dtype not in DTYPES:
            raise SpecError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
        if batch < 1:
            raise SpecError(f"batch must be at least 1, got {batch}")
        size = DTYPES[dtype]
        params, buffers = self.params, self.buffers
        param_bytes = None if params is None or buffers is None else (params + buffers) * size
        peak: int | None = _numel(self.input)
        total: int | None = _numel(self.input)
        for lay in self.layers:
            n_in, n_out = _numel(lay.input), _numel(lay.output)
            if n_in is None or n_out is None or peak is None or total is None:
                peak = total = None
                break
            peak = max(peak, n_in + n_out)
            total += n_out
        return Memory(
            batch,
            dtype,
            param_bytes,
            None if peak is None else peak * batch * size,
            None if total is None else total * batch * size,
        )

    def to_dict(self, batch: int | None = None, dtype: str = "float32") -> dict[str, Any]:
        """SPEC.md §3's JSON object (plus receptive fields and memory)."""
        with _gc_paused():
            layers = [lay.to_dict() for lay in self.layers]
        return {
            "input": list(self.input),
            "layers": layers,
            "output": list(self.output),
            "total": {
                "params": self.params,
                "trainable": self.trainable,
                "buffers": self.buffers,
                "macs": self.macs,
            },
            "memory": self.memory(batch, dtype).to_dict(),
        }


def parse_shape(text: str | Sequence[int]) -> tuple[int, ...]:
    """A shape from ``3x224x224``, ``3,224,224``, ``(3, 224, 224)`` or a sequence."""
    if isinstance(text, str):
        value = parse_value(text)
        sizes = []
        for atom in value.atoms():
            if atom.kind != "int":
                raise SpecError(
                    f"a shape holds whole numbers, got {text[atom.start : atom.end]!r}",
                    source=text,
                    start=atom.start,
                    end=atom.end,
                )
            if atom.value < 1:  # type: ignore[operator]
                raise SpecError(
                    f"every size in a shape must be at least 1, got {atom.value}",
                    source=text,
                    start=atom.start,
                    end=atom.end,
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


def _resolve_input(sizes: tuple[int, ...], layers: Sequence[Layer]) -> Shape:
    """Give the channel dimension meaning: a shape with exactly as many sizes as
    the first spatial layer has spatial dims (or one size, for 2-d/3-d) is a map
    with an unknown channel count."""
    rank = None
    for layer in layers:
        if isinstance(layer, Activation):
            continue
        rank = layer.spatial_rank()
        break
    if rank is not None:
        if len(sizes) == rank:
            return (None, *sizes)
        if len(sizes) == 1 and rank > 1:
            return (None, *(sizes * rank))
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
) -> Analysis:
    """Parse ``spec`` and propagate ``input_shape`` through it.

    ``input_shape`` excludes the batch dimension (channels first); if omitted,
    the spec must start with ``input SHAPE``. ``batch`` is the batch size: it sets
    the memory figures, and a few layers (norms that use the batch's statistics)
    reject a batch of one. Layers are taken in inference (eval) mode. Raises
    SpecError for malformed text and ShapeError for a network PyTorch would reject.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a whole number of at least 1, got {batch!r}")
    # Parsed here, outside the block below: its errors point into the shape's own
    # text, not into the spec file.
    sizes = None if input_shape is None else parse_shape(input_shape)
    try:
        with _gc_paused():
            return _analyze(spec, sizes, batch)
    except SpecError as exc:
        if filename and not exc.filename:
            raise exc.located(filename) from None
        raise
    except RecursionError as exc:  # pragma: no cover - defensive
        raise InternalError(f"internal error: {exc!r}") from exc


def _analyze(spec: str | Program, input_sizes: tuple[int, ...] | None, batch: int) -> Analysis:
    program = spec if isinstance(spec, Program) else parse(spec, KINDS)
    source = program.source
    shape_text: tuple[int, ...] | None = None
    stmts: list[LayerStmt] = []
    for stmt in program.statements:
        if isinstance(stmt, InputStmt):
            if stmts:
                raise SpecError(
                    "'input' must come before the first layer",
                    source=source,
                    start=stmt.start,
                    end=stmt.end,
                )
            if shape_text is not None:
                raise SpecError(
                    "the input shape is given twice", source=source, start=stmt.start, end=stmt.end
                )
            shape_text = parse_shape(source[stmt.value.start : stmt.value.end])
        else:
            stmts.append(stmt)
    if not stmts:
        raise SpecError("no layers given", source=source)
    # Networks repeat themselves (blocks of the same layers): bind each distinct
    # layer text once, and run each distinct (layer, input shape) pair once.
    bound: dict[str, Layer] = {}
    layers = []
    for stmt in stmts:
        layer = bound.get(stmt.text)
        if layer is None:
            layer = bound[stmt.text] = bind(stmt, source)
        layers.append(layer)
    seen: dict[tuple[str, Shape], Out] = {}
    # An explicit input_shape wins over the file's own 'input' line.
    if input_sizes is not None:
        sizes = input_sizes
    elif shape_text is not None:
        sizes = shape_text
    else:
        raise SpecError(
            "no input shape: pass one (e.g. -i 3x224x224) or start the spec with 'input 3x224x224'",
            source=source,
        )
    shape = _resolve_input(sizes, layers)
    results: list[LayerResult] = []
    # Receptive field, forward form (SEMANTICS.md §7): size r, jump j, left offset P.
    nsp = len(shape) - 1
    r: list[int] | None = [1] * nsp if nsp > 0 else None
    j: list[int] = [1] * nsp
    P: list[int] = [0] * nsp
    rf: ReceptiveField | None = (
        None if r is None else ReceptiveField(tuple(r), tuple(j), (0,) * nsp)
    )
    for index, (stmt, layer) in enumerate(zip(stmts, layers), start=1):
        key = (stmt.text, shape)
        try:
            out = seen.get(key)
            if out is None:
                out = seen[key] = _checked(layer.infer(shape, batch))
        except LayerError as exc:
            raise ShapeError(
                str(exc), index=index, text=stmt.text, results=tuple(results), input=shape
            ) from None
        except ConvcalcError:
            raise
        except Exception as exc:  # a bug: report it, never a traceback
            raise InternalError(
                f"layer {index} ({stmt.text}): internal error {exc!r}; please report it"
            ) from exc
        windows = out.rf
        if r is not None and windows != ():
            if windows is None or len(windows) != len(r):
                r = rf = None
            else:
                for i, (k, s, p) in enumerate(windows):
                    r[i] += (k - 1) * j[i]
                    P[i] += p * j[i]
                    j[i] *= s
                rf = ReceptiveField(tuple(r), tuple(j), tuple(-p for p in P))
        results.append(
            LayerResult(
                index,
                out.kind,
                stmt.text,
                shape,
                out.shape,
                out.params,
                out.buffers,
                out.macs,
                rf,
                layer,
                out.int64_buffers,
            )
        )
        shape = out.shape
    return Analysis(results[0].input, tuple(results), batch)
