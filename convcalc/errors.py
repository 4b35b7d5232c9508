"""The exceptions convcalc raises: nothing else escapes the public API."""

from __future__ import annotations

from typing import Any


class ConvcalcError(ValueError):
    """Base class of every error convcalc reports to its user."""


class _Located:
    """Where in the source text an error stands: line, column and an excerpt."""

    source: str
    start: int | None
    end: int | None
    filename: str | None

    @property
    def line(self) -> int | None:
        """1-based line of the offending word."""
        if self.start is None:
            return None
        return self.source.count("\n", 0, self.start) + 1

    @property
    def column(self) -> int | None:
        """1-based column of the offending word."""
        if self.start is None:
            return None
        return self.start - (self.source.rfind("\n", 0, self.start) + 1) + 1

    def excerpt(self) -> str:
        """The offending line with a caret under the offending word ('' if unknown)."""
        if self.start is None or not self.source:
            return ""
        line_start = self.source.rfind("\n", 0, self.start) + 1
        line_end = self.source.find("\n", self.start)
        if line_end == -1:
            line_end = len(self.source)
        text = self.source[line_start:line_end].replace("\t", " ")
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
        col = self.start - line_start
        width = max(1, min(self.end or self.start, line_end) - self.start)
        return f"  {text}\n  {' ' * col}{'^' * width}"


class SpecError(_Located, ConvcalcError):
    """Text that is not a valid spec: unknown word, bad value, malformed shape.

    Carries the source text and where the offending word sits in it, so a
    front end can point at it with a caret.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        start: int | None = None,
        end: int | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.start = start
        self.end = end if end is not None else start
        self.filename = filename

    @property
    def word(self) -> str:
        """The offending word ('' when the error concerns the text as a whole)."""
        if self.start is None or self.end is None:
            return ""
        return self.source[self.start : self.end]

    def located(self, filename: str | None) -> SpecError:
        """The same error, attributed to a file."""
        return SpecError(
            self.message, source=self.source, start=self.start, end=self.end, filename=filename
        )

    def __str__(self) -> str:
        if self.filename and self.line is not None:
            return f"{self.filename}:{self.line}:{self.column}: {self.message}"
        return self.message


class ShapeError(_Located, ConvcalcError):
    """A network PyTorch would reject: names the layer (and the block instance it
    sits in), the numbers involved, and where the layer stands in the source."""

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        text: str = "",
        results: tuple[Any, ...] = (),
        input: tuple[int | None, ...] = (),
        where: str = "",
        source: str = "",
        start: int | None = None,
        end: int | None = None,
        filename: str | None = None,
        framework: str = "torch",
        opset: int | None = None,
    ) -> None:
        self.reason = message
        self.index = index
        self.text = text
        self.results = results  # the LayerResults of the layers before the failing one
        self.input = input  # the shape that reached the failing layer
        self.where = where  # ' in block#2 (block 64)' when inside a block instance
        self.source = source
        self.start = start
        self.end = end if end is not None else start
        self.filename = filename
        self.framework = framework  # whose conventions the rows before it follow
        self.opset = opset
        if index is not None:
            message = f"layer {index} ({text}){where}: {message}"
        super().__init__(message)
        self.message = message

    def located(self, filename: str | None) -> ShapeError:
        """The same error, attributed to a file."""
        return self.moved(self.source, self.start, self.end, filename)

    def moved(
        self, source: str, start: int | None, end: int | None, filename: str | None = None
    ) -> ShapeError:
        """The same error, pointing at ``source[start:end]`` (of ``filename``)."""
        return ShapeError(
            self.reason,
            index=self.index,
            text=self.text,
            results=self.results,
            input=self.input,
            where=self.where,
            source=source,
            start=start,
            end=end,
            filename=filename,
            framework=self.framework,
            opset=self.opset,
        )

    def __str__(self) -> str:
        if self.filename and self.line is not None:
            return f"{self.filename}:{self.line}: {self.message}"
        return self.message


class InternalError(ConvcalcError):
    """A bug in convcalc itself, reported instead of a traceback."""


class LayerError(Exception):
    """Raised inside a layer's arithmetic; the engine turns it into a ShapeError
    that names the layer. Never escapes the package."""
