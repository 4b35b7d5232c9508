"""The ``convcalc`` console script (and ``python -m convcalc``): the command in a
process of its own, which ends when the command does.

Such a process never needs the cyclic garbage collector: what the command makes is
freed by reference counting (an analysis makes no reference cycles: ``_gc.py``), and
the process's memory goes back whole when it exits. Left on, the collector would
rescan every object the imports make, click's and convcalc's, some thirty times
before the command prints its first line: a sixth of the start-up time above
``import click`` that bench/cli_bench.py (b) and (c) measure. So the script turns
it off first, before anything is imported. Only the script: ``convcalc.cli.main``,
which tests and other programs call in their own process, leaves it as it is.
"""

from __future__ import annotations

import gc
from typing import NoReturn


def main() -> NoReturn:
    """Run the command with the cyclic collector off, then exit."""
    gc.disable()
    from convcalc.cli.command import main as command

    command()
