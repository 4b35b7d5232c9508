"""What every benchmark reports: a ratio against a baseline measured in the same run,
with its target, and the absolute figures beside it for information only (they
measure the machine, the ratio measures convcalc). Lines with no target say so.

Each benchmark script prints these lines and exits 0 whatever the verdicts; with
``--strict`` it exits 3 when a target is missed (a crash still exits 1).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MISSED_STATUS = 3  # a script's exit status under --strict when a target is missed


@dataclass(frozen=True)
class Ratio:
    """``measured / baseline`` against a target: at most (``≤``) or at least (``≥``)."""

    key: str  # "(a)", "engine"
    label: str  # what against what
    ratio: float
    op: str  # "≤" or "≥"
    target: float
    figures: str  # the absolute figures, for information

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target if self.op == "≤" else self.ratio >= self.target

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "MISSED"
        target = f"target {self.op} {self.target:g}×"
        return (
            f"{self.key:<4} {self.label:<54} {self.ratio:>7.2f}×  {target:<14} {verdict:<6}"
            f"  ({self.figures})"
        )


@dataclass(frozen=True)
class Note:
    """A figure with no target (printed for information)."""

    key: str
    label: str
    figures: str

    def __str__(self) -> str:
        return f"{self.key:<4} {self.label:<54} no target: {self.figures}"


Line = Ratio | Note

# What a printed line looks like (tests/test_bench.py holds every script to it).
RATIO_LINE = re.compile(
    r"^(?P<key>\S+) +(?P<label>.+?) +(?P<ratio>\d+\.\d\d)×  target (?P<op>[≤≥]) "
    r"(?P<target>\d+(\.\d+)?)× +(?P<verdict>ok|MISSED) +\((?P<figures>.+)\)$"
)
NOTE_LINE = re.compile(r"^(?P<key>\S+) +(?P<label>.+?) +no target: (?P<figures>.+)$")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def timed_call(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(fn: Callable[[], object], repeat: int) -> float:
    return min(timed_call(fn) for _ in range(max(1, repeat)))


def median_pair(
    a: Callable[[], float], b: Callable[[], float], runs: int, warm: bool = True
) -> tuple[float, float]:
    """Median times of ``a`` and ``b`` (each returns the seconds it took), run
    alternately so that drift in the machine's load hits both."""
    if warm:  # the file cache and .pyc files
        a()
        b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(max(1, runs)):
        ta.append(a())
        tb.append(b())
    return statistics.median(ta), statistics.median(tb)


def report(lines: Iterable[Line], strict: bool) -> int:
    """Print each line as it is measured; the exit status (see the module's doc)."""
    missed = False
    for line in lines:
        print(line, flush=True)
        missed |= isinstance(line, Ratio) and not line.ok
    return MISSED_STATUS if strict and missed else 0
