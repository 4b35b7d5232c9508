"""Record the built-in language models as plain PyTorch implementations run them (issue 16).

Each configuration below is the published one (Hugging Face's ``config.json`` of the model:
vocabulary, width, depth, heads, key/value heads, MLP width, positions, tied head), built here
from ``torch.nn`` alone — nothing from convcalc — on the meta device (no memory, no weights).
Re-run (deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch/bin/python tests/vectors/language_models.py

Written against torch 2.13.0 (CPU). It writes ``tests/data/torch_language_models.jsonl``, one
JSON object per line (sorted keys), in ``CONFIGS`` order:

* ``name`` (the spec's, convcalc/models/NAME.spec), ``config`` (the configuration built);
* ``input``: the token count the spec's ``input`` line gives (1024; BERT: its 512 positions),
  ``output``: the output's shape without the batch;
* ``params`` = ``sum(p.numel() for p in model.parameters())`` (a tied head's weight is the
  embedding's: counted once), asserted equal to ``published``, the figure the issue quotes;
  ``buffers``: ``sum`` over ``model.buffers()`` (none: rotary angles are computed per call);
* ``macs``: ``{"128": …, "1024": …, str(input): …}`` (BERT: 128 and 512, its positions) —
  ``FlopCounterMode`` total / 2 of one
  forward pass at that many tokens (batch 1). Attention computes QKᵀ and AV as matmuls over
  every query head (key/value heads repeated to them), in full whatever the causal mask, as
  the counter counts them (docs/arithmetic.md#macs);
* ``layers``: at ``input`` tokens, every call in execution order of a module of the types in
  ``RECORDED`` — each one convcalc kind: ``{"type": convcalc's kind, "output", "params": its
  parameters not already counted in an earlier call (a tied head: 0), "macs": FlopCounterMode
  / 2 of that call alone}``; ``sum(layers.params) == params`` and ``sum(layers.macs) ==
  macs[input]`` (asserted).

The models, as their ``transformers`` classes compute them in eval mode: GPT-2
(GPT2LMHeadModel: token + learned positions, pre-norm blocks with causal attention and a
GELU MLP, final LayerNorm, head tied to the token embedding), BERT (BertModel with its
pooler: token + position + token-type tables, LayerNorm, post-norm encoder layers, the
pooler's dense + tanh on token 0) and LLaMA-style decoders (LlamaForCausalLM,
MistralForCausalLM: RMSNorm, grouped-query attention with rotary embedding, SwiGLU MLP, an
untied head unless tie_word_embeddings).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[2]
OUT_PATH = ROOT / "tests" / "data" / "torch_language_models.jsonl"
DEVICE = "meta"
LENGTHS = (128, 1024)


# --------------------------------------------------------------------------- modules


class PositionTable(nn.Module):
    """Learned positions: row i of the table added to token i."""

    def __init__(self, num: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embedding(torch.arange(x.shape[1], device=x.device))


class TokenTypes(nn.Module):
    """BERT's token-type table, every token of type 0 (token_type_ids left out)."""

    def __init__(self, num: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        types = torch.zeros(x.shape[1], dtype=torch.long, device=x.device)
        return x + self.embedding(types)


def rotate(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding (LlamaRotaryEmbedding + apply_rotary_pos_emb)."""
    n, d = x.shape[-2], x.shape[-1]
    inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2, device=x.device).float() / d)
    angles = torch.outer(torch.arange(n, device=x.device).float(), inv_freq)
    emb = torch.cat([angles, angles], -1)
    half = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], -1)
    return x * emb.cos() + half * emb.sin()


class Attention(nn.Module):
    """Self-attention with q/k/v/o projections, ``kv_heads`` key/value heads (repeated to
    the query heads), optional rotary embedding and causal mask: explicit matmuls."""

    def __init__(
        self, dim: int, heads: int, kv_heads: int, *, bias: bool, causal: bool, rope: bool
    ) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.causal, self.rope = causal, rope
        self.q_proj = nn.Linear(dim, dim, bias=bias)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(dim, dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.rope:
            q, k = rotate(q), rotate(k)
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if self.causal:
            mask = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, n, -1))


class GatedMLP(nn.Module):
    """LLaMA's MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), bias-free."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class GPT2Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, heads, heads, bias=True, causal=True, rope=False)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, positions: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = PositionTable(positions, d)
        self.h = nn.ModuleList(GPT2Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wpe(self.wte(idx))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class BERT(nn.Module):
    def __init__(
        self, vocab: int, d: int, layers: int, heads: int, ff: int, positions: int, types: int
    ) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, d)
        self.position_embeddings = PositionTable(positions, d)
        self.token_type_embeddings = TokenTypes(types, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d, heads, ff, activation="gelu", layer_norm_eps=1e-12, batch_first=True
            )
            for _ in range(layers)
        )
        self.pooler = nn.Linear(d, d)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.norm(
            self.token_type_embeddings(self.position_embeddings(self.word_embeddings(idx)))
        )
        for layer in self.layers:
            x = layer(x)
        return torch.tanh(self.pooler(x[:, 0]))


class LlamaLayer(nn.Module):
    def __init__(self, d: int, heads: int, kv_heads: int, ff: int) -> None:
        super().__init__()
        self.input_layernorm = nn.RMSNorm(d, eps=1e-5)
        self.self_attn = Attention(d, heads, kv_heads, bias=False, causal=True, rope=True)
        self.post_attention_layernorm = nn.RMSNorm(d, eps=1e-5)
        self.mlp = GatedMLP(d, ff)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(
        self, vocab: int, d: int, layers: int, heads: int, kv_heads: int, ff: int, tied: bool
    ) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaLayer(d, heads, kv_heads, ff) for _ in range(layers))
        self.norm = nn.RMSNorm(d, eps=1e-5)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.embed_tokens.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(idx)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


