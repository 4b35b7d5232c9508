"""The tokenizer's two ways: a statement of words, blanks and '=' is split with str
methods, anything else with the pattern; both give the same tokens, and a text is cut
into segments at the same places with and without comments."""

from __future__ import annotations

import re
from importlib import import_module

from hypothesis import given
from hypothesis import strategies as st

p = import_module("convcalc.language.parse")  # the module: the package exports parse()

# Every character class the pattern tells apart, Unicode blanks among them.
ALPHABET = "ab1x.=_ \t\r\x0b\x0c\u00a0\u2003\u3000;|\n#'\"(),[]é×-"
PLAIN = "".join(c for c in ALPHABET if c not in p._NOT_PLAIN)


def by_pattern(source: str, start: int, end: int) -> list[tuple[str, str, int, int]]:
    found = re.compile(p._TOKEN).finditer(source, start, end)
    kinds = p._GROUP_KIND
    return [
        (kinds[m.lastindex], m.group(), m.start(), m.end()) for m in found if kinds[m.lastindex]
    ]  # type: ignore[index]


@given(st.text(PLAIN), st.text(ALPHABET), st.text(ALPHABET))
def test_plain_statements_tokenize_as_the_pattern_does(text: str, before: str, after: str) -> None:
    source = before + text + after
    start, end = len(before), len(before) + len(text)
    assert p._NOT_PLAIN.isdisjoint(text)
    assert p._tokenize(source, start, end) == by_pattern(source, start, end)


@given(st.text(ALPHABET))
def test_any_text_tokenizes_as_the_pattern_does(text: str) -> None:
    assert p.tokenize(text) == by_pattern(text, 0, len(text))


@given(st.text(ALPHABET))
def test_segments_end_where_the_pattern_says(text: str) -> None:
    expected = [(m.start(), m.end(), m.group()) for m in re.finditer(p._SEGMENT_END, text)]
    assert list(p._separators(text)) == expected
    uncommented = text.replace("#", "")
    expected = [(m.start(), m.end(), m.group()) for m in re.finditer(p._SEGMENT_END, uncommented)]
    assert list(p._separators(uncommented)) == expected


def test_the_plain_way_keeps_offsets_and_kinds() -> None:
    source = "relu; conv2d\u00a064  k=3 ==s = 2"
    start = source.index("conv2d")
    assert p._tokenize(source, start) == [
        ("word", "conv2d", 6, 12),
        ("word", "64", 13, 15),
        ("word", "k", 17, 18),
        ("punct", "=", 18, 19),
        ("word", "3", 19, 20),
        ("punct", "=", 21, 22),
        ("punct", "=", 22, 23),
        ("word", "s", 23, 24),
        ("punct", "=", 25, 26),
        ("word", "2", 27, 28),
    ]
