"""Kinds for transformers and whole networks: permute, transpose, scale (layer scale),
stochasticdepth, multiheadattention, transformerencoderlayer, classtoken, posembedding,
selecttoken — layer builders (convcalc text + the PyTorch module of
families/transformer_modules.py, or ``torchvision.ops.StochasticDepth``), corner-seeking
generators, ViT/ConvNeXt-like chains, and the set of rows they make (``SET``, the third set).

Token layers see an (L, E) convcalc shape, i.e. a batch-first (1, L, E) tensor.
"""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable
from typing import Any

from torch import nn

# torchvision's compiled ops fail to load in this environment; its Python ops only need
# this module to exist.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
from common import (  # noqa: E402
    CaseGen,
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    any_input,
    divisors,
    finish,
    maybe_bias,
    try_inject,
)
from torchvision.ops import StochasticDepth  # noqa: E402

from families.activation import act_layer, dropout_layer  # noqa: E402
from families.chains import tail_after_error  # noqa: E402
from families.conv import conv_layer  # noqa: E402
from families.linear import linear_layer  # noqa: E402
from families.norm import layernorm_layer  # noqa: E402
from families.pool import global_layer  # noqa: E402
from families.reshape import flatten_layer  # noqa: E402
from families.transformer_modules import (  # noqa: E402
    ClassToken,
    EncoderLayer,
    Permute,
    PosEmbedding,
    Scale,
    SelectToken,
    SelfAttention,
    Transpose,
)

# --------------------------------------------------------------------------------------------
# layers: convcalc text + module
# --------------------------------------------------------------------------------------------


def permute_layer(rng: random.Random, sp: Speller, dims: list[int]) -> Layer:
    value = sp.ints(dims, scalar=False)
    text = finish("permute", [value] if rng.random() < 0.8 else [], [], rng)
    if text == "permute":
        text = f"permute dims={value}"
    return Layer("permute", text, lambda: Permute(dims))


def transpose_layer(rng: random.Random, sp: Speller, d0: int, d1: int) -> Layer:
    style = rng.choice(["pos", "pos", "pos", "keys", "mixed"])
    if style == "pos":
        text = f"transpose {d0} {d1}"
    elif style == "keys":
        text = finish("transpose", [], [f"dim0={d0}", f"dim1={d1}"], rng)
    else:
        text = f"transpose {d0} dim1={d1}"
    return Layer("transpose", text, lambda: Transpose(d0, d1))


def scale_layer(rng: random.Random, sp: Speller, shape: Shape, dim: int | None) -> Layer:
    name = rng.choice(["scale", "layerscale"])
    text = name if dim is None else f"{name} dim={dim}"
    shape = list(shape)
    return Layer("scale", text, lambda: Scale(shape, 1 if dim is None else dim))


def stochasticdepth_layer(rng: random.Random, sp: Speller, p: float, mode: str | None) -> Layer:
    name = rng.choice(["stochasticdepth", "droppath"])
    pv = sp.float(p)
    pos, opts = ([pv], []) if rng.random() < 0.5 else ([], [f"p={pv}"])
    if mode is not None:
        opts.append(f"mode={mode}")
    text = finish(name, pos, opts, rng)
    return Layer("stochasticdepth", text, lambda: StochasticDepth(p, mode or "row"))


def mha_layer(
    rng: random.Random,
    sp: Speller,
    e: int,
    h: int,
    *,
    dropout: float | None = None,
    bias: bool | None = None,
    bias_kv: bool | None = None,
    zero_attn: bool | None = None,
    kdim: int | None = None,
    vdim: int | None = None,
) -> Layer:
    pos = [str(e)]
    opts: list[str] = []
    if rng.random() < 0.75:
        pos.append(str(h))
    else:
        opts.append(f"{sp.key('heads', 'num_heads')}={h}")
    if dropout is not None:
        opts.append(f"dropout={sp.float(dropout)}")
    for key, value in (("bias", bias), ("add_bias_kv", bias_kv), ("add_zero_attn", zero_attn)):
        if value is not None:
            opts.append(f"{key}={sp.boolean(value)}")
    for key, size in (("kdim", kdim), ("vdim", vdim)):
        if size is not None:
            opts.append(f"{key}={size}")
    text = finish(rng.choice(["multiheadattention", "mha", "mha"]), pos, opts, rng)

    def make() -> nn.Module:
        return SelfAttention(
            nn.MultiheadAttention(
                e,
                h,
                dropout=0.0 if dropout is None else dropout,
                bias=True if bias is None else bias,
                add_bias_kv=bool(bias_kv),
                add_zero_attn=bool(zero_attn),
                kdim=kdim,
                vdim=vdim,
                batch_first=True,
            )
        )

    return Layer("multiheadattention", text, make)


