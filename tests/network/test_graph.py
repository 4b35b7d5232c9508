"""The graph language: names, branches, merges, blocks, repeats, shared weights and
side outputs — their meaning (stated as relations between networks, the numbers
themselves being checked against PyTorch in test_graph_vectors.py and
test_zoo.py) and every error they can raise."""

from __future__ import annotations

import json
import re

import pytest

import convcalc

RESIDUAL = "as x; conv2d 16 k=3 p=1; bn; relu; conv2d 16 k=3 p=1; bn; add x; relu"


def run(spec: str, shape: str = "16x8x8") -> convcalc.Analysis:
    return convcalc.analyze(spec, shape)


def figures(a: convcalc.Analysis) -> tuple[object, ...]:
    return (a.output, a.params, a.trainable, a.buffers, a.macs)


# -- meaning ------------------------------------------------------------------------------


def test_a_chain_reads_each_previous_row() -> None:
    a = run("conv2d 8 k=3; relu; conv2d 4 k=1")
    assert [lay.inputs for lay in a.layers] == [(0,), (1,), (2,)]
    assert all(not lay.side and lay.block == () and lay.shared is None for lay in a.layers)


def test_residual_merges_the_named_tensor() -> None:
    a = run(RESIDUAL)
    add = a.layers[5]
    assert add.kind == "add"
    assert add.inputs == (5, 0)  # the current tensor first, then x (the input)
    assert a.output == (16, 8, 8)
    # A merge has no weights: the residual costs what its convolutions cost.
    assert figures(a)[1:] == figures(run(RESIDUAL.replace("; add x", "")))[1:]


def test_from_starts_a_branch_and_as_names_it() -> None:
    a = run("as x; conv2d 8 k=1; as left; from x; conv2d 8 k=3 p=1; as right; concat left right")
    assert [lay.inputs for lay in a.layers] == [(0,), (0,), (1, 2)]
    assert a.layers[0].name == "left" and a.layers[1].name == "right"
    assert a.output == (16, 8, 8)


def test_concat_puts_the_current_tensor_first_unless_listed() -> None:
    a = run("as x; conv2d 8 k=1; concat x")
    assert a.layers[1].inputs == (1, 0)
    b = run("as x; conv2d 8 k=1; as y; concat x y")
    assert b.layers[1].inputs == (0, 1)
    assert a.output == b.output == (24, 8, 8)


def test_concat_along_another_dim() -> None:
    assert run("as x; conv2d 16 k=1; concat x dim=2").output == (16, 16, 8)
    assert run("as x; conv2d 16 k=1; concat x dim=-1").output == (16, 8, 16)


def test_gate_broadcasts_a_per_channel_scale() -> None:
    a = run("as x; gap; conv2d 4 k=1; relu; conv2d 16 k=1; sigmoid; mul x")
    assert a.layers[-1].kind == "mul" and a.output == (16, 8, 8)


def test_split_and_chunk_name_their_parts() -> None:
    a = run("split 4,12 a b; from b; conv2d 4 k=1; as c; concat a c")
    assert [lay.output for lay in a.layers[:2]] == [(4, 8, 8), (12, 8, 8)]
    assert a.output == (8, 8, 8)
    assert run("chunk 2 a b; concat b").output == (16, 8, 8)
    # torch.chunk makes ceil-sized chunks, fewer when they run out: 16 in 3 → 6, 6, 4.
    assert [lay.output[0] for lay in run("chunk 3 a b c").layers] == [6, 6, 4]
    assert [lay.output[0] for lay in run("split 6 a b c").layers] == [6, 6, 4]


def test_crop_centres_on_the_target() -> None:
    a = run("as big; conv2d 16 k=5; as small; from big; crop small; concat small", "16x12x12")
    crop = a.layers[1]
    assert crop.output == (16, 8, 8)
    assert crop.rf is not None and crop.rf.start == (2, 2)  # ⌊(12 − 8)/2⌋ cropped on the left
    assert a.output == (32, 8, 8)


def test_input_is_a_tensor_name() -> None:
    a = run("conv2d 8 k=1; as y; from input; conv2d 8 k=1; add y")
    assert a.layers[1].inputs == (0,)


