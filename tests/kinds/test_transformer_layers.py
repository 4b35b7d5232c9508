"""The transformer / whole-network kinds (kinds/torch/transformer.py and
transformer_attention.py) beyond what the torch vectors can check: convcalc's own rules
(the batch stays apart, token layers take an L×E input), the words of their messages,
and unknown sizes.

Every figure for an accepted layer is checked against PyTorch in kinds/test_vectors.py; the
numbers here are the inputs echoed back, or figures taken from those vectors."""

from __future__ import annotations

import json

import pytest

import convcalc
from convcalc.kinds import KINDS, REGISTRY, Layer, bind
from convcalc.kinds.torch.transformer import (
    ClassToken,
    GatedMLP,
    Permute,
    PosEmbedding,
    PositionTable,
    Scale,
    SelectToken,
    StochasticDepth,
    TokenTypes,
    Transpose,
)
from convcalc.kinds.torch.transformer_attention import MultiheadAttention, TransformerEncoderLayer
from convcalc.language import LayerStmt, parse
from tests.paths import DATA


def _layer(text: str) -> Layer:
    (stmt,) = [s for s in parse(text, KINDS).statements if isinstance(s, LayerStmt)]
    return bind(stmt, text, REGISTRY)


@pytest.mark.parametrize(
    ("words", "cls"),
    [
        (("permute",), Permute),
        (("transpose",), Transpose),
        (("scale", "layerscale"), Scale),
        (("stochasticdepth", "droppath"), StochasticDepth),
        (("multiheadattention", "mha"), MultiheadAttention),
        (("transformerencoderlayer", "encoderlayer"), TransformerEncoderLayer),
        (("classtoken", "cls"), ClassToken),
        (("posembedding", "posembed"), PosEmbedding),
        (("selecttoken", "token"), SelectToken),
        (("positions", "postable"), PositionTable),
        (("tokentypes", "token_types"), TokenTypes),
        (("swiglu", "gatedmlp"), GatedMLP),
    ],
)
def test_kind_words_and_summaries(words: tuple[str, ...], cls: type[Layer]) -> None:
    for word in words:
        assert REGISTRY[word].cls is cls
    assert cls.SUMMARY and "\n" not in cls.SUMMARY


