"""Every benchmark in one command (from the repository root, with convcalc installed):

    python bench/run.py [--runs N] [--layers N] [--strict]

Each line is a ratio against a baseline measured in the same run, with its target
and verdict, and the absolute figures beside it for information: the figures
measure the machine, the ratios measure convcalc (see bench/measure.py). It exits
0 whatever the verdicts; with --strict, 1 when a target is missed. A benchmark that
fails to run is an error either way.

Each benchmark runs in a process of its own: the command-line benchmark reads
its children's peak memory, which on Linux starts from the parent's size at fork,
so it needs a small parent (not one that just analysed 100,000 layers).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from measure import MISSED_STATUS

HERE = Path(__file__).resolve().parent


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (default 15)")
    parser.add_argument(
        "--layers", type=int, default=100_000, help="the long networks' layers (default 100,000)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed (default: 0)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    common = ["--runs", str(args.runs), *(["--strict"] if args.strict else [])]
    layers = ["--layers", str(args.layers)]
    missed = False
    for title, script, extra in (
        ("engine (in-process)", "engine_bench.py", layers),
        ("command line", "cli_bench.py", layers),
        ("whole networks", "graph_bench.py", []),
    ):
        print(f"== {title} ==", flush=True)
        status = subprocess.run(
            [sys.executable, str(HERE / script), *common, *extra], check=False
        ).returncode
        if status == MISSED_STATUS:  # only under --strict
            missed = True
        elif status != 0:
            print(f"bench/{script} failed (exit status {status})", file=sys.stderr)
            return 2
        print(flush=True)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
