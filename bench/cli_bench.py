"""How fast the convcalc command feels, each figure a ratio against a baseline
measured in the same run (so the targets hold on a slow and on a fast machine).

    python bench/cli_bench.py [--runs N] [--layers N] [--strict]

(a) the 3-layer table one-liner vs click+rich printing a 3-row table   ≤ 1.3×
(b) the same chain as JSON vs `python -c "import click"`               ≤ 1.3×
(c) a completion request vs `python -c "import click"`                 ≤ 1.3×
(d) PyTorch answering the same question (meta tensor through nn.Sequential)
    vs convcalc's JSON                                                 ≥ 25×
(e) N layers (default 100,000) on stdin as JSON vs a Python that reads the
    same text and writes N equivalent records with json.dumps           ≤ 4×
    and its memory above a 1-layer run, N vs N/10 layers               ≤ 12× (linear)
(f) an N/10-row table vs the same network as JSON                       ≤ 2×
    an N-row table vs the same network as JSON                          ≤ 2×

PyTorch is looked for in $CONVCALC_TORCH_PYTHON (a Python that has torch), else in
the interpreter running this script; (d) is skipped, with a line saying why, when
neither has it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from measure import Line, Note, Ratio, median_pair, ms, report

TARGET_STARTUP = 1.3  # (a), (b), (c)
TARGET_TORCH = 25  # (d)
TARGET_JSON = 4  # (e)
TARGET_MEMORY = 12  # (e): ten times the layers, about ten times the memory
TARGET_TABLE = 2  # (f)

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

# (e)'s baseline: read the spec, write n records like convcalc's (RECORDS, one per
# line) with json.dumps.
FLOOR_JSON = """
import json, sys
RECORDS = {records!r}
text = sys.stdin.read()
n = {n}
layers = [dict(RECORDS[i % len(RECORDS)], index=i + 1, inputs=[i]) for i in range(n)]
out = ["{{", '  "layers": [']
out.extend("    " + json.dumps(layer) + "," for layer in layers)
out.append("  ]")
out.append("}}")
sys.stdout.write("\\n".join(out) + "\\n")
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
LAYERS_INPUT = "16x32x32"


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
    env: Mapping[str, str] | None = None,
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


def pair(
    a: Sequence[str],
    b: Sequence[str],
    runs: int,
    *,
    env_a: Mapping[str, str] | None = None,
    stdin: Path | None = None,
    warm: bool = True,
) -> tuple[float, float]:
    """Median wall times of the commands ``a`` and ``b``, run alternately."""
    return median_pair(
        lambda: timed(a, env=env_a, stdin=stdin)[0],
        lambda: timed(b, stdin=stdin)[0],
        runs,
        warm=warm,
    )


def versus(t: float, base: float, what: str = "") -> str:
    return f"{ms(t)} vs {ms(base)}{what}"


def startup(cc: Sequence[str], runs: int) -> Iterator[Line]:
    """(a), (b) and (c): one short command against the libraries' own start."""
    py = sys.executable
    click_floor = [py, "-c", "import click"]
    t, floor = pair([*cc, *CHAIN], [py, "-c", FLOOR_TABLE], runs)
    yield Ratio(
        "(a)",
        "3-layer table vs click+rich printing 3 rows",
        t / floor,
        "≤",
        TARGET_STARTUP,
        versus(t, floor),
    )
    t, floor = pair([*cc, *CHAIN, "-o", "json"], click_floor, runs)
    yield Ratio(
        "(b)",
        "the same chain as JSON vs import click",
        t / floor,
        "≤",
        TARGET_STARTUP,
        versus(t, floor),
    )
    comp_env = {
        "_CONVCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcalc -i 3x32x32 conv2d k=3 p",
        "COMP_CWORD": "5",
    }
    t, floor = pair(cc, click_floor, runs, env_a=comp_env)
    yield Ratio(
        "(c)",
        "a completion request vs import click",
        t / floor,
        "≤",
        TARGET_STARTUP,
        versus(t, floor),
    )


