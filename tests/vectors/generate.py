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
``torch.no_grad()``; MACs come from forward hooks (SEMANTICS.md §0). Every layer runs on
PyTorch's reference CPU path (``torch.backends.mkldnn.flags(enabled=False)``) and again on
the default oneDNN path; a case whose acceptance or output shape differs between the two is
left out (ConvTranspose with a 0-sized output: oneDNN returns an empty tensor for some
configurations, the reference path rejects it). Receptive fields come from autograd through
the geometry-equivalent chain of single-channel all-ones convolutions (a pool becomes a conv
with the same k, s, p, d), probing an output whose window stays inside every layer's input.
MaxUnpool is called as ``m(x, indices)`` with all-zero int64 indices (index 0 is valid whenever
the output is non-empty); Embedding gets an all-zero int64 index tensor of the input's shape.

The second set of layer kinds (lppool, maxunpool, unflatten, embedding, rmsnorm,
localresponsenorm, glu, channelshuffle) has its rows after all the others, drawn from a random
stream of its own (``SEED + 1``): adding them left every earlier row and the RF file unchanged.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SEED = 20250601
ROOT = Path(__file__).resolve().parents[2]
CASES_PATH = ROOT / "tests" / "data" / "torch_cases.jsonl"
RF_PATH = ROOT / "tests" / "data" / "torch_rf.jsonl"

Shape = list[int]
LMAX = {1: 40, 2: 40, 3: 12}

# indexed by (spatial dims - 1)
CONV: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONVT: tuple[type[nn.Module], ...] = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
MAXPOOL: tuple[type[nn.Module], ...] = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
AVGPOOL: tuple[type[nn.Module], ...] = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
ADAPTIVE_AVG: tuple[type[nn.Module], ...] = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
)
ADAPTIVE_MAX: tuple[type[nn.Module], ...] = (
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)
BATCHNORM: tuple[type[nn.Module], ...] = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
INSTANCENORM: tuple[type[nn.Module], ...] = (
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leakyrelu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "softmax": lambda: nn.Softmax(dim=-1),
    "logsoftmax": lambda: nn.LogSoftmax(dim=-1),
    "identity": nn.Identity,
}


# --------------------------------------------------------------------------------------------
# spelling
# --------------------------------------------------------------------------------------------


class Speller:
    """Writes values in one of convcalc's equivalent spellings, chosen at random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def key(self, short: str, long: str) -> str:
        return self.rng.choice((short, long))

    def boolean(self, value: bool) -> str:
        return self.rng.choice(("true", "yes", "1") if value else ("false", "no", "0"))

    def ints(self, vals: Sequence[int | None], *, scalar: bool = True) -> str:
        """An int (when all entries are equal and ``scalar``) or a tuple in a random style."""
        if (
            scalar
            and None not in vals
            and len(set(vals)) == 1
            and (len(vals) == 1 or self.rng.random() < 0.5)
        ):
            return str(vals[0])
        items = ["None" if v is None else str(v) for v in vals]
        return self._tuple(items, plain="x" if all(v is not None and v >= 0 for v in vals) else "")

    def floats(self, vals: Sequence[float], *, scalar: bool = True) -> str:
        if scalar and len(set(vals)) == 1 and (len(vals) == 1 or self.rng.random() < 0.5):
            return self.float(vals[0])
        return self._tuple([self.float(v) for v in vals], plain="x")

    def float(self, value: float) -> str:
        if value == int(value) and self.rng.random() < 0.5:
            return str(int(value))
        return repr(float(value))

    def _tuple(self, items: list[str], plain: str) -> str:
        styles = [",", "()", "( )"] + ([plain] if plain else [])
        style = self.rng.choice(styles)
        if style == "x":
            return "x".join(items)
        if style == ",":
            return ",".join(items)
        if style == "()":
            return "(" + ",".join(items) + ")"
        return "(" + ", ".join(items) + ")"


def finish(kind: str, positional: list[str], opts: list[str], rng: random.Random) -> str:
    rng.shuffle(opts)
    return " ".join([kind, *positional, *opts])


# --------------------------------------------------------------------------------------------
# layers: convcalc text + the PyTorch module it means
# --------------------------------------------------------------------------------------------


@dataclass
class Layer:
    family: str  # statistics bucket
    text: str
    make: Callable[[], nn.Module]


class Pad(nn.Module):
    """``F.pad`` as a module (convcalc's ``pad`` layer)."""

    def __init__(self, pads: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.pads = pads
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, mode=self.mode)


def one(vals: Sequence[int], n: int) -> int | tuple[int, ...]:
    return vals[0] if n == 1 else tuple(vals)


def conv_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    cout: int,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | str | None = None,
    d: list[int] | None = None,
    g: int | str | None = None,
    bias: bool | None = None,
    pm: str | None = None,
    op: list[int] | None = None,
    transposed: bool = False,
) -> Layer:
    cin = shape[0]
    rank_ok = len(shape) == n + 1
    if transposed:
        names = [f"convtranspose{n}d", f"deconv{n}d", f"convt{n}d", f"tconv{n}d"]
        if rank_ok:
            names += ["convtranspose"]
    else:
        names = [f"conv{n}d", f"conv{n}d"] + (["conv"] if rank_ok else [])
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={p if isinstance(p, str) else sp.ints(p)}")
    if d is not None:
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(d)}")
    if g is not None:
        opts.append(f"{sp.key('g', 'groups')}={g}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    if pm is not None:
        opts.append(f"{sp.key('pm', 'padding_mode')}={pm}")
    if op is not None:
        opts.append(f"{sp.key('op', 'output_padding')}={sp.ints(op)}")
    text = finish(rng.choice(names), [str(cout)], opts, rng)
    groups = cin if g == "dw" else (1 if g is None else int(g))

    def make() -> nn.Module:
        kw: dict[str, Any] = {
            "kernel_size": one(k, n),
            "stride": 1 if s is None else one(s, n),
            "padding": 0 if p is None else (p if isinstance(p, str) else one(p, n)),
            "dilation": 1 if d is None else one(d, n),
            "groups": groups,
            "bias": True if bias is None else bias,
            "padding_mode": pm or "zeros",
        }
        if transposed:
            kw["output_padding"] = 0 if op is None else one(op, n)
            return CONVT[n - 1](cin, cout, **kw)
        return CONV[n - 1](cin, cout, **kw)

    return Layer("convtranspose" if transposed else "conv", text, make)


def pool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    kind: str,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | None = None,
    d: list[int] | None = None,
    ceil: bool | None = None,
    cip: bool | None = None,
) -> Layer:
    names = [f"{kind}pool{n}d", f"{kind}pool{n}d"] + (
        [f"{kind}pool"] if len(shape) == n + 1 else []
    )
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(p)}")
    if d is not None:
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(d)}")
    if ceil is not None:
        opts.append(f"{sp.key('ceil', 'ceil_mode')}={sp.boolean(ceil)}")
    if cip is not None:
        opts.append(f"count_include_pad={sp.boolean(cip)}")
    text = finish(rng.choice(names), [], opts, rng)

    def make() -> nn.Module:
        stride = None if s is None else one(s, n)
        padding = 0 if p is None else one(p, n)
        if kind == "max":
            return MAXPOOL[n - 1](
                one(k, n),
                stride=stride,
                padding=padding,
                dilation=1 if d is None else one(d, n),
                ceil_mode=bool(ceil),
            )
        return AVGPOOL[n - 1](
            one(k, n),
            stride=stride,
            padding=padding,
            ceil_mode=bool(ceil),
            count_include_pad=True if cip is None else cip,
        )

    return Layer(f"{kind}pool", text, make)


def adaptive_layer(
    rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str, out: list[int | None]
) -> Layer:
    names = [f"adaptive{kind}pool{n}d"] + ([f"adaptive{kind}pool"] if len(shape) == n + 1 else [])
    if len(out) == 1 and out[0] is not None:
        pos = str(out[0])
        arg: int | tuple[int | None, ...] = out[0]
    else:
        pos = sp.ints(out, scalar=len(out) == n)  # a wrong-length tuple must stay a tuple
        arg = tuple(out)
    text = finish(rng.choice(names), [pos], [], rng)
    cls = (ADAPTIVE_AVG if kind == "avg" else ADAPTIVE_MAX)[n - 1]
    return Layer(f"adaptive{kind}pool", text, lambda: cls(arg))


def global_layer(rng: random.Random, shape: Shape, kind: str) -> Layer:
    n = len(shape) - 1
    if kind == "avg":
        name = rng.choice(["gap", "globalavgpool"])
        cls: Any = ADAPTIVE_AVG[n - 1]
    else:
        name = rng.choice(["gmp", "globalmaxpool"])
        cls = ADAPTIVE_MAX[n - 1]
    return Layer("gap" if kind == "avg" else "gmp", name, lambda: cls(1))


def upsample_layer(
    rng: random.Random,
    sp: Speller,
    nsp: int,
    *,
    scale: list[float] | None = None,
    size: list[int] | None = None,
    mode: str | None = None,
    align: bool | None = None,
) -> Layer:
    opts: list[str] = []
    if scale is not None:
        sc_text = sp.floats(scale, scalar=len(scale) in (1, nsp))
        opts.append(f"{sp.key('scale', 'scale_factor')}={sc_text}")
    if size is not None:
        opts.append(f"size={sp.ints(size, scalar=len(size) in (1, nsp))}")
    if mode is not None:
        opts.append(f"mode={mode}")
    if align is not None:
        opts.append(f"align_corners={sp.boolean(align)}")
    text = finish(rng.choice(["upsample", "upsample", "interpolate"]), [], opts, rng)

    def make() -> nn.Module:
        sc: Any = None if scale is None else (scale[0] if len(scale) == 1 else tuple(scale))
        sz: Any = None if size is None else (size[0] if len(size) == 1 else tuple(size))
        return nn.Upsample(size=sz, scale_factor=sc, mode=mode or "nearest", align_corners=align)

    return Layer("upsample", text, make)


def shuffle_layer(rng: random.Random, kind: str, r: int) -> Layer:
    cls: Any = nn.PixelShuffle if kind == "pixelshuffle" else nn.PixelUnshuffle
    return Layer(kind, f"{kind} {r}", lambda: cls(r))


def pad_layer(
    rng: random.Random, sp: Speller, shape: Shape, pads: int | list[int], mode: str | None
) -> Layer:
    nsp = len(shape) - 1
    names = ["pad", "pad"] + (["zeropad"] if mode in (None, "constant") else [])
    name = rng.choice(names)
    if name == "zeropad" and rng.random() < 0.7:
        mode = None
    if isinstance(pads, int):
        pos = str(pads)
        torch_pads = (pads,) * (2 * nsp)
    else:
        pos = sp.ints(pads, scalar=False)
        torch_pads = tuple(pads)
    opts = [] if mode is None else [f"mode={mode}"]
    text = finish(name, [pos], opts, rng)
    torch_mode = mode or "constant"
    return Layer("pad", text, lambda: Pad(torch_pads, torch_mode))


def flatten_layer(rng: random.Random, sp: Speller, start: int | None, end: int | None) -> Layer:
    opts = []
    if start is not None:
        opts.append(f"{sp.key('start', 'start_dim')}={start}")
    if end is not None:
        opts.append(f"{sp.key('end', 'end_dim')}={end}")
    text = finish("flatten", [], opts, rng)
    st = 1 if start is None else start
    en = -1 if end is None else end
    return Layer("flatten", text, lambda: nn.Flatten(st, en))


def linear_layer(
    rng: random.Random, sp: Speller, shape: Shape, out: int, bias: bool | None = None
) -> Layer:
    opts = [] if bias is None else [f"bias={sp.boolean(bias)}"]
    text = finish(rng.choice(["linear", "linear", "fc", "dense"]), [str(out)], opts, rng)
    fin = shape[-1]
    return Layer("linear", text, lambda: nn.Linear(fin, out, bias=True if bias is None else bias))


def norm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    kind: str,
    *,
    affine: bool | None = None,
    track: bool | None = None,
    eps: float | None = None,
    momentum: float | None = None,
) -> Layer:
    c = shape[0]
    if kind == "batchnorm":
        names = [f"batchnorm{n}d"] + (["bn", "batchnorm"] if len(shape) == n + 1 >= 2 else [])
    else:
        names = [f"instancenorm{n}d"] + (["instancenorm"] if len(shape) == n + 1 >= 2 else [])
    opts = []
    if affine is not None:
        opts.append(f"affine={sp.boolean(affine)}")
    if track is not None:
        opts.append(f"{sp.key('track', 'track_running_stats')}={sp.boolean(track)}")
    if eps is not None:
        opts.append(f"eps={eps!r}")
    if momentum is not None:
        opts.append(f"momentum={momentum!r}")
    text = finish(rng.choice(names), [], opts, rng)
    kw: dict[str, Any] = {}
    if eps is not None:
        kw["eps"] = eps
    if momentum is not None:
        kw["momentum"] = momentum
    if kind == "batchnorm":
        kw["affine"] = True if affine is None else affine
        kw["track_running_stats"] = True if track is None else track
        cls: Any = BATCHNORM[n - 1]
    else:
        kw["affine"] = False if affine is None else affine
        kw["track_running_stats"] = False if track is None else track
        cls = INSTANCENORM[n - 1]
    return Layer(kind, text, lambda: cls(c, **kw))


