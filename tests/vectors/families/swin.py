"""swin: torchvision's Swin Transformer and MaxViT layers, each its own class from
torchvision.models.swin_transformer and torchvision.models.maxvit —
``ShiftedWindowAttention`` / ``ShiftedWindowAttentionV2`` (dim, window_size, shift_size,
num_heads) on a channels-last H×W×C input, ``ShiftedWindowAttention3d`` (Video Swin) on
T×H×W×C, ``PatchMerging`` / ``PatchMergingV2`` (dim),
``WindowPartition`` / ``WindowDepartition`` (their sizes passed at construction here, to
forward) and ``RelativePositionalMultiHeadAttention`` (feat_dim, head_dim, max_seq_len) on
G×P×D groups of tokens.

Corners: window attention pads H and W up to whole windows (any size works), rejects a
window of 0, channels other than dim, dim not divisible by the heads and an input that is
not H×W×C; a shift never matters to the figures (torchvision drops it where the window
covers the map). The 3-d attention shrinks a window larger than its input along an axis
instead of padding there. Patch merging pads to even sizes and keeps leading dimensions. A partition
needs H and W multiples of P; a departition is a reshape (only the element counts must
agree). Relative-position attention needs its groups of exactly max_seq_len tokens (or a
max_seq_len of 1, a bias broadcast over any group), feat_dim divisible by head_dim and D =
feat_dim. MACs are FlopCounterMode's: the projections, QKᵀ and AV (and v2's bias MLP)."""

from __future__ import annotations

import random
import sys
import types

# torchvision's compiled ops fail to load in this environment; its Python modules only need
# this module to exist.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
import torch  # noqa: E402
from common import (  # noqa: E402
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    divisors,
    finish,
    try_inject,
    weighted,
)
from torch import nn  # noqa: E402
from torchvision.models.maxvit import (  # noqa: E402
    RelativePositionalMultiHeadAttention,
    WindowDepartition,
    WindowPartition,
)
from torchvision.models.swin_transformer import (  # noqa: E402
    PatchMerging,
    PatchMergingV2,
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
)
from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d  # noqa: E402

from families.activation import act_layer  # noqa: E402
from families.chains import tail_after_error  # noqa: E402
from families.conv import conv_layer  # noqa: E402
from families.linear import linear_layer  # noqa: E402
from families.norm import layernorm_layer  # noqa: E402
from families.transformer import permute_layer, transpose_layer  # noqa: E402


class Partition(nn.Module):
    """WindowPartition()(x, p) with p given at construction."""

    def __init__(self, p: int) -> None:
        super().__init__()
        self.inner, self.p = WindowPartition(), p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, self.p)


class Departition(nn.Module):
    """WindowDepartition()(x, p, hp, wp) with its sizes given at construction."""

    def __init__(self, p: int, hp: int, wp: int) -> None:
        super().__init__()
        self.inner, self.p, self.hp, self.wp = WindowDepartition(), p, hp, wp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, self.p, self.hp, self.wp)


# --------------------------------------------------------------------------------------------
# layers: convcalc text + module
# --------------------------------------------------------------------------------------------


