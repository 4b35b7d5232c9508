"""MViT's token layers against torchvision: random configurations of the three modules
``torchvision.models.video.mvit`` builds its networks from, each written as one layer in
convcalc's language and run with torchvision's own class in torch 2.13 (CPU). Re-run
(deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch-and-torchvision/bin/python tests/vectors/families/mvit.py

It writes ``tests/data/torch_mvit.jsonl``, one JSON object per line (sorted keys)::

    {"id": "m0001", "spec": "...", "input": [L, E], "output": [L', E'] | null,
     "params": int | null, "buffers": int | null, "macs": int | null,
     "error": null | {"type": "RuntimeError", "message": "..."}}

The words and the modules they mean (tokens are L×E, batch first; the first token is the
class token, the other L - 1 a T×H×W grid, ``thw``):

* ``multiscaleattention OUT HEADS thw=T×H×W [kq= sq= kkv= skv=] [residual_pool]
  [residual_with_cls_embed=…] [rel_pos] [dropout=…]`` — ``MultiscaleAttention(input_size=thw,
  embed_dim=E, output_dim=OUT, num_heads=HEADS, kernel_q, kernel_kv, stride_q, stride_kv,
  residual_pool, residual_with_cls_embed, rel_pos_embed, dropout,
  norm_layer=partial(nn.LayerNorm, eps=1e-6))`` called as ``m(x, thw)[0]``; a kernel or
  stride left out is (1, 1, 1) (no pooling if both are), one value stands for all three axes;
* ``tokenpool thw=T×H×W k= [s=] [p=]`` — MViT's ``Pool(nn.MaxPool3d(k, s, p), None)`` (the
  skip connection's pooling of a block that pools its queries), ``m(x, thw)[0]``;
* ``positionalencoding thw=T×H×W [rel_pos]`` — ``PositionalEncoding(E, (H, W), T,
  rel_pos_embed)``: the class token, and unless rel_pos the separable (H·W + T + 1)·E
  position embedding.

The module is built (a constructor exception is a rejection), put in eval mode and called
on an input of batch 1. ``params`` is ``sum(p.numel())``, ``macs`` FlopCounterMode's total /
2 of that call (no_grad): the linear layers, the depthwise pooling convolutions, QKᵀ, AV and
v2's relative-position products (two einsums and a matmul), all bmm/mm calls it counts.
"""

from __future__ import annotations

import json
import random
import sys
import types
import warnings
from functools import partial
from pathlib import Path
from typing import Any

# torchvision's compiled ops fail to load in this environment; its Python modules only need
# this module to exist.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.models.video.mvit import (  # noqa: E402
    MultiscaleAttention,
    Pool,
    PositionalEncoding,
)

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "tests" / "data" / "torch_mvit.jsonl"
SEED = 1818
COUNT = 320


def _triple(rng: random.Random, values: list[int]) -> list[int]:
    """Mostly MViT's shapes: the same on the spatial axes, sometimes 1 in time."""
    if rng.random() < 0.15:
        return [rng.choice(values) for _ in range(3)]
    s = rng.choice(values)
    return [rng.choice([1, s]), s, s]


def _write(rng: random.Random, v: list[int]) -> str:
    if len(set(v)) == 1 and rng.random() < 0.6:
        return str(v[0])
    return "x".join(map(str, v)) if rng.random() < 0.7 else "(" + ",".join(map(str, v)) + ")"


def _flag(rng: random.Random, key: str, value: bool) -> str:
    if value and rng.random() < 0.5:
        return key
    return f"{key}={rng.choice(['true', 'yes', '1']) if value else rng.choice(['false', 'no'])}"


def _thw(rng: random.Random) -> list[int]:
    if rng.random() < 0.03:
        return [rng.choice([0, 1]), rng.randint(0, 3), rng.randint(1, 3)]
    return [rng.randint(1, 4), rng.randint(1, 7), rng.randint(1, 7)]


def _length(rng: random.Random, thw: list[int]) -> int:
    n = 1 + thw[0] * thw[1] * thw[2]
    if rng.random() < 0.1:
        return max(1, n + rng.choice([-2, -1, 1, 3]))
    return n


