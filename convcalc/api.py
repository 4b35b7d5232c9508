"""The library face of what the command does besides ``analyze``: solve, explain,
lint, report, PyTorch and Keras code and printed models, each taking plain values (a
spec string, an input shape) and returning records — only ``to_torch`` and ``to_keras``
return text.
``convcalc`` exports these names and imports this module on first use.

Each function that asks about a network takes a spec (then ``input_shape``,
``batch``, ``framework`` and ``opset`` as :func:`convcalc.analyze` takes them) or an
Analysis made already (then those are not given).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.ask.lint import LintWarning
    from convcalc.ask.solve import Limits, Solution
    from convcalc.formats.keras_model import KerasReading
    from convcalc.formats.report import Report
    from convcalc.formats.torch_print import Reading
    from convcalc.network.analysis import Analysis

__all__ = [
    "analyze_keras",
    "analyze_print",
    "explain",
    "lint",
    "read_keras",
    "read_print",
    "report",
    "solve",
    "to_keras",
    "to_torch",
]

Shape = str | Sequence[int]


def _analysis(spec: str | Analysis, input_shape: Shape | None, **options: Any) -> Analysis:
    """``spec`` analysed (``options``: batch, framework, opset), or the Analysis given."""
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(spec, str):
        from convcalc.network.analysis import analyze

        return analyze(spec, input_shape, **given)
    if input_shape is not None or given:
        what = ", ".join(["input_shape"] * (input_shape is not None) + list(given))
        raise TypeError(f"{what}: for a spec string, not for an Analysis (it has them)")
    return spec


def solve(
    spec: str,
    input_shape: Shape | None,
    output_shape: Shape,
    *,
    limits: Limits | str | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> list[Solution]:
    """Every assignment of the keys marked ``?`` in ``spec`` (one layer, or a chain
    or graph) that turns ``input_shape`` into ``output_shape``, the usual designs
    first, as ``convcalc solve`` lists them. A layer without a ``?`` solves every key it leaves
    out. ``limits``: a Limits or ``--max``'s text (``"k=21,s=8"``). Raises NoSolution
    (a ShapeError, with ``.nearest``) when nothing within the limits fits."""
    from convcalc.ask.solve import Limits, solve_chain

    if isinstance(limits, str):
        limits = Limits.parse(limits)
    return solve_chain(
        spec, input_shape, output_shape, limits=limits, framework=framework, opset=opset
    )


def explain(
    spec: str | Analysis,
    input_shape: Shape | None = None,
    *,
    ascii: bool = False,
    batch: int | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> list[Step]:
    """How each size is computed, as ``--explain`` shows it: Steps in row order (each
    with ``.row``, ``.dim``, ``.expression``, ``.value``, ``.note`` and ``.line()``);
    ``ascii``: the expressions without Unicode."""
    from convcalc.ask.explain import explain as steps

    analysis = _analysis(spec, input_shape, batch=batch, framework=framework, opset=opset)
    return steps(analysis, ascii=ascii)


def lint(
    spec: str | Analysis,
    input_shape: Shape | None = None,
    *,
    batch: int | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> list[LintWarning]:
    """The warnings the command prints for a network that works but may not do what
    was meant: LintWarnings (``.row``, ``.code``, ``.message``, ``.fix``, ``.line()``)."""
    from convcalc.ask.lint import lint as findings

    analysis = _analysis(spec, input_shape, batch=batch, framework=framework, opset=opset)
    # The input as written: ``-i 64`` (a map of unknown channels) has a warning of its own.
    return findings(analysis, input_text=input_shape if isinstance(input_shape, str) else None)


def report(
    spec: str | Analysis,
    input_shape: Shape | None = None,
    *,
    batch: int | None = None,
    dtype: str = "float32",
    optimizer: str | None = None,
    depth: int | None = None,
    explain: bool = False,
    ascii: bool = False,
    rf: bool = False,
    warnings: bool = False,
    framework: str | None = None,
    opset: int | None = None,
) -> Report:
    """The record every writer takes (convcalc.formats.render.write): the analysis,
    its memory at ``batch`` and ``dtype``, the training estimate for ``optimizer``
    (sgd, momentum, adam), and what ``explain``, ``rf`` and ``warnings`` ask for —
    all computed here; ``depth`` folds block instances nested deeper."""
    from convcalc.formats.report import make_report

    analysis = _analysis(spec, input_shape, batch=batch, framework=framework, opset=opset)
    return make_report(
        analysis,
        batch=batch,
        dtype=dtype,
        optimizer=optimizer,
        depth=depth,
        explain=explain,
        ascii=ascii,
        rf=rf,
        warnings=warnings,
        input_text=input_shape if isinstance(input_shape, str) else None,
    )


def to_torch(
    spec: str | Analysis,
    input_shape: Shape | None = None,
    *,
    batch: int | None = None,
    framework: str | None = None,
    opset: int | None = None,
) -> str:
    """The network as PyTorch code, as ``-o torch`` writes it (an ``nn.Sequential``
    for a chain, an ``nn.Module`` class for a graph). Raises CodeError (a
    ConvcalcError) for a network the code cannot hold (an unknown size, MaxUnpool)."""
    from convcalc.formats.torch_code import to_torch as code

    return code(_analysis(spec, input_shape, batch=batch, framework=framework, opset=opset))


def to_keras(
    spec: str | Analysis,
    input_shape: Shape | None = None,
    *,
    batch: int | None = None,
    framework: str | None = None,
) -> str:
    """The network as Keras 3 code, as ``-o keras`` writes it (a ``keras.Sequential``
    for a chain, a functional ``keras.Model`` for a graph); the spec is read under
    Keras's conventions unless it says otherwise. Raises CodeError (a ConvcalcError)
    for a spec of another framework or a layer Keras cannot hold as one."""
    from convcalc.formats.keras_code import to_keras as code

    if isinstance(spec, str) and framework is None and "framework" not in spec:
        framework = "keras"
    return code(_analysis(spec, input_shape, batch=batch, framework=framework))


def read_print(
    text: str, *, assume_sequential: bool = False, input_shape: Shape | None = None
) -> Reading:
    """A model's ``print(model)`` read as spec text: a Reading (``.spec``, ``.layers``;
    ``.assumed``: the containers run in print order with ``assume_sequential``).
    ``input_shape``: the input the model was built for, where its print does not show
    it (MaxViT's attention partitions a grid fixed by it; 224×224 if not given)."""
    from convcalc.formats.torch_print import read_print as reading
    from convcalc.network.analysis import parse_shape

    sizes = None if input_shape is None else parse_shape(input_shape)
    return reading(text, assume_sequential=assume_sequential, input_shape=sizes)


def analyze_print(
    text: str,
    input_shape: Shape | None = None,
    *,
    assume_sequential: bool = False,
    batch: int = 1,
) -> Analysis:
    """A model's ``print(model)`` analysed, as ``--from-torch`` does; errors point into
    the print."""
    from convcalc.formats.torch_print import analyze_print as analysed

    return analysed(text, input_shape, assume_sequential=assume_sequential, batch=batch)


def read_keras(source: str | bytes) -> KerasReading:
    """A Keras model file — model.to_json()'s JSON or a .keras archive (a path, or its
    bytes) — read as spec text: a KerasReading (``.spec``, ``.input``, ``.names``).
    Raises SpecError for a file that is not one, or names a layer convcalc does not know."""
    from convcalc.formats.keras_model import read_keras as reading

    return reading(source)


def analyze_keras(
    source: str | bytes, input_shape: Shape | None = None, *, batch: int = 1
) -> Analysis:
    """A Keras model file analysed, as ``--from-keras`` does: model.count_params(), the
    output shapes, MACs and receptive fields; ``input_shape`` (channels last) replaces the
    file's, and must be given where the file leaves a size open (None)."""
    from convcalc.formats.keras_model import analyze_keras as analysed

    return analysed(source, input_shape, batch=batch)
