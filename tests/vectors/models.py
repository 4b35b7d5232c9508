"""Record whole networks as PyTorch runs them: torchvision's model zoo, the 2015 U-Net, LeNet-5.

The built-in model specs (issue 6) are checked against this file layer by layer. Re-run
(deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch-and-torchvision/bin/python tests/vectors/models.py

Written against torch 2.13.0 (CPU) and torchvision 0.28.0. Only torchvision's Python model
definitions are used (its compiled ops need not load); no weights are downloaded, and every
model is built and run on the meta device (shapes and counts need no values; the 21 models
recorded on the CPU before gave the same records, byte for byte). It writes
``tests/data/torch_models.jsonl``, one JSON object per line (sorted keys), in
``TORCHVISION_MODELS`` order (every ImageNet classifier of torchvision's zoo), then the two
hand-built models, then ``SEGMENTATION_MODELS`` (at 520×520, the size their weights'
``transforms()`` resize a square image to), ``VIDEO_MODELS`` (3×16×H×W: 16 frames, at the
weights' crop size) and ``DETECTION_MODELS`` (COCO_V1 weights; their backbone and heads at
the size the model's own transform makes of torchvision's 3×512×512 image: see
``detection_record``; their ``outputs`` are the heads' dict and ``returns`` its keys in order;
``builder_kwargs`` names the weights they were built for, the loading of whose state dict
alone is skipped), then ``OPTICAL_FLOW_MODELS`` (RAFT on one pair of 3×512×512 images given
as one 6-channel input, returning its 12 flows: see ``flow_record``):

* ``name``; ``source``: ``"torchvision"`` or ``"hand"`` (built in this script);
  ``builder_kwargs``: the keyword arguments the model class was constructed with — for
  torchvision exactly those its builder sets when it loads the published weights
  (``weights`` names that enum member, the builder's ``DEFAULT``), e.g. googlenet
  ``aux_logits=False, init_weights=False, transform_input=True``;
* ``input`` / ``output``: shapes without the batch (PyTorch ran batch 1, eval mode, no_grad;
  a segmentation model's ``output`` is its ``"out"``, and ``outputs`` — only in their rows —
  has every entry of the dict it returns: ``{"out", "aux"}``, ``aux`` where the builder adds
  the auxiliary classifier);
  ``input`` is the size torchvision's published figures were measured at (the weights'
  ``transforms().crop_size``: 224, inception_v3 299, efficientnet_b1…b7 240…600,
  efficientnet_v2_s 384, _m and _l 480, regnet_y_128gf 384, vit_h_14 518, swin_v2_* 256;
  video models: 16 frames of 224×224);
* ``params`` = ``sum(p.numel() for p in model.parameters())``; ``buffers`` = the same over
  ``model.buffers()``, of which ``int64_buffers`` are int64 (BatchNorm's num_batches_tracked);
* ``macs`` = ``FlopCounterMode`` total / 2 of the eval forward, run with every
  ``nn.MultiheadAttention`` forced to ``need_weights=True`` (a forward pre-hook) and
  PyTorch's MHA fast path disabled (``torch.backends.mha.set_fastpath_enabled(False)``), so
  that the counter sees attention's QKᵀ and AV matmuls, which CPU's fused kernels hide from
  it (with the fast path, vit_b_16 counts 11.271 G in eval mode instead of 17.564);
* ``published``: ``{"num_params", "gflops"}`` from the weights' meta (``num_params``, ``_ops``),
  ``null`` for the hand-built models. The script asserts ``params == num_params`` and
  ``round(macs / 1e9, 3) == gflops`` for every torchvision model;
* ``layers``: every call, in execution order (forward hooks), of a module of the types in
  ``RECORDED`` (conv, transposed conv, linear, batch/layer/group norm, multi-head attention,
  torchvision's Swin window attention (v1, v2 and 3-d), MaxViT's relative-position attention,
  Swin's patch merging (v1 and v2) and MViT's MultiscaleAttention; modules inside one of them
  are not recorded separately):
  ``{"type": class name (the video ResNets' Conv3DSimple and Conv3DNoTemporal: Conv3d, the
  nn class they subclass), "output": shape without batch, "params": the module's own
  parameters (recursively), "buffers": likewise, "macs": FlopCounterMode / 2 of that call
  alone}``. The call's MACs come from re-running the module on the hooked input inside its
  own counter (a guard keeps the re-run from being recorded again). ``sum(layers.macs)``
  equals ``macs`` for every model here (asserted);
* ``extra_params``: learnable parameters that live outside recorded modules (ViT's
  class_token and pos_embedding, ConvNeXt's layer_scale, MViT's pos_encoding),
  ``[{"name", "shape", "numel"}]`` in
  registration order;
* ``side_layers`` / ``side``: inception_v3's auxiliary head (``AuxLogits``). Its parameters
  are in ``params``, but eval mode does not run it, so its MACs are not in ``macs``.
  ``side_layers`` has its recorded layers in registration order (same record as ``layers``)
  from running the head (eval mode) on the tensor it receives in train mode (Mixed_6e's
  output); ``side`` = ``{"module", "input", "output", "params", "buffers", "macs"}``.
  ``[]`` / ``null`` for every other model;
* ``unrecorded_macs`` (RAFT's only): MACs of the forward outside recorded modules, the
  correlation volume's matmul (counted alone); ``sum(layers.macs)`` plus it is ``macs``.

Consistency asserted per model: the parameters of the recorded modules that ran, plus
``extra_params``, plus the side head's, are all of ``params``.
"""