def encoder_layer(
    rng: random.Random,
    sp: Speller,
    d: int,
    h: int,
    *,
    ff: int | None = None,
    dropout: float | None = None,
    activation: str | None = None,
    eps: float | None = None,
    norm_first: bool | None = None,
    bias: bool | None = None,
) -> Layer:
    pos = [str(d)]
    opts: list[str] = []
    if rng.random() < 0.8:
        pos.append(str(h))
    else:
        opts.append(f"{sp.key('heads', 'nhead')}={h}")
    if ff is not None:
        opts.append(f"{sp.key('ff', 'dim_feedforward')}={ff}")
    if dropout is not None:
        opts.append(f"dropout={sp.float(dropout)}")
    if activation is not None:
        opts.append(f"activation={activation}")
    if eps is not None:
        opts.append(f"{sp.key('eps', 'layer_norm_eps')}={eps!r}")
    if norm_first is not None:
        opts.append(f"norm_first={sp.boolean(norm_first)}")
    if bias is not None:
        opts.append(f"bias={sp.boolean(bias)}")
    name = rng.choice(["transformerencoderlayer", "encoderlayer", "encoderlayer"])
    text = finish(name, pos, opts, rng)

    def make() -> nn.Module:
        kw: dict[str, Any] = {"batch_first": True}
        if ff is not None:
            kw["dim_feedforward"] = ff
        if dropout is not None:
            kw["dropout"] = dropout
        if activation is not None:
            kw["activation"] = activation
        if eps is not None:
            kw["layer_norm_eps"] = eps
        if norm_first is not None:
            kw["norm_first"] = norm_first
        if bias is not None:
            kw["bias"] = bias
        return EncoderLayer(nn.TransformerEncoderLayer(d, h, **kw))

    return Layer("encoderlayer", text, make)


def classtoken_layer(rng: random.Random, shape: Shape) -> Layer:
    e = shape[-1]
    return Layer("classtoken", rng.choice(["classtoken", "cls"]), lambda: ClassToken(e))


def posembedding_layer(rng: random.Random, sp: Speller, shape: Shape, length: int | None) -> Layer:
    name = rng.choice(["posembedding", "posembed"])
    text = name if length is None else f"{name} {sp.key('length', 'seq_length')}={length}"
    n, e = shape[0] if length is None else length, shape[-1]
    return Layer("posembedding", text, lambda: PosEmbedding(n, e))


def selecttoken_layer(rng: random.Random, sp: Speller, index: int | None) -> Layer:
    name = rng.choice(["selecttoken", "token"])
    if index is None:
        text = name
    else:
        text = f"{name} {index}" if rng.random() < 0.7 else f"{name} index={index}"
    return Layer("selecttoken", text, lambda: SelectToken(0 if index is None else index))


# --------------------------------------------------------------------------------------------
# corner-seeking generators: given an input shape, return a layer
# --------------------------------------------------------------------------------------------


def spell_dim(rng: random.Random, d: int, rank: int) -> int:
    """A valid dim, sometimes spelled negative."""
    return d - rank if rng.random() < 0.35 else d


def out_of_range(rng: random.Random, rank: int) -> int:
    return rng.choice([rank, rank, rank + 1, -rank - 1, -rank - 2])


