"""PyTorch's call syntax in a spec: a layer written as its class is called
(``nn.Conv2d(3, 64, 7, stride=2)``), whose class names the kind (its last dotted part,
in any case); a call standing as a value, inside another call or after a key (Keras's
wrappers: ``Bidirectional(LSTM(64))``, ``TimeDistributed(layer=Dense(10))``); and a
tuple in parentheses or brackets (``(3, 5)``, ``[64, 7, 7]``). Inside a call a comma
separates arguments, as in Python, and a newline is a blank. The grammar (the rest is
language/parse.py's)::

    tuple     := '(' [item (',' item)* [',']] ')' | '[' [item (',' item)* [',']] ']'
    call      := CLASS '(' [carg (',' carg)* [',']] ')' (no blank between CLASS and '(')
    carg      := NAME '=' cvalue | cvalue               cvalue := atom | tuple | call
    CLASS     := a word that starts with a capital letter or holds a '.' (nn.Conv2d)

language/parse.py's parser hands itself to these functions when a statement holds a
call or a parenthesised tuple: a chain of plain words (``conv2d 64 k=7 s=2``) never
loads this module. They read the parser's tokens and return the pieces; the parser
makes its records of them (this module imports nothing of parse.py, which loads it).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from convcalc.errors import SpecError

__all__ = ["Parser", "call", "one_line", "paren_tuple"]

# language/parse.py's token kinds (see its tokenize()).
WORD, SEP, PUNCT = "word", "sep", "punct"
CLOSE = {"(": ")", "[": "]"}
_COMMENT = r"#[^\n]*"
_INNER_BLANKS = r"(?<=[(\[])\s+|\s+(?=[)\]])"


class Span(Protocol):
    """A parsed value as this module sees it: where it stands."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


V = TypeVar("V", bound=Span, covariant=True)  # the parser's Value


class Parser(Protocol[V]):
    """What the call syntax uses of language/parse.py's parser, typed by its shape."""

    source: str
    tokens: list[tuple[str, str, int, int]]
    pos: int
    kinds: Collection[str]
    calls: Collection[str]  # the class names a call may use, for hints

    def error(self, message: str, start: int | None, end: int | None = None) -> SpecError: ...

    def is_kind(self, index: int) -> bool: ...

    def value(self) -> V: ...

    def call_value(self) -> V: ...

    def atoms(self, text: str, start: int, end: int) -> tuple[V, ...]: ...


# A call's pieces: its kind word, the callee as written, its arguments as (key,
# key_start, value), how many of them stand inside its parentheses, its start and end.
Call = tuple[str, str, list[tuple["str | None", int, V]], int, int, int]


def one_line(text: str) -> str:
    """The text of a statement spanning lines without its comments and the blanks
    inside its parentheses (parse.py folds the rest)."""
    return re.sub(_INNER_BLANKS, "", re.sub(_COMMENT, "", text))


def call(p: Parser[V], nested: bool = False) -> Call[V]:
    """``Conv2d(3, 64, kernel_size=(7, 7))``, then (outside the parentheses) the
    graph's own words: ``x2``, ``name=…``, ``frozen`` — but for a ``nested`` call,
    another's argument, which ends at its ')'."""
    tokens = p.tokens
    _, callee, start, end = tokens[p.pos]
    kind = callee.rsplit(".", 1)[-1].lower()
    if kind not in p.kinds:
        import difflib  # only on the error path

        message = f"convcalc does not know the module {callee}"
        names = {name.lower(): name for name in p.calls}
        hints = difflib.get_close_matches(kind, list(names), n=1, cutoff=0.8)
        if kind in ("sequential", "modulelist", "moduledict"):
            message += "; to read a printed model, give it to --from-torch FILE"
        elif hints:
            message += f"; did you mean {names[hints[0]]}?"
        else:
            message += " (--list-layers lists the kinds)"
        raise p.error(message, start, end)
    open_tok = tokens[p.pos + 1]
    p.pos += 2
    n = len(tokens)
    args: list[tuple[str | None, int, V]] = []
    expect_arg = True
    while True:
        skip_newlines(p)
        if p.pos >= n or tokens[p.pos][0] == SEP:
            raise p.error("'(' is never closed", open_tok[2], open_tok[3])
        kind_, text, tstart, tend = tokens[p.pos]
        if text == ")" and kind_ == PUNCT:
            p.pos += 1
            end = tend
            break
        if text.startswith(":"):  # '(name): Module(' — a print with children
            raise p.error(
                f"{callee}(…) here is a module's print with its children; read a printed "
                "model with --from-torch FILE",
                tstart,
                tend,
            )
        if not expect_arg:
            if text != ",":
                raise p.error(f"expected ',' or ')' in the call, got {text!r}", tstart, tend)
            p.pos += 1
            expect_arg = True
            continue
        if kind_ == WORD and p.pos + 1 < n and tokens[p.pos + 1][1] == "=":
            p.pos += 2
            skip_newlines(p)
            if p.pos >= n or tokens[p.pos][1] in (",", ")") or tokens[p.pos][0] == SEP:
                raise p.error(f"{text}= needs a value", tstart, tokens[p.pos - 1][3])
            args.append((text, tstart, p.call_value()))
        else:
            value = p.call_value()
            args.append((None, value.start, value))
        expect_arg = False
    inside = len(args)
    while p.pos < n and not nested:  # the graph's words after the call
        kind_, text, tstart, _tend = tokens[p.pos]
        if kind_ == SEP or p.is_kind(p.pos):
            break
        if kind_ == WORD and p.pos + 1 < n and tokens[p.pos + 1][1] == "=":
            p.pos += 2
            if p.pos >= n or tokens[p.pos][0] == SEP:
                raise p.error(f"{text}= needs a value", tstart, tokens[p.pos - 1][3])
            args.append((text.lower().replace("-", "_"), tstart, p.value()))
        else:
            value = p.value()
            args.append((None, value.start, value))
        end = args[-1][2].end
    return kind, callee, args, inside, start, end


def skip_newlines(p: Parser[V]) -> None:
    """Inside parentheses a newline is a blank (parse() keeps such lines together)."""
    tokens = p.tokens
    while p.pos < len(tokens) and tokens[p.pos][1] == "\n":
        p.pos += 1


def paren_tuple(p: Parser[V]) -> tuple[tuple[V, ...], int, int]:
    """``(3, 5)`` or ``[3, 5]`` (a Python list, as in ``LayerNorm([64, 7, 7])``): its
    atoms, its start and its end."""
    tokens = p.tokens
    open_tok = tokens[p.pos]
    close = CLOSE[open_tok[1]]
    p.pos += 1
    items: list[V] = []
    expect_item = True
    while True:
        skip_newlines(p)
        if p.pos >= len(tokens) or tokens[p.pos][0] == SEP:
            raise p.error(f"{open_tok[1]!r} is never closed", open_tok[2], open_tok[3])
        kind, text, start, end = tokens[p.pos]
        p.pos += 1
        if text == close and kind == PUNCT:
            if not items:
                raise p.error("empty tuple", open_tok[2], end)
            return tuple(items), open_tok[2], end
        if expect_item and kind == WORD:
            items.extend(p.atoms(text, start, end))
            expect_item = False
        elif expect_item and text == "(":
            # A nested tuple (Keras's ((1, 2), (3, 4))) reads as its numbers in order.
            p.pos -= 1
            items.extend(paren_tuple(p)[0])
            expect_item = False
        elif not expect_item and text == ",":
            expect_item = True
        else:
            raise p.error(f"unexpected {text!r} in a tuple", start, end)
