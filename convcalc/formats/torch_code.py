"""PyTorch code for an analysed network (``-o torch``): a chain becomes an
``nn.Sequential``, a graph (branches, merges, blocks, shared layers) an ``nn.Module``
class with ``__init__`` and ``forward``. Every constructor argument is written out by
PyTorch's name, the ones the input fixes (in_channels, in_features, num_features, …)
taken from the propagated shapes, and every layer carries a comment with its output
shape. The code needs torch only: the few layers without an nn class (ViT's class
token, torchvision's LayerNorm2d and StochasticDepth, permute, …) come with a small
class of their own.

Every argument is explicit but ``device``/``dtype``, and the ``bias=`` that BatchNorm,
InstanceNorm and GroupNorm take since PyTorch 2.13, written only when it is False.

The code is what convcalc analysed, so it builds only from known figures: every size
must be known (an input with an unknown channel count cannot be written), and MaxUnpool,
which needs its pool's indices, has no place in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvcalcError
from convcalc.formats.report import is_graph
from convcalc.kinds.layer import PLACEMENT, Layer, Shape
from convcalc.kinds.merge import Concat, Crop, Elementwise, Part
from convcalc.kinds.shapes import fmt_shape
from convcalc.kinds.torch.registry import REGISTRY, TORCH_CLASSES

if TYPE_CHECKING:
    from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["to_torch"]


class CodeError(ConvcalcError):
    """A network that -o torch cannot write."""


# --------------------------------------------------------------------------------------------
# Classes of our own for the layers PyTorch has no nn class for.

HELPERS = {
    "Permute": '''
class Permute(nn.Module):
    """x.permute(*dims), the batch dimension counted as 0 (torchvision.ops.misc.Permute)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
''',
    "Transpose": '''
class Transpose(nn.Module):
    """x.transpose(dim0, dim1), the batch dimension counted as 0."""

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)
''',
    "Scale": '''
class Scale(nn.Module):
    """A learned per-channel scale (ConvNeXt's layer_scale): one weight per entry of a
    dimension, broadcast over the ones after it."""

    def __init__(self, channels: int, trailing: int, init: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, *[1] * trailing), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x
''',
    "ClassToken": '''
class ClassToken(nn.Module):
    """ViT's class token, put before the other tokens (torchvision's VisionTransformer)."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
''',
    "PosEmbedding": '''
class PosEmbedding(nn.Module):
    """ViT's learned position embedding, added to the tokens (torchvision's Encoder)."""

    def __init__(self, length: int, embed_dim: int) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, length, embed_dim).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pos_embedding
''',
    "SelectToken": '''
class SelectToken(nn.Module):
    """x[:, index]: one token, e.g. ViT's class token before its head."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]
''',
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d (ConvNeXt): a LayerNorm over the channels of N×C×H×W."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(
            x, self.normalized_shape, self.weight, self.bias, self.eps
        )
        return x.permute(0, 3, 1, 2)
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: drops whole rows (or the batch) in training; the
    identity in eval mode."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p < 0.0 or self.p > 1.0:
            raise ValueError(f"drop probability has to be between 0 and 1, but got {self.p}")
        if self.mode not in ("batch", "row"):
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {self.mode}")
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = 1.0 - self.p
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * (noise.div_(keep) if keep > 0.0 else noise)
''',
    "SelfAttention": '''
class SelfAttention(nn.Module):
    """nn.MultiheadAttention as self-attention: attn(x, x, x) on batch-first tokens."""

    def __init__(self, embed_dim: int, num_heads: int, **kwargs: Any) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]
''',
    "Pad": '''
class Pad(nn.Module):
    """torch.nn.functional.pad with its pads, mode and value."""

    def __init__(self, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> None:
        super().__init__()
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            return nn.functional.pad(x, self.pad, mode="constant", value=self.value)
        return nn.functional.pad(x, self.pad, mode=self.mode)
''',
    "center_crop": '''
def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """x cropped to like's size in every dimension after the channels, centred (U-Net)."""
    index = [slice(None), slice(None)]
    for size, want in zip(x.shape[2:], like.shape[2:]):
        start = (size - want) // 2
        index.append(slice(start, start + want))
    return x[tuple(index)]
''',
}

# Out.kind → PyTorch class, where the kind word is not the class's name lower-cased.
_CLASS_OF = {"swish": "SiLU", "leaky_relu": "LeakyReLU"}


