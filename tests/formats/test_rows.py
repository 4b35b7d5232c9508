"""The layer table's rows as data (formats/rows.py): where the graph's marks go."""

from __future__ import annotations

import convcalc
from convcalc.formats.report import make_report
from convcalc.formats.rows import rows

RES = "block res C; as x; conv2d C k=3 p=1; add x; end"


def notes(spec: str, shape: str = "16x8x8", depth: int | None = None) -> list[tuple[str, str]]:
    report = make_report(convcalc.analyze(spec, shape), depth=depth)
    return [(r.number, r.note) for r in rows(report)]


def test_a_name_given_inside_a_block_is_marked_inside_it() -> None:
    # `as x` first in the block names the tensor the row before it made: the mark is
    # the block's, on its first row (← x), not → x on the row before, outside it
    assert notes(f"{RES}; conv2d 16 k=3 p=1; res 16; res 16") == [
        ("1", ""),
        ("", ""),  # res#1's subtotal
        ("2", "← x"),
        ("3", "← #2, x"),
        ("", ""),
        ("4", "← x"),
        ("5", "← #4, x"),
    ]


def test_folded_blocks_leave_no_mark_before_them() -> None:
    assert notes(f"{RES}; conv2d 16 k=3 p=1; res 16; res 16", depth=0) == [
        ("1", ""),
        ("2–3", ""),
        ("4–5", ""),
    ]


def test_a_name_given_outside_stays_on_its_row() -> None:
    # named before the block and read after it: the name is the outer code's
    assert notes(f"{RES}; conv2d 16 k=3 p=1; as y; res 16; add y") == [
        ("1", "→ y"),
        ("", ""),
        ("2", ""),
        ("3", "← #2, y"),  # a tensor's label is its first name
        ("4", "← #3, y"),
    ]
    # no block after it: as before
    assert notes("conv2d 16 k=3 p=1; as y; relu; add y") == [
        ("1", "→ y"),
        ("2", ""),
        ("3", "← #2, y"),
    ]