def test_a_block_expands_to_its_body() -> None:
    block = f"block res C; {RESIDUAL.replace('16', 'C')}; end; "
    once = run(block + "res 16")
    assert figures(once) == figures(run(RESIDUAL))
    assert [lay.spec for lay in once.layers] == [lay.spec for lay in run(RESIDUAL).layers]
    assert {lay.block for lay in once.layers} == {("res#1",)}
    thrice = run(block + "res 16 x3")
    assert figures(thrice) == figures(run(f"{RESIDUAL}; {RESIDUAL}; {RESIDUAL}"))
    assert [b.block for b in thrice.blocks] == [("res#1",), ("res#2",), ("res#3",)]


def test_block_parameters_defaults_keys_and_tensor_names() -> None:
    spec = "block down C S=2; conv2d C k=3 s=S p=1; end; "
    assert run(spec + "down 8").output == (8, 4, 4)
    assert run(spec + "down 8 s=1").output == (8, 8, 8)
    assert run(spec + "down s=1 c=4").output == (4, 8, 8)
    # A parameter may carry a tensor name into the block.
    skip = run("as e; conv2d 16 k=1; block merge SKIP; concat SKIP; end; merge e")
    assert skip.output == (32, 8, 8)


def test_names_inside_a_block_are_its_own() -> None:
    a = run("as x; block b; as x; relu; add x; end; b; add x")
    assert a.layers[1].inputs == (1, 0)  # the block's x is its own input…
    assert a.layers[2].inputs == (2, 0)  # …and the outer x is still the network's input


def test_nested_blocks_give_paths_and_subtotals() -> None:
    spec = (
        "block unit C; conv2d C k=3 p=1; relu; end; "
        "block stage C N=1; unit C; unit C; end; stage 8; stage 4"
    )
    a = run(spec)
    assert a.layers[0].block == ("stage#1", "unit#1")
    assert [b.block for b in a.blocks][:3] == [
        ("stage#1",),
        ("stage#1", "unit#1"),
        ("stage#1", "unit#2"),
    ]
    top = [b for b in a.blocks if len(b.block) == 1]
    assert sum(b.params for b in top) == a.params
    assert sum(b.macs for b in top) == a.macs
    assert top[1].input == (8, 8, 8) and top[1].output == (4, 8, 8)


def test_named_repeats_label_their_instances() -> None:
    a = run("block b; relu; end; b x2 name=layer1")
    assert [b.block for b in a.blocks] == [("layer1.1",), ("layer1.2",)]


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_depth_folds_blocks_and_keeps_the_totals(depth: int) -> None:
    spec = "block unit C; conv2d C k=3 p=1; relu; end; block stage C; unit C; unit C; end; stage 8; gap"
    a = run(spec)
    rows = a.rows(depth)
    assert sum(r.params for r in rows) == a.params
    assert sum(r.macs for r in rows) == a.macs
    assert rows[-1].output == a.output
    assert len(rows) == {0: 2, 1: 3, 2: 5}[depth]


def test_shared_weights_count_once_and_run_every_time() -> None:
    one = run("conv2d 16 k=3 p=1")
    twice = run("conv2d 16 k=3 p=1 name=enc; relu; use enc")
    assert twice.params == one.params
    assert twice.macs == 2 * one.macs  # type: ignore[operator]
    assert twice.layers[2].shared == 1 and twice.layers[2].params == 0


def test_a_tied_weight_counts_once_and_keeps_its_macs() -> None:
    """GPT-2's head: linear(d → vocab) whose weight is the token embedding's."""
    untied = convcalc.analyze("embedding 100 32; relu; linear 100 bias=false", "16")
    tied = convcalc.analyze("embedding 100 32 name=wte; relu; linear 100 bias=false tie=wte", "16")
    head = tied.layers[2]
    assert head.tied == 1 and head.params == 0 and head.shared is None
    assert head.macs == untied.layers[2].macs == 16 * 32 * 100
    assert tied.params == untied.params - 100 * 32 and tied.macs == untied.macs
    # A bias of its own stays its own.
    assert (
        convcalc.analyze("embedding 100 32 name=e; linear 100 tie=e", "16").layers[1].params == 100
    )
    assert head.to_dict()["tied"] == 1 and "tied" not in tied.layers[0].to_dict()