def window_layer(
    rng: random.Random,
    sp: Speller,
    version: int,
    dim: int,
    heads: int,
    window: list[int],
    shift: list[int] | None,
    qkv_bias: bool | None = None,
    proj_bias: bool | None = None,
) -> Layer:
    """``shiftedwindowattention[v2] dim heads window=… [shift=…]``; a missing shift is
    convcalc's default (0, 0)."""
    suffix = {1: "", 2: "v2", 3: "3d"}[version]
    word = rng.choice([f"shiftedwindowattention{suffix}", f"windowattention{suffix}"])
    rank = 3 if version == 3 else 2
    pos = [str(dim)]
    # (A wrong count of equal sizes stays as written: one would be read as one per axis.)
    whole = len(window) in (1, rank)
    opts = [f"{sp.key('window', 'window_size')}={sp.ints(window, scalar=whole)}"]
    if rng.random() < 0.7:
        pos.append(str(heads))
    else:
        opts.append(f"{sp.key('heads', 'num_heads')}={heads}")
    if shift is not None:
        opts.append(f"{sp.key('shift', 'shift_size')}={sp.ints(shift)}")
    if qkv_bias is not None:
        opts.append(f"qkv_bias={sp.boolean(qkv_bias)}")
    if proj_bias is not None:
        opts.append(f"proj_bias={sp.boolean(proj_bias)}")
    text = finish(word, pos, opts, rng)
    cls = {1: ShiftedWindowAttention, 2: ShiftedWindowAttentionV2, 3: ShiftedWindowAttention3d}
    ws = window * rank if len(window) == 1 else list(window)
    ss = [0] * rank if shift is None else (shift * rank if len(shift) == 1 else list(shift))
    if rng.random() < 0.2:  # torchvision's own call: lists, as its forward copies them
        extra = "" if qkv_bias is None else f", qkv_bias={qkv_bias}"
        extra += "" if proj_bias is None else f", proj_bias={proj_bias}"
        text = f"{cls[version].__name__}({dim}, {ws}, {ss}, {heads}{extra})"
    kw = {
        "qkv_bias": True if qkv_bias is None else qkv_bias,
        "proj_bias": True if proj_bias is None else proj_bias,
    }
    return Layer(
        f"windowattn_{suffix or 'v1'}", text, lambda: cls[version](dim, ws, ss, heads, **kw)
    )


def merging_layer(version: int, dim: int, call: bool = False) -> Layer:
    word = "patchmerging" if version == 1 else "patchmergingv2"
    cls = PatchMerging if version == 1 else PatchMergingV2
    return Layer(word, f"{cls.__name__}({dim})" if call else f"{word} {dim}", lambda: cls(dim))


def partition_layer(p: int) -> Layer:
    return Layer("windowpartition", f"windowpartition {p}", lambda: Partition(p))


def departition_layer(rng: random.Random, p: int, hp: int, wp: int) -> Layer:
    if rng.random() < 0.7:
        text = f"windowdepartition {p} {hp} {wp}"
    else:
        text = finish("windowdepartition", [str(p)], [f"hp={hp}", f"w_partitions={wp}"], rng)
    return Layer("windowdepartition", text, lambda: Departition(p, hp, wp))


def relpos_layer(rng: random.Random, d: int, hd: int, m: int) -> Layer:
    if rng.random() < 0.8:
        text = f"relposattention {d} {hd} {m}"
    else:
        text = f"relposattention {d} {hd} {rng.choice(['tokens', 'max_seq_len'])}={m}"
    return Layer("relposattention", text, lambda: RelativePositionalMultiHeadAttention(d, hd, m))


# --------------------------------------------------------------------------------------------
# random single layers
# --------------------------------------------------------------------------------------------


def pick_heads(rng: random.Random, c: int) -> int:
    if rng.random() < 0.15:
        return rng.choice([3, 5, 7])  # often not a divisor
    return rng.choice(divisors(c))


