"""Record ``resize_to NAME``, F.interpolate to another tensor's size, as PyTorch runs it.

Random configurations (seeded; byte-identical output), re-run from the repository root::

    /path/to/venv-with-torch/bin/python tests/vectors/resize.py

Written against torch 2.13.0 (CPU). Each case is ``x`` (C×L, C×H×W or C×D×H×W, sometimes
with a zero size), a target ``like`` (usually of x's rank, sometimes not), a ``mode``
(every one F.interpolate takes, often one for another rank) and ``align_corners``
(unset, true or false, also with modes that refuse it). PyTorch runs
``F.interpolate(x, size=like.shape[2:], mode=mode, align_corners=align_corners)`` on a
batch of 1; ``tests/data/torch_resize.jsonl`` gets one JSON object per line (sorted keys):
``{"x", "like", "resize": the statement's keys ("mode=bilinear align_corners=false"),
"output": shape | null, "error": null | {"type", "message"}}`` (shapes exclude the batch).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

SEED = 20250611
COUNT = 160
OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "torch_resize.jsonl"
MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def case(rng: random.Random) -> dict[str, Any]:
    n = rng.choice((1, 2, 2, 2, 3))
    x = [rng.randint(1, 6), *(rng.randint(1, 9) for _ in range(n))]
    m = n if rng.random() < 0.85 else rng.choice([k for k in (1, 2, 3) if k != n])
    like = [rng.randint(1, 4), *(rng.randint(1, 12) for _ in range(m))]
    if rng.random() < 0.08:  # an empty input or target size
        (x if rng.random() < 0.5 else like)[1] = 0
    # a mode for this rank most of the time
    fitting = [k for k in MODES if RANK.get(k, n) == n]
    mode = rng.choice(fitting) if rng.random() < 0.8 else rng.choice(MODES)
    align = rng.choice((None, None, True, False))
    words = [f"mode={mode}"] + ([] if align is None else [f"align_corners={str(align).lower()}"])
    try:
        out = F.interpolate(
            torch.zeros(1, *x), size=tuple(like[1:]), mode=mode, align_corners=align
        )
        output, error = list(out.shape[1:]), None
    except (RuntimeError, ValueError, NotImplementedError) as exc:
        output, error = None, {"type": type(exc).__name__, "message": str(exc).splitlines()[0]}
    return {"x": x, "like": like, "resize": " ".join(words), "output": output, "error": error}


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    rng = random.Random(SEED)
    rows = [case(rng) for _ in range(COUNT)]
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    bad = sum(r["error"] is not None for r in rows)
    print(f"{len(rows)} cases ({bad} rejected) -> {OUT.name}")


if __name__ == "__main__":
    main()
