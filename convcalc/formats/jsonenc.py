"""``json.dumps`` of plain values (dicts, lists, strings, numbers, None), written by
CPython's C encoder but without importing the :mod:`json` package: its import
compiles the decoder's and scanner's regular expressions, which the JSON output
never uses — about a millisecond of every ``-o json`` start (bench/cli_bench.py (b)).

The C encoder's constructor has taken the same arguments since Python 3.6 (see
``JSONEncoder.iterencode`` in json/encoder.py); an interpreter without it (PyPy,
or a future CPython that changes it) gets :func:`json.dumps` itself. Either way the
text is ``json.dumps(value)``'s, byte for byte (tests/formats/test_jsonenc.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dumps_function"]


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_function() -> Callable[[Any], str]:
    """A function giving ``json.dumps(value)`` (default separators, ASCII only,
    NaN allowed, circular references checked). Make one per document: it keeps
    the containers it is inside of, as json.dumps does for one call."""
    try:
        from _json import encode_basestring_ascii, make_encoder

        encode = make_encoder(
            {}, _unserializable, encode_basestring_ascii, None, ": ", ", ", False, False, True
        )
    except (ImportError, TypeError):  # no C encoder, or one that takes other arguments
        import json

        return json.dumps

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps
