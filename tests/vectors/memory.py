"""PyTorch's own byte counts for convcalc's memory figures (convcalc/memory.py).

Re-run (deterministic) from the repository root with a Python that has torch::

    /path/to/venv-with-torch/bin/python tests/vectors/memory.py

It writes ``tests/data/torch_memory.json``: one record per (network, dtype) with

* ``param_bytes``: ``sum(t.numel() * t.element_size())`` over the module's parameters
  and buffers after ``module.to(dtype)`` (BatchNorm's ``num_batches_tracked`` stays int64);
* ``input_element_size``: bytes per element of the network's input tensor (an
  embedding reads int64 indices);
* ``gradient_bytes``: the ``.grad`` tensors after one forward and backward pass;
* ``optimizer_state_bytes``: the state tensors each optimizer holds after one step —
  ``sgd`` (torch.optim.SGD, no momentum), ``momentum`` (SGD, momentum=0.9) and
  ``adam`` (torch.optim.Adam) — counting Adam's ``exp_avg`` and ``exp_avg_sq`` only;
  ``adam_step_bytes`` holds the one-element ``step`` counters convcalc leaves out.

A layer marked ``frozen`` in the spec has ``requires_grad_(False)`` in PyTorch: no
gradient and no optimizer state (the optimizer is still given every parameter).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "torch_memory.json"
DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}


def _frozen(module: nn.Sequential, *indices: int) -> nn.Module:
    for i in indices:
        module[i].requires_grad_(False)
    return module


# (convcalc spec, input shape without the batch, module factory, index input?)
CASES: list[tuple[str, list[int], Callable[[], nn.Module], bool]] = [
    ("bn", [3, 8, 8], lambda: nn.BatchNorm2d(3), False),
    (
        "conv2d 16 k=3 p=1; bn; relu; maxpool k=2; flatten; linear 10",
        [3, 16, 16],
        lambda: nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 8 * 8, 10),
        ),
        False,
    ),
    (
        "conv1d 8 k=3 bias=false; instancenorm affine=true track=true; groupnorm 2; prelu",
        [4, 20],
        lambda: nn.Sequential(
            nn.Conv1d(4, 8, 3, bias=False),
            nn.InstanceNorm1d(8, affine=True, track_running_stats=True),
            nn.GroupNorm(2, 8),
            nn.PReLU(),
        ),
        False,
    ),
    (
        "embedding 100 16; layernorm; linear 8",
        [12],
        lambda: nn.Sequential(nn.Embedding(100, 16), nn.LayerNorm(16), nn.Linear(16, 8)),
        True,
    ),
    (
        "conv2d 8 k=3 frozen; bn frozen; relu; flatten; linear 10",
        [3, 8, 8],
        lambda: _frozen(
            nn.Sequential(
                nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(288, 10)
            ),
            0,
            1,
        ),
        False,
    ),
    (
        "bn1d affine=false; linear 5 bias=false",
        [6],
        lambda: nn.Sequential(nn.BatchNorm1d(6, affine=False), nn.Linear(6, 5, bias=False)),
        False,
    ),
]


def nbytes(tensors: list[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def run(spec: str, shape: list[int], make: Callable[[], nn.Module], index: bool) -> list[dict]:
    rows = []
    for name, dtype in DTYPES.items():
        torch.manual_seed(0)
        module = make().to(dtype)
        row: dict = {
            "spec": spec,
            "input": shape,
            "dtype": name,
            "param_bytes": nbytes([*module.parameters(), *module.buffers()]),
        }
        x = torch.zeros(2, *shape, dtype=torch.long) if index else torch.randn(2, *shape)
        row["input_element_size"] = (
            x.element_size() if index else torch.empty(0, dtype=dtype).element_size()
        )
        if name in ("float32", "float64"):  # one real training step per optimizer
            states = {}
            for opt_name, factory in (
                ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
                ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
                ("adam", lambda p: torch.optim.Adam(p, lr=0.1)),
            ):
                torch.manual_seed(0)
                module = make().to(dtype).train()
                opt = factory(module.parameters())
                inp = x if index else x.to(dtype)
                module(inp).float().sum().backward()
                opt.step()
                row["gradient_bytes"] = nbytes(
                    [p.grad for p in module.parameters() if p.grad is not None]
                )
                state = [t for s in opt.state.values() for k, t in s.items() if k != "step"]
                steps = [t for s in opt.state.values() for k, t in s.items() if k == "step"]
                states[opt_name] = nbytes(state)
                if opt_name == "adam":
                    row["adam_step_bytes"] = nbytes(steps)
            row["optimizer_state_bytes"] = states
        rows.append(row)
    return rows


def main() -> None:
    rows = [row for case in CASES for row in run(*case)]
    OUT.write_text("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")
    print(f"{len(rows)} records -> {OUT.relative_to(ROOT)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
