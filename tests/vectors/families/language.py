"""The parts of today's language models (issue 16): attention with ``causal``, ``kv_heads``
(grouped-query, multi-query) and ``rope`` (rotary position embedding), learned position and
token-type tables (``positions``, ``tokentypes``), the gated MLP (``swiglu``) — random
configurations with rejections (num_heads not a multiple of kv_heads, an odd head_dim of 3
or more under rope, more tokens than positions, a non-positive size), decoder-like chains, and the set of
rows they make (``SET``).

The modules are plain PyTorch (this file's classes): ``Attention`` runs
``F.scaled_dot_product_attention(..., is_causal, enable_gqa=True)``, whose checks are
PyTorch's; its ``counted_forward`` is the same computation with QKᵀ and AV as explicit
matmuls over every query head (key/value heads repeated), which FlopCounterMode counts in
full whatever the mask (docs/arithmetic.md#macs). A causal ``mha`` without kv_heads or rope
is nn.MultiheadAttention called with ``is_causal=True`` and its causal mask.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F
from common import CaseSet, Chain, Layer, Shape, Speller, finish
from torch import nn

from families.activation import dropout_layer
from families.linear import linear_layer
from families.norm import layernorm_layer


def _rotate(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding, LLaMA's rotate_half form; an odd head_dim fails here."""
    n, d = x.shape[-2], x.shape[-1]
    inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2).float() / d)
    angles = torch.outer(torch.arange(n).float(), inv_freq)
    emb = torch.cat([angles, angles], -1)
    half = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], -1)
    return x * emb.cos() + half * emb.sin()


class Attention(nn.Module):
    def __init__(
        self, dim: int, heads: int, kv_heads: int, bias: bool, causal: bool, rope: bool
    ) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.causal, self.rope = causal, rope
        self.q_proj = nn.Linear(dim, dim, bias=bias)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(dim, dim, bias=bias)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.rope:
            q, k = _rotate(q), _rotate(k)
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._qkv(x)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, enable_gqa=True)
        return self.o_proj(y.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))

    def counted_forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._qkv(x)
        groups = self.heads // self.kv_heads
        k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if self.causal:
            n = x.shape[1]
            scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), -math.inf)
        y = F.softmax(scores, -1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))


class CausalMHA(nn.Module):
    """nn.MultiheadAttention as causal self-attention."""

    def __init__(self, inner: nn.MultiheadAttention) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)
        return self.inner(x, x, x, attn_mask=mask, is_causal=True)[0]

    def counted_forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)
        with torch.enable_grad():  # off the fast path: QKᵀ and AV as bmm's
            return self.inner(x, x, x, attn_mask=mask, need_weights=True)[0].detach()


class Table(nn.Module):
    """positions (rows 0..L-1) or tokentypes (row 0 for every token), added."""

    def __init__(self, num: int, dim: int, positions: bool) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num, dim)
        self.positions = positions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        rows = torch.arange(n) if self.positions else torch.zeros(n, dtype=torch.long)
        return x + self.embedding(rows)


class GatedMLP(nn.Module):
    def __init__(self, dim: int, hidden: int, bias: bool, activation: str) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=bias)
        self.up_proj = nn.Linear(dim, hidden, bias=bias)
        self.down_proj = nn.Linear(hidden, dim, bias=bias)
        self.act = nn.SiLU() if activation == "silu" else nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


# --------------------------------------------------------------------------------------------
# layers: convcalc text + module
# --------------------------------------------------------------------------------------------


def attention_layer(
    rng: random.Random,
    sp: Speller,
    e: int,
    heads: int,
    kv_heads: int | None,
    *,
    causal: bool,
    rope: bool,
    bias: bool = True,
) -> Layer:
    opts: list[str] = []
    if kv_heads is not None:
        opts.append(f"{rng.choice(['kv_heads', 'num_kv_heads', 'num_key_value_heads'])}={kv_heads}")
    if causal:
        opts.append(
            rng.choice(["causal", "causal=true", "is_causal=1", f"causal={sp.boolean(True)}"])
        )
    elif rng.random() < 0.2:
        opts.append(f"causal={sp.boolean(False)}")
    if rope:
        opts.append(rng.choice(["rope", "rotary", f"rope={sp.boolean(True)}"]))
    if not bias or rng.random() < 0.2:
        opts.append(f"bias={sp.boolean(bias)}")
    word = rng.choice(["mha", "multiheadattention"])
    positional = [str(e), str(heads)] if rng.random() < 0.8 else [str(e), f"heads={heads}"]
    text = finish(word, positional, opts, rng)
    if kv_heads is None and not rope:
        if causal:
            return Layer(
                "language_attention",
                text,
                lambda: CausalMHA(nn.MultiheadAttention(e, heads, bias=bias, batch_first=True)),
            )
        from families.transformer_modules import SelfAttention

        return Layer(
            "language_attention",
            text,
            lambda: SelfAttention(nn.MultiheadAttention(e, heads, bias=bias, batch_first=True)),
        )
    kv = heads if kv_heads is None else kv_heads
    return Layer("language_attention", text, lambda: Attention(e, heads, kv, bias, causal, rope))


def table_layer(rng: random.Random, num: int, dim: int, positions: bool) -> Layer:
    words = ["positions", "postable"] if positions else ["tokentypes", "token_types"]
    arg = str(num) if rng.random() < 0.7 else f"{rng.choice(['num', 'num_embeddings'])}={num}"
    return Layer("language_table", f"{rng.choice(words)} {arg}", lambda: Table(num, dim, positions))


