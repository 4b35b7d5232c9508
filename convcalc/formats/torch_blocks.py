"""torchvision's building blocks and classifiers as graphs, for reading their prints
(formats/torch_print.py).

A print shows a module's children but not its ``forward``: for each torchvision class
below, a *forward* gives the steps of its graph from its children by name — a child (run
where it stands) or a statement of the spec language (``as``, ``from``, ``add``,
``flatten`` …) for what forward() does between them (``torch.flatten``, the residual
add, ``F.relu``, a concatenation). Each is written from torchvision's forward() and
gives the same rows as the built-in model's spec (convcalc/models/), which is tested
print by print (tests/formats/test_torch_count.py).

What a print cannot show is taken at torchvision's defaults, and said here:

- Whether a block adds its input back: torchvision decides it from the block's stride
  and channels (``stride == 1 and in == out``), which the print's convolutions show.
- ViT's MultiheadAttention does not print its heads; no figure depends on them (the
  projections, QKᵀ and AV do not), and the heads written are torchvision's for the width
  (768 → 12, 1024 → 16, 1280 → 16; otherwise width / 64).
- GoogLeNet's and Inception v3's ``transform_input`` (on with their pretrained weights)
  rescales the three input channels: no parameters, no MACs, and no row, as in the
  built-in models. Their auxiliary classifiers are side outputs that eval mode skips.
- Stochastic depth and dropout are rows of their own (the identity in eval mode).
- Swin's and MaxViT's windows, shifts, heads and partitions: formats/torch_windows.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from convcalc.formats.torch_tree import Context, Forward, Module, Steps
from convcalc.formats.torch_windows import WINDOWED, maxvit_mbconv

__all__ = ["FORWARDS", "READ_BY_PARENT", "forward_of"]

_INT = re.compile(r"(?<![\w.])\d+(?![\w.])")
_STRIDE = re.compile(r"stride=\(?(\d+)")


def _name(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def _leaves(module: Module, cls: str) -> list[Module]:
    """The leaves of class ``cls`` under ``module`` (or ``module`` itself), in print order."""
    if module.text:
        return [module] if _name(module.cls) == cls else []
    out: list[Module] = []
    for child in module.children:
        out += _leaves(child, cls)
    return out


def _keeps_shape(children: dict[str, Module]) -> bool:
    """torchvision's ``use_res_connect``: stride 1 and as many channels out as in, read
    from the block's convolutions (the first one's input, the last one's output)."""
    convs = [leaf for child in children.values() for leaf in _leaves(child, "Conv2d")]
    if not convs:
        return False
    first = [int(n) for n in _INT.findall(convs[0].text)]
    last = [int(n) for n in _INT.findall(convs[-1].text)]
    strides = [int(m.group(1)) for c in convs for m in _STRIDE.finditer(c.text)]
    return first[:1] == last[1:2] != [] and max(strides, default=1) == 1


def _in_order(flatten_before: str | None = None, *extra: tuple[str, list[str]]) -> Forward:
    """The children in print order, with ``torch.flatten(x, 1)`` before ``flatten_before``
    and the statements of ``extra`` (before child, statements) where forward() has them."""
    before = dict(extra)

    def forward(children: dict[str, Module]) -> Steps:
        out: Steps = []
        for name, child in children.items():
            out += before.get(name, [])
            if name == flatten_before:
                out.append("flatten")
            out.append(child)
        return out

    return forward


def _then(*tail: str, head: tuple[str, ...] = ()) -> Forward:
    """The children in print order between statements (``F.relu`` after BasicConv2d's
    children, the pooling and flatten of a classifier's forward)."""

    def forward(children: dict[str, Module]) -> Steps:
        return [*head, *children.values(), *tail]

    return forward


def _residual(*main: str) -> Forward:
    """ResNet's BasicBlock and Bottleneck: the ``main`` children in order, plus the
    input (through ``downsample`` when it has one), then ``relu``."""

    def forward(children: dict[str, Module]) -> Steps:
        out: Steps = ["as x"]
        for name in main:
            out.append(children[name])
            if name.startswith("bn") and name != main[-1]:
                out.append(children["relu"])
        down = children.get("downsample")
        if down is not None:
            out += ["as y", "from x", down, "add y"]
        else:
            out.append("add x")
        out.append(children["relu"])
        return out

    return forward


