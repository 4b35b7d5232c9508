"""PyTorch's own spellings of layers (issue 8): constructor calls and reprs, class names,
the short form's PyTorch positional order, and the arguments checked against the input.
The figures come from torch itself (tests/data/torch_cases.jsonl, the ``torchcalls`` set,
checked by kinds/test_vectors.py); here: the table's consistency, that every spelling means
one layer, and every error with its message."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.kinds import KINDS, REGISTRY, bind
from convcalc.kinds.binding import _target
from convcalc.kinds.layer import Layer
from convcalc.kinds.torch.registry import TORCH_CLASSES
from convcalc.language import LayerStmt, parse
from tests.paths import DATA


def _layer(text: str) -> Layer:
    (stmt,) = parse(text, KINDS).statements
    assert isinstance(stmt, LayerStmt)
    return bind(stmt, text, REGISTRY)


# --------------------------------------------------------------------------------------
# The table (the TORCH signatures on the layer classes)


_STACK_KEYS = (
    "d_model",
    "nhead",
    "dim_feedforward",
    "dropout",
    "activation",
    "layer_norm_eps",
    "norm_first",
    "bias",
)


@pytest.mark.parametrize("cname", sorted(TORCH_CLASSES))
def test_every_class_reads_through_its_signature(cname: str) -> None:
    word = TORCH_CLASSES[cname]
    entry = REGISTRY[word]
    assert word == cname.lower()
    assert entry.torch_name == cname
    sig = entry.torch
    assert sig is not None
    # Every PyTorch argument sets a Param, is checked and ignored, or is fixed by the name.
    for arg in (*sig.args, *sig.kwonly):
        assert _target(entry, arg) is not None, (cname, arg)
    # Every Param is reachable from PyTorch's arguments (AvgPool1d has no divisor_override).
    reachable = {sig.renames.get(a, a) for a in (*sig.args, *sig.kwonly)}
    missing = {p.name for p in entry.params} - reachable
    # AvgPool1d has no divisor_override; a recurrent layer's out= (what it hands on:
    # output, h_n or c_n) is convcalc's own, as PyTorch's module returns them all.
    # causal, kv_heads and rope describe a decoder's attention, which nn.MultiheadAttention's
    # constructor does not take (is_causal is its forward's); a decoder's causal (forward's
    # tgt_is_causal) is convcalc's own too.
    own = {
        "AvgPool1d": {"divisor_override"},
        "RNN": {"out"},
        "LSTM": {"out"},
        "GRU": {"out"},
        "MultiheadAttention": {"causal", "kv_heads", "rope"},
        "Transformer": {"causal"},
        "TransformerDecoderLayer": {"causal"},
        # The stacks' short word takes the layer's keys, which the call gives its layer.
        "TransformerEncoder": {*_STACK_KEYS},
        "TransformerDecoder": {*_STACK_KEYS, "causal"},
    }
    assert missing <= own.get(cname, set()), missing


def test_every_class_is_in_the_torch_data() -> None:
    specs = [json.loads(line)["spec"] for line in (DATA / "torch_cases.jsonl").open()]
    called = {s.split("(")[0].rsplit(".", 1)[-1] for s in specs if "(" in s.split()[0]}
    # The decoders read a second tensor: their calls are in the graphs of torch_decoder.jsonl.
    # The stacks nest their layer's call (families/stack.py, torch_stack.jsonl).
    lines = [*(DATA / "torch_decoder.jsonl").open(), *(DATA / "torch_stack.jsonl").open()]
    for line in lines:
        for stmt in json.loads(line)["spec"].split("; "):
            if "(" in stmt.split()[0]:
                called.add(stmt.split("(")[0].rsplit(".", 1)[-1])
    assert set(TORCH_CLASSES) <= called


# --------------------------------------------------------------------------------------
# One layer, many spellings


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "Conv2d(3, 64, 7, stride=2, padding=3, bias=False)",
            "nn.Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
            "torch.nn.Conv2d(in_channels=3, out_channels=64, kernel_size=[7, 7], stride=2, "
            "padding=3, dilation=1, groups=1, bias=False, padding_mode='zeros')",
            "conv2d 3 64 7 2 3 bias=False",
            "conv2d 64 k=7 s=2 p=3 bias=false in=3",
        ],
        [
            "nn.BatchNorm2d(64)",
            "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, "
            "bias=True, track_running_stats=True)",
            "batchnorm2d 64",
            "bn2d c=64",
        ],
        [
            "torch.nn.Linear(512, 10)",
            "Linear(in_features=512, out_features=10, bias=True)",
            "linear 512 10",
            "linear 10 in=512",
        ],
        [
            "MaxPool2d(2)",
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
            "maxpool2d 2",
            "maxpool2d k=2",
        ],
        ["Dropout(0.5)", "Dropout(p=0.5, inplace=False)", "dropout 0.5", "dropout p=0.5"],
        ["LeakyReLU(0.2)", "LeakyReLU(negative_slope=0.2)", "leakyrelu 0.2", "leakyrelu slope=0.2"],
        [
            "Upsample(scale_factor=2.0, mode='nearest')",
            'Upsample(None, 2.0, "nearest")',
            "upsample scale=2",
        ],
        [
            "ReflectionPad2d(1)",
            "ReflectionPad2d((1, 1, 1, 1))",
            "reflectionpad2d 1",
            "pad 1,1,1,1 mode=reflect",
        ],
        ["GroupNorm(4, 16, eps=1e-05, affine=True)", "gn 4 16", "groupnorm 4 num_channels=16"],
        ["PixelUnshuffle(downscale_factor=2)", "pixelunshuffle 2"],
    ],
)
def test_spellings_bind_to_one_layer(spellings: list[str]) -> None:
    layers = [_layer(text) for text in spellings]
    # the same figures on the same input, whatever the spelling
    shape = "512" if "inear" in spellings[0] else "64x32x32"
    if "Conv2d" in spellings[0]:
        shape = "3x32x32"
    if "GroupNorm" in spellings[0]:
        shape = "16x8x8"
    results = [convcalc.analyze(text, shape).layers[0] for text in spellings]
    figures = {(r.output, r.params, r.buffers, r.macs) for r in results}
    assert len(figures) == 1, (spellings, figures)
    assert len({type(lay) for lay in layers}) == 1


def test_a_call_after_a_layer_starts_a_new_one() -> None:
    text = "conv2d 8 k=3 Conv2d(8, 4, 1) relu LayerNorm([4, 30, 30])"
    kinds = [s.kind for s in parse(text, KINDS).statements if isinstance(s, LayerStmt)]
    assert kinds == ["conv2d", "conv2d", "relu", "layernorm"]
    # a lower-case kind before '(' stays the short form (a tuple): layernorm(4,30) is not a call
    (stmt,) = parse("layernorm(4,30)", KINDS).statements
    assert isinstance(stmt, LayerStmt) and not stmt.call


def test_a_call_spans_words_of_the_command_line() -> None:
    # the shell splits 'Conv2d(3, 64, 7)' at the blanks; the words join again
    result = convcalc.analyze(" ".join(["Conv2d(3,", "64,", "7)"]), "3x16x16")
    assert result.layers[0].output == (64, 10, 10)


# --------------------------------------------------------------------------------------
# Arguments that fix the input: a ShapeError naming both numbers


@pytest.mark.parametrize(
    ("text", "shape", "reason"),
    [
        ("Conv2d(3, 64, 7)", "16x32x32", "in_channels=3 but the input has 16 channels"),
        ("conv2d 16 k=3 in=4", "3x8x8", "in_channels=4 but the input has 3 channels"),
        ("ConvTranspose2d(8, 4, 2)", "4x8x8", "in_channels=8 but the input has 4 channels"),
        ("dwconv2d k=3 in_channels=8", "4x8x8", "in_channels=8 but the input has 4 channels"),
        ("bn 16", "8x4x4", "num_features=16 but the input has 8 channels"),
        ("BatchNorm1d(16)", "8x10", "num_features=16 but the input has 8 channels"),
        ("InstanceNorm2d(4, affine=True)", "8x4x4", "num_features=4 but the input has 8 channels"),
        ("Linear(512, 10)", "256", "in_features=512 but the input's last dimension is 256"),
        ("linear 512 10", "256", "in_features=512 but the input's last dimension is 256"),
        (
            "LayerNorm(64)",
            "10x32",
            "normalized_shape 64 does not match the trailing dimensions of the input 10x32",
        ),
        ("GroupNorm(2, 16)", "8x4x4", "num_channels=16 but the input has 8 channels"),
        ("gn 2 16", "8x4x4", "num_channels=16 but the input has 8 channels"),
        ("GroupNorm(3, 16)", "16x4x4", "num_channels 16 is not divisible by num_groups 3"),
    ],
)
def test_input_arguments_are_checked(text: str, shape: str, reason: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(text, shape)
    assert info.value.reason == reason


def test_input_arguments_fill_an_unknown_channel_count() -> None:
    known = convcalc.analyze("conv2d 3 16 3 bn 16 gn 4 16", "3x8x8")
    unknown = convcalc.analyze("conv2d 3 16 3 bn 16 gn 4 16", "8x8")
    assert unknown.input == (None, 8, 8)
    assert unknown.params == known.params is not None


# --------------------------------------------------------------------------------------
# Calls PyTorch would refuse, and text that is no call


@pytest.mark.parametrize(
    ("text", "message", "word"),
    [
        (
            "Conv2d(3, 64)",
            "Conv2d() needs kernel_size (its required arguments: in_channels, out_channels, "
            "kernel_size)",
            "Conv2d",
        ),
        (
            "Conv2d(3, 64, k=3)",
            "Conv2d() has no argument 'k' (that is convcalc's short key; PyTorch's name is "
            "kernel_size)",
            "k",
        ),
        (
            "Conv2d(3, 64, 3, strid=2)",
            "Conv2d() has no argument 'strid'; did you mean stride=?",
            "strid",
        ),
        (
            "Linear(4, 2, True, None, None, 5)",
            "Linear() takes 5 positional arguments (in_features, out_features, bias, device, "
            "dtype); got '5' too",
            "5",
        ),
        ("Linear(None, 10)", "Linear() needs a value for in_features, not None", "None"),
        (
            "Conv2d(3, 64, 3, kernel_size=5)",
            "kernel_size is given twice in Conv2d",
            "kernel_size=5",
        ),
        (
            "MaxPool2d(2, return_indices=True)",
            "MaxPool2d: return_indices=True makes it return (output, indices); convcalc "
            "follows one tensor",
            "return_indices=True",
        ),
        (
            "Conv2d(3, 8, (3,))",
            "Conv2d() kernel_size takes one integer or 2 values; PyTorch fails on (3,)",
            "(3,)",
        ),
        (
            "LPPool1d(2, (3,))",
            "LPPool1d() kernel_size is one integer; PyTorch fails on the tuple (3,)",
            "(3,)",
        ),
        (
            "UpsamplingNearest2d(scale_factor=2.0, mode='bilinear')",
            "UpsamplingNearest2d fixes mode=nearest; the general kind lets you choose it",
            "mode='bilinear'",
        ),
        ("Relu()", "Relu is not a PyTorch class convcalc reads; PyTorch spells it ReLU", "Relu"),
        (
            "nn.conv2d(3, 64, 3)",
            "nn.conv2d is not a PyTorch class convcalc reads; PyTorch spells it Conv2d",
            "nn.conv2d",
        ),
        (
            "MyBlock(3)",
            "convcalc does not know the module MyBlock (--list-layers lists the kinds)",
            "MyBlock",
        ),
        (
            "nn.Conv2D(3, 8, 3)",
            "nn.Conv2D is not a PyTorch class convcalc reads; PyTorch spells it Conv2d",
            "nn.Conv2D",
        ),
        (
            "Conv2d(3, 8, 3) foo",
            "after Conv2d(…) only the graph's words may follow (xN, name=NAME, frozen); got 'foo'",
            "foo",
        ),
        ("Conv2d(3, 8, 3", "'(' is never closed", "("),
        (
            "Sequential(ReLU())",
            "convcalc does not know the module Sequential; to read a printed model, give it to "
            "--from-torch FILE",
            "Sequential",
        ),
        (
            "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
            "out_features=8, bias=True)\n)",
            "MultiheadAttention(…) here is a module's print with its children; read a printed "
            "model with --from-torch FILE",
            ":",
        ),
        ("Conv2d(3 8)", "expected ',' or ')' in the call, got '8'", "8"),
        ("Conv2d(3, 8, bias=)", "bias= needs a value", "bias="),
        (
            "Linear(4, 2, bias='True')",
            "Linear bias: expected true or false, not the string 'true'",
            "'True'",
        ),
        (
            "bn true",
            "bn does not understand 'true' (not one of its flags, nor a layer kind)",
            "true",
        ),
        (
            "linear 10 relu6x",
            "linear does not understand 'relu6x'; did you mean the layer kind 'relu6'?",
            "relu6x",
        ),
    ],
)
def test_call_errors(text: str, message: str, word: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(text, (3, 16, 16))
    assert info.value.message == message
    assert info.value.word == word


def test_graph_words_follow_a_call() -> None:
    result = convcalc.analyze("Conv2d(8, 8, 3, padding=1) x3 Conv2d(8, 8, 1) name=p use p", "8x8x8")
    assert len(result.layers) == 5
    assert result.layers[4].shared == 4


def test_a_call_may_span_lines() -> None:
    text = (
        "nn.Conv2d(\n    3,  # RGB\n    16,\n    kernel_size=(3,\n                 3),\n)\nrelu\n"
    )
    result = convcalc.analyze(text, "3x32x32")
    assert [r.spec for r in result.layers] == ["nn.Conv2d(3, 16, kernel_size=(3, 3),)", "relu"]
    assert result.layers[0].params == convcalc.analyze("Conv2d(3, 16, 3)", "3x32x32").params
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze("Conv2d(3, 8,\nrelu\n", "3x8x8")
    assert (info.value.message, info.value.line) == ("'(' is never closed", 1)


_CALL_TOKENS = [
    *("Conv2d(", "nn.", "torch.nn.", "BatchNorm2d(", "Linear(", "ReLU(", "Upsample(", "MaxPool2d("),
    *(")", ",", "=", "'", '"', "[", "]", "(", "\n", " ", "#", ";", ":"),
    *("3", "64", "-1", "2.0", "1e-05", "None", "True", "same", "'nearest'", "kernel_size"),
    *("x2", "name", "conv2d", "bn", "Sequential(", "(0): ", "2 x ", "(0-2): 3 x "),
]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_CALL_TOKENS), max_size=16).map("".join))
def test_call_like_text_raises_only_convcalc_errors(text: str) -> None:
    from convcalc.formats.torch_print import analyze_print

    for read in (convcalc.analyze, analyze_print):
        with contextlib.suppress(convcalc.ConvcalcError):
            read(text, (3, 8, 8))


def test_a_word_follows_a_class_of_its_own_kind() -> None:
    """A word that is no class name follows the call of a class of its own kind
    (instancenorm: InstanceNorm1d, not BatchNorm1d, whose signature object it shares);
    a class of another kind only when its kind has none (dwconv2d: Conv2d)."""
    by_cls: dict[type, set[str]] = {}
    for entry in REGISTRY.values():
        if entry.torch_name:
            by_cls.setdefault(entry.cls, set()).add(entry.torch_name)
    wrong = {
        entry.word: entry.torch_class
        for entry in REGISTRY.values()
        if entry.torch is not None
        and entry.torch_class not in by_cls.get(entry.cls, {entry.torch_class})
    }
    assert wrong == {}
    assert REGISTRY["instancenorm"].torch_class == "InstanceNorm1d"
    assert REGISTRY["upsample_bilinear"].torch_class == "UpsamplingBilinear2d"