def test_shared_block_instance() -> None:
    spec = "block enc; conv2d 16 k=3 p=1; bn; relu; end; enc name=e; as a; from input; use e; add a"
    a = run(spec)
    single = run("conv2d 16 k=3 p=1; bn; relu")
    assert a.params == single.params
    assert [lay.shared for lay in a.layers[3:6]] == [1, 2, 3]


def test_side_output_counts_params_not_macs() -> None:
    main = "conv2d 8 k=3 p=1; relu"
    head = "as trunk; gap; flatten; linear 10; as aux; from trunk"
    a = run(f"{main}; {head}; conv2d 8 k=3 p=1")
    plain = run(f"{main}; conv2d 8 k=3 p=1")
    aux = run("gap; flatten; linear 10", "8x8x8")
    assert a.output == plain.output == (8, 8, 8)
    assert a.params == plain.params + aux.params  # type: ignore[operator]
    assert a.macs == plain.macs
    assert [lay.side for lay in a.layers] == [False, False, True, True, True, False]
    assert [lay.index for lay in a.side_outputs] == [5]


def test_the_result_may_be_an_earlier_tensor() -> None:
    a = run("conv2d 8 k=1; as main; conv2d 4 k=1; as extra; from main")
    assert a.output == (8, 8, 8)
    assert a.layers[1].side


def test_frozen_parameters_are_not_trainable() -> None:
    a = run("conv2d 8 k=3 frozen; bn requires_grad=false; conv2d 8 k=1; linear 3 frozen=no")
    assert [lay.trainable == 0 for lay in a.layers] == [True, True, False, False]
    assert a.trainable == a.layers[2].params + a.layers[3].params  # type: ignore[operator]
    block = run("block b; conv2d 8 k=1; end; b frozen")
    assert block.trainable == 0 and block.params


def test_receptive_field_of_a_residual_is_the_longer_path() -> None:
    a = run(RESIDUAL)
    chain = run(RESIDUAL.replace("as x; ", "").replace("; add x", ""))
    assert a.rf == chain.rf


def test_json_carries_the_structure() -> None:
    from convcalc.formats.jsonout import to_json
    from convcalc.formats.report import make_report

    spec = "block b; as x; conv2d 16 k=1; add x; end; b; as t; gap; as aux; from t; relu"
    data = json.loads(to_json(make_report(run(spec))))
    rows = data["layers"]
    assert rows[1]["inputs"] == [1, 0] and rows[1]["block"] == "b#1"
    assert rows[2]["side"] is True and rows[2]["name"] == "aux"
    assert data["side_outputs"] == [3]
    assert data["blocks"][0]["block"] == "b#1" and data["blocks"][0]["last"] == 2
    assert data["output"] == [16, 8, 8]
    assert sum(r["params"] for r in rows) == data["total"]["params"]
    assert sum(r["macs"] for r in rows if not r["side"]) == data["total"]["macs"]


def test_keywords_work_as_shell_words_without_separators() -> None:
    words = "as x conv2d 16 k=3 p=1 add x relu"
    assert figures(run(words)) == figures(run("as x; conv2d 16 k=3 p=1; add x; relu"))
    block = "block r C conv2d C k=1 end r 8 x2"
    assert run(block).output == (8, 8, 8)


# -- errors ---------------------------------------------------------------------------------