def gen_permute(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    rank = len(shape) + 1
    rest = list(range(1, rank))
    rng.shuffle(rest)
    dims = [0, *rest]
    sc = rng.choices(["ok", "len", "range", "dup"], weights=[62, 12, 13, 13])[0]
    if sc == "len":
        if rng.random() < 0.5 and rank > 2:
            dims.pop(rng.randrange(1, rank))
        else:
            dims.append(rng.choice([rank, 1]))
    elif sc == "range":
        dims[rng.randrange(1, rank)] = out_of_range(rng, rank)
    elif sc == "dup":
        j = rng.randrange(1, rank)
        dims[j] = dims[rng.choice([i for i in range(rank) if i != j])]
    dims = [spell_dim(rng, d, rank) if 0 <= d < rank else d for d in dims]
    return permute_layer(rng, sp, dims)


def gen_transpose(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    rank = len(shape) + 1
    sc = rng.choices(["ok", "same", "batch", "range"], weights=[70, 8, 4, 18])[0]
    d0, d1 = rng.randint(1, rank - 1), rng.randint(1, rank - 1)
    if sc == "ok" and rank > 2:
        while d1 == d0:
            d1 = rng.randint(1, rank - 1)
    elif sc == "same":
        d1 = d0
    elif sc == "batch":  # both dims are the batch: the identity
        d0, d1 = 0, 0
    elif sc == "range":
        if rng.random() < 0.5:
            d0 = out_of_range(rng, rank)
        else:
            d1 = out_of_range(rng, rank)
    return transpose_layer(
        rng,
        sp,
        spell_dim(rng, d0, rank) if 0 <= d0 < rank else d0,
        spell_dim(rng, d1, rank) if 0 <= d1 < rank else d1,
    )


def gen_scale(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    rank = len(shape) + 1
    r = rng.random()
    if r < 0.35:
        dim: int | None = None
    elif r < 0.55:
        dim = -1
    elif r < 0.88:
        dim = spell_dim(rng, rng.randint(1, rank - 1), rank)
    else:
        dim = out_of_range(rng, rank)
    return scale_layer(rng, sp, shape, dim)


def gen_stochasticdepth(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    if rng.random() < 0.7:
        p = rng.choice([0.0, 0.05, 0.1, 0.1, 0.2, 0.5, 1.0, 0.4])
    else:
        p = rng.choice([1.5, -0.1, 2.0, 1.01, -1.0])
    mode = rng.choice([None, None, "row", "batch"])
    return stochasticdepth_layer(rng, sp, p, mode)


def pick_heads(rng: random.Random, e: int) -> int:
    r = rng.random()
    if r < 0.75:
        return rng.choice([h for h in divisors(e) if h <= 16])
    if r < 0.95:
        return rng.randint(2, 9)
    return rng.choice([0, -1, -2])


def pick_embed(rng: random.Random, shape: Shape) -> int:
    r = rng.random()
    if r < 0.82:
        return shape[-1]
    if r < 0.97:
        return rng.choice([4, 6, 8, 12, 16, 32])
    return rng.choice([0, -4])


def gen_mha(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    e = pick_embed(rng, shape)
    h = pick_heads(rng, e) if e > 0 else rng.randint(1, 4)
    kdim = vdim = None
    r = rng.random()
    if r < 0.1:
        kdim = e if rng.random() < 0.5 else rng.choice([e + 1, max(1, e // 2)])
    elif r < 0.2:
        vdim = e if rng.random() < 0.5 else rng.choice([e + 2, 1])
    elif r < 0.25:
        kdim = vdim = e
    dropout = rng.choice([None, None, None, 0.0, 0.1, 0.5]) if rng.random() < 0.93 else 1.5
    return mha_layer(
        rng,
        sp,
        e,
        h,
        dropout=dropout,
        bias=maybe_bias(rng),
        bias_kv=rng.choice([None, None, None, True, False]),
        zero_attn=rng.choice([None, None, None, True, False]),
        kdim=kdim,
        vdim=vdim,
    )


def gen_encoder(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    d = pick_embed(rng, shape)
    h = pick_heads(rng, d) if d > 0 else rng.randint(1, 4)
    ff = rng.choice([None, 16, 32, 64, 4 * max(d, 1), 2 * max(d, 1), 128])
    if rng.random() < 0.06:
        ff = rng.choice([0, -1, 1])
    dropout = rng.choice([None, None, 0.0, 0.1, 0.2, 1.0])
    if rng.random() < 0.07:
        dropout = rng.choice([1.5, -0.1, 2.0])
    activation = rng.choice([None, None, "relu", "gelu", "gelu"])
    if rng.random() < 0.03:
        activation = rng.choice(["tanh", "silu"])
    return encoder_layer(
        rng,
        sp,
        d,
        h,
        ff=ff,
        dropout=dropout,
        activation=activation,
        eps=rng.choice([None, None, None, 1e-6, 1e-5]),
        norm_first=rng.choice([None, None, True, False]),
        bias=maybe_bias(rng),
    )


def gen_classtoken(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    return classtoken_layer(rng, shape)


def gen_posembedding(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    length = shape[0]
    r = rng.random()
    if r < 0.4:
        n: int | None = None
    elif r < 0.6:
        n = length
    elif r < 0.7:
        n = 1
    elif r < 0.92:
        n = rng.choice([length + 1, max(1, length - 1), 2 * length, rng.randint(1, 20)])
    else:
        n = rng.choice([-1, -5])
    return posembedding_layer(rng, sp, shape, n)


def gen_selecttoken(rng: random.Random, sp: Speller, shape: Shape) -> Layer:
    length = shape[0]
    r = rng.random()
    if r < 0.3:
        index: int | None = None
    elif r < 0.45:
        index = rng.choice([0, -1])
    elif r < 0.78:
        index = rng.randrange(-length, length)
    else:
        index = rng.choice([length, length + 1, -length - 1, 2 * length + 3])
    return selecttoken_layer(rng, sp, index)


# --------------------------------------------------------------------------------------------
# single-layer cases
# --------------------------------------------------------------------------------------------

EMBED = [4, 6, 8, 8, 12, 16, 16, 24, 32, 48, 64]


def token_input(rng: random.Random, *, other_rank: float = 0.0) -> Shape:
    """(L, E); with probability ``other_rank`` an (A, L, E) input instead."""
    shape = [rng.choice([1, rng.randint(1, 8), rng.randint(2, 20)]), rng.choice(EMBED)]
    if rng.random() < other_rank:
        shape = [rng.randint(1, 4), *shape]
    return shape


def with_gen(shape_of: Callable[[random.Random], Shape], gen: Callable[..., Layer]) -> CaseGen:
    def case(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
        shape = shape_of(rng)
        return shape, gen(rng, sp, shape)

    return case


def rank2_plus(rng: random.Random) -> Shape:
    shape = any_input(rng)
    while len(shape) < 2:
        shape = any_input(rng)
    return shape if rng.random() < 0.4 else token_input(rng)


def token_or_other(rng: random.Random) -> Shape:
    return token_input(rng) if rng.random() < 0.85 else any_input(rng)


case_permute = with_gen(any_input, gen_permute)
case_transpose = with_gen(any_input, gen_transpose)
case_scale = with_gen(
    lambda rng: any_input(rng) if rng.random() < 0.7 else token_input(rng), gen_scale
)
case_stochasticdepth = with_gen(any_input, gen_stochasticdepth)
case_mha = with_gen(lambda rng: token_input(rng, other_rank=0.04), gen_mha)
case_encoder = with_gen(lambda rng: token_input(rng, other_rank=0.04), gen_encoder)
case_classtoken = with_gen(token_or_other, gen_classtoken)
case_posembedding = with_gen(token_or_other, gen_posembedding)
case_selecttoken = with_gen(rank2_plus, gen_selecttoken)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The documented cases: ViT-B/16's and ConvNeXt's layers, broadcasting, rejections."""
    r, s = rng, sp
    return [
        ("permute", [3, 4, 5], permute_layer(r, s, [0, 2, 3, 1])),
        ("permute", [4, 5, 3], permute_layer(r, s, [0, 3, 1, 2])),
        ("permute", [3, 4], permute_layer(r, s, [0, -1, 1])),
        ("permute", [3, 4], permute_layer(r, s, [0, 2])),
        ("permute", [3, 4], permute_layer(r, s, [0, 2, 2])),
        ("transpose", [768, 196], transpose_layer(r, s, 1, 2)),
        ("transpose", [3, 4, 5], transpose_layer(r, s, -1, -2)),
        ("transpose", [3, 4], transpose_layer(r, s, 1, 3)),
        ("scale", [96, 56, 56], scale_layer(r, s, [96, 56, 56], None)),
        ("scale", [56, 56, 96], scale_layer(r, s, [56, 56, 96], -1)),
        ("scale", [196, 768], scale_layer(r, s, [196, 768], 2)),
        ("stochasticdepth", [96, 56, 56], stochasticdepth_layer(r, s, 0.1, "row")),
        ("stochasticdepth", [8], stochasticdepth_layer(r, s, 1.0, "batch")),
        ("stochasticdepth", [8, 4], stochasticdepth_layer(r, s, 1.5, None)),
        ("multiheadattention", [197, 768], mha_layer(r, s, 768, 12)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 3)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 2, kdim=4)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 2, kdim=8, vdim=8)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 1, bias_kv=True, zero_attn=True)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 2, bias=False)),
        ("multiheadattention", [5, 8], mha_layer(r, s, 8, 2, dropout=1.5)),
        ("multiheadattention", [5, 6], mha_layer(r, s, 8, 2)),
        ("multiheadattention", [2, 5, 8], mha_layer(r, s, 8, 2)),
        (
            "encoderlayer",
            [197, 768],
            encoder_layer(r, s, 768, 12, ff=3072, activation="gelu", eps=1e-6, norm_first=True),
        ),
        ("encoderlayer", [10, 16], encoder_layer(r, s, 16, 4)),
        ("encoderlayer", [10, 16], encoder_layer(r, s, 16, 4, ff=0)),
        ("encoderlayer", [10, 16], encoder_layer(r, s, 16, 4, ff=32, bias=False)),
        ("encoderlayer", [10, 16], encoder_layer(r, s, 16, 4, ff=32, dropout=1.5)),
        ("encoderlayer", [10, 16], encoder_layer(r, s, 16, 3, ff=32)),
        ("encoderlayer", [10, 15], encoder_layer(r, s, 15, 3, ff=32, activation="tanh")),
        ("classtoken", [196, 768], classtoken_layer(r, [196, 768])),
        ("classtoken", [768], classtoken_layer(r, [768])),
        ("posembedding", [197, 768], posembedding_layer(r, s, [197, 768], None)),
        ("posembedding", [197, 768], posembedding_layer(r, s, [197, 768], 197)),
        ("posembedding", [1, 8], posembedding_layer(r, s, [1, 8], 5)),
        ("posembedding", [7, 8], posembedding_layer(r, s, [7, 8], 1)),
        ("posembedding", [5, 8], posembedding_layer(r, s, [5, 8], 4)),
        ("selecttoken", [197, 768], selecttoken_layer(r, s, None)),
        ("selecttoken", [5, 8], selecttoken_layer(r, s, -1)),
        ("selecttoken", [5, 8], selecttoken_layer(r, s, 5)),
        ("selecttoken", [3, 4, 5], selecttoken_layer(r, s, 2)),
    ]


PLAN: list[tuple[str, int, float, CaseGen]] = [
    ("permute", 320, 0.30, case_permute),
    ("transpose", 260, 0.22, case_transpose),
    ("scale", 240, 0.12, case_scale),
    ("stochasticdepth", 200, 0.28, case_stochasticdepth),
    ("multiheadattention", 460, 0.30, case_mha),
    ("encoderlayer", 380, 0.30, case_encoder),
    ("classtoken", 150, 0.15, case_classtoken),
    ("posembedding", 260, 0.30, case_posembedding),
    ("selecttoken", 220, 0.25, case_selecttoken),
]


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def inject(rng: random.Random, sp: Speller, b: Chain) -> None:
    """Add one corner-case layer of these kinds; usually one PyTorch rejects."""

    def candidates(shape: Shape, n: int) -> list[Callable[[], Layer]]:
        return [
            lambda: gen_permute(rng, sp, shape),
            lambda: gen_transpose(rng, sp, shape),
            lambda: gen_scale(rng, sp, shape),
            lambda: gen_stochasticdepth(rng, sp, shape),
            lambda: gen_mha(rng, sp, shape),
            lambda: gen_encoder(rng, sp, shape),
            lambda: gen_classtoken(rng, sp, shape),
            lambda: gen_posembedding(rng, sp, shape),
            lambda: gen_selecttoken(rng, sp, shape),
        ]

    try_inject(rng, b, 0.7, candidates)


def checkpoint(rng: random.Random, sp: Speller, b: Chain) -> None:
    b.checkpoints += 1
    if b.ok and b.checkpoints == b.inject_at:
        inject(rng, sp, b)


def chain_vit(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Patchify conv → tokens → class token, position embedding → encoder layers → head."""
    p = rng.choice([2, 4, 4, 8])
    grid = [rng.randint(1, 4), rng.randint(1, 4)]
    if rng.random() < 0.6:
        grid[1] = grid[0]
    e = rng.choice([8, 12, 16, 24, 32])
    heads = rng.choice([h for h in divisors(e) if h <= 8])
    b = Chain([rng.choice([1, 3, 3]), *[p * g for g in grid]], inject_at)
    b.add(conv_layer(rng, sp, b.shape, 2, e, [p, p], s=[p, p]))
    if b.ok:
        b.add(flatten_layer(rng, sp, 2, None))
    if b.ok:
        b.add(
            transpose_layer(rng, sp, 1, 2)
            if rng.random() < 0.7
            else permute_layer(rng, sp, [0, 2, 1])
        )
    checkpoint(rng, sp, b)
    if b.ok and rng.random() < 0.8:
        b.add(classtoken_layer(rng, b.shape))
    if b.ok:
        b.add(posembedding_layer(rng, sp, b.shape, rng.choice([None, None, b.shape[0]])))
    if b.ok and rng.random() < 0.3:
        b.add(dropout_layer(rng, 0.1))
    for _ in range(rng.randint(1, 2)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        b.add(
            encoder_layer(
                rng,
                sp,
                e,
                heads,
                ff=rng.choice([2 * e, 4 * e, 4 * e]),
                dropout=rng.choice([None, 0.0, 0.1]),
                activation=rng.choice([None, "gelu", "gelu"]),
                eps=rng.choice([None, 1e-6]),
                norm_first=rng.choice([None, True, True]),
            )
        )
    if b.ok:
        b.add(layernorm_layer(rng, sp, b.shape, rng.choice([None, [e]])))
    if b.ok:
        b.add(selecttoken_layer(rng, sp, rng.choice([None, 0, 0, -1])))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 100, 2])))
    return b


def chain_convnext(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Patchify stem, then a ConvNeXt block: depthwise 7×7 → channels last → LayerNorm →
    inverted MLP → layer scale (channels last, or after permuting back) → stochastic depth."""
    c = rng.choice([4, 8, 16])
    size = rng.randint(2, 6)
    b = Chain([3, 4 * size, 4 * size], inject_at)
    b.add(conv_layer(rng, sp, b.shape, 2, c, [4, 4], s=[4, 4]))
    checkpoint(rng, sp, b)
    if b.ok:
        b.add(conv_layer(rng, sp, b.shape, 2, c, [7, 7], p=[3, 3], g="dw"))
    if b.ok:
        b.add(permute_layer(rng, sp, rng.choice([[0, 2, 3, 1], [0, -2, -1, 1]])))
    if b.ok:
        b.add(layernorm_layer(rng, sp, b.shape, rng.choice([None, [c]]), None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, 4 * c))
    if b.ok:
        b.add(act_layer("gelu"))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, c))
    checkpoint(rng, sp, b)
    back = [0, 3, 1, 2]
    if rng.random() < 0.5:
        if b.ok:
            b.add(scale_layer(rng, sp, b.shape, -1))
        if b.ok:
            b.add(permute_layer(rng, sp, back))
    else:
        if b.ok:
            b.add(permute_layer(rng, sp, back))
        if b.ok:
            b.add(scale_layer(rng, sp, b.shape, rng.choice([None, 1, -3])))
    if b.ok:
        b.add(
            stochasticdepth_layer(rng, sp, rng.choice([0.0, 0.1, 0.2]), rng.choice([None, "row"]))
        )
    if b.ok and len(b.layers) <= 9 and rng.random() < 0.7:
        b.add(global_layer(rng, b.shape, "avg"))
        if b.ok:
            b.add(flatten_layer(rng, sp, None, None))
        if b.ok:
            b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 1000])))
    return b


def chain_attention(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """Token features → projection → (attention, drop path, LayerNorm) stacks → a token."""
    e = rng.choice([8, 12, 16, 32])
    b = Chain([rng.randint(1, 16), rng.choice([4, 8, 10, 20])], inject_at)
    b.add(linear_layer(rng, sp, b.shape, e, maybe_bias(rng)))
    for _ in range(rng.randint(1, 3)):
        checkpoint(rng, sp, b)
        if not b.ok or len(b.layers) > 8:
            break
        heads = rng.choice([h for h in divisors(e) if h <= 8])
        b.add(
            mha_layer(
                rng,
                sp,
                e,
                heads,
                bias=maybe_bias(rng),
                bias_kv=rng.choice([None, None, True]),
                zero_attn=rng.choice([None, None, True]),
            )
        )
        if b.ok and rng.random() < 0.4:
            b.add(stochasticdepth_layer(rng, sp, rng.choice([0.1, 0.2]), None))
        if b.ok:
            b.add(layernorm_layer(rng, sp, b.shape, None))
    if b.ok and rng.random() < 0.5:
        b.add(selecttoken_layer(rng, sp, rng.choice([None, -1])))
    elif b.ok:
        b.add(flatten_layer(rng, sp, None, None))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([1, 2, 10])))
    return b


def chain_conv_tokens(rng: random.Random, sp: Speller, inject_at: int | None) -> Chain:
    """(L, E) tokens ↔ (C, L) maps: transpose, conv1d along the tokens, transpose back."""
    b = Chain([rng.randint(4, 24), rng.choice([4, 8, 16])], inject_at)
    for _ in range(rng.randint(1, 2)):
        checkpoint(rng, sp, b)
        if not b.ok:
            break
        b.add(transpose_layer(rng, sp, rng.choice([1, -2]), rng.choice([2, -1])))
        if b.ok:
            b.add(conv_layer(rng, sp, b.shape, 1, rng.choice([8, 16]), [3], p=[1]))
        if b.ok:
            b.add(act_layer(rng.choice(["relu", "gelu"])))
        if b.ok:
            b.add(transpose_layer(rng, sp, 1, 2))
        if b.ok and rng.random() < 0.5:
            b.add(scale_layer(rng, sp, b.shape, -1))
    if b.ok:
        e = b.shape[-1]
        b.add(encoder_layer(rng, sp, e, rng.choice([h for h in divisors(e) if h <= 4]), ff=2 * e))
    if b.ok:
        b.add(selecttoken_layer(rng, sp, rng.choice([None, 0])))
    return b


def chain_with_faults(rng: random.Random, sp: Speller) -> Chain:
    inject_at = rng.randint(1, 3) if rng.random() < 0.4 else None
    style = rng.choices(["vit", "convnext", "attention", "conv_tokens"], weights=[35, 25, 25, 15])[
        0
    ]
    makers = {
        "vit": chain_vit,
        "convnext": chain_convnext,
        "attention": chain_attention,
        "conv_tokens": chain_conv_tokens,
    }
    b = makers[style](rng, sp, inject_at)
    if not b.ok:
        tail_after_error(rng, sp, b)
    return b


SET = CaseSet(pinned=pinned_cases, plan=PLAN, chains=chain_with_faults, chain_count=320)
