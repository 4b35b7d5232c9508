"""``-o keras`` round trip: convcalc's Keras code for the Keras networks of the other data
files, executed by Keras 3, with what it built recorded as data (issue 17).

Re-run (deterministic; byte-identical output) from the repository root, after the other
Keras generators (it reads their data)::

    KERAS_BACKEND=jax /path/to/venv-with-keras/bin/python tests/vectors/keras_codegen.py

Written against keras 3.15 (backend jax). The networks are those Keras accepted in
``keras_cases.jsonl`` (its chains, functional graphs and documented networks, and a
sample of its single layers, every kind among them; the few whose forward pass gives
another shape than Keras's symbolic one, an Activation glu, are left out), ``keras_recurrent.jsonl`` (recurrent layers and their
wrappers), ``keras_calls.json`` (Keras's constructor calls) and ``keras_sequential.jsonl``
(pasted ``keras.Sequential([...])`` sources, each read whole). For each, convcalc
(imported from this checkout) analyses the spec under ``--framework keras`` and writes
the code, which is executed here: ``model`` is a ``keras.Sequential`` for a chain, a
functional ``keras.Model`` for a graph. It writes ``tests/data/keras_codegen.jsonl``::

    {"id": "k00001", "spec": "...", "input": [H, W, C], "sha256": "<of the code>",
     "params": int, "trainable": int, "non_trainable": int, "output": [...],
     "layers": [[output shape], …] | null, "documented": "<the words>" (the docs' own)}

``params`` is ``model.count_params()``, ``trainable``/``non_trainable`` the sizes of its
weights, ``output`` its (first) output shape without the batch, and ``layers`` each
layer's output shape for a Sequential (one per convcalc row; null for a functional
model). A network convcalc cannot write is left out and counted. The test
(tests/formats/test_keras_code.py) needs no Keras: convcalc's figures must equal these,
and its code for every case must still hash to ``sha256``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import keras  # noqa: E402
import keras_vectors  # noqa: E402,F401  (weights made with numpy: cheap, values unused)

import convcalc  # noqa: E402
from convcalc.formats.keras_code import CodeError, to_keras  # noqa: E402

DATA = ROOT / "tests" / "data"
PATH = DATA / "keras_codegen.jsonl"
SEED = 20260301
SINGLES = 1000  # single layers sampled from keras_cases.jsonl (every kind, then at random)
# docs/frameworks.md's -o keras commands: (the layer words as the shell gets them, input).
DOCUMENTED = [
    (
        """'Conv2D(8, 3, activation="relu")' 'MaxPooling2D()' 'Flatten()' 'Dense(10)'""",
        [28, 28, 1],
    ),
    (
        "as x lstm 16 out=hidden as h from x GlobalAveragePooling1D Dense 16 concat h Dense 3",
        [20, 8],
    ),
]


def _lines(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def candidates() -> list[tuple[str, list[int] | None]]:
    """(spec, input) of the networks to write, in file order (None: the spec's own)."""
    rng = random.Random(SEED)
    cases = [c for c in _lines("keras_cases.jsonl") if c["error"] is None and not c.get("eager")]
    singles = [c for c in cases if len(c.get("layers") or ()) == 1 and not c.get("graph")]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for case in singles:
        by_kind.setdefault(case["spec"].split("(")[0].split()[0].lower(), []).append(case)
    picked = [rng.choice(group) for _, group in sorted(by_kind.items())]
    rest = [c for c in singles if c not in picked]
    chosen = {id(c) for c in picked + rng.sample(rest, SINGLES - len(picked))}
    out: list[tuple[str, list[int] | None]] = []
    for case in cases:
        if case not in singles or id(case) in chosen:
            out.append((case["spec"], case["input"]))
    for case in _lines("keras_recurrent.jsonl"):
        if case["error"] is None:
            out.append((case["spec"], case["input"]))
    calls = json.loads((DATA / "keras_calls.json").read_text(encoding="utf-8"))["calls"]
    out += [(c["call"], c["input"]) for c in calls if c.get("params") is not None]
    out += [(s["source"], None) for s in _lines("keras_sequential.jsonl")]
    # The networks docs/frameworks.md writes with -o keras, last (rows with "documented").
    out += [(" ".join(shlex.split(words)), shape) for words, shape in DOCUMENTED]
    return out


def _shape(shape: Any) -> list[int]:
    return [int(v) for v in shape[1:]]


def execute(code: str) -> dict[str, Any]:
    """Run the code: what the model it builds holds and gives."""
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(code, "<generated>", "exec"), namespace)
    model = namespace["model"]
    out = model.output_shape
    first = out[0] if isinstance(out, list) else out
    sequential = isinstance(model, keras.Sequential)
    return {
        "params": int(model.count_params()),
        "trainable": sum(int(_count(w)) for w in model.trainable_weights),
        "non_trainable": sum(int(_count(w)) for w in model.non_trainable_weights),
        "output": _shape(first),
        "layers": [_shape(layer.output.shape) for layer in model.layers] if sequential else None,
    }


def _count(weight: Any) -> int:
    n = 1
    for v in weight.shape:
        n *= int(v)
    return n


def main() -> None:
    warnings.filterwarnings("ignore")
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    seen: set[tuple[str, tuple[int, ...] | None]] = set()
    for n, (spec, shape) in enumerate(candidates()):
        if n % 250 == 0:
            print(f"{n} networks, {time.time() - t0:.0f}s", flush=True)
        key = (spec, None if shape is None else tuple(shape))
        if key in seen:
            continue
        seen.add(key)
        analysis = convcalc.analyze(spec, tuple(shape) if shape else None, framework="keras")
        try:
            code = to_keras(analysis)
        except CodeError as exc:
            skipped[f"convcalc cannot write it: {str(exc).split(': ', 1)[-1][:60]}"] += 1
            continue
        try:
            ran = execute(code)
        except Exception:
            print(f"keras failed to run the code for {spec!r} on {shape}:\n{code}")
            raise
        digest = hashlib.sha256(code.encode()).hexdigest()
        row = {"spec": spec, "input": list(analysis.input), "sha256": digest, **ran}
        documented = [w for w, i in DOCUMENTED if " ".join(shlex.split(w)) == spec and i == shape]
        if documented:
            row["documented"] = documented[0]
        rows.append(row)
        keras.backend.clear_session()
    with PATH.open("w", encoding="utf-8", newline="\n") as fh:
        for i, row in enumerate(rows, 1):
            fh.write(json.dumps({"id": f"k{i:05d}", **row}, separators=(",", ":")) + "\n")
    graphs = sum(1 for r in rows if r["layers"] is None)
    print(f"wrote {len(rows)} networks ({graphs} functional) to {PATH} in {time.time() - t0:.0f}s")
    for reason, count in skipped.most_common():
        print(f"  left out {count}: {reason}")


if __name__ == "__main__":
    main()
