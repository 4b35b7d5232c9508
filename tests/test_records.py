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


class One(NamedTuple):
    only: int


class TypingOne(typing.NamedTuple):
    only: int


class Fourteen(NamedTuple):
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int
    g: int
    h: int
    i: int
    j: int
    k: int
    m: int
    n: int
    o: int = 15


class TypingFourteen(typing.NamedTuple):
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int
    g: int
    h: int
    i: int
    j: int
    k: int
    m: int
    n: int
    o: int = 15


# Longer than the precompiled constructors (20 fields): it compiles its own.
_LONG = {f"f{i}": int for i in range(21)}
TwentyOne = type(NamedTuple)(
    "TwentyOne", (), {"__annotations__": dict.fromkeys(_LONG, "int"), "__module__": __name__}
)
TypingTwentyOne = typing.NamedTuple("TypingTwentyOne", list(_LONG.items()))


@pytest.mark.parametrize(
    ("ours", "theirs", "args"),
    [
        (Point, TypingPoint, (1,)),
        (One, TypingOne, (7,)),
        (Fourteen, TypingFourteen, range(13)),
        (TwentyOne, TypingTwentyOne, range(21)),
    ],
)
def test_same_constructor_as_typing(ours: type, theirs: type, args: typing.Iterable[int]) -> None:
    """The precompiled __new__ takes the record's own names, positions and defaults."""
    import copy
    import inspect

    def parameters(cls: type) -> list[tuple[str, object, object]]:  # not the annotations
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert parameters(ours) == parameters(theirs)
    assert ours.__new__.__doc__ == theirs.__new__.__doc__.replace("Typing", "")
    assert ours.__doc__ == theirs.__doc__.replace("Typing", "")  # One, Fourteen: namedtuple's
    assert ours.__new__.__qualname__ == f"{ours.__name__}.__new__"
    assert ours._field_defaults == theirs._field_defaults
    assert ours.__match_args__ == theirs.__match_args__ == ours._fields
    args = tuple(args)
    mine, typed = ours(*args), theirs(*args)
    assert mine == typed and repr(mine) == repr(typed).replace("Typing", "")
    keywords = dict(zip(ours._fields, args))
    assert ours(**keywords) == mine and ours._make(mine) == mine
    assert copy.copy(mine) == copy.deepcopy(mine) == pickle.loads(pickle.dumps(mine)) == mine
    for field in ours._fields:
        assert getattr(ours, field).__doc__ == getattr(theirs, field).__doc__

    def error(cls: type, *a: int, **k: int) -> str:
        with pytest.raises(TypeError) as info:
            cls(*a, **k)
        return str(info.value).replace("Typing", "")

    assert error(ours) == error(theirs)  # missing arguments, named
    assert "unexpected keyword argument 'zz'" in error(ours, *args, zz=1)
    assert error(ours, *args, zz=1) == error(theirs, *args, zz=1)
    with pytest.raises(TypeError, match=f"Expected {len(ours._fields)} arguments, got 0"):
        ours._make([])
    with pytest.raises(ValueError, match=r"Got unexpected field names: \['zz'\]"):
        mine._replace(zz=1)


def test_pattern_matching() -> None:
    match Point(3, 4):
        case Point(x, y, label):
            assert (x, y, label) == (3, 4, None)
        case _:  # pragma: no cover
            pytest.fail("no match")


def test_field_names_as_namedtuple() -> None:
    with pytest.raises(ValueError, match="Field names cannot start with an underscore: '_x'"):

        class Bad(NamedTuple):
            _x: int
