"""The report: one record of everything a writer presents — the analysis, its memory
figures, where its layers were written, and what the options asked of it (the
explained arithmetic, the receptive field, the warnings). Computed before any writer
runs (compute first, present second): every writer takes a Report and does no
arithmetic, and each figure it shows is also in the JSON.

The low module of the formats: the writers (table, Markdown, CSV/TSV, JSON, PyTorch
code) import it, it imports none of them. It sits above ``ask/`` because a report
carries its answers; :func:`make_report` asks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc._records import NamedTuple

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.ask.lint import LintWarning
    from convcalc.network.analysis import Analysis
    from convcalc.network.field import Field
    from convcalc.network.memory import Memory, TrainingMemory

__all__ = [
    "COMMAND_LINE",
    "Extras",
    "Report",
    "Source",
    "gather_extras",
    "is_graph",
    "make_report",
    "memory_figures",
]

COMMAND_LINE = "the command line"


class Source(NamedTuple):
    """Where layers ``first``..``last`` (1-based) of the chain were written."""

    name: str  # a file name, or COMMAND_LINE
    first: int
    last: int

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.name, "first": self.first, "last": self.last}


class Extras(NamedTuple):
    """What the options add, as the command gathers them: ``--explain``'s steps,
    ``--rf``'s columns and summary, and the warnings (JSON lists them; the text
    formats leave them to stderr). A Report holds the same four fields."""

    explain: Sequence[Step] | None = None
    rf: bool = False
    field: Field | None = None
    warnings: Sequence[LintWarning] | None = None


class Report(NamedTuple):
    """What the writers present, every figure computed already.

    ``memory``: the inference figures at the report's batch and dtype (None only in a
    partial report, whose ``failed`` row closes the table: it has no totals).
    ``training``: the estimate for an optimizer, when one was given. ``sources``: which
    layers came from which file. ``depth``: block instances nested deeper are shown
    as one row each. ``explain``: the explained arithmetic (--explain); ``rf``: the
    receptive field in three columns and its summary ``field`` (--rf); ``warnings``:
    findings to list (JSON only; None: no "warnings" key). ``failed``: (index, spec)
    of the layer that could not be computed."""

    analysis: Analysis
    memory: Memory | None = None
    training: TrainingMemory | None = None
    sources: tuple[Source, ...] = ()
    depth: int | None = None
    explain: tuple[Step, ...] | None = None
    rf: bool = False
    field: Field | None = None
    warnings: tuple[LintWarning, ...] | None = None
    failed: tuple[int, str] | None = None

    @property
    def batch(self) -> int:
        return self.analysis.batch if self.memory is None else self.memory.batch

    @property
    def dtype(self) -> str:
        return "float32" if self.memory is None else self.memory.dtype

    @property
    def graph(self) -> bool:
        """Whether the network is more than a chain (see :func:`is_graph`)."""
        return is_graph(self.analysis)

    @classmethod
    def of(
        cls,
        analysis: Analysis,
        memory: Memory | None,
        *,
        training: TrainingMemory | None = None,
        sources: Sequence[Source] = (),
        depth: int | None = None,
        extras: Extras | None = None,
    ) -> Report:
        """A report from figures computed already and the options' ``extras``."""
        steps, rf, field, warnings = extras or Extras()
        return cls(
            analysis,
            memory,
            training,
            tuple(sources),
            depth,
            None if steps is None else tuple(steps),
            rf,
            field,
            None if warnings is None else tuple(warnings),
        )


def is_graph(analysis: Analysis) -> bool:
    """Whether the analysis is more than a chain (branches, merges, names, blocks, tied
    weights)."""
    return bool(analysis.blocks) or any(
        lay.inputs != (lay.index - 1,) or lay.name or lay.side or lay.tied is not None
        for lay in analysis.layers
    )


def make_report(
    analysis: Analysis,
    *,
    batch: int | None = None,
    dtype: str = "float32",
    optimizer: str | None = None,
    sources: Sequence[Source] = (),
    depth: int | None = None,
    explain: bool = False,
    ascii: bool = False,
    rf: bool = False,
    warnings: bool = False,
    input_text: str | None = None,
) -> Report:
    """Compute what a report of ``analysis`` shows: the memory at ``batch`` (default:
    the analysis's) and ``dtype``, the training estimate for ``optimizer``, and what
    ``explain`` (``ascii``: without Unicode), ``rf`` and ``warnings`` ask for
    (``input_text``: the input as written, for the warnings). Raises SpecError for an
    unknown dtype or optimizer."""
    memory, training = memory_figures(analysis, batch, dtype, optimizer)
    found = None
    if warnings:
        from convcalc.ask.lint import lint

        found = lint(analysis, input_text=input_text)
    extras = gather_extras(analysis, explain=explain, ascii=ascii, rf=rf, warnings=found)
    return Report.of(
        analysis, memory, training=training, sources=sources, depth=depth, extras=extras
    )


def memory_figures(
    analysis: Analysis, batch: int | None, dtype: str, optimizer: str | None
) -> tuple[Memory, TrainingMemory | None]:
    """The memory at ``batch`` (None: the analysis's) and ``dtype``, and the training
    estimate for ``optimizer`` (None: not asked). Raises SpecError for an unknown dtype
    or optimizer."""
    memory = analysis.memory(batch, dtype)
    if optimizer is None:
        return memory, None
    from convcalc.network.memory import training_memory

    return memory, training_memory(analysis, batch, dtype, optimizer, inference=memory)


def gather_extras(
    analysis: Analysis,
    *,
    explain: bool = False,
    ascii: bool = False,
    rf: bool = False,
    warnings: Sequence[LintWarning] | None = None,
) -> Extras | None:
    """What ``explain`` (``ascii``: without Unicode), ``rf`` and the ``warnings`` to
    list add; None when nothing was asked (nothing more is imported then)."""
    if not (explain or rf or warnings is not None):
        return None
    steps = summary = None
    if explain:
        from convcalc.ask.explain import explain as explain_steps

        steps = explain_steps(analysis, ascii=ascii)
    if rf:
        from convcalc.network.field import field

        summary = field(analysis)
    return Extras(steps, rf, summary, warnings)
