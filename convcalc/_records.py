"""``NamedTuple``: :class:`typing.NamedTuple` for type checkers, and at run time the
same class made for a fraction of the cost.

typing's version checks every field's annotation; under ``from __future__ import
annotations`` each is a string, which it compiles into a ``ForwardRef``. That costs
about a tenth of a millisecond per class, and the command defines some twenty of
them at every start (bench/cli_bench.py (b), (c)). This one builds the class with
:func:`collections.namedtuple`, as typing does, and leaves the annotations as the
strings they are. Everything else is as with typing: class syntax, defaults,
methods, properties, docstrings, ``_replace``, pickling. No Generic support (no
record here needs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import collections

    # What class syntax may not set, and what the namedtuple already has: as typing.
    _PROHIBITED = frozenset(
        (
            "__new__",
            "__init__",
            "__slots__",
            "__getnewargs__",
            "_fields",
            "_field_defaults",
            "_make",
            "_replace",
            "_asdict",
            "_source",
        )
    )
    _SPECIAL = frozenset(("__module__", "__name__", "__annotations__"))

    class _Meta(type):
        def __new__(mcls, typename, bases, ns):
            types = ns.get("__annotations__", {})
            default_names = []
            for field_name in types:
                if field_name in ns:
                    default_names.append(field_name)
                elif default_names:
                    raise TypeError(
                        f"Non-default namedtuple field {field_name} cannot follow default "
                        f"field{'s' if len(default_names) > 1 else ''} {', '.join(default_names)}"
                    )
            cls = collections.namedtuple(
                typename,
                list(types),
                defaults=[ns[n] for n in default_names],
                module=ns["__module__"],
            )
            cls.__annotations__ = cls.__new__.__annotations__ = dict(types)
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in _SPECIAL and key not in cls._fields:
                    setattr(cls, key, value)
            return cls

    NamedTuple = type.__new__(_Meta, "NamedTuple", (), {})
