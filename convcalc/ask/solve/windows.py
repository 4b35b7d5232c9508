"""The per-dimension search of a windowed layer (convolution, pooling, transposed
convolution, max unpooling): every (k, s, p, d, op) within the bounds that one
dimension accepts and the size it gives — the kind's to say (Layer.solve_size:
PyTorch's from convcalc.kinds.windows, Keras's and ONNX's by running the layer) —
and how simple an assignment is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from convcalc._records import NamedTuple
from convcalc.ask.solve.common import _Q, Limits
from convcalc.ask.solve.kinds import Kind
from convcalc.kinds import Layer
from convcalc.kinds.windows import Probe


class _Dim(NamedTuple):
    """What one spatial dimension of a windowed layer is: its input size, its target
    and its known values (None where unknown)."""

    size: int
    target: int
    known: tuple[Any, ...]  # one per _INT_KEYS entry (_Q: searched)
    # (which, of how many): for the per-dimension attributes not searched (ONNX's
    # output_shape); (0, 1) when they do not differ between the dimensions
    axis: tuple[int, int] = (0, 1)


def _pad_bound(k: int, d: int, limits: Limits) -> int:
    return limits.padding if limits.padding is not None else max(k, d * (k - 1))


def _kernels(known: Any, limits: Limits) -> Sequence[int]:
    return range(1, limits.kernel_size + 1) if known is _Q else (known,)


def _dilations(known: Any, wide: bool, limits: Limits) -> Sequence[int]:
    # Dilation does nothing to a 1-wide kernel: only d=1 is offered for it (a
    # transposed conv's dilation still allows a larger output_padding).
    return range(1, (limits.dilation if wide else 1) + 1) if known is _Q else (known,)


def _strides(known: Any, k: int, kind: Kind, limits: Limits) -> Sequence[int]:
    if known is not _Q:
        return (known,)
    if kind.stride_follows_kernel and k > limits.stride:
        return (*range(1, limits.stride + 1), k)  # a pool's default stride
    return range(1, limits.stride + 1)


def _dim_outputs(
    kind: Kind, dim: _Dim, layer: Layer, n: int, limits: Limits, channels: int | None
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Every (k, s, p, d, op) within the limits that this dimension accepts, with the
    output size it gives (the kind's solve_size). Keys the kind lacks stay at their
    neutral value."""
    fk, fs, fp, fd, fop = dim.known
    has = kind.attrs
    transposed = "output_padding" in has
    words = [w for w in kind.words if w != "causal" or n == 1]  # causal: Conv1D only
    for k in _kernels(fk, limits):
        for d in _dilations(fd, k > 1 or transposed, limits) if "dilation" in has else (1,):
            for s in _strides(fs, k, kind, limits) if "stride" in has else (1,):
                if fp is not _Q:
                    pads: Sequence[Any] = (fp,)
                else:
                    bound = _pad_bound(k, d, limits)
                    if kind.half_pad:  # PyTorch's pools: p ≤ k // 2
                        bound = min(k // 2, bound)
                    numbers: list[Any] = [*range(bound + 1)] if kind.numeric_pad else []
                    if kind.pads_pairs:  # ONNX: one more at the end (SAME_UPPER's split)
                        numbers += [(p, p + 1) for p in range(bound)]
                    pads = [*numbers, *words]
                for p in pads if "padding" in has else (0,):
                    if fop is not _Q:
                        ops: Sequence[Any] = (fop,)
                    elif transposed:
                        default = kind.defaults["output_padding"]
                        ops = [*(() if default == 0 else (default,)), *range(max(s, d))]
                    else:
                        ops = (0,)
                    for op in ops:
                        if kind.dilation_for_op and k == 1 and d > 1 and op < s and fd is _Q:
                            continue  # the dilation of a 1-wide kernel only raises op's bound
                        values = (k, s, p, d, op)
                        probe = Probe(values, dim.size, n, channels, kind.channels_last, dim.axis)
                        out = layer.solve_size(probe)
                        if out is not None:
                            yield values, out


def _cost(
    keys: Sequence[str], values: dict[str, tuple[Any, ...]], kernel: tuple[int, ...], kind: Kind
) -> tuple[Any, ...]:
    """Simplicity of an assignment: (needs a tuple, keys off their default, distance
    from the defaults, the values in k, s, p, d, op order)."""
    off = 0
    dist = 0
    flat: list[Any] = []
    tuple_needed = False
    for key in keys:
        vals = values[key]
        if any(v != vals[0] for v in vals):
            tuple_needed = True
        if key == "kernel_size":
            off += 1
            dist += sum(v - 1 for v in vals)
        else:
            default = kind.defaults.get(key, 0)
            defaults = kernel if key == "stride" and default is None else (default,) * len(vals)
            moved = any(v != dv for v, dv in zip(vals, defaults))
            off += moved
            if any(isinstance(v, str) for v in vals):  # a padding word: 'same', …
                dist += sum(kernel) if moved else 0
            else:
                dist += sum(_away(v, dv) for v, dv in zip(vals, defaults))
        flat.extend(_rank(v) for v in vals)
    return (tuple_needed, off, dist, tuple(flat))


def _away(value: Any, default: int | None) -> int:
    """How far a value is from its default; None (Keras's output_padding left out)
    comes before every number; ONNX's (begin, end) pads count both."""
    if isinstance(value, tuple):
        return sum(value)
    if value is None or default is None:
        return 0 if value == default else 1 + (value or 0) + (default or 0)
    return abs(value - default)


def _rank(value: Any) -> int:
    """A value's place among its alternatives: None, then words, then numbers."""
    if value is None:
        return -1
    if isinstance(value, tuple):  # ONNX's (begin, end) pads
        return sum(value)
    return 0 if isinstance(value, str) else int(value)


def _dedupe(
    options: list[tuple[Any, ...]], index: dict[str, int], kind: Kind
) -> list[tuple[Any, ...]]:
    """The distinct assignments of the unknown keys only, simplest first."""
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for values in options:
        key = tuple(values[i] for i in index.values())
        seen.setdefault(key, values)
    # A key at its default first (a pool's stride counts as 1 here).
    defaults = {k: kind.defaults.get(k, -1) for k in index}
    if defaults.get("stride", 1) is None:
        defaults["stride"] = 1
    return sorted(
        seen.values(),
        key=lambda v: tuple(
            (0 if v[i] == defaults[k] else 1, _rank(v[i])) for k, i in index.items()
        ),
    )


def _per_axis_fields(kind: Kind, layer: Layer, n: int) -> bool:
    """Whether the layer has a per-dimension attribute the search leaves as it is."""
    for name in kind.per_axis:
        value = getattr(layer, name, None)
        if isinstance(value, tuple) and len(value) == n > 1:
            return True
    return False