@pytest.mark.parametrize(
    ("spec", "shape", "reason"),
    [
        # convcalc keeps the batch apart: PyTorch would accept these
        (
            "permute 1,0,2",
            "3x4",
            "permute dims (1, 0, 2) move the batch dimension; it must stay first (dims[0] = 0): convcalc keeps the batch apart",
        ),
        (
            "permute -1,0,1",
            "3x4",
            "permute dims (-1, 0, 1) move the batch dimension; it must stay first (dims[0] = 0): convcalc keeps the batch apart",
        ),
        (
            "transpose 0 2",
            "3x4",
            "transpose 0 2 would move the batch dimension (dim 0); convcalc keeps the batch apart",
        ),
        ("scale dim=0", "3x4", "dim=0 is the batch dimension; convcalc keeps the batch apart"),
        ("scale dim=-3", "3x4", "dim=-3 is the batch dimension; convcalc keeps the batch apart"),
        # token layers take L×E (PyTorch would read a 2-d batch as one unbatched sequence)
        ("mha 8 2", "8", "multiheadattention expects an L×E input (L tokens of E features), got 8"),
        (
            "encoderlayer 8 2",
            "8",
            "transformerencoderlayer expects an L×E input (L tokens of E features), got 8",
        ),
        (
            "selecttoken",
            "8",
            "selecttoken takes one entry of the first dimension, and the input 8 would keep nothing but the batch",
        ),
        ("posembed length=0", "5x8", "length must be positive, got 0"),
        # PyTorch rejects these too; the messages name the numbers
        (
            "permute 0,2",
            "3x4",
            "permute needs one entry per dimension of the 3-d input (batch included), got 2: (0, 2)",
        ),
        (
            "permute 0,3,1",
            "3x4",
            "3 in dims (0, 3, 1) is out of range for a 3-d input (batch included): expected -3..2",
        ),
        ("permute 0,1,-2", "3x4", "permute dims (0, 1, -2) repeat a dimension"),
        (
            "transpose 1 -4",
            "3x4",
            "dim1=-4 is out of range for a 3-d input (batch included): expected -3..2",
        ),
        (
            "cls",
            "2x5x8",
            "classtoken expects an L×E input (L tokens of E features), got 2x5x8 (flatten and transpose a C×H×W map first?)",
        ),
        ("mha 8 3", "5x8", "embed_dim 8 is not divisible by num_heads 3"),
        (
            "mha 8 0",
            "5x8",
            "embed_dim and num_heads must be positive, got embed_dim=8 and num_heads=0",
        ),
        ("mha 8 2", "5x6", "embed_dim is 8, but the input 5x6 has 6 features per token"),
        (
            "mha 8 2 vdim=4",
            "5x8",
            "vdim=4, but self-attention's keys and values are the input, with 8 features",
        ),
        ("encoderlayer 8 2 ff=-1", "5x8", "dim_feedforward must not be negative, got -1"),
        (
            "encoderlayer 8 2 dropout=1.5",
            "5x8",
            "dropout probability has to be between 0 and 1, got 1.5",
        ),
        ("droppath 1.5", "5x8", "drop probability has to be between 0 and 1, got 1.5"),
        ("token -6", "5x8", "index -6 is out of range for 5 tokens: -5..4"),
        ("posembed length=4", "5x8", "the position embedding has 4 positions, the input 5 tokens"),
        # the language models' keys and kinds (issue 16)
        (
            "mha 64 8 kv_heads=3",
            "5x64",
            "num_heads 8 is not a multiple of kv_heads 3: each key/value head serves a whole group of query heads",
        ),
        ("mha 64 8 kv_heads=0", "5x64", "kv_heads must be positive, got 0"),
        (
            "mha 24 8 rope",
            "5x24",
            "rotary position embedding rotates pairs of features: head_dim 3 (embed_dim 24 / num_heads 8) must be even",
        ),
        (
            "mha 64 8 kv_heads=2 add_bias_kv",
            "5x64",
            "add_bias_kv and add_zero_attn are nn.MultiheadAttention's; with kv_heads= or rope= the attention is written with its own projections, which have neither",
        ),
        (
            "positions 4",
            "5x8",
            "the position table has 4 positions, but the input has 5 tokens (PyTorch: index out of range)",
        ),
        ("tokentypes 0", "5x8", "num_embeddings must be positive, got 0"),
        ("swiglu 0", "5x8", "hidden must be positive, got 0"),
        ("positions 8", "8", "positions expects an L×E input (L tokens of E features), got 8"),
    ],
)
def test_rejections(spec: str, shape: str, reason: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(spec, shape)
    assert info.value.reason == reason
    assert info.value.index == 1


def test_multiheadattention_dropout_is_not_checked() -> None:
    # nn.MultiheadAttention(8, 2, dropout=1.5) constructs and runs in eval mode (its
    # dropout is only applied in training); the encoder layer's nn.Dropout checks p.
    assert convcalc.analyze("mha 8 2 dropout=1.5", "5x8").output == (5, 8)


@pytest.mark.parametrize(
    ("text", "shape", "output", "params_known", "macs"),
    [
        # an unknown L: no MACs, but the weights do not depend on it
        ("mha 8 2", (None, 8), (None, 8), True, None),
        ("encoderlayer 8 2 ff=16", (None, 8), (None, 8), True, None),
        ("posembed", (None, 8), (None, 8), False, 0),
        ("posembed length=5", (None, 8), (5, 8), True, 0),
        ("posembed length=1", (None, 8), (None, 8), True, 0),
        ("cls", (None, 8), (None, 8), True, 0),
        ("token", (None, 8), (8,), True, 0),
        ("scale", (None, 4, 4), (None, 4, 4), False, 0),
        ("scale dim=-1", (None, 4, 6), (None, 4, 6), True, 0),
        ("permute 0,2,1", (None, 6), (6, None), True, 0),
        # an unknown E: the class token's parameters are E
        ("cls", (5, None), (6, None), False, 0),
    ],
)
def test_unknown_sizes(
    text: str,
    shape: tuple[int | None, ...],
    output: tuple[int | None, ...],
    params_known: bool,
    macs: int | None,
) -> None:
    layer = _layer(text)
    out = layer.infer(shape)
    assert (out.shape, out.macs) == (output, macs)
    # With the size known (5), the figures are the ones the torch vectors check.
    known = layer.infer(tuple(5 if v is None else v for v in shape))
    assert out.params == (known.params if params_known else None)


@pytest.mark.parametrize(
    ("spec", "shape", "rf"),
    [
        ("scale", "4x8x8", ()),
        ("droppath 0.1", "4x8x8", ()),
        ("posembed", "5x8", ()),
        ("posembed length=5", "1x8", None),  # broadcasting makes 5 tokens of 1
        ("transpose 1 1", "4x8", ()),
        ("transpose 1 2", "4x8", None),
        ("permute 0,1,2", "4x8", None),
        ("mha 8 2", "5x8", None),
        ("cls", "5x8", None),
        ("token", "5x8", None),
    ],
)
def test_receptive_field_step(spec: str, shape: str, rf: tuple[()] | None) -> None:
    # Token-mixing layers end the receptive field; element-wise ones leave it unchanged.
    sizes = tuple(int(v) for v in shape.split("x"))
    assert _layer(spec).infer(sizes).rf == rf


def test_vit_b16_encoder_layer_matches_torch() -> None:
    """ViT-B/16's encoder layer, as the generator recorded it from PyTorch (its attention
    matmuls, 2·197²·768 = 0.0596 G, are what torchvision's published figure counts)."""
    spec = "transformerencoderlayer 768 12 activation=gelu eps=1e-06 ff=3072 norm_first=true"
    path = DATA / "torch_cases.jsonl"
    with path.open(encoding="utf-8") as fh:
        (case,) = [c for line in fh if (c := json.loads(line))["spec"] == spec]
    (want,) = case["layers"]
    (got,) = convcalc.analyze(spec, tuple(case["input"])).layers
    assert (got.params, got.macs) == (want["params"], want["macs"])


@pytest.mark.parametrize(
    "spec",
    [
        "mha 64 8",
        "mha 64 8 bias=false add_bias_kv add_zero_attn",
        "mha 64 8 causal",
        "mha 64 8 kv_heads=2 causal rope bias=false",
        "mha 64 8 kv_heads=1 rope",
    ],
)
def test_attention_explains_its_params_macs_and_cache(spec: str) -> None:
    """--explain's figures are the row's own (the row's are checked against PyTorch)."""
    analysis = convcalc.analyze(spec, "16x64")
    steps = {s.dim: s.value for s in convcalc.explain(analysis)}
    row = analysis.layers[0]
    assert steps["params"] == row.params and steps["MACs"] == row.macs
    cache = row.layer.kv_cache(row.input)
    assert steps.get("KV cache", 0) == cache
    assert (cache != 0) == ("causal" in spec)