# --------------------------------------------------------------------------- configurations


def gpt2(d: int, layers: int, heads: int) -> dict[str, Any]:
    return {
        "family": "gpt2",
        "vocab": 50257,
        "d": d,
        "layers": layers,
        "heads": heads,
        "positions": 1024,
    }


def bert(d: int, layers: int, heads: int, ff: int) -> dict[str, Any]:
    return {
        "family": "bert",
        "vocab": 30522,
        "d": d,
        "layers": layers,
        "heads": heads,
        "ff": ff,
        "positions": 512,
        "types": 2,
    }


def llama(
    vocab: int, d: int, layers: int, heads: int, kv_heads: int, ff: int, tied: bool = False
) -> dict[str, Any]:
    return {
        "family": "llama",
        "vocab": vocab,
        "d": d,
        "layers": layers,
        "heads": heads,
        "kv_heads": kv_heads,
        "ff": ff,
        "tied": tied,
    }


# name: (configuration, the published parameter count)
CONFIGS: dict[str, tuple[dict[str, Any], int]] = {
    "gpt2": (gpt2(768, 12, 12), 124_439_808),
    "gpt2-medium": (gpt2(1024, 24, 16), 354_823_168),
    "gpt2-large": (gpt2(1280, 36, 20), 774_030_080),
    "gpt2-xl": (gpt2(1600, 48, 25), 1_557_611_200),
    "bert-base-uncased": (bert(768, 12, 12, 3072), 109_482_240),
    "bert-large-uncased": (bert(1024, 24, 16, 4096), 335_141_888),
    "llama-2-7b": (llama(32000, 4096, 32, 32, 32, 11008), 6_738_415_616),
    "llama-2-13b": (llama(32000, 5120, 40, 40, 40, 13824), 13_015_864_320),
    "llama-3-8b": (llama(128256, 4096, 32, 32, 8, 14336), 8_030_261_248),
    "mistral-7b": (llama(32000, 4096, 32, 32, 8, 14336), 7_241_732_096),
    "tinyllama-1.1b": (llama(32000, 2048, 22, 32, 4, 5632), 1_100_048_384),
    "llama-3.2-1b": (llama(128256, 2048, 16, 32, 8, 8192, tied=True), 1_235_814_400),
}
# The GPT-2 anchors: MACs at 128 and 1,024 tokens.
GPT2_MACS = {128: 16_114_089_984, 1024: 145_824_153_600}


