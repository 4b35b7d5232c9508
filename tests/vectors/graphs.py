"""Random graphs run in PyTorch: branches, merges, blocks and shared layers, with torch's answers.

Each case is drawn as ONE random description (``Graph``: block definitions plus top-level
statements of convcalc's graph language, docs/language.md). The same description is rendered
as the spec text and executed by ``Exec``, which builds the torch modules and runs them, so
the two cannot diverge. Re-run (deterministic; byte-identical output) from the repository
root::

    /path/to/venv-with-torch/bin/python tests/vectors/graphs.py

Written against torch 2.13.0 (CPU). It writes ``tests/data/torch_graphs.jsonl``, one JSON
object per line (sorted keys, compact separators)::

    {"id": "g0001", "spec": "...", "input": [C, H, W],
     "output": [...] | null, "params": int | null, "buffers": int | null, "macs": int | null,
     "ops": [{"op": "conv2d", "output": [...], "params": int, "macs": int,
              "side": true, "shared": true, "part": [i, k]}, ...],
     "error": null | {"op": int, "type": "RuntimeError", "message": "...",
                      "raised_by": "torch" | "harness"}}

  ``side``, ``shared`` and ``part`` appear only where they apply (``part``: split/chunk).
  ``op`` is the statement's keyword or layer kind as written (``cat`` is recorded as
  ``concat``; a ``use`` as the kind of the layer it applies).

* Shapes exclude the batch (torch ran batch 1 on zeros, every module in eval mode).
  ``spec`` holds no ``input`` statement: ``input`` is given beside it (C×H×W, or C×L for
  the conv1d graphs). Specs are written one statement per line (blocks indented), with
  ``; `` between statements, or with plain spaces as a shell one-liner would be.
* ``ops`` are the operations in execution order: one per layer application (each
  repetition of ``xN``, each ``use``, every layer of a block instance), one per ``add``,
  ``mul``, ``concat`` and ``crop``, and one per part of a ``split``/``chunk`` (a statement
  naming k parts is k ops, flagged ``"part": [index, k]``; PyTorch splits once).
  ``as``/``from`` are not ops. Each op's ``params`` are its module's own (for a reused module
  again at every use, flagged ``"shared"``), its ``macs`` are FlopCounterMode / 2 of that
  call alone. The flag ``"side"`` marks ops the result does not depend on (a branch named with
  ``as`` and never used: a side output; or a part of a split nobody reads): they run here
  to give their shapes, but the eval forward does not run them.
* Success: ``output``, ``params`` (``sum(p.numel() for p in model.parameters())``: a shared
  module counts once), ``buffers`` (likewise), ``macs`` (FlopCounterMode total / 2 of the
  eval-mode forward of the whole model, which skips side ops; equal to the sum of the
  non-side ops' ``macs``, asserted).
* Failure: ``error.op`` is the 1-based index, in ``ops`` numbering, of the op that raised;
  ``ops`` holds the ops before it. ``raised_by`` is ``"torch"`` when PyTorch raised (a
  module's constructor or forward, ``torch.add``/``mul``/``cat``/``split``), ``"harness"`` for
  the two rules PyTorch has no op for: ``crop`` to a target larger than the tensor (slicing
  would silently return less) and a ``split``/``chunk`` whose number of parts differs from
  the number of names (``a, b = torch.chunk(x, 3)`` is Python's unpacking error; the message
  here is the harness's own).

Semantics the executor implements (docs/language.md): ``add``/``mul``/``concat`` operands are
the listed names in order, with the current tensor first unless it is itself one of them
(the same tensor, not the same name); ``add``/``mul`` fold left with torch's broadcasting;
``concat`` is ``torch.cat(operands, dim)`` (dim counts the batch as 0); after a
``split``/``chunk`` the current tensor is the first part; ``crop NAME`` centre-crops every
dim after the channels to NAME's sizes (offset ⌊(L−T)/2⌋); a block instance runs its body
with fresh modules and a scope of its own whose reads fall through to the caller's names;
``xN`` repeats with fresh modules; ``use NAME`` applies the module(s) of the layer or block
instance given ``name=NAME`` again. The executor also enforces the language's structural
rules (names exist; a branch left behind is named or used) on every spec it writes, so no
spec here is malformed: every rejection is a shape error. Deliberate mismatches (about 30%
of cases) are residual adds with the wrong channels or size, projection shortcuts with the
wrong stride, concats of mismatched sizes, gates that do not broadcast, split sizes that do
not add up, part counts that differ from the names, crops to a larger target, a shared
layer applied to the wrong number of channels, a concat dim out of range.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from graph_exec import run_case
from graph_gen import Gen
from graph_spec import render

SEED = 20250608
CASES = 1500
ROOT = Path(__file__).resolve().parents[2]
OUT_PATH = ROOT / "tests" / "data" / "torch_graphs.jsonl"


# --------------------------------------------------------------------------- main


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    torch.manual_seed(SEED)
    torch.set_grad_enabled(False)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    stats: Counter[str] = Counter()
    seen: set[tuple[str, tuple[int, ...]]] = set()
    draw = 0
    while len(rows) < CASES:
        gen = Gen(random.Random(SEED * 100_000 + draw))
        draw += 1
        g = gen.draw()
        spec = render(g)
        if (spec, g.input) in seen:
            continue
        seen.add((spec, g.input))
        record = run_case(g)  # from scratch: the guide's run only steered the choices
        assert (record["error"] is None) == (not gen.failed), spec
        record["id"] = f"g{len(rows) + 1:04d}"
        rows.append(record)
        error = record["error"]
        if error:
            stats[f"error ({error['raised_by']}) {gen.intent or 'unplanned'}"] += 1
        else:
            stats["ok" if gen.intent is None else f"ok despite {gen.intent}"] += 1
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n")
    for key, n in sorted(stats.items()):
        print(f"{n:6d}  {key}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    print(f"{len(rows)} graphs -> {OUT_PATH.relative_to(ROOT)} in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
