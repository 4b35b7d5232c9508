"""Memory figures of an analysed network, in bytes: what inference holds, and an
estimate of what training holds.

Pure arithmetic on an analysis's rows (anything with ``input`` and ``layers``
whose rows carry ``input``, ``output``, ``params``, ``trainable``, ``buffers``,
``int64_buffers`` and ``kind``); no click, no rich. Every figure is an exact
integer, ``None`` when a size it needs is unknown (a channel count not given).

Definitions (the README repeats them for users):

- **parameters** (inference and training): every parameter and buffer at the
  dtype's size, except buffers PyTorch keeps as int64 whatever the dtype
  (BatchNorm's ``num_batches_tracked``), which take 8 bytes.
- **peak activations** (inference): the largest input-plus-output pair of one
  layer, the batch included — a lower bound: kernel workspaces, padded copies,
  pooling indices and the allocator's rounding come on top.
- **activations kept for backward** (training): the input and every layer's
  output, once each.
- **key/value cache** (inference, decoders): what a causal attention keeps to decode
  one token at a time, at the input's sequence length L: ``2 · L · kv_heads · head_dim``
  elements a layer, batch included, at the dtype's size (``Layer.kv_cache``).
- **gradients**: one per trainable parameter; **optimizer state**: SGD keeps
  none, SGD with momentum one copy of the trainable parameters, Adam two.

A tensor of indices (the input of an ``embedding``) is int64: 8 bytes an element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from convcalc._records import NamedTuple
from convcalc.errors import SpecError
from convcalc.kinds.shapes import add_up, prod

if TYPE_CHECKING:  # protocols for the annotations only: creating them costs start-up time

    class Row(Protocol):
        """What the figures need of one analysed layer (a LayerResult)."""

        @property
        def kind(self) -> str: ...
        @property
        def input(self) -> tuple[int | None, ...]: ...
        @property
        def output(self) -> tuple[int | None, ...]: ...
        @property
        def params(self) -> int | None: ...
        @property
        def trainable(self) -> int | None: ...
        @property
        def buffers(self) -> int | None: ...
        @property
        def int64_buffers(self) -> int | None: ...
        @property
        def layer(self) -> Any: ...

    class Analysed(Protocol):
        """What the figures need of an analysis."""

        @property
        def input(self) -> tuple[int | None, ...]: ...
        @property
        def layers(self) -> Sequence[Row]: ...
        @property
        def batch(self) -> int: ...

    class InferenceFigures(Protocol):
        """What training_memory takes from the inference figures (a Memory)."""

        @property
        def batch(self) -> int: ...
        @property
        def dtype(self) -> str: ...
        @property
        def params(self) -> int | None: ...
        @property
        def activations_total(self) -> int | None: ...


__all__ = [
    "DTYPES",
    "DTYPE_ALIASES",
    "OPTIMIZERS",
    "OPTIMIZER_ALIASES",
    "Memory",
    "TrainingMemory",
    "dtype_name",
    "inference_memory",
    "optimizer_name",
    "training_memory",
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
INT64 = 8  # bytes of an int64 element: index tensors, num_batches_tracked

# Copies of the trainable parameters an optimizer keeps between steps:
# torch.optim.SGD without momentum none, with momentum its momentum_buffer,
# Adam/AdamW exp_avg and exp_avg_sq (plus a one-element step counter per
# parameter tensor, left out: a few bytes).
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2}
OPTIMIZER_ALIASES = {"adamw": "adam", "sgd-momentum": "momentum", "nesterov": "momentum"}

# Layer kinds whose input is a tensor of int64 indices.
INDEX_INPUT_KINDS = frozenset({"embedding"})


class Memory(NamedTuple):
    """Inference memory in bytes at a batch size and dtype (None when unknown)."""

    batch: int
    dtype: str
    params: int | None  # parameters and buffers held by the model
    activations_peak: int | None  # largest input+output pair of one layer: a lower bound
    activations_total: int | None  # the input and every layer's output, once each
    # The causal attentions' key/value cache at the input's length (0: no causal attention).
    kv_cache: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        out = {
            "batch": self.batch,
            "dtype": self.dtype,
            "params_bytes": self.params,
            "activations_peak_bytes": self.activations_peak,
            "activations_total_bytes": self.activations_total,
        }
        if self.kv_cache != 0:  # a decoder's: present when it has a causal attention
            out["kv_cache_bytes"] = self.kv_cache
        return out


class TrainingMemory(NamedTuple):
    """Training-memory estimate in bytes (None when a figure is unknown)."""

    batch: int
    dtype: str
    optimizer: str
    params: int | None  # parameters and buffers, as for inference
    gradients: int | None  # one per trainable parameter
    optimizer_state: int | None  # OPTIMIZERS[optimizer] copies of the trainable parameters
    activations: int | None  # kept for the backward pass: the input and every output
    total: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "dtype": self.dtype,
            "optimizer": self.optimizer,
            "params_bytes": self.params,
            "gradients_bytes": self.gradients,
            "optimizer_state_bytes": self.optimizer_state,
            "activations_bytes": self.activations,
            "total_bytes": self.total,
        }


def _choose(kind: str, name: str, names: Sequence[str], aliases: dict[str, str]) -> str:
    low = name.lower()
    low = aliases.get(low, low)
    if low in names:
        return low
    from convcalc.language import suggest

    hint = suggest(low, [*names, *aliases])
    message = f"unknown {kind} {name!r}; expected one of {', '.join(names)}"
    if hint:
        message += f" (did you mean {aliases.get(hint, hint)}?)"
    raise SpecError(message)


def dtype_name(dtype: str) -> str:
    """The canonical name of ``dtype`` (``fp16`` → ``float16``); SpecError if unknown."""
    return _choose("dtype", dtype, list(DTYPES), DTYPE_ALIASES)


def optimizer_name(optimizer: str) -> str:
    """The canonical name of ``optimizer`` (``adamw`` → ``adam``); SpecError if unknown."""
    return _choose("optimizer", optimizer, list(OPTIMIZERS), OPTIMIZER_ALIASES)


def _batch(analysis: Analysed, batch: int | None) -> int:
    if batch is None:
        batch = analysis.batch
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a whole number of at least 1, got {batch!r}")
    return batch


def _model_bytes(rows: Sequence[Row], size: int) -> int | None:
    """Parameters and buffers, each buffer at its real dtype."""
    total = 0
    for row in rows:
        params, buffers, wide = row.params, row.buffers, row.int64_buffers
        if params is None or buffers is None or wide is None:
            return None
        total += (params + buffers - wide) * size + wide * INT64
    return total


def _kv_cache(rows: Sequence[Row]) -> int | None:
    """Elements per sample of every causal attention's key/value cache."""
    total = 0
    for row in rows:
        n = row.layer.kv_cache(row.input)
        if n is None:
            return None
        total += n
    return total


