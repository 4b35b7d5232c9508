"""``print(model)`` of every torchvision classification model, with PyTorch's counts
(issue 17: ``--from-torch`` gives any print's parameters; the blocks map to graphs).

Re-run (deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch-and-torchvision/bin/python tests/vectors/torchvision_prints.py

Written against torch 2.13.0 (CPU) and torchvision 0.28.0, Python model definitions only
(its compiled ops are stubbed as tests/vectors/models.py does; no weights are downloaded;
every model is built on the meta device). Each model is built as its weights' builder
builds it (``num_classes`` of the weights, ``aux_logits=False`` for googlenet — the
published figure is without its auxiliary heads —, ``aux_logits=True`` for inception_v3,
``image_size`` of ViT's weights). It writes ``tests/data/torchvision_prints.jsonl.gz``, one
JSON object per line (sorted keys), in ``torchvision.models.list_models`` order::

    {"name": "resnet18", "input": [3, 224, 224], "print": repr(model),
     "params": …, "buffers": …, "num_params": the weights' meta "num_params"}

``params`` = ``sum(p.numel() for p in model.parameters())`` (asserted equal to
``num_params``), ``buffers`` likewise over ``model.buffers()``.
"""

from __future__ import annotations

import gzip
import json
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import torch

sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import models  # noqa: E402  (RegNet's design arithmetic on the CPU)
import torchvision  # noqa: E402
from torchvision.models import get_model, get_model_weights, list_models  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "tests" / "data" / "torchvision_prints.jsonl.gz"


def record(name: str) -> dict[str, Any]:
    weights = get_model_weights(name).DEFAULT
    kwargs: dict[str, Any] = {"num_classes": len(weights.meta["categories"])}
    kwargs.update(models.BUILDER_KWARGS.get(name, {}))
    if name.startswith("vit_"):
        kwargs["image_size"] = weights.meta["min_size"][0]
    crop = weights.transforms().crop_size
    size = crop[0] if isinstance(crop, list | tuple) else crop
    with torch.device("meta"):
        model = get_model(name, weights=None, **kwargs)
    params = sum(p.numel() for p in model.parameters())
    assert params == weights.meta["num_params"], (name, params)
    return {
        "name": name,
        "input": [3, size, size],
        "print": repr(model),
        "params": params,
        "buffers": sum(b.numel() for b in model.buffers()),
        "num_params": weights.meta["num_params"],
    }


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    assert torchvision.__version__.startswith("0.28."), torchvision.__version__
    warnings.filterwarnings("ignore")
    names = list_models(module=torchvision.models)
    assert len(names) == 80, len(names)
    rows = [record(n) for n in names]
    with PATH.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for row in rows:
            fh.write((json.dumps(row, sort_keys=True) + "\n").encode())
    print(f"{len(rows)} prints -> {PATH.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
