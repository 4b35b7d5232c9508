"""Transformer decoders against PyTorch: random nn.TransformerDecoderLayer,
nn.TransformerDecoder and nn.Transformer configurations, each written as a small graph in
convcalc's language (the decoder names its memory, the transformer its source) and run in
torch 2.13 (CPU). Re-run (deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch/bin/python tests/vectors/families/decoder.py

It writes ``tests/data/torch_decoder.jsonl``, one JSON object per line (sorted keys)::

    {"id": "d0001", "spec": "...", "input": [N, E], "output": [L, E] | null,
     "params": int | null, "buffers": int | null, "macs": int | null,
     "error": null | {"type": "AssertionError", "message": "..."}}

The input (N, E) is cut by ``split S,L dim=1`` into the memory (or source) and the target,
so the two lengths differ; some cases give ``memory=input`` instead, or a memory whose
features are not d_model (a ``linear`` on it first). The module is built (a constructor
exception is a rejection), put in eval mode and called batch first, ``m(tgt, memory)``
(``m(src, tgt)`` for nn.Transformer), with the causal mask and ``tgt_is_causal=True`` when
the spec says ``causal``. ``params`` is ``sum(p.numel())`` of every module of the spec,
``macs`` FlopCounterMode's total / 2 of the whole forward with attention run with
``need_weights=True`` and grad enabled, so that QKᵀ and AV are ``bmm`` calls the counter
sees (docs/arithmetic.md#macs). A ``linear`` head after the decoder is sometimes added.
"""

from __future__ import annotations

import json
import random
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "tests" / "data" / "torch_decoder.jsonl"
SEED = 1616
COUNT = 260

_FORWARD = nn.MultiheadAttention.forward


def _counted(self: nn.MultiheadAttention, *args: Any, **kwargs: Any) -> Any:
    """Attention's composite path: QKᵀ and AV as bmm calls FlopCounterMode counts."""
    kwargs["need_weights"] = True
    return _FORWARD(self, *args, **kwargs)


def _flag(rng: random.Random, key: str, value: bool) -> str:
    if value and rng.random() < 0.5:
        return key
    return f"{key}={rng.choice(['true', 'yes', '1']) if value else rng.choice(['false', 'no'])}"


def _config(rng: random.Random, e: int) -> dict[str, Any]:
    """Constructor keywords of a decoder layer (or transformer), with a few rejections."""
    r = rng.random()
    if r < 0.8:
        h = rng.choice([d for d in range(1, min(e, 8) + 1) if e % d == 0])
    elif r < 0.95:
        h = rng.randint(2, 7)
    else:
        h = rng.choice([0, -2])
    kw: dict[str, Any] = {"nhead": h}
    if rng.random() < 0.8:
        kw["dim_feedforward"] = rng.choice([8, 16, 32, 2 * e, 4 * e, 0, 1])
        if rng.random() < 0.05:
            kw["dim_feedforward"] = -1
    if rng.random() < 0.3:
        kw["dropout"] = rng.choice([0.0, 0.1, 0.2, 1.0, 1.5])
    if rng.random() < 0.4:
        kw["activation"] = rng.choice(["relu", "gelu", "gelu"])
    if rng.random() < 0.3:
        kw["layer_norm_eps"] = rng.choice([1e-6, 1e-5])
    if rng.random() < 0.5:
        kw["norm_first"] = rng.random() < 0.5
    if rng.random() < 0.4:
        kw["bias"] = rng.random() < 0.5
    return kw


def _short(rng: random.Random, word: str, first: list[str], kw: dict[str, Any]) -> str:
    """convcalc's short form of ``kw``, in varied spellings."""
    words = [word, *first]
    keys = {
        "dim_feedforward": ("ff", "dim_feedforward"),
        "layer_norm_eps": ("eps", "layer_norm_eps"),
        "nhead": ("heads", "nhead"),
    }
    for key, value in kw.items():
        name = rng.choice(keys.get(key, (key,)))
        if isinstance(value, bool):
            words.append(_flag(rng, name, value))
        elif isinstance(value, float):
            words.append(f"{name}={value!r}")
        else:
            words.append(f"{name}={value}")
    return " ".join(words)


