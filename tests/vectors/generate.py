"""Generate convcalc's PyTorch test vectors.

Every case is computed by running the real PyTorch modules, so the data files are the ground
truth that convcalc's arithmetic is tested against. Re-run (deterministic; byte-identical output)::

    /path/to/venv-with-torch/bin/python tests/vectors/generate.py

from the repository root. It needs torch (written against 2.13.0, CPU) and writes

* ``tests/data/torch_cases.jsonl`` — single-layer cases and multi-layer chains:
  ``{"id", "spec", "input", "layers": [{"output", "params", "buffers", "macs"}, ...],
  "error": null | {"layer", "type", "message"}}``; ``input``/``output`` exclude the batch
  dimension (PyTorch ran on batch 1), ``layers`` holds the layers that succeeded before the
  error, ``error.layer`` is 1-based.
* ``tests/data/torch_rf.jsonl`` — receptive fields measured with autograd:
  ``{"id", "spec", "input", "probe", "span"}``: the output element at ``probe`` (0-based, one
  index per spatial dim) depends on input indices ``span[i] = [first, last]`` (inclusive).

The spec strings use convcalc's layer language with deliberately varied spellings (short and
long keys, tuple styles, boolean words, aliases, separators); their meaning always equals the
PyTorch module that produced the numbers.

How a case is computed: input ``torch.randn(1, *input)``; each layer is constructed (a
constructor exception is a rejection too), put in ``eval()`` mode and run under
``torch.no_grad()``; MACs are ``torch.utils.flop_counter.FlopCounterMode``'s total / 2 for
the layer's call, counted in a second call (docs/arithmetic.md#macs; attention is run with
``need_weights=True`` so that the counter sees QKᵀ and AV). Every layer runs on
PyTorch's reference CPU path (``torch.backends.mkldnn.flags(enabled=False)``) and again on
the default oneDNN path; a case whose acceptance or output shape differs between the two is
left out (ConvTranspose with a 0-sized output: oneDNN returns an empty tensor for some
configurations, the reference path rejects it). Receptive fields come from autograd through
the geometry-equivalent chain of single-channel all-ones convolutions (a pool becomes a conv
with the same k, s, p, d), probing an output whose window stays inside every layer's input.
MaxUnpool is called as ``m(x, indices)`` with all-zero int64 indices (index 0 is valid whenever
the output is non-empty); Embedding reading the network's input gets an all-zero int64 index
tensor of its shape, and reading what a layer made gets that tensor (floats, which
nn.Embedding refuses, as in a network).

Layout
------
* ``common.py`` — the shared machinery: ``Speller`` (random equivalent spellings), ``Layer``
  (convcalc text + the PyTorch module it means), ``Chain`` (runs layers and records them),
  random helpers, ``try_inject``, and ``CaseSet``.
* ``families/<family>.py`` — one module per layer family (conv, pool, resample, reshape,
  linear, norm, activation, ...): ``*_layer`` builders, corner-seeking ``gen_*`` generators
  (input shape -> layer) and ``case_*`` generators (-> input shape and layer).
* ``families/chains.py``, ``rf.py``, ``documented.py`` — multi-layer chains, receptive-field
  cases and the networks shown in the docs.
* A *set* module defines ``SET = CaseSet(...)``: which pinned corner cases, how many random
  single layers of which families (with their wanted rejection rate), and which chains. The
  sets are listed in ``SETS`` below; set ``i`` draws from its own random stream
  ``random.Random(SEED + i)``, and its rows follow all rows of the sets before it, so adding a
  set never changes an existing row. ``first_set`` and ``second_set`` are the two historical
  sets (the first set's stream also makes the RF file).

Adding a family
---------------
1. Write ``families/<name>.py`` with the builders and generators of the new kinds and a
   ``SET = CaseSet(pinned=..., plan=[(family, count, reject_rate, case_generator), ...],
   chains=..., chain_count=...)``; import what you need from ``common`` and other families.
2. Append ``"<name>"`` to ``SETS`` (always at the end: the position is the seed).
Then re-run this script; ``git diff --stat tests/data`` should show only added lines.
"""

from __future__ import annotations

import importlib
import random
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from common import SEED, CaseSet, Chain, Speller, chain_rows, dump, single_rows

ROOT = Path(__file__).resolve().parents[2]
CASES_PATH = ROOT / "tests" / "data" / "torch_cases.jsonl"
RF_PATH = ROOT / "tests" / "data" / "torch_rf.jsonl"

# The row sets in file order: modules under families/ that define ``SET``. Append only.
SETS = [
    "first_set",
    "second_set",
    "transformer",
    "layernorm2d",
    "corners",
    "torchcalls",
    "fractional",
    "recurrent",
    "swin",
    "language",
    "frozenbn",
    "unfold",
]


def load_set(name: str) -> CaseSet:
    case_set = importlib.import_module(f"families.{name}").SET
    assert isinstance(case_set, CaseSet), name
    return case_set


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    t0 = time.time()

    seen: set[tuple[str, tuple[int, ...]]] = set()
    stats: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    chain_stats: Counter[str] = Counter()
    unstable_seen: list[str] = []
    rows: list[dict[str, Any]] = []
    rf_rows: list[dict[str, Any]] = []
    n_single = 0
    for index, name in enumerate(SETS):
        case_set = load_set(name)
        rng = random.Random(SEED + index)
        sp = Speller(rng)
        singles = single_rows(
            rng, sp, case_set.pinned(rng, sp), case_set.plan, seen, stats, rejected, unstable_seen
        )
        n_single += len(singles)
        rows += singles
        if case_set.chains is not None:
            rows += chain_rows(rng, sp, case_set.chains, case_set.chain_count, seen, chain_stats)
        if case_set.fixed_chains is not None:
            for spec, shape, layers in case_set.fixed_chains():
                b = Chain(shape)
                for one_layer in layers:
                    b.add(one_layer)
                assert b.ok and not b.unstable, spec
                rows.append({"spec": spec, "input": shape, "layers": b.records, "error": None})
        made = 0
        while case_set.rf_case is not None and made < case_set.rf_count:
            case = case_set.rf_case(rng, sp)
            if case is None or (case["spec"], tuple(case["input"])) in seen:
                continue
            seen.add((case["spec"], tuple(case["input"])))
            rf_rows.append(case)
            made += 1
    n_chains = chain_stats["ok"] + chain_stats["failed"]

    CASES_PATH.parent.mkdir(parents=True, exist_ok=True)
    with CASES_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rows, 1):
            fh.write(dump({"id": i, **row}) + "\n")
    with RF_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rf_rows, 1):
            fh.write(dump({"id": i, **row}) + "\n")

    total_rej = sum(rejected.values())
    print(f"single-layer cases: {n_single}, rejected {total_rej} ({total_rej / n_single:.1%})")
    for family, count in stats.items():
        print(f"  {family:17s} {count:5d}  rejected {rejected[family]:4d}")
    print(f"chains: {n_chains} ({chain_stats['failed']} fail part-way)")
    print(f"dropped {len(unstable_seen)} backend-dependent single-layer candidates, e.g.:")
    for text in unstable_seen[:8]:
        print(f"  {text}")
    print(f"receptive-field cases: {len(rf_rows)}")
    print(f"wrote {CASES_PATH} and {RF_PATH} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
