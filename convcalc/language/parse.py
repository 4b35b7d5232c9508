"""Tokenizer and parser of the layer-spec language.

The grammar (whitespace between tokens is free; ``#`` comments run to the end of
the line)::

    program   := statement? (SEP statement?)*          SEP := ';' | '|' | newline
    statement := 'input' value | HEAD arg* | call arg*
    HEAD      := KIND | KEYWORD | BLOCK-NAME
    arg       := NAME '=' value | value                 (a bare NAME is a flag or a word value)
    value     := atom (',' atom)* | tuple                (tuple, call: language/calls.py)
    atom      := INT | FLOAT | DIMS | NAME | STRING     DIMS := INT ('x' | '×') INT ...

A word that names a layer kind, a graph keyword (``as``, ``from``, ``add``, …) or a
block defined anywhere in the text (``block NAME …``), and is not followed by ``=``,
ends the statement before it and starts a new one, so a network needs no separators
on a command line; so does a call, PyTorch's own spelling of a layer
(``nn.Conv2d(3, 64, 7, stride=2)``), read by language/calls.py with parenthesised
tuples; one standing as a value is a ``call`` Value holding its statement, read as
text, never run. What a call's arguments mean is the layer registry's business
(kinds/binding.py: ``bind``), what the graph statements mean network/statements.py's;
here they are statements like any other. Every node keeps the offsets of its text,
for error messages with a caret.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator

from convcalc._records import NamedTuple
from convcalc.errors import SpecError

__all__ = [
    "KEYWORDS",
    "NAME_KEYWORDS",
    "Arg",
    "InputStmt",
    "LayerStmt",
    "Located",
    "Program",
    "Value",
    "parse",
    "parse_value",
    "spec_error",
    "suggest",
]

# Graph statements (see the grammar above). Like layer kinds, each starts a new
# statement wherever it stands.
KEYWORDS = frozenset(
    (
        *("as", "from", "add", "mul", "concat", "cat", "split", "chunk", "crop", "use"),
        *("block", "end", "framework"),
        "include",  # include NAME: a family's blocks (network/zoo.py appends its file)
        "resize_to",  # resize_to NAME: interpolated to a named tensor's size (DeepLab's heads)
        "return",  # return NAME…: the network's outputs (a segmentation model's out and aux)
        "subtract",  # subtract NAME…: the current tensor minus named ones
        "bmm",  # bmm NAME: torch.bmm(current, NAME) (RAFT's correlation volume)
        "coords_grid",  # RAFT's make_coords_grid at the current map's size
        "corr_lookup",  # corr_lookup LEVEL… radius=R: RAFT's correlation-pyramid lookup
    )
)
# Statements whose arguments are tensor names: among them the word 'input' is
# the network's input tensor, not the start of an 'input SHAPE' statement.
NAME_KEYWORDS = frozenset(
    (
        *("as", "from", "add", "mul", "concat", "cat", "split", "chunk", "crop", "resize_to"),
        *("return", "subtract", "bmm", "corr_lookup"),
    )
)

# Largest magnitude a number may have: PyTorch sizes are int64.
INT_LIMIT = 2**63 - 1

# Groups: 1 blank, 2 comment, 3 separator, 4 quoted string, 5 punctuation (a quote
# without its closing one too), 6 word. Compiled on first use, by re's own cache: a
# statement of words, blanks and '=' (every one a command line gives, most in a spec
# file) is split without it (_plain_tokens), and compiling it costs a start of the
# command a third of a millisecond.
_TOKEN = (
    r"([^\S\n]+)|(#[^\n]*)|([;|\n])|('[^'\n]*'|\"[^\"\n]*\")|([=(),\[\]'\"])"
    r"|([^\s=;|(),\[\]#'\"]+)"
)
# The characters a statement needs _TOKEN for: all but blanks, '=' and word characters.
_NOT_PLAIN = frozenset(";|\n#'\"(),[]")
_GROUP_KIND = (None, None, None, "sep", "string", "punct", "word")
# Patterns not every run needs are left to re's own cache, compiled on first use
# (``re.fullmatch(_INT, text)``): compiling them all at import costs every start of
# the command half a millisecond.
_INT = r"[+-]?\d+"
_FLOAT = r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?"
_NUM = r"(?:\d+\.?\d*|\.\d+)"
_DIMS = rf"[+-]?{_NUM}(?:[xX×][+-]?{_NUM})+"  # 3x224x224, 1.5x2, -1x28x28
_DIMS_SPLIT = r"[xX×]"

# Token kinds.
WORD, SEP, PUNCT, STRING = "word", "sep", "punct", "string"


class Value(NamedTuple):
    """A parsed value: an int, a float, a bare word, a quoted string (its text
    without the quotes), a tuple of atoms, or a call (its LayerStmt: a layer given as
    another's argument)."""

    kind: str  # "int" | "float" | "name" | "string" | "tuple" | "call"
    value: int | float | str | tuple[Value, ...] | LayerStmt
    start: int
    end: int

    def atoms(self) -> tuple[Value, ...]:
        """The value as a sequence of atoms (a lone atom is a 1-tuple)."""
        if self.kind == "tuple":
            return self.value  # type: ignore[return-value]
        return (self,)


class Arg(NamedTuple):
    """One argument of a layer: ``key=value`` or a positional value (key None)."""

    key: str | None
    key_start: int
    value: Value


class LayerStmt(NamedTuple):
    """A layer as written: its kind word, its arguments and where it stands."""

    kind: str  # the kind word, lower-cased, as written (an alias is kept)
    args: tuple[Arg, ...]
    start: int
    end: int
    text: str  # the layer's text with runs of whitespace folded to one space
    # A call (``nn.Conv2d(3, 64, 7)``): the callee as written, and how many of
    # ``args`` stand inside its parentheses (the others follow the ')').
    call: str = ""
    inside: int = 0
    # Where the text its arguments' offsets point into begins: ``start``, except for a
    # repeated segment's statement, whose arguments are those of the first occurrence.
    anchor: int = -1

    def shifted(self, shift: int) -> LayerStmt:
        """The statement ``shift`` characters on: a repeat of it (the same text) there.
        (Spelt out rather than ``_replace``, three times faster: parse makes one per
        repeated statement.)"""
        return LayerStmt(
            self.kind,
            self.args,
            self.start + shift,
            self.end + shift,
            self.text,
            self.call,
            self.inside,
            self.anchor,
        )


class InputStmt(NamedTuple):
    """``input SHAPE`` inside a chain."""

    value: Value
    start: int
    end: int

    def shifted(self, shift: int) -> InputStmt:
        """See LayerStmt.shifted."""
        return InputStmt(self.value, self.start + shift, self.end + shift)


class Program(NamedTuple):
    """A parsed spec: the statements in order, and the text they came from."""

    source: str
    statements: tuple[LayerStmt | InputStmt, ...]


Located = LayerStmt | InputStmt | Value | Arg


def spec_error(message: str, source: str, where: Located) -> SpecError:
    """A SpecError pointing into ``source`` at ``where`` (an argument: from its key to
    the end of its value)."""
    if isinstance(where, Arg):
        start, end = where.key_start, where.value.end
    else:
        start, end = where.start, where.end
    return SpecError(message, source=source, start=start, end=end)


def _tokenize(
    source: str, start: int = 0, end: int | None = None
) -> list[tuple[str, str, int, int]]:
    """Tokens of ``source[start:end]`` as (kind, text, start, end), offsets absolute."""
    if end is None:
        end = len(source)
    if _NOT_PLAIN.isdisjoint(source[start:end]):
        return _plain_tokens(source[start:end], start)
    tokens: list[tuple[str, str, int, int]] = []
    append = tokens.append
    kinds = _GROUP_KIND
    for m in re.compile(_TOKEN).finditer(source, start, end):
        kind = kinds[m.lastindex]  # type: ignore[index]
        if kind is not None:
            append((kind, m.group(), m.start(), m.end()))
    return tokens


def _plain_tokens(text: str, offset: int) -> list[tuple[str, str, int, int]]:
    """_tokenize's tokens of a text of words, blanks and '=' alone (``offset``: where
    the text starts in its source): each run of non-blanks its words and '='."""
    tokens: list[tuple[str, str, int, int]] = []
    append = tokens.append
    at = 0
    for run in text.split():  # str.isspace's blanks: those of the pattern's \s
        at = text.find(run, at)
        if "=" not in run:
            append((WORD, run, offset + at, offset + at + len(run)))
            at += len(run)
            continue
        for i, word in enumerate(run.split("=")):
            if i:
                append((PUNCT, "=", offset + at, offset + at + 1))
                at += 1
            if word:
                append((WORD, word, offset + at, offset + at + len(word)))
                at += len(word)
    return tokens


def tokenize(source: str) -> list[tuple[str, str, int, int]]:
    """The tokens of ``source`` as (kind, text, start, end): kinds "sep" (';', '|' or a
    newline), "string", "punct" and "word"; blanks and comments left out. (Readers of
    pasted code, kinds/keras/sequential.py, find its brackets with them.)"""
    return _tokenize(source)


def _atom(text: str, start: int, end: int, source: str) -> Value:
    """Classify one word as an int, a float, a DIMS tuple or a name."""
    if text.isdigit() and text.isascii():  # the common case, without a regex
        return Value("int", _check_int(int(text), source, start, end), start, end)
    first = text[0]
    if first.isdigit() or first in "+-.":
        parts = text.split("x")
        # 3x224x224, the common shape, is told without a regex too.
        plain_dims = len(parts) > 1 and all(p.isdigit() and p.isascii() for p in parts)
        if not plain_dims and re.fullmatch(_INT, text):
            return Value("int", _check_int(int(text), source, start, end), start, end)
        if plain_dims or re.fullmatch(_DIMS, text):
            items: list[Value] = []
            pos = start
            for part in parts if plain_dims else re.split(_DIMS_SPLIT, text):
                items.append(_atom(part, pos, pos + len(part), source))
                pos += len(part) + 1
            return Value("tuple", tuple(items), start, end)
        if re.fullmatch(_FLOAT, text):
            number = float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise SpecError(
                    f"number {text!r} is out of range", source=source, start=start, end=end
                )
            return Value("float", number, start, end)
    return Value("name", text, start, end)


def _check_int(number: int, source: str, start: int, end: int) -> int:
    if -INT_LIMIT <= number <= INT_LIMIT:
        return number
    raise SpecError(
        "number is too large (sizes are 64-bit integers)", source=source, start=start, end=end
    )


class _Parser:
    def __init__(
        self,
        source: str,
        kinds: Collection[str],
        start: int = 0,
        end: int | None = None,
        word_kinds: Collection[str] = (),
        params: frozenset[str] = frozenset(),
        calls: Collection[str] = (),
    ) -> None:
        self.source = source
        self.kinds = kinds
        self.word_kinds = word_kinds
        self.calls = calls  # the class names a call may use, for hints
        # Inside a block: its parameter words, which may start a statement of their
        # own (``act`` on its line, for an instance's act=relu).
        self.params = params
        self.tokens = _tokenize(source, start, end)
        self.pos = 0

    def error(self, message: str, start: int | None, end: int | None = None) -> SpecError:
        return SpecError(message, source=self.source, start=start, end=end)

    def is_kind(self, index: int) -> bool:
        """Whether token ``index`` starts a statement: a word naming a layer kind
        (and not a key), or a call."""
        tokens = self.tokens
        tok = tokens[index]
        if tok[0] != WORD:
            return False
        word = tok[1].lower()
        if word != "input" and word not in self.kinds and word not in KEYWORDS:
            return self.is_call(index)
        nxt = index + 1
        return not (nxt < len(tokens) and tokens[nxt][1] == "=") or self.is_call(index)

    def is_call(self, index: int) -> bool:
        """Whether token ``index`` is a class name right before '(': ``Conv2d(``,
        ``nn.conv2d(`` (a lower-case word without a dot before '(' is a kind and a
        tuple: ``layernorm(4,8)``)."""
        tokens = self.tokens
        tok = tokens[index]
        nxt = index + 1
        if nxt >= len(tokens) or tokens[nxt][1] != "(" or tokens[nxt][2] != tok[3]:
            return False
        text = tok[1]
        return text[:1].isupper() or ("." in text and re.fullmatch(_CLASS, text) is not None)

    def statements(self) -> list[LayerStmt | InputStmt]:
        statements: list[LayerStmt | InputStmt] = []
        tokens = self.tokens
        n = len(tokens)
        while self.pos < n:
            kind, text, _start, _end = tokens[self.pos]
            if kind == SEP:
                self.pos += 1
                continue
            if kind == WORD and self.is_kind(self.pos):
                if self.is_call(self.pos):
                    statements.append(self.call())
                elif text.lower() == "input":
                    statements.append(self.input_stmt())
                else:
                    statements.append(self.layer())
                    self.track_block(statements[-1])  # type: ignore[arg-type]
                continue
            if kind == WORD and text.lower() in self.params and not self.is_key(self.pos):
                statements.append(self.layer())  # a block parameter standing for a kind
                continue
            raise self.unexpected(self.pos)
        return statements

    def is_key(self, index: int) -> bool:
        return index + 1 < len(self.tokens) and self.tokens[index + 1][1] == "="

    def track_block(self, stmt: LayerStmt) -> None:
        """Entering a block (its parameters may stand for kinds) or leaving one."""
        if stmt.kind == "block":
            names = [a.value for a in stmt.args[1:] if a.key is None and a.value.kind == "name"]
            keys = [a.key for a in stmt.args if a.key is not None]
            self.params = frozenset([*(str(v.value).lower() for v in names), *keys])
        elif stmt.kind == "end":
            self.params = frozenset()

    def unexpected(self, index: int) -> SpecError:
        kind, text, start, end = self.tokens[index]
        if kind == WORD:
            hint = suggest(text.lower(), self.kinds)
            message = f"unknown layer kind {text!r}"
            if index + 1 < len(self.tokens) and self.tokens[index + 1][1] == "=":
                message = f"{text!r}= must follow a layer kind"
            elif re.fullmatch(_FLOAT, text) or re.fullmatch(_DIMS, text):
                message = f"expected a layer kind, got the number {text!r}"
            elif hint:
                message += f"; did you mean {hint!r}?"
            return self.error(message, start, end)
        return self.error(f"unexpected {text!r}; expected a layer kind", start, end)

    def input_stmt(self) -> InputStmt:
        _, _, start, end = self.tokens[self.pos]
        self.pos += 1
        if self.at_end_of_statement():
            raise self.error("'input' needs a shape, e.g. input 3x224x224", start, end)
        value = self.value()
        if not self.at_end_of_statement():
            raise self.error("unexpected text after the input shape", *self.tokens[self.pos][2:4])
        return InputStmt(value, start, value.end)

    def at_end_of_statement(self) -> bool:
        return (
            self.pos >= len(self.tokens)
            or self.tokens[self.pos][0] == SEP
            or self.is_kind(self.pos)
        )

    def layer(self) -> LayerStmt:
        tokens = self.tokens
        _, word, start, end = tokens[self.pos]
        self.pos += 1
        args: list[Arg] = []
        n = len(tokens)
        takes_names = word.lower() in NAME_KEYWORDS
        # Its first word is a name that may also be a kind: the block's own name,
        # or the function of a word kind (Keras's Activation relu).
        names_first = word.lower() == "block" or word.lower() in self.word_kinds
        while self.pos < n:
            kind, text, tstart, _tend = tokens[self.pos]
            if kind == SEP:
                break
            if (
                self.is_kind(self.pos)
                and not (takes_names and text.lower() == "input")
                and not (names_first and not args)
            ):
                break
            if kind == WORD and self.pos + 1 < n and tokens[self.pos + 1][1] == "=":
                self.pos += 2
                if self.pos >= n or tokens[self.pos][0] == SEP:
                    raise self.error(f"{text}= needs a value", tstart, tokens[self.pos - 1][3])
                value = self.value()
                args.append(Arg(text.lower().replace("-", "_"), tstart, value))
            else:
                value = self.value()
                args.append(Arg(None, value.start, value))
            end = args[-1].value.end
        layer_text = _text(self.source, start, end)
        return LayerStmt(word.lower(), tuple(args), start, end, layer_text, anchor=start)

    def call(self, nested: bool = False) -> LayerStmt:
        """A layer written as its class is called (language/calls.py reads it)."""
        from convcalc.language.calls import call

        kind, callee, args, inside, start, end = call(self, nested)
        arguments = tuple([Arg(key, at, value) for key, at, value in args])
        text = _text(self.source, start, end)
        return LayerStmt(kind, arguments, start, end, text, callee, inside, start)

    def atoms(self, text: str, start: int, end: int) -> tuple[Value, ...]:
        """One word's atoms (a DIMS word: its numbers)."""
        return _atom(text, start, end, self.source).atoms()

    def call_value(self) -> Value:
        """One argument's value in a call: an atom or a tuple, never a bare a,b."""
        kind, text, start, end = self.tokens[self.pos]
        if text in ("(", "[") and kind == PUNCT:  # a tuple in parentheses: language/calls.py
            from convcalc.language.calls import paren_tuple

            return Value("tuple", *paren_tuple(self))
        if kind == STRING:
            self.pos += 1
            return Value("string", text[1:-1], start, end)
        if kind != WORD:
            raise self.error(f"unexpected {text!r}; expected a value", start, end)
        if self.is_call(self.pos):  # a layer as an argument: Bidirectional(LSTM(64))
            stmt = self.call(nested=True)
            return Value("call", stmt, stmt.start, stmt.end)
        self.pos += 1
        return _atom(text, start, end, self.source)

    def value(self) -> Value:
        """A value as a key=value setting takes it: a call's, or a bare a,b tuple."""
        tokens = self.tokens
        word = tokens[self.pos][0] == WORD
        first = self.call_value()
        if word and first.kind != "call" and self.pos < len(tokens) and tokens[self.pos][1] == ",":
            items = [*first.atoms()]
            while self.pos < len(tokens) and tokens[self.pos][1] == ",":
                comma = tokens[self.pos]
                self.pos += 1
                if self.pos >= len(tokens) or tokens[self.pos][0] != WORD:
                    raise self.error("expected a value after ','", comma[2], comma[3])
                _, t, s, e = tokens[self.pos]
                self.pos += 1
                items.extend(self.atoms(t, s, e))
            return Value("tuple", tuple(items), first.start, items[-1].end)
        return first


# A dotted class name: nn.Conv2d, torch.nn.BatchNorm2d, torchvision.ops.StochasticDepth.
_CLASS = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"

# Separators and comments: a statement never spans one, so the text between two
# of them (a segment) parses on its own.
_SEGMENT_END = r"#[^\n]*|[;|\n]"
# A text without comments is cut at its separators without the pattern (_separators).
_SEPARATORS = str.maketrans(";|", "\n\n")


def _separators(source: str) -> Iterator[tuple[int, int, str]]:
    """Where ``source``'s segments end: each separator's or comment's start, end and
    text, in order."""
    if "#" in source:
        for m in re.finditer(_SEGMENT_END, source):
            yield m.start(), m.end(), m.group()
        return
    at = -1
    for part in source.translate(_SEPARATORS).split("\n")[:-1]:
        at += len(part) + 1
        yield at, at + 1, source[at]


_COMMENT = r"#[^\n]*"


def block_names(source: str) -> set[str]:
    """The names of the blocks a text defines (``block NAME …``), lower-cased."""
    if "block" not in source.lower():
        return set()  # the common case: no regex compiled at startup for it
    uncommented = re.sub(_COMMENT, "", source)
    found = re.finditer(r"(?im)(?:^|[;|\s])block[^\S\n]+([^\s=;|(),#]+)", uncommented)
    return {m.group(1).lower() for m in found}


def parse(
    source: str,
    kinds: Collection[str],
    word_kinds: Collection[str] = (),
    calls: Collection[str] = (),
) -> Program:
    """Parse spec text into statements. ``kinds`` is the set of layer-kind words;
    graph keywords and the names of the blocks the text defines start statements too.
    A kind in ``word_kinds`` takes a first word that is not read as a kind; ``calls``
    are the class names an unknown call is compared with for a hint."""
    blocks = block_names(source)
    if blocks:
        kinds = set(kinds) | blocks
    statements: list[LayerStmt | InputStmt] = []
    # Spec files repeat themselves (blocks of identical lines): parse each distinct
    # segment once and re-anchor its statements. Their arguments keep the offsets
    # of the first occurrence, which is the one any error in them is reported at.
    seen: _Seen = {}
    params: frozenset[str] = frozenset()  # the parameters of the block being read
    pos = 0
    for sep_start, sep_end, sep in _separators(source):
        if sep not in ";|" and _open(source, pos, sep_start):
            continue  # a call (or tuple) spans lines: its newlines and comments are blanks
        if sep_start > pos:
            params = _segment(
                source, kinds, pos, sep_start, seen, statements, word_kinds, params, calls
            )
        pos = sep_end
    if pos < len(source):
        _segment(source, kinds, pos, len(source), seen, statements, word_kinds, params, calls)
    return Program(source, tuple(statements))


def _text(source: str, start: int, end: int) -> str:
    """A statement's text, blanks folded (one spanning lines: see calls.one_line)."""
    text = source[start:end]
    if "\n" in text:  # only a call or a tuple spans lines
        from convcalc.language.calls import one_line

        text = one_line(text)
    return " ".join(text.split())


def _open(source: str, start: int, end: int) -> bool:
    """Whether ``source[start:end]`` leaves a parenthesis or bracket open."""
    text = source[start:end]
    if "(" not in text and "[" not in text:
        return False
    return text.count("(") + text.count("[") > text.count(")") + text.count("]")


# A segment's text and the block parameters in force → where it was first parsed,
# its statements, and the parameters in force after it.
_Seen = dict[tuple[str, frozenset[str]], tuple[int, list["LayerStmt | InputStmt"], frozenset[str]]]


def _segment(
    source: str,
    kinds: Collection[str],
    start: int,
    end: int,
    seen: _Seen,
    out: list[LayerStmt | InputStmt],
    word_kinds: Collection[str] = (),
    params: frozenset[str] = frozenset(),
    calls: Collection[str] = (),
) -> frozenset[str]:
    """Parse ``source[start:end]`` into ``out``; the block parameters in force after it."""
    text = source[start:end]
    hit = seen.get((text, params))
    if hit is None:
        parser = _Parser(source, kinds, start, end, word_kinds, params, calls)
        parsed = parser.statements()
        seen[text, params] = (start, parsed, parser.params)
        out.extend(parsed)
        return parser.params
    first, parsed, after = hit
    shift = start - first
    out.extend([stmt.shifted(shift) for stmt in parsed])
    return after


def parse_value(source: str) -> Value:
    """Parse a lone value, e.g. the argument of ``--input``."""
    parser = _Parser(source, ())
    if not parser.tokens:
        raise SpecError("empty value", source=source, start=0, end=len(source))
    value = parser.value()
    if parser.pos < len(parser.tokens):
        _, text, start, end = parser.tokens[parser.pos]
        raise SpecError(f"unexpected {text!r}", source=source, start=start, end=end)
    return value


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest valid word to a misspelt one, if any is close."""
    import difflib  # only on the error path

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None
