"""--from-keras FILE through the command: Keras's figures in every format, and every
malformed or hostile file a clear error (exit 2, nothing on stdout, no traceback)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from convcalc.cli.command import cli
from convcalc.formats import keras_file
from tests.paths import DATA

MODELS = [
    json.loads(line)
    for line in gzip.decompress((DATA / "keras_models.jsonl.gz").read_bytes()).decode().splitlines()
]
FUNCTIONAL = next(m for m in MODELS if m["kind"] == "Functional")


def run(args: list[str], input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, args, input=input, prog_name="convcalc")


def fails(args: list[str], *words: str, code: int = 2) -> str:
    result = run(args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    return result.stderr


def _write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def _archive(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "table", "markdown"])
def test_every_format_gives_keras_figures(tmp_path: Path, fmt: str) -> None:
    path = _write(tmp_path, "model.json", FUNCTIONAL["json"])
    result = run(["--from-keras", path, "-o", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["framework"] == "keras"
        assert data["total"]["params"] == FUNCTIONAL["params"]
        assert data["output"] == FUNCTIONAL["output"]
    elif fmt in ("csv", "tsv"):
        rows = list(
            csv.DictReader(io.StringIO(result.stdout), dialect=f"excel{'-tab' * (fmt == 'tsv')}")
        )
        assert sum(int(r["params"]) for r in rows) == FUNCTIONAL["params"]
    else:
        assert f"{FUNCTIONAL['params']:,}" in result.stdout


def test_a_keras_archive_and_stdin(tmp_path: Path) -> None:
    saved = run(["--from-keras", str(DATA / "keras_small.keras"), "-o", "json"])
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout)["total"]["params"] == 402
    piped = run(["--from-keras", "-", "-o", "json"], input=FUNCTIONAL["json"])
    assert json.loads(piped.stdout)["total"]["params"] == FUNCTIONAL["params"]


def test_input_replaces_the_files_and_layer_words_follow(tmp_path: Path) -> None:
    path = str(DATA / "keras_small.keras")
    result = run(["--from-keras", path, "-i", "10x10x3", "Dense(5)", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input"] == [10, 10, 3]
    assert data["layers"][0]["output"] == [8, 8, 4]
    assert data["output"] == [5]


def _config(layers: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps(
        {"class_name": "Sequential", "config": {"name": "m", "layers": layers, **extra}}
    )


_INPUT = {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}}


def _dense(**config: Any) -> dict[str, Any]:
    return {"class_name": "Dense", "config": {"name": "d", "units": 4, **config}}


def _bad_files(tmp_path: Path) -> list[tuple[str, bytes | str, tuple[str, ...]]]:
    big = json.dumps({"layers": "x" * 100})
    return [
        ("garbage.keras", b"\x00\x01 not a model", ("not JSON",)),
        ("latin.json", b"\xff\xfe", ("not UTF-8",)),
        ("text.json", "hello", ("not JSON", "line 1")),
        ("weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64, ("HDF5",)),
        ("deep.json", "[" * 100_000 + "]" * 100_000, ("nested too deep",)),
        ("nan.json", '{"class_name": NaN}', ("NaN is not JSON",)),
        ("list.json", "[1, 2]", ("not a JSON object",)),
        ("other.json", '{"class_name": "Dense", "config": {}}', ("class_name is 'Dense'",)),
        ("nozip.keras", _archive({"metadata.json": "{}"}), ("without config.json",)),
        ("bad.keras", b"PK\x03\x04" + b"\0" * 100, ("zip",)),
        ("big.keras", _archive({"config.json": big}), ("it has no class_name",)),
        (
            "unknown_key.json",
            _config([_INPUT, {**_dense(), "evil": 1}]),
            ("layer 2 ('d', Dense)", "keys convcalc does not know: evil"),
        ),
        (
            "unknown_arg.json",
            _config([_INPUT, _dense(bogus=3)]),
            ("'d', Dense", "the key 'bogus'", "does not take"),
        ),
        (
            "unknown_layer.json",
            _config([_INPUT, {"class_name": "MyLayer", "config": {"name": "mine"}}]),
            ("layers convcalc does not know: MyLayer (mine)",),
        ),
        ("no_input.json", _config([_dense()]), ("input shape is not in its configuration",)),
        (
            "open_input.json",
            _config([{**_INPUT, "config": {"batch_shape": [None, None, None, 3]}}, _dense()]),
            ("None×None×3", "-i"),
        ),
        (
            "bad_shape.json",
            _config([{**_INPUT, "config": {"batch_shape": "8x8"}}, _dense()]),
            ("not a JSON list",),
        ),
        ("bad_value.json", _config([_INPUT, _dense(units={"a": 1})]), ("units",)),
        (
            "first.json",
            _config(
                [
                    _INPUT,
                    {
                        "class_name": "Conv2D",
                        "config": {
                            "name": "c",
                            "filters": 4,
                            "kernel_size": [3, 3],
                            "data_format": "channels_first",
                        },
                    },
                ]
            ),
            ("channels_last",),
        ),
    ]


def test_each_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    for name, data, words in _bad_files(tmp_path):
        path = _write(tmp_path, name, data)
        stderr = fails(["--from-keras", path], name, *words)
        assert stderr.count("\n") <= 3, stderr


def test_a_gigabyte_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:  # sparse: no disk used
        fh.truncate(2**30)
    fails(["--from-keras", str(path)], "larger than 64 MiB")


def test_a_zip_bomb_is_refused_at_the_limit(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(keras_file, "MAX_BYTES", 10_000)  # the reader's limit
    # Its header says 1 MB: refused before unpacking.
    bomb = _archive({"config.json": b" " * 1_000_000})
    fails(["--from-keras", _write(tmp_path, "bomb.keras", bomb)], "1,000,000 bytes")
    # Its header lies (says 100 bytes): unpacking stops there, and its CRC check fails.
    lying = bytearray(bomb)
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = lying.find(signature)
        lying[start + at : start + at + 4] = (100).to_bytes(4, "little")
    fails(["--from-keras", _write(tmp_path, "lying.keras", bytes(lying))], "zip", "CRC")


def test_an_archive_listing_too_many_files_is_refused(tmp_path: Path) -> None:
    many = _archive({f"f{i}": b"" for i in range(10_001)})
    fails(["--from-keras", _write(tmp_path, "many.keras", many)], "10,001 files")


def test_subtract_and_other_merges_are_named(tmp_path: Path) -> None:
    layers = [
        {
            "class_name": "InputLayer",
            "name": "in",
            "config": {"batch_shape": [None, 4], "name": "in"},
            "inbound_nodes": [],
        },
        {
            "class_name": "Subtract",
            "name": "sub",
            "config": {"name": "sub"},
            "inbound_nodes": [[["in", 0, 0, {}], ["in", 0, 0, {}]]],
        },
    ]
    config = {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": layers,
            "input_layers": [["in", 0, 0]],
            "output_layers": [["sub", 0, 0]],
        },
    }
    fails(["--from-keras", _write(tmp_path, "sub.json", json.dumps(config))], "Subtract (sub)")


def test_two_inputs_are_refused(tmp_path: Path) -> None:
    config = json.loads(FUNCTIONAL["json"])
    config["config"]["input_layers"] = [config["config"]["input_layers"]] * 2
    fails(["--from-keras", _write(tmp_path, "two.json", json.dumps(config))], "2 inputs")


def test_from_keras_goes_alone(tmp_path: Path) -> None:
    path = str(DATA / "keras_small.keras")
    fails(["--from-keras", path, "-m", "resnet18"], "alone")
    fails(["--from-keras", path, "--framework", "torch"], "--framework torch")
    fails(["--from-keras", str(tmp_path / "missing.json")], "no such file")
