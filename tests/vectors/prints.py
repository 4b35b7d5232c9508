"""Printed models for ``convcalc --from-torch`` (issue 8), with torch's answers.

Re-run (deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch/bin/python tests/vectors/prints.py

Written against torch 2.13.0 and torchvision 0.28 (CPU). It writes
``tests/data/torch_prints.jsonl``, one JSON object per line (sorted keys)::

    {"id": "p0001", "print": "Sequential(\\n  (0): Conv2d(…)\\n …)", "input": [C, H, W],
     "assume": false, "layers": [{"output", "params", "buffers", "macs"}, …],
     "error": null | {"layer": 3, "type": "RuntimeError", "message": "…"}}

``print`` is ``repr(model)``, exactly what ``print(model)`` shows. ``layers`` are the leaf
modules in print order — the order nn.Sequential runs them and the order convcalc reads
a ModuleList in — each run by ``common.Chain`` as the other vectors are (batch 1, eval
mode, FlopCounterMode for the MACs), up to the first one PyTorch refuses (``error.layer``,
1-based).

* Random chains (families/torch_makers.py: ``random_chain``) nested at random in
  ``nn.Sequential`` (numbered, or named through an OrderedDict) and ``nn.ModuleList``
  (whose print folds a run of identical children into ``(0-2): 3 x Conv2d(…)``), and in
  model classes of their own (``Stem``, ``Head``, …) whose forward runs their children in
  order: those rows have ``"assume": true`` (``--assume-sequential``).
* Real models whose containers are Sequentials: torchvision's AlexNet and VGG (11, 11 with
  batch norm, 16) — their ``features`` and ``classifier`` printed alone, the whole
  network as ``nn.Sequential(features, avgpool, nn.Flatten(1), classifier)``, which is
  what their forward does, and the model's own print with ``"assume": true`` (its
  children in print order: the classifier refuses the map its forward would flatten).
"""

from __future__ import annotations

import random
import sys
import types
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torchvision  # noqa: E402
from common import SEED, Chain, Layer, dump, rand_channels, rand_spatial  # noqa: E402
from families.corners import KeepBatch  # noqa: E402
from families.torch_makers import Call, random_chain, torch_class  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "tests" / "data" / "torch_prints.jsonl"
RANDOM_CASES = 400


class Ordered(nn.Module):
    """A model class of its own whose forward runs its children in order."""

    def __init__(self, children: list[tuple[str, nn.Module]]) -> None:
        super().__init__()
        for name, child in children:
            self.add_module(name, child)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for child in self.children():
            x = child(x)
        return x


CUSTOM = [type(name, (Ordered,), {}) for name in ("Stem", "Head", "Block", "Encoder")]


def build(call: Call) -> nn.Module:
    return torch_class(call.cls)(**call.given)


def nest(rng: random.Random, calls: list[Call], custom: bool, depth: int = 0) -> nn.Module:
    """The calls' modules in random nested containers, in order."""
    items: list[nn.Module | list[Call]] = []
    i = 0
    while i < len(calls):
        take = rng.randint(1, max(1, len(calls) - i))
        group = calls[i : i + take]
        i += take
        if depth < 2 and len(group) > 1 and rng.random() < 0.45:
            items.append(nest(rng, group, custom, depth + 1))
        else:
            items.extend(build(c) for c in group)
    kind = rng.choices(["seq", "named", "list", "custom"], [40, 25, 20, 15 if custom else 0])[0]
    names = [rng.choice(["conv", "block", "layer", "head", "stem", "fc", "act"]) for _ in items]
    names = [f"{n}{k}" if rng.random() < 0.7 else f"{n}_{k}" for k, n in enumerate(names)]
    if kind == "seq":
        return nn.Sequential(*items)  # type: ignore[arg-type]
    if kind == "named":
        return nn.Sequential(OrderedDict(zip(names, items)))  # type: ignore[arg-type]
    if kind == "list":
        return nn.ModuleList(items)  # type: ignore[arg-type]
    return rng.choice(CUSTOM)(list(zip(names, items)))  # type: ignore[arg-type]


def leaves(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if not list(m.children())]


def answer(model: nn.Module, shape: list[int]) -> dict[str, Any]:
    chain = Chain(shape)
    for leaf in leaves(model):
        chain.add(Layer("print", "", lambda leaf=leaf: KeepBatch(leaf)))
        if not chain.ok:
            break
    assert not chain.unstable
    return {"layers": chain.records, "error": chain.error}


def random_case(rng: random.Random) -> dict[str, Any] | None:
    n = rng.choice([0, 1, 2, 2, 2, 3])
    shape = [rand_channels(rng), *rand_spatial(rng, n, 16)] if n else [rng.randint(4, 32)]
    calls, chain = random_chain(rng, shape, rng.randint(2, 9), fail_rate=0.25, printed=True)
    if len(calls) < 2 or chain.unstable:
        return None
    # Runs of an identical shape-keeping module (ModuleList prints them folded).
    if rng.random() < 0.3:
        k = rng.randrange(len(calls))
        calls[k + 1 : k + 1] = [calls[k]] * rng.randint(1, 2)
    custom = rng.random() < 0.4
    model = nest(rng, calls, custom)
    text = repr(model)
    assume = any(type(m) in CUSTOM for m in model.modules())
    return {"print": text, "input": shape, "assume": assume, **answer(model, shape)}


def real_cases() -> list[dict[str, Any]]:
    out = []
    for name in ("alexnet", "vgg11", "vgg11_bn", "vgg16"):
        torch.manual_seed(0)
        m = getattr(torchvision.models, name)().eval()
        features_in = next(x for x in m.classifier if isinstance(x, nn.Linear)).in_features
        whole = nn.Sequential(m.features, m.avgpool, nn.Flatten(1), m.classifier)
        for model, shape, assume in (
            (m.features, [3, 224, 224], False),
            (m.classifier, [features_in], False),
            (whole, [3, 224, 224], False),
            # the model's own print, its children run in print order (--assume-sequential):
            # without the flatten its forward does, the classifier refuses the 256x6x6 map
            (m, [3, 224, 224], True),
        ):
            out.append(
                {"print": repr(model), "input": shape, "assume": assume, **answer(model, shape)}
            )
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    rows = real_cases()
    seen = set()
    while len(rows) < RANDOM_CASES + 16:
        case = random_case(rng)
        if case is None or case["print"] in seen:
            continue
        seen.add(case["print"])
        rows.append(case)
    with PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rows, 1):
            fh.write(dump({"id": f"p{i:04d}", **row}) + "\n")
    failed = sum(1 for r in rows if r["error"])
    assumed = sum(1 for r in rows if r["assume"])
    folded = sum(1 for r in rows if " x " in r["print"])
    print(f"wrote {len(rows)} prints to {PATH}: {failed} refused part-way, {assumed} with")
    print(f"model classes of their own (--assume-sequential), {folded} with folded runs")


if __name__ == "__main__":
    main()
