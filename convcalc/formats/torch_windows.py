"""torchvision's windowed-attention classifiers as graphs, for reading their prints
(formats/torch_print.py, through formats/torch_blocks.py's FORWARDS): the Swin
Transformer (v1, v2 and Video Swin) and MaxViT. Each forward is written from
torchvision's forward() and gives the rows of the built-in model's spec
(convcalc/models/swin*.spec, maxvit_t.spec; blocks/swin.spec, blocks/maxvit.spec).

What their prints do not show is taken at torchvision's builders' values, as the
parameter count (formats/torch_count.py) takes it:

- Swin's windows: 7×7 (swin_t/s/b), 8×8 with the continuous position bias MLP
  (swin_v2_t/s/b), 8×7×7 (swin3d_t/s/b); the cyclic shift half the window on odd blocks
  of a stage (its index in the stage's Sequential), none on even ones or on a block
  printed alone. Heads of 32 channels (v1 and Video Swin; v2's print shows its heads,
  the outputs of its cpb_mlp). Video Swin's patch embedding pads the input to multiples
  of its 2×4×4 patches, which the mapping does not: it takes an input that already is.
- MaxViT's partitions of 7×7 and heads of 32 channels. Its attention partitions a grid
  fixed when the model is built (from ``input_size``): the mapping takes it from the
  print's input (-i), through the stem's and each block's 3×3 stride-2 convolutions
  (224×224 when no input is given, maxvit_t's). A block, layer or attention layer
  printed alone needs the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from convcalc.errors import SpecError
from convcalc.formats.torch_tree import Context, Module, Steps

__all__ = [
    "HEAD_DIM",
    "MAXVIT_PARTITION",
    "SWIN3D_WINDOW",
    "SWIN_V2_WINDOW",
    "SWIN_WINDOW",
    "WINDOWED",
]

# torchvision's builders' values, which the prints do not show.
SWIN_WINDOW, SWIN_V2_WINDOW, SWIN3D_WINDOW = (7, 7), (8, 8), (8, 7, 7)
MAXVIT_PARTITION, HEAD_DIM = 7, 32
MAXVIT_INPUT = (224, 224)  # maxvit_t's input_size

_INT = re.compile(r"(?<![\w.])\d+(?![\w.])")
_STRIDE = re.compile(r"stride=\(?(\d+)")


def _name(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def _ints(module: Module) -> list[int]:
    return [int(n) for n in _INT.findall(module.text)]


def _first(module: Module, cls: str) -> Module | None:
    """The first leaf of class ``cls`` under ``module`` (or ``module`` itself)."""
    if module.text:
        return module if _name(module.cls) == cls else None
    return next((f for c in module.children if (f := _first(c, cls)) is not None), None)


def _empty(module: Module) -> bool:
    """An ``Identity()`` or an empty container: nothing runs."""
    return module.text.endswith("()") and _name(module.cls) in ("Identity", "Sequential")


def _word(module: Module, text: str) -> Module:
    """``module`` read as the spec statement ``text`` (a leaf where it stands)."""
    return module._replace(text=text, children=())


def _csv(values: tuple[int, ...]) -> str:
    return ",".join(map(str, values))


# -- Swin ------------------------------------------------------------------------


def _odd(context: Context) -> bool:
    return context.name.isdigit() and int(context.name) % 2 == 1


_WINDOWS = {
    "ShiftedWindowAttention": ("shiftedwindowattention", SWIN_WINDOW),
    "ShiftedWindowAttentionV2": ("shiftedwindowattentionv2", SWIN_V2_WINDOW),
    "ShiftedWindowAttention3d": ("shiftedwindowattention3d", SWIN3D_WINDOW),
}


def _attention(attn: Module, odd: bool) -> str | None:
    """ShiftedWindowAttention, …V2 or …3d as its word (None for another module): the
    width and biases from its qkv and proj, the heads from v2's cpb_mlp or as heads of
    32 channels, the shift half the window on odd blocks."""
    known = _WINDOWS.get(_name(attn.cls))
    children = {c.name: c for c in attn.children}
    qkv, proj = children.get("qkv"), children.get("proj")
    if known is None or qkv is None or proj is None or not qkv.text or not proj.text:
        return None
    word, size = known
    dim = _ints(qkv)[0]
    heads = dim // HEAD_DIM
    cpb = children.get("cpb_mlp")
    last = [c for c in (cpb.children if cpb else ()) if _name(c.cls) == "Linear" and c.text]
    if last:
        heads = _ints(last[-1])[1]
    shift = tuple(w // 2 for w in size) if odd else (0,)
    text = f"{word} {dim} {heads} window={_csv(size)} shift={_csv(shift)}"
    if "bias=False" in qkv.text:
        text += " qkv_bias=false"
    if "bias=False" in proj.text:
        text += " proj_bias=false"
    return text


def _window_attention(cls: str) -> Callable[..., Steps]:
    """A window attention printed alone (or in a user's container): its word, unshifted."""

    def forward(children: dict[str, Module], context: Context) -> Steps:
        text = _attention(_parent(cls, children), odd=False)
        if text is None:
            raise SpecError(f"{cls}'s qkv and proj are not the layers torchvision's has")
        return [text]

    return forward


def _swin_block(post_norm: bool) -> Callable[..., Steps]:
    """SwinTransformerBlock (2-d and Video Swin's; pre-norm) and SwinTransformerBlockV2
    (post-norm: the norm after the attention and after the MLP), each with two
    shortcuts through stochastic depth."""

    def forward(children: dict[str, Module], context: Context) -> Steps:
        c = children
        text = _attention(c["attn"], _odd(context))
        attn = c["attn"] if text is None else _word(c["attn"], text)
        depth = c["stochastic_depth"]
        if post_norm:
            first, second = [attn, c["norm1"]], [c["mlp"], c["norm2"]]
        else:
            first, second = [c["norm1"], attn], [c["norm2"], c["mlp"]]
        return ["as x", *first, depth, "add x", "as y", *second, depth, "add y"]

    return forward


def _patch_merging(word: str) -> Callable[..., Steps]:
    """PatchMerging (v1, Video Swin) and PatchMergingV2: one layer, of the width C its
    reduction's input (4C) shows."""

    def forward(children: dict[str, Module], context: Context) -> Steps:
        return [f"{word} {_ints(children['reduction'])[0] // 4}"]

    return forward


def _permuted(module: Module, dims: str) -> Module:
    """A stage holding a ``Permute()`` (Swin's patch embedding): its dims written in."""
    return module._replace(
        children=tuple(
            _word(c, f"permute {dims}") if _name(c.cls) == "Permute" and c.text else c
            for c in module.children
        )
    )


def _swin(children: dict[str, Module], context: Context) -> Steps:
    """SwinTransformer: the features (the patch embedding's Permute to channels-last),
    the norm, back to channels-first, the pooling, flatten and the head."""
    c = children
    features = c["features"]
    if features.children:
        first, *rest = features.children
        features = features._replace(children=(_permuted(first, "0,2,3,1"), *rest))
    return [features, c["norm"], _word(c["permute"], "permute 0,3,1,2"), *_tail(c)]


def _tail(c: dict[str, Module]) -> Steps:
    return [c["avgpool"], c["flatten"], c["head"]]


def _swin3d(children: dict[str, Module], context: Context) -> Steps:
    """SwinTransformer3d: patch embedding, dropout, features, norm, channels-first,
    pooling, ``torch.flatten(x, 1)``, head."""
    c = children
    return [
        *(c["patch_embed"], c["pos_drop"], c["features"], c["norm"], "permute 0,4,1,2,3"),
        *(c["avgpool"], "flatten", c["head"]),
    ]


def _patch_embed3d(children: dict[str, Module], context: Context) -> Steps:
    """PatchEmbed3d: the patch convolution, to channels-last, its norm (if any)."""
    c = children
    norm = [c["norm"]] if "norm" in c else []
    return [c["proj"], "permute 0,2,3,4,1", *norm]


# -- MaxViT ----------------------------------------------------------------------


def _halved(size: tuple[int, ...]) -> tuple[int, ...]:
    """A 3×3 convolution with stride 2 and padding 1 (torchvision's _get_conv_output_shape)."""
    return tuple((n - 1) // 2 + 1 for n in size)


def _grid(context: Context, what: str) -> tuple[int, ...]:
    if context.shape is None or len(context.shape) != 3:
        raise SpecError(
            f"MaxViT's {what} partitions a grid its print does not show, fixed by the "
            "model's input size: give the input (-i C×H×W)"
        )
    return context.shape[1:]


def _placed(module: Module, grid: tuple[int, ...]) -> Module:
    """``module`` with the partitions of each PartitionAttentionLayer in it written for
    the grid ``grid`` (torchvision's ``grid_size``) and partitions of 7."""
    if module.text:
        return module
    if _name(module.cls) != "PartitionAttentionLayer":
        return module._replace(children=tuple(_placed(c, grid) for c in module.children))
    gh, gw = grid[0], grid[-1]
    swapped = any(_name(c.cls) == "SwapAxes" for c in module.children)
    p = gh // MAXVIT_PARTITION if swapped else MAXVIT_PARTITION
    p = max(p, 1)
    steps = {
        "partition_op": f"windowpartition {p}",
        "departition_op": f"windowdepartition {p} {gh // p} {gw // p}",
    }
    return module._replace(
        children=tuple(_word(c, steps[c.name]) if c.name in steps else c for c in module.children)
    )


def _maxvit(children: dict[str, Module], context: Context) -> Steps:
    """MaxVit: the stem, each block on a grid half its input's, the classifier."""
    c = children
    size = MAXVIT_INPUT if context.shape is None else _grid(context, "MaxVit")
    size = _halved(size)  # the stem
    blocks = []
    for block in c["blocks"].children:
        size = _halved(size)
        blocks.append(_placed(block, size))
    return [c["stem"], c["blocks"]._replace(children=tuple(blocks)), c["classifier"]]


def _maxvit_block(children: dict[str, Module], context: Context) -> Steps:
    """MaxVitBlock: its layers in order; printed alone, on a grid half its input's."""
    layers = children["layers"]
    if _unplaced(layers):
        layers = _placed(layers, _halved(_grid(context, "MaxVitBlock")))
    return [layers]


def _maxvit_layer(children: dict[str, Module], context: Context) -> Steps:
    """MaxVitLayer: MBConv, block attention, grid attention; printed alone, the grid
    is its MBConv's output (halved when it strides)."""
    layers = children["layers"]
    if _unplaced(layers):
        grid = _grid(context, "MaxVitLayer")
        strides = [int(s) for s in _STRIDE.findall(_all_text(layers))]
        layers = _placed(layers, _halved(grid) if max(strides, default=1) > 1 else grid)
    return [layers]


def _all_text(module: Module) -> str:
    return module.text + "".join(_all_text(c) for c in module.children)


def _unplaced(module: Module) -> bool:
    leaf = _first(module, "WindowPartition")
    return leaf is not None and leaf.text.startswith("WindowPartition")


def _partition_attention(children: dict[str, Module], context: Context) -> Steps:
    """PartitionAttentionLayer: partition (and swap the token axes for the grid),
    attention and MLP each with its shortcut through stochastic depth, back."""
    c = children
    if c["partition_op"].text.startswith("WindowPartition"):
        cls = "PartitionAttentionLayer"
        module = _placed(_parent(cls, c), _grid(context, cls))
        c = {child.name: child for child in module.children}
    swap = [] if _empty(c["partition_swap"]) else [_word(c["partition_swap"], "transpose -3 -2")]
    back = (
        [] if _empty(c["departition_swap"]) else [_word(c["departition_swap"], "transpose -3 -2")]
    )
    depth = c["stochastic_dropout"]
    steps: Steps = [c["partition_op"], *swap, "as x", c["attn_layer"], depth, "add x"]
    steps += ["as y", c["mlp_layer"], depth, "add y", *back, c["departition_op"]]
    return steps


def _parent(cls: str, children: dict[str, Module]) -> Module:
    """A container of class ``cls`` holding ``children`` (made from one of them)."""
    first = next(iter(children.values()))
    return first._replace(cls=cls, name="", repeat=1, text="", children=tuple(children.values()))


def _relative_attention(children: dict[str, Module], context: Context) -> Steps:
    """RelativePositionalMultiHeadAttention: heads of 32 channels over partitions of 7×7."""
    dim = _ints(children["to_qkv"])[0]
    return [f"relposattention {dim} {HEAD_DIM} {MAXVIT_PARTITION**2}"]


def _maxvit_mbconv(children: dict[str, Module]) -> Steps:
    """MaxViT's MBConv: ``proj(x) + stochastic_depth(layers(x))``, the projection (an
    average pool and a 1×1 convolution where the block strides) computed first."""
    c = children
    body = [c["layers"], c["stochastic_depth"]]
    if _empty(c["proj"]):
        return ["as x", *body, "add x"]
    return ["as x", c["proj"], "as shortcut", "from x", *body, "add shortcut"]


_PARTITION = (
    "partition_op departition_op partition_swap departition_swap attn_layer mlp_layer "
    "stochastic_dropout"
)

# class: (forward(children, context), the children's names as torch_blocks._known reads them)
WINDOWED: dict[str, tuple[Callable[..., Steps], tuple[str, ...]]] = {
    "SwinTransformer": (_swin, ("features norm permute avgpool flatten head",)),
    "SwinTransformer3d": (_swin3d, ("patch_embed pos_drop features norm avgpool head",)),
    "PatchEmbed3d": (_patch_embed3d, ("proj norm?",)),
    "SwinTransformerBlock": (_swin_block(False), ("norm1 attn stochastic_depth norm2 mlp",)),
    "SwinTransformerBlockV2": (_swin_block(True), ("norm1 attn stochastic_depth norm2 mlp",)),
    **{
        cls: (_window_attention(cls), (names,))
        for cls, names in (
            ("ShiftedWindowAttention", "qkv proj"),
            ("ShiftedWindowAttentionV2", "qkv proj cpb_mlp"),
            ("ShiftedWindowAttention3d", "qkv proj"),
        )
    },
    "PatchMerging": (_patch_merging("patchmerging"), ("reduction norm",)),
    "PatchMergingV2": (_patch_merging("patchmergingv2"), ("reduction norm",)),
    "MaxVit": (_maxvit, ("stem blocks classifier",)),
    "MaxVitBlock": (_maxvit_block, ("layers",)),
    "MaxVitLayer": (_maxvit_layer, ("layers",)),
    "PartitionAttentionLayer": (_partition_attention, (_PARTITION,)),
    "RelativePositionalMultiHeadAttention": (_relative_attention, ("to_qkv merge",)),
}


def maxvit_mbconv(children: dict[str, Module]) -> Steps | None:
    """MaxViT's MBConv (proj, stochastic_depth, layers), or None for another MBConv."""
    return _maxvit_mbconv(children) if {"proj", "layers"} <= children.keys() else None
