"""Convolutions, and what transposed ones (conv_transpose.py) share with them: the
arguments, the groups and channels checks, the signatures (docs/arithmetic.md#convolution)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INT, INTS, PLACED, PLACEMENT, Param, UnionType
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Out, Signature, SpatialLayer
from convcalc.kinds.registry import by_rank
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
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import (
    Probe,
    Solve,
    conv_figures,
    conv_size,
    dilated,
    same_pads,
)

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, WindowDim

# The section of --list-layers the module's kinds are listed under.
SECTION = "Convolution"

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

OUT_CHANNELS = Param(
    "out_channels", INT, None, positional=True, help="output channels (default: input's)"
)
IN_CHANNELS = Param("in_channels", INT, None, aliases=("in",), help="checked against the input")
KERNEL = Param("kernel_size", INTS, aliases=("k",), required=True, per_dim=True)
STRIDE = Param("stride", INTS, (1,), aliases=("s",), per_dim=True)
DILATION = Param("dilation", INTS, (1,), aliases=("d",), per_dim=True)
GROUPS = Param(
    "groups",
    UnionType(INT, "dw", aliases={"depthwise": "dw"}),
    1,
    aliases=("g",),
    flags={"depthwise": "dw", "dw": "dw"},
)
BIAS = Param("bias", BOOL, True)
PADDING = Param("padding", UnionType(INTS, "same", "valid"), (0,), aliases=("p",), per_dim=True)
OUTPUT_PADDING = Param("output_padding", INTS, (0,), aliases=("op",), per_dim=True)
PADDING_MODE = Param("padding_mode", Choice(*PADDING_MODES), "zeros", aliases=("pm",))


def _groups(groups: int | str, cin: int | None, cout: int | None) -> int | None:
    """Resolve ``g=dw`` and check PyTorch's divisibility rules."""
    g = cin if groups == "dw" else groups
    if g is None:
        return None
    assert isinstance(g, int)
    if g <= 0:
        raise LayerError(f"groups must be a positive integer, got {g}")
    if cin is not None and cin % g:
        raise LayerError(f"in_channels {cin} is not divisible by groups {g}")
    if cout is not None and cout % g:
        raise LayerError(f"out_channels {cout} is not divisible by groups {g}")
    return g


def _check_out_channels(cout: int | None) -> None:
    if cout is not None and cout <= 0:
        raise LayerError(f"out_channels must be positive, got {cout}")


def _in_channels(given: int | None, found: int | None) -> int | None:
    """The input's channel count, checked against in_channels= (which fills it in
    when the input's is unknown)."""
    if given is None:
        return found
    if given < 0:
        raise LayerError(f"in_channels must not be negative, got {given}")
    if found is not None and found != given:
        raise LayerError(f"in_channels={given} but the input has {found} channels")
    return given


def signatures(word: str, middle: tuple[str, ...], **options: Any) -> dict[str, Signature]:
    """PyTorch's {word}1d/2d/3d constructors: the channels, kernel, stride and padding
    first, ``middle`` next, then padding_mode and the device and dtype."""
    args = ("in_channels", "out_channels", "kernel_size", "stride", "padding", *middle)
    return {
        f"{word}{n}d": Signature(
            (*args, "padding_mode", *PLACEMENT),
            required=3,
            extra=PLACED,
            whole=("kernel_size",),
            **options,
        )
        for n in (1, 2, 3)
    }


class Convolution(SpatialLayer):
    """What a convolution and a transposed convolution share beyond their arithmetic:
    their arguments, their constructor's values and their lint traits."""

    dim: int | None
    out_channels: int | None
    in_channels: int | None
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str
    dilation: tuple[int, ...]
    groups: int | str
    bias: bool
    padding_mode: str

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        """in_channels the input's; out_channels and a depthwise groups default to it."""
        values = dict(self.__dict__)
        cin = shape[0]
        values["in_channels"] = cin
        if values["out_channels"] is None:
            values["out_channels"] = cin
        if values["groups"] == "dw":
            values["groups"] = cin
        return values

    def _channels(self, shape: Shape) -> tuple[int | None, int | None, int | None]:
        """(in, out, groups), checked: in_channels the input's, out_channels defaulting
        to it, a depthwise groups resolved."""
        cin = _in_channels(self.in_channels, shape[0])
        cout = cin if self.out_channels is None else self.out_channels
        _check_out_channels(cout)
        return cin, cout, _groups(self.groups, cin, cout)

    # -- lint (convcalc.ask.lint)
    READS_CHANNELS = "first"
    MAKES_MAP = True
    RANK_FROM_INPUT = True