def _py(value: Any) -> str:
    """A value as Python source."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        items = [_py(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return repr(value)


def _shape_text(shape: Shape) -> str:
    return fmt_shape(shape)


def _known(row: LayerResult) -> None:
    for shape in (row.input, row.output):
        if None in shape:
            raise CodeError(
                f"-o torch writes every size, and layer {row.index} ({row.spec}) has an "
                f"unknown one ({fmt_shape(shape)}): give the input's channel count "
                "(e.g. -i 3x32x32)"
            )


def _n(kind: str, shape: Shape) -> int:
    """Spatial dimensions a layer works on: its name's (conv2d: 2), else its input's."""
    if kind[-1:] == "d" and kind[-2:-1].isdigit():
        return int(kind[-2])
    return len(shape) - 1


def _per_dim(value: Any, n: int) -> Any:
    if isinstance(value, tuple) and len(value) == 1 and n > 1:
        return value * n
    return value


def constructor(row: LayerResult) -> tuple[str, str | None]:
    """``nn.Conv2d(in_channels=3, …)`` for a row, and the helper class it needs (if any)."""
    _known(row)
    layer, kind, shape = row.layer, row.kind, row.input
    values: dict[str, Any] = dict(layer.__dict__)
    cin = shape[0] if shape else None
    if kind.startswith("maxunpool"):
        raise CodeError(
            f"-o torch cannot write layer {row.index} ({row.spec}): PyTorch's MaxUnpool needs "
            "the indices of a MaxPool(return_indices=True), which convcalc does not follow"
        )
    special = _special(row, values)
    if special is not None:
        return special
    cname = _CLASS_OF.get(kind) or next(
        (c for c, w in TORCH_CLASSES.items() if w == kind and c.lower() == kind), ""
    )
    if not cname:  # pragma: no cover - every kind is handled
        raise CodeError(f"-o torch cannot write layer {row.index} ({row.spec})")
    entry = REGISTRY[TORCH_CLASSES[cname]]
    sig = entry.torch
    assert sig is not None
    n = _n(kind, shape)
    params = {p.name: p for p in entry.cls.PARAMS}
    resolved = _resolve(row, values, cin)
    args: list[str] = []
    for arg in (*sig.args, *sig.kwonly):
        if arg in PLACEMENT:
            continue
        if arg in sig.only:
            args.append(f"{arg}={_py(sig.only[arg][0])}")
            continue
        if arg in sig.extra:
            continue
        param = sig.renames.get(arg, arg)
        if param not in resolved:
            continue
        value = resolved[param]
        if param in params and params[param].per_dim:
            value = _per_dim(value, n)
        if arg == "bias" and cname[:-2] in ("BatchNorm", "InstanceNorm") and value is True:
            continue  # keyword-only since PyTorch 2.13: left out at its default
        if arg == "bias" and cname == "GroupNorm" and value is True:
            continue
        if cname == "LPPool1d" and arg == "kernel_size":
            value = value[0]  # LPPool1d multiplies by it: an int
        args.append(f"{arg}={_py(value)}")
    helper = cname if cname == "LayerNorm2d" else None
    prefix = "" if helper else "nn."
    return f"{prefix}{cname}({', '.join(args)})", helper


def _resolve(row: LayerResult, values: dict[str, Any], cin: int | None) -> dict[str, Any]:
    """The layer's values with those the input fixes filled in."""
    shape = row.input
    v = dict(values)
    if "in_channels" in v:
        v["in_channels"] = cin
    if "out_channels" in v and v["out_channels"] is None:
        v["out_channels"] = cin
    if v.get("groups") == "dw":
        v["groups"] = cin
    for key in ("num_features", "num_channels"):
        if key in v and v[key] is None:
            v[key] = cin
    if "in_features" in v:
        v["in_features"] = shape[-1]
    if "normalized_shape" in v and v["normalized_shape"] is None:
        v["normalized_shape"] = (cin,) if row.kind == "layernorm2d" else (shape[-1],)
    if "stride" in v and v["stride"] is None and "kernel_size" in v:
        v["stride"] = v["kernel_size"]
    if row.kind == "upsample":
        n = len(shape) - 1
        for key in ("size", "scale_factor"):
            if v.get(key) is not None:
                v[key] = tuple(v[key]) * n if len(v[key]) == 1 else tuple(v[key])
    return v