def _shortcut(children: dict[str, Module]) -> Steps:
    """MobileNetV2/V3's InvertedResidual, MNASNet's _InvertedResidual, EfficientNet's
    MBConv and FusedMBConv: the body, plus the input where stride and channels allow
    (through stochastic depth, which only a block with the shortcut applies)."""
    body = [c for name, c in children.items() if name != "stochastic_depth"]
    if not _keeps_shape(children):
        return list(body)
    depth = children.get("stochastic_depth")
    return ["as x", *body, *([depth] if depth is not None else []), "add x"]


def _inverted_residual(children: dict[str, Module]) -> Steps:
    """torchvision's two InvertedResidual classes: ShuffleNetV2's (branch1, branch2)
    and MobileNetV2/V3's (conv or block)."""
    if "branch2" not in children:
        return _shortcut(children)
    branch1, branch2 = children.get("branch1"), children["branch2"]
    tail = ["as b2", "concat x1 b2" if _empty(branch1) else "concat b1 b2", "channelshuffle 2"]
    if _empty(branch1):  # stride 1: half the channels pass, the other half run branch2
        return ["chunk 2 x1 x2", "from x2", branch2, *tail]
    assert branch1 is not None
    return ["as x", branch1, "as b1", "from x", branch2, *tail]


def _mbconv(children: dict[str, Module]) -> Steps:
    """EfficientNet's MBConv (block, stochastic_depth) or MaxViT's (proj, layers, …)."""
    maxvit = maxvit_mbconv(children)
    return _shortcut(children) if maxvit is None else maxvit


def _empty(module: Module | None) -> bool:
    return module is None or (module.text.endswith("()") and not module.children)


def _squeeze_excitation(children: dict[str, Module]) -> Steps:
    """torchvision.ops.SqueezeExcitation: a gate from the pooled input scales it."""
    c = children
    gate = [c["avgpool"], c["fc1"], c["activation"], c["fc2"], c["scale_activation"]]
    return ["as x", *gate, "mul x"]


def _cnblock(children: dict[str, Module]) -> Steps:
    """ConvNeXt's CNBlock: its block (whose two Permutes go to channels-last and back),
    the layer scale, stochastic depth and the shortcut."""
    block = children["block"]
    dims = iter(("permute 0,2,3,1", "permute 0,3,1,2"))
    inner = tuple(
        c._replace(text=next(dims, c.text)) if _name(c.cls) == "Permute" else c
        for c in block.children
    )
    return ["as x", block._replace(children=inner), "scale", children["stochastic_depth"], "add x"]


def _res_bottleneck(children: dict[str, Module]) -> Steps:
    """RegNet's ResBottleneckBlock: relu(proj(x) + f(x)), proj computed first."""
    proj = children.get("proj")
    act = children["activation"]
    if proj is None:
        return ["as x", children["f"], "add x", act]
    return ["as x", proj, "as p", "from x", children["f"], "add p", act]


def _fire(children: dict[str, Module]) -> Steps:
    """SqueezeNet's Fire: squeeze, then the 1x1 and 3x3 expansions concatenated."""
    c = children
    return [
        *(c["squeeze"], c["squeeze_activation"], "as x"),
        *(c["expand1x1"], c["expand1x1_activation"], "as a", "from x"),
        *(c["expand3x3"], c["expand3x3_activation"], "as b", "concat a b"),
    ]


def _dense_layer(children: dict[str, Module]) -> Steps:
    """DenseNet's _DenseLayer: its new channels appended to what it read (the running
    concatenation of the dense block)."""
    return ["as x", *children.values(), "as new", "concat x new"]


def _branches(*branches: tuple[str, ...]) -> Forward:
    """An Inception block: each branch from the input (its children by name, or a
    statement), concatenated in forward()'s order."""

    def forward(children: dict[str, Module]) -> Steps:
        out: Steps = ["as x"]
        for i, branch in enumerate(branches, 1):
            if i > 1:
                out.append("from x")
            out += [children.get(step, step) for step in branch]
            out.append(f"as b{i}")
        out.append("concat " + " ".join(f"b{i}" for i in range(1, len(branches) + 1)))
        return out

    return forward


