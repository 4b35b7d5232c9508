"""Whole networks cost what chains cost: a ResNet-152-sized graph (blocks, branches,
residual adds; about 500 rows) against a plain chain with the same number of rows,
both measured in this run.

    python bench/graph_bench.py [--runs N]

(g) the graph drawn as a table (the command, end to end)  ≤ 1.3× the chain
(h) the graph analysed in-process (parse, expand, propagate), for information: the
    chain repeats three layer texts, so every cache hits; the graph's merges and
    block expansion cost about a millisecond more, of a command's ~100 ms
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import convcalc
from convcalc.network.zoo import model_spec

TARGET = 1.3


def resnet152() -> str:
    """ResNet-152: ResNet-50's blocks with 3, 8, 36 and 3 bottlenecks per stage."""
    text = model_spec("resnet50")
    for old, new in (("512 x3", "512 x7"), ("1024 x5", "1024 x35")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def chain(rows: int) -> str:
    unit = ["conv2d 64 k=3 p=1 bias=false", "bn", "relu"]
    return "input 64x56x56\n" + "\n".join(unit[i % 3] for i in range(rows)) + "\n"


def best_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    graph_text = resnet152()
    rows = len(convcalc.analyze(graph_text).layers)
    chain_text = chain(rows)
    assert len(convcalc.analyze(chain_text).layers) == rows
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, text in (("graph", graph_text), ("chain", chain_text)):
            paths[name] = Path(tmp, f"{name}.spec")
            paths[name].write_text(text)
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}

        def command(name: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "convcalc", "-f", str(paths[name])],
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )

        command("graph")  # warm the caches (bytecode, page cache)
        t_graph = best_of(runs, lambda: command("graph"))
        t_chain = best_of(runs, lambda: command("chain"))
        ratio = t_graph / t_chain
        ok = ratio <= TARGET
        failed += not ok
        print(
            f"(g) ResNet-152 graph table, {rows} rows: {t_graph * 1000:.0f} ms vs chain of "
            f"{rows} rows {t_chain * 1000:.0f} ms = {ratio:.2f}x (target <= {TARGET}x) "
            f"{'ok' if ok else 'MISSED'}"
        )
    a_graph = best_of(runs, lambda: convcalc.analyze(graph_text))
    a_chain = best_of(runs, lambda: convcalc.analyze(chain_text))
    print(
        f"(h) ResNet-152 analysis in-process: {a_graph * 1000:.2f} ms vs chain "
        f"{a_chain * 1000:.2f} ms = {a_graph / a_chain:.2f}x (for information)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
