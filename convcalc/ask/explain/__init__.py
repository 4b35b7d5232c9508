"""The arithmetic behind each output size, written with the user's numbers.

``explain(analysis, *, ascii=False) -> list[Step]``
    For every row whose shape arithmetic is not trivial, one ``Step`` per dimension it
    computes: convolutions (``same``'s left/right split), transposed convolutions
    (output_padding), pools (ceil_mode and the dropped last window of docs/arithmetic.md#pooling),
    adaptive pooling (its windows), upsample (the floor of the float64 product), max
    unpooling, pad, pixel (un)shuffle, flatten/unflatten, linear, GLU, and the graph
    operations (concat: which dimension and sizes; add/mul: the operands and any
    broadcasting; split/chunk parts; crop). Rows that keep their shape give none.
    Under Keras and ONNX their kinds explain themselves in their layouts and by
    their rules. Each kind says its own steps (``Layer.explain``, given the row as
    plain data, convcalc.kinds.explaining); this module walks the rows and asks.
    ``ascii=True`` writes ``floor(…)``, ``ceil(…)``, ``*`` and ``-`` instead of
    ``⌊…⌋``, ``⌈…⌉``, ``·`` and ``−``, for terminals without Unicode.

``Step.line()`` is the printed form, e.g.
``H: ⌊(224 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 112``, followed by the note in
parentheses when there is one.

``evaluate(expression) -> int`` (common.py) reads a printed expression back (either
alphabet) with a small recursive-descent parser — integers are exact, ``/`` is exact
division, a decimal is a float64 as PyTorch's scale factors are, ``trunc(…)`` is C++'s
division toward zero and ``float32(…)`` the nearest float32 (ONNX's) — so that tests
can check that every expression equals the size in the table.
"""

from __future__ import annotations

from convcalc.ask.explain.common import evaluate
from convcalc.kinds import Shape
from convcalc.kinds.explaining import Row, Step
from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["Step", "evaluate", "explain"]


_ASCII_EXPR = str.maketrans(
    {"⌊": "floor(", "⌋": ")", "⌈": "ceil(", "⌉": ")", "·": "*", "×": "*", "−": "-"}
)
_ASCII_NOTE = str.maketrans(
    {
        "⌊": "floor(",
        "⌋": ")",
        "⌈": "ceil(",
        "⌉": ")",
        "·": "*",
        "×": "x",
        "−": "-",
        "≥": ">=",
        "≤": "<=",
        "<": "<",
        "→": "->",
        "…": "...",
        "–": "-",
        "—": "-",
    }
)


def explain(analysis: Analysis, *, ascii: bool = False) -> list[Step]:
    """The steps of every row, in row order (see the module docstring)."""
    steps: list[Step] = []
    for row in analysis.layers:
        for step in row.layer.explain(_row(analysis, row)):
            if ascii:
                step = step._replace(
                    dim=step.dim.translate(_ASCII_NOTE),
                    expression=None
                    if step.expression is None
                    else step.expression.translate(_ASCII_EXPR),
                    note=step.note.translate(_ASCII_NOTE),
                )
            steps.append(step)
    return steps


def _row(analysis: Analysis, row: LayerResult) -> Row:
    """What a kind is told of its row: the shapes, its operands', the batch and the
    framework."""
    operands: tuple[Shape, ...] = tuple(
        analysis.input if i == 0 else analysis.layers[i - 1].output for i in row.inputs
    )
    return Row(row.index, row.input, row.output, operands, analysis.batch, analysis.framework)
