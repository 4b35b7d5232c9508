"""Reading a step back: ``evaluate`` (the integer a printed expression stands for,
in either alphabet) and ``position`` (which entry of a shape a step's ``dim`` names),
so that tests can check that every expression equals the size in the table."""

from __future__ import annotations

import math
import re
import struct
from fractions import Fraction

from convcalc.errors import SpecError
from convcalc.kinds import Shape
from convcalc.kinds.explaining import dim_names

__all__ = ["evaluate", "position"]


def position(dim: str, shape: Shape, last: bool = False) -> int | None:
    """Which entry of ``shape`` a step's ``dim`` names (None: a remark's label)."""
    names = dim_names(shape, last)
    if dim in names:
        return names.index(dim)
    if dim == "features":
        return len(shape) - 1
    if dim.startswith("dim ") and dim[4:].isdigit():  # not a merged label: dim 2×dim 3
        return int(dim[4:]) - 1
    return None


_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<word>floor|ceil|trunc|float32)\s*\(|(?P<op>[-+−·×*/()⌊⌋⌈⌉]))"
)

Number = int | Fraction | float


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise self.fail(f"unexpected {text[pos:].strip()[:10]!r}", pos)
            if m.group("num") is not None:
                self.tokens.append(("num", m.group("num"), m.start("num")))
            elif m.group("word") is not None:
                self.tokens.append(("open", m.group("word"), m.start("word")))
            else:
                op = m.group("op")
                self.tokens.append(
                    ("op", {"−": "-", "·": "*", "×": "*"}.get(op, op), m.start("op"))
                )
            pos = m.end()
        self.pos = 0

    def fail(self, message: str, at: int | None = None) -> SpecError:
        if at is None:
            at = self.tokens[self.pos][2] if self.pos < len(self.tokens) else len(self.text)
        return SpecError(f"cannot evaluate: {message}", source=self.text, start=at, end=at + 1)

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, want: str) -> None:
        if self.peek() != want:
            raise self.fail(f"expected {want!r}")
        self.pos += 1

    def expr(self) -> Number:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> Number:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self.factor()
            if op == "*":
                value = value * right
            else:
                if right == 0:
                    raise self.fail("division by zero")
                if isinstance(value, float) or isinstance(right, float):
                    value = value / right
                else:
                    value = Fraction(value) / Fraction(right)
        return value

    def factor(self) -> Number:
        if self.peek() == "-":
            self.pos += 1
            return -self.factor()
        if self.peek() == "+":
            self.pos += 1
            return self.factor()
        return self.primary()

    def primary(self) -> Number:
        if self.pos >= len(self.tokens):
            raise self.fail("the expression ends too early")
        kind, text, _ = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return int(text) if text.isdigit() else float(text)
        if kind == "open":
            value = self.expr()
            self.take(")")
            return self.apply(text, value)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        if text in ("⌊", "⌈"):
            value = self.expr()
            self.take("⌋" if text == "⌊" else "⌉")
            return math.floor(value) if text == "⌊" else math.ceil(value)
        self.pos -= 1
        raise self.fail(f"unexpected {text!r}")

    def apply(self, word: str, value: Number) -> Number:
        if word == "floor":
            return math.floor(value)
        if word == "ceil":
            return math.ceil(value)
        if word == "trunc":  # C++'s integer division: toward zero
            return math.trunc(value)
        try:  # float32: the nearest float32, as ONNX holds a scale
            f32 = float(struct.unpack("f", struct.pack("f", float(value)))[0])
        except OverflowError:
            f32 = math.inf
        if math.isinf(f32):
            raise self.fail(f"{value} is out of float32's range")
        return f32


def evaluate(expression: str) -> int:
    """The integer an explanation's expression stands for. Raises SpecError for text
    that is not such an expression or whose value is not a whole number."""
    reader = _Reader(expression)
    if not reader.tokens:
        raise reader.fail("empty expression", 0)
    value = reader.expr()
    if reader.pos != len(reader.tokens):
        raise reader.fail(f"unexpected {reader.peek()!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise reader.fail(f"the value {value!r} is not a whole number", 0)
        return int(value)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise reader.fail(f"the value {value} is not a whole number", 0)
        return int(value)
    return value