def _inception_e(children: dict[str, Module]) -> Steps:
    """Inception v3's InceptionE: two of its branches end in a 1x3 and a 3x1 side by side."""
    c = children
    return [
        *("as x", c["branch1x1"], "as b1", "from x"),
        *(c["branch3x3_1"], "as t", c["branch3x3_2a"], "as l", "from t"),
        *(c["branch3x3_2b"], "as r", "concat l r", "as b2", "from x"),
        *(c["branch3x3dbl_1"], c["branch3x3dbl_2"], "as t", c["branch3x3dbl_3a"], "as l"),
        *("from t", c["branch3x3dbl_3b"], "as r", "concat l r", "as b3", "from x"),
        *("avgpool k=3 s=1 p=1", c["branch_pool"], "as b4", "concat b1 b2 b3 b4"),
    ]


def _inception_aux(children: dict[str, Module]) -> Steps:
    """The auxiliary classifier: Inception v3's (conv0, conv1, fc) or GoogLeNet's
    (conv, fc1, fc2)."""
    c = children
    if "conv0" in c:
        return ["avgpool k=5 s=3", c["conv0"], c["conv1"], "adaptiveavgpool 1", "flatten", c["fc"]]
    return ["adaptiveavgpool 4", c["conv"], "flatten", c["fc1"], "relu", c["dropout"], c["fc2"]]


def _side(flatten_before: str, **aux: str) -> Forward:
    """A classifier with auxiliary heads: each (``aux``: head = the child whose output it
    reads) a side output right after that child, as forward() runs it, wherever the print
    lists it (GoogLeNet's aux1 and aux2 come last); forward() flattens before
    ``flatten_before`` (GoogLeNet: its dropout; Inception v3: its fc)."""

    def forward(children: dict[str, Module]) -> Steps:
        out: Steps = []
        for name, child in children.items():
            if name in aux:
                continue
            if name == flatten_before:
                out.append("flatten")
            out.append(child)
            for head, reads in aux.items():
                if reads == name and head in children:
                    mark = f"{name}_out".lower()
                    out += [f"as {mark}", children[head], f"as {head.lower()}", f"from {mark}"]
        return out

    return forward


# torchvision's ViT heads by width (vit_b: 768/12, vit_l: 1024/16, vit_h: 1280/16).
_VIT_HEADS = {768: 12, 1024: 16, 1280: 16}


