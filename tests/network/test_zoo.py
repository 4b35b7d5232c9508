"""The built-in models against PyTorch: every model's totals equal what torchvision's
own definition gives (and its published figures), and every weighted layer —
convolution, linear, norm, attention — equals the module PyTorch ran, in execution
order. The records come from tests/vectors/models.py (torch 2.13, torchvision 0.28)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import convcalc
from convcalc.errors import SpecError
from convcalc.kinds.frameworks import TORCH
from convcalc.language import parse
from convcalc.network.zoo import TASKS, families, family_spec, model_spec, models
from tests import paths

DATA = paths.DATA / "torch_models.jsonl"
RECORDS = {r["name"]: r for r in map(json.loads, DATA.read_text().splitlines())}
# The torch module types recorded layer by layer, and the convcalc kinds they are.
WEIGHTED = {
    "conv1d",
    "conv2d",
    "conv3d",
    "convtranspose1d",
    "convtranspose2d",
    "convtranspose3d",
    "linear",
    "batchnorm1d",
    "batchnorm2d",
    "batchnorm3d",
    "layernorm",
    "layernorm2d",
    "groupnorm",
    "multiheadattention",
    # torchvision's own modules, each recorded as one (tests/vectors/models.py's RECORDED)
    "shiftedwindowattention",
    "shiftedwindowattentionv2",
    "shiftedwindowattention3d",
    "relposattention",
    "patchmerging",
    "patchmergingv2",
    "multiscaleattention",
    "frozenbatchnorm2d",  # torchvision.ops.FrozenBatchNorm2d: the detectors' backbones
}


def _vision_models() -> list[str]:
    """The built-in models but the language models (test_language_models.py has theirs)."""
    return sorted(m.name for m in models() if not m.weights.startswith("hf:"))


def test_every_record_has_a_built_in_model() -> None:
    assert _vision_models() == sorted(RECORDS)


@pytest.fixture(scope="module", params=sorted(RECORDS))
def model(request: pytest.FixtureRequest) -> tuple[dict[str, Any], convcalc.Analysis]:
    record = RECORDS[request.param]
    return record, convcalc.analyze(model_spec(request.param))


def test_totals_equal_pytorch(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    assert list(analysis.input) == record["input"]
    assert list(analysis.output) == record["output"]
    assert analysis.params == record["params"]
    assert analysis.buffers == record["buffers"]
    # int64: BatchNorm's num_batches_tracked, Swin's and MaxViT's relative_position_index
    assert sum(r.int64_buffers or 0 for r in analysis.layers) == record["int64_buffers"]
    assert analysis.macs == record["macs"]
    if "trainable" in record:  # a detector's builder freezes its stem and layer1
        assert analysis.trainable == record["trainable"]
    # A segmentation model returns {"out", "aux"}: 'return out aux' in its spec; a
    # detector its heads' dict ("returns": its keys in order), 'return cls_logits …'.
    outputs = record.get("outputs", {"out": record["output"]})
    order = record.get("returns", [k for k in ("out", "aux") if k in outputs])
    returned = [analysis.output, *(analysis.layers[i - 1].output for i in analysis.outputs)]
    assert [list(s) for s in returned] == [outputs[k] for k in order]


def test_published_figures(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    published = record["published"]
    if published is None:  # unet and lenet5: no torchvision weights
        assert record["source"] != "torchvision"
        return
    assert analysis.params == published["num_params"]
    assert analysis.macs is not None
    assert round(analysis.macs / 1e9, 3) == pytest.approx(published["gflops"], abs=1e-9)


def _weighted(rows: Any, layers: Any = ()) -> list[dict[str, Any]]:
    """The weighted rows as torch records them: a layer applied again with the same
    weights (``use NAME``, a detector's heads at every level: params 0, ``shared`` = the
    first application's index) with the parameters of its module."""

    def params(r: Any) -> int:
        return layers[r.shared - 1].params if r.shared else r.params

    return [
        {"type": r.kind, "output": list(r.output), "params": params(r), "macs": r.macs}
        for r in rows
        if r.kind in WEIGHTED
    ]


# The kind of a torch module type where it is not the type's name in lower case.
KIND_OF_TYPE = {"RelativePositionalMultiHeadAttention": "relposattention"}


def _torch(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "type": KIND_OF_TYPE.get(x["type"], x["type"].lower()),
            "output": x["output"],
            "params": x["params"],
            "macs": x["macs"],
        }
        for x in layers
    ]