def _activations(analysis: Analysed, size: int) -> tuple[int | None, int | None]:
    """Per sample: the most that is alive at once — the tensors still to be read
    (a skip connection's, say) plus the one being made; for a chain, the largest
    input-plus-output pair — and the input plus every row's output. A tensor that
    an embedding reads holds int64 indices."""
    rows = analysis.layers
    first = prod(analysis.input)
    index_input = False
    last_read: dict[int, int] = {}
    for n, row in enumerate(rows, start=1):
        reads = getattr(row, "inputs", ()) or (n - 1,)
        if 0 in reads and row.kind in INDEX_INPUT_KINDS:
            index_input = True
        for tensor in reads:
            last_read[tensor] = n
    if first is None:
        return None, None
    first *= INT64 if index_input else size
    live = {0: first}
    held = peak = total = first
    for n, row in enumerate(rows, start=1):
        n_out = prod(row.output)
        if n_out is None:
            return None, None
        n_out *= size
        peak = max(peak, held + n_out)
        total += n_out
        live[n] = n_out
        held += n_out
        for tensor in getattr(row, "inputs", ()) or (n - 1,):
            if last_read.get(tensor) == n and tensor in live:
                held -= live.pop(tensor)
    return peak, total


def inference_memory(
    analysis: Analysed, batch: int | None = None, dtype: str = "float32"
) -> Memory:
    """Parameter and activation memory at ``batch`` (default: the analysis's
    batch) and ``dtype``, in bytes."""
    batch = _batch(analysis, batch)
    dtype = dtype_name(dtype)
    size = DTYPES[dtype]
    peak, total = _activations(analysis, size)
    cache = _kv_cache(analysis.layers)
    return Memory(
        batch,
        dtype,
        _model_bytes(analysis.layers, size),
        None if peak is None else peak * batch,
        None if total is None else total * batch,
        None if cache is None else cache * batch * size,
    )


def training_memory(
    analysis: Analysed,
    batch: int | None = None,
    dtype: str = "float32",
    optimizer: str = "adam",
    *,
    inference: InferenceFigures | None = None,
) -> TrainingMemory:
    """Estimated memory of one training step at ``batch`` and ``dtype`` with
    ``optimizer`` (sgd, momentum or adam): parameters + gradients + optimizer
    state + activations kept for the backward pass, in bytes. ``inference``:
    the analysis's inference figures at the same batch and dtype, when already
    computed (their parameter bytes and activations are reused)."""
    if inference is None:
        inference = inference_memory(analysis, batch, dtype)
    optimizer = optimizer_name(optimizer)
    size = DTYPES[inference.dtype]
    trainable = add_up([row.trainable for row in analysis.layers])
    gradients = None if trainable is None else trainable * size
    state = None if gradients is None else OPTIMIZERS[optimizer] * gradients
    total = add_up([inference.params, gradients, state, inference.activations_total])
    return TrainingMemory(
        inference.batch,
        inference.dtype,
        optimizer,
        inference.params,
        gradients,
        state,
        inference.activations_total,
        total,
    )
