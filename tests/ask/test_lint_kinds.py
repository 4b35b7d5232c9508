"""The warnings ask the layer kinds (the lint section of convcalc.kinds.layer.Layer):
every kind declares its traits consistently, and lint names no kind of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import convcalc
from convcalc.ask.lint import lint
from convcalc.kinds import frameworks
from convcalc.kinds.layer import Layer

LINT = Path(convcalc.__file__).parent / "ask" / "lint"


def _classes() -> set[type[Layer]]:
    found = set()
    for name in frameworks.FRAMEWORKS:
        for word in frameworks.get(name).kinds:
            found.add(frameworks.get(name).registry[word].cls)
    return found


@pytest.mark.parametrize("cls", sorted(_classes(), key=lambda c: c.__module__ + c.__name__))
def test_the_lint_traits_are_consistent(cls: type[Layer]) -> None:
    assert cls.READS_CHANNELS in (None, "first", "last")
    assert not (cls.MAKES_MAP and cls.BREAKS_MAP)
    if cls.UPSAMPLES or cls.SIZE_IS_GIVEN:
        assert cls.MAKES_MAP  # a map's sizes: only a map maker has them
    if cls.floor_fixes is not Layer.floor_fixes:
        assert cls.floor_windows is not Layer.floor_windows  # fixes for its own windows


def test_lint_imports_no_kind_module() -> None:
    for path in LINT.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(
                    ("convcalc.kinds.torch", "convcalc.kinds.keras", "convcalc.kinds.onnx")
                ), (path.name, node.module)


def test_an_lppool_is_not_told_to_pad() -> None:
    """LPPool takes no padding: its floor-drop fix is ceil=true alone."""
    (warning,) = lint(convcalc.analyze("lppool 2 k=2", "3x7x7"))
    assert warning.code == "floor-drop"
    assert warning.fix == "ceil=true keeps it (4×4)"
    (warning,) = lint(convcalc.analyze("avgpool k=2", "3x7x7"))
    assert warning.fix == "ceil=true keeps it (4×4) or p=1 keeps it (4×4)"