from __future__ import annotations

import json
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# torchvision's compiled ops do not load on this CPU build; only its Python model
# definitions are needed, and they do not touch the meta registrations.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
import torchvision  # noqa: E402
from torchvision.models import get_model, get_model_weights  # noqa: E402
from torchvision.models._api import WeightsEnum  # noqa: E402
from torchvision.models.maxvit import RelativePositionalMultiHeadAttention  # noqa: E402
from torchvision.models.regnet import BlockParams  # noqa: E402
from torchvision.models.swin_transformer import (  # noqa: E402
    PatchMerging,
    PatchMergingV2,
    ShiftedWindowAttention,
)
from torchvision.models.video.mvit import MultiscaleAttention  # noqa: E402
from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d  # noqa: E402
from torchvision.ops.misc import FrozenBatchNorm2d  # noqa: E402

SEED = 20250607
# Shapes and counts need no values: every model is built and run on the meta device
# (vit_h_14 at 518 would take minutes on a CPU).
DEVICE = "meta"
ROOT = Path(__file__).resolve().parents[2]
OUT_PATH = ROOT / "tests" / "data" / "torch_models.jsonl"


def _design_on_cpu(make: Callable[..., Any]) -> Callable[..., Any]:
    """RegNet computes its design (widths, depths) with tensors, whose values the meta
    device does not have: that arithmetic runs on the CPU."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return make(*args, **kwargs)

    return wrapper


BlockParams.from_init_params = _design_on_cpu(BlockParams.from_init_params)  # type: ignore[method-assign]

RECORDED: tuple[type[nn.Module], ...] = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.MultiheadAttention,
    # torchvision's attention modules call F.linear with their projections' weights (Swin)
    # or hold their projections and the attention matmuls (MaxViT): each is one record,
    # as nn.MultiheadAttention is. ShiftedWindowAttentionV2 subclasses ShiftedWindowAttention.
    ShiftedWindowAttention,
    ShiftedWindowAttention3d,
    RelativePositionalMultiHeadAttention,
    # Swin's patch merging: a LayerNorm and a Linear around a 2×2 gather, one record.
    PatchMerging,
    PatchMergingV2,
    # MViT's pooling attention, one layer as convcalc's multiscaleattention is: its QKᵀ, AV
    # and relative-position products are bmm calls of its own forward, in no module within.
    MultiscaleAttention,
    # The detectors' backbones when their builders are given weights: buffers only.
    FrozenBatchNorm2d,
)

# Families together, the 19 first built in first within each.
TORCHVISION_MODELS = (
    "alexnet",
    *("vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"),
    *("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
    *("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"),
    *("wide_resnet50_2", "wide_resnet101_2"),
    *("densenet121", "densenet161", "densenet169", "densenet201"),
    "googlenet",
    "inception_v3",
    *("squeezenet1_0", "squeezenet1_1"),
    *("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"),
    "mobilenet_v2",
    *("mobilenet_v3_large", "mobilenet_v3_small"),
    *("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"),
    *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    *(f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    "regnet_y_128gf",
    *(f"efficientnet_b{i}" for i in range(8)),
    *("efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"),
    *("convnext_tiny", "convnext_small", "convnext_base", "convnext_large"),
    *("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"),
    *("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"),
    "maxvit_t",
    # video (Kinetics-400), 16 frames
    *("swin3d_t", "swin3d_s", "swin3d_b"),
)

# Recorded after the hand-built models: semantic segmentation (COCO with VOC's 21 labels,
# 520×520) and video classification (Kinetics-400, 16 frames).
SEGMENTATION_MODELS = (
    *("fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101"),
    *("deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"),
)
# mvit_v1_b's and mvit_v2_s's figures are FlopCounterMode's too (70.599, 64.224): their
# attention is MultiscaleAttention's own matmuls, which the counter sees as bmm calls, so
# that module is recorded as one layer (RECORDED); the modules inside it are not.
VIDEO_MODELS = ("r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v1_b", "mvit_v2_s")
FRAMES = 16  # video weights' figures are for 16-frame clips
# Object detection (COCO_V1 weights), recorded last: see detection_record.
DETECTION_MODELS = (
    *("retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2", "fcos_resnet50_fpn"),
    *("ssd300_vgg16", "ssdlite320_mobilenet_v3_large"),
)
DETECTION_SIDE = 512  # test/common_extended_utils.py's get_ops feeds one 3×512×512 image
# Optical flow, recorded after the detectors: see flow_record.
OPTICAL_FLOW_MODELS = ("raft_small", "raft_large")
FLOW_SIDE = 512  # get_ops feeds RAFT one pair of 3×512×512 images, unresized

# What each builder in torchvision/models/*.py adds to kwargs when `weights` is given, besides
# num_classes = len(meta["categories"]) (set for all below):
# * googlenet: transform_input=True (unless given), aux_logits=True, init_weights=False; after
#   loading the state dict it drops the aux heads (aux1 = aux2 = None) unless the caller asked
#   for aux_logits=True. Constructing with aux_logits=False yields the same modules.
# * inception_v3: transform_input=True, aux_logits=True, init_weights=False; AuxLogits is kept
#   (the caller's default is aux_logits=True).
# * vgg*: init_weights=False.
# * vit_*: image_size = meta["min_size"][0] (224 for IMAGENET1K_V1, 518 for vit_h_14's
#   default IMAGENET1K_SWAG_E2E_V1).
# * maxvit_t: input_size = meta["min_size"] (224, 224): the grid its attention is built for.
# The others only set num_classes. transform_input is an elementwise rescale of the three
# channels (no parameters, no MACs); init_weights only changes the initial values.
BUILDER_KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False, "transform_input": True},
    "inception_v3": {"aux_logits": True, "init_weights": False, "transform_input": True},
}
BUILDER_KWARGS.update({n: {"init_weights": False} for n in TORCHVISION_MODELS if n[:3] == "vgg"})
# Segmentation builders given weights set weights_backbone=None (no ImageNet backbone is
# loaded under them), and fcn_* and deeplabv3_* aux_loss=True: an auxiliary classifier on
# layer3's output (the MobileNet's stage of stride 8), which eval mode runs too: its
# parameters and MACs are in the published figures.
BUILDER_KWARGS.update(
    {n: {"weights_backbone": None, "aux_loss": True} for n in SEGMENTATION_MODELS}
)
BUILDER_KWARGS["lraspp_mobilenet_v3_large"] = {"weights_backbone": None}
BUILDER_KWARGS["maxvit_t"] = {"input_size": [224, 224]}


def shape(t: torch.Tensor) -> list[int]:
    """A tensor's shape without the batch dimension."""
    return list(t.shape[1:])


