"""Record the published weights that are not a model's default: the same network at another size.

A built-in model's input is the size of torchvision's DEFAULT weights; ``-i`` runs it at any
other. This script finds every other weights enum member of the built-in torchvision models
(``get_model_weights(name)``, the names in tests/vectors/models.py, which
tests/network/test_zoo.py checks are the built-in models) and records the network its
builder builds for those weights, at the size their ``transforms()`` make. Re-run
(deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch-and-torchvision/bin/python tests/vectors/model_weights.py

Each member is asserted to differ from its DEFAULT only through the input size: the builder
is given the same keyword arguments, except ViT's ``image_size`` (``meta["min_size"]``, its
position embedding's grid), which is asserted to equal the size it is run at. Building,
running and counting are tests/vectors/models.py's ``torchvision_record`` (meta device,
``FlopCounterMode`` / 2 with attention's matmuls visible), which asserts
``params == meta["num_params"]`` and ``round(macs / 1e9, 3) == meta["_ops"]``.

It writes ``tests/data/torch_model_weights.jsonl``, one JSON object per line (sorted keys), in
the models' order, then the enum's: ``model``; ``weights`` (``"ViT_B_16_Weights.
IMAGENET1K_SWAG_E2E_V1"``); ``builder_kwargs``; ``input`` / ``output`` (shapes without the
batch); ``params``; ``macs``; ``published`` (``{"num_params", "gflops"}`` from the meta).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import models  # tests/vectors/models.py: its torchvision stubs and its recording
import torch
from torchvision.models import get_model_weights

OUT_PATH = models.ROOT / "tests" / "data" / "torch_model_weights.jsonl"
# The builder's arguments a weights member may change: they follow the input size.
SIZE_KWARGS = {"image_size"}


def variant_row(name: str, weights: Any) -> dict[str, Any]:
    default = get_model_weights(name).DEFAULT
    kwargs = models.builder_kwargs(name, weights)
    base = models.builder_kwargs(name, default)
    if default.meta["categories"] is not None and weights.meta["categories"] is None:
        base.pop("num_classes")  # vgg16's FEATURES: the model's own default, 1000
        assert len(default.meta["categories"]) == 1000, name
    changed = {k for k in kwargs.keys() | base.keys() if kwargs.get(k) != base.get(k)}
    assert changed <= SIZE_KWARGS, (name, weights, changed)
    row = models.torchvision_record(name, weights)
    if "image_size" in kwargs:
        assert row["input"][-1] == kwargs["image_size"], (name, weights, row["input"])
    return {
        "model": name,
        "weights": row["weights"],
        "builder_kwargs": row["builder_kwargs"],
        "input": row["input"],
        "output": row["output"],
        "params": row["params"],
        "macs": row["macs"],
        "published": row["published"],
    }


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    torch.manual_seed(models.SEED)
    torch.set_grad_enabled(False)
    torch.backends.mha.set_fastpath_enabled(False)  # as models.py: attention's bmm's counted
    start = time.perf_counter()
    rows = []
    names = (*models.TORCHVISION_MODELS, *models.SEGMENTATION_MODELS, *models.VIDEO_MODELS)
    for name in names:
        enum = get_model_weights(name)
        for weights in enum:
            if weights is enum.DEFAULT:
                continue
            t = time.perf_counter()
            rows.append(variant_row(name, weights))
            print(f"{rows[-1]['weights']}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    print(
        f"{len(rows)} weights -> {OUT_PATH.relative_to(models.ROOT)} "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
