"""How fast the convcalc command feels, each figure against a baseline measured
in the same run (so the ratios hold on any machine).

    python bench/cli_bench.py [--runs N]

(a) the 3-layer table one-liner vs `python -c "import click, rich…; <3-row table>"`  ≤ 1.3×
(b) the same chain with --format json vs `python -c "import click"`               ≤ 1.3×
(c) a completion request vs `python -c "import click"`                            ≤ 1.3×
(d) PyTorch answering the same question (meta tensor through nn.Sequential)       ≥ 25× slower
(e) a 100,000-layer spec on stdin, --format json: ≤ 2 s, memory linear in the layers
(f) a 1,000-layer table: ≤ 1 s

PyTorch is looked for in $CONVCALC_TORCH_PYTHON (a Python that has torch), else in
the interpreter running this script; (d) is skipped, with a line saying why, when
neither has it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

CHAIN = [
    "-i",
    "3x224x224",
    "conv2d",
    "64",
    "k=7",
    "s=2",
    "p=3",
    "maxpool",
    "k=3",
    "s=2",
    "p=1",
    "conv2d",
    "128",
    "k=3",
    "s=2",
    "p=1",
]

FLOOR_TABLE = """
import click, rich.console, rich.table
t = rich.table.Table(title="input 3x224x224")
for c in ("#", "layer", "output", "params"):
    t.add_column(c)
t.add_row("1", "conv2d 64 k=7 s=2 p=3", "64x112x112", "9,472")
t.add_row("2", "maxpool k=3 s=2 p=1", "64x56x56", "0")
t.add_row("3", "conv2d 128 k=3 s=2 p=1", "128x28x28", "73,856")
rich.console.Console(highlight=False).print(t)
"""

TORCH = """
import torch
from torch import nn
m = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1), nn.Conv2d(64, 128, 3, 2, 1))
m = m.to("meta")
y = m(torch.empty(1, 3, 224, 224, device="meta"))
print(list(y.shape[1:]), sum(p.numel() for p in m.parameters()))
"""

LAYERS = "conv2d 16 k=3 p=1\nbn\nrelu\n"  # three layers, shape-preserving


def torch_python(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """A Python that can import torch, and how it was found: $CONVCALC_TORCH_PYTHON,
    else the running interpreter. (None, the reason) when there is none."""
    environ = os.environ if environ is None else environ
    given = environ.get("CONVCALC_TORCH_PYTHON")
    if given:
        path = shutil.which(given)
        if path is None:
            return None, f"CONVCALC_TORCH_PYTHON={given} is not an executable"
        probe = subprocess.run([path, "-c", "import torch"], capture_output=True, check=False)
        if probe.returncode != 0:
            return None, f"CONVCALC_TORCH_PYTHON={given} cannot import torch"
        return path, "CONVCALC_TORCH_PYTHON"
    if importlib.util.find_spec("torch") is not None:
        return sys.executable, "the running interpreter"
    return None, (
        f"no PyTorch: {sys.executable} cannot import torch; "
        "set CONVCALC_TORCH_PYTHON to a Python that can"
    )


def convcalc_cmd() -> list[str]:
    """The installed console script next to this Python, else ``python -m convcalc``."""
    script = Path(sys.executable).with_name("convcalc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "convcalc"]


def timed(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of one run; fails loudly on a non-zero exit."""
    full_env = {**os.environ, **(env or {})}
    with open(stdin or os.devnull, "rb") as src:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdin=src, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=full_env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_maxrss