def _special(row: LayerResult, v: dict[str, Any]) -> tuple[str, str | None] | None:
    """Layers whose code is not their class's signature."""
    kind, shape = row.kind, row.input
    if kind == "pad":
        return _pad(row, v)
    if kind == "permute":
        return f"Permute(dims={_py(tuple(v['dims']))})", "Permute"
    if kind == "transpose":
        return f"Transpose(dim0={v['dim0']}, dim1={v['dim1']})", "Transpose"
    if kind == "scale":
        rank = len(shape) + 1
        axis = v["dim"] % rank
        channels = shape[axis - 1]
        return f"Scale(channels={channels}, trailing={rank - 1 - axis})", "Scale"
    if kind == "classtoken":
        return f"ClassToken(embed_dim={shape[1]})", "ClassToken"
    if kind == "posembedding":
        length = shape[0] if v["length"] is None else v["length"]
        return f"PosEmbedding(length={length}, embed_dim={shape[1]})", "PosEmbedding"
    if kind == "selecttoken":
        return f"SelectToken(index={v['index']})", "SelectToken"
    if kind == "stochasticdepth":
        return f"StochasticDepth(p={_py(v['p'])}, mode={_py(v['mode'])})", "StochasticDepth"
    if kind == "multiheadattention":
        keys = ("dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim")
        args = ", ".join(f"{k}={_py(v[k])}" for k in keys)
        return (
            f"SelfAttention(embed_dim={v['embed_dim']}, num_heads={v['num_heads']}, {args})",
            "SelfAttention",
        )
    if kind == "transformerencoderlayer":
        first = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps")
        given = [f"{k}={_py(v[k])}" for k in first]
        given += ["batch_first=True", f"norm_first={v['norm_first']}", f"bias={v['bias']}"]
        return f"nn.TransformerEncoderLayer({', '.join(given)})", None
    return None


_PAD_CLASS = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}


def _pad(row: LayerResult, v: dict[str, Any]) -> tuple[str, str | None]:
    pad = tuple(v["pad"])
    if len(pad) == 1:
        pairs = v["dims"] if v["dims"] is not None else len(row.input) - 1
        pad = pad * (2 * pairs)
    pairs = len(pad) // 2
    mode = v["mode"]
    value = 0.0 if v["value"] is None else float(v["value"])
    if mode == "constant" and 1 <= pairs <= 3:
        return f"nn.ConstantPad{pairs}d(padding={_py(pad)}, value={_py(value)})", None
    if mode in _PAD_CLASS and 1 <= pairs <= 3:
        return f"nn.{_PAD_CLASS[mode]}{pairs}d(padding={_py(pad)})", None
    args = f"pad={_py(pad)}, mode={_py(mode)}" + (
        f", value={_py(value)}" if mode == "constant" else ""
    )
    return f"Pad({args})", "Pad"


# --------------------------------------------------------------------------------------------
# The file.


def _header(analysis: Analysis, note: str) -> list[str]:
    lines = [
        f"# PyTorch code convcalc wrote for the network it analysed: input "
        f"{_shape_text(analysis.input)} (the batch apart), output {_shape_text(analysis.output)},",
        f"# {analysis.params:,} parameters. Each layer's comment gives its output shape.",
    ]
    if note:
        lines.append(f"# {note}")
    return lines


def _example(analysis: Analysis, build: str) -> list[str]:
    first = analysis.layers[0] if analysis.layers else None
    sizes = ", ".join(str(s) for s in (1, *analysis.input))
    make = (
        f"torch.zeros({sizes}, dtype=torch.long)"
        if first is not None and first.kind == "embedding"
        else f"torch.randn({sizes})"
    )
    out = ", ".join(str(s) for s in (1, *analysis.output))
    return [
        'if __name__ == "__main__":',
        f"    model = {build}.eval()",
        f"    x = {make}",
        "    with torch.no_grad():",
        f"        print(model(x).shape)  # torch.Size([{out}])",
    ]


def _imports(helpers: Sequence[str], any_type: bool) -> list[str]:
    lines = []
    if any_type or "SelfAttention" in helpers:
        lines += ["from typing import Any", ""]
    return [*lines, "import torch", "from torch import nn"]