def torch_comparison(cc: Sequence[str], runs: int) -> Line:
    """(d): PyTorch answering the question, or a line saying why it is skipped."""
    torch_py, how = torch_python()
    if torch_py is None:
        return Note("(d)", "PyTorch vs convcalc JSON", f"skipped: {how}")
    # PyTorch takes seconds a run: a third as many runs, and convcalc three times beside
    # each, so that one slow start of convcalc's (a machine busy for a moment) does not
    # move the median of a handful of samples.
    torch_cmd, cc_cmd = [torch_py, "-c", TORCH], [*cc, *CHAIN, "-o", "json"]
    timed(torch_cmd)
    timed(cc_cmd)
    torch_times: list[float] = []
    cc_times: list[float] = []
    for _ in range(max(1, runs // 3)):
        torch_times.append(timed(torch_cmd)[0])
        cc_times.extend(timed(cc_cmd)[0] for _ in range(3))
    t_torch, t_cc = statistics.median(torch_times), statistics.median(cc_times)
    return Ratio(
        "(d)",
        "PyTorch (meta tensor, nn.Sequential) vs convcalc JSON",
        t_torch / t_cc,
        "≥",
        TARGET_TORCH,
        f"{versus(t_torch, t_cc)}; PyTorch: {torch_py} ({how})",
    )


def spec_file(folder: Path, n: int) -> Path:
    path = folder / f"{n}.spec"
    path.write_text(LAYERS * (n // 3) + "relu\n" * (n % 3))
    return path


def json_floor(cc: Sequence[str], n: int) -> list[str]:
    """(e)'s baseline command for ``n`` layers: records cut from convcalc's own JSON."""
    out = subprocess.run(
        [*cc, "-i", LAYERS_INPUT, *LAYERS.split(), "-o", "json"],
        capture_output=True,
        check=True,
    ).stdout
    records = json.loads(out)["layers"]
    return [sys.executable, "-c", FLOOR_JSON.format(records=records, n=n)]


def big_networks(cc: Sequence[str], layers: int, runs: int) -> Iterator[Line]:
    """(e) and (f): long specs on stdin, as JSON and as a table."""
    small = max(3, layers // 10)
    runs = min(3, runs)  # each run is long; their spread is small against it
    with tempfile.TemporaryDirectory() as tmp:
        specs = {n: spec_file(Path(tmp), n) for n in (small, layers)}
        json_cmd = [*cc, "-i", LAYERS_INPUT, "-", "-o", "json"]
        table_cmd = [*cc, "-i", LAYERS_INPUT, "-"]

        t, floor = pair(json_cmd, json_floor(cc, layers), runs, stdin=specs[layers])
        yield Ratio(
            "(e)",
            f"{layers:,} layers as JSON vs json.dumps of {layers:,} records",
            t / floor,
            "≤",
            TARGET_JSON,
            versus(t, floor),
        )

        _, base_rss = timed([*cc, "-i", LAYERS_INPUT, "relu", "-o", "json"])
        rss_small = min(timed(json_cmd, stdin=specs[small])[1] for _ in range(runs))
        rss_large = min(timed(json_cmd, stdin=specs[layers])[1] for _ in range(runs))
        # A child's peak memory starts from its parent's size at fork (bench/run.py
        # runs each benchmark in a small process of its own).
        above_small = max(1, rss_small - base_rss)
        above_large = max(1, rss_large - base_rss)
        yield Ratio(
            "(e)",
            f"memory above a 1-layer run: {layers:,} vs {small:,} layers",
            above_large / above_small,
            "≤",
            TARGET_MEMORY,
            f"{above_large / 1024:,.0f} MiB vs {above_small / 1024:,.0f} MiB",
        )

        for n, repeat in ((small, runs), (layers, 1)):  # a long run varies little
            t_table, t_json = pair(table_cmd, json_cmd, repeat, stdin=specs[n], warm=n == small)
            yield Ratio(
                "(f)",
                f"{n:,}-row table vs the same network as JSON",
                t_table / t_json,
                "≤",
                TARGET_TABLE,
                versus(t_table, t_json),
            )


def measure(cc: Sequence[str], runs: int, layers: int) -> Iterator[Line]:
    command = " ".join(cc)
    yield Note("cmd", "the command measured", f"{command}; python {sys.executable}; runs {runs}")
    yield from startup(cc, runs)
    yield torch_comparison(cc, runs)
    yield from big_networks(cc, layers, runs)


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (median)")
    parser.add_argument(
        "--layers", type=int, default=100_000, help="the long network's layers (e), (f)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    # As after `pip install`: bytecode compiled (PYTHONDONTWRITEBYTECODE may be set here).
    package = Path(__file__).resolve().parent.parent / "convcalc"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    return report(measure(convcalc_cmd(), args.runs, args.layers), args.strict)


if __name__ == "__main__":
    sys.exit(main())
