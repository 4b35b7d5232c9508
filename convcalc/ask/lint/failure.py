"""The warnings about a network the framework rejected (a ShapeError): the findings of
convcalc.ask.lint about the rows that ran before it failed, which often say why it
failed (an odd size before a U-Net's skip concatenation). Only a failed run loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.ask.lint import lint
from convcalc.network.analysis import Analysis

if TYPE_CHECKING:
    from convcalc.ask.lint.findings import LintWarning
    from convcalc.errors import ShapeError


def lint_error(exc: ShapeError, *, input_text: str | None = None) -> list[LintWarning]:
    """The findings about the rows that ran before ``exc`` (a network PyTorch rejects):
    they often say why it failed, e.g. the odd size behind a U-Net's failing concat."""
    rows = tuple(exc.results)
    if not rows:
        return []
    analysis = Analysis(rows[0].input, rows, framework=exc.framework, opset=exc.opset)
    return lint(analysis, input_text=input_text)
