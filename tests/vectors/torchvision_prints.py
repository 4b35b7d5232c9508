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

``tests/data/torchvision_video_prints.jsonl.gz`` holds the same for Video Swin
(``VIDEO``: swin3d_t/s/b, 16 frames of the weights' crop).

It also writes ``tests/data/torchvision_print_variants.jsonl.gz``: the prints of models built
with other arguments than their weights' (``VARIANTS``: auxiliary heads on or off, other
widths, dilation, another input size), each run in eval mode on the meta device::

    {"name": …, "kwargs": {…}, "input": […], "print": repr(model), "params": …,
     "buffers": …, "output": the output's shape without the batch,
     "macs": FlopCounterMode's total / 2 (as tests/vectors/models.py counts),
     "aux": {head: its output's shape in train mode} (GoogLeNet's aux1 and aux2)}
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
VARIANTS_PATH = ROOT / "tests" / "data" / "torchvision_print_variants.jsonl.gz"
VIDEO_PATH = ROOT / "tests" / "data" / "torchvision_video_prints.jsonl.gz"
VIDEO = ("swin3d_t", "swin3d_s", "swin3d_b")

# (name, builder arguments, input size or shape): models built otherwise than their
# weights build them, so that a print's forward is checked against PyTorch itself.
VARIANTS: list[tuple[str, dict[str, Any], int | list[int]]] = [
    ("googlenet", {"aux_logits": True, "init_weights": False}, 224),
    ("inception_v3", {"aux_logits": False, "init_weights": False}, 299),
    ("vit_b_16", {"image_size": 384}, 384),
    ("mobilenet_v3_large", {"reduced_tail": True, "dilated": True, "num_classes": 10}, 160),
    ("mobilenet_v2", {"width_mult": 0.5}, 160),
    ("efficientnet_b0", {"num_classes": 10}, 256),
    ("efficientnet_v2_s", {}, 256),
    ("regnet_y_400mf", {}, 160),
    ("shufflenet_v2_x1_0", {"num_classes": 10}, 192),
    ("densenet121", {"memory_efficient": True}, 160),
    ("convnext_tiny", {}, 160),
    ("squeezenet1_1", {}, 227),
    ("mnasnet0_5", {}, 192),
    # Swin: no stochastic depth (every StochasticDepth at p=0), other
    # sizes (windows larger than the last stages' maps); MaxViT built for 448×448
    # (a class name: its constructor, for arguments swin_t's builder fixes)
    (
        "SwinTransformer",
        {
            **{"patch_size": [4, 4], "embed_dim": 96, "depths": [2, 2, 6, 2]},
            **{"num_heads": [3, 6, 12, 24], "window_size": [7, 7]},
            **{"stochastic_depth_prob": 0.0, "num_classes": 10},
        },
        224,
    ),
    ("swin_s", {}, 192),
    ("swin_v2_t", {}, 224),
    ("maxvit_t", {"input_size": [448, 448]}, 448),
    ("swin3d_t", {}, [3, 8, 112, 112]),
]


def record(name: str, frames: list[int] | None = None) -> dict[str, Any]:
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
        "input": [3, *(frames or []), size, size],
        "print": repr(model),
        "params": params,
        "buffers": sum(b.numel() for b in model.buffers()),
        "num_params": weights.meta["num_params"],
    }


def variant(name: str, kwargs: dict[str, Any], size: int | list[int]) -> dict[str, Any]:
    dims = [3, size, size] if isinstance(size, int) else size
    with torch.device("meta"):
        if name[0].isupper():
            model = getattr(torchvision.models, name)(**kwargs)
        else:
            model = get_model(name, weights=None, **kwargs)
        x = torch.zeros(1, *dims)
    models.force_need_weights(model)
    model.eval()
    with torch.no_grad():
        out = model(x)
        macs = models.flops_of(lambda: model(x)) // 2
    aux = {}
    if name == "googlenet" and kwargs.get("aux_logits"):
        model.train()
        with torch.no_grad():
            train = model(x)
        aux = {"aux1": models.shape(train.aux_logits1), "aux2": models.shape(train.aux_logits2)}
    return {
        "name": name,
        "kwargs": kwargs,
        "input": dims,
        "print": repr(model),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
        "output": models.shape(out),
        "macs": macs,
        "aux": aux,
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
    with VIDEO_PATH.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for name in VIDEO:
            row = record(name, [models.FRAMES])
            fh.write((json.dumps(row, sort_keys=True) + "\n").encode())
    print(f"{len(VIDEO)} prints -> {VIDEO_PATH.relative_to(ROOT)}", file=sys.stderr)
    torch.backends.mha.set_fastpath_enabled(False)  # as models.py: attention's bmm's counted
    with VARIANTS_PATH.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for name, kwargs, size in VARIANTS:
            fh.write((json.dumps(variant(name, kwargs, size), sort_keys=True) + "\n").encode())
    print(f"{len(VARIANTS)} variants -> {VARIANTS_PATH.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
