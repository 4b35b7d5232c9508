"""The command line (click): the default command, ``solve``, completion and the
catalog views. Nothing below this package imports it.

``cli`` and ``main`` load on first use: the console script (``script.py``) runs
before click is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._lazy import lazy

if TYPE_CHECKING:
    from convcalc.cli.command import cli, main

__all__ = ["cli", "main"]
__getattr__, __dir__ = lazy(globals(), dict.fromkeys(__all__, "command"), __all__)