def case_window(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    version = rng.choice([1, 2])
    c = rng.choice([4, 6, 8, 12, 16, 24])
    shape = [rng.randint(1, 14), rng.randint(1, 14), c]
    sc = weighted(rng, {"ok": 70, "channels": 8, "rank": 7, "window0": 5, "len3": 5, "same": 5})
    dim = c
    if sc == "channels":
        dim = rng.choice([x for x in (4, 6, 8, 12) if x != c])
    if sc == "rank":
        shape = [rng.randint(1, 4), *shape] if rng.random() < 0.6 else shape[1:]
    window = [rng.randint(1, 8)] if rng.random() < 0.5 else [rng.randint(1, 8), rng.randint(1, 8)]
    if sc == "window0":
        window = [0, rng.randint(1, 5)]
    if sc == "len3":
        window = [rng.randint(1, 5)] * 3
    if sc == "same":
        window = [max(shape[0], 1), max(shape[1], 1)]  # one window: the shift is dropped
    shift: list[int] | None = None
    r = rng.random()
    if r < 0.5:
        shift = [w // 2 for w in (window * 2 if len(window) == 1 else window)][:2]
    elif r < 0.7:
        shift = [rng.randint(0, 9)]
    heads = pick_heads(rng, dim)
    qkv = rng.choice([None, None, None, True, False])
    proj = rng.choice([None, None, None, True, False])
    return shape, window_layer(rng, sp, version, dim, heads, window, shift, qkv, proj)


def case_window3d(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    """T×H×W×C with windows that often exceed the input along an axis (they shrink)."""
    c = rng.choice([4, 6, 8, 12])
    shape = [rng.randint(1, 6), rng.randint(1, 9), rng.randint(1, 9), c]
    sc = weighted(rng, {"ok": 75, "channels": 7, "rank": 8, "window0": 5, "len2": 5})
    dim = c if sc != "channels" else rng.choice([x for x in (4, 6, 8, 12) if x != c])
    if sc == "rank":
        shape = shape[1:]
    window = [rng.randint(1, 5)] if rng.random() < 0.3 else [rng.randint(1, 5) for _ in range(3)]
    if sc == "window0":
        window = [rng.randint(1, 4), 0, rng.randint(1, 4)]
    if sc == "len2":
        window = [rng.randint(1, 4)] * 2
    shift = None if rng.random() < 0.4 else [w // 2 for w in (window * 3)[:3]]
    return shape, window_layer(rng, sp, 3, dim, pick_heads(rng, dim), window, shift)


def case_merging(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    c = rng.choice([1, 2, 3, 4, 8, 16])
    shape = [rng.randint(1, 15), rng.randint(1, 15), c]
    if rng.random() < 0.15:
        shape = [rng.randint(1, 3), *shape]
    dim = c if rng.random() < 0.85 else c + rng.choice([1, 2])
    return shape, merging_layer(rng.choice([1, 2]), dim, call=rng.random() < 0.2)


def case_partition(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    p = rng.choice([0, 1, 2, 3, 4, 5, 7]) if rng.random() < 0.1 else rng.choice([1, 2, 3, 4, 7])
    if p and rng.random() < 0.7:
        shape = [rng.choice([1, 3, 8]), p * rng.randint(1, 4), p * rng.randint(1, 4)]
    else:
        shape = [rng.choice([1, 3, 8]), rng.randint(1, 16), rng.randint(1, 16)]
    return shape, partition_layer(p)


def case_departition(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    p, hp, wp = rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 4)
    c = rng.choice([1, 3, 8])
    r = rng.random()
    if r < 0.6:
        shape = [hp * wp, p * p, c]
    elif r < 0.8:
        total = hp * wp * p * p
        g = rng.choice(divisors(total))
        shape = [g, total // g, c]  # the same count, otherwise grouped: a reshape allows it
    else:
        shape = [hp * wp + rng.choice([1, 2]), p * p, c]
    if rng.random() < 0.05:
        p = 0
    return shape, departition_layer(rng, p, hp, wp)


def case_relpos(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    hd = rng.choice([2, 4, 8])
    d = hd * rng.choice([1, 2, 3])
    s = rng.randint(1, 4)
    m = s * s
    sc = weighted(rng, {"ok": 70, "tokens": 10, "one": 5, "features": 5, "head": 5, "rank": 5})
    p = m
    if sc == "tokens":
        p = rng.choice([x for x in (1, 2, 4, 9, 16) if x != m])
    if sc == "one":
        m = 1
        p = rng.choice([1, 4, 9])
    shape = [rng.randint(1, 6), p, d]
    if sc == "features":
        shape[2] = d + hd
    if sc == "rank":
        shape = shape[1:] if rng.random() < 0.5 else [2, *shape]
    if sc == "head":
        hd = rng.choice([x for x in (3, 5, 7) if d % x])
    return shape, relpos_layer(rng, d, hd, m)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """Swin-T's, Swin-V2-T's and MaxViT-T's own layers, and the corners of the docstring."""
    r, s = rng, sp
    return [
        ("windowattn_v1", [56, 56, 96], window_layer(r, s, 1, 96, 3, [7, 7], [0, 0])),
        ("windowattn_v1", [7, 7, 768], window_layer(r, s, 1, 768, 24, [7, 7], [3, 3])),
        ("windowattn_v2", [64, 64, 96], window_layer(r, s, 2, 96, 3, [8, 8], [4, 4])),
        ("windowattn_v1", [9, 10, 12], window_layer(r, s, 1, 12, 3, [3, 4], [1, 2])),
        ("windowattn_v2", [5, 13, 8], window_layer(r, s, 2, 8, 2, [4], [2])),
        ("windowattn_v1", [9, 10, 12], window_layer(r, s, 1, 12, 5, [3, 3], [1, 1])),
        ("windowattn_v1", [9, 10, 12], window_layer(r, s, 1, 8, 2, [3, 3], None)),
        ("windowattn_v2", [9, 10, 12], window_layer(r, s, 2, 12, 3, [0, 3], None)),
        ("windowattn_v1", [2, 9, 10, 12], window_layer(r, s, 1, 12, 3, [3, 3], None)),
        ("windowattn_v2", [9, 10, 12], window_layer(r, s, 2, 12, 3, [1, 4], [0, 0])),
        ("windowattn_3d", [8, 56, 56, 96], window_layer(r, s, 3, 96, 3, [8, 7, 7], [4, 3, 3])),
        ("windowattn_3d", [8, 7, 7, 768], window_layer(r, s, 3, 768, 24, [8, 7, 7], [4, 3, 3])),
        ("windowattn_3d", [3, 10, 9, 8], window_layer(r, s, 3, 8, 2, [4, 4, 4], [2, 2, 2])),
        ("windowattn_3d", [9, 10, 12], window_layer(r, s, 3, 12, 3, [3, 3, 3], None)),
        ("windowattn_3d", [2, 9, 10, 12], window_layer(r, s, 3, 12, 3, [3, 3], None)),
        ("patchmerging", [8, 56, 56, 96], merging_layer(1, 96)),
        ("patchmerging", [9, 10, 12], merging_layer(1, 12, call=True)),
        ("patchmergingv2", [9, 10, 12], merging_layer(2, 12, call=True)),
        ("patchmerging", [56, 56, 96], merging_layer(1, 96)),
        ("patchmergingv2", [64, 64, 96], merging_layer(2, 96)),
        ("patchmerging", [9, 10, 12], merging_layer(1, 12)),
        ("patchmergingv2", [2, 9, 7, 12], merging_layer(2, 12)),
        ("patchmerging", [9, 10, 12], merging_layer(1, 8)),
        ("patchmergingv2", [9, 10, 12], merging_layer(2, 8)),
        ("windowpartition", [64, 56, 56], partition_layer(7)),
        ("windowpartition", [64, 56, 56], partition_layer(8)),
        ("windowpartition", [8, 14, 20], partition_layer(7)),
        ("windowdepartition", [64, 49, 64], departition_layer(r, 7, 8, 8)),
        ("windowdepartition", [3, 98, 8], departition_layer(r, 7, 2, 3)),
        ("windowdepartition", [4, 49, 8], departition_layer(r, 7, 2, 3)),
        ("relposattention", [64, 49, 64], relpos_layer(r, 64, 32, 49)),
        ("relposattention", [4, 16, 64], relpos_layer(r, 64, 32, 49)),
        ("relposattention", [4, 1, 64], relpos_layer(r, 64, 32, 49)),
        ("relposattention", [4, 4, 64], relpos_layer(r, 64, 32, 1)),
        ("relposattention", [4, 49, 64], relpos_layer(r, 64, 24, 49)),
        ("relposattention", [4, 50, 64], relpos_layer(r, 64, 32, 50)),
        ("relposattention", [4, 49, 64], relpos_layer(r, 32, 32, 49)),
    ]


PLAN = [
    ("windowattention", 160, 0.3, case_window),
    ("windowattention3d", 80, 0.3, case_window3d),
    ("patchmerging", 60, 0.15, case_merging),
    ("windowpartition", 50, 0.3, case_partition),
    ("windowdepartition", 50, 0.25, case_departition),
    ("relposattention", 80, 0.3, case_relpos),
]


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def inject(rng: random.Random, sp: Speller, b: Chain) -> None:
    """One window-attention or patch-merging layer with random settings on H×W×C."""

    def candidates(shape: Shape, n: int) -> list:  # type: ignore[type-arg]
        c = shape[-1]
        heads = pick_heads(rng, c)
        window = [rng.randint(0, 6)]
        return [
            lambda: window_layer(rng, sp, rng.choice([1, 2]), c, heads, window, None),
            lambda: merging_layer(rng.choice([1, 2]), rng.choice([c, c + 1])),
        ]

    try_inject(rng, b, 0.6, candidates)


def chain_swin(rng: random.Random, sp: Speller) -> Chain:
    """Swin's patch embedding (4×4 conv, stride 4; permute; LayerNorm), window attention
    and MLP blocks without their shortcuts, a patch merging, the head."""
    version = rng.choice([1, 2])
    c = rng.choice([4, 8, 12])
    heads = rng.choice(divisors(c))
    w = rng.randint(2, 4)
    b = Chain([3, 4 * rng.randint(2, 7), 4 * rng.randint(2, 7)])
    b.add(conv_layer(rng, sp, b.shape, 2, c, [4, 4], s=[4, 4]))
    if b.ok:
        b.add(permute_layer(rng, sp, [0, 2, 3, 1]))
    if b.ok:
        b.add(layernorm_layer(rng, sp, b.shape, None))
    for i in range(rng.randint(1, 2)):
        if b.ok and rng.random() < 0.3:
            inject(rng, sp, b)
        if b.ok:
            b.add(window_layer(rng, sp, version, b.shape[-1], heads, [w], [(w // 2) * (i % 2)]))
        if b.ok and rng.random() < 0.5:
            b.add(linear_layer(rng, sp, b.shape, 2 * b.shape[-1]))
            if b.ok:
                b.add(act_layer("gelu"))
            if b.ok:
                b.add(linear_layer(rng, sp, b.shape, b.shape[-1] // 2))
        if b.ok:
            b.add(merging_layer(version, b.shape[-1]))
    if b.ok and rng.random() < 0.6:
        b.add(permute_layer(rng, sp, [0, 3, 1, 2]))
    return b


def chain_maxvit(rng: random.Random, sp: Speller) -> Chain:
    """MaxViT's block or grid attention without its shortcuts: partition, (swap,)
    LayerNorm, relative-position attention, (swap,) departition, then a convolution."""
    p = rng.choice([2, 3, 4])
    n = rng.randint(1, 3)
    hd = rng.choice([2, 4])
    c = hd * rng.choice([1, 2, 4])
    b = Chain([c, p * n, p * n])
    grid = rng.random() < 0.5
    b.add(partition_layer(n if grid else p))
    if b.ok and grid:
        b.add(transpose_layer(rng, sp, -3, -2))
    if b.ok:
        b.add(layernorm_layer(rng, sp, b.shape, None))
    if b.ok:
        m = p * p if rng.random() < 0.85 else rng.choice([1, 4, 9])
        b.add(relpos_layer(rng, c, hd, m))
    if b.ok and grid:
        b.add(transpose_layer(rng, sp, -3, -2))
    if b.ok:
        hp = n if rng.random() < 0.9 else n + 1
        b.add(departition_layer(rng, n if grid else p, p if grid else hp, p if grid else n))
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, 2, c, [1, 1]))
    return b


def chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    b = chain_swin(rng, sp) if rng.random() < 0.55 else chain_maxvit(rng, sp)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


SET = CaseSet(pinned=pinned_cases, plan=PLAN, chains=chain_with_faults, chain_count=60)
