"""Whole networks cost what chains cost: a ResNet-152-sized graph (blocks, branches,
residual adds; about 500 rows) against a plain chain with the same number of rows,
both measured in this run.

    python bench/graph_bench.py [--runs N] [--strict]

(g) the graph drawn as a table (the command, end to end)  ≤ 1.3× the chain
(h) the graph analysed in-process (parse, expand, propagate), for information: the
    chain repeats three layer texts, so every cache hits; the graph's merges and
    block expansion cost about a millisecond more, of a command's ~100 ms
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from measure import Line, Note, Ratio, median_pair, ms, report, timed_call

import convcalc
from convcalc.network.zoo import model_spec

TARGET = 1.3


def chain(rows: int) -> str:
    unit = ["conv2d 64 k=3 p=1 bias=false", "bn", "relu"]
    return "input 64x56x56\n" + "\n".join(unit[i % 3] for i in range(rows)) + "\n"


def measure(graph_text: str, runs: int) -> Iterator[Line]:
    """(g) and (h) for one graph (ResNet-152 by default) and a chain of as many rows."""
    rows = len(convcalc.analyze(graph_text).layers)
    chain_text = chain(rows)
    assert len(convcalc.analyze(chain_text).layers) == rows
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, text in (("graph", graph_text), ("chain", chain_text)):
            paths[name] = Path(tmp, f"{name}.spec")
            paths[name].write_text(text)
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}

        def command(name: str) -> float:
            return timed_call(
                lambda: subprocess.run(
                    [sys.executable, "-m", "convcalc", "-f", str(paths[name])],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    env=env,
                )
            )

        t_graph, t_chain = median_pair(lambda: command("graph"), lambda: command("chain"), runs)
    yield Ratio(
        "(g)",
        f"graph table, {rows} rows vs a chain of {rows} rows",
        t_graph / t_chain,
        "≤",
        TARGET,
        f"{ms(t_graph)} vs {ms(t_chain)}",
    )
    a_graph, a_chain = median_pair(
        lambda: timed_call(lambda: convcalc.analyze(graph_text)),
        lambda: timed_call(lambda: convcalc.analyze(chain_text)),
        runs,
    )
    yield Note(
        "(h)",
        f"graph analysed in-process vs the chain of {rows} rows",
        f"{a_graph / a_chain:.2f}× ({a_graph * 1e3:.2f} ms vs {a_chain * 1e3:.2f} ms)",
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (median)")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    return report(measure(model_spec("resnet152"), args.runs), args.strict)


if __name__ == "__main__":
    sys.exit(main())
