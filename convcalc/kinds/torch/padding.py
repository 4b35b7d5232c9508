"""Padding: F.pad and the nn padding classes (ZeroPad, ConstantPad, ReflectionPad,
ReplicationPad, CircularPad), with the limits PyTorch puts on reflect, replicate and
circular pads (docs/arithmetic.md#other-layers)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import FLOAT, INTS, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import (
    Shape,
    check_float32,
    fmt_shape,
)
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Resampling, reshaping and linear"


_PADS = Param("pad", INTS, positional=True, required=True, aliases=("padding", "p"))
_NON_CONSTANT_RANKS = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


# -o torch: F.pad as a module, for pads no nn class takes.
_PAD_CODE = '''
class Pad(nn.Module):
    """torch.nn.functional.pad with its pads, mode and value."""

    def __init__(self, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> None:
        super().__init__()
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            return nn.functional.pad(x, self.pad, mode="constant", value=self.value)
        return nn.functional.pad(x, self.pad, mode=self.mode)
'''


@register
class Pad(Layer):
    """F.pad: one int pads every spatial dim on both sides; a tuple is PyTorch's
    (left, right, top, bottom, …) from the last dimension backwards."""

    NAMES = {"pad": {"dims": None}, "zeropad": {"dims": None}}
    PARAMS = (
        _PADS,
        Param(
            "mode",
            Choice("constant", "reflect", "replicate", "circular", aliases={"zeros": "constant"}),
            "constant",
        ),
        Param("value", FLOAT, None),
    )
    SUMMARY = "padding"

    pad: tuple[int, ...]
    mode: str
    value: float | None
    dims: int | None  # ZeroPad2d & co: the dimensions one number pads (None: every spatial one)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n = len(shape) - 1
        if self.dims is not None and len(self.pad) == 1:
            pads = self.pad * (2 * self.dims)
        elif len(self.pad) == 1:
            if n == 0:
                raise LayerError(
                    f"one number pads every spatial dimension, but {fmt_shape(shape)} has none"
                )
            pads = self.pad * (2 * n)
        else:
            pads = self.pad
        if len(pads) % 2:
            raise LayerError(f"the padding needs pairs of values, got {len(pads)}")
        ndims = len(pads) // 2
        brank = len(shape) + 1
        if (
            self.mode == "circular"
            and self.dims is not None
            and brank - 1
            not in (
                self.dims,
                self.dims + 1,
            )
        ):
            # CircularPad{n}d checks its input's rank itself (the others leave it to F.pad).
            d = self.dims
            raise LayerError(
                f"CircularPad{d}d expects a {d + 1}-d or {d + 2}-d input (batch included), "
                f"got {fmt_shape(shape)} ({brank}-d with the batch)"
            )
        if ndims > brank:
            raise LayerError(
                f"{len(pads)} pads would pad {ndims} dimensions but {fmt_shape(shape)} has "
                f"{len(shape)}, {brank} with the batch"
            )
        mode = self.mode
        if mode == "constant":
            if self.value is not None and any(v > 0 for v in pads):
                # (without a positive pad PyTorch only crops: the value is never used)
                check_float32("value", self.value)
        else:
            if self.value:  # None or 0 pass: PyTorch only refuses a non-zero value
                raise LayerError(f"padding mode {mode!r} takes no value= (other than 0)")
            if brank not in _NON_CONSTANT_RANKS.get(len(pads), ()):
                raise LayerError(
                    f"mode={mode!r} pads 1, 2 or 3 trailing dimensions of a (batched) 2-d to "
                    f"5-d input; {len(pads)} pads do not fit {fmt_shape(shape)}"
                )
        if ndims == brank:
            # The last pair pads the batch (only mode='constant' reaches it): a pair
            # summing to 0 keeps its size, anything else changes it.
            left, right = pads[-2:]
            if left + right != 0:
                raise LayerError(
                    f"{len(pads)} pads would pad {ndims} dimensions but {fmt_shape(shape)} has "
                    f"{len(shape)} (the batch dimension is never padded)"
                )
            if batch + min(left, 0) + min(right, 0) < 0:
                raise LayerError(f"pads ({left}, {right}) crop more than the batch size {batch}")
        out = list(shape)
        for i in range(min(ndims, len(shape))):
            left, right = pads[2 * i], pads[2 * i + 1]
            axis = len(shape) - 1 - i
            size = out[axis]
            if size is None:
                continue
            if mode == "constant":
                # Negative pads crop; they are applied before the positive ones.
                if size + min(left, 0) + min(right, 0) < 0:
                    raise LayerError(f"pads ({left}, {right}) crop more than the size {size}")
            elif mode == "reflect" and (left >= size or right >= size):
                raise LayerError(
                    f"reflect padding must be smaller than the input: pads ({left}, {right}) "
                    f"on size {size}"
                )
            new = size + left + right
            if new < 0:
                raise LayerError(f"pads ({left}, {right}) leave {new} of size {size}")
            out[axis] = new
        if mode in ("reflect", "replicate"):
            _check_reflect_replicate(mode, shape, out, ndims)
        elif mode == "circular":
            _check_circular((batch, *shape), pads)
        rf = None
        if ndims <= n:
            lefts = [0] * n
            for i in range(ndims):
                lefts[n - 1 - i] = pads[2 * i]
            rf = tuple((1, 1, p) for p in lefts)
        return Out("pad", tuple(out), rf=rf)

    EXAMPLE = "1"
    TORCH_HELPER = _PAD_CODE

    @classmethod
    def catalog_example(cls, word: str) -> tuple[str, str | None]:
        # ConstantPad's words take a value too.
        return ("1 0.5", None) if word.startswith("constantpad") else super().catalog_example(word)

    def torch_module(self, kind: str, shape: Shape) -> TorchCode:
        # nn's ConstantPad1d … CircularPad3d where one fits, else our Pad (F.pad).
        from convcalc.kinds.code import TorchCode, py

        pad = tuple(self.pad)
        if len(pad) == 1:
            pad = pad * (2 * (self.dims if self.dims is not None else len(shape) - 1))
        pairs = len(pad) // 2
        mode = self.mode
        value = 0.0 if self.value is None else float(self.value)
        if mode == "constant" and 1 <= pairs <= 3:
            return TorchCode(f"nn.ConstantPad{pairs}d(padding={py(pad)}, value={py(value)})")
        if mode in _PAD_CLASS and 1 <= pairs <= 3:
            return TorchCode(f"nn.{_PAD_CLASS[mode]}{pairs}d(padding={py(pad)})")
        args = f"pad={py(pad)}, mode={py(mode)}" + (
            f", value={py(value)}" if mode == "constant" else ""
        )
        return TorchCode(f"Pad({args})", self.TORCH_HELPER)

    def explain(self, row: Row) -> list[Step]:
        """L + left + right per padded dimension (a negative pad crops)."""
        from convcalc.kinds.explaining import Step, dim_names, known, minus, sides, signed

        shape = row.input
        if not known(shape):
            return []
        n = len(shape) - 1
        names = dim_names(shape)
        # ZeroPad2d(1) & co pad the dimensions their name says; pad 1 every spatial one
        pads = self.pad * (2 * (self.dims or n)) if len(self.pad) == 1 else self.pad
        steps = []
        for j in range(len(pads) // 2):
            axis = len(shape) - 1 - j
            if axis < 0:  # a pair on the batch (PyTorch accepts one that sums to 0)
                break
            size = shape[axis]
            if size is None:
                continue
            left, right = pads[2 * j], pads[2 * j + 1]
            lo, hi = sides(names[axis])
            note = f"{minus(left)} {lo}, {minus(right)} {hi}"
            if min(left, right) < 0:
                note += " (a negative pad crops)"
            steps.append(
                Step(
                    row.index,
                    names[axis],
                    f"{size}{signed(left)}{signed(right)}",
                    row.output[axis],
                    note,
                )
            )
        steps.sort(key=lambda st: names.index(st.dim))
        return steps

    # -- lint (convcalc.ask.lint)
    RESIZES_MAP = True


_PAD_CLASSES = {
    "ZeroPad": ("zeropad", "constant"),
    "ConstantPad": ("constantpad", "constant"),
    "ReflectionPad": ("reflectionpad", "reflect"),
    "ReplicationPad": ("replicationpad", "replicate"),
    "CircularPad": ("circularpad", "circular"),
}
for _class, (_word, _mode) in _PAD_CLASSES.items():
    _constant = _class == "ConstantPad"
    for _n in (1, 2, 3):
        register(
            Pad,
            names={
                f"{_word}{_n}d": {"mode": _mode, "dims": _n}
                | ({} if _constant else {"value": None})
            },
            params=(_PADS, Param("value", FLOAT, positional=True, required=True))
            if _constant
            else (_PADS,),
            torch={
                f"{_class}{_n}d": Signature(
                    ("padding", "value") if _constant else ("padding",),
                    required=2 if _constant else 1,
                    renames={"padding": "pad"},
                )
            },
        )

# nn's padding classes other than ConstantPad, by mode (-o torch).
_PAD_CLASS = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}


def _check_reflect_replicate(mode: str, shape: Shape, out: list[int | None], ndims: int) -> None:
    """PyTorch's reflection and replication kernels take an empty batch only, and need at
    least one padded dimension of the output to be non-empty."""
    if 0 in shape:
        raise LayerError(
            f"{mode} padding needs a non-empty input, got {fmt_shape(shape)}: PyTorch accepts "
            "an empty batch only"
        )
    padded = out[len(out) - ndims :]
    if all(v is not None and v < 1 for v in padded):
        raise LayerError(
            f"the input {fmt_shape(shape)} is too small for these pads: every padded "
            f"dimension of the output would be empty ({fmt_shape(padded)})"
        )


def _slice(size: int, start: int, end: int) -> tuple[int, int]:
    """(start, length) of the slice ``[start:end]`` of a dimension of ``size``: ATen's
    slice wraps and clamps its bounds as Python does."""
    r = range(size)[start:end]
    return (r.start, len(r)) if len(r) else (0, 0)


def _check_circular(full: tuple[int | None, ...], pads: tuple[int, ...]) -> None:
    """PyTorch's circular padding (aten's _pad_circular_symint) with the batch in ``full``.

    It allocates the output, copies the uncropped input into it, then copies the
    wrapped edges from within the output. Besides the wrap-once limit, a copy fails when
    its two slices differ in length (a negative pad crops more than the size, so the
    slice bounds wrap), unless the source has length 1 (it broadcasts); and a copy within
    the output fails when its two regions partly overlap in memory, which PyTorch can only
    detect — and then refuses — when every dimension before the padded one has size 1
    (the batch included)."""
    k = len(pads) // 2
    kept = len(full) - k
    sizes = list(full)
    for i in range(k):
        left, right = pads[2 * (k - i - 1)], pads[2 * (k - i - 1) + 1]
        size = full[kept + i]
        if size is None:
            continue
        if left > size or right > size:
            raise LayerError(
                f"circular padding cannot wrap around more than once: pads ({left}, {right}) "
                f"on size {size}"
            )
        sizes[kept + i] = size + left + right
    out = [v for v in sizes if v is not None]
    if len(out) != len(sizes):
        return  # an unknown size: nothing more to check
    for i in range(k):
        dim = kept + k - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        size, new = full[dim], out[dim]
        assert size is not None
        src = _slice(size, max(-left, 0), size - max(-right, 0))[1]
        dst = _slice(new, max(left, 0), new - max(right, 0))[1]
        if src not in (dst, 1):
            raise LayerError(
                f"PyTorch's circular padding fails on pads ({left}, {right}) for size {size}: a "
                "negative pad crops more than the size the other pad wraps"
            )
    for i in range(k):
        dim = kept + k - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        new = out[dim]
        inner = math.prod(out[dim + 1 :]) * math.prod(out[:dim])  # 0 when the output is empty
        dense = all(v < 2 for v in out[:dim])
        copies = []
        if left > 0:
            copies.append(
                (_slice(new, 0, left), _slice(new, new - left - max(right, 0), new - max(right, 0)))
            )
        if right > 0:
            copies.append(
                (_slice(new, new - right, new), _slice(new, max(left, 0), max(left, 0) + right))
            )
        for (dst_start, dst_len), (src_start, src_len) in copies:
            if src_len not in (dst_len, 1):
                raise LayerError(
                    f"PyTorch's circular padding fails on pads ({left}, {right}) for output size "
                    f"{new}: the wrapped part does not fit"
                )
            if not inner or not dst_len or not src_len:  # nothing to copy
                continue
            # Overlap is only detected between dense slices: a slice is dense when it
            # spans the whole dimension or every dimension before it has size 1.
            if not (dense or (dst_len == new and src_len == new)):
                continue
            step = math.prod(out[dim + 1 :])
            a = (dst_start * step, (dst_start + dst_len) * step)
            b = (src_start * step, (src_start + src_len) * step)
            if a != b and a[0] < b[1] and b[0] < a[1]:
                raise LayerError(
                    f"PyTorch refuses circular pads ({left}, {right}) here: the wrapped part "
                    "would be copied onto itself (with a batch of 1 and single-size leading "
                    "dimensions it detects the overlap)"
                )
