"""Shell completion through click's ShellComplete API (no shell needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

import convcalc
from convcalc.cli.command import cli
from convcalc.cli.completion import ConvcalcBashComplete, ConvcalcZshComplete, suggest
from convcalc.language import KEYWORDS


def complete(args: list[str], incomplete: str) -> list[str]:
    comp = ShellComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE")
    return [item.value for item in comp.get_completions(args, incomplete)]


def test_layer_kinds_at_the_start() -> None:
    values = complete([], "")
    assert values[:2] == ["solve", "input"]  # solve: the first word only
    assert set(values[2:]) == set(convcalc.KINDS) | (KEYWORDS - {"framework"})  # on a prefix
    assert complete(["-i", "3x32x32"], "maxp") == [
        "maxpool",
        "maxpool1d",
        "maxpool2d",
        "maxpool3d",
    ]


def test_keys_after_a_kind() -> None:
    values = complete(["-i", "32", "conv2d"], "")
    for key in ("k=", "kernel_size=", "s=", "stride=", "p=", "padding=", "pm=", "padding_mode="):
        assert key in values
    assert "relu" in values  # a new layer may start
    assert values.index("k=") < values.index("relu")  # keys first


def test_keys_already_given_are_not_proposed() -> None:
    values = complete(["conv2d", "k=3", "stride=2"], "")
    assert "k=" not in values
    assert "s=" not in values
    assert "p=" in values


def test_keys_filtered_by_prefix() -> None:
    # keys first, then the layer words that may start a new layer
    assert complete(["conv2d", "64"], "pa") == [
        "padding=",
        "padding_mode=",
        "pad",
        "patchmerging",
        "patchmergingv2",
    ]
    assert complete(["maxpool"], "cei") == ["ceil=", "ceil_mode="]


def test_tie_offers_the_layers_named_so_far() -> None:
    """tie= after a layer with a weight to share; its value: a name given with name=."""
    words = ["-i", "16", "embedding", "100", "8", "name=wte", "relu", "name=r", "linear", "100"]
    assert complete(words, "ti") == ["tie="]
    assert complete(words, "tie=") == ["tie=wte", "tie=r"]
    assert complete(words, "tie=w") == ["tie=wte"]
    assert "tie=" not in complete(["relu"], "")
    assert complete(["mha", "64", "8"], "kv") == ["kv_heads="]


def test_only_the_current_layers_keys() -> None:
    values = complete(["conv2d", "k=3", "maxpool"], "")
    assert "ceil_mode=" in values
    assert "pm=" not in values


@pytest.mark.parametrize(
    ("args", "incomplete", "expected"),
    [
        (["conv2d"], "p=", ["p=same", "p=valid"]),
        (["conv2d"], "padding=s", ["padding=same"]),
        (["conv2d", "k=3"], "pm=", ["pm=zeros", "pm=reflect", "pm=replicate", "pm=circular"]),
        (["conv2d", "k=3"], "pm=re", ["pm=reflect", "pm=replicate"]),
        (["conv2d", "k=3"], "bias=", ["bias=true", "bias=false"]),
        (["upsample"], "mode=bi", ["mode=bilinear", "mode=bicubic"]),
        (["conv2d"], "k=", []),  # open values: nothing to propose
    ],
)
def test_closed_values(args: list[str], incomplete: str, expected: list[str]) -> None:
    assert complete(args, incomplete) == expected


def test_after_a_separator_a_layer_starts() -> None:
    assert complete(["conv2d", "k=3", ";"], "relu") == ["relu", "relu6"]
    assert complete(["conv2d k=3; relu"], "") == ["inplace=", *complete([], "")[2:]]


def test_after_input_comes_a_shape() -> None:
    assert complete(["input"], "") == []


def test_format_values_and_files() -> None:
    assert complete(["conv2d", "-o"], "") == [
        "table",
        "json",
        "csv",
        "tsv",
        "markdown",
        "torch",
        "keras",
        "mermaid",
        "dot",
        "tree",
    ]
    assert complete(["--format"], "m") == ["markdown", "mermaid"]
    assert complete(["--format"], "d") == ["dot"]
    assert complete(["--format"], "k") == ["keras"]
    comp = ShellComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE")
    items = comp.get_completions(["-f"], "")
    assert [item.type for item in items] == ["file"]
    assert complete(["--completion"], "") == ["bash", "zsh", "fish"]


def test_options() -> None:
    assert "--format" in complete(["conv2d"], "--")


def test_help_texts() -> None:
    assert ("k=", "integer or tuple") in suggest(["conv2d"], "k")
    assert dict(suggest([], "conv2d"))["conv2d"] == "convolution"


def bash(words: str, cword: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(cword))
    comp = ConvcalcBashComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE")
    return comp.complete().splitlines()


def test_bash_splits_at_equals(monkeypatch: pytest.MonkeyPatch) -> None:
    # bash hands 'conv2d p=' over as 'conv2d', 'p', '=' and replaces only what follows '='.
    assert bash("convcalc conv2d p =", 3, monkeypatch) == ["plain,same", "plain,valid"]
    assert bash("convcalc conv2d pm = re", 4, monkeypatch) == ["plain,reflect", "plain,replicate"]
    assert bash("convcalc --format = j", 3, monkeypatch) == ["plain,json"]
    assert bash("convcalc -o", 2, monkeypatch)[0] == "plain,table"


def test_bash_script_adds_no_space_after_a_key() -> None:
    assert "compopt -o nospace" in ConvcalcBashComplete.source_template


def test_zsh_script_adds_no_space_after_a_key() -> None:
    """key= candidates go to compadd/_describe with an empty suffix (-S ''); the
    real zsh session is in cli/test_pty.py."""
    script = CliRunner().invoke(cli, ["--completion", "zsh"]).stdout
    assert '[[ "$key" == *= ]]' in script
    assert "compadd -U -S '' -V unsorted -a keys" in script
    assert "_describe -V unsorted keys_with_descriptions -U -S ''" in script
    assert script.count("-S ''") == 2  # only for keys: a kind is followed by a space
    assert script == ConvcalcZshComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE").source()


def test_zsh_protocol_marks_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMP_WORDS", "convcalc conv2d kernel_s")
    monkeypatch.setenv("COMP_CWORD", "2")
    comp = ConvcalcZshComplete(cli, {}, "convcalc", "_CONVCALC_COMPLETE")
    assert comp.complete().splitlines() == ["plain", "kernel_size=", "integer or tuple"]


def test_optimizer_and_layer_kind_values() -> None:
    assert complete(["--optimizer"], "") == ["sgd", "momentum", "adam"]
    assert complete(["--help-layer"], "maxpool") == [
        "maxpool",
        "maxpool1d",
        "maxpool2d",
        "maxpool3d",
    ]
    assert complete(["-i", "3x8x8", "-o"], "ma") == ["markdown"]


def test_completion_after_a_negative_value() -> None:
    assert "k=" in complete(["-i", "784", "unflatten", "1", "-1x28x28", "conv2d"], "")


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F"),
        ("zsh", "#compdef convcalc"),
        ("fish", "complete --no-files"),
    ],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["--completion", shell])
    assert result.exit_code == 0
    assert marker in result.stdout
    assert "_CONVCALC_COMPLETE" in result.stdout


def test_completion_option_rejects_other_shells() -> None:
    result = CliRunner().invoke(cli, ["--completion", "tcsh"])
    assert result.exit_code == 2


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_bash_script_in_bash() -> None:
    """The printed script, sourced in a real bash, fills COMPREPLY."""
    script = CliRunner().invoke(cli, ["--completion", "bash"]).stdout
    probe = """
        COMP_WORDS=(convcalc conv2d p =); COMP_CWORD=3; COMPREPLY=()
        _convcalc_completion convcalc 2>/dev/null; echo "${COMPREPLY[@]}"
        COMP_WORDS=(convcalc -i 3x8x8 maxp); COMP_CWORD=3; COMPREPLY=()
        _convcalc_completion convcalc 2>/dev/null; echo "${COMPREPLY[@]}"
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-c", script + probe], capture_output=True, text=True, env=env, check=False
    )
    assert proc.stdout.splitlines() == [
        "same valid",
        "maxpool maxpool1d maxpool2d maxpool3d",
    ]


