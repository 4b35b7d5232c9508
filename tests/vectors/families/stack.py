"""Transformer stacks against PyTorch: random nn.TransformerEncoder and nn.TransformerDecoder
configurations, written as PyTorch's nested calls (``TransformerEncoder(
TransformerEncoderLayer(…), n, norm=LayerNorm(…))``) or as convcalc's short words, each run
in torch 2.13 (CPU). Re-run (deterministic; byte-identical output) from the repository root::

    /path/to/venv-with-torch/bin/python tests/vectors/families/stack.py

It writes ``tests/data/torch_stack.jsonl``, one JSON object per line (sorted keys), as
families/decoder.py does::

    {"id": "t0001", "spec": "...", "input": [N, E], "output": [L, E] | null,
     "params": int | null, "buffers": int | null, "macs": int | null,
     "error": null | {"type": "IndexError", "message": "..."}}

A decoder's input is cut by ``split S,L dim=1`` into its memory and its target. The module
is built (a constructor exception is a rejection), put in eval mode and called batch first;
``params`` is ``sum(p.numel())``, ``macs`` FlopCounterMode's total / 2 with attention run
with ``need_weights=True`` and grad enabled (docs/arithmetic.md#macs), as decoder.py counts.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.vectors.families.decoder import _config, _flag, _short, measure  # noqa: E402

OUT = ROOT / "tests" / "data" / "torch_stack.jsonl"
SEED = 1603
COUNT = 200


def _norm(rng: random.Random, d_model: int) -> dict[str, Any] | None:
    """The call's norm=: None, LayerNorm(d_model, …), now and then one that does not fit."""
    if rng.random() < 0.3:
        return None
    shape: Any = d_model if rng.random() < 0.9 else rng.choice([d_model + 2, (3, d_model)])
    kw: dict[str, Any] = {}
    if rng.random() < 0.2:
        kw["eps"] = 1e-6
    if rng.random() < 0.2:
        kw["bias"] = False
    if rng.random() < 0.15:
        kw["elementwise_affine"] = False
    return {"shape": shape, "kw": kw}


def _norm_text(norm: dict[str, Any] | None, prefix: str) -> str:
    if norm is None:
        return "None"
    args = [str(norm["shape"]).replace(" ", "")] + [f"{k}={v!r}" for k, v in norm["kw"].items()]
    return f"{prefix}LayerNorm({', '.join(args)})"


def _case(rng: random.Random) -> tuple[str, list[int], dict[str, Any]]:
    e = rng.choice([4, 6, 8, 12, 16, 24, 32])
    what = rng.choice(["encoder", "encoder", "decoder"])
    d_model = e if rng.random() < 0.93 else rng.choice([e + 2, e // 2 or 1])
    kw = _config(rng, d_model)
    h = kw.pop("nhead")
    n = rng.choice([1, 1, 2, 3, 2]) if rng.random() < 0.92 else rng.choice([0, -1])
    s, length = rng.randint(1, 9), rng.randint(1, 9)
    call = rng.random() < 0.65
    prefix = "nn." if rng.random() < 0.5 else ""
    layer_cls = "TransformerEncoderLayer" if what == "encoder" else "TransformerDecoderLayer"
    if call:
        norm = _norm(rng, d_model)
        first = [str(d_model), str(h)] + [f"{k}={v!r}" for k, v in kw.items()]
        if rng.random() < 0.6:
            first.append("batch_first=True")
        inner = f"{prefix}{layer_cls}({', '.join(first)})"
        args = [inner, rng.choice([str(n), f"num_layers={n}"])]
        if norm is not None or rng.random() < 0.5:
            args.append(f"norm={_norm_text(norm, prefix)}")
        if what == "encoder" and rng.random() < 0.3:
            args.append(f"enable_nested_tensor={rng.choice(['True', 'False'])}")
        text = f"{prefix}Transformer{what.capitalize()}({', '.join(args)})"
    else:
        flag = rng.random() < 0.5
        norm = None
        if flag:
            norm = {"shape": d_model, "kw": {"eps": kw.get("layer_norm_eps", 1e-5)}}
            norm["kw"]["bias"] = kw.get("bias", True)
        text = _short(rng, f"transformer{what}", [str(d_model), str(h)], kw)
        text += " " + rng.choice([str(n), f"layers={n}", f"num_layers={n}"])
        if flag:
            text += " " + _flag(rng, "norm", True)
    if what == "encoder":
        spec, shape = text, [length, e]
    else:
        spec = f"split {s},{length} dim=1 mem tgt; from tgt; {text} memory=mem"
        shape = [s + length, e]
    desc = {"what": what, "d_model": d_model, "nhead": h, "kw": kw, "n": n, "norm": norm}
    desc.update(s=s, length=length)
    return spec, shape, desc


class Exec(nn.Module):
    def __init__(self, d: dict[str, Any]) -> None:
        super().__init__()
        self.d = d
        kw = dict(d["kw"], batch_first=True)
        norm = d["norm"]
        module = None
        if norm is not None:
            module = nn.LayerNorm(norm["shape"], **norm["kw"])
        if d["what"] == "encoder":
            layer = nn.TransformerEncoderLayer(d["d_model"], d["nhead"], **kw)
            self.stack: nn.Module = nn.TransformerEncoder(layer, d["n"], norm=module)
        else:
            layer = nn.TransformerDecoderLayer(d["d_model"], d["nhead"], **kw)
            self.stack = nn.TransformerDecoder(layer, d["n"], norm=module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.d
        if d["what"] == "encoder":
            return self.stack(x)
        mem, tgt = torch.split(x, [d["s"], d["length"]], dim=1)
        return self.stack(tgt, mem)


def run(desc: dict[str, Any], shape: list[int]) -> dict[str, Any]:
    return measure(lambda: Exec(desc), shape)


def main() -> None:
    torch.manual_seed(0)
    rng = random.Random(SEED)
    rows = []
    for i in range(COUNT):
        spec, shape, desc = _case(rng)
        row = {"id": f"t{i + 1:04d}", "spec": spec, "input": shape, **run(desc, shape)}
        rows.append(json.dumps(row, sort_keys=True, separators=(",", ":")))
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rejected = sum('"error":{' in r for r in rows)
    print(f"{OUT}: {len(rows)} cases, {rejected} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
