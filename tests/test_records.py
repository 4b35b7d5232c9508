"""convcalc._records.NamedTuple behaves as typing.NamedTuple (it only skips typing's
check of each annotation, which costs start-up time)."""

from __future__ import annotations

import pickle
import typing

import pytest

from convcalc._records import NamedTuple


class Point(NamedTuple):
    """A point."""

    x: int
    y: int = 2
    label: str | None = None

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


class TypingPoint(typing.NamedTuple):
    """A point."""

    x: int
    y: int = 2
    label: str | None = None


def test_same_record_as_typing() -> None:
    p, q = Point(1), TypingPoint(1)
    assert p == q
    assert tuple(p) == (1, 2, None)
    assert Point._fields == TypingPoint._fields
    assert Point._field_defaults == TypingPoint._field_defaults
    assert Point.__doc__ == TypingPoint.__doc__ == "A point."
    assert Point.__module__ == TypingPoint.__module__ == __name__
    assert list(Point.__annotations__) == list(TypingPoint.__annotations__)
    assert repr(p) == "Point(x=1, y=2, label=None)"
    assert p.norm1 == 3 and p.moved(2) == Point(3, 2)
    assert isinstance(p, tuple) and hash(p) == hash((1, 2, None))
    assert pickle.loads(pickle.dumps(p)) == p
    assert Point._make([4, 5, "a"]).label == "a" and p._asdict() == {"x": 1, "y": 2, "label": None}


def test_same_errors_as_typing() -> None:
    with pytest.raises(TypeError, match="Non-default namedtuple field y"):

        class Bad(NamedTuple):
            x: int = 0
            y: int  # type: ignore[misc]

    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):

        class Worse(NamedTuple):
            x: int

            def _replace(self) -> None:  # type: ignore[misc]
                pass
