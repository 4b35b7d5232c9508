"""Standard output that writes every byte or fails, and whether stdin is a terminal."""

from __future__ import annotations

import io
import sys
from typing import Any


class _Stdout(io.TextIOBase):
    """Standard output for the results, writing every byte or raising
    BrokenPipeError. CPython's BufferedWriter may return a short count for a large
    block written into a pipe whose reader has left, and TextIOWrapper ignores the
    count: a big JSON or table would be cut silently, exit status 0. Writing the
    encoded bytes until all are taken makes the next write fail as it should."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = getattr(stream, "buffer", None)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "errors", None) or "strict"

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._buffer is None:
            return int(self._stream.write(text))
        self._stream.flush()  # anything written to the text layer before
        view = memoryview(text.encode(self.encoding, self.errors))
        while view:
            view = view[self._buffer.write(view) :]
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return stdin is None or stdin.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - a closed or odd stdin
        return True