SPEC_ERRORS = [
    ("as x; relu; add y", "no tensor is named 'y' (named so far: x)"),
    ("as skip; relu; add skp", "no tensor is named 'skp'; did you mean 'skip'?"),
    ("relu; add y", "no tensor is named 'y'; name one first with 'as NAME'"),
    (
        "as x; relu; from x; relu",
        "the branch ending at layer 1 (relu) is never used: merge it (add, mul, concat), or name it with 'as NAME' to keep it as a side output",
    ),
    ("as", "'as' takes one tensor name, e.g. as skip"),
    ("add", "'add' takes at least 1 tensor name, e.g. add skip"),
    ("as x y", "'as' takes one tensor name, e.g. as skip"),
    ("as 3", "'as' takes tensor names; '3' is not a name"),
    ("as input", "'input' names the network's input; choose another name"),
    ("as x; relu; concat x d=2", "'concat' has no argument 'd' (it takes dim=)"),
    ("chunk 2", "name each part: chunk 2 a b (the number of chunks, then one name per part)"),
    ("split a b", "'split' starts with split 24,40 a b (sizes, then one name per part)"),
    ("chunk 2,3 a b", "chunk takes one number of chunks; split takes sizes"),
    ("block b; relu", "block 'b' has no 'end'"),
    ("relu; end", "'end' without a 'block' to close"),
    ("block b; block c; end; end", "blocks cannot be defined inside a block"),
    ("block; relu; end", "'block' needs a name: block NAME PARAM… (then lines, then end)"),
    ("block relu; relu; end", "'relu' is a layer kind or keyword; name the block otherwise"),
    ("block b; end", "block 'b' is empty"),
    ("block b; relu; end; block b; relu; end; b", "block 'b' is defined twice"),
    ("block b C C; relu; end; b 1 2", "block b has two parameters named 'c'"),
    ("block b C; conv2d C k=1; end; b", "block b needs a value for c"),
    ("block b C; conv2d C k=1; end; b 1 2", "block b takes 1 value (c); got '2' too"),
    ("block b C; conv2d C k=1; end; b cc=2", "block b has no parameter 'cc'; did you mean c=?"),
    ("block b C; conv2d C k=1; end; b 1 c=2", "c is given twice to block b"),
    ("block b; b; end; b", "block 'b' instantiates itself (b → b)"),
    ("block b; input 3x8x8; end", "'input' cannot stand inside a block"),
    ("relu; input 3x8x8", "'input' must come before the first layer"),
    ("use enc", "no layer or block instance is named 'enc' (name one with name=NAME)"),
    ("relu name=a; relu name=a", "a layer or block instance is already named 'a'"),
    ("relu x2 name=a", "name= names one layer; it cannot go with a repeat (xN)"),
    ("relu x0", "a repeat needs at least 1, got 'x0'"),
    ("relu name=3", "name= takes a word, got '3'"),
    (
        "linear 4 tie=wte",
        "tie=wte: no layer is named 'wte' (name the layer whose weight it uses first, e.g. embedding 50257 768 name=wte)",
    ),
    (
        "linear 4 name=wte; linear 4 tie=wtf",
        "tie=wtf: no layer is named 'wtf'; did you mean 'wte'?",
    ),
    ("linear 8 tie=3", "tie= takes a layer's name (given with name=), got '3'"),
    (
        "linear 8 name=a; linear 8 tie=a x2",
        "tie= ties one layer's weight; it cannot go with a repeat (xN)",
    ),
    (
        "block b; linear 8; end; b name=e; linear 8 tie=e",
        "tie=e names a block instance; tie= takes one layer's weight",
    ),
    (
        "block b; linear 8; end; linear 8 name=a; b tie=a",
        "tie= ties one layer's weight, not a block instance's",
    ),
]


@pytest.mark.parametrize(("spec", "message"), SPEC_ERRORS)
def test_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError) as info:
        run(spec)
    assert info.value.message == message
    assert info.value.excerpt()  # every one points at the offending words