@register
class Conv(Convolution):
    """Conv1d/2d/3d: out = (L + pL + pR − d·(k−1) − 1) // s + 1."""

    NAMES = by_rank("conv")
    TORCH = signatures(
        "Conv",
        ("dilation", "groups", "bias"),
        whole_unless={"padding": ("padding_mode", "zeros")},
    )
    PARAMS = (
        OUT_CHANNELS,
        IN_CHANNELS,
        KERNEL,
        STRIDE,
        PADDING,
        DILATION,
        GROUPS,
        BIAS,
        PADDING_MODE,
    )
    SUMMARY = "convolution"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = spatial_dims("conv", self.dim, shape)
        cin, cout, g = self._channels(shape)
        k = expand("kernel_size", self.kernel_size, n)
        s = expand("stride", self.stride, n)
        d = expand("dilation", self.dilation, n)
        check_positive("kernel_size", k)
        check_positive("stride", s)
        check_positive("dilation", d)
        dk = tuple(dilated(ki, di) for ki, di in zip(k, d))
        if self.padding == "same":
            if any(si != 1 for si in s):
                raise LayerError(
                    f"padding='same' is not supported for strided convolutions (stride "
                    f"{fmt_tuple(s)}); use an explicit padding"
                )
            pads = [same_pads(ki, di) for ki, di in zip(k, d)]
            left = tuple(lft for lft, _ in pads)
            right = tuple(rgt for _, rgt in pads)
        elif self.padding == "valid":
            left = right = (0,) * n
        else:
            left = right = expand("padding", self.padding, n)  # type: ignore[arg-type]
            check_non_negative("padding", left)
        spatial = shape[1:]
        if self.padding_mode != "zeros":
            _check_pad_mode(self.padding_mode, shape, left, right)
        out = []
        for i, (size, lft, rgt, dki) in enumerate(zip(spatial, left, right, dk)):
            assert size is not None
            padded = size + lft + rgt
            if padded < dki:
                differs = len({(a, b, c, e) for a, b, c, e in zip(spatial, left, right, dk)}) > 1
                raise LayerError(
                    _kernel_too_big(dki, k[i], d[i], size, lft, rgt) + dim_suffix(n, i, differs)
                )
            out.append(conv_size(size, k[i], s[i], lft, rgt, d[i]))
        check_empty(f"conv{n}d", shape)
        # PyTorch hands an input without channels to its "empty" backend, which returns
        # as many channels as the input has: none, whatever out_channels says.
        out_shape = (0 if cin == 0 else cout, *out)
        params, macs = conv_figures(cin, cout, g, k, out, self.bias)
        return Out(
            f"conv{n}d",
            out_shape,
            params=params,
            macs=macs,
            rf=tuple(zip(dk, s, left)),
        )

    EXAMPLE = "16 k=3"

    def explain(self, row: Row) -> list[Step]:
        """⌊(L + pads − d·(k−1) − 1) / s⌋ + 1 per spatial dimension; 'same''s split."""
        from convcalc.kinds.explaining import known, torch_windows

        if not known(row.input):
            return []
        return torch_windows(
            row, self.kernel_size, self.stride, self.dilation, self.padding, False, conv=True
        )

    # -- lint (convcalc.ask.lint)
    def windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        from convcalc.kinds.windows import torch_windows

        return torch_windows(shape, out, self.kernel_size, self.stride, self.dilation, self.padding)

    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        return self.windows(shape, out)

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        """More padding (p=), sized by the convolution itself."""
        from convcalc.kinds.windows import FIRST, padding_fix

        if isinstance(self.padding, str):
            return []
        fix = padding_fix(dims, short, lambda pads: self.variant_sizes(shape, FIRST, padding=pads))
        return [] if fix is None else [fix]

    def same_kernels(self, shape: Shape, out: Shape) -> tuple[int, ...] | None:
        dims = self.windows(shape, out) if self.padding == "same" else None
        return None if dims is None else tuple(w.dk for w in dims)

    SOLVE = Solve(
        {k: k for k in ("kernel_size", "stride", "padding", "dilation")},
        {"stride": 1, "padding": 0, "dilation": 1},
        channels="out_channels",
        same=True,
    )

    def solve_size(self, probe: Probe) -> int | None:
        k, s, p, d, _ = probe.values
        size = probe.size
        if isinstance(p, str):  # 'same' / 'valid'
            if p == "same" and s != 1:
                return None
            left, right = same_pads(k, d) if p == "same" else (0, 0)
        else:
            left = right = p
        if self.padding_mode != "zeros" and not _pad_fits(
            self.padding_mode, max(left, right), size
        ):
            return None
        out = conv_size(size, k, s, left, right, d)
        return out if out >= 1 else None  # below 1: the kernel does not fit


