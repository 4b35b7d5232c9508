"""What the solver's parts share: the bounds of a search, the answers and the
failure, reading the layer text (the keys marked ``?``, the statement without
them) and the target shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from convcalc._records import NamedTuple
from convcalc.ask.solve.kinds import KEYS, SHORT
from convcalc.errors import ShapeError, SpecError
from convcalc.kinds import Shape
from convcalc.kinds.args import Param
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.layer import Entry
from convcalc.language import Arg, InputStmt, LayerStmt, Value
from convcalc.network.analysis import _framework, parse_shape

UNKNOWN = "?"


# In a dimension's known values: a key the solver searches.
_Q: Any = UNKNOWN


# The keys searched (convcalc.kinds.windows.KEYS, in the order they are reported and
# compared) and the other solved ones, by the short names answers use.
_INT_KEYS = KEYS
_SHORT = {
    **SHORT,
    "scale_factor": "scale",
    "size": "size",
    "output_size": "output_size",
    "out_channels": "out_channels",
    "filters": "filters",  # Keras's out_channels
    "sizes": "sizes",  # ONNX Resize's
    "scales": "scales",
}


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
    the table row of the layer it belongs to: ``"3.p"``. ``skips_input``: a window
    of the answer leaves input pixels unread (convcalc.ask.solve.design)."""

    spec: str
    values: dict[str, Any]
    output: Shape
    # Some input pixels are read by no window: a stride longer than the window, or
    # the last rows left out (convcalc.ask.solve.design)
    skips_input: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"spec": self.spec}
        for key, value in self.values.items():
            data[key] = list(value) if isinstance(value, tuple) else value
        data["output"] = list(self.output)
        data["skips_input"] = self.skips_input
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


def _target_text(target: Sequence[int | None], channels_last: bool = False) -> str:
    at = _channel(channels_last)
    return _shape_text(_space(target, channels_last) if target[at] is None else target)


def _is_q(arg: Arg) -> bool:
    return _atom_q(arg.value)


def _atom_q(value: Any) -> bool:
    return bool(value.kind == "name" and value.value == UNKNOWN)