def _attention(rng: random.Random) -> tuple[str, list[int], Any]:
    thw = _thw(rng)
    e = rng.choice([4, 6, 8, 12, 16])
    r = rng.random()
    heads = rng.choice([1, 2, 4]) if r < 0.85 else rng.choice([3, 0, 5])
    out = rng.choice([d for d in (4, 8, 12, 16, 24) if d % max(heads, 1) == 0] or [heads])
    if rng.random() < 0.06:
        out = heads * rng.randint(1, 4) + 1  # not divisible
    pools: dict[str, list[int] | None] = {}
    for side in ("q", "kv"):
        kernel = _triple(rng, [1, 3, 3, 2]) if rng.random() < 0.7 else None
        stride = _triple(rng, [1, 2, 2, 4]) if rng.random() < 0.7 else None
        if rng.random() < 0.04:
            bad = [1, 1, 1]
            bad[rng.randrange(3)] = rng.choice([0, -1])
            if rng.random() < 0.5:
                kernel = bad
            else:
                stride = bad
        pools[side] = kernel
        pools["s" + side] = stride
    residual_pool = rng.random() < 0.4
    cls_embed = rng.random() < 0.5
    rel_pos = rng.random() < 0.45
    dropout = rng.choice([0.0, 0.0, 0.0, 0.1, 1.5]) if rng.random() < 0.2 else None
    length = _length(rng, thw)
    word = rng.choice(["multiscaleattention", "poolingattention"])
    words = [word, str(out)]
    words.append(str(heads) if rng.random() < 0.7 else f"heads={heads}")
    words.append(f"{rng.choice(['thw', 'input_size'])}={'x'.join(map(str, thw))}")
    keys = {"q": ("kq", "kernel_q"), "kv": ("kkv", "kernel_kv")}
    keys.update({"sq": ("sq", "stride_q"), "skv": ("skv", "stride_kv")})
    for side, (short, long) in keys.items():
        v = pools[side]
        if v is not None:
            words.append(f"{rng.choice([short, short, long])}={_write(rng, v)}")
    if residual_pool or rng.random() < 0.2:
        words.append(_flag(rng, "residual_pool", residual_pool))
    if not cls_embed or rng.random() < 0.2:
        words.append(f"residual_with_cls_embed={'true' if cls_embed else 'false'}")
    if rel_pos or rng.random() < 0.2:
        words.append(_flag(rng, rng.choice(["rel_pos", "rel_pos_embed"]), rel_pos))
    if dropout is not None:
        words.append(f"dropout={dropout!r}")
    spec = " ".join(words)

    def make() -> nn.Module:
        one = [1, 1, 1]
        kq, sq = pools["q"] or one, pools["sq"] or one
        kkv, skv = pools["kv"] or one, pools["skv"] or one
        m = MultiscaleAttention(
            thw,
            e,
            out,
            heads,
            kernel_q=kq,
            kernel_kv=kkv,
            stride_q=sq,
            stride_kv=skv,
            residual_pool=residual_pool,
            residual_with_cls_embed=cls_embed,
            rel_pos_embed=rel_pos,
            dropout=0.0 if dropout is None else dropout,
            norm_layer=partial(nn.LayerNorm, eps=1e-6),
        )
        return Called(m, thw)

    return spec, [length, e], make


