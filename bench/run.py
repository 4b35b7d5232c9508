"""Every benchmark in one command: ``python bench/run.py`` (from the repo root, with
convcalc installed). Each line is a measurement with its same-run baseline and target."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_bench  # bench/ is not a package: found through the path above
import engine_bench


def main() -> int:
    print("== engine (in-process) ==")
    for line in engine_bench.main():
        print(line)
    print("\n== command line ==")
    return cli_bench.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
