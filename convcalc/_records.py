"""``NamedTuple``: :class:`typing.NamedTuple` for type checkers, and at run time the
same class made for a fraction of the cost.

typing's version checks every field's annotation; under ``from __future__ import
annotations`` each is a string, which it compiles into a ``ForwardRef``. That costs
about a tenth of a millisecond per class, and the command defines some twenty of
them at every start (bench/cli_bench.py (b), (c)). This one leaves the annotations
as the strings they are, and builds the class as :func:`collections.namedtuple`
does but for its ``__new__``: namedtuple compiles one from source for every class
(``eval``, most of its cost); here it is a precompiled one of the same arity with
the fields' names put in (``CodeType.replace``): the same bytecode, as fast.
Everything else is as with typing: class syntax, defaults, methods, properties,
docstrings, ``_replace``, pickling. No Generic support (no record here needs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import sys
    from types import FunctionType

    try:
        from _collections import _tuplegetter
    except ImportError:  # as collections.namedtuple does
        from operator import itemgetter

        def _tuplegetter(index, doc):
            return property(itemgetter(index), doc=doc)

    _tuple_new = tuple.__new__

    # ``__new__`` of a record of n fields, n = 1 to 20, written out so that they come
    # compiled in the .pyc (a longer record compiles its own, as namedtuple does). A
    # record's field names replace the parameters' (same count, same bytecode).
    _NEW = (
        lambda _c, a: _tuple_new(_c, (a,)),
        lambda _c, a, b: _tuple_new(_c, (a, b)),
        lambda _c, a, b, c: _tuple_new(_c, (a, b, c)),
        lambda _c, a, b, c, d: _tuple_new(_c, (a, b, c, d)),
        lambda _c, a, b, c, d, e: _tuple_new(_c, (a, b, c, d, e)),
        lambda _c, a, b, c, d, e, f: _tuple_new(_c, (a, b, c, d, e, f)),
        lambda _c, a, b, c, d, e, f, g: _tuple_new(_c, (a, b, c, d, e, f, g)),
        lambda _c, a, b, c, d, e, f, g, h: _tuple_new(_c, (a, b, c, d, e, f, g, h)),
        lambda _c, a, b, c, d, e, f, g, h, i: _tuple_new(_c, (a, b, c, d, e, f, g, h, i)),
        lambda _c, a, b, c, d, e, f, g, h, i, j: _tuple_new(_c, (a, b, c, d, e, f, g, h, i, j)),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t)
        ),
        lambda _c, a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t, u: _tuple_new(
            _c, (a, b, c, d, e, f, g, h, i, j, k, m, n, o, p, q, r, s, t, u)
        ),
    )

    def _arg_list(fields):
        return ", ".join(fields) + ("," if len(fields) == 1 else "")  # as namedtuple writes it

    def _new(typename, fields, defaults):
        n = len(fields)
        if n <= len(_NEW):
            code = _NEW[n - 1].__code__
        else:
            args = ", ".join(f"_{i}" for i in range(n))
            code = eval(f"lambda _c, {args}: _tuple_new(_c, ({args}))").__code__
        code = code.replace(co_varnames=("_cls", *fields))
        new = FunctionType(code, globals(), "__new__", tuple(defaults) or None)
        new.__qualname__ = f"{typename}.__new__"
        new.__doc__ = f"Create new instance of {typename}({_arg_list(fields)})"
        return new

    # The methods namedtuple gives every record, written once for all of them.
    @classmethod
    def _make(cls, iterable):
        result = _tuple_new(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, /, **kwds):
        result = self._make(map(kwds.pop, self._fields, self))
        if kwds:
            raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
        return result

    def __repr__(self):
        return self.__class__.__name__ + self._repr_fmt % self

    def _asdict(self):
        return dict(zip(self._fields, self))

    def __getnewargs__(self):
        return tuple(self)

    _ALIASES = []  # "Alias for field number i", the docstrings of the fields' getters

    def _alias(index):
        while len(_ALIASES) <= index:
            _ALIASES.append(sys.intern(f"Alias for field number {len(_ALIASES)}"))
        return _ALIASES[index]

    def _record(typename, fields, defaults, module, body=None):
        """What ``collections.namedtuple(typename, fields, defaults=defaults,
        module=module)`` makes, with the entries of ``body`` (a class body's) added."""
        fields = tuple(map(sys.intern, fields))
        for name in fields:
            if name.startswith("_"):
                raise ValueError(f"Field names cannot start with an underscore: {name!r}")
        namespace = {
            "__doc__": f"{typename}({_arg_list(fields)})",
            "__slots__": (),
            "_fields": fields,
            "_field_defaults": dict(zip(fields[len(fields) - len(defaults) :], defaults)),
            "__new__": _new(typename, fields, defaults),
            "_make": _make,
            "_replace": _replace,
            "__repr__": __repr__,
            "_repr_fmt": "(" + ", ".join(f"{name}=%r" for name in fields) + ")",
            "_asdict": _asdict,
            "__getnewargs__": __getnewargs__,
            "__match_args__": fields,
            "__module__": module,
        }
        for index, name in enumerate(fields):
            namespace[name] = _tuplegetter(index, _alias(index))
        if body:
            # Given to type() rather than set on the class after: each setattr on a
            # class would update its slots and invalidate the method cache again.
            namespace.update(body)
        return type(typename, (tuple,), namespace)

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
            body = {"__annotations__": dict(types)}
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in _SPECIAL and key not in types:
                    body[key] = value
            defaults = [ns[n] for n in default_names]
            cls = _record(typename, types, defaults, ns["__module__"], body)
            cls.__new__.__annotations__ = body["__annotations__"]
            return cls

    NamedTuple = type.__new__(_Meta, "NamedTuple", (), {})
