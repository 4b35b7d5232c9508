"""The spec language: tokens, grammar, spellings, and error messages with positions."""

from __future__ import annotations

import pytest

import convcalc
from convcalc.kinds import KINDS, REGISTRY, bind
from convcalc.language import InputStmt, LayerStmt, parse


def layers_of(text: str) -> list[object]:
    program = parse(text, KINDS)
    return [bind(s, text, REGISTRY) for s in program.statements if isinstance(s, LayerStmt)]


# Every line of a group spells the same chain.
SAME = [
    [
        "conv2d 64 k=3x5 s=2 p=1",
        "conv2d 64 kernel_size=(3,5) stride=2 padding=1",
        "Conv2d 64 k=3,5 s=2x2 p=(1, 1)",
        "conv2d 64 k=3×5 stride=(2,) p=1,1",
        "conv2d  64\tk = 3x5  s=2 p=1   # a comment",
    ],
    [
        "conv2d 32 k=3 g=dw",
        "conv2d 32 k=3 groups=dw",
        "conv2d 32 k=3 depthwise",
        "conv2d 32 k=3 g=depthwise",
    ],
    [
        "maxpool k=2 ceil=true",
        "maxpool k=2 ceil_mode=yes",
        "maxpool k=2 ceil=1",
        "maxpool k=2 ceil",
        "MaxPool kernel_size=2 ceil_mode=True",
    ],
    [
        "conv2d 8 k=3 bias=false",
        "conv2d 8 k=3 bias=no",
        "conv2d 8 k=3 bias=0",
        "conv2d 8 k=3 bias=off",
    ],
    [
        "convtranspose2d 8 k=4 s=2 p=1 op=1",
        "deconv2d 8 k=4 s=2 p=1 output_padding=1",
        "convt2d 8 kernel_size=4 stride=2 padding=1 op=1",
        "tconv2d 8 k=4 s=2 p=1 op=1",
    ],
    ["linear 10", "fc 10", "dense 10", "Linear 10"],
    ["gap", "globalavgpool"],
    ["bn", "batchnorm"],
    ["upsample scale=2 mode=nearest-exact", "interpolate scale_factor=2.0 mode=nearest_exact"],
]


@pytest.mark.parametrize("group", SAME, ids=lambda g: g[0])
def test_spellings_of_one_layer_bind_equal(group: list[str]) -> None:
    first = layers_of(group[0])
    assert len(first) == 1
    for text in group[1:]:
        assert layers_of(text) == first, text


@pytest.mark.parametrize("sep", [" ", " ; ", ";", " | ", "|", "\n", "\n\n# comment\n", " ;\n"])
def test_separators(sep: str) -> None:
    text = sep.join(["conv2d 8 k=3", "relu", "maxpool k=2", "flatten", "linear 10"])
    kinds = [type(layer).__name__ for layer in layers_of(text)]
    assert kinds == ["Conv", "Activation", "MaxPool", "Flatten", "Linear"]


def test_a_kind_word_starts_a_new_layer_but_not_after_equals() -> None:
    program = parse("upsample scale=2 mode=linear linear 4", KINDS)
    assert [s.kind for s in program.statements if isinstance(s, LayerStmt)] == [
        "upsample",
        "linear",
    ]


def test_layer_text_and_positions_are_kept() -> None:
    text = "input 3x32x32\nconv2d   16 k=3 # stem\n  relu"
    program = parse(text, KINDS)
    first, conv, relu = program.statements
    assert isinstance(first, InputStmt)
    assert isinstance(conv, LayerStmt)
    assert isinstance(relu, LayerStmt)
    assert conv.text == "conv2d 16 k=3"
    assert text[conv.start : conv.end] == "conv2d   16 k=3"
    assert text[relu.start : relu.end] == "relu"


@pytest.mark.parametrize(
    "shape",
    ["3x224x224", "3×224×224", "3,224,224", "(3, 224, 224)", "(3,224,224,)", "3X224X224"],
)
def test_shape_spellings(shape: str) -> None:
    assert convcalc.parse_shape(shape) == (3, 224, 224)


