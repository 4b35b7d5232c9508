"""Every keras.applications model (weights=None), read from its model.to_json(), gives
Keras's count_params() (trainable and not), its output shape and every layer's output
shape (tests/vectors/keras_models.py, Keras 3 on JAX: tests/data/keras_apps/ and
keras_apps.json.gz)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from convcalc.formats.keras_model import read_keras
from convcalc.network.analysis import analyze
from tests.formats.test_keras_model import check
from tests.paths import DATA

APPS: dict[str, dict[str, Any]] = json.loads(
    gzip.decompress((DATA / "keras_apps.json.gz").read_bytes())
)


@pytest.mark.parametrize("name", sorted(APPS))
def test_an_application_gives_keras_figures(name: str) -> None:
    case = APPS[name]
    reading = read_keras(gzip.decompress((DATA / "keras_apps" / f"{name}.json.gz").read_bytes()))
    # Those Keras builds at any size (input_shape=None) are measured at the default one.
    shape = tuple(case["input"]) if None in reading.input else None
    check(analyze(reading.spec, shape), reading, case)


def test_the_anchors() -> None:
    # The figures, as Keras gives them.
    anchors = {
        "ResNet50": 25_636_712,
        "MobileNetV2": 3_538_984,
        "EfficientNetB0": 5_330_571,
        "NASNetMobile": 5_326_716,
        "DenseNet121": 8_062_504,
        "ConvNeXtTiny": 28_589_128,
    }
    assert {k: APPS[k]["params"] for k in anchors} == anchors


def test_every_application_is_there() -> None:
    # keras.applications of Keras 3.15: 40 models.
    assert len(APPS) == 40
    assert {APPS[k]["keras"] for k in APPS} == {"3.15.1"}
