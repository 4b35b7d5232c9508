"""PyTorch facts about layers that the shape vectors do not carry. Re-run (deterministic) from
the repository root with a Python that has torch::

    /path/to/venv-with-torch/bin/python tests/vectors/layer_facts.py

It writes ``tests/data/torch_layer_facts.json``:

* ``functional``: the public callables of ``torch.nn.functional`` (convcalc's kind words
  spelled with an underscore must be among them);
* ``buffers``: for layers with and without buffers, ``{"spec", "input", "buffers",
  "int64_buffers"}`` — the elements of the module's buffers, and those PyTorch keeps as
  int64 (BatchNorm's num_batches_tracked) after ``module.half()``: such a buffer keeps its
  dtype whatever the model's;
* ``batch_dependent``: layers whose acceptance depends on the batch size (the shape vectors
  run a batch of 1): ``{"spec", "input", "batch", "output"}``, ``output`` without the batch,
  null when PyTorch refuses the input or changes the batch size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "torch_layer_facts.json"

# (convcalc spec, input shape without the batch, module)
BUFFER_CASES: list[tuple[str, list[int], Callable[[], nn.Module]]] = [
    ("bn", [3, 8, 8], lambda: nn.BatchNorm2d(3)),
    ("bn1d", [5], lambda: nn.BatchNorm1d(5)),
    ("batchnorm1d", [4, 10], lambda: nn.BatchNorm1d(4)),
    ("batch_norm", [2, 4, 4, 4], lambda: nn.BatchNorm3d(2)),
    ("bn2d affine=false", [6, 4, 4], lambda: nn.BatchNorm2d(6, affine=False)),
    ("bn2d track=false", [6, 4, 4], lambda: nn.BatchNorm2d(6, track_running_stats=False)),
    ("instancenorm2d", [3, 8, 8], lambda: nn.InstanceNorm2d(3)),
    (
        "instancenorm2d track=true",
        [3, 8, 8],
        lambda: nn.InstanceNorm2d(3, track_running_stats=True),
    ),
    (
        "instancenorm1d affine=true track=true",
        [7, 9],
        lambda: nn.InstanceNorm1d(7, affine=True, track_running_stats=True),
    ),
    (
        "instance_norm track=true",
        [2, 3, 4, 5],
        lambda: nn.InstanceNorm3d(2, track_running_stats=True),
    ),
    ("layernorm", [10, 16], lambda: nn.LayerNorm(16)),
    ("groupnorm 2", [4, 8, 8], lambda: nn.GroupNorm(2, 4)),
    ("rmsnorm", [10, 16], lambda: nn.RMSNorm(16)),
    ("lrn 3", [4, 8, 8], lambda: nn.LocalResponseNorm(3)),
    ("conv2d 8 k=3", [3, 8, 8], lambda: nn.Conv2d(3, 8, 3)),
    ("linear 10", [16], lambda: nn.Linear(16, 10)),
    ("embedding 100 8", [12], lambda: nn.Embedding(100, 8)),
    ("prelu", [3, 8], lambda: nn.PReLU()),
]


class Pad(nn.Module):
    def __init__(self, pads: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.pads, self.mode = pads, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, mode=self.mode)


# (convcalc spec, input shape without the batch, module); each is run at batch 1, 2, 3, 8.
BATCH_CASES: list[tuple[str, list[int], Callable[[], nn.Module]]] = [
    # circular pads whose wrapped copy overlaps itself: refused only when every dim
    # before the padded one has size 1, the batch included
    ("pad -2,4 mode=circular", [1, 4], lambda: Pad((-2, 4), "circular")),
    ("pad -2,4 mode=circular", [4], lambda: Pad((-2, 4), "circular")),
    ("pad 4,-3 mode=circular", [1, 4], lambda: Pad((4, -3), "circular")),
    ("pad 0,0,-1,3 mode=circular", [1, 3, 2], lambda: Pad((0, 0, -1, 3), "circular")),
    ("pad 0,0,-1,3 mode=circular", [2, 3, 2], lambda: Pad((0, 0, -1, 3), "circular")),
    ("pad 1,2 mode=circular", [1, 3], lambda: Pad((1, 2), "circular")),
    # a constant pair on the batch: it may crop at most the batch size
    ("pad 0,0,-1,1", [3], lambda: Pad((0, 0, -1, 1), "constant")),
    ("pad 0,0,-2,2", [3], lambda: Pad((0, 0, -2, 2), "constant")),
    ("pad 0,0,3,-3", [3], lambda: Pad((0, 0, 3, -3), "constant")),
    ("pad 0,0,1,0", [3], lambda: Pad((0, 0, 1, 0), "constant")),
    # InstanceNorm reads an n-dim shape as unbatched: the batch stands for the channels
    ("instancenorm1d affine=true", [8], lambda: nn.InstanceNorm1d(8, affine=True)),
    (
        "instancenorm2d track=true c=2",
        [5, 5],
        lambda: nn.InstanceNorm2d(2, track_running_stats=True),
    ),
    ("instancenorm1d c=2", [5], lambda: nn.InstanceNorm1d(2)),
    ("instancenorm1d", [1], lambda: nn.InstanceNorm1d(1)),
    # batch statistics need more than one value per channel
    ("bn track=false", [3, 1, 1], lambda: nn.BatchNorm2d(3, track_running_stats=False)),
    ("groupnorm 3", [3, 1], lambda: nn.GroupNorm(3, 3)),
    # pixel (un)shuffle on an H×W shape takes the batch for the channels
    ("pixelshuffle 1", [4, 6], lambda: nn.PixelShuffle(1)),
    ("pixelshuffle 2", [4, 6], lambda: nn.PixelShuffle(2)),
    ("pixelunshuffle 2", [4, 6], lambda: nn.PixelUnshuffle(2)),
    # pools take an unbatched C×L input: any batch size
    ("maxpool1d k=2", [9], lambda: nn.MaxPool1d(2)),
]


def run_batched(make: Callable[[], nn.Module], shape: list[int], batch: int) -> list[int] | None:
    try:
        with torch.no_grad():
            y = make().eval()(torch.randn(batch, *shape))
    except Exception:  # every rejection PyTorch raises counts
        return None
    return list(y.shape[1:]) if y.shape[0] == batch else None


def main() -> None:
    functional = sorted(
        name for name in dir(F) if name[:1].islower() and callable(getattr(F, name))
    )
    buffers = []
    for spec, shape, make in BUFFER_CASES:
        module = make().half()
        tensors = list(module.buffers())
        buffers.append(
            {
                "spec": spec,
                "input": shape,
                "buffers": sum(t.numel() for t in tensors),
                "int64_buffers": sum(t.numel() for t in tensors if t.dtype == torch.int64),
            }
        )
    torch.manual_seed(0)
    batched = [
        {"spec": spec, "input": shape, "batch": b, "output": run_batched(make, shape, b)}
        for spec, shape, make in BATCH_CASES
        for b in (1, 2, 3, 8)
    ]
    facts = {"functional": functional, "buffers": buffers, "batch_dependent": batched}
    OUT.write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {OUT}: {len(functional)} functional names, {len(buffers)} layers' buffers, "
        f"{len(batched)} batch-dependent cases"
    )


if __name__ == "__main__":
    main()
