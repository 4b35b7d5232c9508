"""Solving one layer: its unknown keys (windowed kinds, adaptive pooling's output
size, resampling's size or scale, the output channels), candidates per dimension
combined in the designer's order (design.py), each confirmed by the engine."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from convcalc.ask.solve.common import (
    _INT_KEYS,
    _Q,
    _SHORT,
    Limits,
    NoSolution,
    Solution,
    _channel,
    _Marked,
    _marked,
    _per_dim,
    _shape_text,
    _space,
    _statement,
    _target,
    _without,
)
from convcalc.ask.solve.design import Look, look, rank
from convcalc.ask.solve.kinds import Kind, kind_of
from convcalc.ask.solve.problem import (
    _confirm_all,
    _no_solution,
    _Problem,
    _public,
    _render,
    _run,
    _with_channels,
)
from convcalc.ask.solve.windows import _cost, _dedupe, _Dim, _dim_outputs, _per_axis_fields
from convcalc.errors import LayerError, ShapeError, SpecError
from convcalc.kinds import bind
from convcalc.kinds.binding import given
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.windows import Solve
from convcalc.language import LayerStmt
from convcalc.network.analysis import _resolve_input, parse_shape


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
    ``output_shape``, in the designer's order (see the package docstring). ``framework`` and
    ``opset`` say whose conventions apply, as for ``analyze``."""
    limits = limits or Limits()
    text = layer.strip()
    stmt, entry, fw = _statement(text, framework, opset)
    declared = entry.cls.SOLVE or Solve()
    kind = kind_of(entry, fw)
    canonical = {} if kind is None else {attr: key for key, attr in kind.attrs.items()}
    marked = {canonical.get(m.param.name, m.param.name): m for m in _marked(stmt, entry, text)}
    names = {canonical.get(p.name, p.name) for p in entry.params}
    solvable = [*(kind.keys if kind is not None else ())]
    adaptive = declared.output_size  # the output size of an adaptive pooling
    if adaptive is not None and adaptive in names:
        solvable.append(adaptive)
    resample = declared.resample
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
    if len(shape) < 2 and (kind is not None or adaptive is not None or resample):
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
    if adaptive is not None and adaptive in unknown:
        return _confirm_all(problem, [({adaptive: tuple(problem.target[1:])}, None)])
    if set(resample) & set(unknown):
        return _confirm_all(problem, _upsample(problem, resample, declared.scale_held))
    # Nothing to solve: check the layer as written.
    return _confirm_all(problem, [({}, [])])


def _written(stmt: LayerStmt, marked: dict[str, _Marked], source: str, fw: Framework) -> set[str]:
    """The parameters the text gives (positional, keyed or as a flag word), the ones
    written '?' included, read as bind reads them."""
    bare = _without(stmt, {m.start for m in marked.values()}, {})
    return set(given(bare, source, fw.registry)) | {m.param.name for m in marked.values()}


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
        axis = (i, n) if _per_axis_fields(kind, layer, n) else (0, 1)
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

    asked_dilation = "dilation" not in keys or "dilation" in problem.marked

    def seen(values: dict[str, tuple[Any, ...]]) -> Look:
        """How the layer with ``values`` looks to a designer (design.py)."""
        windows = [
            tuple(
                values[key][i] if dim.known[j] is _Q else dim.known[j]
                for j, key in enumerate(_INT_KEYS)
            )
            for i, dim in enumerate(dims)
        ]
        sizes = [dim.size for dim in dims]
        outs = [dim.target for dim in dims]
        return look(kind, windows, sizes, outs, asked_dilation)

    def ranked(
        per_group: dict[_Dim, list[tuple[Any, ...]]],
    ) -> list[tuple[dict[str, tuple[Any, ...]], bool]]:
        """The combinations of the groups' answers, in the designer's order (one
        value for every dimension first, then design.rank, then the simplest), each
        with whether it skips input pixels."""
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
            layer_look = seen(values)
            if stride_follows_kernel:
                values = {k: v for k, v in values.items() if k != "stride"}
            tuple_needed, *simple = _cost(list(values), values, kernel(values), kind)
            key = (tuple_needed, rank([layer_look]), *simple)
            combos.append((key, values, layer_look.skips))
        combos.sort(key=lambda c: c[0])
        return [(values, skips) for _, values, skips in combos]

    exact = {dim: groups[dim].get(dim.target, []) for dim in groups}
    candidates: list[tuple[dict[str, Any], bool]] = []
    if all(exact.values()):
        candidates = ranked(exact)
    if kind.same and "padding" in keys and "kernel_size" not in keys and "dilation" not in keys:
        same = _same_candidate(problem, dims, keys, known)
        if same is not None:
            candidates.append((same, False))  # stride 1, padded to the size: reads all
    candidates = candidates[: limits.results * 2]
    try:
        return _confirm_all(problem, candidates)
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
        reached.append(Solution(spec, _public(near, problem), shape))
    raise _no_solution(problem, reached)


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


def _upsample(
    problem: _Problem, keys: tuple[str | None, ...], held: Callable[[float], float] | None
) -> list[tuple[dict[str, Any], Any]]:
    """The candidates of a resampling kind of (size, scale) arguments ``keys`` (size
    None: whole factors only), ``held``: a scale as the kind holds it."""
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
    scales: list[float] = []
    for size, want in zip(spatial, sizes):
        assert size is not None and want is not None
        scales.append(_shortest_scale(size, want, held))
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


def _shortest_scale(size: int, want: int, held: Callable[[float], float] | None = None) -> float:
    """The shortest decimal f with floor(float64(size) · f) == want, as PyTorch sizes
    an interpolation (docs/arithmetic.md#other-layers); ``held``: f as the kind holds
    it first (ONNX's scales tensor: a float32, docs/frameworks.md#onnx)."""
    lo, hi = Fraction(want, size), Fraction(want + 1, size)
    for digits in range(18):
        unit = Fraction(1, 10**digits)
        f = math.ceil(lo / unit) * unit
        while f < hi:
            value = float(f)
            scale = value if held is None else held(value)
            if value > 0 and math.floor(float(size) * scale) == want:
                return value
            f += unit
    return want / size  # pragma: no cover - a float in range always exists
