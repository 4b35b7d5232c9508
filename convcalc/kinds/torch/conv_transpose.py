"""Transposed convolution, ConvTranspose1d/2d/3d: out = (L − 1)·s − 2p + d·(k − 1) + op + 1
(docs/arithmetic.md#transposed-convolution)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.layer import Out
from convcalc.kinds.shapes import (
    Shape,
    check_non_negative,
    check_positive,
    dim_suffix,
    expand,
    fmt_shape,
    fmt_tuple,
    spatial_dims,
)
from convcalc.kinds.torch.conv import (
    BIAS,
    DILATION,
    GROUPS,
    IN_CHANNELS,
    KERNEL,
    OUT_CHANNELS,
    OUTPUT_PADDING,
    PADDING,
    PADDING_MODE,
    STRIDE,
    Convolution,
    check_empty,
    signatures,
)
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import (
    Probe,
    Solve,
    conv_figures,
    transposed_size,
)

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Convolution"


@register
class ConvTranspose(Convolution):
    """ConvTranspose1d/2d/3d: out = (L−1)·s − 2p + d·(k−1) + op + 1."""

    NAMES = {
        **{
            f"{name}{n}d": {"dim": n}
            for name in ("convtranspose", "deconv", "convt", "tconv", "conv_transpose")
            for n in (1, 2, 3)
        },
        **{name: {"dim": None} for name in ("convtranspose", "deconv", "convt", "tconv")},
    }
    TORCH = signatures("ConvTranspose", ("output_padding", "groups", "bias", "dilation"))
    # PyTorch does not validate string padding for transposed convs: it fails in forward.
    PARAMS = (
        OUT_CHANNELS,
        IN_CHANNELS,
        KERNEL,
        STRIDE,
        PADDING,
        OUTPUT_PADDING,
        DILATION,
        GROUPS,
        BIAS,
        PADDING_MODE,
    )
    SUMMARY = "transposed convolution"

    output_padding: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims("convtranspose", self.dim, shape)
        if self.padding_mode != "zeros":
            raise LayerError(
                f"transposed convolutions only support padding_mode='zeros', got "
                f"{self.padding_mode!r}"
            )
        if isinstance(self.padding, str):
            raise LayerError(
                f"transposed convolutions take integer padding, not padding={self.padding!r}"
            )
        cin, cout, g = self._channels(shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = expand("stride", self.stride, n)
        d = expand("dilation", self.dilation, n)
        p = expand("padding", self.padding, n)
        op = expand("output_padding", self.output_padding, n)
        check_positive("kernel_size", k)
        check_positive("stride", s)
        check_positive("dilation", d)
        check_non_negative("padding", p)
        check_non_negative("output_padding", op)
        for opi, si, di in zip(op, s, d):
            # PyTorch allows output_padding < max(stride, dilation), not just < stride.
            if opi >= max(si, di):
                raise LayerError(
                    f"output_padding {fmt_tuple(op)} must be smaller than either stride "
                    f"{fmt_tuple(s)} or dilation {fmt_tuple(d)}"
                )
        if cin == 0:
            # Its weight is in_channels × out_channels/groups × k: empty, which PyTorch refuses.
            raise LayerError(
                f"transposed convolution got an input without channels ({fmt_shape(shape)}): "
                "PyTorch refuses its empty weight"
            )
        check_empty(f"convtranspose{n}d", shape)
        spatial = shape[1:]
        out = []
        for i, size in enumerate(spatial):
            assert size is not None
            o = transposed_size(size, k[i], s[i], p[i], d[i], op[i])
            # PyTorch's reference kernel rejects an empty output; its oneDNN path returns
            # an empty tensor for some configurations (batch, kernel size, groups decide
            # which path runs). convcalc follows the reference kernel: an empty output
            # is never what the user meant.
            if o < 1:
                raise LayerError(
                    f"output size {o} is too small: ({size}−1)·{s[i]} − 2·{p[i]} + "
                    f"{d[i]}·({k[i]}−1) + {op[i]} + 1"
                    + dim_suffix(n, i, len(set(zip(spatial, s, p, d, k, op))) > 1)
                )
            out.append(o)
        params, macs = conv_figures(cin, cout, g, k, spatial, self.bias, transposed=True)
        # A transposed conv's receptive field is not uniform across outputs.
        return Out(f"convtranspose{n}d", (cout, *out), params=params, macs=macs, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """(L−1)·s − 2p + d·(k−1) + op + 1 per spatial dimension; where op goes."""
        from convcalc.kinds.explaining import Step, per_dim, sides, torch_sizes

        n = len(row.input) - 1
        k = per_dim(self.kernel_size, n)
        s = per_dim(self.stride, n)
        p = per_dim(self.padding, n)
        d = per_dim(self.dilation, n)
        op = per_dim(self.output_padding, n)
        steps = []
        for i, name, size, out in torch_sizes(row):
            expr = f"({size}−1)·{s[i]} − 2·{p[i]} + {d[i]}·({k[i]}−1) + {op[i]} + 1"
            note = f"output_padding adds {op[i]} at the {sides(name)[1]}" if op[i] else ""
            steps.append(Step(row.index, name, expr, out, note))
        return steps

    EXAMPLE = "16 k=2 s=2"

    # -- lint (convcalc.ask.lint)
    UPSAMPLES = True

    def grows_maps(self) -> bool:
        return True

    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding", "dilation", "output_padding")},
        {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0},
        channels="out_channels",
        dilation_for_op=True,
    )

    def solve_size(self, probe: Probe) -> int | None:
        k, s, p, d, op = probe.values
        if isinstance(p, str) or op >= max(s, d):
            return None
        out = transposed_size(probe.size, k, s, p, d, op)
        return out if out >= 1 else None