def _tokenpool(rng: random.Random) -> tuple[str, list[int], Any]:
    thw = _thw(rng)
    c = rng.choice([3, 8, 16])
    k = _triple(rng, [1, 2, 3, 3, 4])
    s = _triple(rng, [1, 2, 2, 3]) if rng.random() < 0.8 else None
    p = [v // 2 for v in k] if rng.random() < 0.7 else _triple(rng, [0, 1, 2])
    if rng.random() < 0.04:
        (s or k)[rng.randrange(3)] = 0
    words = ["tokenpool", f"thw={'x'.join(map(str, thw))}", f"k={_write(rng, k)}"]
    if s is not None:
        words.append(f"s={_write(rng, s)}")
    if any(p) or rng.random() < 0.3:
        words.append(f"p={_write(rng, p)}")

    def make() -> nn.Module:
        return Called(Pool(nn.MaxPool3d(k, stride=s, padding=p), None), thw)

    return " ".join(words), [_length(rng, thw), c], make


def _posencoding(rng: random.Random) -> tuple[str, list[int], Any]:
    thw = _thw(rng)
    e = rng.choice([4, 8, 96])
    rel_pos = rng.random() < 0.4
    words = ["positionalencoding", f"thw={'x'.join(map(str, thw))}"]
    if rel_pos or rng.random() < 0.3:
        words.append(_flag(rng, "rel_pos", rel_pos))
    length = _length(rng, thw) - 1

    def make() -> nn.Module:
        return PositionalEncoding(e, (thw[1], thw[2]), thw[0], rel_pos)

    return " ".join(words), [max(length, 1), e], make


class Called(nn.Module):
    """An MViT module that takes (x, thw) and returns (x, thw), called on x."""

    def __init__(self, inner: nn.Module, thw: list[int]) -> None:
        super().__init__()
        self.inner = inner
        self.thw = tuple(thw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, self.thw)[0]


def run(make: Any, shape: list[int]) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make().eval()
        x = torch.randn(1, *shape)
        with torch.no_grad():
            counter = FlopCounterMode(display=False)
            with counter:
                out = model(x)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else ""
        return {
            "output": None,
            "params": None,
            "buffers": None,
            "macs": None,
            "error": {"type": type(exc).__name__, "message": message[:300]},
        }
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    return {
        "output": list(out.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
        "macs": flops // 2,
        "error": None,
    }


PINNED = (
    # mvit_v1_b's first block and mvit_v2_s's first two blocks' attention, at small sizes
    ("multiscaleattention 16 1 thw=2x8x8 kkv=3 skv=1x4x4", [129, 8]),
    ("multiscaleattention 8 1 thw=2x8x8 kq=3 kkv=3 skv=1x4x4 residual_pool rel_pos", [129, 8]),
    ("multiscaleattention 16 2 thw=2x8x8 kq=3 sq=1x2x2 kkv=3 skv=1x2x2 rel_pos", [129, 8]),
    ("tokenpool thw=2x8x8 k=1x3x3 s=1x2x2 p=0x1x1", [129, 8]),
    ("positionalencoding thw=2x8x8", [128, 8]),
    ("positionalencoding thw=2x8x8 rel_pos", [128, 8]),
)


def _pinned(spec: str, shape: list[int]) -> Any:
    """The torch module of a pinned spec (its words as the random cases write them)."""
    words = dict(w.split("=") for w in spec.split() if "=" in w)
    thw = [int(v) for v in words["thw"].split("x")]

    def triple(key: str) -> list[int]:
        if key not in words:
            return [1, 1, 1]
        v = [int(x) for x in words[key].split("x")]
        return v * 3 if len(v) == 1 else v

    first = spec.split()[0]
    if first == "multiscaleattention":
        out, heads = (int(v) for v in spec.split()[1:3])
        return lambda: Called(
            MultiscaleAttention(
                thw,
                shape[1],
                out,
                heads,
                triple("kq"),
                triple("kkv"),
                triple("sq"),
                triple("skv"),
                residual_pool="residual_pool" in spec,
                residual_with_cls_embed=True,
                rel_pos_embed="rel_pos" in spec,
                norm_layer=partial(nn.LayerNorm, eps=1e-6),
            ),
            thw,
        )
    if first == "tokenpool":
        return lambda: Called(
            Pool(nn.MaxPool3d(triple("k"), stride=triple("s"), padding=triple("p")), None), thw
        )
    return lambda: PositionalEncoding(shape[1], (thw[1], thw[2]), thw[0], "rel_pos" in spec)


def main() -> None:
    torch.manual_seed(0)
    rng = random.Random(SEED)
    cases = [(spec, shape, _pinned(spec, shape)) for spec, shape in PINNED]
    makers = [_attention] * 6 + [_tokenpool] * 2 + [_posencoding]
    while len(cases) < COUNT:
        cases.append(rng.choice(makers)(rng))
    rows = []
    for i, (spec, shape, make) in enumerate(cases):
        row = {"id": f"m{i + 1:04d}", "spec": spec, "input": shape, **run(make, shape)}
        rows.append(json.dumps(row, sort_keys=True, separators=(",", ":")))
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rejected = sum('"error":{' in r for r in rows)
    print(f"{OUT}: {len(rows)} cases, {rejected} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
