"""In-process propagation speed and memory of the core engine, against baselines
measured in the same run.

    python bench/engine_bench.py [--layers N] [--runs N] [--strict]

Measures ``convcalc.analyze`` on a realistic mixed chain (ResNet-style blocks:
conv/bn/relu/pool, repeated, plus a head) and on a chain in which every layer's
text is distinct (no repetition for the caches to exploit). The baseline, on the
same text, is the floor of any Python parser: one regex pass that splits the text
into words. Memory is tracemalloc's peak at N/10 and N layers, per layer: linear
memory means the same bytes per layer at both lengths.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from measure import Line, Note, Ratio, best_of, report

import convcalc

# The engine's time on the realistic chain, as a multiple of the regex word split
# (about 25× on the machines we have measured: 100,000 layers in about 0.8 s).
TARGET_VS_SPLIT = 40
TARGET_MEMORY_GROWTH = 1.2  # bytes per layer at N against N/10: linear or better

BLOCK = (
    "conv2d 64 k=3 s=1 p=1 bias=false; batchnorm2d; relu\n"
    "conv2d 64 k=3 p=1 bias=false; bn; relu\n"
    "conv2d 256 k=1 bias=false; bn; relu; dropout p=0.1\n"
    "conv2d 64 k=1 g=1; bn; relu; maxpool k=3 s=1 p=1\n"
)
HEAD = "conv2d 64 k=7 s=2 p=3\nbn\nrelu\nmaxpool k=3 s=2 p=1\n"
TAIL = "gap\nflatten\nlinear 1000\n"
INPUT = "3x224x224"


def realistic_chain(n_layers: int) -> str:
    per_block = BLOCK.count(";") + BLOCK.count("\n")
    return HEAD + BLOCK * max(1, (n_layers - 7) // per_block) + TAIL


def distinct_chain(n_layers: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = []
    for i in range(n_layers):
        c = 1 + i % 4096
        lines.append(
            rng.choice(
                [
                    f"conv2d {c} k=3 p=1",
                    f"conv2d {c} k=1 bias=false",
                    f"groupnorm 1 eps=1e-{1 + i % 9}",
                    f"dropout p=0.{i % 10}{i % 7}",
                    f"leakyrelu slope=0.{i}",
                    f"maxpool k=3 s=1 p=1 # {i}",
                ]
            )
        )
    return "\n".join(lines)


WORD = re.compile(r"[^\s=;|(),#]+")


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def speed(text: str, runs: int) -> tuple[int, float, float]:
    """Layers, the engine's time and the regex split's, on one text."""
    n = len(convcalc.analyze(text, INPUT).layers)
    t = best_of(lambda: convcalc.analyze(text, INPUT), runs)
    base = best_of(lambda: WORD.findall(text), runs)
    return n, t, base


def measure(layers: int, runs: int) -> Iterator[Line]:
    n, t, base = speed(realistic_chain(layers), runs)
    yield Ratio(
        "eng1",
        f"analyze {n:,} realistic layers vs a regex word split",
        t / base,
        "≤",
        TARGET_VS_SPLIT,
        f"{t:.3f} s = {n / t:,.0f} layers/s vs {base:.4f} s",
    )
    n, t, base = speed(distinct_chain(layers), runs)
    yield Note(
        "eng2",
        f"analyze {n:,} distinct layers vs a regex word split",
        f"{t / base:.1f}× ({t:.3f} s = {n / t:,.0f} layers/s vs {base:.4f} s; "
        "the worst case, nothing repeats for the caches)",
    )
    small, large = max(1, layers // 10), layers
    m_none = peak_memory(lambda: convcalc.analyze(distinct_chain(1), INPUT))
    m_small = peak_memory(lambda: convcalc.analyze(distinct_chain(small), INPUT))
    m_large = peak_memory(lambda: convcalc.analyze(distinct_chain(large), INPUT))
    per_small = max(1.0, (m_small - m_none) / small)
    per_large = max(1.0, (m_large - m_none) / large)
    yield Ratio(
        "eng3",
        f"memory per layer at {large:,} vs at {small:,} layers",
        per_large / per_small,
        "≤",
        TARGET_MEMORY_GROWTH,
        f"{per_large:,.0f} vs {per_small:,.0f} bytes; peak {m_large / 2**20:.1f} MiB "
        f"vs {m_small / 2**20:.1f} MiB",
    )
    sizes = sorted({max(10, layers // 100), max(10, layers // 10), layers})
    rates = []
    for size in sizes:
        text = realistic_chain(size)
        count = len(convcalc.analyze(text, INPUT).layers)
        rates.append(count / best_of(partial(convcalc.analyze, text, INPUT), runs))
    yield Note(
        "eng4",
        "layers/s as the chain grows",
        ", ".join(f"{s:,}: {r:,.0f}" for s, r in zip(sizes, rates)),
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=100_000, help="the long chain's layers")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (best of)")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    return report(measure(args.layers, min(args.runs, 3)), args.strict)


if __name__ == "__main__":
    sys.exit(main())