def gated_layer(
    rng: random.Random, sp: Speller, dim: int, hidden: int, bias: bool, activation: str
) -> Layer:
    opts = []
    if bias or rng.random() < 0.2:
        opts.append(f"bias={sp.boolean(bias)}")
    if activation != "silu" or rng.random() < 0.2:
        opts.append(f"{sp.key('act', 'activation')}={activation}")
    size = str(hidden) if rng.random() < 0.7 else f"{rng.choice(['ff', 'hidden'])}={hidden}"
    text = finish(rng.choice(["swiglu", "gatedmlp"]), [size], opts, rng)
    return Layer("language_mlp", text, lambda: GatedMLP(dim, hidden, bias, activation))


# --------------------------------------------------------------------------------------------
# random cases
# --------------------------------------------------------------------------------------------


def case_attention(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    fail = rng.random() < 0.25
    head_dim = rng.choice([2, 4, 6, 8, 16])
    heads = rng.choice([1, 2, 3, 4, 6, 8])
    kv_heads: int | None = rng.choice([d for d in range(1, heads + 1) if heads % d == 0])
    if rng.random() < 0.25:
        kv_heads = None
    rope = rng.random() < 0.5
    if fail:
        how = rng.choice(["kv", "kv", "odd"])
        if how == "kv":
            kv_heads = rng.choice([k for k in range(2, heads + 3) if heads % k] or [heads + 1])
        else:
            # Not 1: the reference rotation then broadcasts one feature against a pair
            # and runs (HF's rotate_half does the same), a degenerate case convcalc refuses.
            head_dim, rope = rng.choice([3, 5, 7]), True
    length = rng.choice([1, 2, 3, 5, 8, 16])
    e = heads * head_dim
    layer = attention_layer(
        rng, sp, e, heads, kv_heads, causal=rng.random() < 0.6, rope=rope, bias=rng.random() < 0.5
    )
    return [length, e], layer


def case_table(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    positions = rng.random() < 0.6
    length = rng.choice([1, 2, 5, 8, 16])
    dim = rng.choice([1, 4, 8, 12])
    num = rng.choice([1, 2, 8, 16, 32]) if positions else rng.choice([1, 2, 3])
    if rng.random() < 0.25 and positions:
        num = max(1, length - rng.randint(1, 3))  # too few positions (or just enough at 1)
    return [length, dim], table_layer(rng, num, dim, positions)


def case_gated(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    dim = rng.choice([1, 4, 8, 16])
    hidden = rng.choice([1, 3, 8, 24, 32])
    lead = rng.choice([[], [3], [5], [2, 3]])
    return [*lead, dim], gated_layer(
        rng, sp, dim, hidden, rng.random() < 0.3, rng.choice(["silu", "silu", "gelu"])
    )


def _pinned(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The issue's spellings: GPT-2's causal attention, LLaMA-style grouped-query with rope,
    multi-query, and the rejection it names."""

    def mha(shape: Shape, e: int, h: int, kv: int | None, **kw: Any) -> None:
        out.append(("language_attention", shape, attention_layer(rng, sp, e, h, kv, **kw)))

    out: list[tuple[str, Shape, Layer]] = []
    mha([16, 768], 768, 12, None, causal=True, rope=False)
    mha([16, 256], 256, 8, 2, causal=True, rope=True, bias=False)
    mha([16, 256], 256, 8, 1, causal=True, rope=False, bias=False)
    mha([16, 256], 256, 8, 3, causal=True, rope=False)
    out.append(("language_table", [16, 32], table_layer(rng, 16, 32, True)))
    out.append(("language_table", [17, 32], table_layer(rng, 16, 32, True)))
    out.append(("language_table", [16, 32], table_layer(rng, 2, 32, False)))
    out.append(("language_mlp", [16, 64], gated_layer(rng, sp, 64, 172, False, "silu")))
    return out


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def make_chain(rng: random.Random, sp: Speller) -> Chain:
    """A small decoder: a position table, one or two attention + gated-MLP pairs with norms,
    then a linear head."""
    heads = rng.choice([2, 4])
    e = heads * rng.choice([2, 4, 8])
    length = rng.choice([3, 8, 12])
    b = Chain([length, e])
    b.add(table_layer(rng, rng.choice([length, length + 4]), e, True))
    for _ in range(rng.randint(1, 2)):
        if not b.ok:
            break
        b.add(layernorm_layer(rng, sp, b.shape, None))
        kv = rng.choice([d for d in range(1, heads + 1) if heads % d == 0])
        b.add(attention_layer(rng, sp, e, heads, kv, causal=True, rope=rng.random() < 0.5))
        if b.ok and rng.random() < 0.3:
            b.add(dropout_layer(rng, 0.1))
        if b.ok:
            b.add(gated_layer(rng, sp, e, rng.choice([8, 16]), False, "silu"))
    if b.ok:
        b.add(linear_layer(rng, sp, b.shape, rng.choice([10, 50])))
    return b


SET = CaseSet(
    pinned=_pinned,
    plan=[
        ("language_attention", 160, 0.25, case_attention),
        ("language_table", 60, 0.15, case_table),
        ("language_mlp", 60, 0.0, case_gated),
    ],
    chains=make_chain,
    chain_count=30,
)
