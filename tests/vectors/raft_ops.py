"""Record the graph statements RAFT needs, as PyTorch runs them: ``bmm NAME``
(torch.bmm), ``subtract NAME`` (broadcasting subtraction), ``coords_grid`` (torchvision's
make_coords_grid) and ``corr_lookup LEVEL… radius=R`` (torchvision's
CorrBlock.index_pyramid).

Random configurations (seeded; byte-identical output), re-run from the repository root::

    /path/to/venv-with-torch-and-torchvision/bin/python tests/vectors/raft_ops.py

Written against torch 2.13.0 (CPU) and torchvision 0.28.0 (its Python definitions only).
Shapes exclude the batch; PyTorch runs a batch of 1 (``batch`` 2 for some bmm cases).
``tests/data/torch_raft_ops.jsonl`` gets one JSON object per line (sorted keys):
``{"op": "bmm" | "subtract" | "coords_grid" | "corr_lookup", "inputs": [shape…] (the current
tensor first, then the named ones), "radius": R (corr_lookup), "batch", "output": shape |
null, "macs": FlopCounterMode / 2 | null, "error": null | {"type", "message"}}``.

Cases convcalc rejects by its own rule, not PyTorch's, marked ``"batch_dependent": true``
with PyTorch's outcome recorded all the same: subtract of operands of different ranks (PyTorch
would broadcast one's batch against the other's features, as convcalc's add and mul
refuse too).
corr_lookup runs index_pyramid on levels given directly (each (H·W)×h×w, reshaped to
(H·W)×1×h×w as build_pyramid leaves them): the pyramid's own pooling is avg_pool2d's.
"""

from __future__ import annotations

import json
import random
import sys
import types
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
from torchvision.models.optical_flow._utils import make_coords_grid  # noqa: E402
from torchvision.models.optical_flow.raft import CorrBlock  # noqa: E402

SEED = 20261207
COUNT = 60  # per op
OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "torch_raft_ops.jsonl"


def run(fn: Any) -> tuple[list[int] | None, int | None, dict[str, str] | None]:
    try:
        with FlopCounterMode(display=False) as counter:
            out = fn()
        return list(out.shape[1:]), counter.get_total_flops() // 2, None
    except (RuntimeError, ValueError) as exc:
        return None, None, {"type": type(exc).__name__, "message": str(exc).splitlines()[0]}


def dims(rng: random.Random, n: int) -> list[int]:
    return [rng.randint(1, 5) for _ in range(n)]


def bmm_case(rng: random.Random) -> dict[str, Any]:
    ra = rng.choice((2, 2, 2, 2, 1, 3))
    rb = ra if rng.random() < 0.8 else rng.choice((1, 2, 3))
    a, b = dims(rng, ra), dims(rng, rb)
    if rng.random() < 0.75 and rb >= 2:
        b[-2] = a[-1]  # mostly multipliable
    batch = rng.choice((1, 1, 2))
    output, macs, error = run(lambda: torch.bmm(torch.zeros(batch, *a), torch.zeros(batch, *b)))
    row = {"op": "bmm", "inputs": [a, b], "batch": batch}
    return {**row, "output": output, "macs": macs, "error": error}


def sub_case(rng: random.Random) -> dict[str, Any]:
    n = rng.choice((1, 2, 3))
    a = dims(rng, n)
    b = [rng.choice((v, v, 1, rng.randint(1, 5))) for v in a]
    if rng.random() < 0.1:
        b = b[1:] or [2]
    output, macs, error = run(lambda: torch.zeros(1, *a) - torch.zeros(1, *b))
    row = {"op": "subtract", "inputs": [a, b], "batch": 1}
    if len(a) != len(b):
        row["batch_dependent"] = True
    return {**row, "output": output, "macs": macs, "error": error}


def coords_case(rng: random.Random) -> dict[str, Any]:
    x = dims(rng, 3) if rng.random() < 0.8 else dims(rng, rng.choice((2, 4)))

    def go() -> torch.Tensor:  # as RAFT.forward reads the size off a map
        batch_size, _, h, w = torch.zeros(1, *x).shape
        return make_coords_grid(batch_size, h, w)

    output, macs, error = run(go)
    return {
        "op": "coords_grid",
        "inputs": [x],
        "batch": 1,
        "output": output,
        "macs": macs,
        "error": error,
    }


def lookup_case(rng: random.Random) -> dict[str, Any]:
    h, w = rng.randint(1, 6), rng.randint(1, 6)
    radius = rng.randint(0, 4)
    levels = rng.randint(1, 4)
    coords = [2, h, w] if rng.random() < 0.9 else [rng.choice((1, 3)), h, w]
    shapes = []
    lh, lw = rng.randint(1, 8), rng.randint(1, 8)
    for _ in range(levels):
        shapes.append([h * w, lh, lw])
        lh, lw = max(lh // 2, 1), max(lw // 2, 1)
    if rng.random() < 0.15:
        shapes[rng.randrange(levels)][0] = h * w + rng.choice((-1, 1, h))
    if rng.random() < 0.05:
        shapes[-1][1] = 0

    def go() -> torch.Tensor:
        block = CorrBlock(num_levels=levels, radius=radius)
        block.corr_pyramid = [torch.zeros(s[0], 1, s[1], s[2]) for s in shapes]
        return block.index_pyramid(torch.zeros(1, *coords))

    output, macs, error = run(go)
    row = {"op": "corr_lookup", "inputs": [coords, *shapes], "radius": radius, "batch": 1}
    return {**row, "output": output, "macs": macs, "error": error}


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    rng = random.Random(SEED)
    rows = []
    for make in (bmm_case, sub_case, coords_case, lookup_case):
        rows += [make(rng) for _ in range(COUNT)]
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    bad = sum(r["error"] is not None for r in rows)
    print(f"{len(rows)} cases ({bad} rejected) -> {OUT.name}")


if __name__ == "__main__":
    main()
