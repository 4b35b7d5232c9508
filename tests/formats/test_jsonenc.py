"""formats/jsonenc.py writes what json.dumps writes, byte for byte, with or without
the C encoder."""

from __future__ import annotations

import json
import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.formats import jsonenc

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_VALUES)
def test_the_c_encoder_writes_what_json_dumps_writes(value: object) -> None:
    assert jsonenc.dumps_function()(value) == json.dumps(value)


def test_without_the_c_encoder_it_is_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "_json", None)  # import _json now fails
    dumps = jsonenc.dumps_function()
    assert dumps is json.dumps
    assert dumps({"a": [1, 2.5, None]}) == '{"a": [1, 2.5, null]}'


def test_it_refuses_what_json_refuses() -> None:
    dumps = jsonenc.dumps_function()
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        dumps({"a": {1, 2}})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(loop)
    assert dumps(math.inf) == "Infinity"