@pytest.mark.parametrize(
    ("text", "message", "word"),
    [
        ("conv2 64 k=3", "unknown layer kind 'conv2'; did you mean 'conv2d'?", "conv2"),
        ("maxpol k=2", "unknown layer kind 'maxpol'; did you mean 'maxpool'?", "maxpol"),
        ("conv2d 64 kk=3", "conv2d has no argument 'kk'; did you mean k=?", "kk"),
        (
            "conv2d 64 kernal_size=3",
            "conv2d has no argument 'kernal_size'; did you mean kernel_size=?",
            "kernal_size",
        ),
        ("conv2d 64 k=3 p=full", "conv2d padding: expected one of same, valid; got 'full'", "full"),
        (
            "conv2d 64 k=3 pm=mirror",
            "conv2d padding_mode: expected one of zeros, reflect, replicate, circular; got 'mirror'",
            "mirror",
        ),
        ("conv2d 64 k=3.5", "conv2d kernel_size: each size must be an integer, got '3.5'", "3.5"),
        ("conv2d 64 k=3.0", "conv2d kernel_size: each size must be an integer; write 3", "3.0"),
        ("conv2d 64", "conv2d needs kernel_size (k=3)", "conv2d"),
        ("conv2d 64 k=3 k=5", "kernel_size is given twice in conv2d", "k=5"),
        (
            "conv2d 64 k=3x3x3",
            "kernel_size has 3 values but conv2d has 2 spatial dimensions",
            "3x3x3",
        ),
        (
            "maxpool2d 2 2 0 1 false false 7",
            "too many positional values for maxpool2d (it takes PyTorch's kernel_size, stride, "
            "padding, dilation, return_indices, ceil_mode); got '7'",
            "7",
        ),
        (
            "flatten 1 -1 2",
            "too many positional values for flatten (it takes PyTorch's start_dim, end_dim); "
            "got '2'",
            "2",
        ),
        (
            "gn 2 4 1e-5 true 0 0 1",
            "too many positional values for gn (it takes num_groups, or PyTorch's num_groups, "
            "num_channels, eps, affine, device, dtype); got '1'",
            "1",
        ),
        ("relu 3", "relu inplace: expected true or false (or yes/no, 1/0), got '3'", "3"),
        ("sigmoid 3", "sigmoid takes no positional value; got '3'", "3"),
        ("sigmoid x=1", "sigmoid takes no arguments; got x=", "x"),
        (
            "conv2d 8 k=3 bias=maybe",
            "conv2d bias: expected true or false (or yes/no, 1/0), got 'maybe'",
            "maybe",
        ),
        ("conv2d 8 k=(3,", "'(' is never closed", "("),
        ("conv2d 8 k=()", "empty tuple", "()"),
        ("conv2d 8 k=", "k= needs a value", "k="),
        ("conv2d 8 k=3,", "expected a value after ','", ","),
        ("64 conv2d k=3", "expected a layer kind, got the number '64'", "64"),
        ("k=3 conv2d", "'k'= must follow a layer kind", "k"),
        (
            "conv2d 8 k=99999999999999999999",
            "number is too large (sizes are 64-bit integers)",
            "99999999999999999999",
        ),
        (
            "linear 10 relu6x",
            "linear does not understand 'relu6x'; did you mean the layer kind 'relu6'?",
            "relu6x",
        ),
        (
            "conv2d 16 k=3 batchnrom",
            "conv2d does not understand 'batchnrom'; did you mean the layer kind 'batchnorm'?",
            "batchnrom",
        ),
        (
            "conv2d 16 k=3 depthwse",
            "conv2d does not understand 'depthwse'; did you mean 'depthwise'?",
            "depthwse",
        ),
        (
            "conv2d 16 k=3 zzz",
            "conv2d does not understand 'zzz' (not one of its flags, nor a layer kind)",
            "zzz",
        ),
        (
            "upsample scale=2 mode=bilinar",
            "upsample mode: expected one of nearest, linear, bilinear, bicubic, trilinear, area, nearest-exact; got 'bilinar' (did you mean 'bilinear'?)",
            "bilinar",
        ),
        ("input 3x32 relu input 3x32", "'input' must come before the first layer", "input 3x32"),
        ("input 3x0", "every size in a shape must be at least 1, got 0", "0"),
        ("", "no layers given", ""),
        ("# only a comment", "no layers given", ""),
    ],
)
def test_spec_errors(text: str, message: str, word: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(text, None if text.startswith("input") else (3, 32, 32))
    err = info.value
    assert err.message == message
    assert err.word == word


def test_spec_error_location_and_caret() -> None:
    text = "conv2d 8 k=3\nrelu\nmaxpool k=2 stirde=2\n"
    with pytest.raises(convcalc.SpecError) as info:
        convcalc.analyze(text, "3x32x32", filename="net.spec")
    err = info.value
    assert (err.line, err.column, err.word) == (3, 13, "stirde")
    assert str(err) == "net.spec:3:13: maxpool has no argument 'stirde'; did you mean stride=?"
    assert err.excerpt() == "  maxpool k=2 stirde=2\n              ^^^^^^"


def test_missing_input_shape_is_a_spec_error() -> None:
    with pytest.raises(convcalc.SpecError, match="no input shape"):
        convcalc.analyze("conv2d 8 k=3")


def test_a_call_may_be_another_call_s_argument() -> None:
    # Keras's wrappers: Bidirectional(LSTM(64)), parsed (never run) into a "call" value.
    kinds = {"bidirectional", "lstm", "dense", "timedistributed"}
    source = 'Bidirectional(LSTM(64, return_sequences=True), merge_mode="sum") x2 dense 3'
    first, second = parse(source, kinds).statements
    assert isinstance(first, LayerStmt) and isinstance(second, LayerStmt)
    inner = first.args[0].value
    assert inner.kind == "call" and (inner.start, inner.end) == (14, 45)
    assert isinstance(inner.value, LayerStmt)
    assert (inner.value.call, inner.value.inside, inner.value.text) == (
        "LSTM",
        2,
        "LSTM(64, return_sequences=True)",
    )
    assert [a.key for a in first.args] == [None, "merge_mode", None]  # then x2, outside
    assert second.kind == "dense"
    # After a key in the word form, across lines, and refusing an unknown class.
    (stmt,) = parse("timedistributed layer=Dense(\n  10,\n)", kinds).statements
    assert isinstance(stmt, LayerStmt) and stmt.args[0].value.kind == "call"
    with pytest.raises(convcalc.SpecError, match="does not know the module Lstm2"):
        parse("Bidirectional(Lstm2(4))", kinds)