def median_pair(
    a: Sequence[str], b: Sequence[str], runs: int, env_a: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median times of ``a`` and ``b``, run alternately so drift hits both."""
    ta: list[float] = []
    tb: list[float] = []
    timed(a, env=env_a)  # warm the file cache and .pyc files
    timed(b)
    for _ in range(runs):
        ta.append(timed(a, env=env_a)[0])
        tb.append(timed(b)[0])
    return statistics.median(ta), statistics.median(tb)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def line(label: str, value: str, target: str, ok: bool) -> None:
    print(f"{label:<58} {value:>22}   target {target:<10} {verdict(ok)}")


def torch_comparison(cc: Sequence[str], runs: int) -> None:
    """(d): PyTorch answering the question, or a line saying why it is skipped."""
    torch_py, how = torch_python()
    if torch_py is None:
        print(f"(d) skipped: {how}")
        return
    t_torch, t_cc = median_pair(
        [torch_py, "-c", TORCH], [*cc, *CHAIN, "-o", "json"], max(3, runs // 3)
    )
    line(
        "(d) PyTorch (meta tensor, nn.Sequential) vs convcalc json",
        f"{t_torch * 1e3:.0f} / {t_cc * 1e3:.0f} ms = {t_torch / t_cc:.1f}×",
        "≥ 25×",
        t_torch / t_cc >= 25,
    )
    print(f"    PyTorch: {torch_py} ({how})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (median)")
    args = parser.parse_args(argv)
    runs = args.runs
    py = sys.executable
    cc = convcalc_cmd()
    click_floor = [py, "-c", "import click"]
    # As after `pip install`: bytecode compiled (PYTHONDONTWRITEBYTECODE may be set here).
    package = Path(__file__).resolve().parent.parent / "convcalc"
    subprocess.run([py, "-m", "compileall", "-q", str(package)], check=True)
    print(f"convcalc: {' '.join(cc)}   python: {py}   runs: {runs} (medians)\n")

    t, floor = median_pair([*cc, *CHAIN], [py, "-c", FLOOR_TABLE], runs)
    line(
        "(a) 3-layer table vs import click+rich, 3-row table",
        f"{t * 1e3:.0f} / {floor * 1e3:.0f} ms = {t / floor:.2f}×",
        "≤ 1.3×",
        t / floor <= 1.3,
    )

    t_json, floor = median_pair([*cc, *CHAIN, "-o", "json"], click_floor, runs)
    line(
        "(b) same chain --format json vs import click",
        f"{t_json * 1e3:.0f} / {floor * 1e3:.0f} ms = {t_json / floor:.2f}×",
        "≤ 1.3×",
        t_json / floor <= 1.3,
    )

    comp_env = {
        "_CONVCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcalc -i 3x32x32 conv2d k=3 p",
        "COMP_CWORD": "5",
    }
    t, floor = median_pair(cc, click_floor, runs, env_a=comp_env)
    line(
        "(c) completion request vs import click",
        f"{t * 1e3:.0f} / {floor * 1e3:.0f} ms = {t / floor:.2f}×",
        "≤ 1.3×",
        t / floor <= 1.3,
    )

    torch_comparison(cc, runs)

    with tempfile.TemporaryDirectory() as tmp:
        specs = {}
        for n in (10_000, 100_000):
            path = Path(tmp) / f"{n}.spec"
            path.write_text(LAYERS * (n // 3) + "relu\n" * (n % 3))
            specs[n] = path
        _, base_rss = timed([*cc, "-i", "16x32x32", "relu", "-o", "json"])
        _, rss10 = min(
            timed([*cc, "-i", "16x32x32", "-", "-o", "json"], stdin=specs[10_000]) for _ in range(3)
        )
        t100, rss100 = min(
            timed([*cc, "-i", "16x32x32", "-", "-o", "json"], stdin=specs[100_000])
            for _ in range(3)
        )
        # Guard against a parent whose size hides the children's (see bench/run.py).
        measurable = rss10 > base_rss
        growth = (rss100 - base_rss) / max(1, rss10 - base_rss)
        line("(e) 100,000 layers on stdin, --format json", f"{t100:.2f} s", "≤ 2 s", t100 <= 2)
        line(
            "    memory above a 1-layer run: 10k → 100k layers",
            f"{(rss10 - base_rss) / 1024:.0f} → {(rss100 - base_rss) / 1024:.0f} MiB"
            f" ({growth:.1f}×)",
            "~10× (linear)",
            measurable and growth <= 12,
        )
        path = Path(tmp) / "1000.spec"
        path.write_text(LAYERS * 333 + "relu\n")
        t_table = min(timed([*cc, "-i", "16x32x32", "-"], stdin=path)[0] for _ in range(3))
        line("(f) 1,000-layer table", f"{t_table:.2f} s", "≤ 1 s", t_table <= 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