def count(tensors: Any) -> int:
    return sum(t.numel() for t in tensors)


def force_need_weights(model: nn.Module) -> None:
    """Make every MultiheadAttention call take the unfused path, whose bmm's the counter sees."""

    def pre_hook(
        _m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return args, {**kwargs, "need_weights": True}

    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            m.register_forward_pre_hook(pre_hook, with_kwargs=True)


def flops_of(fn: Callable[[], Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    return int(flops)


def recorded_modules(model: nn.Module) -> list[nn.Module]:
    """Modules of the RECORDED types, not nested inside another recorded module."""
    found: list[nn.Module] = []

    def walk(m: nn.Module) -> None:
        for child in m.children():
            if isinstance(child, RECORDED):
                found.append(child)
            else:
                walk(child)

    walk(model)
    return found


def type_name(m: nn.Module) -> str:
    """The module's class name; for the video ResNets' convolution builders (Conv3DSimple,
    Conv3DNoTemporal: nn.Conv3d with their own names) the torch.nn class they are."""
    if type(m).__module__ == "torchvision.models.video.resnet":
        return next(c.__name__ for c in type(m).__mro__ if c in RECORDED)
    return type(m).__name__


class LayerRecorder:
    """Forward hooks that log each recorded call with the MACs of that call alone."""

    def __init__(self, modules: list[nn.Module]) -> None:
        self.calls: list[dict[str, Any]] = []
        self.called: dict[int, nn.Module] = {}
        self.handles = [m.register_forward_hook(self.hook, with_kwargs=True) for m in modules]
        self.busy = False

    def hook(self, m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        if self.busy:  # the re-run below
            return
        self.busy = True
        try:
            flops = flops_of(lambda: m(*args, **kwargs))
        finally:
            self.busy = False
        main = out[0] if isinstance(out, tuple) else out  # MHA: (attn_output, attn_weights)
        self.called[id(m)] = m
        self.calls.append(
            {
                "type": type_name(m),
                "output": shape(main),
                "params": count(m.parameters()),
                "buffers": count(m.buffers()),
                "macs": flops // 2,
            }
        )

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


# --------------------------------------------------------------------------- hand-built models


def double_conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3), nn.ReLU(), nn.Conv2d(cout, cout, 3), nn.ReLU()]


def centre_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    h, w = like.shape[-2:]
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    assert top >= 0 and left >= 0
    return x[..., top : top + h, left : left + w]


class UNet(nn.Module):
    """Ronneberger et al. 2015: valid 3x3 convs, 2x2 max pools, 2x2 up-convolutions halving
    the channels, crop-and-concat [cropped skip, upsampled], 1x1 conv to 2 classes."""

    def __init__(self, channels: tuple[int, ...] = (64, 128, 256, 512, 1024), classes: int = 2):
        super().__init__()
        self.down = nn.ModuleList()
        cin = 1
        for c in channels:
            self.down.append(nn.Sequential(*double_conv(cin, c)))
            cin = c
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.upconv = nn.ModuleList()
        for c in reversed(channels[:-1]):
            self.upconv.append(nn.ConvTranspose2d(cin, c, 2, stride=2))
            self.up.append(nn.Sequential(*double_conv(2 * c, c)))
            cin = c
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, stage in enumerate(self.down):
            if i:
                x = self.pool(x)
            x = stage(x)
            skips.append(x)
        skips.pop()
        for upconv, stage in zip(self.upconv, self.up, strict=True):
            up = upconv(x)
            x = stage(torch.cat([centre_crop(skips.pop(), up), up], 1))
        return self.head(x)


def lenet5() -> nn.Module:
    """examples/lenet5.spec."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
    )


# --------------------------------------------------------------------------- recording


def record(
    name: str,
    model: nn.Module,
    input_shape: list[int],
    source: str,
    kwargs: dict[str, Any],
    weights: Any = None,
    unrecorded_macs: int = 0,
) -> dict[str, Any]:
    model.eval()
    force_need_weights(model)
    x = torch.randn(1, *input_shape, device=DEVICE)
    with torch.no_grad():
        y = model(x)
        outputs = None
        returns = None
        if isinstance(y, dict):  # segmentation: {"out": …, "aux": …}; detection's heads
            outputs = {k: shape(v) for k, v in y.items()}
            returns = list(y)
            y = y[returns[0]]
        macs = flops_of(lambda: model(x)) // 2

        recorder = LayerRecorder(recorded_modules(model))
        y2 = model(x)
        recorder.remove()
    if isinstance(y2, dict):
        y2 = next(iter(y2.values()))
    assert y2.shape == y.shape

    side_layers: list[dict[str, Any]] = []
    side: dict[str, Any] | None = None
    side_params = 0
    aux = getattr(model, "AuxLogits", None)
    if aux is not None:
        side, side_layers = record_side(model, aux, x)
        side_params = side["params"]

    inside = {id(p) for m in recorder.called.values() for p in m.parameters()}
    extra = [
        {"name": n, "shape": list(p.shape), "numel": p.numel()}
        for n, p in model.named_parameters()
        if id(p) not in inside and not (aux is not None and n.startswith("AuxLogits."))
    ]
    params = count(model.parameters())
    assert (
        count(p for m in recorder.called.values() for p in m.parameters())
        + sum(e["numel"] for e in extra)
        + side_params
        == params
    ), name
    layer_macs = sum(c["macs"] for c in recorder.calls)
    assert layer_macs + unrecorded_macs == macs, (name, layer_macs, unrecorded_macs, macs)

    published = None
    if weights is not None:
        published = {"num_params": weights.meta["num_params"], "gflops": weights.meta["_ops"]}
        assert params == published["num_params"], (name, params, published)
        assert round(macs / 1e9, 3) == published["gflops"], (name, macs, published)

    row = {
        "name": name,
        "source": source,
        "weights": None if weights is None else f"{type(weights).__name__}.{weights.name}",
        "builder_kwargs": kwargs,
        "input": input_shape,
        "output": shape(y),
        "params": params,
        "buffers": count(model.buffers()),
        "int64_buffers": count(b for b in model.buffers() if b.dtype == torch.int64),
        "macs": macs,
        "published": published,
        "layers": recorder.calls,
        "extra_params": extra,
        "side_layers": side_layers,
        "side": side,
    }
    if unrecorded_macs:
        row["unrecorded_macs"] = unrecorded_macs
    if outputs is not None:
        row["outputs"] = outputs
        if returns != ["out", "aux"][: len(returns or [])]:
            row["returns"] = returns  # the dict's keys in order (JSON's are sorted)
    return row


def record_side(
    model: nn.Module, aux: nn.Module, x: torch.Tensor
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """inception_v3's AuxLogits, run on what it receives in train mode (Mixed_6e's output)."""
    feed: list[torch.Tensor] = []
    handle = model.Mixed_6e.register_forward_hook(lambda _m, _a, out: feed.append(out))
    with torch.no_grad():
        model(x)
    handle.remove()
    (aux_in,) = feed
    modules = recorded_modules(aux)
    recorder = LayerRecorder(modules)
    with torch.no_grad():
        aux_out = aux(aux_in)
        recorder.remove()
        macs = flops_of(lambda: aux(aux_in)) // 2
    # registration order == execution order for this head; checked, so either reading holds
    assert [id(m) for m in modules] == list(recorder.called), "AuxLogits order"
    side = {
        "module": "AuxLogits",
        "input": shape(aux_in),
        "output": shape(aux_out),
        "params": count(aux.parameters()),
        "buffers": count(aux.buffers()),
        "macs": macs,
    }
    return side, recorder.calls


def builder_kwargs(name: str, weights: Any) -> dict[str, Any]:
    """The keyword arguments `name`'s builder constructs its model with when given `weights`
    (see BUILDER_KWARGS; num_classes only where the weights name their categories, which
    vgg16's IMAGENET1K_FEATURES do not)."""
    kwargs: dict[str, Any] = {}
    if weights.meta["categories"] is not None:
        kwargs["num_classes"] = len(weights.meta["categories"])
    kwargs.update(BUILDER_KWARGS.get(name, {}))
    if name.startswith("vit_"):
        kwargs["image_size"] = weights.meta["min_size"][0]
    return kwargs


def torchvision_record(name: str, weights: Any = None) -> dict[str, Any]:
    """`name` built as its builder builds it for `weights` (its DEFAULT unless given), run at
    the size the weights' transforms() make."""
    if weights is None:
        weights = get_model_weights(name).DEFAULT
    kwargs = builder_kwargs(name, weights)
    transforms = weights.transforms()
    if name in SEGMENTATION_MODELS:  # SemanticSegmentation(resize_size=520): a square stays square
        (size,) = transforms.resize_size
    else:
        crop = transforms.crop_size
        size = crop[0] if isinstance(crop, list | tuple) else crop
    frames = [FRAMES] if ".video." in type(weights).__module__ else []  # r3d_18…, swin3d_*
    with torch.device(DEVICE):
        model = get_model(name, weights=None, **kwargs)
    return record(name, model, [3, *frames, size, size], "torchvision", kwargs, weights)


class DetectorNetwork(nn.Module):
    """A detector's backbone (with its FPN or extra layers) and its heads: every
    parameter, and every convolution torchvision's counter sees (the rest of the model —
    the transform's normalize and resize, anchors, box decoding, top-k and NMS — has no
    parameters and runs no convolution or matrix product). Returns the heads' dict."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        return self.head(list(features.values()))


def build_with_weights(name: str, weights: Any) -> nn.Module:
    """`name` exactly as its builder builds it for `weights` (FrozenBatchNorm2d in the
    backbone, frozen layers, the weights' classes), on the meta device, without
    downloading them: only the state-dict loading is skipped."""
    original = WeightsEnum.get_state_dict, nn.Module.load_state_dict
    WeightsEnum.get_state_dict = lambda *_a, **_k: {}  # type: ignore[method-assign]
    nn.Module.load_state_dict = lambda *_a, **_k: None  # type: ignore[method-assign,assignment]
    try:
        with torch.device(DEVICE):
            return get_model(name, weights=weights)
    finally:
        WeightsEnum.get_state_dict, nn.Module.load_state_dict = original  # type: ignore[method-assign]


def detection_record(name: str) -> dict[str, Any]:
    """A detector's backbone and heads (DetectorNetwork) at the size its own transform
    (GeneralizedRCNNTransform) resizes torchvision's 3×512×512 image to: SSD300 300×300,
    SSDLite 320×320, RetinaNet and FCOS 800×800 (min_size 800, max_size 1333)."""
    weights = get_model_weights(name).DEFAULT
    model = build_with_weights(name, weights).eval()
    image = weights.transforms()(torch.zeros(3, DETECTION_SIDE, DETECTION_SIDE, device=DEVICE))
    images, _ = model.transform([image])
    size = shape(images.tensors)
    network = DetectorNetwork(model)
    assert count(network.parameters()) == count(model.parameters()), name
    assert count(network.buffers()) == count(model.buffers()), name
    kwargs = {"weights": f"{type(weights).__name__}.{weights.name}", "input_size": size}
    row = record(name, network, size, "torchvision", kwargs, weights)
    # The builder freezes the backbone's first layers (trainable_backbone_layers).
    row["trainable"] = count(p for p in network.parameters() if p.requires_grad)
    return row


class PerImage(nn.Module):
    """RAFT's feature encoder, which RAFT runs once on torch.cat([image1, image2], dim=0),
    run on each image in turn: the same modules and weights, and (instance norm and eval
    mode's batch norm being per image) the same result and MACs, recorded as two calls per
    layer, in the order of a spec that applies the encoder to image1 and then again
    (``use``) to image2."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.encoder(image) for image in x.chunk(2, dim=0)])


class FlowNetwork(nn.Module):
    """RAFT given its image pair as one 6-channel tensor (image1's channels, then image2's:
    a spec has one input, which it splits), returning the flow predictions of its default
    12 updates as a dict, ``flow1`` … ``flow12`` in order (a spec's ``return``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        image1, image2 = x.split(3, dim=1)
        flows = self.model(image1, image2)
        return {f"flow{i + 1}": flow for i, flow in enumerate(flows)}


def flow_record(name: str) -> dict[str, Any]:
    """RAFT as test/common_extended_utils.py's get_ops measures it: the whole model (eval
    mode, the default 12 flow updates) on one pair of 3×512×512 images, which its
    transforms do not resize. Its counter's MACs are the convolutions' and the correlation
    volume's one matmul (a bmm); grid_sample, the pooling of the correlation pyramid and the
    flow's upsampling count none. Asserted: the per-image encoder (PerImage) changes neither
    the MACs nor the output."""
    weights = get_model_weights(name).DEFAULT
    model = build_with_weights(name, weights).eval()
    network = FlowNetwork(model)
    x = torch.randn(1, 6, FLOW_SIDE, FLOW_SIDE, device=DEVICE)
    with torch.no_grad():
        whole = flops_of(lambda: network(x)) // 2
        y = network(x)
    model.feature_encoder = PerImage(model.feature_encoder)
    with torch.no_grad():
        assert flops_of(lambda: network(x)) // 2 == whole, name
        assert network(x).keys() == y.keys(), name
    # The correlation volume's matmul, in no module: counted on its own.
    fmap = model.feature_encoder.encoder(x[:, :3])
    corr = flops_of(lambda: model.corr_block.build_pyramid(fmap, fmap)) // 2
    kwargs = {"weights": f"{type(weights).__name__}.{weights.name}"}
    size = [6, FLOW_SIDE, FLOW_SIDE]
    return record(name, network, size, "torchvision", kwargs, weights, unrecorded_macs=corr)


def main() -> None:
    assert torch.__version__.startswith("2.13."), torch.__version__
    assert torchvision.__version__.startswith("0.28."), torchvision.__version__
    torch.manual_seed(SEED)
    torch.set_grad_enabled(False)
    # The fused fast path (taken in eval mode even with need_weights=True) is one opaque op
    # to FlopCounterMode; the unfused path shows the projections and both attention bmm's.
    torch.backends.mha.set_fastpath_enabled(False)
    start = time.perf_counter()
    rows = []
    for name in TORCHVISION_MODELS:
        t = time.perf_counter()
        rows.append(torchvision_record(name))
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    with torch.device(DEVICE):
        hand = [("unet", UNet(), [1, 572, 572]), ("lenet5", lenet5(), [1, 32, 32])]
    rows += [record(name, model, size, "hand", {}) for name, model, size in hand]
    assert rows[-2]["output"] == [2, 388, 388], rows[-2]["output"]
    assert rows[-1]["output"] == [10], rows[-1]["output"]
    for name in (*SEGMENTATION_MODELS, *VIDEO_MODELS, *DETECTION_MODELS):
        t = time.perf_counter()
        detector = name in DETECTION_MODELS
        rows.append(detection_record(name) if detector else torchvision_record(name))
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    for name in OPTICAL_FLOW_MODELS:
        t = time.perf_counter()
        rows.append(flow_record(name))
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    print(
        f"{len(rows)} models -> {OUT_PATH.relative_to(ROOT)} in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
