"""The JSON report (docs/output.md#json), apart from the other formats (render.py) so that
``--format json`` imports neither the table code nor the text formatting
(bench/cli_bench.py (b)). render.py re-exports what is here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc._gc import gc_paused
from convcalc._records import NamedTuple

if TYPE_CHECKING:
    from convcalc.ask.explain import Step
    from convcalc.ask.lint import LintWarning
    from convcalc.formats.render import Source
    from convcalc.network.analysis import Analysis
    from convcalc.network.field import Field
    from convcalc.network.memory import Memory, TrainingMemory

__all__ = ["Extras", "to_json"]


class Extras(NamedTuple):
    """What the options add: ``--explain``'s steps, ``--rf``'s columns and summary,
    and the warnings (JSON lists them; the text formats leave them to stderr)."""

    explain: Sequence[Step] | None = None
    rf: bool = False
    field: Field | None = None
    warnings: Sequence[LintWarning] | None = None


@gc_paused()  # 100,000 rows make a million small objects: see _gc.py
def to_json(
    analysis: Analysis,
    *,
    batch: int = 1,
    dtype: str = "float32",
    training: TrainingMemory | None = None,
    sources: Sequence[Source] = (),
    depth: int | None = None,
    extras: Extras | None = None,
    memory: Memory | None = None,
) -> str:
    """The object of docs/output.md#json, one layer per line: readable, and built with the
    C encoder (fast for long chains). ``training_memory`` and ``sources`` are
    added when there is such a thing to say; ``extras``' receptive-field summary,
    steps and warnings when they were asked for; ``memory``: the figures, when the
    caller has them already."""
    data = analysis.to_dict(batch=batch, dtype=dtype, depth=depth, memory=memory)
    if training is not None:
        data["training_memory"] = training.to_dict()
    if sources:
        data["sources"] = [src.to_dict() for src in sources]
    if extras is not None:
        if extras.rf:
            data["receptive_field"] = None if extras.field is None else extras.field.to_dict()
        if extras.explain is not None:
            data["explain"] = [step.to_dict() for step in extras.explain]
        if extras.warnings is not None:
            data["warnings"] = [warning.to_dict() for warning in extras.warnings]
    import json  # here, not at the top: completion and the table never need it

    dumps = json.dumps
    parts = ["{"]
    keys = list(data)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = data[key]
        if key in ("layers", "explain", "warnings") and value:
            parts.append(f"  {dumps(key)}: [")
            last = len(value) - 1
            parts.extend(
                f"    {dumps(layer)}{',' if i < last else ''}" for i, layer in enumerate(value)
            )
            parts.append(f"  ]{comma}")
        else:
            parts.append(f"  {dumps(key)}: {dumps(value)}{comma}")
    parts.append("}")
    return "\n".join(parts) + "\n"
