"""Solve for the hyperparameters that turn one shape into another.

Two entry points:

``solve(layer, input_shape, output_shape, *, limits=None) -> list[Solution]``
    One layer, e.g. ``"conv2d 64 k=7 p=?"``. Its unknowns are the keys marked ``?``
    (``p=?``, ``k=?``, ``adaptiveavgpool ?``); when none is marked, every solvable key
    the text leaves out. Solvable keys: kernel_size ``k``, stride ``s``, padding ``p``,
    dilation ``d`` and output_padding ``op`` of convolutions, transposed convolutions,
    max/avg/LP pooling and max unpooling (whichever the kind takes); the output size
    of adaptive pooling; ``size`` or ``scale`` of upsample/interpolate. A conv's or
    transposed conv's ``out_channels``, when left out or marked ``?``, is set to the
    target's channel count.

``solve_chain(spec, input_shape, output_shape, *, limits=None) -> list[Solution]``
    A chain or graph in which ``?`` marks unknown integer keys (k, s, p, d, op) in one
    or more layers; ``output_shape`` is the network's final output. A spec that is a
    single layer statement is handed to ``solve``.

Both take ``framework`` and ``opset`` as ``analyze`` does (a spec may declare its
own in a leading ``framework`` statement): under Keras the keys are its own
(``strides``, ``dilation_rate``, ``padding=valid|same|causal`` — a word, searched
like a number), shapes and targets are channels last, and a Conv's ``filters`` is
the channels chosen; under ONNX ``pads`` may also come back as ``same_upper`` or as
uneven begin/end pads (``p=1,1,1,2``). Keras's UpSampling solves its ``size`` (a
whole factor per axis), ONNX's Resize its ``sizes`` or ``scales`` (the shortest
decimal whose float32 gives the size). Their candidates come from the layer itself
run on one dimension (convcalc.solve_kinds), so they follow the framework's rules
exactly, ONNX's per-opset pooling included.

Both return every assignment within ``limits`` (default: k ≤ 11, s ≤ 4,
p ≤ max(k, d·(k−1)) — pools: p ≤ k//2 as PyTorch requires —, d ≤ 4,
op < max(s, d)) that the forward engine (``convcalc.analyze``) confirms turns the
input into exactly the output, as ``Solution`` records whose ``spec`` is the complete
runnable text. When none does they raise ``NoSolution`` (a ShapeError: exit 1),
whose ``nearest`` lists the closest reachable outputs and the specs that reach them.
Malformed text raises SpecError; a layer that fails whatever the unknowns are
raises the engine's ShapeError.

Order, simplest first:

1. assignments that use the same value in every spatial dimension before those that
   need a tuple (``k=3,5``);
2. fewer solved keys away from their default (s=1, p=0, d=1, op=0; a pool's stride
   defaults to its kernel size; a kernel size has no default);
3. smaller total distance from the defaults (a kernel size counts k − 1);
4. the values themselves, in the order k, s, p, d, op.

``padding=same`` is offered (last) when the padding is unknown, the kernel and
dilation are known and the stride is or may be 1 — it is the only padding that keeps
a size under an even kernel. For upsample, an integer scale comes first, then
``size``, then the shortest decimal scale whose float64 product floors to the target.

How: for single layers the candidates are derived per spatial dimension with the
layer's output formula (SEMANTICS.md §1–3), dimensions with the same input, target
and known values sharing one answer (so ``k=3`` is offered, not also ``k=3,5`` when
both would do); every candidate is then run through the engine. A 1-wide kernel's
dilation changes nothing, so only d=1 is offered for it (unless a transposed
convolution needs a larger dilation to allow its output_padding). Chains are
searched layer by layer, each candidate layer run on the shape that reaches it,
pruning what PyTorch rejects.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

from ._records import NamedTuple
from .engine import Analysis, _framework, _resolve_input, analyze, parse_shape
from .errors import LayerError, ShapeError, SpecError
from .frameworks import Framework
from .graph import build
from .layers import Layer, Shape, bind
from .layers.base import Entry, Param, given
from .layers.conv import Conv, ConvTranspose
from .layers.pool import AdaptivePool, AvgPool, LPPool, MaxUnpool, pool_output
from .layers.reshape import Upsample
from .solve_kinds import KEYS, Kind, dim_size, kind_of
from .spec import Arg, InputStmt, LayerStmt, Value

__all__ = ["Limits", "NoSolution", "Solution", "solve", "solve_chain"]

UNKNOWN = "?"
# In a dimension's known values: a key the solver searches.
_Q: Any = UNKNOWN

# The keys searched, in the order they are reported and compared.
_INT_KEYS = KEYS
_SHORT = {
    "kernel_size": "k",
    "stride": "s",
    "padding": "p",
    "dilation": "d",
    "output_padding": "op",
    "scale_factor": "scale",
    "size": "size",
    "output_size": "output_size",
    "out_channels": "out_channels",
    "filters": "filters",  # Keras's out_channels
    "sizes": "sizes",  # ONNX Resize's
    "scales": "scales",
}

# More combinations than this and a chain search gives up (layer runs).
_MAX_RUNS = 200_000
# More candidate combinations than this across a chain's '?' sites and it is refused
# at once (each combination runs the rest of the network).
_MAX_COMBINATIONS = 50_000


class Limits(NamedTuple):
    """Bounds of the search. ``padding`` None: p ≤ max(k, d·(k−1)) (pools: k//2).
    ``results``: at most this many solutions are returned."""

    kernel_size: int = 11
    stride: int = 4
    dilation: int = 4
    padding: int | None = None
    results: int = 1000

    @classmethod
    def parse(cls, text: str) -> Limits:
        """``--max`` text: one number N bounds k, s and d by N (p ≤ max(k, d·(k−1))),
        or keys ``k=21,s=8,d=4,p=30`` (long names too)."""
        text = text.strip()
        if re.fullmatch(r"\d+", text):
            n = int(text)
            if n < 1:
                raise SpecError(f"--max must be at least 1, got {n}")
            return cls(n, n, n)
        values: dict[str, int] = {}
        names = {"k": "kernel_size", "s": "stride", "d": "dilation", "p": "padding"}
        for part in re.split(r"[,\s]+", text):
            m = re.fullmatch(r"([a-z_]+)=(\d+)", part)
            key = names.get(m.group(1), m.group(1)) if m else None
            if m is None or key not in cls._fields or key == "results":
                raise SpecError(
                    f"--max takes a number or keys like k=21,s=8,d=4,p=30; got {part!r}",
                    source=text,
                )
            values[key] = int(m.group(2))
        return cls(**values)

    def describe(self) -> str:
        pad = "p ≤ max(k, d·(k−1))" if self.padding is None else f"p ≤ {self.padding}"
        return f"k ≤ {self.kernel_size}, s ≤ {self.stride}, {pad}, d ≤ {self.dilation}"


class Solution(NamedTuple):
    """One answer: the runnable spec, the solved keys and the output it gives.

    ``values`` maps the short key (``k``, ``s``, ``p``, ``d``, ``op``, ``scale``,
    ``size``, ``output_size``, ``out_channels``) to an int, a float, ``"same"``, or a
    tuple when the spatial dimensions differ. In a chain the key is prefixed with
    the table row of the layer it belongs to: ``"3.p"``."""

    spec: str
    values: dict[str, Any]
    output: Shape

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"spec": self.spec}
        for key, value in self.values.items():
            data[key] = list(value) if isinstance(value, tuple) else value
        data["output"] = list(self.output)
        return data


class NoSolution(ShapeError):
    """Nothing within the limits reaches the target. ``nearest`` holds the closest
    reachable outputs (nearest first), each with the simplest spec that reaches it;
    ``headline`` is the message without them (for a caller that lists them itself)."""

    def __init__(
        self,
        message: str,
        *,
        target: tuple[int | None, ...],
        nearest: Sequence[Solution],
        headline: str | None = None,
    ) -> None:
        super().__init__(message)
        self.target = target
        self.nearest = tuple(nearest)
        self.headline = message if headline is None else headline


# --------------------------------------------------------------------------
# Reading the layer text.


class _Marked(NamedTuple):
    """A key marked ``?``: which argument and where its value stands."""

    param: Param
    start: int
    end: int


def _statement(
    text: str, framework: str | None, opset: int | None
) -> tuple[LayerStmt, Entry, Framework]:
    """The one layer statement of ``text`` (after a leading ``framework`` statement,
    which decides whose kind it is, as ``framework``/``opset`` do)."""
    program, fw = _framework(text, framework, opset)
    stmts = program.statements
    if len(stmts) != 1 or isinstance(stmts[0], InputStmt) or stmts[0].kind not in fw.registry:
        raise SpecError(
            "solve takes one layer, e.g. 'conv2d 64 k=3 s=2 p=?'; for a chain with an "
            "unknown key use solve_chain",
            source=text,
        )
    stmt = stmts[0]
    return stmt, fw.registry[stmt.kind], fw


def _marked(stmt: LayerStmt, entry: Entry, source: str) -> list[_Marked]:
    """The arguments whose value is ``?``, resolved to their parameters as bind() does."""
    if stmt.call and entry.torch is not None:
        return _marked_in_call(stmt, entry, source)
    out: list[_Marked] = []
    npos = 0
    for arg in stmt.args:
        value = arg.value
        is_q = value.kind == "name" and value.value == UNKNOWN
        if value.kind == "tuple" and any(
            a.kind == "name" and a.value == UNKNOWN for a in value.atoms()
        ):
            raise SpecError(
                "'?' stands for a whole value, not for one entry of a tuple",
                source=source,
                start=value.start,
                end=value.end,
            )
        if arg.key is not None:
            param = entry.by_key.get(arg.key)
            if is_q:
                if param is None:
                    raise SpecError(
                        f"{stmt.kind} has no argument {arg.key!r}",
                        source=source,
                        start=arg.key_start,
                        end=value.end,
                    )
                out.append(_Marked(param, value.start, value.end))
            continue
        if value.kind == "name" and not is_q:
            word = str(value.value).lower()
            if word in entry.flags or word in entry.by_key:
                continue
        if npos >= len(entry.positional):
            if is_q:
                raise SpecError(
                    f"{stmt.kind} takes no further positional value for '?'",
                    source=source,
                    start=value.start,
                    end=value.end,
                )
            continue
        param = entry.positional[npos]
        npos += 1
        if is_q:
            out.append(_Marked(param, value.start, value.end))
    return out


def _marked_in_call(stmt: LayerStmt, entry: Entry, source: str) -> list[_Marked]:
    """_marked for a call (``Conv2d(3, 64, ?, stride=2)``): positions and names are
    the PyTorch constructor's."""
    sig = entry.torch
    assert sig is not None
    by_name = {p.name: p for p in entry.params}
    out: list[_Marked] = []
    for npos, arg in enumerate(a for a in stmt.args[: stmt.inside] if a.key is None):
        if arg.value.kind == "name" and arg.value.value == UNKNOWN:
            name = sig.args[npos] if npos < len(sig.args) else ""
            out.append(_call_mark(stmt, by_name, sig.renames.get(name, name), arg, source))
    for arg in stmt.args[: stmt.inside]:
        if arg.key is not None and arg.value.kind == "name" and arg.value.value == UNKNOWN:
            out.append(_call_mark(stmt, by_name, sig.renames.get(arg.key, arg.key), arg, source))
    return out


def _call_mark(
    stmt: LayerStmt, by_name: dict[str, Param], name: str, arg: Arg, source: str
) -> _Marked:
    param = by_name.get(name)
    if param is None:
        raise SpecError(
            f"{stmt.call} cannot solve for {name or 'that argument'}",
            source=source,
            start=arg.value.start,
            end=arg.value.end,
        )
    return _Marked(param, arg.value.start, arg.value.end)


def _without(stmt: LayerStmt, drop: set[int], extra: dict[str, int]) -> LayerStmt:
    """The statement with the ``?`` arguments at positions ``drop`` taken out — a
    positional one is a placeholder 1 instead, so that the values after it keep
    their places (Keras's ``Conv2D ? 3``) — plus placeholder values for the required
    keys ``extra``, so that it binds."""
    inside = stmt.args[: stmt.inside] if stmt.call else ()
    after = stmt.args[len(inside) :]

    def kept(args: tuple[Arg, ...]) -> list[Arg]:
        return [
            a._replace(value=_int_value(1)) if a.value.start in drop else a
            for a in args
            if a.value.start not in drop or a.key is None
        ]

    added = [Arg(key, 0, _int_value(value)) for key, value in extra.items()]
    if stmt.call:  # inside the call's parentheses
        within = [*kept(inside), *added]
        return stmt._replace(args=(*within, *kept(after)), inside=len(within))
    return stmt._replace(args=(*kept(after), *added))


def _int_value(value: int) -> Value:
    return Value("int", value, 0, 0)


def _per_dim(value: Any, n: int) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return value * n if len(value) == 1 else value
    return (value,) * n


def _fmt(values: Sequence[Any]) -> str:
    """Text for a per-dimension value: one number if they agree, else a comma tuple."""
    if all(v == values[0] for v in values):
        values = values[:1]
    return ",".join(_fmt_atom(v) for v in values)


def _fmt_atom(v: Any) -> str:
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _collapse(values: Sequence[Any]) -> Any:
    return values[0] if all(v == values[0] for v in values) else tuple(values)


# --------------------------------------------------------------------------
# The target.


def _target(
    output_shape: str | Sequence[int], rank: int, channels_last: bool = False
) -> tuple[int | None, ...]:
    """The target as (C or None, *spatial) — (*spatial, C or None) channels last —
    from a full shape, the spatial sizes, or one size for every spatial dimension
    (as -i reads a shape)."""
    target = parse_shape(output_shape)
    if len(target) == rank:
        return target
    spatial: tuple[int, ...] | None = None
    if len(target) == rank - 1:
        spatial = target
    elif len(target) == 1 and rank > 2:
        spatial = target * (rank - 1)
    if spatial is not None:
        return (*spatial, None) if channels_last else (None, *spatial)
    raise SpecError(
        f"the output shape {'x'.join(map(str, target))} has {len(target)} dimension"
        f"{'s' if len(target) != 1 else ''}, the layer's output has {rank}"
    )


def _matches(out: Shape, target: Sequence[int | None]) -> bool:
    if len(out) != len(target):
        return False
    return all(t is None or o is None or o == t for o, t in zip(out, target))


def _distance(out: Shape, target: Sequence[int | None]) -> int:
    if len(out) != len(target):
        return 1 << 62
    return sum(abs(o - t) for o, t in zip(out, target) if o is not None and t is not None)


def _shape_text(shape: Sequence[int | None]) -> str:
    return "×".join("?" if v is None else str(v) for v in shape)


def _channel(channels_last: bool) -> int:
    """Where a shape holds its channels."""
    return -1 if channels_last else 0


def _space(shape: Sequence[Any], channels_last: bool) -> tuple[Any, ...]:
    """A shape's spatial sizes."""
    return tuple(shape[:-1] if channels_last else shape[1:])


# --------------------------------------------------------------------------
# Per-dimension arithmetic for the windowed layers.


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
    output size it gives: PyTorch's by SEMANTICS.md §1–3, Keras's and ONNX's by the
    layer itself (solve_kinds.dim_size)."""
    if not kind.torch:
        yield from _framework_outputs(kind, dim, layer, n, limits, channels)
        return
    cls = kind.cls
    L = dim.size
    fk, fs, fp, fd, fop = dim.known
    pool = kind.stride_follows_kernel
    mode = getattr(layer, "padding_mode", "zeros")
    ceil = bool(getattr(layer, "ceil_mode", False))
    full_kernel = cls in (AvgPool, LPPool) and n == 3
    for k in _kernels(fk, limits):
        if full_kernel and k > L:
            continue
        for d in _dilations(fd, k > 1 or cls is ConvTranspose, limits):
            dk = d * (k - 1) + 1
            for s in _strides(fs, k, kind, limits):
                if fp is not _Q:
                    pads: Sequence[Any] = (fp,)
                elif cls is MaxUnpool or not pool:
                    pads = range(_pad_bound(k, d, limits) + 1)
                else:
                    pads = range(min(k // 2, _pad_bound(k, d, limits)) + 1)
                for p in pads:
                    if cls is Conv:
                        if isinstance(p, str):  # 'same' / 'valid'
                            if p == "same" and s != 1:
                                continue
                            left = (dk - 1) // 2 if p == "same" else 0
                            right = dk - 1 - left if p == "same" else 0
                        else:
                            left = right = p
                        if mode == "reflect" and max(left, right) >= L:
                            continue
                        if mode == "circular" and max(left, right) > L:
                            continue
                        padded = L + left + right
                        if padded < dk:
                            continue
                        yield (k, s, p, d, 0), (padded - dk) // s + 1
                    elif cls is ConvTranspose:
                        ops = (fop,) if fop is not _Q else range(max(s, d))
                        for op in ops:
                            if op >= max(s, d) or (k == 1 and d > 1 and op < s and fd is _Q):
                                continue
                            out = (L - 1) * s - 2 * p + d * (k - 1) + op + 1
                            if out >= 1:
                                yield (k, s, p, d, op), out
                    elif cls is MaxUnpool:
                        out = (L - 1) * s + k - 2 * p
                        if out >= 0:
                            yield (k, s, p, 1, 0), out
                    else:
                        if p > k // 2:
                            continue
                        out = pool_output(L, k, s, p, d, ceil)
                        if out >= 1:
                            yield (k, s, p, d, 0), out


def _framework_outputs(
    kind: Kind, dim: _Dim, layer: Layer, n: int, limits: Limits, channels: int | None
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """_dim_outputs for Keras's and ONNX's kinds: each candidate run on the one
    dimension by the layer itself. Keys the kind lacks stay at their neutral value."""
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
                        values = (k, s, p, d, op)
                        out = dim_size(kind, layer, values, dim.size, channels, dim.axis)
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


# --------------------------------------------------------------------------
# Single layers.


class _Problem(NamedTuple):
    text: str
    stmt: LayerStmt
    entry: Entry
    layer: Layer  # bound with the unknowns at placeholders
    input: Shape
    input_shape: str | Sequence[int]
    target: tuple[int | None, ...]
    unknown: tuple[str, ...]  # canonical keys (_INT_KEYS) and parameter names
    marked: dict[str, _Marked]  # the ones written as '?', by the same names
    limits: Limits
    framework: Framework
    kind: Kind | None  # None: not a windowed kind

    @property
    def channels_last(self) -> bool:
        return self.framework.channels_last

    @property
    def channels(self) -> str | None:
        """The argument that sets the output channels, if the solver may choose it."""
        return None if self.kind is None else self.kind.channels


def solve(
    layer: str,
    input_shape: str | Sequence[int],
    output_shape: str | Sequence[int],
    *,
    limits: Limits | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> list[Solution]:
    """Every assignment of the layer's unknown keys that turns ``input_shape`` into
    ``output_shape``, simplest first (see the module docstring). ``framework`` and
    ``opset`` say whose conventions apply, as for ``analyze``."""
    limits = limits or Limits()
    text = layer.strip()
    stmt, entry, fw = _statement(text, framework, opset)
    cls = entry.cls
    kind = kind_of(entry, fw)
    canonical = {} if kind is None else {attr: key for key, attr in kind.attrs.items()}
    marked = {canonical.get(m.param.name, m.param.name): m for m in _marked(stmt, entry, text)}
    names = {canonical.get(p.name, p.name) for p in entry.params}
    solvable = [*(kind.keys if kind is not None else ())]
    if fw.name == "torch" and cls is AdaptivePool and "output_size" in names:
        solvable.append("output_size")
    resample = _resampler(fw, cls)
    solvable += [key for key in resample if key is not None]
    if kind is not None and kind.channels is not None:
        solvable.append(kind.channels)
    solvable = [k for k in solvable if k in names]
    for name in marked:
        if name not in solvable:
            keys = ", ".join(_SHORT[k] for k in solvable if k in _INT_KEYS) or "none"
            raise SpecError(
                f"{stmt.kind} cannot solve for {marked[name].param.name} (its solvable keys: "
                f"{keys})",
                source=text,
                start=marked[name].start,
                end=marked[name].end,
            )
    written = {canonical.get(name, name) for name in _written(stmt, marked, text, fw)}
    if marked:
        unknown = [k for k in solvable if k in marked]
    else:
        unknown = [k for k in solvable if k not in written]
        if set(resample) & written:
            unknown = []
    channels = None if kind is None else kind.channels
    if channels in solvable and channels not in written and channels not in unknown:
        unknown.append(channels)  # type: ignore[arg-type]
    # Bind what is known: the '?' arguments dropped, required ones at a placeholder.
    in_place = {
        m.param.name
        for m in marked.values()
        if any(a.key is None and a.value.start == m.start for a in stmt.args)
    }
    placeholders = {
        p.keys[0]: 1
        for p in entry.params
        if p.required and canonical.get(p.name, p.name) in unknown and p.name not in in_place
    }
    extra = {} if fw.opset is None else {"opset": fw.opset}
    bare = _without(stmt, {m.start for m in marked.values()}, placeholders)
    known = bind(bare, text, fw.registry, extra)
    sizes = parse_shape(input_shape)
    shape = _resolve_input(sizes, [known], fw.channels_last)
    if len(shape) < 2 and (kind is not None or cls is AdaptivePool or resample):
        # No spatial dimension to solve in (maxpool on -i 32): the engine says why.
        if resample:  # (ONNX's Resize would say it wants its sizes or scales)
            raise ShapeError(
                f"the input {_shape_text(shape)} has no spatial dimension to resize",
                index=1,
                text=text,
            )
        try:
            known.infer(shape, 1)
        except LayerError as exc:
            raise ShapeError(str(exc), index=1, text=text) from None
    target = _target(output_shape, len(shape), fw.channels_last)
    problem = _Problem(
        text,
        stmt,
        entry,
        known,
        shape,
        input_shape,
        target,
        tuple(unknown),
        marked,
        limits,
        fw,
        kind,
    )
    if kind is not None:
        return _solve_windowed(problem, kind)
    if cls is AdaptivePool and "output_size" in unknown:
        return _confirm_all(problem, [_adaptive(problem)])
    if set(resample) & set(unknown):
        return _confirm_all(problem, _upsample(problem, resample))
    # Nothing to solve: check the layer as written.
    return _confirm_all(problem, [({}, [])])


def _written(stmt: LayerStmt, marked: dict[str, _Marked], source: str, fw: Framework) -> set[str]:
    """The parameters the text gives (positional, keyed or as a flag word), the ones
    written '?' included, read as bind reads them."""
    bare = _without(stmt, {m.start for m in marked.values()}, {})
    return set(given(bare, source, fw.registry)) | {m.param.name for m in marked.values()}


# An edit of the layer text: replace [start, end) by text (start == end: insert).
_Edit = tuple[int, int, str]


def _render(problem: _Problem, values: dict[str, Any]) -> str:
    """The layer text with the solved values: '?' replaced; keys the text left out
    appended unless they are at their default — by their short keys (``p=1``), or by
    their names (``padding=1``) where the text names its own keys so, and inside
    the parentheses of a call (``Conv2d(3, 64, 7, stride=2, padding=3)``)."""
    edits: list[_Edit] = []
    stmt, text = problem.stmt, problem.text
    kind = problem.kind
    defaults = {} if kind is None else kind.defaults
    head_end = stmt.start + len(stmt.text.split(" ", 1)[0])
    spelt_out = bool(stmt.call) or any(
        arg.key is not None
        and arg.key in problem.entry.by_key
        and arg.key == problem.entry.by_key[arg.key].name
        for arg in stmt.args
    )
    appended: list[str] = []
    for name, vals in values.items():
        if kind is not None and kind.pads_pairs and name == "padding":
            vals = _pads(vals)
        value_text = vals if isinstance(vals, str) else _fmt(vals)
        mark = problem.marked.get(name)
        if mark is not None:
            edits.append((mark.start, mark.end, value_text))
            continue
        if name in ("out_channels", "filters", "output_size"):
            edits.append((head_end, head_end, " " + value_text))
            continue
        if isinstance(vals, tuple):
            if name == "stride" and defaults.get(name, 1) is None:
                if vals == _kernel_of(problem, values):
                    continue
            elif name in defaults and all(v == defaults[name] for v in vals):
                continue
        key = (kind.attrs.get(name, name) if kind is not None else name) if spelt_out else None
        appended.append(f"{key or _SHORT[name]}={value_text}")
    if appended and stmt.call:  # inside the call's parentheses
        close = text.rindex(")", stmt.start, stmt.end)
        edits.append((close, close, "".join(f", {a}" for a in appended)))
        appended = []
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    if appended:
        out = out + " " + " ".join(appended)
    return out


def _pads(values: Any) -> Any:
    """ONNX's pads for per-dimension values (a number, or a (begin, end) pair): one
    number when they agree, else every begin, then every end."""
    if not isinstance(values, tuple) or any(isinstance(v, str) for v in values):
        return values
    pairs = [v if isinstance(v, tuple) else (v, v) for v in values]
    if all(b == e == pairs[0][0] for b, e in pairs):
        return (pairs[0][0],)
    return (*(b for b, _ in pairs), *(e for _, e in pairs))


def _kernel_of(problem: _Problem, values: dict[str, Any]) -> tuple[int, ...]:
    n = len(problem.input) - 1
    if "kernel_size" in values:
        return values["kernel_size"]  # type: ignore[no-any-return]
    assert problem.kind is not None
    kernel = getattr(problem.layer, problem.kind.attrs["kernel_size"])
    return _per_dim(kernel, n)  # type: ignore[return-value]


def _public(values: dict[str, Any], kind: Kind | None = None) -> dict[str, Any]:
    """The solved values by their short keys, as written (ONNX's pads: one number,
    or every begin, then every end)."""
    out = {}
    for key, value in values.items():
        if kind is not None and kind.pads_pairs and key == "padding":
            value = _pads(value)
        out[_SHORT[key]] = value if isinstance(value, str) else _collapse(value)
    return out


def _run(problem: _Problem, spec: str) -> Analysis:
    fw = problem.framework
    return analyze(spec, problem.input_shape, framework=fw.name, opset=fw.opset)


def _confirm_all(
    problem: _Problem, candidates: Sequence[tuple[dict[str, Any], Any]]
) -> list[Solution]:
    """Run each candidate through the engine; keep those that reach the target."""
    found: list[Solution] = []
    reached: list[Solution] = []
    first_error: ShapeError | None = None
    for values, _ in candidates:
        values = _with_channels(problem, values)
        spec = _render(problem, values)
        try:
            out = _run(problem, spec).output
        except ShapeError as exc:
            first_error = first_error or exc
            continue
        solution = Solution(spec, _public(values, problem.kind), out)
        if _matches(out, problem.target):
            found.append(solution)
            if len(found) >= problem.limits.results:
                break
        else:
            reached.append(solution)
    if found:
        return found
    if not reached and first_error is not None:
        raise first_error
    raise _no_solution(problem, reached)


def _with_channels(problem: _Problem, values: dict[str, Any]) -> dict[str, Any]:
    """out_channels, when the layer leaves it to the solver: the target's, unless the
    default (the input's) already is."""
    key = problem.channels
    if key is None or key not in problem.unknown:
        return values
    at = _channel(problem.channels_last)
    want = problem.target[at]
    have = problem.input[at]
    values = {k: v for k, v in values.items() if k != key}
    if want is not None and (have != want or key in problem.marked):
        values[key] = (want,)
    elif key in problem.marked or (have is None and key == "filters"):
        if have is None:
            example = "112x112x64" if problem.channels_last else "64x112x112"
            raise SpecError(
                f"{key}=? needs the output's channel count: give the whole output "
                f"shape (e.g. {example})",
                source=problem.text,
            )
        values[key] = (have,)
    elif key == "filters":  # Keras's filters has no default: the input's count
        values[key] = (have,)
    return values


def _target_text(target: Sequence[int | None], channels_last: bool = False) -> str:
    at = _channel(channels_last)
    return _shape_text(_space(target, channels_last) if target[at] is None else target)


def _no_solution(problem: _Problem, nearest: Sequence[Solution]) -> NoSolution:
    target = tuple(v for v in problem.target)
    near = sorted(nearest, key=lambda s: _distance(s.output, problem.target))[:3]
    what = problem.stmt.text
    searched = problem.kind is not None and set(problem.unknown) - {problem.channels}
    wanted = _target_text(target, problem.channels_last)
    message = (
        f"no {what} turns {_shape_text(problem.input)} into {wanted}"
        f" (searched {problem.limits.describe()})"
        if searched
        else f"{what} cannot turn {_shape_text(problem.input)} into {wanted}"
    )
    headline = message
    if near:
        message += "; nearest: " + "; ".join(f"{_shape_text(s.output)} with {s.spec}" for s in near)
    return NoSolution(message, target=target, nearest=near, headline=headline)


def _solve_windowed(problem: _Problem, kind: Kind) -> list[Solution]:
    layer = problem.layer
    n = len(problem.input) - 1
    limits = problem.limits
    keys = [k for k in _INT_KEYS if k in problem.unknown]
    pool = kind.stride_follows_kernel
    # Known per-dimension values (_Q = searched; a key the kind lacks is neutral).
    known: dict[str, tuple[Any, ...]] = {}
    for key, attr in kind.attrs.items():
        if key in keys:
            continue
        value = getattr(layer, attr)
        if value is None and kind.defaults.get(key, 0) is None:
            if key == "stride":
                continue  # a pool's default: the kernel size, resolved per candidate
            known[key] = (None,) * n  # Keras's output_padding left out
            continue
        if value is None:
            value = kind.defaults[key]
        if isinstance(value, str):  # a padding word holds for every dimension
            known[key] = (value,) * n
            continue
        if (
            kind.pads_pairs
            and key == "padding"
            and isinstance(value, tuple)
            and len(value) == 2 * n
        ):
            known[key] = tuple(zip(value[:n], value[n:]))  # ONNX's begins, then ends
            continue
        per_dim = _per_dim(value, n)
        if per_dim is None or len(per_dim) != n or any(isinstance(v, str) for v in per_dim):
            return _confirm_all(problem, [({}, [])])  # let the engine word the error
        known[key] = per_dim
    if pool and "stride" not in keys and "stride" not in known and "kernel_size" in known:
        # Stride left to its default (= kernel size), kernel known: fix it too.
        known["stride"] = known["kernel_size"]
    # Keys this kind lacks are fixed at their neutral value.
    neutral = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
    spatial_in = _space(problem.input, problem.channels_last)
    spatial_out = _space(problem.target, problem.channels_last)
    dims: list[_Dim] = []
    for i in range(n):
        size, want = spatial_in[i], spatial_out[i]
        assert size is not None and want is not None
        vals: list[Any] = []
        for key in _INT_KEYS:
            if key in keys:
                vals.append(_Q)
            elif key in known:
                vals.append(known[key][i])
            elif key == "stride":
                vals.append(_Q if pool and "kernel_size" in keys else 1)
            else:
                vals.append(neutral[key])
        axis = (i, n) if _per_axis_fields(layer, n) else (0, 1)
        dims.append(_Dim(size, want, tuple(vals), axis))
    stride_follows_kernel = (
        pool and "kernel_size" in keys and "stride" not in keys and "stride" not in known
    )
    channels = problem.input[_channel(problem.channels_last)]
    # A key written '?' needs a value to stand there (not Keras's None).
    need_value = [_INT_KEYS.index(k) for k in keys if k in problem.marked]
    groups: dict[_Dim, dict[int, list[tuple[Any, ...]]]] = {}
    for dim in dict.fromkeys(dims):
        by_out: dict[int, list[tuple[Any, ...]]] = {}
        for values, out in _dim_outputs(kind, dim, layer, n, limits, channels):
            if stride_follows_kernel and values[1] != values[0]:
                continue  # the default stride moves with the kernel
            if any(values[j] is None for j in need_value):
                continue
            by_out.setdefault(out, []).append(values)
        groups[dim] = by_out
    index = {key: _INT_KEYS.index(key) for key in keys}
    search = [*keys, "stride"] if stride_follows_kernel else keys

    def assemble(choice: dict[_Dim, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
        return {key: tuple(choice[dim][_INT_KEYS.index(key)] for dim in dims) for key in search}

    def kernel(values: dict[str, tuple[Any, ...]]) -> tuple[int, ...]:
        if "kernel_size" in values:
            return values["kernel_size"]
        return known.get("kernel_size", (1,) * n)  # type: ignore[return-value]

    def expressible(values: dict[str, tuple[Any, ...]]) -> bool:
        """A word (or None) holds for every dimension or none: Keras's padding='same'
        and ONNX's auto_pad are one value for the layer."""
        for key in kind.layer_wide & values.keys():
            vals = values[key]
            if any(isinstance(v, str) or v is None for v in vals) and len(set(vals)) > 1:
                return False
        return True

    def even(values: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
        """A 1-wide kernel's dilation does nothing: along such a dimension it takes
        the others' value, so that d=2 is written rather than d=2,1."""
        dilation = values.get("dilation")
        if dilation is None or "output_padding" in kind.attrs:
            return values
        k = kernel(values)
        rest = {d for d, kk in zip(dilation, k) if kk != 1}
        if len(rest) != 1 or len(set(dilation)) == 1:
            return values
        return {**values, "dilation": (rest.pop(),) * len(dilation)}

    def ranked(per_group: dict[_Dim, list[tuple[Any, ...]]]) -> list[dict[str, tuple[Any, ...]]]:
        """The combinations of the groups' answers, simplest first."""
        lists = [_dedupe(per_group[dim], index, kind) for dim in per_group]
        budget = max(1, limits.results * 4)
        while math.prod(len(x) for x in lists) > budget and max(len(x) for x in lists) > 1:
            longest = max(range(len(lists)), key=lambda j: len(lists[j]))
            lists[longest] = lists[longest][: max(1, len(lists[longest]) // 2)]
        combos = []
        group_dims = list(per_group)
        for combo in itertools.product(*lists):
            choice = dict(zip(group_dims, combo))
            values = even(assemble(choice))
            if not expressible(values):
                continue
            if stride_follows_kernel:
                values = {k: v for k, v in values.items() if k != "stride"}
            combos.append((_cost(list(values), values, kernel(values), kind), values))
        combos.sort(key=lambda c: c[0])
        return [values for _, values in combos]

    exact = {dim: groups[dim].get(dim.target, []) for dim in groups}
    candidates: list[dict[str, Any]] = []
    if all(exact.values()):
        candidates = ranked(exact)
    if (
        kind.torch
        and kind.cls is Conv
        and "padding" in keys
        and "kernel_size" not in keys
        and "dilation" not in keys
    ):
        same = _same_candidate(problem, dims, keys, known)
        if same is not None:
            candidates.append(same)
    candidates = candidates[: limits.results * 2]
    try:
        return _confirm_all(problem, [(c, None) for c in candidates])
    except NoSolution:
        pass
    # Nothing reaches the target: the nearest reachable outputs, per group.
    options: list[list[tuple[int, _Dim, tuple[Any, ...]]]] = []
    for dim, by_out in groups.items():
        outs = sorted(by_out, key=lambda o: (abs(o - dim.target), o))[:2]
        options.append([(o, dim, _dedupe(by_out[o], index, kind)[0]) for o in outs])
    if not all(options):
        raise _no_solution(problem, [])
    tries: list[tuple[int, tuple[Any, ...], dict[str, Any]]] = []
    for combo in itertools.product(*options):
        distance = sum(abs(o - dim.target) for o, dim, _ in combo)
        near = assemble({dim: v for _, dim, v in combo})
        if not expressible(near):
            continue
        if stride_follows_kernel:
            near = {k: v for k, v in near.items() if k != "stride"}
        tries.append((distance, _cost(list(near), near, kernel(near), kind), near))
    tries.sort(key=lambda t: (t[0], t[1]))
    reached: list[Solution] = []
    for _, _, near in tries[:6]:
        near = _with_channels(problem, near)
        spec = _render(problem, near)
        try:
            shape = _run(problem, spec).output
        except ShapeError:
            continue
        reached.append(Solution(spec, _public(near, kind), shape))
    raise _no_solution(problem, reached)


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


def _per_axis_fields(layer: Layer, n: int) -> bool:
    """Whether the layer has a per-dimension attribute the search leaves as it is."""
    value = getattr(layer, "output_shape", None)
    return isinstance(value, tuple) and len(value) == n > 1


def _same_candidate(
    problem: _Problem, dims: list[_Dim], keys: list[str], known: dict[str, tuple[Any, ...]]
) -> dict[str, Any] | None:
    """padding='same' (stride 1), when some dimension's effective kernel is even: the
    only padding that keeps its size."""
    n = len(dims)
    k = known.get("kernel_size")
    d = known.get("dilation", (1,) * n)
    if k is None:
        return None
    if not any((di * (ki - 1) + 1) % 2 == 0 for ki, di in zip(k, d)):
        return None
    stride = known.get("stride")
    if stride is not None and any(s != 1 for s in stride):
        return None
    values: dict[str, Any] = {"padding": "same"}
    if "stride" in keys:
        values["stride"] = (1,) * n
    return values


def _adaptive(problem: _Problem) -> tuple[dict[str, Any], Any]:
    sizes = problem.target[1:]
    return {"output_size": tuple(sizes)}, None


def _resampler(fw: Framework, cls: type[Layer]) -> tuple[str | None, str | None]:
    """The size and scale arguments of a resampling kind (PyTorch's upsample, Keras's
    UpSampling — whose size is a whole factor —, ONNX's Resize); () for the others."""
    if fw.name == "torch":
        return ("size", "scale_factor") if cls is Upsample else ()  # type: ignore[return-value]
    if fw.name == "keras":
        from .keras.shape import UpSampling

        return (None, "size") if cls is UpSampling else ()  # type: ignore[return-value]
    from .onnx.core import Resize

    return ("sizes", "scales") if cls is Resize else ()  # type: ignore[return-value]


def _upsample(
    problem: _Problem, keys: tuple[str | None, str | None]
) -> list[tuple[dict[str, Any], Any]]:
    size_key, scale_key = keys
    spatial = _space(problem.input, problem.channels_last)
    sizes = _space(problem.target, problem.channels_last)
    out: list[tuple[dict[str, Any], Any]] = []
    if size_key is None:  # Keras's UpSampling: whole factors (the nearest ones too)
        assert scale_key is not None
        lows = tuple(max(1, want // size) for size, want in zip(spatial, sizes))  # type: ignore[operator]
        highs = tuple(-(-want // size) for size, want in zip(spatial, sizes))  # type: ignore[operator]
        return [({scale_key: factors}, None) for factors in dict.fromkeys((lows, highs))]
    assert size_key is not None and scale_key is not None
    float32 = problem.framework.name == "onnx"  # a scales tensor holds float32
    scales: list[float] = []
    for size, want in zip(spatial, sizes):
        assert size is not None and want is not None
        scales.append(_shortest_scale(size, want, float32))
    integral = all(f.is_integer() for f in scales)
    with_scale = ({scale_key: tuple(scales)}, None)
    with_size = ({size_key: tuple(sizes)}, None)
    if scale_key in problem.unknown and integral:
        out.append(with_scale)
    if size_key in problem.unknown:
        out.append(with_size)
    if scale_key in problem.unknown and not integral:
        out.append(with_scale)
    return out


def _shortest_scale(size: int, want: int, float32: bool = False) -> float:
    """The shortest decimal f with floor(float64(size) · f) == want, as PyTorch sizes
    an interpolation (SEMANTICS.md §4); ``float32``: with f rounded to a float32
    first, as ONNX's scales tensor holds it (SEMANTICS.md §6)."""
    lo, hi = Fraction(want, size), Fraction(want + 1, size)
    for digits in range(18):
        unit = Fraction(1, 10**digits)
        f = math.ceil(lo / unit) * unit
        while f < hi:
            value = float(f)
            held = _float32(value) if float32 else value
            if value > 0 and math.floor(float(size) * held) == want:
                return value
            f += unit
    return want / size  # pragma: no cover - a float in range always exists


def _float32(value: float) -> float:
    from .onnx.core import float32

    return float32(value)


# --------------------------------------------------------------------------
# Chains.


class _Site(NamedTuple):
    """A layer statement of a chain with keys marked '?'."""

    number: int  # position among such statements
    stmt: LayerStmt
    keys: tuple[str, ...]  # the searched keys marked, in _INT_KEYS order
    spans: tuple[tuple[int, int], ...]  # where each '?' stands, in the same order
    kind: Kind


def solve_chain(
    spec: str,
    input_shape: str | Sequence[int] | None,
    output_shape: str | Sequence[int],
    *,
    limits: Limits | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> list[Solution]:
    """Every assignment of the ``?`` keys of a chain (or graph) that gives
    ``output_shape`` at its end, simplest first. A spec that is one layer statement
    goes to ``solve``. ``framework`` and ``opset`` as for ``analyze`` (a spec may
    declare its own in a leading ``framework`` statement)."""
    limits = limits or Limits()
    program, fw = _framework(spec, framework, opset)
    conventions = {"framework": fw.name, "opset": fw.opset}
    stmts = program.statements
    layers = [s for s in stmts if isinstance(s, LayerStmt)]
    if (
        len(layers) == 1
        and layers[0].kind in fw.registry
        and not _has_graph_keys(layers[0])
        and (input_shape is not None or len(stmts) == 2)
    ):
        own = next((s for s in stmts if isinstance(s, InputStmt)), None)
        if input_shape is None and own is not None:
            input_shape = spec[own.value.start : own.value.end]
        layer = layers[0]
        head, tail = spec[: layer.start], spec[layer.end :]
        found = solve(
            spec[layer.start : layer.end],
            input_shape,  # type: ignore[arg-type]
            output_shape,
            limits=limits,
            **conventions,  # type: ignore[arg-type]
        )
        return [s._replace(spec=head + s.spec + tail) for s in found]
    sites = _sites(spec, stmts, fw)
    if not sites:
        raise SpecError("nothing to solve: mark the unknown keys with '?', e.g. p=?", source=spec)
    # Each '?' becomes a placeholder value ('1', or a padding word where the kind
    # takes no number); ``moved`` maps a statement's offset to the template's.
    parts: list[str] = []
    shifts: list[tuple[int, int]] = []  # (offset in spec, shift from there on)
    done = 0
    for site in sites:
        for key, (start, end) in zip(site.keys, site.spans):
            numeric = key != "padding" or site.kind.numeric_pad
            parts += [spec[done:start], "1" if numeric else site.kind.words[0]]
            done = end
            shifts.append((end, sum(map(len, parts)) - end))
    template = "".join(parts) + spec[done:]

    def moved(offset: int) -> int:
        return offset + next((d for at, d in reversed(shifts) if at <= offset), 0)

    graph = build(_framework(template, fw.name, fw.opset)[0], fw)
    if input_shape is not None:
        sizes = parse_shape(input_shape)
    elif graph.input_stmt is not None:
        value = graph.input_stmt.value
        sizes = parse_shape(spec[value.start : value.end])
    else:
        raise SpecError("no input shape: pass one or start the spec with 'input …'", source=spec)
    nodes = graph.nodes
    if not nodes:
        raise SpecError("no layers given", source=spec)
    shape = _resolve_input(sizes, [node.op for node in nodes[:64]], fw.channels_last)
    by_start = {moved(site.stmt.start): site for site in sites}
    owner: list[_Site | None] = []
    for node in nodes:
        owner.append(owner[node.shared] if node.shared is not None else by_start.get(node.start))
    result = graph.result
    rank = len(shape) if result == 0 else None
    search = _Search(graph, owner, sites, limits)
    leaves = search.run(shape)
    if rank is None and leaves:
        rank = len(leaves[0][0])
    target = _target(output_shape, rank or len(shape), fw.channels_last)
    matching = [(cost, choice) for out, cost, choice in leaves if _matches(out, target)]
    matching.sort(key=lambda m: m[0])
    rows = search.first_rows()
    solutions: list[Solution] = []
    for _, choice in matching:
        text = _render_chain(spec, sites, choice)
        try:
            out = analyze(text, input_shape, **conventions).output  # type: ignore[arg-type]
        except ShapeError:  # pragma: no cover - the search ran the same layers
            continue
        if _matches(out, target):
            solutions.append(Solution(text, _chain_values(sites, choice, rows), out))
            if len(solutions) >= limits.results:
                break
    if solutions:
        return solutions
    best: dict[Shape, tuple[Any, dict[int, tuple[Any, ...]]]] = {}
    for out, cost, choice in leaves:
        if out not in best or cost < best[out][0]:
            best[out] = (cost, choice)
    near: list[Solution] = []
    for out in sorted(best, key=lambda o: (_distance(o, target), best[o][0]))[:3]:
        choice = best[out][1]
        text = _render_chain(spec, sites, choice)
        near.append(Solution(text, _chain_values(sites, choice, rows), out))
    message = (
        f"no value of the '?' keys turns {_shape_text(shape)} into "
        f"{_target_text(target, fw.channels_last)}"
        f" (searched {limits.describe()})"
    )
    headline = message
    if near:
        message += "; nearest: " + "; ".join(
            f"{_shape_text(s.output)} with {', '.join(f'{k}={v}' for k, v in s.values.items())}"
            for s in near
        )
    if not leaves and search.error is not None:
        raise search.error
    raise NoSolution(message, target=tuple(target), nearest=near, headline=headline)


def _has_graph_keys(stmt: LayerStmt) -> bool:
    for arg in stmt.args:
        if arg.key in ("name", "frozen", "requires_grad"):
            return True
        if arg.key is None and arg.value.kind == "name":
            word = str(arg.value.value).lower()
            if word == "frozen" or re.fullmatch(r"[x×]\d+", word):
                return True
    return False


def _sites(source: str, stmts: Sequence[LayerStmt | InputStmt], fw: Framework) -> list[_Site]:
    """The layer statements with '?' keys. Offsets of '?' are found in the text of each
    statement (a repeated line's arguments keep the first line's offsets)."""
    sites: list[_Site] = []
    for stmt in stmts:
        if isinstance(stmt, InputStmt):
            continue
        marks = [i for i, a in enumerate(stmt.args) if _is_q(a)]
        if not marks:
            if any(
                a.value.kind == "tuple" and any(_atom_q(x) for x in a.value.atoms())
                for a in stmt.args
            ):
                raise SpecError(
                    "'?' stands for a whole value, not for one entry of a tuple",
                    source=source,
                    start=stmt.start,
                    end=stmt.end,
                )
            continue
        entry = fw.registry.get(stmt.kind)
        if entry is None:
            raise SpecError(
                f"'?' marks a layer's key; {stmt.kind!r} is not a layer",
                source=source,
                start=stmt.start,
                end=stmt.end,
            )
        marked = _marked(stmt, entry, source)
        kind = kind_of(entry, fw)
        canonical = {} if kind is None else {attr: key for key, attr in kind.attrs.items()}
        for m in marked:
            if m.param.name not in canonical:
                raise SpecError(
                    f"in a chain, '?' can stand for k, s, p, d or op of a convolution or "
                    f"pool; not for {stmt.kind}'s {m.param.name} (solve that layer alone)",
                    source=source,
                    start=stmt.start,
                    end=stmt.end,
                )
        spans = [
            (m.start(), m.end())
            for m in re.finditer(r"(?<![^\s=,(])\?(?![^\s,)])", source[stmt.start : stmt.end])
        ]
        if len(spans) != len(marked):  # pragma: no cover - '?' only stands as a value
            raise SpecError("could not place the '?' marks", source=source, start=stmt.start)
        spans = [(stmt.start + a, stmt.start + b) for a, b in spans]
        keys = [canonical[m.param.name] for m in marked]
        order = sorted(range(len(marked)), key=lambda j: _INT_KEYS.index(keys[j]))
        names = [keys[j] for j in order]
        if len(set(names)) != len(names):
            raise SpecError("a key is marked '?' twice", source=source, start=stmt.start)
        assert kind is not None
        spans_in_order = tuple(spans[j] for j in order)
        sites.append(_Site(len(sites), stmt, tuple(names), spans_in_order, kind))
    return sites


def _is_q(arg: Arg) -> bool:
    return _atom_q(arg.value)


def _atom_q(value: Any) -> bool:
    return bool(value.kind == "name" and value.value == UNKNOWN)


class _Search:
    """Depth-first search over the '?' sites of a graph: each site's values are chosen
    at its first node, from the candidates its input shape admits."""

    def __init__(
        self, graph: Any, owner: list[_Site | None], sites: list[_Site], limits: Limits
    ) -> None:
        self.graph = graph
        self.nodes = graph.nodes
        self.owner = owner
        self.sites = sites
        self.limits = limits
        self.runs = 0
        self.error: ShapeError | None = None
        self.leaves: list[tuple[Shape, Any, dict[int, tuple[Any, ...]]]] = []
        self.cache: dict[tuple[int, tuple[Any, ...]], Layer] = {}

    def first_rows(self) -> dict[int, int]:
        rows: dict[int, int] = {}
        for i, site in enumerate(self.owner):
            if site is not None and site.number not in rows:
                rows[site.number] = i + 1
        return rows

    def run(self, shape: Shape) -> list[tuple[Shape, Any, dict[int, tuple[Any, ...]]]]:
        combinations = 1
        for site in self.sites:
            pos = next(i for i, owner in enumerate(self.owner) if owner is site)
            combinations *= sum(
                1 for values in self.candidates(pos, shape) if self.within(site, values, pos)
            )
        if combinations > _MAX_COMBINATIONS:
            raise self.too_many()
        self.step(0, [shape], {})
        return self.leaves

    @staticmethod
    def too_many() -> SpecError:
        return SpecError(
            "too many combinations to search: give some of the '?' keys a value, or solve "
            "one layer at a time"
        )

    def layer_for(self, pos: int, values: tuple[Any, ...]) -> Layer:
        key = (pos, values)
        layer = self.cache.get(key)
        if layer is None:
            node = self.nodes[pos]
            site = self.owner[pos]
            assert site is not None
            op = node.op
            fields = dict(op.__dict__)
            for name, value in zip(site.keys, values):
                attr = site.kind.attrs[name]
                old = fields.get(attr)
                if isinstance(value, str):  # a padding word
                    fields[attr] = value
                    continue
                width = len(old) if isinstance(old, tuple) and not site.kind.pads_pairs else 1
                fields[attr] = (value,) * width
            layer = self.cache[key] = type(op)(**fields)
        return layer

    def candidates(self, pos: int, shape: Shape) -> Iterator[tuple[Any, ...]]:
        site = self.owner[pos]
        assert site is not None
        kind = site.kind
        op = self.nodes[pos].op
        limits = self.limits
        k_known = None if "kernel_size" in site.keys else _attr(op, kind, "kernel_size")
        ranges: list[Sequence[Any]] = []
        for name in site.keys:
            if name == "kernel_size":
                ranges.append(range(1, limits.kernel_size + 1))
            elif name == "stride":
                strides = [*range(1, limits.stride + 1)]
                if kind.stride_follows_kernel and k_known and max(k_known) > limits.stride:
                    strides.append(max(k_known))  # a pool's default stride
                ranges.append(strides)
            elif name == "dilation":
                ranges.append(range(1, limits.dilation + 1))
            elif name == "padding":
                kmax = limits.kernel_size if k_known is None else max(k_known)
                bound = (
                    limits.padding
                    if limits.padding is not None
                    else max(kmax, limits.dilation * (kmax - 1))
                )
                if kind.half_pad and limits.padding is None:
                    bound = kmax // 2
                numbers = range(bound + 1) if kind.numeric_pad else ()
                words = [w for w in kind.words if w != "causal" or len(shape) == 2]
                ranges.append([*numbers, *words])
            else:  # output_padding
                ranges.append(range(max(limits.stride, limits.dilation)))
        yield from itertools.product(*ranges)

    def step(self, pos: int, shapes: list[Shape], choice: dict[int, tuple[Any, ...]]) -> None:
        nodes = self.nodes
        owner = self.owner
        while pos < len(nodes):
            node = nodes[pos]
            site = owner[pos]
            if site is not None and site.number not in choice:
                shape = shapes[node.inputs[0]]
                for values in self.candidates(pos, shape):
                    if not self.within(site, values, pos):
                        continue
                    self.count()
                    try:
                        out = self.layer_for(pos, values).infer(shape, 1)
                    except LayerError:
                        continue
                    self.step(pos + 1, [*shapes, out.shape], {**choice, site.number: values})
                return
            op = node.op if site is None else self.layer_for(pos, choice[site.number])
            self.count()
            try:
                if len(node.inputs) == 1:
                    out = op.infer(shapes[node.inputs[0]], 1)
                else:
                    out = op.infer_many(  # type: ignore[union-attr, attr-defined]
                        [shapes[t] for t in node.inputs], ["" for _ in node.inputs], 1
                    )
            except LayerError as exc:
                if self.error is None:
                    self.error = ShapeError(str(exc), index=pos + 1, text=node.text)
                return
            shapes = [*shapes, out.shape]
            pos += 1
        result = self.graph.result
        self.leaves.append((shapes[result], self.cost(choice), choice))

    def within(self, site: _Site, values: tuple[Any, ...], pos: int) -> bool:
        """The limits that depend on other keys: p ≤ max(k, d·(k−1)), op < max(s, d)."""
        fields = dict(zip(site.keys, values))
        op = self.nodes[pos].op
        kind = site.kind
        k = fields.get("kernel_size") or max(_attr(op, kind, "kernel_size") or (1,))
        d = fields.get("dilation") or max(_attr(op, kind, "dilation") or (1,))
        own_stride = _attr(op, kind, "stride")
        default_stride = k if kind.stride_follows_kernel else 1
        s = fields.get("stride") or max(own_stride or (default_stride,))
        opad = fields.get("output_padding")
        if opad is None:
            opad = max(_attr(op, kind, "output_padding") or (0,))
        if "dilation" in fields and k == 1 and fields["dilation"] > 1 and opad < s:
            return False  # dilation does nothing to a 1-wide kernel
        padding = fields.get("padding")
        if isinstance(padding, int) and self.limits.padding is None:
            bound = k // 2 if kind.half_pad else max(k, d * (k - 1))
            if padding > bound:
                return False
        return not ("output_padding" in fields and fields["output_padding"] >= max(s, d))

    def count(self) -> None:
        self.runs += 1
        if self.runs > _MAX_RUNS:
            raise self.too_many()

    def cost(self, choice: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
        off = dist = 0
        flat: list[int] = []
        for number in sorted(choice):
            site = self.sites[number]
            for name, value in zip(site.keys, choice[number]):
                if name == "kernel_size":
                    off += 1
                    dist += value - 1
                else:
                    default = site.kind.defaults.get(name)
                    if default is None and name == "stride":
                        default = 1  # a pool's (the kernel's) is not known here
                    off += value != default
                    dist += 1 if isinstance(value, str) and value != default else 0
                    if not isinstance(value, str):
                        dist += _away(value, default)
                flat.append(_rank(value))
        return (off, dist, tuple(flat))


def _attr(op: Layer, kind: Kind, key: str) -> tuple[int, ...] | None:
    """A searched key's per-dimension numbers as ``op`` holds them (None: left out,
    or not numbers)."""
    attr = kind.attrs.get(key)
    value = None if attr is None else getattr(op, attr, None)
    return value if isinstance(value, tuple) else None


def _render_chain(spec: str, sites: list[_Site], choice: dict[int, tuple[Any, ...]]) -> str:
    edits: list[tuple[int, int, str]] = []
    for site in sites:
        values = choice.get(site.number)
        if values is None:  # pragma: no cover - every site is on the path
            continue
        for (start, end), value in zip(site.spans, values):
            edits.append((start, end, str(value)))
    out = spec
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _chain_values(
    sites: list[_Site], choice: dict[int, tuple[Any, ...]], rows: dict[int, int]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for site in sites:
        values = choice.get(site.number)
        if values is None:  # pragma: no cover
            continue
        row = rows.get(site.number, 0)
        for name, value in zip(site.keys, values):
            out[f"{row}.{_SHORT[name]}"] = value
    return out