@pytest.mark.parametrize(
    ("words", "incomplete", "expected"),
    [
        (["conv2d", "8", "k=3"], "ad", ["add"]),  # a graph keyword where a layer may start
        (["as", "skip", "relu", "add"], "", ["input", "skip"]),  # names after add
        (["as", "skip", "relu", "add"], "sk", ["skip"]),
        (["chunk", "2", "a", "b", "from"], "", ["input", "a", "b"]),
        (["block", "res", "C", "relu", "end"], "re", ["res"]),  # a block defined before
        (["as"], "", []),  # a new name: nothing to propose
    ],
)
def test_graph_statements_complete(words: list[str], incomplete: str, expected: list[str]) -> None:
    from convcalc.cli.completion import suggest

    got = [value for value, _ in suggest(words, incomplete)]
    if words[-1] in ("add", "from"):
        assert got == expected  # only the tensors named so far
    else:
        assert set(expected) <= set(got)
    if words == ["as"]:
        assert got == []


def test_a_decoders_memory_key_and_the_tensor_names() -> None:
    # memory= (src= for transformer) names a tensor: its key first, then the names so far.
    assert complete(["-i", "10x64"], "decod") == ["decoderlayer"]
    assert complete(["-i", "10x64", "as", "enc", "decoderlayer", "64", "8"], "mem") == ["memory="]
    assert complete(["as", "enc", "transformer"], "src")[0] == "src="
    assert complete(["as", "enc", "decoderlayer", "64", "8"], "memory=") == [
        "memory=input",
        "memory=enc",
    ]
    assert complete(["as", "enc", "decoderlayer", "64", "8", "memory=enc"], "me") == []
