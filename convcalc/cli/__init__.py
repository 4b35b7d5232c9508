"""The command line (click): the default command, ``solve``, completion and the
catalog views. Nothing below this package imports it."""

from convcalc.cli.command import cli, main

__all__ = ["cli", "main"]
