"""--from-keras (issue 17): a Keras model's configuration — model.to_json(), or the
config.json of a .keras archive — gives model.count_params() (trainable and not),
model.summary()'s output shapes and the model's output. Keras's answers:
tests/data/keras_models.jsonl.gz (random Sequential and Functional models) and
tests/data/keras_apps/ (every keras.applications model), written by
tests/vectors/keras_models.py with Keras 3 itself."""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from typing import Any

import pytest

from convcalc.formats.keras_model import KerasReading, read_keras
from convcalc.network.analysis import Analysis, analyze
from tests.paths import DATA

MODELS = [
    json.loads(line)
    for line in gzip.decompress((DATA / "keras_models.jsonl.gz").read_bytes()).decode().splitlines()
]
_NAME = re.compile(r" name=(\S+)")


def figures(reading: KerasReading, shape: Any = None) -> Analysis:
    return analyze(reading.spec, shape)


def check(analysis: Analysis, reading: KerasReading, case: dict[str, Any]) -> None:
    assert analysis.params == case["params"]
    assert analysis.trainable == case["trainable"]
    assert list(analysis.output) == case["output"]
    seen = {}
    for row in analysis.layers:
        found = _NAME.search(row.spec)
        if row.spec.split()[0] in ("add", "mul", "concat"):
            seen[reading.names[row.name]] = list(row.output)
        elif found and not row.spec.startswith("use "):
            seen[reading.names[found.group(1)]] = list(row.output)
    want = case["layers"]
    for model, last in reading.nested.items():  # a nested model: its last layer's output
        seen[model] = seen[last]
    assert {k: seen[k] for k in want} == want


@pytest.mark.parametrize("case", MODELS, ids=lambda c: c["id"])
def test_a_random_keras_model_gives_keras_figures(case: dict[str, Any]) -> None:
    reading = read_keras(case["json"].encode())
    assert reading.input == tuple(case["input"])
    check(figures(reading), reading, case)


def test_the_random_models_cover_both_kinds_and_every_graph_feature() -> None:
    kinds = {c["kind"] for c in MODELS}
    assert kinds == {"Sequential", "Functional"}
    specs = "".join(read_keras(c["json"].encode()).spec for c in MODELS)
    for word in ("\nadd ", "\nmul ", "\nconcat ", "\nuse ", " frozen\n", "\nfrom "):
        assert word in specs


def _keras_archive(config: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", config)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("case", MODELS[:4], ids=lambda c: c["id"])
def test_a_keras_archive_reads_as_its_json(case: dict[str, Any]) -> None:
    archive = read_keras(_keras_archive(case["json"]))
    assert archive == read_keras(case["json"].encode())


def test_a_keras_file_keras_saved() -> None:
    reading = read_keras(str(DATA / "keras_small.keras"))
    analysis = figures(reading)
    # Conv2D(4, 3) on 8x8x3, Flatten, Dense(2): Keras's own figures.
    assert list(analysis.output) == [2]
    assert analysis.params == 3 * 3 * 3 * 4 + 4 + 6 * 6 * 4 * 2 + 2


def test_the_library_reads_a_keras_file_as_the_command_does() -> None:
    import convcalc

    path = str(DATA / "keras_small.keras")
    assert convcalc.read_keras(path).input == (8, 8, 3)
    analysis = convcalc.analyze_keras(path, (10, 10, 3))
    assert analysis.framework == "keras"
    assert analysis.layers[0].output == (8, 8, 4)
    open_size = MODELS[0]["json"].replace(
        '"batch_shape": [null, ', '"batch_shape": [null, null, null, 0'
    )
    with pytest.raises(convcalc.SpecError, match="give its size with -i"):
        convcalc.analyze_keras(open_size.replace(", 0", ", ", 1).encode())


def test_tf_keras_2_configurations() -> None:
    # tf.keras 2 writes the input shape into the first layer's config (Sequential) and
    # a Functional model's inbound nodes as [[name, node, tensor, kwargs], …].
    sequential = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "class_name": "Conv2D",
                    "config": {
                        "name": "c",
                        "batch_input_shape": [None, 8, 8, 3],
                        "filters": 4,
                        "kernel_size": [3, 3],
                        "dtype": "float32",
                    },
                },
                {"class_name": "Flatten", "config": {"name": "f"}},
            ],
        },
    }
    analysis = analyze(read_keras(json.dumps(sequential).encode()).spec)
    assert (analysis.output, analysis.params) == ((144,), 112)
    functional = {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "x",
                    "config": {"batch_input_shape": [None, 6], "name": "x"},
                    "inbound_nodes": [],
                },
                {
                    "class_name": "Dense",
                    "name": "d",
                    "config": {"name": "d", "units": 6},
                    "inbound_nodes": [[["x", 0, 0, {}]], [["d", 0, 0, {}]]],
                },
                {
                    "class_name": "Concatenate",
                    "name": "cat",
                    "config": {"name": "cat", "axis": -1},
                    "inbound_nodes": [[["d", 1, 0, {}], ["x", 0, 0, {}]]],
                },
            ],
            "input_layers": [["x", 0, 0]],
            "output_layers": [["cat", 0, 0]],
        },
    }
    reading = read_keras(json.dumps(functional).encode())
    analysis = analyze(reading.spec)
    # Dense called twice (shared: 42 weights once), then cat([d(d(x)), x]).
    assert (analysis.output, analysis.params) == ((12,), 42)
    assert "\nuse d\n" in reading.spec
