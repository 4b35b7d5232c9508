"""Generate convcalc's ONNX test vectors with the onnx package's shape inference and
onnxruntime.

Re-run from the repository root (deterministic: the same rows on every run)::

    /path/to/venv-with-onnx/bin/python tests/vectors/onnx_vectors.py

It needs onnx (written against 1.23), onnxruntime (1.32) and numpy, and writes
``tests/data/onnx_cases.jsonl``: random single nodes and random chains of nodes, each
a model at a random opset (13 to 26) whose spec starts with ``framework onnx opset=N``,
and the networks the README and examples/frameworks show (``"documented": true``):
``{"id", "spec", "input", "opset", "nodes": [{"output", "params", "buffers"}, ...],
"error": null | {"node", "by", "message"}}``, plus, where they apply, ``"ort"``
(onnxruntime's output shape where it differs from shape inference's), ``"ort_refuses"``
(onnxruntime's message where it refuses a node that the spec and shape inference
accept, and ``"ort_limit"``, the part of the message that says which: a limit of
onnxruntime's own, or "onnxruntime crashed": it runs in a worker
process, which a floating-point exception kills on a few pools) and ``"truncated"`` (shape inference returned
N×C only: ConvTranspose with an output_shape below the input's size; the shape is
onnxruntime's).

How a case runs: the nodes make one graph on an input of batch 1 (shapes in the data
exclude it; channels first); weights are initializers (``params`` counts a node's
weights and bias, ``buffers`` BatchNormalization's mean and variance). The model's shapes are
inferred (``onnx.shape_inference.infer_shapes(strict_mode=True)``), the inferred model is
checked (``onnx.checker.check_model``) and it is run by onnxruntime on zeros. ``nodes`` holds shape inference's output shape of every node.
The case is rejected (``error.by``) when shape inference or the checker fails
(``"shape inference"``, ``"checker"``), when a size is below 1 (``"size"``: shape
inference infers 0 or less, or onnxruntime refuses a convolution whose kernel does not
fit, which shape inference sizes 1 by truncating), or when onnxruntime refuses a node
the ONNX spec does not allow (``"onnxruntime"``: pads with auto_pad, channels the group
does not divide, output_padding not below the stride or dilation, an output_shape the
input cannot make); ``error.node`` (1-based) is the first node whose prefix of the
graph is refused. Refusals are classified by their message (ORT_REFUSALS).
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, shape_inference

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from onnx_layers import BUILDERS, ONode  # noqa: E402
from spelling import Spell, dump  # noqa: E402

ROOT = HERE.parents[1]
CASES_PATH = ROOT / "tests" / "data" / "onnx_cases.jsonl"
SEED = 20260113
OPSETS = [13, 14, 16, 17, 18, 19, 20, 21, 22, 22, 22, 23, 24, 25, 26]
PLAN = [
    ("conv", 1100),
    ("convt", 700),
    ("pool", 1300),
    ("global", 100),
    ("gemm", 150),
    ("matmul", 100),
    ("flatten", 100),
    ("resize", 450),
    ("batchnorm", 60),
    ("instancenorm", 60),
    ("layernorm", 120),
    ("elementwise", 200),
]
CHAINS = 700
LMAX = {1: 30, 2: 16, 3: 8}

ort.set_default_logger_severity(4)


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _model(shape: tuple[int, ...], nodes: list[ONode], opset: int) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, *shape])
    inits, made = [], []
    for i, node in enumerate(nodes, start=1):
        names = [f"t{i - 1}"]
        for j, item in enumerate(node.inputs):
            if item is None:
                names.append("")
                continue
            name = f"n{i}_{j}"
            if item[0] in ("weight", "buffer"):
                value = np.zeros(item[1], "float32")
            else:
                value = np.asarray(item[1], item[2])
            inits.append(numpy_helper.from_array(value, name))
            names.append(name)
        made.append(helper.make_node(node.op, names, [f"t{i}"], name=f"n{i}", **node.attrs))
    y = helper.make_tensor_value_info(f"t{len(nodes)}", TensorProto.FLOAT, None)
    graph = helper.make_graph(made, "g", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset <= 18 else 10
    return model


def _dims(value_info: Any) -> list[int] | None:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else -99 for d in t.shape.dim]


# How onnxruntime words its refusals: a size below 1 ("size"), a node the ONNX spec
# does not allow ("spec"), or a limit of onnxruntime's own ("limit": convcalc follows
# the spec and shape inference there, and the test lists these cases).
ORT_REFUSALS = [
    ("Invalid input shape", "size"),
    ("Computed output dimension is <= 0", "size"),
    ("auto_pad == AutoPadType::NOTSET was false", "spec"),
    ("Input channels C is not equal to kernel channels * group", "spec"),
    ("Output channels M is not divisible by group", "spec"),
    ("output_padding", "spec"),
    ("Explicit output_shape is inconsistent", "spec"),
    ("Input dimension cannot be less than 3", "spec"),
    ("number of dimensions is less than 3", "spec"),
    # The NCHWc optimizer's reorder of a Conv whose channels the group does not divide.
    ("(channels % 4) == 0 was false", "spec"),
    ("Dilation not supported for AutoPadType", "limit"),
    ("Pad should be smaller than kernel", "limit"),
    ("mode only supports", "limit"),
    ("Could not find an implementation", "limit"),
    ("pool_attributes.h:236", "limit"),
    ("padding values must be non-negative", "limit"),
]


def _refusal(message: str) -> tuple[str, str]:
    """(kind, the pattern that says so)."""
    for pattern, kind in ORT_REFUSALS:
        if pattern in message:
            return kind, pattern
    raise SystemExit(f"an onnxruntime refusal to classify: {message}\n{CURRENT}")


CURRENT: list[Any] = []  # the case being run, for the message above


def _run(model: bytes, shape: tuple[int, ...]) -> tuple[str, Any]:
    try:
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        out = session.run(None, {"t0": np.zeros((1, *shape), "float32")})[0]
        return ("ok", [int(v) for v in out.shape])
    except Exception as exc:
        return ("error", str(exc))


def _worker(conn: Any) -> None:
    ort.set_default_logger_severity(4)
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_run(*job))


class Runtime:
    """onnxruntime in a worker process: it dies of a floating-point exception on a
    few pools (an AveragePool with ceil_mode whose window holds no input), which is
    recorded as a crash (a limit of onnxruntime's) and the worker restarted."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.crashes = 0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()

    def run(self, model: bytes, shape: tuple[int, ...]) -> tuple[str, Any]:
        self.conn.send((model, shape))
        try:
            if self.conn.poll(300):
                return tuple(self.conn.recv())  # type: ignore[return-value]
        except EOFError:
            pass
        self.proc.kill()
        self.proc.join()
        self.crashes += 1
        self._start()
        return ("crash", "onnxruntime crashed (a floating-point exception) running the model")

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join()


RUNTIME: Runtime | None = None


def _verdict(shape: tuple[int, ...], nodes: list[ONode], opset: int) -> dict[str, Any]:
    """What ONNX says of the whole graph: {"error": None | {"by", "message"}, "shapes":
    each node's output (shape inference's; onnxruntime's where shape inference drops
    axes), "ort": onnxruntime's output where it differs, "ort_refuses": its message
    where it refuses a node the spec allows, "truncated": shape inference dropped axes}."""
    CURRENT[:] = [shape, [node.text for node in nodes], opset]
    model = _model(shape, nodes, opset)
    out: dict[str, Any] = {
        "error": None,
        "shapes": None,
        "ort": None,
        "ort_refuses": None,
        "ort_limit": None,
    }
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:
        out["error"] = {"by": "shape inference", "message": _message(exc)}
        return out
    try:  # on the inferred model: the checker wants the output's shape
        onnx.checker.check_model(inferred)
    except Exception as exc:
        out["error"] = {"by": "checker", "message": _message(exc)}
        return out
    known = {v.name: _dims(v) for v in [*inferred.graph.value_info, *inferred.graph.output]}
    shapes = [known.get(f"t{i}") for i in range(1, len(nodes) + 1)]
    for i, dims in enumerate(shapes, start=1):
        if dims is None or -99 in dims:
            out["error"] = {"by": "shape inference", "message": f"no shape inferred for node {i}"}
            return out
    assert RUNTIME is not None
    ran = RUNTIME.run(model.SerializeToString(), shape)
    if ran[0] == "ok":
        result = ran[1]
    else:
        result = None
        full = ran[1]
        message = " ".join(full.split())[:300]
        if ran[0] == "crash":
            kind, pattern = "limit", "onnxruntime crashed"
        else:
            kind, pattern = _refusal(" ".join(full.split()))
        if kind != "limit":
            out["error"] = {"by": "size" if kind == "size" else "onnxruntime", "message": message}
            return out
        out["ort_refuses"] = message
        out["ort_limit"] = pattern
    last = shapes[-1]
    assert last is not None
    if result is not None and len(result) != len(last):
        # ConvTranspose with an output_shape below the input size: shape inference
        # returns N×C only. onnxruntime (and the spec) give the full shape.
        out["truncated"] = True
        shapes[-1] = last = result
    for i, dims in enumerate(shapes, start=1):
        assert dims is not None
        if any(d < 1 for d in dims[1:]) or dims[0] != 1:
            out["error"] = {"by": "size", "message": f"node {i} gets the inferred shape {dims}"}
            return out
    out["shapes"] = shapes
    if result is not None and result != last:
        out["ort"] = result[1:]
    return out


def run(shape: tuple[int, ...], nodes: list[ONode], opset: int) -> dict[str, Any]:
    verdict = _verdict(shape, nodes, opset)
    rows = []
    for node in nodes:
        rows.append(
            {
                "params": sum(int(np.prod(i[1])) for i in node.inputs if i and i[0] == "weight"),
                "buffers": sum(int(np.prod(i[1])) for i in node.inputs if i and i[0] == "buffer"),
            }
        )
    extra = {
        k: verdict[k] for k in ("ort", "ort_refuses", "ort_limit", "truncated") if verdict.get(k)
    }
    if verdict["error"] is None:
        for row, dims in zip(rows, verdict["shapes"]):
            row["output"] = dims[1:]
        return {"nodes": rows, "error": None, **extra}
    # The first node whose prefix is refused.
    node = len(nodes)
    for i in range(1, len(nodes)):
        if _verdict(shape, nodes[:i], opset)["error"] is not None:
            node = i
            break
    kept = []
    if node > 1:
        for row, dims in zip(rows, _verdict(shape, nodes[: node - 1], opset)["shapes"]):
            kept.append({**row, "output": dims[1:]})
    error = _verdict(shape, nodes[:node], opset)["error"] or verdict["error"]
    return {"nodes": kept, "error": {"node": node, **error}}


def random_shape(rng: random.Random, ranks: tuple[int, ...] | None) -> tuple[int, ...]:
    rank = rng.choice(ranks or (1, 2, 3, 4))
    c = rng.choice([1, 2, 3, 4, 6, 8, 16])
    n = rank - 1
    if n == 0:
        return (rng.randint(1, 64),)
    small = rng.random() < 0.2
    return (c, *(rng.randint(1, 4 if small else LMAX[n]) for _ in range(n)))


def _spec(nodes: list[ONode], opset: int, rng: random.Random) -> str:
    head = (
        "framework onnx" if opset == 22 and rng.random() < 0.5 else f"framework onnx opset={opset}"
    )
    sep = rng.choice(["\n", "; ", " "])
    return sep.join([head, *(node.text for node in nodes)])


SPATIAL = [
    "conv",
    "conv",
    "conv",
    "convt",
    "pool",
    "pool",
    "pool",
    "batchnorm",
    "elementwise",
    "resize",
    "instancenorm",
]
FLAT = ["gemm", "matmul", "elementwise", "batchnorm", "layernorm"]


def chain(rng: random.Random, sp: Spell, opset: int) -> tuple[tuple[int, ...], list[ONode]]:
    shape = random_shape(rng, (2, 3, 4))
    nodes: list[ONode] = []
    current = shape
    for _ in range(rng.randint(2, 6)):
        rank = len(current)
        family = rng.choice([*SPATIAL, "global", "flatten"] if rank >= 2 else FLAT)
        builder, _ = BUILDERS[family]
        node = builder(rng, sp, current, opset)
        nodes.append(node)
        verdict = _verdict(shape, nodes, opset)
        if verdict.get("truncated"):
            nodes.pop()  # shape inference's defect: in a chain it would spoil the rest
            break
        if verdict["error"] is not None or verdict["ort_refuses"] or verdict["ort"]:
            # After a node onnxruntime cannot run, it would check nothing more; after one
            # it sizes otherwise than shape inference, its run would not follow the
            # weights made for shape inference's sizes.
            break
        current = tuple(verdict["shapes"][-1][1:])
    if len(nodes) < 2:  # it stopped at its first node: another chain
        return chain(rng, sp, opset)
    return shape, nodes


def _doc(op: str, inputs: list[Any] | None = None, **attrs: Any) -> ONode:
    return ONode("documented", "", op, attrs, inputs or [])


def _w(*shape: int) -> tuple[str, tuple[int, ...]]:
    return ("weight", shape)


# The networks the README and examples/frameworks show: (spec, input, opset, nodes).
STEM = (ROOT / "examples" / "frameworks" / "onnx_stem.spec").read_text(encoding="utf-8")
DOCUMENTED = [
    (
        STEM,
        (3, 224, 224),
        17,
        [
            _doc("Conv", [_w(64, 3, 7, 7)], kernel_shape=[7, 7], strides=[2, 2], pads=[3] * 4),
            _doc("BatchNormalization", [_w(64), _w(64), ("buffer", (64,)), ("buffer", (64,))]),
            _doc("Relu"),
            _doc("MaxPool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
            _doc("GlobalAveragePool"),
            _doc("Flatten"),
            _doc("Gemm", [_w(1000, 64), _w(1000)], transB=1),
        ],
    ),
    ("framework onnx opset=21\nMaxPool k=2 s=4 p=1 ceil_mode=1", (1, 6), 21, [
        _doc("MaxPool", kernel_shape=[2], strides=[4], pads=[1, 1], ceil_mode=1)
    ]),
    ("framework onnx opset=22\nMaxPool k=2 s=4 p=1 ceil_mode=1", (1, 6), 22, [
        _doc("MaxPool", kernel_shape=[2], strides=[4], pads=[1, 1], ceil_mode=1)
    ]),
    ("framework onnx\nConv 1 k=2 p=same_lower", (1, 6), 22, [
        _doc("Conv", [_w(1, 1, 2), _w(1)], kernel_shape=[2], auto_pad="SAME_LOWER")
    ]),
    ("framework onnx\nConvTranspose 16 k=3 s=2 p=same_upper", (8, 7, 7), 22, [
        _doc("ConvTranspose", [_w(8, 16, 3, 3), _w(16)], kernel_shape=[3, 3], strides=[2, 2],
             auto_pad="SAME_UPPER")
    ]),
    ("framework onnx\nMaxPool k=3", (1, 7, 7), 22, [_doc("MaxPool", kernel_shape=[3, 3])]),
    ("framework onnx\nBatchNormalization", (64, 7, 7), 22, [
        _doc("BatchNormalization", [_w(64), _w(64), ("buffer", (64,)), ("buffer", (64,))])
    ]),
    ("framework onnx\nConv 8 k=5", (3, 3, 3), 22, [
        _doc("Conv", [_w(8, 3, 5, 5), _w(8)], kernel_shape=[5, 5])
    ]),
    (
        "framework onnx\nConv 16 k=3 s=2 p=same_lower Resize scales=0.29 "
        "MaxPool k=2 s=2 pads=0,0,1,1 ceil_mode=1",
        (3, 200, 200),
        22,
        [
            _doc("Conv", [_w(16, 3, 3, 3), _w(16)], kernel_shape=[3, 3], strides=[2, 2],
                 auto_pad="SAME_LOWER"),
            _doc("Resize", [None, ("data", [1.0, 1.0, 0.29, 0.29], "float32")], mode="nearest"),
            _doc("MaxPool", kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1),
        ],
    ),
]  # fmt: skip


def main() -> None:
    global RUNTIME
    RUNTIME = Runtime()
    start = time.time()
    rng = random.Random(SEED)
    sp = Spell(rng)
    rows: list[dict[str, Any]] = []
    for family, count in PLAN:
        builder, ranks = BUILDERS[family]
        for _ in range(count):
            opset = rng.choice(OPSETS)
            shape = random_shape(rng, ranks)
            nodes = [builder(rng, sp, shape, opset)]
            rows.append(
                {
                    "spec": _spec(nodes, opset, rng),
                    "input": list(shape),
                    "opset": opset,
                    **run(shape, nodes, opset),
                }
            )
    print(f"singles: {len(rows)} in {time.time() - start:.0f} s", flush=True)
    for _ in range(CHAINS):
        opset = rng.choice(OPSETS)
        shape, nodes = chain(rng, sp, opset)
        rows.append(
            {
                "spec": _spec(nodes, opset, rng),
                "input": list(shape),
                "opset": opset,
                **run(shape, nodes, opset),
            }
        )
    for spec, shape, opset, nodes in DOCUMENTED:
        row = {"spec": spec, "input": list(shape), "opset": opset, "documented": True}
        rows.append({**row, **run(shape, nodes, opset)})
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    dump(CASES_PATH, rows)
    RUNTIME.close()
    rejected = sum(1 for r in rows if r["error"] is not None)
    differ = sum(1 for r in rows if r.get("ort"))
    print(
        f"{len(rows)} cases ({rejected} rejected, {differ} where onnxruntime's shape differs, "
        f"{RUNTIME.crashes} onnxruntime crashes), {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