SHAPE_ERRORS = [
    (
        "as x; conv2d 32 k=1; add x",
        "layer 2 (add x): cannot add 32x8x8 (layer 1, conv2d 32 k=1) and 16x8x8 (x: the input): dim 1 (channels) is 32 vs 16 (sizes must be equal, or 1 to broadcast)",
    ),
    (
        "as x; conv2d 16 k=3; mul x",
        "layer 2 (mul x): cannot mul 16x6x6 (layer 1, conv2d 16 k=3) and 16x8x8 (x: the input): dim 2 is 6 vs 8 (sizes must be equal, or 1 to broadcast)",
    ),
    (
        "as x; conv2d 16 k=3; concat x",
        "layer 2 (concat x): cannot concat 16x6x6 (layer 1, conv2d 16 k=3) and 16x8x8 (x: the input) along dim 1: dim 2 is 6 vs 8 (every other size must match)",
    ),
    (
        "as x; flatten; add x",
        "layer 2 (add x): add: 1024 (layer 1, flatten) and 16x8x8 (x: the input) have different numbers of dimensions; PyTorch would broadcast one tensor's batch against the other's features",
    ),
    (
        "as x; relu; concat x dim=0",
        "layer 2 (concat x dim=0): concat dim=0 is the batch dimension; convcalc keeps the batch apart",
    ),
    (
        "as x; relu; concat x dim=4",
        "layer 2 (concat x dim=4): concat dim=4 is out of range for a 4-d tensor (batch included): expected -4 to 3",
    ),
    (
        "split 4,4 a b",
        "layer 1 (split 4,4 a b [1/2]): split sizes [4, 4] add up to 8, but dim 1 has 16",
    ),
    (
        "chunk 3 a b",
        "layer 1 (chunk 3 a b [1/2]): chunk makes 3 parts of 16x8x8 along dim 1 (6, 6, 4), but 2 names are given",
    ),
    (
        "as small; conv2d 16 k=1 p=2; as big; from small; crop big",
        "layer 2 (crop big): cannot crop 16x8x8 (small: the input) to the size of 16x12x12 (big: layer 1, conv2d 16 k=1 p=2): 12 is larger than 8",
    ),
    (
        "block b C; as x; conv2d C k=1; add x; end; b 16; b 8",
        "layer 4 (add x) in b#2 (b 8): cannot add 8x8x8 (layer 3, conv2d 8 k=1) and 16x8x8 (x: layer 2, add x): dim 1 (channels) is 8 vs 16 (sizes must be equal, or 1 to broadcast)",
    ),
]


SHAPE_ERRORS += [
    (
        "embedding 100 32 name=wte; linear 99 bias=false tie=wte",
        "layer 2 (linear 99 bias=false tie=wte): tie= uses the weight of layer 1 (embedding 100 32 name=wte), of shape 100x32, but its own weight would be 99x32",
    ),
    (
        "embedding 100 32 name=wte; relu tie=wte",
        "layer 2 (relu tie=wte): tie= shares a weight, and it has no weight of known shape to share",
    ),
    (
        "relu name=r; linear 16 tie=r",
        "layer 2 (linear 16 tie=r): tie= shares a weight, and layer 1 (relu name=r) has no weight of known shape to share",
    ),
]


