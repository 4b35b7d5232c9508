"""Every benchmark in one command: ``python bench/run.py [--runs N]`` (from the repo
root, with convcalc installed). Each line is a measurement with its same-run
baseline and target.

Each benchmark runs in a process of its own: the command-line benchmark reads
its children's peak memory, which on Linux starts from the parent's size at fork,
so it needs a small parent (not one that just analysed 100,000 layers).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    print("== engine (in-process) ==", flush=True)
    engine = subprocess.run([sys.executable, str(HERE / "engine_bench.py")], check=False)
    print("\n== command line ==", flush=True)
    cli = subprocess.run([sys.executable, str(HERE / "cli_bench.py"), *sys.argv[1:]], check=False)
    print("\n== whole networks ==", flush=True)
    graph = subprocess.run(
        [sys.executable, str(HERE / "graph_bench.py"), *sys.argv[1:]], check=False
    )
    return engine.returncode or cli.returncode or graph.returncode


if __name__ == "__main__":
    sys.exit(main())
