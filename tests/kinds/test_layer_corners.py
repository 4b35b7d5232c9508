"""Layer-level corners of issue 10 checked against facts PyTorch produced
(tests/data/torch_layer_facts.json, from tests/vectors/layer_facts.py) and against the
torch vectors of the corner family (tests/vectors/families/corners.py): PyTorch's
functional names as kind words, the depthwise spellings, buffers PyTorch keeps as int64,
rules that depend on the batch size, and the note on whole-dimension statistics."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import LayerError, SpecError
from convcalc.kinds import KINDS, REGISTRY, Layer, bind
from convcalc.language import LayerStmt, parse
from tests.paths import DATA

FACTS = json.loads((DATA / "torch_layer_facts.json").read_text(encoding="utf-8"))
OWN_MODULES = {
    *("activation", "conv", "conv_transpose", "pool", "pool_adaptive", "pool_lp", "pool_unpool"),
    *("norm", "reshape", "embedding"),
}


def _layer(spec: str) -> Layer:
    (stmt,) = [s for s in parse(spec, KINDS).statements if isinstance(s, LayerStmt)]
    return bind(stmt, spec, REGISTRY)


def _own_words() -> list[str]:
    return [w for w, e in REGISTRY.items() if e.cls.__module__.rsplit(".", 1)[-1] in OWN_MODULES]


def test_underscored_kind_words_are_pytorch_functional_names() -> None:
    functional = set(FACTS["functional"])
    words = [w for w in _own_words() if "_" in w]
    assert len(words) >= 30
    assert [w for w in words if w not in functional] == []


def test_every_functional_name_of_a_layer_is_a_kind_word() -> None:
    # F.max_pool2d is nn.MaxPool2d: wherever dropping the underscores of a functional
    # name gives a kind word, the functional name is that kind too (the in-place
    # variants relu_, elu_, ... excepted).
    missing, different = [], []
    for name in FACTS["functional"]:
        plain = REGISTRY.get(name.replace("_", ""))
        if name.endswith("_") or "_" not in name or plain is None:
            continue
        entry = REGISTRY.get(name)
        if entry is None:
            missing.append(name)
        elif (entry.cls, entry.fixed, entry.params) != (plain.cls, plain.fixed, plain.params):
            different.append(name)
    assert (missing, different) == ([], [])


@pytest.mark.parametrize(
    ("alias", "canonical", "shape"),
    [
        ("max_pool2d k=2", "maxpool2d k=2", "3x8x8"),
        ("adaptive_avg_pool1d 4", "adaptiveavgpool1d 4", "3x16"),
        ("conv_transpose2d 8 k=2 s=2", "convtranspose2d 8 k=2 s=2", "3x8x8"),
        ("leaky_relu slope=0.2", "leakyrelu slope=0.2", "3x8x8"),
        ("batch_norm", "batchnorm", "3x8x8"),
        ("upsample_nearest scale=2", "upsample scale=2 mode=nearest", "3x8x8"),
        ("upsample_bilinear scale=2", "upsample scale=2 mode=bilinear align_corners=1", "3x8x8"),
        ("dwconv k=3 p=1", "conv k=3 p=1 g=dw", "32x16x16"),
        ("dwconv2d 64 k=3", "conv2d 64 k=3 depthwise", "32x16x16"),
        ("depthwiseconv1d k=5 s=2", "conv1d k=5 s=2 g=dw", "8x40"),
    ],
)
def test_aliases_mean_their_layers(alias: str, canonical: str, shape: str) -> None:
    a, b = convcalc.analyze(alias, shape), convcalc.analyze(canonical, shape)
    assert a.layers[0].layer == b.layers[0].layer
    assert [r.to_dict() | {"spec": ""} for r in a.layers] == [
        r.to_dict() | {"spec": ""} for r in b.layers
    ]


def test_dwconv_is_a_kind_and_fixes_its_groups() -> None:
    assert "dwconv" in KINDS and "depthwiseconv2d" in KINDS
    with pytest.raises(SpecError) as info:
        convcalc.analyze("dwconv 64 k=3 g=2", "32x16x16")
    assert info.value.message == "dwconv fixes groups=dw; the general kind lets you choose it"


@pytest.mark.parametrize("case", FACTS["buffers"], ids=lambda c: c["spec"])
def test_buffers_at_their_real_dtype(case: dict[str, Any]) -> None:
    (result,) = convcalc.analyze(case["spec"], tuple(case["input"])).layers
    assert (result.buffers, result.int64_buffers) == (case["buffers"], case["int64_buffers"])
    out = result.layer.infer(result.input)
    assert out.int64_buffers == case["int64_buffers"]


def test_int64_buffers_are_counted_for_every_norm_with_running_stats() -> None:
    seen = {c["spec"].split()[0] for c in FACTS["buffers"] if c["int64_buffers"]}
    assert {"bn", "bn1d", "batchnorm1d", "batch_norm", "instancenorm2d", "instance_norm"} <= seen


@pytest.mark.parametrize(
    "case",
    FACTS["batch_dependent"],
    ids=lambda c: f"{c['spec']} on {c['input']} at batch {c['batch']}",
)
def test_batch_dependent_rules(case: dict[str, Any]) -> None:
    # The layer itself is asked (as a first layer, an n-dim shape before an n-d kind
    # would be read as one with unknown channels, not as PyTorch's unbatched input).
    layer = _layer(case["spec"])
    try:
        output = list(layer.infer(tuple(case["input"]), case["batch"]).shape)
    except LayerError:
        output = None
    assert output == case["output"]


def test_the_batch_dependent_cases_are_not_all_alike() -> None:
    by_spec: dict[tuple[str, str], set[bool]] = {}
    for c in FACTS["batch_dependent"]:
        by_spec.setdefault((c["spec"], str(c["input"])), set()).add(c["output"] is None)
    assert sum(len(v) == 2 for v in by_spec.values()) >= 8


MIXING = ["instancenorm2d", "groupnorm", "layernorm", "rmsnorm", "softmax", "logsoftmax", "bn"]


@pytest.mark.parametrize("word", MIXING)
def test_kinds_that_mix_a_whole_dimension_say_which_receptive_field_is_reported(
    word: str,
) -> None:
    note = REGISTRY[word].cls.NOTE
    assert "receptive field" in note and "window" in note


def test_other_kinds_have_no_note() -> None:
    assert REGISTRY["conv2d"].cls.NOTE == REGISTRY["relu"].cls.NOTE == Layer.NOTE == ""


CASES = [json.loads(line) for line in (DATA / "torch_cases.jsonl").open(encoding="utf-8")]

# Issue 10's examples (items 19 and 20) as the corner family pins them: torch's verdict.
ISSUE = [
    ("dropout1d", [3, 8, 8]),
    ("hardtanh min_val=1 max_val=0", [3, 8, 8]),
    ("hardtanh min_val=1 max_val=1", [3, 8, 8]),
    ("celu alpha=0", [3, 8, 8]),
    ("adaptiveavgpool2d None", [3, 8, 8]),
    ("instancenorm1d c=5", [3, 8]),
    ("bn1d affine=false track=false c=5", [3, 8]),
    ("pad -1,-1,-2,-2 mode=replicate", [2, 4, 2]),
    ("pad -1,-2 mode=circular", [3, 8]),
    ("pad 1 mode=reflect value=0", [3, 8, 8]),
    ("pad 2,1,0,0", [7]),
    ("linear 0 ; conv1d 2 k=1 p=1", [3, 4]),
]


def _words(spec: str) -> str:
    """The spec with its separators as blanks (chains are joined with ; | or newlines)."""
    return " ".join(spec.replace(";", " ").replace("|", " ").split())


@pytest.mark.parametrize(("spec", "shape"), ISSUE)
def test_the_issue_cases_are_torch_vectors_and_agree(spec: str, shape: list[int]) -> None:
    (case,) = [c for c in CASES if _words(c["spec"]) == _words(spec) and c["input"] == shape]
    if case["error"] is None:
        result = convcalc.analyze(spec, tuple(shape))
        assert [list(r.output) for r in result.layers] == [r["output"] for r in case["layers"]]
    else:
        with pytest.raises(convcalc.ShapeError) as info:
            convcalc.analyze(spec, tuple(shape))
        assert info.value.index == case["error"]["layer"]


def test_the_corner_family_is_in_the_torch_vectors() -> None:
    pads = [
        c for c in CASES if c["spec"].startswith(("pad", "zeropad")) and "circular" in c["spec"]
    ]
    negative = [c for c in pads if "-" in c["spec"]]
    assert len(negative) >= 500
    assert 0.25 <= sum(c["error"] is not None for c in negative) / len(negative) <= 0.75
    through_empty = [
        c for c in CASES if len(c["layers"]) >= 1 and any(0 in r["output"] for r in c["layers"])
    ]
    assert len(through_empty) >= 1000