@pytest.mark.parametrize(("spec", "message"), SHAPE_ERRORS)
def test_shape_errors(spec: str, message: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        run(spec)
    assert str(info.value) == message


def test_shape_error_in_a_file_names_the_line() -> None:
    source = "input 16x8x8\nas x\nconv2d 8 k=1\nadd x\n"
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(source, filename="net.spec")
    err = info.value
    assert str(err).startswith("net.spec:4: layer 2 (add x): cannot add")
    assert err.excerpt() == "  add x\n  ^^^^^"


def test_error_inside_a_block_points_at_the_body_line() -> None:
    source = "input 16x8x8\nblock b C\n  conv2d C k=9\nend\nb 4\n"
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(source, filename="net.spec")
    assert str(info.value).startswith("net.spec:3: layer 1 (conv2d 4 k=9) in b#1 (b 4): ")


def test_merging_the_current_tensor_with_itself() -> None:
    # After 'chunk 2 c d' the current tensor is c: 'add c' is c + c, as torch computes
    # it (it once was an internal error), while a concat lists its tensors and puts the
    # current one first only when it is not listed: 'concat c' is cat([c]), not cat([c, c]).
    for merge, inputs in (("add c", (1, 1)), ("mul c", (1, 1)), ("concat c", (1,))):
        analysis = convcalc.analyze(f"chunk 2 c d; {merge}", "8x16x16")
        c = analysis.layers[0].output
        assert analysis.layers[-1].inputs == inputs
        assert analysis.output == c


def test_concat_of_the_input_alone_is_the_input() -> None:
    # torch.cat([x]) is x: 'concat input' first in a network does not double it.
    for spec in ("concat input", "concat input dim=2", "as x; concat x"):
        analysis = convcalc.analyze(spec, "3x8x8")
        assert analysis.layers[0].inputs == (0,)
        assert analysis.output == (3, 8, 8)
    assert convcalc.analyze("add input", "3x8x8").layers[0].inputs == (0, 0)


def test_a_name_written_again_in_another_case_is_refused() -> None:
    # Names ignore case, as kinds do: 'as x' after 'as X' would silently replace X
    # (and 'add X' would then add x to itself). Rebinding the same spelling is fine,
    # and a name keeps the case it was written in.
    with pytest.raises(convcalc.SpecError, match="'x' and 'X' are one name"):
        convcalc.analyze("conv2d 8 k=3; as X; conv2d 8 k=3 p=1; as x; add X", "3x32x32")
    with pytest.raises(convcalc.SpecError, match="'A' and 'a' are one name"):
        convcalc.analyze("chunk 2 a A", "8x4x4")
    again = convcalc.analyze("conv2d 8 k=3; as x; conv2d 8 k=3 p=1; as x; add x", "3x32x32")
    assert again.layers[-1].inputs == (2, 2)
    spelt = convcalc.analyze("conv2d 8 k=3; as Skip; conv2d 8 k=3 p=1; add skip", "3x32x32")
    assert spelt.layers[0].name == "Skip" and spelt.layers[-1].inputs == (2, 1)


def test_a_block_parameter_may_stand_for_a_layer_kind() -> None:
    # 'act' on its own (after a newline or ';') is the kind the instance gives; the
    # rows are those of the spelt-out network.
    block = "block cba c act=relu; conv2d c k=3 p=1; bn; act; end"
    analysis = convcalc.analyze(f"{block}; cba 16; cba 8 act=gelu; cba 4 act=leakyrelu", "3x8x8")
    spelt = convcalc.analyze(
        "conv2d 16 k=3 p=1; bn; relu; conv2d 8 k=3 p=1; bn; gelu; conv2d 4 k=3 p=1; bn; leakyrelu",
        "3x8x8",
    )
    assert [r.layer for r in analysis.layers] == [r.layer for r in spelt.layers]
    assert [r.spec for r in analysis.layers][2::3] == ["relu", "gelu", "leakyrelu"]
    # with arguments, a block, and a graph word
    more = convcalc.analyze(
        "block inner c; conv2d c k=1; end; "
        "block outer c sub merge act; as x; sub c; act 0.1; merge x; end; "
        "outer 3 sub=inner merge=add act=leakyrelu",
        "3x8x8",
    )
    assert [r.spec for r in more.layers] == ["conv2d 3 k=1", "leakyrelu 0.1", "add x"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "block b c act; conv2d c k=1; act; end; b 4 act=relux",
            "unknown layer kind 'relux'; did you mean 'relu'?",
        ),
        (
            "block b c act; conv2d c k=1; act; end; b 4 act=3",
            "act stands for a layer kind in this block; '3' is not one",
        ),
        ("block b c act; conv2d c k=1; act; end; b 4", "block b needs a value for act"),
        ("conv2d 4 k=1; act", "unknown layer kind 'act'"),  # outside the block it is no kind
    ],
)
def test_a_kind_parameter_errors(spec: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError, match=re.escape(message)):
        convcalc.analyze(spec, "3x8x8")


def test_a_repeated_instance_inside_a_block_is_titled_by_its_own_text() -> None:
    # A block parameter's value stands elsewhere in the source than its key: the
    # title is the instance's words, not the source between them ('res C x2; end; …').
    spec = "block res C K=3; conv2d C k=K p=1; end; block stage C; res C K=3 x2; end; stage 16"
    analysis = convcalc.analyze(spec, (16, 16, 16))
    titles = [block.spec for block in analysis.blocks if block.label.startswith("res")]
    assert titles == ["res 16 K=3", "res 16 K=3"]
