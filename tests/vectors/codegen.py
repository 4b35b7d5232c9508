"""``-o torch`` round trip: convcalc's PyTorch code for thousands of networks, executed by
PyTorch, with what it built and computed recorded as data (issue 8).

Re-run (deterministic; byte-identical output) from the repository root, after the other
generators (it reads their data)::

    /path/to/venv-with-torch/bin/python tests/vectors/codegen.py

Written against torch 2.13.0 (CPU). The networks are those of the other data files that
PyTorch accepted — the chains of ``torch_cases.jsonl`` and a sample of its single layers
(every kind), the graphs of ``torch_graphs.jsonl``, the printed models of
``torch_prints.jsonl`` (read by convcalc's --from-torch reader), the built-in models and
the transformer decoders of ``torch_decoder.jsonl``.
For each, convcalc (imported from this checkout) analyses the spec and writes the code,
which is executed here: ``nn.Sequential`` for a chain, the ``Net`` class for a graph, in
eval mode on ``torch.randn(1, *input)`` (int64 zeros for an embedding). It writes
``tests/data/torch_codegen.jsonl``::

    {"id": "c00001", "spec": "...", "input": [C, H, W], "sha256": "<of the code>",
     "calls": [[row, [output shape]], …], "modules": [[row, params], …],
     "output": [...], "params": int, "trainable": int, "buffers": int}

``calls`` are the module calls of the forward pass in order, each named by the convcalc
row that built the module (a shared module: the row of its first use) with the shape it
returned (batch left out); ``modules`` the parameters of each module (a weight tied to an
earlier module's, ``tie=NAME``, counted there only). A network convcalc
cannot write (an unknown size, MaxUnpool) or whose code PyTorch cannot run (an embedding
after float layers) is left out and counted. The test (tests/formats/test_torch_code.py) needs no
torch: convcalc's figures must equal these, and its code for every case must still hash
to ``sha256`` — the data follows the code generator.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import json  # noqa: E402

from common import SEED, dump  # noqa: E402

import convcalc  # noqa: E402
from convcalc.formats.torch_code import CodeError, to_torch  # noqa: E402
from convcalc.formats.torch_print import read_print  # noqa: E402
from convcalc.network.zoo import model_spec, models  # noqa: E402

DATA = ROOT / "tests" / "data"
PATH = DATA / "torch_codegen.jsonl"
SINGLES = 1500  # single layers sampled from torch_cases.jsonl (every kind, then at random)
_ROW = re.compile(r"_(\d+)$")


def load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# The rows of torch_cases.jsonl the sample was first drawn from; the sets appended after
# them (generate.py's SETS from "recurrent" on) are written whole, after everything else,
# so that a new set adds rows here too and changes none.
SAMPLED_CASES = 21171


def candidates(rng: random.Random) -> list[tuple[str, list[int]]]:
    """(spec, input) of the networks to write, in file order."""
    every = [c for c in load("torch_cases.jsonl") if c["error"] is None]
    cases = [c for c in every if c["id"] <= SAMPLED_CASES]
    later = [(c["spec"], c["input"]) for c in every if c["id"] > SAMPLED_CASES]
    chains = [(c["spec"], c["input"]) for c in cases if len(c["layers"]) > 1]
    singles = [c for c in cases if len(c["layers"]) == 1]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for case in singles:
        by_kind.setdefault(case["spec"].split("(")[0].split()[0].lower(), []).append(case)
    picked = [rng.choice(group) for _, group in sorted(by_kind.items())]
    rest = [c for c in singles if c not in picked]
    picked += rng.sample(rest, SINGLES - len(picked))
    graphs = [(g["spec"], g["input"]) for g in load("torch_graphs.jsonl") if g["error"] is None]
    prints = []
    for p in load("torch_prints.jsonl"):
        if p["error"] is None:
            prints.append((read_print(p["print"], assume_sequential=p["assume"]).spec, p["input"]))
    # The language models hold billions of parameters: small ones of their families instead.
    zoo = [(model_spec(m.name), []) for m in models() if not m.weights.startswith("hf:")]
    # The transformer decoders (families/decoder.py), after the zoo: adding them changed no row.
    decoders = [(d["spec"], d["input"]) for d in load("torch_decoder.jsonl") if d["error"] is None]
    # The transformer stacks (families/stack.py), after everything else.
    stacks = [(d["spec"], d["input"]) for d in load("torch_stack.jsonl") if d["error"] is None]
    return [
        *chains,
        *((c["spec"], c["input"]) for c in picked),
        *graphs,
        *prints,
        *zoo,
        *later,
        *decoders,
        *LANGUAGE,
        *stacks,
    ]


# Small networks of the language models' families and words (tie=, the tables, rope, GQA),
# after everything else.
LANGUAGE: list[tuple[str, list[int]]] = [
    (
        "embedding 1000 128 name=wte positions 256 layernorm mha 128 4 causal=true layernorm "
        "swiglu 512 linear 1000 bias=false tie=wte",
        [64],
    ),
    ("include gpt2\ngpt2_embed 64\ngpt2_block 64 4 256 x2\ngpt2_head", [16]),
    ("include bert\nbert_embed 64\nbert_layer 64 4 128 x2\nbert_pooler 64", [16]),
    (
        "include llama\nembedding 100 64 name=emb\nllama_layer 64 8 2 96 x2\nrmsnorm\n"
        "linear 100 bias=false tie=emb",
        [16],
    ),
    ("include llama\nembedding 100 64\nllama_layer 64 4 1 96\nrmsnorm\nlinear 100", [10]),
]


def execute(code: str, analysis: convcalc.Analysis) -> dict[str, Any]:
    """Run the code: the module calls of an eval forward pass, and what the model holds."""
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(code, "<generated>", "exec"), namespace)
    model = namespace["Net"]() if "Net" in namespace else namespace["model"]
    model.eval()
    calls: list[list[Any]] = []
    modules: list[list[int]] = []
    seen: set[int] = set()  # a tied weight (tie=NAME) counts at its first module only
    for name, module in model.named_children():
        m = _ROW.search(name)
        row = int(m.group(1)) if m else int(name) + 1
        own = [p for p in module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in own)
        modules.append([row, sum(p.numel() for p in own)])
        module.register_forward_hook(
            lambda _m, _i, out, row=row: calls.append([row, list(out.shape[1:])])
        )
    sizes = (1, *analysis.input)
    first = analysis.layers[0]
    x = torch.zeros(sizes, dtype=torch.long) if first.kind == "embedding" else torch.randn(sizes)
    with torch.no_grad():
        y = model(x)
    if isinstance(y, tuple):  # 'return out aux': the result, then the other outputs
        y = y[0]
    return {
        "calls": calls,
        "modules": modules,
        "output": list(y.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
    }


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for spec, shape in candidates(rng):
        key = (spec, tuple(shape))
        if key in seen:
            continue
        seen.add(key)
        analysis = convcalc.analyze(spec, shape or None)
        try:
            code = to_torch(analysis)
        except CodeError as exc:
            skipped[f"convcalc cannot write it: {str(exc).splitlines()[0][:80]}"] += 1
            continue
        try:
            ran = execute(code, analysis)
        except Exception:  # only an embedding fed floats is expected here
            if "embedding" not in spec.lower():
                print(f"torch failed to run the code for {spec!r} on {shape}")
                raise
            skipped["torch cannot run it: an embedding after float layers"] += 1
            continue
        digest = hashlib.sha256(code.encode()).hexdigest()
        rows.append({"spec": spec, "input": list(analysis.input), "sha256": digest, **ran})
    with PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rows, 1):
            fh.write(dump({"id": f"c{i:05d}", **row}) + "\n")
    graphs = sum(1 for r in rows if any(c[0] != i + 1 for i, c in enumerate(r["calls"])))
    print(f"wrote {len(rows)} networks ({graphs} graphs) to {PATH} in {time.time() - t0:.0f}s")
    for reason, count in skipped.most_common():
        print(f"  left out {count}: {reason}")


if __name__ == "__main__":
    main()
