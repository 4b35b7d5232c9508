"""A layer to solve, as solve() in layer.py sets it up (_Problem), and what is done
with each candidate: the layer text written with the values (``?`` replaced, missing
keys appended), run through the engine, kept if it reaches the target — or the
nearest ones named when none does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc._records import NamedTuple
from convcalc.ask.solve.common import (
    _SHORT,
    Limits,
    NoSolution,
    Solution,
    _channel,
    _collapse,
    _distance,
    _fmt,
    _Marked,
    _matches,
    _per_dim,
    _shape_text,
    _target_text,
)
from convcalc.ask.solve.kinds import Kind
from convcalc.errors import ShapeError, SpecError
from convcalc.kinds import Layer, Shape
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.layer import Entry
from convcalc.language import LayerStmt
from convcalc.network.analysis import Analysis, analyze


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

    @property
    def output_size(self) -> str | None:
        """The argument that is the output's spatial size (adaptive pooling's)."""
        declared = self.entry.cls.SOLVE
        return None if declared is None else declared.output_size


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
        if name in (problem.channels, problem.output_size):  # the layer's first value
            edits.append((head_end, head_end, " " + value_text))
            continue
        if isinstance(vals, tuple):
            if name == "stride" and defaults.get(name, 1) is None:
                if vals == _kernel_of(problem, values):
                    continue
            elif name in defaults and all(v == defaults[name] for v in vals):
                continue
        # By name where the text names its keys, else by the short key (_label).
        long = kind.attrs.get(name, name) if kind is not None else name
        appended.append(f"{long if spelt_out else _label(problem, name)}={value_text}")
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


def _public(values: dict[str, Any], problem: _Problem) -> dict[str, Any]:
    """The solved values by their short keys (by name where the short key is another
    argument's: ONNX LpPool's pads), as written (ONNX's pads: one number, or every
    begin, then every end)."""
    kind = problem.kind
    out = {}
    for key, value in values.items():
        if kind is not None and kind.pads_pairs and key == "padding":
            value = _pads(value)
        out[_label(problem, key)] = value if isinstance(value, str) else _collapse(value)
    return out


def _label(problem: _Problem, key: str) -> str:
    """A solved key's short name, or its own name where the kind's short key of that
    name is another argument (ONNX LpPool's p is the norm's order, not its pads)."""
    kind = problem.kind
    long = kind.attrs.get(key, key) if kind is not None else key
    short = problem.entry.by_key.get(_SHORT[key])
    return long if short is None or short.name != long else _SHORT[key]


def _run(problem: _Problem, spec: str) -> Analysis:
    fw = problem.framework
    return analyze(spec, problem.input_shape, framework=fw.name, opset=fw.opset)


def _confirm_all(
    problem: _Problem, candidates: Sequence[tuple[dict[str, Any], Any]]
) -> list[Solution]:
    """Run each candidate (its values, and whether it skips input pixels) through
    the engine; keep those that reach the target."""
    found: list[Solution] = []
    reached: list[Solution] = []
    first_error: ShapeError | None = None
    for values, skips in candidates:
        values = _with_channels(problem, values)
        spec = _render(problem, values)
        try:
            out = _run(problem, spec).output
        except ShapeError as exc:
            first_error = first_error or exc
            continue
        solution = Solution(spec, _public(values, problem), out, bool(skips))
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