def to_torch(analysis: Analysis, note: str = "") -> str:
    """The network as PyTorch code (see the module's docstring); ``note`` is a line for
    its header (how the network was read)."""
    if not analysis.layers:
        raise CodeError("-o torch needs at least one layer")
    # A frozen or shared layer (one module applied twice) needs __init__ and forward too.
    graph = is_graph(analysis) or any(r.frozen or r.shared for r in analysis.layers)
    body, helpers = _graph(analysis) if graph else _chain(analysis)
    head = [*_header(analysis, note), "", *_imports(helpers, any(r.side for r in analysis.layers))]
    parts = ["\n".join(head), *(HELPERS[h].strip("\n") for h in helpers), "\n".join(body)]
    parts.append("\n".join(_example(analysis, "Net()" if graph else "model")))
    return "\n\n\n".join(parts) + "\n"


def _chain(analysis: Analysis) -> tuple[list[str], list[str]]:
    helpers: list[str] = []
    lines = ["model = nn.Sequential("]
    for row in analysis.layers:
        code, helper = constructor(row)
        if helper and helper not in helpers:
            helpers.append(helper)
        lines.append(f"    # {row.index}: {row.spec} -> {_shape_text(row.output)}")
        lines.append(f"    {code},")
    lines.append(")")
    return lines, helpers


def _graph(analysis: Analysis) -> tuple[list[str], list[str]]:
    helpers: list[str] = []
    rows = analysis.layers
    attrs: dict[int, str] = {}  # row index → the attribute holding its module
    init: list[str] = []
    forward_main: list[str] = []
    forward_side: list[str] = []
    starts = {b.first: b for b in analysis.blocks}
    for row in rows:
        out = forward_side if row.side else forward_main
        block = starts.get(row.index)
        if block is not None:
            title = f"# {'/'.join(block.block)}: {block.spec}"
            out.append(title)
            if row.shared is None and not isinstance(row.layer, (Elementwise, Concat, Part, Crop)):
                init.append(title)
        args = [_var(t) for t in row.inputs]
        comment = f"# {row.index}: {row.spec} -> {_shape_text(row.output)}"
        expr = _merge(row, args, helpers)
        if expr is not None:
            comment = f"# {row.index}: {row.spec} -> {_shape_text(row.output)}"
        if expr is None:
            if row.shared is not None:
                attr = attrs[row.shared]
            else:
                code, helper = constructor(row)
                if helper and helper not in helpers:
                    helpers.append(helper)
                attr = f"{_attr_kind(row)}_{row.index}"
                init.append(comment)
                init.append(f"self.{attr} = {code}")
                if row.frozen:
                    init.append(f"self.{attr}.requires_grad_(False)")
                comment = f"# -> {_shape_text(row.output)}"
            attrs[row.index] = attr
            expr = f"self.{attr}({args[0]})"
        named = f" (as {row.name})" if row.name else ""
        out.append(f"{_var(row.index)} = {expr}  {comment}{named}")
    result = len(rows) if analysis.result == -1 else analysis.result
    returns = "Any" if forward_side else "torch.Tensor"
    lines = [
        "class Net(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
    ]
    lines += [f"        {line}" for line in init]
    lines += ["", f"    def forward(self, x0: torch.Tensor) -> {returns}:"]
    lines += [f"        {line}" for line in forward_main]
    if forward_side:
        ends = [_var(r.index) for r in analysis.side_outputs]
        lines.append("        if self.training:  # side outputs: eval mode does not run them")
        lines += [f"            {line}" for line in forward_side]
        lines.append(f"            return {_var(result)}, {', '.join(ends)}")
    lines.append(f"        return {_var(result)}")
    return lines, helpers


def _attr_kind(row: LayerResult) -> str:
    return row.kind.replace("-", "_")


def _var(tensor: int) -> str:
    return f"x{tensor}"


def _merge(row: LayerResult, args: list[str], helpers: list[str]) -> str | None:
    op: Layer = row.layer
    if isinstance(op, Elementwise):
        return (" + " if op.op == "add" else " * ").join(args)
    if isinstance(op, Concat):
        return f"torch.cat([{', '.join(args)}], dim={op.dim})"
    if isinstance(op, Part):
        sizes = op.sizes
        if op.op == "chunk":
            return f"torch.chunk({args[0]}, {sizes[0]}, dim={op.dim})[{op.part}]"
        amount = str(sizes[0]) if len(sizes) == 1 else "[" + ", ".join(map(str, sizes)) + "]"
        return f"torch.split({args[0]}, {amount}, dim={op.dim})[{op.part}]"
    if isinstance(op, Crop):
        if "center_crop" not in helpers:
            helpers.append("center_crop")
        return f"center_crop({args[0]}, {args[1]})"
    return None