def build(config: dict[str, Any]) -> tuple[nn.Module, int]:
    """The model and its default input length (the spec's ``input``)."""
    c = config
    if c["family"] == "gpt2":
        return GPT2(c["vocab"], c["d"], c["layers"], c["heads"], c["positions"]), 1024
    if c["family"] == "bert":
        args = (c["vocab"], c["d"], c["layers"], c["heads"], c["ff"], c["positions"], c["types"])
        return BERT(*args), 512
    args = (c["vocab"], c["d"], c["layers"], c["heads"], c["kv_heads"], c["ff"], c["tied"])
    return Llama(*args), 1024


# The recorded module types and the convcalc kind each one is.
RECORDED: dict[type[nn.Module], str] = {
    nn.Embedding: "embedding",
    PositionTable: "positions",
    TokenTypes: "tokentypes",
    nn.LayerNorm: "layernorm",
    nn.RMSNorm: "rmsnorm",
    Attention: "multiheadattention",
    GatedMLP: "swiglu",
    nn.Linear: "linear",
    nn.TransformerEncoderLayer: "transformerencoderlayer",
}


def recorded_modules(model: nn.Module) -> list[nn.Module]:
    found: list[nn.Module] = []

    def walk(m: nn.Module) -> None:
        for child in m.children():
            if type(child) in RECORDED:
                found.append(child)
            else:
                walk(child)

    walk(model)
    return found


def flops_of(fn: Callable[[], Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    return int(flops)


def force_need_weights(model: nn.Module) -> None:
    """nn.MultiheadAttention inside nn.TransformerEncoderLayer on its composite path, whose
    bmm's the counter sees (see tests/vectors/models.py)."""

    def pre_hook(_m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return args, {**kwargs, "need_weights": True}

    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            m.register_forward_pre_hook(pre_hook, with_kwargs=True)


def tokens(n: int) -> torch.Tensor:
    return torch.zeros(1, n, dtype=torch.long, device=DEVICE)


def record(name: str, config: dict[str, Any], published: int) -> dict[str, Any]:
    with torch.device(DEVICE):
        model, length = build(config)
    model.eval()
    force_need_weights(model)
    params = sum(p.numel() for p in model.parameters())
    assert params == published, (name, params, published)
    macs: dict[str, int] = {}
    with torch.no_grad():
        # Not past the position table: on the meta device an index out of range passes.
        for n in sorted({*(n for n in LENGTHS if n <= config.get("positions", n)), length}):
            macs[str(n)] = flops_of(lambda n=n: model(tokens(n))) // 2
        if name == "gpt2":
            assert {int(k): v for k, v in macs.items()} == GPT2_MACS, macs
        calls: list[dict[str, Any]] = []
        seen: set[int] = set()
        busy = [False]

        def hook(m: nn.Module, args: tuple[Any, ...], out: Any) -> None:
            if busy[0]:
                return
            busy[0] = True
            try:
                flops = flops_of(lambda: m(*args))
            finally:
                busy[0] = False
            own = [p for p in m.parameters() if id(p) not in seen]
            seen.update(id(p) for p in own)
            calls.append(
                {
                    "type": RECORDED[type(m)],
                    "output": list(out.shape[1:]),
                    "params": sum(p.numel() for p in own),
                    "macs": flops // 2,
                }
            )

        handles = [m.register_forward_hook(hook) for m in recorded_modules(model)]
        y = model(tokens(length))
        for h in handles:
            h.remove()
    assert sum(c["params"] for c in calls) == params, name
    assert sum(c["macs"] for c in calls) == macs[str(length)], name
    return {
        "name": name,
        "config": config,
        "input": [length],
        "output": list(y.shape[1:]),
        "params": params,
        "published": published,
        "buffers": sum(b.numel() for b in model.buffers()),
        "macs": macs,
        "layers": calls,
    }


def main() -> None:
    torch.backends.mha.set_fastpath_enabled(False)
    with OUT_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for name, (config, published) in CONFIGS.items():
            rec = record(name, config, published)
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
            print(name, rec["params"], rec["macs"])
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
