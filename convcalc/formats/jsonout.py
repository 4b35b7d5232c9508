"""The JSON report (docs/output.md#json), apart from the other formats so that
``--format json`` imports neither the table code nor the text formatting
(bench/cli_bench.py (b))."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._gc import gc_paused

if TYPE_CHECKING:
    from convcalc.formats.report import Report

__all__ = ["to_json"]


@gc_paused()  # 100,000 rows make a million small objects: see _gc.py
def to_json(report: Report) -> str:
    """The object of docs/output.md#json, one layer per line: readable, and built with the
    C encoder (fast for long chains: formats/jsonenc.py). ``training_memory`` and ``sources`` are
    added when there is such a thing to say; the receptive-field summary, steps
    and warnings when the report holds them."""
    memory = report.memory
    data = report.analysis.to_dict(
        batch=report.batch, dtype=report.dtype, depth=report.depth, memory=memory
    )
    if report.training is not None:
        data["training_memory"] = report.training.to_dict()
    if report.sources:
        data["sources"] = [src.to_dict() for src in report.sources]
    if report.rf:
        data["receptive_field"] = None if report.field is None else report.field.to_dict()
    if report.explain is not None:
        data["explain"] = [step.to_dict() for step in report.explain]
    if report.warnings is not None:
        data["warnings"] = [warning.to_dict() for warning in report.warnings]
    from convcalc.formats.jsonenc import dumps_function  # completion and tables never need it

    dumps = dumps_function()
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