def _call(cls: str, first: list[str], kw: dict[str, Any]) -> str:
    args = [*first] + [f"{k}={v!r}" for k, v in kw.items()]
    return f"{cls}({', '.join(args)}, batch_first=True)"


def _case(rng: random.Random) -> tuple[str, list[int], dict[str, Any], Any]:
    """(spec, input, the description Exec runs, the module maker)."""
    e = rng.choice([4, 6, 8, 12, 16, 24, 32])
    what = rng.choices(["layer", "decoder", "transformer"], weights=[45, 25, 30])[0]
    d_model = e if rng.random() < 0.92 else rng.choice([e + 2, e // 2 or 1])
    kw = _config(rng, d_model)
    h = kw.pop("nhead")
    s, length = rng.randint(1, 9), rng.randint(1, 9)
    memory_e = e if rng.random() < 0.92 else rng.choice([e + 4, 2])
    causal = (what != "decoder" and rng.random() < 0.25) or (
        what == "decoder" and rng.random() < 0.2
    )
    lines: list[str] = []
    own = rng.random() < 0.12  # memory=input: the memory is the target itself
    if own:
        shape = [length, e]
        memory = "input"
        s = length
        memory_e = e
    else:
        shape = [s + length, e]
        lines.append(f"split {s},{length} dim=1 mem tgt")
        memory = "mem"
        if memory_e != e:
            lines += [f"linear {memory_e} as mem2", "from tgt"]
            memory = "mem2"
        else:
            lines.append("from tgt")
    key = "src" if what == "transformer" else "memory"
    if what == "layer":
        repeat = rng.random() < 0.2
        if rng.random() < 0.4 and not causal:
            text = _call("TransformerDecoderLayer", [str(d_model), str(h)], kw)
        else:
            word = rng.choice(["transformerdecoderlayer", "decoderlayer"])
            text = _short(rng, word, [str(d_model), str(h)], kw)
            if causal:
                text += " " + rng.choice(["causal", "tgt_is_causal=true"])
        text += f" {key}={memory}" + (" x2" if repeat else "")
        layers = 2 if repeat else 1
    elif what == "decoder":
        n = rng.choice([1, 1, 2, 3, 0]) if rng.random() < 0.95 else -1
        norm = rng.random() < 0.5
        text = _short(rng, "transformerdecoder", [str(d_model), str(h)], kw)
        text += " " + rng.choice([str(n), f"layers={n}", f"num_layers={n}"])
        if norm:
            text += " " + _flag(rng, "norm", True)
        if causal:
            text += " causal"
        text += f" {key}={memory}"
        layers = n
    else:
        ne = rng.choice([1, 1, 2, 3]) if rng.random() < 0.93 else 0
        nd = rng.choice([1, 1, 2]) if rng.random() < 0.93 else 0
        kw_t = {"nhead": h, "num_encoder_layers": ne, "num_decoder_layers": nd, **kw}
        if rng.random() < 0.4 and not causal:
            text = _call("Transformer", [str(d_model)], kw_t)
        else:
            text = _short(rng, "transformer", [str(d_model)], kw_t)
            if causal:
                text += " causal"
        text += f" {key}={memory}"
        layers = 0
        norm = True
    head = rng.random() < 0.25
    out_features = rng.choice([3, 10])
    if head:
        lines += [text, f"linear {out_features}"]
    else:
        lines.append(text)
    spec = "; ".join(lines)
    desc = {
        "what": what,
        "d_model": d_model,
        "nhead": h,
        "kw": kw,
        "s": s,
        "length": length,
        "e": e,
        "memory_e": memory_e,
        "own": own,
        "causal": causal,
        "layers": layers,
        "norm": what == "decoder" and norm,
        "ne_nd": (kw_t["num_encoder_layers"], kw_t["num_decoder_layers"])
        if what == "transformer"
        else None,
        "head": out_features if head else None,
    }
    return spec, shape, desc, None


class Exec(nn.Module):
    """The spec's network in torch: the split, the memory's linear, the decoder kind, the head."""

    def __init__(self, d: dict[str, Any]) -> None:
        super().__init__()
        self.d = d
        kw = dict(d["kw"], batch_first=True)
        self.mem_linear = nn.Linear(d["e"], d["memory_e"]) if d["memory_e"] != d["e"] else None
        if d["what"] == "layer":
            self.blocks = nn.ModuleList(
                nn.TransformerDecoderLayer(d["d_model"], d["nhead"], **kw)
                for _ in range(d["layers"])
            )
        elif d["what"] == "decoder":
            layer = nn.TransformerDecoderLayer(d["d_model"], d["nhead"], **kw)
            norm = None
            if d["norm"]:
                norm = nn.LayerNorm(
                    d["d_model"], eps=kw.get("layer_norm_eps", 1e-5), bias=kw.get("bias", True)
                )
            self.blocks = nn.ModuleList([nn.TransformerDecoder(layer, d["layers"], norm=norm)])
        else:
            ne, nd = d["ne_nd"]
            self.blocks = nn.ModuleList([nn.Transformer(d["d_model"], d["nhead"], ne, nd, **kw)])
        self.head = None if d["head"] is None else nn.Linear(d["e"], d["head"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.d
        if d["own"]:
            mem, tgt = x, x
        else:
            mem, tgt = torch.split(x, [d["s"], d["length"]], dim=1)
        if self.mem_linear is not None:
            mem = self.mem_linear(mem)
        extra: dict[str, Any] = {}
        if d["causal"]:
            extra = {
                "tgt_mask": nn.Transformer.generate_square_subsequent_mask(tgt.size(1)),
                "tgt_is_causal": True,
            }
        for block in self.blocks:
            if d["what"] == "transformer":
                tgt = block(mem, tgt, **extra)
            else:
                tgt = block(tgt, mem, **extra)
        if self.head is not None:
            tgt = self.head(tgt)
        return tgt


def measure(build: Callable[[], nn.Module], shape: list[int]) -> dict[str, Any]:
    """What torch makes of the module ``build`` makes, on a batch of one ``shape``:
    output, parameters, buffers and FlopCounterMode / 2 with attention's products
    counted (``_counted``), or the error building or running it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build().eval()
        x = torch.randn(1, *shape)
        with torch.no_grad():
            out = model(x)
        nn.MultiheadAttention.forward = _counted  # type: ignore[method-assign]
        try:
            counter = FlopCounterMode(display=False)
            with counter, torch.enable_grad():
                model(x)
        finally:
            nn.MultiheadAttention.forward = _FORWARD  # type: ignore[method-assign]
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else ""
        return {
            "output": None,
            "params": None,
            "buffers": None,
            "macs": None,
            "error": {"type": type(exc).__name__, "message": message[:300]},
        }
    return {
        "output": list(out.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
        "macs": counter.get_total_flops() // 2,
        "error": None,
    }


def run(desc: dict[str, Any], shape: list[int]) -> dict[str, Any]:
    return measure(lambda: Exec(desc), shape)


def main() -> None:
    torch.manual_seed(0)
    rng = random.Random(SEED)
    rows = []
    for i in range(COUNT):
        spec, shape, desc, _ = _case(rng)
        row = {"id": f"d{i + 1:04d}", "spec": spec, "input": shape, **run(desc, shape)}
        rows.append(json.dumps(row, sort_keys=True, separators=(",", ":")))
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rejected = sum('"error":{' in r for r in rows)
    print(f"{OUT}: {len(rows)} cases, {rejected} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
