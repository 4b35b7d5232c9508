"""Every rejection names what is wrong and the numbers involved (docs/output.md#errors-and-exit-codes).

These are convcalc's own message texts (the torch vectors check *which* inputs are
rejected); the numbers in them are the inputs echoed back."""

from __future__ import annotations

import pytest

import convcalc


@pytest.mark.parametrize(
    ("spec", "shape", "reason"),
    [
        ("conv2d 8 k=3 g=0", "4x8x8", "groups must be a positive integer, got 0"),
        ("conv2d 8 k=3 g=3", "4x8x8", "in_channels 4 is not divisible by groups 3"),
        ("conv2d 6 k=3 g=4", "4x8x8", "out_channels 6 is not divisible by groups 4"),
        (
            "conv2d 8 k=3 s=2 p=same",
            "4x8x8",
            "padding='same' is not supported for strided convolutions (stride (2, 2)); use an explicit padding",
        ),
        ("conv2d 8 k=0", "4x8x8", "kernel_size must be positive, got (0, 0)"),
        ("conv2d 8 k=3 s=0", "4x8x8", "stride must be positive, got (0, 0)"),
        ("conv2d 8 k=3 d=0", "4x8x8", "dilation must be positive, got (0, 0)"),
        ("conv2d 8 k=3 p=-1", "4x8x8", "padding must not be negative, got (-1, -1)"),
        ("conv2d 64 k=9 p=1", "3x5x5", "kernel 9 is larger than the padded input 7 (5 + 2·1)"),
        (
            "conv2d 64 k=3 d=4 p=1",
            "3x5x5",
            "dilated kernel 9 (k=3, d=4) is larger than the padded input 7 (5 + 2·1)",
        ),
        ("conv2d 64 k=3x9", "3x9x5", "kernel 9 is larger than the input 5 along W"),
        (
            "conv2d 8 k=3 p=3 pm=reflect",
            "3x3x8",
            "padding_mode='reflect' needs padding smaller than the input: padding 3 on an input of size 3",
        ),
        (
            "conv2d 8 k=3 p=4 pm=circular",
            "3x3x8",
            "padding_mode='circular' cannot wrap around more than once: padding 4 on an input of size 3",
        ),
        ("conv2d 8 k=3", "3x8x8x8", "conv2d expects a C×H×W input, got 3x8x8x8 (4 dims)"),
        # A leading 1 one dimension too many: a batch written into -i.
        (
            "conv2d 64 k=3",
            "1x3x224x224",
            "conv2d expects a C×H×W input, got 1x3x224x224 (4 dims); did you include the "
            "batch? convcalc's -i excludes it: -i 3x224x224",
        ),
        (
            "conv k=3",
            "1x3x8x8x8",
            "conv expects a C×L or C×H×W or C×D×H×W input, got 1x3x8x8x8 (5 dims); did you "
            "include the batch? convcalc's -i excludes it: -i 3x8x8x8",
        ),
        (
            "bn1d",
            "1x16x100",
            "batchnorm1d expects a C or C×L input, got 1x16x100 (3 dims); did you include the "
            "batch? convcalc's -i excludes it: -i 16x100",
        ),
        ("conv2d 0 k=3", "3x8x8", "out_channels must be positive, got 0"),
        (
            "conv k=3",
            "32",
            "conv takes its dimensions from the input, and 32 has no spatial dimension: name them (conv2d reads 32 as a 32×32 map) or give the channel count too (3x32x32 for a map, 3x32 for a sequence)",
        ),
        (
            "conv k=3",
            "3x8x8x8x8",
            "conv expects a C×L or C×H×W or C×D×H×W input, got 3x8x8x8x8 (5 dims)",
        ),
        (
            "convtranspose2d 8 k=3 pm=reflect",
            "3x8x8",
            "transposed convolutions only support padding_mode='zeros', got 'reflect'",
        ),
        (
            "convtranspose2d 8 k=3 p=same",
            "3x8x8",
            "transposed convolutions take integer padding, not padding='same'",
        ),
        (
            "convtranspose2d 8 k=3 s=2 op=2",
            "3x8x8",
            "output_padding (2, 2) must be smaller than either stride (2, 2) or dilation (1, 1)",
        ),
        (
            "convtranspose2d 8 k=2 p=1",
            "3x1x1",
            "output size 0 is too small: (1−1)·1 − 2·1 + 1·(2−1) + 0 + 1",
        ),
        (
            "convtranspose2d 8 k=3 op=-1",
            "3x8x8",
            "output_padding must not be negative, got (-1, -1)",
        ),
        ("maxpool k=3 p=2", "3x8x8", "padding (2, 2) must be at most half of kernel_size (3, 3)"),
        (
            "maxpool k=3 s=2",
            "3x2x2",
            "output size 0 is too small: kernel 3 does not fit in the padded input 2 (2 + 2·0)",
        ),
        (
            "avgpool3d k=5 p=2",
            "3x4x8x8",
            "input 4x8x8 is smaller than kernel_size (5, 5, 5) (3-d average and LP pooling need the unpadded input to hold the kernel)",
        ),
        ("maxpool k=0", "3x8x8", "kernel_size must be positive, got (0, 0)"),
        ("adaptiveavgpool -1", "3x8x8", "output_size must not be negative, got (-1, -1)"),
        ("upsample", "3x8x8", "give exactly one of size= and scale_factor="),
        ("upsample scale=2 size=3", "3x8x8", "give exactly one of size= and scale_factor="),
        (
            "upsample scale=2 mode=bilinear",
            "3x8",
            "mode='bilinear' needs 2 spatial dimensions, the input 3x8 has 1",
        ),
        (
            "upsample scale=2 align_corners=true",
            "3x8x8",
            "align_corners can only be set with the interpolating modes: linear, bilinear, bicubic, trilinear (mode is 'nearest')",
        ),
        (
            "upsample size=0",
            "3x8x8",
            "input and output sizes must be greater than 0: input 8x8, output 0x0",
        ),
        (
            "upsample scale=0",
            "3x8x8",
            "scale_factor=0 counts as no scale factor in PyTorch; give one > 0",
        ),
        (
            "upsample scale=0.1",
            "3x8x8",
            "input and output sizes must be greater than 0: input 8x8, output 0x0",
        ),
        ("pixelshuffle 2", "6x8x8", "channels 6 are not divisible by the factor squared 2² = 4"),
        ("pixelshuffle 2", "8x8", "pixelshuffle expects a C×H×W input, got 8x8 (2 dims)"),
        ("pixelunshuffle 2", "3x5x8", "height 5 is not divisible by the factor 2"),
        ("pad 1,2,3", "3x8x8", "the padding needs pairs of values, got 3"),
        (
            "pad 1,1,1,1,1,1,1,1",
            "3x8x8",
            "8 pads would pad 4 dimensions but 3x8x8 has 3 (the batch dimension is never padded)",
        ),
        (
            "pad 8 mode=reflect",
            "3x8x8",
            "reflect padding must be smaller than the input: pads (8, 8) on size 8",
        ),
        (
            "pad 9 mode=circular",
            "3x8x8",
            "circular padding cannot wrap around more than once: pads (9, 9) on size 8",
        ),
        ("pad -5,-4", "3x8x8", "pads (-5, -4) crop more than the size 8"),
        (
            "flatten start=5",
            "3x8x8",
            "start_dim=5 is out of range for a 4-d input (batch included): expected -4..3",
        ),
        ("flatten start=3 end=2", "3x8x8", "start_dim=3 comes after end_dim=2"),
        (
            "flatten start=0",
            "3x8x8",
            "start_dim=0 would merge the batch dimension; convcalc keeps the batch apart",
        ),
        (
            "linear 10 in=5",
            "3x8x8",
            "in_features=5 but the input's last dimension is 8 (the input is 3x8x8; flatten first?)",
        ),
        ("groupnorm 3", "8x4x4", "num_channels 8 is not divisible by num_groups 3"),
        (
            "layernorm 5",
            "3x8x8",
            "normalized_shape 5 does not match the trailing dimensions of the input 3x8x8",
        ),
        ("bn c=4", "3x8x8", "num_features=4 but the input has 3 channels"),
        ("prelu n=4", "3x8x8", "num_parameters=4 does not match the input's 3 channels"),
        ("dropout p=1.5", "3x8x8", "dropout probability has to be between 0 and 1, got 1.5"),
        (
            "softmax dim=4",
            "3x8x8",
            "dim=4 is out of range for a 4-d input (batch included): expected -4..3",
        ),
        ("instancenorm1d", "3x8x8", "instancenorm1d expects a C×L input, got 3x8x8 (3 dims)"),
        ("lppool2d 0 k=2", "3x8x8", "norm_type must not be 0"),
        (
            "lppool3d 2 k=5",
            "3x4x8x8",
            "input 4x8x8 is smaller than kernel_size (5, 5, 5) (3-d average and LP pooling need the unpadded input to hold the kernel)",
        ),
        ("maxunpool2d k=2 p=3", "3x2x2", "output size -2 is negative: (2−1)·2 + 2 − 2·3"),
        ("maxunpool3d k=2 s=0", "3x2x2x2", "stride must be positive, got (0, 0, 0)"),
        ("unflatten 1 (4,-1,-1)", "12x8", "only one size can be -1, got (4, -1, -1)"),
        (
            "unflatten 1 (5,2)",
            "12x8",
            "sizes (5, 2) multiply to 10, not to the size 12 of dimension 1",
        ),
        (
            "unflatten 0 (1,1)",
            "12x8",
            "dim=0 is the batch dimension; convcalc keeps the batch apart",
        ),
        ("unflatten 1 (5,-1)", "12x8", "sizes (5, -1) cannot unflatten a dimension of size 12"),
        ("glu", "3x8x7", "GLU halves dimension -1, but its size 7 is odd"),
        ("glu dim=0", "3x8", "dim=0 is the batch dimension; convcalc keeps the batch apart"),
        ("channelshuffle 4", "6x8x8", "channels 6 are not divisible by groups 4"),
        ("channelshuffle 0", "6x8x8", "groups must be positive, got 0"),
        (
            "channelshuffle 2",
            "6",
            "channelshuffle expects a C×L, C×H×W or more input, got 6 (1 dim)",
        ),
        ("embedding 0 8", "5", "num_embeddings must be positive, got 0"),
        ("embedding 10 -1", "5", "embedding_dim must not be negative, got -1"),
        (
            "embedding 10 8 padding_idx=10",
            "5",
            "padding_idx=10 must be within num_embeddings (-10..9)",
        ),
        (
            "rmsnorm 5",
            "3x8x8",
            "normalized_shape 5 does not match the trailing dimensions of the input 3x8x8",
        ),
        ("lrn 0", "3x8x8", "size must be positive, got 0"),
        ("lrn 3", "8", "localresponsenorm expects a C×L, C×H×W or C×D×H×W input, got 8 (1 dim)"),
    ],
)
def test_shape_error_messages(spec: str, shape: str, reason: str) -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze(spec, shape)
    err = info.value
    assert err.reason == reason
    assert str(err) == f"layer 1 ({spec}): {reason}"


def test_the_failing_layer_is_named_by_index_and_text() -> None:
    with pytest.raises(convcalc.ShapeError) as info:
        convcalc.analyze("conv2d 8 k=3 p=1 ; maxpool k=2 ; maxpool k=2 ; maxpool k=2", "3x4x4")
    assert str(info.value).startswith("layer 4 (maxpool k=2): output size 0 is too small")