def _encoder_block(children: dict[str, Module]) -> Steps:
    """ViT's EncoderBlock (pre-norm): attention and MLP, each with its shortcut."""
    c = children
    proj = _leaves(c["self_attention"], "NonDynamicallyQuantizableLinear")
    width = int(_INT.findall(proj[0].text)[0]) if proj else 0
    heads = _VIT_HEADS.get(width, width // 64 if width % 64 == 0 else 1)
    attention = f"multiheadattention {width} {heads}"
    return [
        *("as x", c["ln_1"], attention, c["dropout"], "add x", "as y"),
        *(c["ln_2"], c["mlp"], "add y"),
    ]


def _vit(children: dict[str, Module]) -> Steps:
    """VisionTransformer: patches (conv_proj, reshaped to tokens), the class token, the
    encoder, the class token's features (x[:, 0]) into the heads."""
    c = children
    return [
        *(c["conv_proj"], "flatten start=2", "permute 0,2,1", "classtoken"),
        *(c["encoder"], "selecttoken 0", c["heads"]),
    ]


class _Known(NamedTuple):
    """A torchvision class's forward, and the children its print has: each alternative
    either a pattern every child's name matches, or (required names, optional names).
    A module of that class name whose children differ (a user's own ``Encoder``) is not
    torchvision's, and its forward stays unknown."""

    forward: Callable[..., Steps]  # (children) or, when contextual, (children, context)
    shapes: tuple[str | tuple[frozenset[str], frozenset[str]], ...]
    contextual: bool = False

    def accepts(self, names: set[str]) -> bool:
        for shape in self.shapes:
            if isinstance(shape, str):
                if names and all(re.fullmatch(shape, n) for n in names):
                    return True
            elif shape[0] <= names <= shape[0] | shape[1]:
                return True
        return False


def _known(forward: Callable[..., Steps], *shapes: str, contextual: bool = False) -> _Known:
    """``shapes``: a pattern (``re:…``) or the children's names, optional ones with a
    trailing ``?`` (``"conv1 bn1 relu conv2 bn2 downsample?"``)."""
    out: list[str | tuple[frozenset[str], frozenset[str]]] = []
    for shape in shapes:
        if shape.startswith("re:"):
            out.append(shape[3:])
            continue
        words = shape.split()
        required = frozenset(w for w in words if not w.endswith("?"))
        optional = frozenset(w[:-1] for w in words if w.endswith("?"))
        out.append((required, optional))
    return _Known(forward, tuple(out), contextual)


def _branch_names(*branches: tuple[str, ...]) -> str:
    return " ".join(step for branch in branches for step in branch if " " not in step)


_NUMBERED = r"re:\d+(?:-\d+)?"
_RESNET = "conv1 bn1 relu maxpool layer1 layer2 layer3 layer4 avgpool fc"
_GOOGLENET = (
    "conv1 maxpool1 conv2 conv3 maxpool2 inception3a inception3b maxpool3 inception4a "
    "inception4b inception4c inception4d inception4e maxpool4 inception5a inception5b "
    "avgpool dropout fc aux1? aux2?"
)
_INCEPTION3 = (
    "Conv2d_1a_3x3 Conv2d_2a_3x3 Conv2d_2b_3x3 maxpool1 Conv2d_3b_1x1 Conv2d_4a_3x3 "
    "maxpool2 Mixed_5b Mixed_5c Mixed_5d Mixed_6a Mixed_6b Mixed_6c Mixed_6d Mixed_6e "
    "AuxLogits? Mixed_7a Mixed_7b Mixed_7c avgpool dropout fc"
)
_INCEPTION = {
    "Inception": (("branch1",), ("branch2",), ("branch3",), ("branch4",)),
    "InceptionA": (
        ("branch1x1",),
        ("branch5x5_1", "branch5x5_2"),
        ("branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
        ("avgpool k=3 s=1 p=1", "branch_pool"),
    ),
    "InceptionB": (
        ("branch3x3",),
        ("branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
        ("maxpool k=3 s=2",),
    ),
    "InceptionC": (
        ("branch1x1",),
        ("branch7x7_1", "branch7x7_2", "branch7x7_3"),
        tuple(f"branch7x7dbl_{i}" for i in range(1, 6)),
        ("avgpool k=3 s=1 p=1", "branch_pool"),
    ),
    "InceptionD": (
        ("branch3x3_1", "branch3x3_2"),
        tuple(f"branch7x7x3_{i}" for i in range(1, 5)),
        ("maxpool k=3 s=2",),
    ),
}
_CLASSIFIER_HEAD = ("classifier", ["relu", "adaptiveavgpool 1", "flatten"])

FORWARDS: dict[str, _Known] = {
    # containers that run their children in order (nn.Sequential subclasses and the like)
    "Conv2dNormActivation": _known(_in_order(), _NUMBERED),
    "SimpleStemIN": _known(_in_order(), _NUMBERED),
    "MLPBlock": _known(_in_order(), _NUMBERED),
    "MLP": _known(_in_order(), _NUMBERED),  # torchvision.ops.MLP (Swin's)
    "AnyStage": _known(_in_order(), r"re:block\d+-\d+"),
    "BottleneckTransform": _known(_in_order(), "a b se? c"),
    "_DenseBlock": _known(_in_order(), r"re:denselayer\d+"),
    "_Transition": _known(_in_order(), "norm relu conv pool"),
    # ResNet, VGG, AlexNet
    "AlexNet": _known(_in_order("classifier"), "features avgpool classifier"),
    "VGG": _known(_in_order("classifier"), "features avgpool classifier"),
    "ResNet": _known(_in_order("fc"), _RESNET),
    "BasicBlock": _known(
        _residual("conv1", "bn1", "conv2", "bn2"), "conv1 bn1 relu conv2 bn2 downsample?"
    ),
    "Bottleneck": _known(
        _residual("conv1", "bn1", "conv2", "bn2", "conv3", "bn3"),
        "conv1 bn1 relu conv2 bn2 conv3 bn3 downsample?",
    ),
    # MobileNet, EfficientNet, MNASNet, ShuffleNet
    "SqueezeExcitation": _known(_squeeze_excitation, "avgpool fc1 fc2 activation scale_activation"),
    "InvertedResidual": _known(_inverted_residual, "conv", "block", "branch1 branch2"),
    "MBConv": _known(_mbconv, "block stochastic_depth", "proj stochastic_depth layers"),
    "FusedMBConv": _known(_shortcut, "block stochastic_depth"),
    "_InvertedResidual": _known(_shortcut, "layers"),
    "MobileNetV2": _known(
        _in_order(None, ("classifier", ["adaptiveavgpool 1", "flatten"])), "features classifier"
    ),
    "MobileNetV3": _known(_in_order("classifier"), "features avgpool classifier"),
    "EfficientNet": _known(_in_order("classifier"), "features avgpool classifier"),
    "MNASNet": _known(_in_order(None, ("classifier", ["gap", "flatten"])), "layers classifier"),
    "ShuffleNetV2": _known(
        _in_order(None, ("fc", ["gap", "flatten"])),
        "conv1 maxpool stage2 stage3 stage4 conv5 fc",
    ),
    # ConvNeXt, RegNet, SqueezeNet, DenseNet
    "CNBlock": _known(_cnblock, "block stochastic_depth"),
    "ConvNeXt": _known(_in_order(), "features avgpool classifier"),
    "ResBottleneckBlock": _known(_res_bottleneck, "proj? f activation"),
    "RegNet": _known(_in_order("fc"), "stem trunk_output avgpool fc"),
    "Fire": _known(
        _fire,
        "squeeze squeeze_activation expand1x1 expand1x1_activation expand3x3 expand3x3_activation",
    ),
    "SqueezeNet": _known(_then("flatten"), "features classifier"),
    "_DenseLayer": _known(_dense_layer, "norm1 relu1 conv1 norm2 relu2 conv2"),
    "DenseNet": _known(_in_order(None, _CLASSIFIER_HEAD), "features classifier"),
    # GoogLeNet and Inception v3
    "BasicConv2d": _known(_then("relu"), "conv bn"),
    **{
        cls: _known(_branches(*branches), _branch_names(*branches))
        for cls, branches in _INCEPTION.items()
    },
    "InceptionE": _known(
        _inception_e,
        "branch1x1 branch3x3_1 branch3x3_2a branch3x3_2b branch3x3dbl_1 branch3x3dbl_2 "
        "branch3x3dbl_3a branch3x3dbl_3b branch_pool",
    ),
    "InceptionAux": _known(_inception_aux, "conv0 conv1 fc", "conv fc1 fc2 dropout"),
    "GoogLeNet": _known(_side("dropout", aux1="inception4a", aux2="inception4d"), _GOOGLENET),
    "Inception3": _known(_side("fc", AuxLogits="Mixed_6e"), _INCEPTION3),
    # Vision Transformer
    "EncoderBlock": _known(_encoder_block, "ln_1 self_attention dropout ln_2 mlp"),
    "Encoder": _known(_then(head=("posembedding",)), "dropout layers ln"),
    "VisionTransformer": _known(_vit, "conv_proj encoder heads"),
    # Swin (v1, v2, Video Swin) and MaxViT: formats/torch_windows.py
    **{
        cls: _known(forward, *shapes, contextual=True)
        for cls, (forward, shapes) in WINDOWED.items()
    },
}

# Containers a mapped parent reads itself, whose own print convcalc cannot read alone:
# (parent class, child class).
READ_BY_PARENT = frozenset({("EncoderBlock", "MultiheadAttention")})


def forward_of(module: Module, context: Context | None = None) -> Forward | None:
    """The forward of a torchvision module convcalc maps to a graph, None for any other
    (an unknown class, or a class of torchvision's name with other children).
    ``context``: the module's name in its parent (its own name if not given) and, at
    the print's top, the input shape."""
    known = FORWARDS.get(_name(module.cls))
    if known is None or module.text:
        return None
    if not known.accepts({c.name for c in module.children}):
        return None
    if not known.contextual:
        return known.forward
    bound = context or Context(module.name)

    def forward(children: dict[str, Any]) -> Steps:
        return known.forward(children, bound)

    return forward
