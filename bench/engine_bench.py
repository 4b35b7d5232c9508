"""In-process propagation speed and memory of the core engine.

Run: ``python bench/engine_bench.py`` (or ``python bench/run.py`` for every benchmark).

Measures ``convcalc.analyze`` on a realistic mixed chain (ResNet-style blocks:
conv/bn/relu/pool, repeated, plus a head) and on a chain in which every layer's
text is distinct (no repetition for the caches to exploit). The baseline, measured
in the same run on the same text, is the floor of any Python parser: one regex pass
that splits the text into words. Memory is tracemalloc's peak at two lengths; linear
memory means the ratio of the peaks equals the ratio of the lengths.
Target: >= 100,000 layers/s.
"""

from __future__ import annotations

import random
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable

import convcalc

TARGET_LAYERS_PER_S = 100_000

BLOCK = (
    "conv2d 64 k=3 s=1 p=1 bias=false; batchnorm2d; relu\n"
    "conv2d 64 k=3 p=1 bias=false; bn; relu\n"
    "conv2d 256 k=1 bias=false; bn; relu; dropout p=0.1\n"
    "conv2d 64 k=1 g=1; bn; relu; maxpool k=3 s=1 p=1\n"
)
HEAD = "conv2d 64 k=7 s=2 p=3\nbn\nrelu\nmaxpool k=3 s=2 p=1\n"
TAIL = "gap\nflatten\nlinear 1000\n"


def realistic_chain(n_layers: int) -> str:
    per_block = BLOCK.count(";") + BLOCK.count("\n")
    return HEAD + BLOCK * ((n_layers - 7) // per_block) + TAIL


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


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> list[str]:
    lines = []
    for name, make in (("realistic", realistic_chain), ("distinct", distinct_chain)):
        text = make(100_000)
        n = len(convcalc.analyze(text, "3x224x224").layers)
        t = best_of(lambda text=text: convcalc.analyze(text, "3x224x224"))
        base = best_of(lambda text=text: WORD.findall(text))
        rate = n / t
        if name == "realistic":
            verdict = "ok" if rate >= TARGET_LAYERS_PER_S else "BELOW TARGET"
            target = f"target >= {TARGET_LAYERS_PER_S:,}: {verdict}"
        else:
            target = "worst case: nothing repeats for the caches; no target"
        lines.append(
            f"engine {name:9s}: {n:,} layers in {t:.3f} s = {rate:,.0f} layers/s ({target}); "
            f"{t / base:.1f}x the time of a bare regex word split ({base:.3f} s)"
        )
    small, large = distinct_chain(10_000), distinct_chain(100_000)
    m_small = peak_memory(lambda: convcalc.analyze(small, "3x224x224"))
    m_large = peak_memory(lambda: convcalc.analyze(large, "3x224x224"))
    m_none = peak_memory(lambda: convcalc.analyze(distinct_chain(1), "3x224x224"))
    per_small = (m_small - m_none) / 10_000
    per_large = (m_large - m_none) / 100_000
    lines.append(
        f"engine memory   : peak {m_small / 2**20:.1f} MiB at 10,000 layers, "
        f"{m_large / 2**20:.1f} MiB at 100,000; per layer {per_small:,.0f} and "
        f"{per_large:,.0f} bytes (linear or better: ratio {per_large / per_small:.2f} <= 1)"
    )
    sizes = [1_000, 10_000, 100_000]
    rates = []
    for n in sizes:
        text = realistic_chain(n)
        count = len(convcalc.analyze(text, "3x224x224").layers)
        rates.append(count / best_of(lambda text=text: convcalc.analyze(text, "3x224x224")))
    lines.append(
        "engine scaling  : layers/s at "
        + ", ".join(f"{n:,}: {r:,.0f}" for n, r in zip(sizes, rates))
        + f" (spread {max(rates) / statistics.fmean(rates):.2f}x of the mean)"
    )
    return lines


if __name__ == "__main__":
    for line in main():
        print(line)
