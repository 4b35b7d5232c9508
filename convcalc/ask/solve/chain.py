"""Solving a chain or graph: a depth-first search over the layers whose keys are
marked ``?``, each candidate run on the shape that reaches it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any

from convcalc._records import NamedTuple
from convcalc.ask.solve.common import (
    _INT_KEYS,
    _SHORT,
    Limits,
    NoSolution,
    Solution,
    _atom_q,
    _distance,
    _is_q,
    _marked,
    _matches,
    _shape_text,
    _space,
    _target,
    _target_text,
)
from convcalc.ask.solve.design import Look, look, rank
from convcalc.ask.solve.kinds import Kind, kind_of
from convcalc.ask.solve.layer import solve
from convcalc.ask.solve.windows import _away, _rank
from convcalc.errors import LayerError, ShapeError, SpecError
from convcalc.kinds import Layer, Shape
from convcalc.kinds.frameworks import Framework
from convcalc.language import InputStmt, LayerStmt
from convcalc.network.analysis import _framework, _resolve_input, analyze, parse_shape
from convcalc.network.graph import build

# More combinations than this and a chain search gives up (layer runs).
_MAX_RUNS = 200_000


# More candidate combinations than this across a chain's '?' sites and it is refused
# at once (each combination runs the rest of the network).
_MAX_COMBINATIONS = 50_000


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
    ``output_shape`` at its end, in the designer's order (design.py). A spec that
    is one layer statement goes to ``solve``. ``framework`` and ``opset`` as for
    ``analyze`` (a spec may declare its own in a leading ``framework`` statement)."""
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
    search = _Search(graph, owner, sites, limits, fw.channels_last)
    leaves = search.run(shape)
    if rank is None and leaves:
        rank = len(leaves[0][0])
    target = _target(output_shape, rank or len(shape), fw.channels_last)
    matching = [
        (cost, choice, skips) for out, cost, choice, skips in leaves if _matches(out, target)
    ]
    matching.sort(key=lambda m: m[0])
    rows = search.first_rows()
    solutions: list[Solution] = []
    for _, choice, skips in matching:
        text = _render_chain(spec, sites, choice)
        try:
            out = analyze(text, input_shape, **conventions).output  # type: ignore[arg-type]
        except ShapeError:  # pragma: no cover - the search ran the same layers
            continue
        if _matches(out, target):
            solutions.append(Solution(text, _chain_values(sites, choice, rows), out, skips))
            if len(solutions) >= limits.results:
                break
    if solutions:
        return solutions
    best: dict[Shape, tuple[Any, dict[int, tuple[Any, ...]]]] = {}
    for out, cost, choice, _ in leaves:
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


class _Search:
    """Depth-first search over the '?' sites of a graph: each site's values are chosen
    at its first node, from the candidates its input shape admits."""

    def __init__(
        self,
        graph: Any,
        owner: list[_Site | None],
        sites: list[_Site],
        limits: Limits,
        channels_last: bool = False,
    ) -> None:
        self.graph = graph
        self.nodes = graph.nodes
        self.owner = owner
        self.sites = sites
        self.limits = limits
        self.channels_last = channels_last
        self.runs = 0
        self.error: ShapeError | None = None
        # (the output, the answer's key, the choice, whether it skips input pixels)
        self.leaves: list[tuple[Shape, Any, dict[int, tuple[Any, ...]], bool]] = []
        self.cache: dict[tuple[int, tuple[Any, ...]], Layer] = {}

    def first_rows(self) -> dict[int, int]:
        rows: dict[int, int] = {}
        for i, site in enumerate(self.owner):
            if site is not None and site.number not in rows:
                rows[site.number] = i + 1
        return rows

    def run(self, shape: Shape) -> list[tuple[Shape, Any, dict[int, tuple[Any, ...]], bool]]:
        combinations = 1
        for site in self.sites:
            pos = next(i for i, owner in enumerate(self.owner) if owner is site)
            combinations *= sum(
                1 for values in self.candidates(pos, shape) if self.within(site, values, pos)
            )
        if combinations > _MAX_COMBINATIONS:
            raise self.too_many()
        self.step(0, [shape], {}, {})
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

    def step(
        self,
        pos: int,
        shapes: list[Shape],
        choice: dict[int, tuple[Any, ...]],
        looks: dict[int, Look],
    ) -> None:
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
                    layer = self.layer_for(pos, values)
                    try:
                        out = layer.infer(shape, 1)
                    except LayerError:
                        continue
                    seen = self.look(site, layer, shape, out.shape)
                    self.step(
                        pos + 1,
                        [*shapes, out.shape],
                        {**choice, site.number: values},
                        {**looks, site.number: seen},
                    )
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
        key = (rank(looks.values()), *self.cost(choice))
        skips = any(one.skips for one in looks.values())
        self.leaves.append((shapes[result], key, choice, skips))

    def look(self, site: _Site, layer: Layer, shape: Shape, out: Shape) -> Look:
        """How a site's layer looks to a designer (design.py), on ``shape`` giving
        ``out``. In a chain every searched key is marked '?': a dilation is asked."""
        kind = site.kind
        sizes = _space(shape, self.channels_last)
        n = len(sizes)
        return look(kind, _windows(layer, kind, n), sizes, _space(out, self.channels_last), True)

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


def _windows(layer: Layer, kind: Kind, n: int) -> list[tuple[Any, ...]]:
    """A layer's searched keys per spatial dimension, (k, s, p, d, op) each, as the
    solver holds them: a left-out key at its default (a pool's stride: its kernel),
    a key the kind lacks at its neutral value, ONNX's pads as (begin, end) pairs."""
    neutral = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
    per_key: dict[str, tuple[Any, ...]] = {}
    for key in _INT_KEYS:
        attr = kind.attrs.get(key)
        value = None if attr is None else getattr(layer, attr, None)
        if value is None:
            value = kind.defaults.get(key) if attr is not None else neutral[key]
            if value is None and key == "stride":
                value = per_key["kernel_size"]
        if (
            isinstance(value, tuple)
            and kind.pads_pairs
            and key == "padding"
            and len(value) == 2 * n
        ):
            value = tuple(zip(value[:n], value[n:]))
        elif isinstance(value, tuple):
            value = value * n if len(value) == 1 else value
        else:
            value = (value,) * n
        per_key[key] = value
    return [tuple(per_key[key][i] for key in _INT_KEYS) for i in range(n)]


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
