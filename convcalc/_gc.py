"""Pausing the cyclic garbage collector around work that makes many small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (a context manager, or a decorator). An
    analysis, and its JSON, make many small objects and no reference cycles: the
    collector would only rescan them again and again, which makes long chains
    superlinear."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