def test_layer_by_layer(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    record, analysis = model
    main = [r for r in analysis.layers if not r.side]
    assert _weighted(main, analysis.layers) == _torch(record["layers"])


def test_side_outputs(model: tuple[dict[str, Any], convcalc.Analysis]) -> None:
    """Inception v3's auxiliary classifier: its parameters count, eval mode does not
    run it; every other model has none."""
    record, analysis = model
    side = [r for r in analysis.layers if r.side]
    if record["side"] is None:
        assert side == []
        return
    assert _weighted(side) == _torch(record["side_layers"])
    assert sum(r.params for r in side) == record["side"]["params"]
    assert [list(r.output) for r in analysis.side_outputs] == [record["side"]["output"]]


# -- families: include NAME ---------------------------------------------------


@pytest.mark.parametrize("name", families())
def test_a_family_file_only_defines_blocks(name: str) -> None:
    text = family_spec(name)
    assert text is not None
    depth = 0
    for stmt in parse(text, TORCH.kinds, calls=TORCH.classes).statements:
        kind = getattr(stmt, "kind", "input")
        assert depth or kind == "block", (name, kind)
        depth += {"block": 1, "end": -1}.get(kind, 0)
    assert depth == 0


def test_every_family_is_used_by_a_model() -> None:
    used = {
        w.split()[1]
        for m in models()
        for w in model_spec(m.name).splitlines()
        if w.startswith("include ")
    }
    assert used == set(families())


def test_a_spec_includes_a_family() -> None:
    """Any spec, not only a built-in one, takes a family's blocks; its own errors keep
    their lines; the family's text is read once however often it is named."""
    spec = "input 64x56x56\ninclude resnet\nbasic 64\ninclude RESNET\nbasic_stage 128 N=x1\n"
    a = convcalc.analyze(spec)
    b = convcalc.analyze(
        "input 64x56x56\n" + (family_spec("resnet") or "") + "\nbasic 64\nbasic_stage 128 N=x1"
    )
    assert (a.params, a.macs, list(a.output)) == (b.params, b.macs, list(b.output))
    assert list(a.output) == [128, 28, 28]
    with pytest.raises(SpecError) as err:
        convcalc.analyze("input 64x56x56\ninclude resnet\nbasic 64 bogus=1\n", filename="n.spec")
    assert str(err.value).startswith("n.spec:3:")


@pytest.mark.parametrize(
    ("spec", "message", "word"),
    [
        (
            "include resnt; resnet_stem",
            "no model family 'resnt'; did you mean 'resnet'? (families: ",
            "resnt",
        ),
        ("include zzz; conv2d 8 k=3", "no model family 'zzz'; (families: ", "zzz"),
        ("conv2d 8 k=3; include", "'include' needs a family's name", "include"),
        (
            "include resnet; block b; include resnet; end; b",
            "'include' stands at the top level, not inside a block",
            "include resnet",
        ),
    ],
)
def test_include_errors(spec: str, message: str, word: str) -> None:
    with pytest.raises(SpecError) as err:
        convcalc.analyze(spec, "3x32x32")
    assert err.value.message.startswith(message)
    assert err.value.word == word


def test_include_from_the_command_line(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from convcalc.cli.command import main_command as cli

    args = ["-i", "64x56x56", "include", "resnet", "basic", "64", "-o", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    inline = convcalc.analyze(f"{family_spec('resnet')}\nbasic 64", "64x56x56")
    assert json.loads(result.stdout)["total"]["params"] == inline.params
    bad = CliRunner().invoke(cli, ["-i", "64x56x56", "include", "resnets", "basic", "64"])
    assert bad.exit_code == 2
    assert "no model family 'resnets'; did you mean 'resnet'?" in bad.stderr
    assert bad.stdout == ""


# -- --list-models ------------------------------------------------------------


def test_list_models_by_task_and_weights() -> None:
    """Each model once, under a title naming its task and default weights (the record's), with
    its parameters, GFLOPS (the published ones, where torchvision publishes them) and
    default input."""
    from convcalc.cli.catalog import model_list

    title, seen = "", {}
    lines = model_list().splitlines()
    assert lines[0].split() == ["model", "params", "GFLOPS", "input"]
    for line in lines[1:]:
        if line and not line.startswith("  "):
            title = line
        elif line and not title.startswith("Language models"):
            name, params, gflops, size = line.split()[:4]
            assert name not in seen
            seen[name] = (title, params, gflops, size)
    assert sorted(seen) == sorted(RECORDS)
    for name, (title, params, gflops, size) in seen.items():
        record = RECORDS[name]
        assert size == "×".join(map(str, record["input"]))
        assert params == f"{record['params']:,}"
        published = record["published"]
        if published is None:
            assert title == "Not in torchvision's zoo (no published figures):"
            assert gflops == f"{record['macs'] / 1e9:.3f}"
            continue
        weights = record["weights"].split(".")[1]
        task = next(t for prefix, t in TASKS if weights.startswith(prefix))
        assert title == f"{task}: torchvision's {weights} weights, their published figures:"
        assert params == f"{published['num_params']:,}"
        assert gflops == f"{published['gflops']:.3f}"


def test_the_spec_files_read_the_same_from_disk_and_through_importlib_resources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The models' folder is read with os's calls when the package is a folder (every
    pip install), and through importlib.resources otherwise (a zip): the same texts."""
    from convcalc.network import zoo

    def everything() -> tuple[object, ...]:
        names = [m.name for m in zoo.models()]
        fams = zoo.families()
        return (
            zoo.models(),
            fams,
            [zoo.model_spec(n) for n in names],
            [zoo.family_spec(f) for f in fams],
            zoo.family_spec("nosuch"),
            zoo.with_families("include resnet\nrelu"),
        )

    assert zoo._ON_DISK
    on_disk = everything()
    assert len(on_disk[0]) > 50 and len(on_disk[1]) > 5  # type: ignore[arg-type]
    monkeypatch.setattr(zoo, "_ON_DISK", False)
    assert everything() == on_disk
    with pytest.raises(SpecError, match="no built-in model 'resnet5'; did you mean"):
        zoo.model_spec("resnet5")


def test_a_built_in_model_is_read_without_importlib_resources() -> None:
    """importlib.resources brings in zipfile, tempfile and pathlib: a -m run, or a spec
    that includes a family, reads the files with os's calls."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from convcalc.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('importlib.resources', 'zipfile', 'pathlib') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "-m", "resnet18", "-o", "json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert '"output": [1000]' in proc.stdout
    assert proc.stdout.rstrip().endswith("\n[]")