# Depthwise spellings: a convolution with groups = in_channels (g=dw), which they fix.
register(
    Conv,
    names={
        f"{name}{suffix}": {"dim": dim, "groups": "dw"}
        for name in ("dwconv", "depthwiseconv")
        for suffix, dim in (("", None), ("1d", 1), ("2d", 2), ("3d", 3))
    },
    params=tuple(p for p in Conv.PARAMS if p.name != "groups"),
    torch={"": Conv.TORCH["Conv2d"]},
)


def _kernel_too_big(dk: int, k: int, d: int, size: int, left: int, right: int) -> str:
    kernel = f"kernel {dk}" if d == 1 else f"dilated kernel {dk} (k={k}, d={d})"
    if left == right == 0:
        return f"{kernel} is larger than the input {size}"
    pad = f"{size} + 2·{left}" if left == right else f"{size} + {left} + {right}"
    return f"{kernel} is larger than the padded input {size + left + right} ({pad})"


def check_empty(kind: str, shape: Shape) -> None:
    """PyTorch's convolutions take an empty input only if the batch or the channels are
    empty (then the output is empty too)."""
    if shape[0] != 0 and 0 in shape[1:]:
        raise LayerError(
            f"{kind} got the empty input {fmt_shape(shape)}: PyTorch only supports inputs "
            "with an empty batch or no channels"
        )


def _check_pad_mode(mode: str, shape: Shape, left: tuple[int, ...], right: tuple[int, ...]) -> None:
    """Non-zeros padding modes run F.pad first, which limits each side's pad (the
    pads are never negative here) and, for reflect and replicate, needs a non-empty
    input."""
    if mode != "circular" and 0 in shape:
        raise LayerError(
            f"padding_mode={mode!r} needs a non-empty input, got {fmt_shape(shape)}: "
            "PyTorch's F.pad accepts an empty batch only"
        )
    for size, lft, rgt in zip(shape[1:], left, right):
        assert size is not None
        for pad in (lft, rgt):
            if _pad_fits(mode, pad, size):
                continue
            if mode == "reflect":
                raise LayerError(
                    f"padding_mode='reflect' needs padding smaller than the input: padding "
                    f"{pad} on an input of size {size}"
                )
            if mode == "circular":
                raise LayerError(
                    f"padding_mode='circular' cannot wrap around more than once: padding "
                    f"{pad} on an input of size {size}"
                )


def _pad_fits(mode: str, pad: int, size: int) -> bool:
    """Whether F.pad takes ``pad`` on one side of ``size`` in ``mode``: reflect needs
    it smaller than the input, circular wraps around at most once."""
    if mode == "reflect":
        return pad < size
    if mode == "circular":
        return pad <= size
    return True