def layernorm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    ns: list[int] | None,
    affine: bool | None = None,
    bias: bool | None = None,
) -> Layer:
    pos = [] if ns is None else [sp.ints(ns, scalar=False) if len(ns) > 1 else str(ns[0])]
    opts = []
    if affine is not None:
        opts.append(f"{sp.key('affine', 'elementwise_affine')}={sp.boolean(affine)}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    text = finish("layernorm", pos, opts, rng)
    arg: Any = shape[-1] if ns is None else (ns[0] if len(ns) == 1 else tuple(ns))
    ea = True if affine is None else affine
    b = True if bias is None else bias
    return Layer("layernorm", text, lambda: nn.LayerNorm(arg, elementwise_affine=ea, bias=b))


def groupnorm_layer(
    rng: random.Random, sp: Speller, shape: Shape, groups: int, affine: bool | None = None
) -> Layer:
    opts = [] if affine is None else [f"affine={sp.boolean(affine)}"]
    text = finish("groupnorm", [str(groups)], opts, rng)
    c = shape[0]
    af = True if affine is None else affine
    return Layer("groupnorm", text, lambda: nn.GroupNorm(groups, c, affine=af))


def act_layer(name: str) -> Layer:
    return Layer(name, name, ACTIVATIONS[name])


def dropout_layer(rng: random.Random, p: float | None) -> Layer:
    text = "dropout" if p is None else f"dropout p={p!r}"
    return Layer("dropout", text, lambda: nn.Dropout(0.5 if p is None else p))


def prelu_layer(rng: random.Random, sp: Speller, n: int | None) -> Layer:
    text = "prelu" if n is None else f"prelu {sp.key('n', 'num_parameters')}={n}"
    return Layer("prelu", text, lambda: nn.PReLU(1 if n is None else n))


# --------------------------------------------------------------------------------------------
# running PyTorch
# --------------------------------------------------------------------------------------------


def macs_of(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    weight = getattr(m, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return 0
    if isinstance(m, CONVT):
        return weight.numel() * math.prod(x.shape[2:])
    if isinstance(m, CONV):
        return weight.numel() * math.prod(y.shape[2:])
    if isinstance(m, nn.Linear):
        return weight.numel() * math.prod(x.shape[1:-1])
    return 0


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def run_once(
    layer: Layer, x: torch.Tensor
) -> tuple[torch.Tensor | None, dict[str, Any] | None, dict[str, str] | None]:
    """Construct and run one layer: (output, record, error)."""
    macs: list[int] = []

    def hook(m: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        macs.append(macs_of(m, args[0], out))

    try:
        m = layer.make()
        m.eval()
        m.register_forward_hook(hook)
        with torch.no_grad():
            y = m(x)
    except Exception as exc:  # every rejection PyTorch raises counts
        return None, None, {"type": type(exc).__name__, "message": first_line(exc)}
    rec = {
        "output": list(y.shape[1:]),
        "params": sum(p.numel() for p in m.parameters()),
        "buffers": sum(b.numel() for b in m.buffers()),
        "macs": macs[0],
    }
    return y, rec, None


def run_layer(
    layer: Layer, x: torch.Tensor
) -> tuple[torch.Tensor | None, dict[str, Any] | None, dict[str, str] | None, bool]:
    """Run on PyTorch's reference CPU path (oneDNN off); also report whether the default
    (oneDNN) path agrees on acceptance and output shape — ``False`` marks a backend-dependent
    case (e.g. ConvTranspose with a 0-sized output, accepted by oneDNN, rejected natively)."""
    with torch.backends.mkldnn.flags(enabled=False):
        y, rec, err = run_once(layer, x)
    with torch.backends.mkldnn.flags(enabled=True):
        y2, _, err2 = run_once(layer, x)
    stable = (err is None) == (err2 is None) and (y is None or y2 is None or y.shape == y2.shape)
    return y, rec, err, stable


class Chain:
    """Runs layers one by one on a batch-1 input, stopping at the first rejection."""

    def __init__(self, inp: Shape, inject_at: int | None = None) -> None:
        self.input = list(inp)
        self.x: torch.Tensor | None = torch.randn(1, *inp)
        self.layers: list[Layer] = []
        self.records: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None
        self.unstable = False  # some layer's outcome depends on the CPU backend
        self.inject_at = inject_at  # checkpoint at which a corner-case layer goes in
        self.checkpoints = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def shape(self) -> Shape:
        assert self.x is not None
        return list(self.x.shape[1:])

    def add(self, layer: Layer) -> bool:
        self.layers.append(layer)
        if self.error is not None or self.x is None:
            return False
        y, rec, err, stable = run_layer(layer, self.x)
        self.unstable |= not stable
        if err is not None:
            self.error = {"layer": len(self.layers), **err}
            self.x = None
            return False
        assert rec is not None
        self.records.append(rec)
        self.x = y
        return True

    def probe(self, layer: Layer) -> tuple[bool, Shape | None, bool]:
        """Would ``layer`` succeed on the current tensor (without adding it)?"""
        assert self.x is not None
        y, _, err, stable = run_layer(layer, self.x)
        return err is None, (None if y is None else list(y.shape[1:])), stable


# --------------------------------------------------------------------------------------------
# random helpers
# --------------------------------------------------------------------------------------------


def weighted(rng: random.Random, table: Mapping[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def vec(rng: random.Random, n: int, fn: Callable[[int], int], same: float = 0.5) -> list[int]:
    """Per-dim values; with probability ``same`` every dim gets the same value."""
    if n > 1 and rng.random() < same:
        return [fn(0)] * n
    return [fn(i) for i in range(n)]


def rand_len(rng: random.Random, hi: int) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(1, min(8, hi))
    if r < 0.8:
        return rng.randint(min(5, hi), min(hi, 20))
    return rng.randint(min(10, hi), hi)


def rand_spatial(rng: random.Random, n: int, hi: int | None = None) -> list[int]:
    top = hi or LMAX[n]
    if n > 1 and rng.random() < 0.35:
        return [rand_len(rng, top)] * n
    return [rand_len(rng, top) for _ in range(n)]


def rand_channels(rng: random.Random) -> int:
    return rng.choice([1, 1, 2, 3, 3, 4, 5, 6, 8])


def maybe_bias(rng: random.Random) -> bool | None:
    r = rng.random()
    return False if r < 0.25 else (True if r < 0.35 else None)


def divisors(c: int) -> list[int]:
    return [i for i in range(1, c + 1) if c % i == 0]


KS = [1, 2, 3, 3, 3, 4, 5, 5, 7]


def pool_out(length: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    out = (length + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= length + p:
        out -= 1
    return out


def ceil_drops(length: int, k: int, s: int, p: int, d: int) -> bool:
    naive = (length + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
    return (naive - 1) * s >= length + p and naive - 1 >= 1


def floor_pairs() -> dict[int, list[float]]:
    """Sizes L and 2-decimal scales whose float64 product floors below the exact product."""
    found: dict[int, list[float]] = {}
    for length in range(1, 101):
        for c in range(1, 400):
            exact = Fraction(length) * Fraction(c, 100)
            if exact.denominator == 1 and math.floor(float(length) * (c / 100)) != exact:
                found.setdefault(length, []).append(c / 100)
    return found


FLOOR_PAIRS = floor_pairs()


# --------------------------------------------------------------------------------------------
# corner-seeking generators, one per family: given an input shape, return a layer
# --------------------------------------------------------------------------------------------


def gen_conv(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    cin = shape[0]
    sizes = shape[-n:]
    sc = weighted(
        rng,
        {
            "basic": 25,
            "same": 15,
            "valid": 5,
            "pm": 12,
            "groups": 15,
            "kbig": 12,
            "stride": 6,
            "bad": 6,
            "defaults": 4,
        },
    )
    cout = rng.randint(1, 8)
    s: list[int] | None = None
    p: list[int] | str | None = None
    d: list[int] | None = None
    g: int | str | None = None
    pm: str | None = None
    bias = maybe_bias(rng)
    k = vec(rng, n, lambda i: rng.choice(KS))
    if sc == "basic":
        if rng.random() < 0.6:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.4:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        dd = d or [1] * n
        if rng.random() < 0.75:
            p = vec(rng, n, lambda i: rng.randint(0, (dd[i] * (k[i] - 1)) // 2 + 1))
        if rng.random() < 0.2:
            pm = rng.choice(["zeros", "reflect", "replicate", "circular"])
    elif sc == "same":
        k = vec(rng, n, lambda i: rng.randint(1, 6))
        p = "same"
        if rng.random() < 0.5:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        r = rng.random()
        if r < 0.25:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
            if all(v == 1 for v in s):
                s[rng.randrange(n)] = 2
        elif r < 0.4:
            s = [1] * n
        pm = rng.choice([None, None, "zeros", "reflect", "replicate", "circular"])
    elif sc == "valid":
        p = "valid"
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "pm":
        pm = rng.choice(["reflect", "reflect", "circular", "circular", "replicate"])
        p = vec(
            rng,
            n,
            lambda i: max(0, rng.choice([sizes[i] - 1, sizes[i], sizes[i] + 1, rng.randint(0, 3)])),
        )
        k = vec(rng, n, lambda i: rng.randint(1, 4))
        if rng.random() < 0.4:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.2:
            d = vec(rng, n, lambda i: rng.randint(1, 2))
    elif sc == "groups":
        r = rng.random()
        if r < 0.3:
            g = "dw"
            cout = rng.choice([cin, cin, 2 * cin, cin + 1, rng.randint(1, 8)])
        else:
            gi = rng.choice(divisors(cin)) if rng.random() < 0.6 else rng.randint(2, 6)
            g = gi
            cout = gi * rng.randint(1, 3) if rng.random() < 0.75 else rng.randint(1, 9)
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: k[i] // 2)
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
    elif sc == "kbig":
        big = rng.randrange(n)
        pp = [rng.randint(0, 2) for _ in range(n)]
        dd = [rng.choice([1, 1, 2, 3]) for _ in range(n)]
        for i in range(n):
            if i == big or rng.random() < 0.4:
                target = sizes[i] + 2 * pp[i] + rng.choice([-1, 0, 0, 1, 1])
                k[i] = max(1, (target - 1) // dd[i] + 1)
        p = pp
        if any(v > 1 for v in dd):
            d = dd
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 4))
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, 2))
    elif sc == "bad":
        what = rng.choice(["k", "s", "p", "d", "g", "g-"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "s":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        elif what == "p":
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
        elif what == "d":
            d = vec(rng, n, lambda i: rng.randint(1, 2))
            d[rng.randrange(n)] = 0
        elif what == "g":
            g = 0
        else:
            g = -rng.randint(1, 2)
    else:  # explicit defaults
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s, p, d, g = [1] * n, [0] * n, [1] * n, 1
        bias, pm = True, "zeros"
    return conv_layer(rng, sp, shape, n, cout, k, s=s, p=p, d=d, g=g, bias=bias, pm=pm)


def gen_convt(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    cin = shape[0]
    sizes = shape[-n:]
    sc = weighted(
        rng, {"basic": 30, "op": 20, "zero": 15, "groups": 13, "bad": 10, "pm": 6, "big_p": 6}
    )
    smax = 4 if n < 3 else 3
    cout = rng.randint(1, 8)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    p: list[int] | None = None
    d: list[int] | None = None
    op: list[int] | None = None
    g: int | str | None = None
    pm: str | None = None
    bias = maybe_bias(rng)
    if sc in ("basic", "groups", "pm"):
        if rng.random() < 0.7:
            s = vec(rng, n, lambda i: rng.randint(1, smax))
        if rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
        ss, dd = s or [1] * n, d or [1] * n
        if rng.random() < 0.7:
            p = vec(rng, n, lambda i: rng.randint(0, (dd[i] * (k[i] - 1)) // 2 + 1))
        if rng.random() < 0.4:
            op = vec(rng, n, lambda i: rng.randint(0, max(ss[i], dd[i]) - 1))
        if sc == "groups":
            if rng.random() < 0.3:
                g = "dw"
                cout = rng.choice([cin, 2 * cin, cin + 1])
            else:
                gi = rng.choice(divisors(cin)) if rng.random() < 0.6 else rng.randint(2, 6)
                g = gi
                cout = gi * rng.randint(1, 3) if rng.random() < 0.75 else rng.randint(1, 9)
        if sc == "pm":
            pm = rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
    elif sc == "op":
        ss = vec(rng, n, lambda i: rng.randint(1, smax))
        dd = vec(rng, n, lambda i: rng.randint(1, 3))
        op = vec(
            rng,
            n,
            lambda i: rng.choice(
                [max(ss[i], dd[i]) - 1, max(ss[i], dd[i]), ss[i], dd[i], rng.randint(0, 2)]
            ),
        )
        s, d = ss, dd
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, 2))
    elif sc == "zero":
        s = vec(rng, n, lambda i: rng.randint(1, smax))
        dd = [rng.choice([1, 1, 2]) for _ in range(n)]
        k = vec(rng, n, lambda i: rng.randint(1, 4))
        pp = []
        for i in range(n):
            base = (sizes[i] - 1) * s[i] + dd[i] * (k[i] - 1) + 1
            target = rng.choice([-1, 0, 0, 1, 2])
            pv = (base - target) // 2
            pp.append(max(0, pv))
        p = pp
        if any(v > 1 for v in dd):
            d = dd
    elif sc == "bad":
        what = rng.choice(["p", "op", "k", "s", "d", "g"])
        s = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "p":
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
        elif what == "op":
            op = [0] * n
            op[rng.randrange(n)] = -1
        elif what == "k":
            k[rng.randrange(n)] = 0
        elif what == "s":
            s[rng.randrange(n)] = 0
        elif what == "d":
            d = [1] * n
            d[rng.randrange(n)] = 0
        else:
            g = rng.choice([0, -1])
    else:  # big_p: padding near/above the full output
        s = vec(rng, n, lambda i: rng.randint(1, smax))
        p = vec(rng, n, lambda i: rng.randint(0, k[i] + 2))
    return conv_layer(
        rng, sp, shape, n, cout, k, s=s, p=p, d=d, g=g, bias=bias, pm=pm, op=op, transposed=True
    )


def gen_pool(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    sizes = shape[-n:]
    is_max = kind == "max"
    table = {
        "basic": 30,
        "padlim": 14,
        "dilpad": 10 if is_max else 0,
        "ceil": 20,
        "small": 10,
        "stride": 8,
        "bad": 7,
        "kbig": 0 if is_max else 12,
    }
    sc = weighted(rng, table)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    p: list[int] | None = None
    d: list[int] | None = None
    ceil: bool | None = None
    cip: bool | None = None
    if not is_max and rng.random() < 0.3:
        cip = rng.random() < 0.5
    if rng.random() < 0.3:
        ceil = rng.random() < 0.6
    if sc == "basic":
        if rng.random() < 0.6:
            s = vec(rng, n, lambda i: rng.randint(1, 4))
        if rng.random() < 0.6:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
        if is_max and rng.random() < 0.3:
            d = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "padlim":
        p = vec(rng, n, lambda i: k[i] // 2 + rng.choice([0, 0, 1]))
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "dilpad":
        k = vec(rng, n, lambda i: rng.randint(2, 4))
        dd = vec(rng, n, lambda i: rng.randint(2, 3))
        p = vec(
            rng,
            n,
            lambda i: rng.randint(k[i] // 2, max(k[i] // 2 + 1, (dd[i] * (k[i] - 1) + 1) // 2)),
        )
        d = dd
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "ceil":
        ceil = True
        kk, ss, pp, dd = list(k), [1] * n, [0] * n, [1] * n
        for i in range(n):
            for _ in range(200):
                ki, si = rng.randint(1, 5), rng.randint(2, 5)
                pi = rng.randint(0, ki // 2)
                di = rng.choice([1, 1, 2]) if is_max else 1
                if ceil_drops(sizes[i], ki, si, pi, di) or (i > 0 and rng.random() < 0.05):
                    kk[i], ss[i], pp[i], dd[i] = ki, si, pi, di
                    break
            else:
                kk[i], ss[i] = rng.randint(1, 4), rng.randint(2, 4)
        k, s = kk, ss
        if any(pp):
            p = pp
        if any(v > 1 for v in dd):
            d = dd
    elif sc == "small":
        pp = vec(rng, n, lambda i: rng.randint(0, 1))
        dd = [1] * n
        if is_max and rng.random() < 0.3:
            dd = vec(rng, n, lambda i: rng.randint(1, 2))
        for i in range(n):
            if rng.random() < 0.6 or i == 0:
                target = sizes[i] + 2 * pp[i] + rng.choice([0, 1])
                k[i] = max(1, (target - 1) // dd[i] + 1)
                if k[i] // 2 < pp[i]:
                    pp[i] = k[i] // 2
        p = pp
        if any(v > 1 for v in dd):
            d = dd
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 3))
        if rng.random() < 0.5:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
    elif sc == "bad":
        what = rng.choice(["k", "k0s", "s", "p", "d"] if is_max else ["k", "k0s", "s", "p"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "k0s":
            k = [0] * n
            s = vec(rng, n, lambda i: rng.randint(1, 2))
        elif what == "s":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        elif what == "p":
            p = [0] * n
            p[rng.randrange(n)] = -1
        else:
            d = [1] * n
            d[rng.randrange(n)] = 0
    else:  # kbig: kernel larger than the unpadded input (AvgPool3d rejects it)
        k = vec(rng, n, lambda i: sizes[i] + rng.choice([-1, 0, 1, 1, 2]))
        k = [max(1, v) for v in k]
        p = [v // 2 for v in k]
        if rng.random() < 0.3:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
    return pool_layer(rng, sp, shape, n, kind, k, s=s, p=p, d=d, ceil=ceil, cip=cip)


def gen_adaptive(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    sizes = shape[-n:]

    def pick(i: int) -> int:
        li = sizes[i]
        return rng.choice(
            [
                1,
                li,
                max(1, li // 2),
                li + rng.randint(1, 5),
                rng.randint(1, 2 * li),
                rng.randint(1, 6),
            ]
        )

    out: list[int | None] = list(vec(rng, n, pick, same=0.3))
    if n > 1 and rng.random() < 0.3:
        for i in range(n):
            if rng.random() < 0.5:
                out[i] = None
    if rng.random() < 0.08:  # wrong number of entries
        out = [*out, rng.randint(1, 4)]
    return adaptive_layer(rng, sp, shape, n, kind, out)


def gen_upsample(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nsp = len(shape) - 1
    sizes = shape[1:]
    rank_modes = {1: "linear", 2: rng.choice(["bilinear", "bicubic"]), 3: "trilinear"}
    all_interp = ["linear", "bilinear", "bicubic", "trilinear"]
    plain = ["nearest", "nearest-exact", "area"]
    good = [*plain, rank_modes.get(nsp, "nearest")]
    sc = weighted(
        rng,
        {
            "scale": 28,
            "floor": 12,
            "tuple": 15,
            "size": 15,
            "badlen": 5,
            "moderank": 8,
            "align": 10,
            "zero": 5,
            "both": 2,
        },
    )
    mode: str | None = rng.choice([None, *good, rank_modes.get(nsp, "nearest")])
    align: bool | None = None
    scale: list[float] | None = None
    size: list[int] | None = None
    cap = 4.0 if nsp < 3 else 3.0
    scales = [0.5, 1.5, 2.0, 2.0, 3.0, 0.3, 0.29, 0.57, 0.7, 1.16, 2.5, 0.75, 1.25, 1.0, 4.0, 1.1]
    if sc == "scale":
        scale = [rng.choice([v for v in scales if v <= cap])]
    elif sc == "floor":
        hits = [v for li in sizes for v in FLOOR_PAIRS.get(li, []) if v <= cap]
        scale = [rng.choice(hits)] if hits else [rng.randint(1, int(cap * 100) - 1) / 100]
    elif sc == "tuple":
        scale = [rng.choice([v for v in scales if v <= cap]) for _ in range(nsp)]
        if nsp > 1 and rng.random() < 0.3:
            scale = [rng.randint(5, int(cap * 100)) / 100 for _ in range(nsp)]
    elif sc == "size":
        size = vec(rng, nsp, lambda i: rng.randint(1, min(2 * sizes[i] + 3, 80 if nsp < 3 else 24)))
    elif sc == "badlen":
        m = rng.choice([v for v in (1, 2, 3) if v != nsp])
        if rng.random() < 0.5:
            size = [rng.randint(1, 10) for _ in range(m)]
            if m == 1:
                size = [size[0], size[0]] if nsp == 1 else size
        else:
            scale = [2.0] * (m if m > 1 else 2)
    elif sc == "moderank":
        mode = rng.choice([v for v in all_interp if v != rank_modes.get(nsp)])
        scale = [2.0]
    elif sc == "align":
        mode = rng.choice([*good, *good, *plain])
        align = rng.random() < 0.5
        scale = [rng.choice([v for v in scales if v <= cap])]
    elif sc == "zero":
        scale = [rng.choice([0.05, 0.1, 0.2, 0.0])]
        mode = rng.choice([None, "area", "area", rank_modes.get(nsp, "nearest")])
    else:
        if rng.random() < 0.7:
            scale = [2.0]
            size = vec(rng, nsp, lambda i: rng.randint(1, 10))
    if scale is not None and size is None and sc not in ("zero", "badlen"):
        # keep the output small
        lim = 160 if nsp < 3 else 36
        while any(math.floor(li * scale[i % len(scale)]) > lim for i, li in enumerate(sizes)):
            scale = [v / 2 for v in scale]
    return upsample_layer(rng, sp, nsp, scale=scale, size=size, mode=mode, align=align)


def gen_pixelshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[-3]
    goods = [r for r in (1, 2, 3, 4) if c % (r * r) == 0]
    r = rng.choice(goods) if rng.random() < 0.6 else rng.choice([1, 2, 2, 3, 3, 4, 0])
    return shuffle_layer(rng, "pixelshuffle", r)


def gen_pixelunshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    h, w = shape[-2], shape[-1]
    goods = [r for r in (1, 2, 3, 4) if h % r == 0 and w % r == 0]
    r = rng.choice(goods) if rng.random() < 0.6 else rng.choice([1, 2, 2, 3, 3, 4, 0])
    return shuffle_layer(rng, "pixelunshuffle", r)


def gen_pad(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nsp = len(shape) - 1

    def dim_of(j: int) -> int:  # F.pad entry j pads dim -(j//2)-1
        return shape[-(j // 2) - 1]

    sc = weighted(
        rng,
        {
            "int": 18,
            "tuple": 22,
            "reflect": 13,
            "circular": 11,
            "replicate": 8,
            "negative": 14,
            "short": 6,
            "odd": 3,
            "channel": 5,
        },
    )
    modes = [None, "constant", "reflect", "replicate", "circular"]
    if sc == "int":
        mode = rng.choice(modes)
        pv = rng.randint(0, 4)
        if mode in (None, "constant") and rng.random() < 0.3:
            pv = -rng.randint(1, 3)
        return pad_layer(rng, sp, shape, pv, mode)
    if sc == "tuple":
        return pad_layer(
            rng, sp, shape, [rng.randint(0, 4) for _ in range(2 * nsp)], rng.choice(modes)
        )
    if sc in ("reflect", "circular", "replicate"):
        pads = []
        for j in range(2 * nsp):
            li = dim_of(j)
            if sc == "reflect":
                pads.append(max(0, rng.choice([li - 1, li - 1, li, rng.randint(0, 2)])))
            elif sc == "circular":
                pads.append(
                    rng.choice([li, li, li + 1, li - 1 if li > 1 else 0, rng.randint(0, 2)])
                )
            else:
                pads.append(rng.randint(0, 2 * li + 2))
        if rng.random() < 0.25 and len(set(pads)) == 1:
            return pad_layer(rng, sp, shape, pads[0], sc)
        return pad_layer(rng, sp, shape, pads, sc)
    if sc == "negative":
        pads = [rng.randint(-1, 3) for _ in range(2 * nsp)]
        for pair in range(nsp):
            if pair == 0 or rng.random() < 0.4:
                li = shape[-pair - 1]
                target = rng.choice([-1, 0, 1, 1, 2, rng.randint(1, li)])
                neg = max(0, li - target)
                left = rng.randint(0, neg)
                lv, rv = -left, -(neg - left)
                if rng.random() < 0.25:
                    if rng.random() < 0.5:
                        lv = rng.randint(0, 2)
                    else:
                        rv = rng.randint(0, 2)
                pads[2 * pair], pads[2 * pair + 1] = lv, rv
        return pad_layer(rng, sp, shape, pads, rng.choice([None, "constant"]))
    if sc == "short":
        m = rng.randint(1, max(1, nsp - 1))
        return pad_layer(
            rng, sp, shape, [rng.randint(0, 3) for _ in range(2 * m)], rng.choice(modes)
        )
    if sc == "odd":
        m = rng.choice([3, 5])
        return pad_layer(rng, sp, shape, [rng.randint(0, 2) for _ in range(m)], rng.choice(modes))
    pads = [rng.randint(0, 3) for _ in range(2 * (nsp + 1))]
    return pad_layer(rng, sp, shape, pads, rng.choice([None, "constant"]))


def gen_flatten(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1  # PyTorch's dims incl. the batch dim

    def valid() -> int:
        v = rng.randint(1, nd - 1)
        return v - nd if rng.random() < 0.4 else v

    def resolve(v: int) -> int:
        return v + nd if v < 0 else v

    sc = weighted(
        rng, {"default": 12, "start": 20, "end": 15, "both": 30, "order": 13, "range": 10}
    )
    start: int | None = None
    end: int | None = None
    if sc == "start":
        start = valid()
    elif sc == "end":
        end = valid()
    elif sc == "both":
        a, b = valid(), valid()
        if resolve(a) > resolve(b):
            a, b = b, a
        start, end = a, b
    elif sc == "order":
        if nd <= 2:
            start, end = 1, nd + 1
        else:
            a, b = valid(), valid()
            while resolve(a) == resolve(b):
                b = valid()
            if resolve(a) < resolve(b):
                a, b = b, a
            start, end = a, b
    elif sc == "range":
        bad = rng.choice([nd, nd + 1, -nd - 1, -nd - 2])
        if rng.random() < 0.5:
            start = bad
        else:
            end = bad
            if rng.random() < 0.5:
                start = 1
    return flatten_layer(rng, sp, start, end)


def gen_norm(rng: random.Random, sp: Speller, shape: Shape, n: int, kind: str) -> Layer:
    affine = rng.choice([None, None, True, False])
    track = rng.choice([None, None, True, False])
    eps = rng.choice([None, None, None, 1e-5, 1e-3, 0.01]) if rng.random() < 0.5 else None
    mom = rng.choice([None, None, 0.1, 0.01, 0.5]) if rng.random() < 0.5 else None
    return norm_layer(rng, sp, shape, n, kind, affine=affine, track=track, eps=eps, momentum=mom)


def gen_layernorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    sc = weighted(rng, {"default": 22, "last": 18, "tail": 25, "bad": 35})
    ns: list[int] | None = None
    if sc == "last":
        ns = [shape[-1]]
    elif sc == "tail":
        m = rng.randint(1, len(shape))
        ns = shape[-m:]
    elif sc == "bad":
        m = rng.randint(1, len(shape))
        ns = list(shape[-m:])
        j = rng.randrange(m)
        ns[j] = max(1, ns[j] + rng.choice([-1, 1, 2])) if ns[j] > 1 else ns[j] + rng.randint(1, 2)
        if ns == shape[-m:]:
            ns[j] += 1
    affine = rng.choice([None, None, True, False])
    bias = rng.choice([None, None, True, False])
    return layernorm_layer(rng, sp, shape, ns, affine, bias)


def gen_groupnorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    groups = rng.choice(divisors(c)) if rng.random() < 0.6 else rng.randint(2, 8)
    return groupnorm_layer(rng, sp, shape, groups, rng.choice([None, None, True, False]))


def gen_dropout(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    if rng.random() < 0.65:
        p = rng.choice([None, 0.0, 0.1, 0.5, 0.25, 1.0, 0.9])
    else:
        p = rng.choice([1.5, -0.1, 2.0, 1.01, -1.0])
    return dropout_layer(rng, p)


def gen_prelu(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    n = rng.choice([None, 1, c, c, c + 1, max(1, c - 1), rng.randint(2, 8)])
    return prelu_layer(rng, sp, n)


# --------------------------------------------------------------------------------------------
# single-layer cases: (input shape, layer) per family
# --------------------------------------------------------------------------------------------

CaseGen = Callable[[random.Random, Speller], tuple[Shape, Layer]]


def pick_n(rng: random.Random) -> int:
    return rng.choices([1, 2, 3], weights=[35, 40, 25])[0]


def spatial_input(rng: random.Random, n: int, *, mismatch: float = 0.0) -> Shape:
    """[C, *spatial] for an n-d layer; with probability ``mismatch`` one extra spatial dim."""
    extra = 1 if rng.random() < mismatch and n < 3 else 0
    return [rand_channels(rng), *rand_spatial(rng, n + extra)]


def case_conv(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = spatial_input(rng, n, mismatch=0.02)
    if rng.random() < 0.3:
        shape[0] = rng.choice([2, 3, 4, 6, 8, 9, 12])
    return shape, gen_conv(rng, sp, shape, n)


def case_convt(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = [rand_channels(rng), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else 8)]
    if rng.random() < 0.3:
        shape[0] = rng.choice([2, 3, 4, 6, 8])
    if rng.random() < 0.15:
        shape[1:] = [1] * n
    return shape, gen_convt(rng, sp, shape, n)


def case_pool(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        shape = spatial_input(rng, n, mismatch=0.02)
        if rng.random() < 0.35:
            shape[1:] = [rng.randint(1, 8) for _ in shape[1:]]
        return shape, gen_pool(rng, sp, shape, n, kind)

    return gen


def case_adaptive(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        shape = spatial_input(rng, n, mismatch=0.05)
        return shape, gen_adaptive(rng, sp, shape, n, kind)

    return gen


def case_global(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        shape = spatial_input(rng, pick_n(rng))
        return shape, global_layer(rng, shape, kind)

    return gen


def case_upsample(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = spatial_input(rng, n)
    if n < 3 and rng.random() < 0.2:
        # float64 product just below an integer: floor(L * scale) < L * scale exactly
        choices = sorted(FLOOR_PAIRS) if n == 1 else [v for v in sorted(FLOOR_PAIRS) if v <= 50]
        li = rng.choice(choices)
        dim = 1 if n == 1 else rng.randint(1, 2)
        shape[dim] = li
        scale = rng.choice(FLOOR_PAIRS[li])
        mode = rng.choice(
            [None, "nearest", "area", "nearest-exact", "linear" if n == 1 else "bicubic"]
        )
        if n == 2 and rng.random() < 0.5:
            other = shape[3 - dim]
            scales = [scale, scale]
            scales[3 - dim - 1] = rng.choice(FLOOR_PAIRS.get(other, [rng.choice([0.5, 1.5, 2.0])]))
            return shape, upsample_layer(rng, sp, n, scale=scales, mode=mode)
        return shape, upsample_layer(rng, sp, n, scale=[scale], mode=mode)
    return shape, gen_upsample(rng, sp, shape)


def case_shuffle(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        c = rng.choice([1, 2, 3, 4, 4, 8, 9, 9, 12, 16, 16, 18, 27, 32, 36])
        h, w = rand_spatial(rng, 2, hi=12)
        if kind == "pixelunshuffle" and rng.random() < 0.5:
            f = rng.choice([2, 3, 4])
            h, w = f * rng.randint(1, 4), f * rng.randint(1, 4)
            c = rand_channels(rng)
        shape = [c, h, w]
        if rng.random() < 0.15:
            shape = [rng.randint(1, 3), *shape]
        if kind == "pixelshuffle":
            return shape, gen_pixelshuffle(rng, sp, shape)
        return shape, gen_pixelunshuffle(rng, sp, shape)

    return gen


def case_pad(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = spatial_input(rng, pick_n(rng))
    if rng.random() < 0.4:
        shape[1:] = [rng.randint(1, 6) for _ in shape[1:]]
    return shape, gen_pad(rng, sp, shape)


def any_input(rng: random.Random) -> Shape:
    r = rng.randint(1, 4)
    if r == 1:
        return [rng.randint(1, 40)]
    return [rand_channels(rng), *rand_spatial(rng, r - 1)]


def case_flatten(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_flatten(rng, sp, shape)


def case_linear(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, linear_layer(rng, sp, shape, rng.randint(1, 16), maybe_bias(rng))


def case_norm(kind: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        n = pick_n(rng)
        # (BatchNorm1d on a rank-1 (N, C) input appears in chains only: as a first layer,
        # convcalc reads a 1-number shape before a 1-d layer as "length, channels unknown")
        r = rng.random()
        if r < 0.07 and n < 3:
            shape = spatial_input(rng, n + 1)  # one rank too many
        else:
            shape = spatial_input(rng, n)
            if rng.random() < 0.18:
                shape[1:] = [1] * n
        return shape, gen_norm(rng, sp, shape, n, kind)

    return gen


def case_layernorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_layernorm(rng, sp, shape)


def case_groupnorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    shape[0] = rng.choice([1, 2, 3, 4, 6, 8, 9, 12, 16])
    if rng.random() < 0.15:  # one value per group when groups == channels
        shape[1:] = [1] * (len(shape) - 1)
    return shape, gen_groupnorm(rng, sp, shape)


def case_act(name: str) -> CaseGen:
    def gen(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        return any_input(rng), act_layer(name)

    return gen


def case_dropout(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_dropout(rng, sp, shape)


def case_prelu(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_prelu(rng, sp, shape)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The documented corner cases (SEMANTICS.md), always present."""
    r, s = rng, sp
    return [
        ("maxpool", [1, 6], pool_layer(r, s, [1, 6], 1, "max", [2], s=[4], p=[1], ceil=True)),
        ("avgpool", [1, 6], pool_layer(r, s, [1, 6], 1, "avg", [2], s=[4], p=[1], ceil=True)),
        ("maxpool", [1, 5], pool_layer(r, s, [1, 5], 1, "max", [2], s=[2], ceil=True)),
        (
            "maxpool",
            [2, 6, 6],
            pool_layer(r, s, [2, 6, 6], 2, "max", [2, 2], s=[4, 4], p=[1, 1], ceil=True),
        ),
        ("upsample", [1, 100], upsample_layer(r, s, 1, scale=[0.29])),
        ("upsample", [1, 7], upsample_layer(r, s, 1, scale=[0.57])),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.29, 0.57], mode="bilinear")),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.07])),
        ("upsample", [1, 100, 7], upsample_layer(r, s, 2, scale=[0.07], mode="area")),
        (
            "avgpool",
            [1, 10, 10, 10],
            pool_layer(r, s, [1, 10, 10, 10], 3, "avg", [11] * 3, p=[5] * 3),
        ),
        ("avgpool", [1, 10, 10], pool_layer(r, s, [1, 10, 10], 2, "avg", [11] * 2, p=[5] * 2)),
        (
            "maxpool",
            [1, 10, 10],
            pool_layer(r, s, [1, 10, 10], 2, "max", [3, 3], p=[2, 2], d=[2, 2]),
        ),
        ("maxpool", [1, 10, 10], pool_layer(r, s, [1, 10, 10], 2, "max", [3, 3], p=[2, 2])),
        ("maxpool", [1, 10], pool_layer(r, s, [1, 10], 1, "max", [3], p=[2])),
        (
            "convtranspose",
            [1, 5, 5],
            conv_layer(r, s, [1, 5, 5], 2, 1, [3, 3], d=[2, 2], op=[1, 1], transposed=True),
        ),
        (
            "convtranspose",
            [1, 5, 5],
            conv_layer(r, s, [1, 5, 5], 2, 1, [3, 3], s=[2, 2], op=[2, 2], transposed=True),
        ),
        (
            "convtranspose",
            [1, 1, 1],
            conv_layer(r, s, [1, 1, 1], 2, 1, [1, 2], p=[0, 1], transposed=True),
        ),
        ("conv", [1, 6], conv_layer(r, s, [1, 6], 1, 1, [13], p="same", pm="reflect")),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[10, 10], pm="reflect"),
        ),
        ("conv", [4, 10, 10], conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[9, 9], pm="reflect")),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[10, 10], pm="circular"),
        ),
        (
            "conv",
            [4, 10, 10],
            conv_layer(r, s, [4, 10, 10], 2, 4, [3, 3], p=[11, 11], pm="circular"),
        ),
        ("conv", [3, 10, 10], conv_layer(r, s, [3, 10, 10], 2, 4, [11, 11])),
        ("conv", [3, 8, 8], conv_layer(r, s, [3, 8, 8], 2, 8, [4, 4], p="same")),
        ("conv", [3, 8, 9], conv_layer(r, s, [3, 8, 9], 2, 8, [4, 2], p="same", d=[3, 2])),
        ("conv", [3, 8], conv_layer(r, s, [3, 8], 1, 8, [3], p="same", s=[2])),
        ("conv", [6, 8, 8], conv_layer(r, s, [6, 8, 8], 2, 12, [3, 3], p=[1, 1], g="dw")),
        ("conv", [6, 8, 8], conv_layer(r, s, [6, 8, 8], 2, 8, [3, 3], g=4)),
        ("pad", [1, 6], pad_layer(r, s, [1, 6], [-6, 1], None)),
        ("pad", [1, 6], pad_layer(r, s, [1, 6], [-7, 2], None)),
        ("pad", [1, 10, 10], pad_layer(r, s, [1, 10, 10], 10, "reflect")),
        ("pad", [1, 10, 10], pad_layer(r, s, [1, 10, 10], 9, "reflect")),
        ("batchnorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "batchnorm", track=False)),
        ("batchnorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "batchnorm")),
        ("instancenorm", [8, 1, 1], norm_layer(r, s, [8, 1, 1], 2, "instancenorm")),
        ("groupnorm", [8, 4, 4], groupnorm_layer(r, s, [8, 4, 4], 3)),
        ("groupnorm", [8, 1, 1], groupnorm_layer(r, s, [8, 1, 1], 8)),
        ("groupnorm", [8, 1, 1], groupnorm_layer(r, s, [8, 1, 1], 4)),
        ("prelu", [7, 4], prelu_layer(r, s, 8)),
        ("linear", [5, 32], linear_layer(r, s, [5, 32], 10)),
        ("layernorm", [2, 8, 3], layernorm_layer(r, s, [2, 8, 3], [8])),
        ("pixelshuffle", [6, 4, 4], shuffle_layer(r, "pixelshuffle", 2)),
        ("pixelunshuffle", [1, 5, 4], shuffle_layer(r, "pixelunshuffle", 2)),
        ("adaptiveavgpool", [3, 5, 7], adaptive_layer(r, s, [3, 5, 7], 2, "avg", [None, 9])),
        ("dropout", [4, 4], dropout_layer(r, 1.5)),
    ]


# family -> (count, wanted fraction rejected, generator)
PLAN: list[tuple[str, int, float, CaseGen]] = [
    ("conv", 1500, 0.32, case_conv),
    ("convtranspose", 900, 0.32, case_convt),
    ("maxpool", 650, 0.32, case_pool("max")),
    ("avgpool", 560, 0.30, case_pool("avg")),
    ("adaptiveavgpool", 170, 0.12, case_adaptive("avg")),
    ("adaptivemaxpool", 130, 0.12, case_adaptive("max")),
    ("gap", 40, 0.0, case_global("avg")),
    ("gmp", 40, 0.0, case_global("max")),
    ("upsample", 450, 0.30, case_upsample),
    ("pixelshuffle", 110, 0.35, case_shuffle("pixelshuffle")),
    ("pixelunshuffle", 90, 0.35, case_shuffle("pixelunshuffle")),
    ("pad", 360, 0.30, case_pad),
    ("flatten", 140, 0.25, case_flatten),
    ("linear", 120, 0.0, case_linear),
    ("batchnorm", 170, 0.15, case_norm("batchnorm")),
    ("instancenorm", 130, 0.15, case_norm("instancenorm")),
    ("layernorm", 140, 0.30, case_layernorm),
    ("groupnorm", 120, 0.35, case_groupnorm),
    *[(name, 18, 0.0, case_act(name)) for name in ACTIVATIONS],
    ("dropout", 60, 0.30, case_dropout),
    ("prelu", 80, 0.35, case_prelu),
]


# --------------------------------------------------------------------------------------------
# multi-layer chains
# --------------------------------------------------------------------------------------------

SAFE_ACTS = [
    "relu",
    "relu",
    "relu",
    "relu6",
    "silu",
    "gelu",
    "leakyrelu",
    "hardswish",
    "elu",
    "mish",
]


def norm_for(rng: random.Random, sp: Speller, shape: Shape) -> Layer | None:
    n = len(shape) - 1
    r = rng.random()
    if r < 0.55:
        return (
            gen_norm(rng, sp, shape, n, "batchnorm")
            if rng.random() < 0.3
            else norm_layer(rng, sp, shape, n, "batchnorm")
        )
    if r < 0.67:
        return groupnorm_layer(rng, sp, shape, rng.choice(divisors(shape[0])))
    if r < 0.72 and math.prod(shape[1:]) > 1:
        return norm_layer(rng, sp, shape, n, "instancenorm", affine=rng.choice([None, True]))
    return None


def conv_block(rng: random.Random, sp: Speller, b: Chain, budget: int) -> None:
    shape = b.shape
    n = len(shape) - 1
    cout = rng.choice([4, 6, 8, 8, 12, 16])
    k = rng.choice([1, 3, 3, 3, 5] if n < 3 else [1, 3, 3])
    stride = rng.choice([1, 1, 2])
    r = rng.random()
    p: list[int] | str | None
    if r < 0.2 and stride == 1:
        p = "same"
    elif r < 0.8:
        p = [k // 2] * n
    else:
        p = None
    g: int | str | None = None
    if rng.random() < 0.1:
        g = "dw"
        cout = shape[0] * rng.choice([1, 2])
    b.add(
        conv_layer(
            rng,
            sp,
            shape,
            n,
            cout,
            [k] * n,
            s=[stride] * n if stride > 1 or rng.random() < 0.1 else None,
            p=p,
            g=g,
            bias=False if rng.random() < 0.3 else None,
        )
    )
    if budget > 1 and b.ok:
        nl = norm_for(rng, sp, b.shape)
        if nl is not None:
            b.add(nl)
    if budget > 2 and b.ok:
        b.add(
            act_layer(rng.choice(SAFE_ACTS)) if rng.random() < 0.9 else prelu_layer(rng, sp, None)
        )


def pool_for(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    n = len(shape) - 1
    r = rng.random()
    kind = "max" if r < 0.7 else "avg"
    if rng.random() < 0.5:
        return pool_layer(rng, sp, shape, n, kind, [2] * n)
    return pool_layer(
        rng,
        sp,
        shape,
        n,
        kind,
        [3] * n,
        s=[2] * n,
        p=[1] * n,
        ceil=True if rng.random() < 0.2 else None,
    )


def head(rng: random.Random, sp: Speller, b: Chain) -> None:
    if not b.ok:
        return

    def room(k: int) -> bool:
        return len(b.layers) + k <= 12

    r = rng.random()
    if r < 0.6:
        b.add(global_layer(rng, b.shape, "avg" if rng.random() < 0.8 else "max"))
    elif r < 0.75:
        n = len(b.shape) - 1
        b.add(
            adaptive_layer(
                rng, sp, b.shape, n, rng.choice(["avg", "max"]), [rng.choice([1, 2])] * n
            )
        )
    if not b.ok:
        return
    b.add(
        flatten_layer(rng, sp, None, None) if rng.random() < 0.8 else flatten_layer(rng, sp, 1, -1)
    )
    if b.ok and rng.random() < 0.3 and room(4):
        b.add(linear_layer(rng, sp, b.shape, rng.choice([32, 64, 16])))
        if b.ok and rng.random() < 0.4 and room(4):
            b.add(norm_layer(rng, sp, b.shape, 1, "batchnorm"))
        if b.ok:
            b.add(act_layer("relu"))
        if b.ok and rng.random() < 0.5 and room(2):
            b.add(dropout_layer(rng, rng.choice([None, 0.5, 0.2])))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 2, 5, 100, 1])))
    if b.ok and rng.random() < 0.2 and room(1):
        b.add(act_layer(rng.choice(["softmax", "logsoftmax", "sigmoid"])))


def chain_cnn(rng: random.Random, sp: Speller, n: int, inject_at: int | None) -> Chain:
    hi = LMAX[n]
    sizes = rand_spatial(rng, n, hi=hi)
    if rng.random() < 0.6:
        sizes = [max(v, rng.randint(8, hi)) for v in sizes]
    b = Chain([rng.choice([1, 2, 3, 3, 4]), *sizes], inject_at)
    blocks = rng.randint(1, 3)
    for _ in range(blocks):
        checkpoint(rng, sp, b)
        if not b.ok or len(b.layers) > 5:
            break
        conv_block(rng, sp, b, 3)
        if b.ok and rng.random() < 0.6:
            b.add(pool_for(rng, sp, b.shape))
    checkpoint(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_decoder(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[25, 55, 20])[0]
    lim = 3 if n == 3 else 6
    b = Chain([rng.choice([4, 8, 16]), *[rng.randint(1, lim) for _ in range(n)]], inject_at)
    steps = rng.randint(1, 3 if n < 3 else 2)
    for _ in range(steps):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        cout = rng.choice([4, 8, 8, 16])
        style = rng.choice(["k4s2p1", "k3s2p1op1", "k2s2", "k3s1p1"])
        kw: dict[str, Any] = {}
        if style == "k4s2p1":
            k, kw = 4, {"s": [2] * n, "p": [1] * n}
        elif style == "k3s2p1op1":
            k, kw = 3, {"s": [2] * n, "p": [1] * n, "op": [1] * n}
        elif style == "k2s2":
            k, kw = 2, {"s": [2] * n}
        else:
            k, kw = 3, {"p": [1] * n}
        b.add(
            conv_layer(
                rng,
                sp,
                shape,
                n,
                cout,
                [k] * n,
                transposed=True,
                bias=False if rng.random() < 0.3 else None,
                **kw,
            )
        )
        if b.ok and rng.random() < 0.7:
            b.add(norm_layer(rng, sp, b.shape, n, "batchnorm"))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    if b.ok:
        b.add(
            conv_layer(
                rng,
                sp,
                b.shape,
                n,
                rng.choice([1, 3]),
                [3] * n,
                p=[1] * n if rng.random() < 0.5 else "same",
            )
        )
    if b.ok:
        b.add(act_layer(rng.choice(["tanh", "sigmoid", "identity"])))
    return b


def chain_upsample(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[20, 65, 15])[0]
    lim = 4 if n == 3 else 12
    b = Chain([rng.choice([1, 3, 4]), *[rng.randint(2, lim) for _ in range(n)]], inject_at)
    if n == 2 and rng.random() < 0.25:
        sh = b.shape
        f = rng.choice([2, 3])
        b = Chain([sh[0], f * rng.randint(1, 5), f * rng.randint(1, 5)], inject_at)
        b.add(shuffle_layer(rng, "pixelunshuffle", f))
    for _ in range(rng.randint(1, 2)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        b.add(conv_layer(rng, sp, shape, n, rng.choice([4, 8]), [3] * n, p=[1] * n))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
        if not b.ok:
            break
        shape = b.shape
        if n == 2 and rng.random() < 0.4:
            r = rng.choice([2, 3])
            c = rng.choice([1, 2, 3])
            b.add(conv_layer(rng, sp, shape, n, c * r * r, [3] * n, p=[1] * n))
            if b.ok:
                b.add(shuffle_layer(rng, "pixelshuffle", r))
        else:
            modes = {1: "linear", 2: rng.choice(["bilinear", "bicubic"]), 3: "trilinear"}
            mode = rng.choice([None, "nearest", modes[n]])
            align = rng.choice([None, True, False]) if mode == modes[n] else None
            if rng.random() < 0.7:
                b.add(
                    upsample_layer(
                        rng, sp, n, scale=[rng.choice([2.0, 2.0, 1.5, 3.0])], mode=mode, align=align
                    )
                )
            else:
                b.add(
                    upsample_layer(
                        rng, sp, n, size=[2 * v for v in shape[1:]], mode=mode, align=align
                    )
                )
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
    return b


def chain_seq(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Linear / layernorm stacks on (T, F) or (F,) inputs."""
    shape = rng.choice(
        [
            [rng.randint(1, 16), rng.randint(2, 32)],
            [rng.randint(2, 40)],
            [rng.randint(1, 4), rng.randint(1, 8), rng.randint(2, 16)],
        ]
    )
    b = Chain(shape, inject_at)
    for _ in range(rng.randint(1, 3)):
        checkpoint(rng, sp, b)
        if not b.ok or len(b.layers) > 9:
            break
        b.add(linear_layer(rng, sp, b.shape, rng.choice([8, 16, 32, 4]), maybe_bias(rng)))
        if b.ok:
            b.add(act_layer(rng.choice(["gelu", "relu", "tanh", "silu"])))
        if b.ok and rng.random() < 0.6:
            b.add(layernorm_layer(rng, sp, b.shape, rng.choice([None, [b.shape[-1]]])))
        if b.ok and rng.random() < 0.3:
            b.add(dropout_layer(rng, rng.choice([0.1, None])))
    if b.ok and len(b.shape) > 1 and rng.random() < 0.5:
        b.add(flatten_layer(rng, sp, None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    if b.ok and rng.random() < 0.3:
        b.add(act_layer(rng.choice(["softmax", "logsoftmax"])))
    return b


def chain_pad(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    n = rng.choices([1, 2, 3], weights=[30, 50, 20])[0]
    b = Chain(
        [rng.choice([1, 2, 3]), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else 10)], inject_at
    )
    for _ in range(rng.randint(1, 3)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        mode = rng.choice([None, "reflect", "replicate", "circular", "constant"])
        b.add(pad_layer(rng, sp, shape, rng.randint(1, 2), mode))
        if b.ok:
            b.add(
                conv_layer(
                    rng,
                    sp,
                    b.shape,
                    n,
                    rng.choice([2, 4, 8]),
                    [3] * n,
                    p=rng.choice([None, "valid"]),
                    s=rng.choice([None, [2] * n]),
                )
            )
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    checkpoint(rng, sp, b)
    head(rng, sp, b)
    return b


def try_inject(
    rng: random.Random,
    b: Chain,
    fail_rate: float,
    candidates: Callable[[Shape, int], list[Callable[[], Layer]]],
) -> None:
    """Add one corner-case layer drawn from ``candidates(shape, n_spatial)``: one that
    PyTorch rejects with probability ``fail_rate``, else one it accepts."""
    if not b.ok:
        return
    want_fail = rng.random() < fail_rate
    shape = b.shape
    n = len(shape) - 1
    for _ in range(15):
        choices = candidates(shape, n)
        layer = rng.choice(choices)()
        ok, out, stable = b.probe(layer)
        if not stable:
            continue
        if ok and (out is None or 0 in out or math.prod(out) > 200_000 or len(out) != len(shape)):
            continue
        if ok != want_fail:
            b.add(layer)
            return


def inject(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one corner-case layer; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        choices: list[Callable[[], Layer]] = [
            lambda: gen_layernorm(rng, sp, shape),
            lambda: gen_groupnorm(rng, sp, shape),
            lambda: gen_prelu(rng, sp, shape),
            lambda: gen_flatten(rng, sp, shape),
        ]
        if 1 <= n <= 3:
            choices += [
                lambda: gen_conv(rng, sp, shape, n),
                lambda: gen_conv(rng, sp, shape, n),
                lambda: gen_convt(rng, sp, shape, n),
                lambda: gen_pool(rng, sp, shape, n, "max"),
                lambda: gen_pool(rng, sp, shape, n, "avg"),
                lambda: gen_pad(rng, sp, shape),
                lambda: gen_upsample(rng, sp, shape),
            ]
        if n == 2:
            choices += [
                lambda: gen_pixelshuffle(rng, sp, shape),
                lambda: gen_pixelunshuffle(rng, sp, shape),
            ]
        return choices

    try_inject(rng, b, 0.75, candidates)


def tail_after_error(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Layers after the failing one (never run; dimension explicit)."""
    for _ in range(rng.choice([0, 0, 1, 2])):
        r = rng.random()
        if r < 0.3:
            b.layers.append(act_layer("relu"))
        elif r < 0.5:
            b.layers.append(Layer("flatten", "flatten", nn.Flatten))
        elif r < 0.7:
            b.layers.append(Layer("linear", f"linear {rng.choice([10, 4])}", nn.Identity))
        else:
            b.layers.append(Layer("conv", f"conv2d 8 {sp.key('k', 'kernel_size')}=3", nn.Identity))


def make_chain(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    style = rng.choices(
        ["cnn2d", "cnn1d", "cnn3d", "decoder", "upsample", "seq", "pad"],
        weights=[30, 15, 12, 14, 12, 8, 9],
    )[0]
    if style == "cnn2d":
        b = chain_cnn(rng, sp, 2, inject_at)
    elif style == "cnn1d":
        b = chain_cnn(rng, sp, 1, inject_at)
    elif style == "cnn3d":
        b = chain_cnn(rng, sp, 3, inject_at)
    elif style == "decoder":
        b = chain_decoder(rng, sp, inject_at)
    elif style == "upsample":
        b = chain_upsample(rng, sp, inject_at)
    elif style == "seq":
        b = chain_seq(rng, sp, inject_at)
    else:
        b = chain_pad(rng, sp, inject_at)
    return b


def checkpoint(rng: random.Random, sp: Speller, b: Chain) -> None:
    """A point between blocks where a chain may receive its corner-case layer."""
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject(rng, sp, b)


def chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(2, 4) if rng.random() < 0.45 else None
    b = make_chain(rng, sp, inject_at)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


# --------------------------------------------------------------------------------------------
# receptive fields
# --------------------------------------------------------------------------------------------


@dataclass
class RfOp:
    kind: str  # conv | max | avg | pad
    k: list[int]
    s: list[int]
    d: list[int]
    p: list[int] | str  # symmetric per-dim pads, or "same"
    pads: list[int]  # pad layer: F.pad tuple
    cout: int = 1

    def geometry(self, i: int) -> tuple[int, int, int, int]:
        """(effective kernel, stride, left pad, right pad) along spatial dim i."""
        n = len(self.k)
        if self.kind == "pad":
            j = 2 * (n - 1 - i)
            return 1, 1, self.pads[j], self.pads[j + 1]
        dk = self.d[i] * (self.k[i] - 1) + 1
        if self.p == "same":
            total = dk - 1
            return dk, 1, total // 2, total - total // 2
        assert isinstance(self.p, list)
        return dk, self.s[i], self.p[i], self.p[i]


def rf_random_op(rng: random.Random, n: int) -> RfOp:
    kind = rng.choices(["conv", "max", "avg", "pad"], weights=[50, 20, 15, 15])[0]
    if kind == "pad":
        if rng.random() < 0.4:
            v = rng.randint(1, 2)
            return RfOp(kind, [1] * n, [1] * n, [1] * n, [0] * n, [v] * (2 * n))
        pads = [rng.randint(0, 2) for _ in range(2 * n)]
        if rng.random() < 0.15:
            pads[rng.randrange(2 * n)] = -1
        return RfOp(kind, [1] * n, [1] * n, [1] * n, [0] * n, pads)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s = vec(rng, n, lambda i: rng.randint(1, 3))
    d = (
        vec(rng, n, lambda i: rng.randint(1, 3))
        if kind != "avg" and rng.random() < 0.4
        else [1] * n
    )
    p: list[int] | str
    if kind == "conv" and rng.random() < 0.2:
        p = "same"
        s = [1] * n
        if rng.random() < 0.6:
            k = vec(rng, n, lambda i: rng.choice([2, 4]))
    elif kind == "conv":
        p = vec(rng, n, lambda i: rng.randint(0, 2))
    else:
        p = vec(rng, n, lambda i: rng.randint(0, min(2, k[i] // 2)))
    return RfOp(kind, k, s, d, p, [], rng.randint(1, 3))


def rf_text(rng: random.Random, sp: Speller, op: RfOp, n: int, rank_ok: bool) -> str:
    if op.kind == "pad":
        if len(set(op.pads)) == 1:
            return f"pad {op.pads[0]}"
        return f"pad {sp.ints(op.pads, scalar=False)}"
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(op.k)}"]
    is_same = op.p == "same"
    # a pool's stride defaults to its kernel: always spell it out
    if op.kind != "conv" or (not is_same and (any(v != 1 for v in op.s) or rng.random() < 0.2)):
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(op.s)}")
    if is_same:
        opts.append(f"{sp.key('p', 'padding')}=same")
    elif isinstance(op.p, list) and (any(op.p) or rng.random() < 0.2):
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(op.p)}")
    if any(v != 1 for v in op.d):
        opts.append(f"{sp.key('d', 'dilation')}={sp.ints(op.d)}")
    if op.kind == "conv":
        name = rng.choice([f"conv{n}d", "conv"] if rank_ok else [f"conv{n}d"])
        return finish(name, [str(op.cout)], opts, rng)
    name = rng.choice(
        [f"{op.kind}pool{n}d", f"{op.kind}pool"] if rank_ok else [f"{op.kind}pool{n}d"]
    )
    return finish(name, [], opts, rng)


def rf_real_module(op: RfOp, cin: int, n: int) -> tuple[nn.Module, int]:
    if op.kind == "pad":
        return Pad(tuple(op.pads), "constant"), cin
    pad: Any = op.p if isinstance(op.p, str) else tuple(op.p)
    if op.kind == "conv":
        m = CONV[n - 1](
            cin, op.cout, tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d)
        )
        return m, op.cout
    if op.kind == "max":
        return MAXPOOL[n - 1](
            tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d)
        ), cin
    return AVGPOOL[n - 1](tuple(op.k), stride=tuple(op.s), padding=pad), cin


def rf_geometry_module(op: RfOp, n: int) -> nn.Module:
    if op.kind == "pad":
        return Pad(tuple(op.pads), "constant")
    pad: Any = op.p if isinstance(op.p, str) else tuple(op.p)
    m = CONV[n - 1](
        1, 1, tuple(op.k), stride=tuple(op.s), padding=pad, dilation=tuple(op.d), bias=False
    )
    weight = m.weight
    assert isinstance(weight, torch.Tensor)
    with torch.no_grad():
        weight.fill_(1.0)
    return m.double()


def rf_formula(ops: list[RfOp], i: int) -> tuple[int, int, int]:
    r, j, big_p = 1, 1, 0
    for op in ops:
        dk, s, pl, _ = op.geometry(i)
        r += (dk - 1) * j
        big_p += pl * j
        j *= s
    return r, j, big_p


def rf_sizes(ops: list[RfOp], i: int, length: int) -> list[int]:
    """Input size of every layer along dim i, then the output size (0 = rejected)."""
    sizes = [length]
    for op in ops:
        dk, s, pl, pr = op.geometry(i)
        if op.kind == "pad":
            length = length + pl + pr
            if length < 1:
                return [*sizes, 0]
        else:
            if length + pl + pr < dk:
                return [*sizes, 0]
            length = (length + pl + pr - dk) // s + 1
        sizes.append(length)
    return sizes


def rf_valid_probes(ops: list[RfOp], i: int, length: int) -> list[int]:
    """Output indices whose window, at every layer, lies inside that layer's (unpadded) input."""
    sizes = rf_sizes(ops, i, length)
    good = []
    for m in range(sizes[-1]):
        u = v = m
        inside = True
        for op, size_in in zip(reversed(ops), reversed(sizes[:-1]), strict=True):
            dk, s, pl, _ = op.geometry(i)
            u, v = u * s - pl, v * s - pl + dk - 1
            if u < 0 or v > size_in - 1:
                inside = False
                break
        if inside:
            good.append(m)
    return good


def make_rf_case(rng: random.Random, sp: Speller) -> dict[str, Any] | None:
    n = rng.choice([1, 1, 2, 2, 2])
    depth = rng.randint(1, 6)
    ops = [rf_random_op(rng, n) for _ in range(depth)]
    cap = 300 if n == 1 else 72
    sizes = []
    for i in range(n):
        length = 1
        while length <= cap and not rf_valid_probes(ops, i, length):
            length += 1
        if length > cap:
            return None
        length += rng.randint(0, 12)
        if length > cap:
            return None
        sizes.append(length)
    cin = rng.randint(1, 3)
    inp = [cin, *sizes]
    # the real layers must be accepted by PyTorch
    x = torch.randn(1, *inp)
    c = cin
    texts = []
    try:
        with torch.no_grad():
            for op in ops:
                texts.append(rf_text(rng, sp, op, n, rank_ok=True))
                m, c = rf_real_module(op, c, n)
                x = m.eval()(x)
    except Exception:
        return None
    probe = [rng.choice(rf_valid_probes(ops, i, sizes[i])) for i in range(n)]
    # autograd on the geometry-equivalent all-ones single-channel chain
    g = torch.ones(1, 1, *sizes, dtype=torch.float64, requires_grad=True)
    y = g
    for op in ops:
        y = rf_geometry_module(op, n)(y)
    if list(y.shape[2:]) != list(x.shape[2:]):
        raise AssertionError(f"geometry chain shape {list(y.shape)} != real {list(x.shape)}")
    (grad,) = torch.autograd.grad(y[(0, 0, *probe)], g)
    nz = (grad[0, 0] != 0).nonzero()
    span = [[int(nz[:, i].min()), int(nz[:, i].max())] for i in range(n)]
    for i in range(n):
        r, j, big_p = rf_formula(ops, i)
        u = probe[i] * j - big_p
        if span[i] != [u, u + r - 1]:
            print(
                f"note: autograd span {span[i]} != formula {[u, u + r - 1]} for {texts}",
                file=sys.stderr,
            )
    sep = rng.choice([" ", " ", " ; ", " | ", "\n"])
    return {"spec": sep.join(texts), "input": inp, "probe": probe, "span": span}


# --------------------------------------------------------------------------------------------
# the second set of layer kinds: lppool, maxunpool, unflatten, embedding, rmsnorm,
# localresponsenorm, glu, channelshuffle. Their rows come after every earlier row and draw
# from their own random stream (SEED + 1), so the earlier rows and the RF file are unchanged.
# --------------------------------------------------------------------------------------------

LPPOOL: tuple[type[nn.Module], ...] = (nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)
MAXUNPOOL: tuple[type[nn.Module], ...] = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)


class Unpool(nn.Module):
    """MaxUnpool called as ``m(x, indices)`` with all-zero int64 indices (index 0 is valid
    whenever the output is non-empty)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, torch.zeros_like(x, dtype=torch.int64))


class Lookup(nn.Module):
    """Embedding fed an int64 index tensor of the input's shape (all zeros)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.zeros_like(x, dtype=torch.int64))


def spatial_names(kind: str, shape: Shape, n: int) -> list[str]:
    """``kind{n}d`` (twice as likely), plus the rank-from-input alias when it means the same."""
    return [f"{kind}{n}d", f"{kind}{n}d"] + ([kind] if len(shape) == n + 1 else [])


def lppool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    norm: float,
    k: list[int],
    *,
    s: list[int] | None = None,
    ceil: bool | None = None,
) -> Layer:
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if ceil is not None:
        opts.append(f"{sp.key('ceil', 'ceil_mode')}={sp.boolean(ceil)}")
    text = finish(rng.choice(spatial_names("lppool", shape, n)), [sp.float(norm)], opts, rng)
    cls = LPPOOL[n - 1]
    # LPPool1d multiplies by kernel_size, so it must be a plain int there
    return Layer(
        "lppool",
        text,
        lambda: cls(norm, one(k, n), stride=None if s is None else one(s, n), ceil_mode=bool(ceil)),
    )


def maxunpool_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    k: list[int],
    *,
    s: list[int] | None = None,
    p: list[int] | None = None,
) -> Layer:
    opts = [f"{sp.key('k', 'kernel_size')}={sp.ints(k)}"]
    if s is not None:
        opts.append(f"{sp.key('s', 'stride')}={sp.ints(s)}")
    if p is not None:
        opts.append(f"{sp.key('p', 'padding')}={sp.ints(p)}")
    text = finish(rng.choice(spatial_names("maxunpool", shape, n)), [], opts, rng)
    cls = MAXUNPOOL[n - 1]
    return Layer(
        "maxunpool",
        text,
        lambda: Unpool(
            cls(
                one(k, n),
                stride=None if s is None else one(s, n),
                padding=0 if p is None else one(p, n),
            )
        ),
    )


def sizes_text(sp: Speller, sizes: list[int]) -> str:
    """A tuple in a random style; a 1-element tuple always in parentheses."""
    if len(sizes) == 1:
        return sp.rng.choice(["({})", "({},)", "( {} )"]).format(sizes[0])
    return sp.ints(sizes, scalar=False)


def unflatten_layer(rng: random.Random, sp: Speller, dim: int, sizes: list[int]) -> Layer:
    style = rng.choice(["pos", "pos", "keys", "mixed"])
    st = sizes_text(sp, sizes)
    size_key = rng.choice(["sizes", "unflattened_size"])
    if style == "pos":
        text = finish("unflatten", [str(dim), st], [], rng)
    elif style == "keys":
        text = finish("unflatten", [], [f"dim={dim}", f"{size_key}={st}"], rng)
    else:
        text = finish("unflatten", [str(dim)], [f"{size_key}={st}"], rng)
    return Layer("unflatten", text, lambda: nn.Unflatten(dim, tuple(sizes)))


def embedding_layer(
    rng: random.Random,
    sp: Speller,
    num: int,
    dim: int,
    *,
    padding_idx: int | None = None,
    max_norm: float | None = None,
) -> Layer:
    opts = []
    if padding_idx is not None:
        opts.append(f"padding_idx={padding_idx}")
    if max_norm is not None:
        opts.append(f"max_norm={sp.float(max_norm)}")
    text = finish("embedding", [str(num), str(dim)], opts, rng)
    return Layer(
        "embedding",
        text,
        lambda: Lookup(nn.Embedding(num, dim, padding_idx=padding_idx, max_norm=max_norm)),
    )


def rmsnorm_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    ns: list[int] | None,
    affine: bool | None = None,
    eps: float | None = None,
) -> Layer:
    pos = [] if ns is None else [sp.ints(ns, scalar=False) if len(ns) > 1 else str(ns[0])]
    opts = []
    if affine is not None:
        opts.append(f"{sp.key('affine', 'elementwise_affine')}={sp.boolean(affine)}")
    if eps is not None:
        opts.append(f"eps={eps!r}")
    text = finish("rmsnorm", pos, opts, rng)
    arg: Any = shape[-1] if ns is None else (ns[0] if len(ns) == 1 else tuple(ns))
    ea = True if affine is None else affine
    return Layer("rmsnorm", text, lambda: nn.RMSNorm(arg, eps=eps, elementwise_affine=ea))


def lrn_layer(
    rng: random.Random,
    sp: Speller,
    size: int,
    alpha: float | None = None,
    beta: float | None = None,
    k: float | None = None,
) -> Layer:
    opts = []
    if alpha is not None:
        opts.append(f"alpha={sp.float(alpha)}")
    if beta is not None:
        opts.append(f"beta={sp.float(beta)}")
    if k is not None:
        opts.append(f"k={sp.float(k)}")
    text = finish(rng.choice(["localresponsenorm", "lrn"]), [str(size)], opts, rng)
    kw: dict[str, float] = {}
    if alpha is not None:
        kw["alpha"] = alpha
    if beta is not None:
        kw["beta"] = beta
    if k is not None:
        kw["k"] = k
    return Layer("localresponsenorm", text, lambda: nn.LocalResponseNorm(size, **kw))


def glu_layer(rng: random.Random, dim: int | None) -> Layer:
    text = "glu" if dim is None else f"glu dim={dim}"
    return Layer("glu", text, lambda: nn.GLU(-1 if dim is None else dim))


def channelshuffle_layer(rng: random.Random, groups: int) -> Layer:
    return Layer("channelshuffle", f"channelshuffle {groups}", lambda: nn.ChannelShuffle(groups))


NORM_TYPES = [2.0, 2.0, 2.0, 1.0, 3.0, 1.5, 4.0, 0.5, 2.5]


def gen_lppool(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    sizes = shape[-n:]
    sc = weighted(
        rng, {"basic": 34, "ceil": 20, "kbig": 20, "stride": 8, "bad": 8, "norm": 4, "tuple": 6}
    )
    norm = rng.choice(NORM_TYPES)
    k = vec(rng, n, lambda i: rng.randint(1, 5))
    s: list[int] | None = None
    ceil: bool | None = None
    if rng.random() < 0.3:
        ceil = rng.random() < 0.6
    if sc == "basic":
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 4))
    elif sc == "ceil":
        ceil = True
        kk, ss = list(k), [1] * n
        for i in range(n):
            for _ in range(200):
                ki, si = rng.randint(1, 5), rng.randint(2, 5)
                if ceil_drops(sizes[i], ki, si, 0, 1) or (i > 0 and rng.random() < 0.05):
                    kk[i], ss[i] = ki, si
                    break
            else:
                kk[i], ss[i] = rng.randint(1, 4), rng.randint(2, 4)
        k, s = kk, ss
    elif sc == "kbig":  # kernel around the input size: LPPool3d needs L >= k even with ceil
        for i in range(n):
            if i == 0 or rng.random() < 0.5:
                k[i] = max(1, sizes[i] + rng.choice([-1, 0, 1, 1, 2]))
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if ceil is None and rng.random() < 0.5:
            ceil = True
    elif sc == "stride":
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        s = vec(rng, n, lambda i: k[i] + rng.randint(1, 3))
    elif sc == "bad":
        what = rng.choice(["k", "k0s", "s"])
        k = vec(rng, n, lambda i: rng.randint(1, 3))
        if what == "k":
            k[rng.randrange(n)] = 0
        elif what == "k0s":
            k = [0] * n
            s = vec(rng, n, lambda i: rng.randint(1, 2))
        else:
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
    elif sc == "norm":  # norm_type 0 divides by zero in forward; a negative one is accepted
        norm = rng.choice([0.0, 0.0, -1.0, -2.0])
    else:  # a full tuple for every dim, stride spelled out
        k = [rng.randint(1, 4) for _ in range(n)]
        s = [rng.randint(1, 3) for _ in range(n)]
    return lppool_layer(rng, sp, shape, n, norm, k, s=s, ceil=ceil)


def gen_maxunpool(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    sizes = shape[-n:]
    sc = weighted(rng, {"basic": 45, "zero": 20, "weird": 12, "bigp": 13, "pool": 10})
    k = vec(rng, n, lambda i: rng.randint(1, 4))
    s: list[int] | None = None
    p: list[int] | None = None
    if sc == "basic":
        if rng.random() < 0.5:
            s = vec(rng, n, lambda i: rng.randint(1, 3))
        if rng.random() < 0.6:
            p = vec(rng, n, lambda i: rng.randint(0, k[i] // 2))
    elif sc == "zero":  # default output size near 0 (0 is accepted, negative is not)
        default_stride = rng.random() < 0.4
        ss = list(k) if default_stride else vec(rng, n, lambda i: rng.randint(1, 3))
        pp = [0] * n
        for i in range(n):
            if i == 0 or rng.random() < 0.5:
                base = (sizes[i] - 1) * ss[i] + k[i]
                target = rng.choice([t for t in (-2, -1, 0, 1) if (base - t) % 2 == 0])
                pp[i] = max(0, (base - target) // 2)
            else:
                pp[i] = rng.randint(0, 1)
        s = None if default_stride else ss
        p = pp
    elif sc == "weird":  # MaxUnpool validates none of k, s, p
        what = rng.choice(["k0", "k0s", "s0", "pneg"])
        if what == "k0":
            k[rng.randrange(n)] = 0
            if rng.random() < 0.5:
                s = vec(rng, n, lambda i: rng.randint(1, 2))
        elif what == "k0s":
            k = [0] * n
        elif what == "s0":
            s = vec(rng, n, lambda i: rng.randint(1, 2))
            s[rng.randrange(n)] = 0
        else:
            p = vec(rng, n, lambda i: rng.randint(0, 1))
            p[rng.randrange(n)] = -rng.randint(1, 2)
    elif sc == "bigp":
        s = vec(rng, n, lambda i: rng.randint(1, 3))
        p = vec(rng, n, lambda i: rng.randint(k[i] // 2 + 1, k[i] + 3))
    else:  # the usual inverse of maxpool k=2 / k=3 s=2
        kk = rng.choice([2, 2, 3])
        k = [kk] * n
        if kk == 3:
            s = [2] * n
            if rng.random() < 0.5:
                p = [1] * n
        elif rng.random() < 0.3:
            s = [2] * n
    return maxunpool_layer(rng, sp, shape, n, k, s=s, p=p)


def factor_split(rng: random.Random, value: int, parts: int) -> list[int]:
    """``parts`` positive ints whose product is ``value``."""
    out = [1] * parts
    rest = value
    for i in range(parts - 1):
        f = rng.choice(divisors(rest))
        out[i] = f
        rest //= f
    out[-1] = rest
    rng.shuffle(out)
    return out


def gen_unflatten(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1  # PyTorch's dims incl. the batch dim
    dim = rng.randint(1, nd - 1)
    size = shape[dim - 1]
    spelled = dim - nd if rng.random() < 0.35 else dim
    sc = weighted(
        rng,
        {
            "ok": 45,
            "infer": 22,
            "mismatch": 12,
            "two": 6,
            "range": 6,
            "badneg": 3,
            "zero": 2,
            "single": 4,
        },
    )
    sizes = factor_split(rng, size, rng.choice([2, 2, 2, 3, 3, 4]))
    if sc == "infer":
        sizes[rng.randrange(len(sizes))] = -1
    elif sc == "mismatch":
        j = rng.randrange(len(sizes))
        sizes[j] = (
            sizes[j] + rng.choice([1, 1, 2]) if sizes[j] == 1 else sizes[j] + rng.choice([-1, 1])
        )
        if rng.random() < 0.4 and len(sizes) > 1:  # -1 with a rest that does not divide
            sizes[(j + 1) % len(sizes)] = -1
    elif sc == "two":
        a, b = rng.sample(range(len(sizes)), 2)
        sizes[a] = sizes[b] = -1
    elif sc == "range":
        spelled = rng.choice([nd, nd + 1, -nd - 1])
    elif sc == "badneg":
        sizes[rng.randrange(len(sizes))] = rng.choice([-2, -3])
    elif sc == "zero":
        sizes[rng.randrange(len(sizes))] = 0
        if rng.random() < 0.5:
            sizes[(sizes.index(0) + 1) % len(sizes)] = -1
    elif sc == "single":
        sizes = [rng.choice([size, size, -1, size + 1])]
    return unflatten_layer(rng, sp, spelled, sizes)


def gen_embedding(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    num = rng.choice([1, 2, 5, 10, 10, 32, 100, 256, 1000, 5000])
    dim = rng.choice([1, 3, 4, 8, 16, 16, 32, 64, 128])
    sc = weighted(rng, {"plain": 40, "pad": 25, "padbad": 22, "maxnorm": 10, "sizes": 5})
    padding_idx: int | None = None
    max_norm: float | None = None
    if sc == "pad":
        padding_idx = rng.choice([0, 0, num - 1, -1, -num, rng.randrange(-num, num)])
    elif sc == "padbad":
        padding_idx = rng.choice([num, num, num + 1, -num - 1, -num - 1, 2 * num + 3])
    elif sc == "maxnorm":
        max_norm = rng.choice([1.0, 1.0, 2.0, 0.5, 5.0])
        if rng.random() < 0.4:
            padding_idx = rng.randrange(-num, num)
    else:  # table sizes at the edge: 0 rows cannot be indexed, a 0-wide table can
        num, dim = rng.choice([(0, 4), (0, 1), (3, 0), (1, 0), (-1, 4), (4, -2)])
    return embedding_layer(rng, sp, num, dim, padding_idx=padding_idx, max_norm=max_norm)


def gen_rmsnorm(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    sc = weighted(rng, {"default": 22, "last": 18, "tail": 28, "bad": 28, "long": 4})
    ns: list[int] | None = None
    if sc == "last":
        ns = [shape[-1]]
    elif sc == "tail":
        m = rng.randint(1, len(shape))
        ns = shape[-m:]
    elif sc == "bad":
        m = rng.randint(1, len(shape))
        ns = list(shape[-m:])
        j = rng.randrange(m)
        ns[j] = max(1, ns[j] + rng.choice([-1, 1, 2])) if ns[j] > 1 else ns[j] + rng.randint(1, 2)
        if ns == shape[-m:]:
            ns[j] += 1
    elif sc == "long":  # more dims than the batched input has
        ns = [rng.randint(1, 3), rng.randint(1, 3), *shape]
    affine = rng.choice([None, None, True, False])
    eps = rng.choice([None, None, None, 1e-5, 1e-6, 1e-8]) if rng.random() < 0.5 else None
    return rmsnorm_layer(rng, sp, shape, ns, affine, eps)


def gen_lrn(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    r = rng.random()
    if r < 0.06:
        size = rng.choice([0, 0, -1, -2, -3])
    elif r < 0.2:
        size = c + rng.randint(0, 6)
    else:
        size = rng.choice([1, 2, 3, 3, 5, 5, 5, 7])
    alpha = rng.choice([None, None, 1e-4, 0.001, 0.0001, 1.0]) if rng.random() < 0.5 else None
    beta = rng.choice([None, 0.75, 0.5, 1.0]) if rng.random() < 0.4 else None
    k = rng.choice([None, 1.0, 2.0, 2.5]) if rng.random() < 0.4 else None
    return lrn_layer(rng, sp, size, alpha, beta, k)


def gen_glu(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    nd = len(shape) + 1
    r = rng.random()
    if r < 0.35:
        return glu_layer(rng, None)
    if r < 0.93:
        v = rng.randint(1, nd - 1)
        return glu_layer(rng, v - nd if rng.random() < 0.4 else v)
    return glu_layer(rng, rng.choice([nd, nd + 1, -nd - 1]))


def gen_channelshuffle(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    c = shape[0]
    r = rng.random()
    if r < 0.6:
        g = rng.choice(divisors(c))
    elif r < 0.9:
        g = rng.randint(2, 8)
    else:
        g = rng.choice([0, 0, -1, -2])
    return channelshuffle_layer(rng, g)


def new_kind_input(rng: random.Random, n: int, hi3: int = 12) -> Shape:
    """[C, *spatial] for an n-d layer; now and then one dim too many (rejected)."""
    shape = [rand_channels(rng), *rand_spatial(rng, n, hi=LMAX[n] if n < 3 else hi3)]
    if rng.random() < 0.35:
        shape[1:] = [rng.randint(1, 8) for _ in shape[1:]]
    if rng.random() < 0.04:
        shape.append(rng.randint(1, 8))
    return shape


def case_lppool(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = new_kind_input(rng, n)
    return shape, gen_lppool(rng, sp, shape, n)


def case_maxunpool(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    n = pick_n(rng)
    shape = new_kind_input(rng, n, hi3=8)
    if rng.random() < 0.15:
        shape[1 : n + 1] = [1] * n
    return shape, gen_maxunpool(rng, sp, shape, n)


def case_unflatten(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.6:
        shape[rng.randrange(len(shape))] = rng.choice([4, 6, 8, 12, 12, 16, 18, 24, 30, 36, 64])
    return shape, gen_unflatten(rng, sp, shape)


def case_embedding(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    r = rng.randint(1, 4)
    if r == 1:
        shape = [rng.randint(1, 40)]
    elif r == 4 and rng.random() < 0.5:
        shape = [rng.randint(1, 4) for _ in range(4)]
    else:
        shape = [rng.randint(1, 12) for _ in range(min(r, 3))]
    return shape, gen_embedding(rng, sp, shape)


def case_rmsnorm(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    return shape, gen_rmsnorm(rng, sp, shape)


def case_lrn(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.06:  # 6-d batched input (LocalResponseNorm folds the extra dims)
        shape = [rand_channels(rng), *[rng.randint(1, 5) for _ in range(4)]]
    return shape, gen_lrn(rng, sp, shape)


def case_glu(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    shape = any_input(rng)
    if rng.random() < 0.7:  # usually make some dims even
        shape = [v if v % 2 == 0 or rng.random() < 0.3 else v + 1 for v in shape]
    return shape, gen_glu(rng, sp, shape)


def case_channelshuffle(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    c = rng.choice([1, 2, 3, 4, 4, 6, 8, 8, 9, 12, 16, 24])
    rank = rng.choices([0, 1, 2, 3, 4], weights=[10, 25, 40, 20, 5])[0]
    shape = [c, *[rng.randint(1, 10 if rank < 3 else 5) for _ in range(rank)]]
    return shape, gen_channelshuffle(rng, sp, shape)


def pinned_new_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """Documented corner cases of the second set of kinds, always present."""
    r, s = rng, sp
    return [
        # LPPool3d needs the input >= kernel in every dim, even where ceil_mode would fit
        ("lppool", [2, 2, 5, 5], lppool_layer(r, s, [2, 2, 5, 5], 3, 2.0, [3, 3, 3])),
        ("lppool", [2, 2, 5], lppool_layer(r, s, [2, 2, 5], 2, 2.0, [3, 3], s=[2, 2], ceil=True)),
        (
            "lppool",
            [2, 2, 5, 5],
            lppool_layer(r, s, [2, 2, 5, 5], 3, 2.0, [3, 3, 3], s=[2, 2, 2], ceil=True),
        ),
        ("lppool", [1, 6], lppool_layer(r, s, [1, 6], 1, 1.5, [2], s=[4], ceil=True)),
        ("lppool", [1, 5], lppool_layer(r, s, [1, 5], 1, 2.0, [2], s=[2], ceil=True)),
        ("lppool", [3, 8, 8], lppool_layer(r, s, [3, 8, 8], 2, 0.0, [2, 2])),
        ("maxunpool", [3, 4, 4], maxunpool_layer(r, s, [3, 4, 4], 2, [2, 2])),
        ("maxunpool", [3, 4, 4], maxunpool_layer(r, s, [3, 4, 4], 2, [3, 3], s=[2, 2], p=[1, 1])),
        ("maxunpool", [3, 1], maxunpool_layer(r, s, [3, 1], 1, [2], p=[1])),
        ("maxunpool", [3, 1], maxunpool_layer(r, s, [3, 1], 1, [1], p=[1])),
        ("maxunpool", [3, 5, 5], maxunpool_layer(r, s, [3, 5, 5], 2, [0, 0])),
        ("unflatten", [784], unflatten_layer(r, s, 1, [16, 7, 7])),
        ("unflatten", [6, 4], unflatten_layer(r, s, 1, [-1, -1])),
        ("unflatten", [6, 4], unflatten_layer(r, s, 1, [4, 2])),
        ("unflatten", [6, 4], unflatten_layer(r, s, -1, [2, -1])),
        ("embedding", [5], embedding_layer(r, s, 10, 4, padding_idx=-10)),
        ("embedding", [5], embedding_layer(r, s, 10, 4, padding_idx=10)),
        ("embedding", [2, 5], embedding_layer(r, s, 10, 4, padding_idx=-11)),
        ("rmsnorm", [3, 4], rmsnorm_layer(r, s, [3, 4], [2, 4])),
        ("rmsnorm", [3, 4], rmsnorm_layer(r, s, [3, 4], [3, 4], affine=False)),
        ("localresponsenorm", [8], lrn_layer(r, s, 5)),
        ("localresponsenorm", [8, 4], lrn_layer(r, s, 5)),
        ("glu", [3, 5], glu_layer(r, None)),
        ("glu", [4, 5], glu_layer(r, 1)),
        ("channelshuffle", [6, 4, 4], channelshuffle_layer(r, 4)),
        ("channelshuffle", [6, 4, 4], channelshuffle_layer(r, 0)),
        ("channelshuffle", [6], channelshuffle_layer(r, 2)),
    ]


NEW_PLAN: list[tuple[str, int, float, CaseGen]] = [
    ("lppool", 180, 0.28, case_lppool),
    ("maxunpool", 160, 0.25, case_maxunpool),
    ("unflatten", 150, 0.25, case_unflatten),
    ("embedding", 140, 0.25, case_embedding),
    ("rmsnorm", 140, 0.25, case_rmsnorm),
    ("localresponsenorm", 130, 0.28, case_lrn),
    ("glu", 130, 0.28, case_glu),
    ("channelshuffle", 130, 0.25, case_channelshuffle),
]


def inject_new(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one corner-case layer of the second set; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        choices: list[Callable[[], Layer]] = [
            lambda: gen_unflatten(rng, sp, shape),
            lambda: gen_rmsnorm(rng, sp, shape),
            lambda: gen_glu(rng, sp, shape),
            lambda: gen_lrn(rng, sp, shape),
            lambda: gen_channelshuffle(rng, sp, shape),
        ]
        if 1 <= n <= 3:
            choices += [
                lambda: gen_lppool(rng, sp, shape, n),
                lambda: gen_maxunpool(rng, sp, shape, n),
            ]
        return choices

    try_inject(rng, b, 0.7, candidates)


def checkpoint_new(rng: random.Random, sp: Speller, b: Chain) -> None:
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject_new(rng, sp, b)


def chain_alexnet(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """conv → relu → LRN → (max | LP) pool blocks, optionally unpooled back up."""
    n = rng.choices([1, 2, 3], weights=[25, 60, 15])[0]
    hi = LMAX[n]
    sizes = [max(v, rng.randint(8, hi)) for v in rand_spatial(rng, n, hi=hi)]
    b = Chain([rng.choice([1, 3, 3, 4]), *sizes], inject_at)
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        b.add(conv_layer(rng, sp, shape, n, rng.choice([8, 12, 16]), [3] * n, p=[1] * n))
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
        if b.ok and rng.random() < 0.7:
            if rng.random() < 0.5:
                b.add(lrn_layer(rng, sp, rng.choice([3, 5, 5])))
            else:  # AlexNet's
                b.add(lrn_layer(rng, sp, 5, 1e-4, 0.75, 2.0))
        if not b.ok:
            break
        shape = b.shape
        r = rng.random()
        if r < 0.45:
            k = rng.choice([2, 3])
            b.add(
                lppool_layer(
                    rng,
                    sp,
                    shape,
                    n,
                    rng.choice([2.0, 2.0, 1.0, 3.0]),
                    [k] * n,
                    s=[2] * n if k == 3 or rng.random() < 0.3 else None,
                    ceil=rng.choice([None, None, True]),
                )
            )
        elif r < 0.8:
            b.add(pool_for(rng, sp, shape))
    if b.ok and rng.random() < 0.35:
        checkpoint_new(rng, sp, b)
        if b.ok:
            shape = b.shape
            b.add(maxunpool_layer(rng, sp, shape, n, [2] * n, s=rng.choice([None, [2] * n])))
            if b.ok:
                b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
            return b
    checkpoint_new(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_shufflenet(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """grouped 1×1 conv → BN → ReLU → channel shuffle → depthwise 3×3."""
    n = rng.choices([1, 2], weights=[30, 70])[0]
    b = Chain([3, *[rng.randint(8, 32) for _ in range(n)]], inject_at)
    b.add(conv_layer(rng, sp, b.shape, n, rng.choice([12, 24]), [3] * n, s=[2] * n, p=[1] * n))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        shape = b.shape
        g = rng.choice([g for g in (2, 3, 4) if shape[0] % g == 0] or [1])
        b.add(conv_layer(rng, sp, shape, n, g * rng.choice([4, 6]), [1] * n, g=g, bias=False))
        if b.ok:
            b.add(norm_layer(rng, sp, b.shape, n, "batchnorm"))
        if b.ok:
            b.add(act_layer("relu"))
        if b.ok:
            b.add(channelshuffle_layer(rng, g))
        if b.ok:
            b.add(conv_layer(rng, sp, b.shape, n, b.shape[0], [3] * n, p=[1] * n, g="dw"))
    checkpoint_new(rng, sp, b)
    head(rng, sp, b)
    return b


def chain_gated(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Gated convolutions (conv to 2C, GLU over the channels) or a gated MLP."""
    if rng.random() < 0.6:
        n = rng.choice([1, 1, 2])
        b = Chain([rng.choice([1, 4, 8]), *[rng.randint(6, 30) for _ in range(n)]], inject_at)
        for _ in range(rng.randint(1, 3)):
            checkpoint_new(rng, sp, b)
            if not b.ok:
                break
            c = rng.choice([4, 8, 16])
            b.add(conv_layer(rng, sp, b.shape, n, 2 * c, [3] * n, p=[1] * n))
            if b.ok:
                b.add(glu_layer(rng, rng.choice([1, 1, -n - 1])))
        checkpoint_new(rng, sp, b)
        head(rng, sp, b)
        return b
    b = Chain(
        rng.choice([[rng.randint(2, 16), rng.randint(2, 32)], [rng.randint(2, 40)]]), inject_at
    )
    for _ in range(rng.randint(1, 3)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(linear_layer(rng, sp, b.shape, 2 * rng.choice([4, 8, 16]), maybe_bias(rng)))
        if b.ok:
            b.add(glu_layer(rng, rng.choice([None, None, -1])))
        if b.ok and rng.random() < 0.5:
            b.add(rmsnorm_layer(rng, sp, b.shape, rng.choice([None, [b.shape[-1]]])))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    return b


def chain_embed(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Token indices → embedding → (RMSNorm, linear, GLU) stacks → head."""
    shape = rng.choice([[rng.randint(1, 32)], [rng.randint(1, 4), rng.randint(1, 16)]])
    b = Chain(shape, inject_at)
    num = rng.choice([100, 1000, 5000, 30])
    dim = rng.choice([8, 16, 32, 64])
    pad = rng.choice([None, None, 0, -1])
    b.add(embedding_layer(rng, sp, num, dim, padding_idx=pad))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(rmsnorm_layer(rng, sp, b.shape, rng.choice([None, None, [b.shape[-1]]])))
        if b.ok:
            b.add(linear_layer(rng, sp, b.shape, 2 * rng.choice([16, 32]), maybe_bias(rng)))
        if b.ok:
            b.add(glu_layer(rng, rng.choice([None, -1])))
        if b.ok and rng.random() < 0.3:
            b.add(dropout_layer(rng, 0.1))
    if b.ok and rng.random() < 0.5:
        b.add(flatten_layer(rng, sp, None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([2, 10, 100])))
    return b


def chain_unflatten(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """A latent vector → linear → unflatten to (C, H, W) → transposed convs."""
    n = rng.choice([1, 2, 2, 2, 3])
    c = rng.choice([4, 8, 16])
    side = rng.choice([2, 3, 4]) if n < 3 else 2
    b = Chain([rng.choice([8, 16, 32, 100])], inject_at)
    b.add(linear_layer(rng, sp, b.shape, c * side**n))
    if b.ok:
        sizes = [c] + [side] * n
        if rng.random() < 0.3:
            sizes[rng.randrange(n + 1)] = -1
        b.add(unflatten_layer(rng, sp, rng.choice([1, -1]), sizes))
    for _ in range(rng.randint(1, 2)):
        checkpoint_new(rng, sp, b)
        if not b.ok:
            break
        b.add(
            conv_layer(
                rng,
                sp,
                b.shape,
                n,
                rng.choice([4, 8]),
                [4] * n,
                s=[2] * n,
                p=[1] * n,
                transposed=True,
            )
        )
        if b.ok:
            b.add(act_layer(rng.choice(SAFE_ACTS)))
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, n, rng.choice([1, 3]), [3] * n, p=[1] * n))
    return b


def new_chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(2, 3) if rng.random() < 0.4 else None
    style = rng.choices(
        ["alexnet", "shufflenet", "gated", "embed", "unflatten"], weights=[30, 18, 20, 17, 15]
    )[0]
    makers = {
        "alexnet": chain_alexnet,
        "shufflenet": chain_shufflenet,
        "gated": chain_gated,
        "embed": chain_embed,
        "unflatten": chain_unflatten,
    }
    b = makers[style](rng, sp, inject_at)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def join_chain(rng: random.Random, texts: list[str]) -> str:
    out = texts[0]
    for t in texts[1:]:
        out += rng.choice([" ", " ", " ", " ; ", " | ", "\n"]) + t
    return out


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def zoo_chains(
    layer: Callable[[str, Callable[[], nn.Module]], Layer],
    conv: Callable[..., Callable[[], nn.Module]],
) -> list[tuple[str, Shape, list[Layer]]]:
    """examples/*.spec (AlexNet, VGG-16, MobileNet v1, LeNet-5), built here layer by
    layer as torchvision and the papers define them; each spec is the file's layers
    joined by newlines (tests/test_examples.py checks the files say the same)."""
    relu = lambda: layer("relu", nn.ReLU)  # noqa: E731
    maxpool = lambda k, s: layer(  # noqa: E731
        f"maxpool k={k}" + (f" s={s}" if s != k else ""), lambda: nn.MaxPool2d(k, s)
    )

    def conv_relu(cin: int, cout: int, k: int, s: int = 1, p: int = 0) -> list[Layer]:
        text = f"conv2d {cout} k={k}" + (f" s={s}" if s != 1 else "") + (f" p={p}" if p else "")
        return [layer(text, conv(cin, cout, k, s, p)), relu()]

    def dropout_linear(fin: int, fout: int) -> list[Layer]:
        return [
            layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
            layer(f"linear {fout}", lambda: nn.Linear(fin, fout)),
        ]

    alexnet = [
        *conv_relu(3, 64, 11, 4, 2), maxpool(3, 2),
        *conv_relu(64, 192, 5, 1, 2), maxpool(3, 2),
        *conv_relu(192, 384, 3, 1, 1),
        *conv_relu(384, 256, 3, 1, 1),
        *conv_relu(256, 256, 3, 1, 1), maxpool(3, 2),
        layer("adaptiveavgpool 6", lambda: nn.AdaptiveAvgPool2d((6, 6))),
        layer("flatten", nn.Flatten),
        *dropout_linear(256 * 6 * 6, 4096), relu(),
        *dropout_linear(4096, 4096), relu(),
        layer("linear 1000", lambda: nn.Linear(4096, 1000)),
    ]  # fmt: skip
    vgg16: list[Layer] = []
    cin = 3
    for cfg in [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]:
        for cout in cfg:
            vgg16 += conv_relu(cin, cout, 3, 1, 1)
            cin = cout
        vgg16.append(maxpool(2, 2))
    vgg16 += [
        layer("adaptiveavgpool 7", lambda: nn.AdaptiveAvgPool2d((7, 7))),
        layer("flatten", nn.Flatten),
        layer("linear 4096", lambda: nn.Linear(512 * 7 * 7, 4096)), relu(),
        layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
        layer("linear 4096", lambda: nn.Linear(4096, 4096)), relu(),
        layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
        layer("linear 1000", lambda: nn.Linear(4096, 1000)),
    ]  # fmt: skip

    def bn_relu(c: int) -> list[Layer]:
        return [layer("bn", lambda: nn.BatchNorm2d(c)), relu()]

    mobilenet = [layer("conv2d 32 k=3 s=2 p=1 bias=false", conv(3, 32, 3, 2, 1, bias=False))]
    mobilenet += bn_relu(32)
    cin = 32
    for cout, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                    (1024, 2), (1024, 1)]:  # fmt: skip
        c = cin
        mobilenet.append(
            layer(
                f"conv2d k=3 s={s} p=1 g=dw bias=false",
                lambda c=c, s=s: nn.Conv2d(c, c, 3, s, 1, groups=c, bias=False),
            )
        )
        mobilenet += bn_relu(cin)
        mobilenet.append(layer(f"conv2d {cout} k=1 bias=false", conv(cin, cout, 1, bias=False)))
        mobilenet += bn_relu(cout)
        cin = cout
    mobilenet += [
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 1000", lambda: nn.Linear(1024, 1000)),
    ]
    tanh = lambda: layer("tanh", nn.Tanh)  # noqa: E731
    lenet = [
        layer("conv2d 6 k=5", conv(1, 6, 5)), tanh(), layer("avgpool k=2", lambda: nn.AvgPool2d(2)),
        layer("conv2d 16 k=5", conv(6, 16, 5)), tanh(), layer("avgpool k=2", lambda: nn.AvgPool2d(2)),
        layer("flatten", nn.Flatten),
        layer("linear 120", lambda: nn.Linear(400, 120)), tanh(),
        layer("linear 84", lambda: nn.Linear(120, 84)), tanh(),
        layer("linear 10", lambda: nn.Linear(84, 10)),
    ]  # fmt: skip
    return [
        ("\n".join(x.text for x in chain), shape, chain)
        for chain, shape in [
            (alexnet, [3, 224, 224]),
            (vgg16, [3, 224, 224]),
            (mobilenet, [3, 224, 224]),
            (lenet, [1, 32, 32]),
        ]
    ]


def documented_chains() -> list[tuple[str, Shape, list[Layer]]]:
    """The networks shown in SPEC.md, the README and examples/, built by hand in
    PyTorch: the figures users read in the docs are checked like every other case."""

    def layer(text: str, make: Callable[[], nn.Module]) -> Layer:
        return Layer("documented", text, make)

    def conv(
        cin: int, cout: int, k: int, s: int = 1, p: int = 0, bias: bool = True
    ) -> Callable[[], nn.Module]:
        return lambda: nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias)

    spec_chain = [
        layer("conv2d 64 k=7 s=2 p=3", conv(3, 64, 7, 2, 3)),
        layer("maxpool2d k=3 s=2 p=1", lambda: nn.MaxPool2d(3, 2, 1)),
        layer("conv2d 128 k=3 s=2 p=1", conv(64, 128, 3, 2, 1)),
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 10", lambda: nn.Linear(128, 10)),
    ]
    stem = [
        layer("conv2d 64 k=7 s=2 p=3 bias=false", conv(3, 64, 7, 2, 3, bias=False)),
        layer("bn", lambda: nn.BatchNorm2d(64)),
        layer("relu", nn.ReLU),
        layer("maxpool k=3 s=2 p=1", lambda: nn.MaxPool2d(3, 2, 1)),
    ]
    for _ in range(2):
        stem += [
            layer("conv2d 64 k=3 p=1 bias=false", conv(64, 64, 3, 1, 1, bias=False)),
            layer("bn", lambda: nn.BatchNorm2d(64)),
            layer("relu", nn.ReLU),
        ]
    mnist = [
        layer("conv2d 32 k=3", conv(1, 32, 3)),
        layer("relu", nn.ReLU),
        layer("conv2d 64 k=3", conv(32, 64, 3)),
        layer("relu", nn.ReLU),
        layer("maxpool k=2", lambda: nn.MaxPool2d(2)),
        layer("dropout p=0.25", lambda: nn.Dropout(0.25)),
        layer("flatten", nn.Flatten),
        layer("linear 128", lambda: nn.Linear(9216, 128)),
        layer("relu", nn.ReLU),
        layer("linear 10", lambda: nn.Linear(128, 10)),
    ]
    small = [
        layer("conv2d 16 k=3 p=1", conv(3, 16, 3, 1, 1)),
        layer("bn", lambda: nn.BatchNorm2d(16)),
        layer("relu", nn.ReLU),
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 10", lambda: nn.Linear(16, 10)),
    ]
    sequence = [
        layer("embedding 32000 512", lambda: Lookup(nn.Embedding(32000, 512))),
        layer("rmsnorm", lambda: nn.RMSNorm(512)),
        layer("linear 2048", lambda: nn.Linear(512, 2048)),
        layer("glu", nn.GLU),
        layer("linear 512", lambda: nn.Linear(1024, 512)),
    ]
    return [
        *zoo_chains(layer, conv),
        ("  ".join(x.text for x in spec_chain), [3, 224, 224], spec_chain),
        (" ".join(x.text for x in sequence), [128], sequence),
        ("\n".join(x.text for x in stem), [3, 224, 224], stem),
        ("\n".join(x.text for x in mnist), [1, 28, 28], mnist),
        (" ".join(x.text for x in small), [3, 32, 32], small),
        (" ; ".join(x.text for x in spec_chain[:2]), [3, 224, 224], spec_chain[:2]),
    ]


def single_rows(
    rng: random.Random,
    sp: Speller,
    pinned: list[tuple[str, Shape, Layer]],
    plan: list[tuple[str, int, float, CaseGen]],
    seen: set[tuple[str, tuple[int, ...]]],
    stats: Counter[str],
    rejected: Counter[str],
    unstable_seen: list[str],
) -> list[dict[str, Any]]:
    """The pinned cases, then ``plan``'s random single-layer cases."""
    rows: list[dict[str, Any]] = []
    for family, shape, layer in pinned:
        b = Chain(shape)
        b.add(layer)
        if b.unstable:
            unstable_seen.append(f"{layer.text}  on {shape}")
            continue
        seen.add((layer.text, tuple(shape)))
        stats[family] += 1
        rejected[family] += not b.ok
        rows.append({"spec": layer.text, "input": shape, "layers": b.records, "error": b.error})
    for family, count, reject_rate, gen in plan:
        for _ in range(count):
            want_fail = rng.random() < reject_rate
            best: tuple[Shape, Layer, Chain] | None = None
            for _attempt in range(40):
                shape, layer = gen(rng, sp)
                key = (layer.text, tuple(shape))
                if key in seen:
                    continue
                b = Chain(shape)
                b.add(layer)
                if b.unstable:
                    unstable_seen.append(f"{layer.text}  on {shape}")
                    continue
                if b.ok and math.prod(b.shape) > 200_000:
                    continue
                best = (shape, layer, b)
                if (not b.ok) == want_fail:
                    break
            if best is None:
                continue
            shape, layer, b = best
            seen.add((layer.text, tuple(shape)))
            stats[family] += 1
            rejected[family] += not b.ok
            rows.append({"spec": layer.text, "input": shape, "layers": b.records, "error": b.error})
    return rows


def chain_rows(
    rng: random.Random,
    sp: Speller,
    make: Callable[[random.Random, Speller], Chain],
    count: int,
    seen: set[tuple[str, tuple[int, ...]]],
    chain_stats: Counter[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        b = make(rng, sp)
        if not 2 <= len(b.layers) <= 12 or b.unstable:
            continue
        texts = [layer.text for layer in b.layers]
        spec = join_chain(rng, texts)
        key = (spec, tuple(b.input))
        if key in seen:
            continue
        seen.add(key)
        chain_stats["failed" if b.error else "ok"] += 1
        rows.append({"spec": spec, "input": b.input, "layers": b.records, "error": b.error})
    return rows


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    sp = Speller(rng)
    t0 = time.time()

    seen: set[tuple[str, tuple[int, ...]]] = set()
    stats: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    unstable_seen: list[str] = []
    rows = single_rows(rng, sp, pinned_cases(rng, sp), PLAN, seen, stats, rejected, unstable_seen)
    n_single = len(rows)

    chain_stats: Counter[str] = Counter()
    rows += chain_rows(rng, sp, chain_with_faults, 900, seen, chain_stats)

    for spec, shape, layers in documented_chains():
        b = Chain(shape)
        for one_layer in layers:
            b.add(one_layer)
        assert b.ok and not b.unstable, spec
        rows.append({"spec": spec, "input": shape, "layers": b.records, "error": None})

    rf_rows: list[dict[str, Any]] = []
    while len(rf_rows) < 400:
        case = make_rf_case(rng, sp)
        if case is None or (case["spec"], tuple(case["input"])) in seen:
            continue
        seen.add((case["spec"], tuple(case["input"])))
        rf_rows.append(case)

    # the second set of layer kinds, from its own stream: appended, nothing above changes
    rng2 = random.Random(SEED + 1)
    sp2 = Speller(rng2)
    new_rows = single_rows(
        rng2, sp2, pinned_new_cases(rng2, sp2), NEW_PLAN, seen, stats, rejected, unstable_seen
    )
    n_single += len(new_rows)
    rows += new_rows
    rows += chain_rows(rng2, sp2, new_chain_with_faults, 160, seen, chain_stats)
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
