"""How a designer ranks the answers: which windows read their whole input, which
pad the way networks are written, which are the well-known ones.

Every answer reaches the target; what orders them is how a person designing a
network would choose among them. For each windowed layer solved (a convolution,
a pool, a transposed convolution or unpool, in any framework: the keys are mapped
to PyTorch's names by the kind's ``SOLVE`` record), a :class:`Look` says, worst
first:

1. ``gaps`` — the windows leave pixels between them that none touches: a stride
   longer than the kernel's taps reach (``k=1 s=4`` reads one pixel in sixteen;
   with a dilation, taps that only ever land on some residues of the stride).
   For a transposed convolution or unpool, output pixels that no input writes.
2. ``dilated`` — a dilation above 1 that was not asked for (the key left to the
   solver without ``d=?``). Written ``d=?``, or fixed above 1, it is asked.
3. ``drops`` — the last input rows or columns are read by no window (the floor of
   the size formula drops them: what ``convcalc``'s floor-drop warning reports).
4. not ``standard`` — the window is none of the well-known ones of its family
   (:data:`STANDARD`: the 3×3 stride-2 conv, ResNet's 7×7 stem and 3×3 max pool,
   the patchify 4×4/4, the 2×2 pool, DCGAN's 4×4/2 transposed conv, …); among
   the well-known, the one listed first.
5. ``centred`` — 0: the padding centres the window, ``"same"``-like (p = d·(k−1)/2
   with an odd extent, or a ``same`` word with one) or the windows tile the input
   (k = s, p = 0); 1: as near as an even extent allows (p = ⌊d·(k−1)/2⌋, uneven pads
   adding up to d·(k−1), a ``same`` word); 2: anything else. A transposed layer is
   centred when it multiplies the size by exactly its stride (2p = d·(k−1) + 1 + op
   − s).

An answer's key sums these over its layers (``rank``) and then falls back on the
simplicity order (keys at their defaults, then the smallest values). An answer
``skips_input`` when one of its forward windows has gaps or drops the last rows:
the answers list marks it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from convcalc._records import NamedTuple
from convcalc.ask.solve.kinds import Kind
from convcalc.kinds.windows import dilated

# The well-known windows of each family, most common first, as (k, s, p, op) with
# d = 1 and every spatial dimension alike.
STANDARD: dict[str, tuple[tuple[int, int, int, int], ...]] = {
    "conv": (
        (3, 2, 1, 0),  # the strided 3×3 (VGG-style downsampling, MobileNet's stem)
        (7, 2, 3, 0),  # ResNet's stem
        (4, 4, 0, 0),  # patchify stem (ConvNeXt, Swin)
        (2, 2, 0, 0),  # ConvNeXt's downsampling between stages
        (3, 1, 1, 0),  # the 3×3 that keeps the size
        (1, 1, 0, 0),  # pointwise
    ),
    "pool": (
        (3, 2, 1, 0),  # ResNet's max pool
        (2, 2, 0, 0),  # VGG's and U-Net's
        (3, 1, 1, 0),  # Inception's pooling branch
    ),
    "transposed": (
        (4, 2, 1, 0),  # DCGAN's and pix2pix's ×2
        (2, 2, 0, 0),  # U-Net's up-convolution; unpooling a 2×2 pool
        (3, 2, 1, 1),  # ×2 with an odd kernel
    ),
}


class Look(NamedTuple):
    """One windowed layer of an answer as a designer sees it (module docstring)."""

    gaps: bool = False
    dilated: bool = False
    drops: bool = False
    standard: int | None = None  # its place in STANDARD; None: none of them
    centred: int = 0
    forward: bool = True  # it reads windows of its input (not transposed)

    @property
    def skips(self) -> bool:
        """Whether some input pixels are read by no window (the answers' mark)."""
        return self.forward and (self.gaps or self.drops)


def family(kind: Kind) -> str:
    """``transposed`` (the windows are in the output: a transposed convolution, an
    unpool), ``conv`` (it sets the output channels) or ``pool``."""
    if "output_padding" in kind.attrs or kind.cls.UPSAMPLES:
        return "transposed"
    return "conv" if kind.channels is not None else "pool"


def look(
    kind: Kind,
    windows: Sequence[Sequence[Any]],
    sizes: Sequence[int | None],
    outs: Sequence[int | None],
    asked_dilation: bool,
) -> Look:
    """The look of a layer whose per-dimension searched keys are ``windows`` (one
    (k, s, p, d, op) per spatial dimension, as the solver holds them: p a number, a
    word or ONNX's (begin, end) pair; op None where left out), on inputs ``sizes``
    giving ``outs`` (None: not known)."""
    fam = family(kind)
    forward = fam != "transposed"
    gaps = drops = dilation = False
    worst = 0
    shapes: set[tuple[int, int, int, int] | None] = set()
    for window, size, out in zip(windows, sizes, outs):
        one = _dim(forward, *window, size, out)
        gaps |= one[0]
        dilation |= one[1] and not asked_dilation
        drops |= one[2]
        worst = max(worst, one[3])
        shapes.add(one[4])
    standard = None
    if len(shapes) == 1:
        (alike,) = shapes
        table = STANDARD[fam]
        if alike in table:
            standard = table.index(alike)
    return Look(gaps, dilation, drops, standard, worst, forward)


@functools.lru_cache(maxsize=4096)
def _dim(
    forward: bool, k: int, s: int, p: Any, d: Any, op: Any, size: int | None, out: int | None
) -> tuple[bool, bool, bool, int, tuple[int, int, int, int] | None]:
    """One dimension's (gaps, dilated, drops, centred, the window as STANDARD
    writes it or None)."""
    d = d if isinstance(d, int) else 1
    op = op if isinstance(op, int) else 0
    gaps = s > 1 and len({j * d % s for j in range(k)}) < s
    left = _left(p, k, s, d, forward)
    drops = (
        forward
        and not gaps
        and left is not None
        and size is not None
        and out is not None
        and _drops(size, out, k, s, left, d)
    )
    window = None if d != 1 or left is None or not _even(p) else (k, s, left, op)
    return gaps, d > 1, drops, _centred(p, k, s, d, op, forward), window


def rank(looks: Iterable[Look]) -> tuple[int, ...]:
    """The designer's part of an answer's key: each criterion summed over its
    layers, in the module docstring's order (smaller is better)."""
    gaps = dilation = drops = odd = places = centred = 0
    for one in looks:
        gaps += one.gaps
        dilation += one.dilated
        drops += one.drops
        odd += one.standard is None
        places += one.standard or 0
        centred += one.centred
    return (gaps, dilation, drops, odd, places, centred)


def _even(p: Any) -> bool:
    """Whether a padding puts as much before the window as after it."""
    if isinstance(p, tuple):
        return p[0] == p[1]
    return True


def _left(p: Any, k: int, s: int, d: int, forward: bool) -> int | None:
    """The padding before the first window, as a number (None: a word that pads as
    much as the size needs, 'same' or 'causal': every input is read)."""
    if isinstance(p, tuple):
        return int(p[0])
    if isinstance(p, int):
        return p
    word = str(p).lower()
    if word == "valid":
        return 0
    if word.startswith("same") and not forward:
        return max(0, dilated(k, d) - s) // 2  # what the word means for ×s
    if word.startswith("same"):
        return (dilated(k, d) - 1) // 2
    return None


def _drops(size: int, out: int, k: int, s: int, left: int, d: int) -> bool:
    """Whether some of ``size`` inputs are read by none of ``out`` windows (the taps
    of a gap-free stride: only the ends can be missed)."""
    if d == 1:
        return (out - 1) * s - left + k - 1 < size - 1
    seen = {i * s - left + j * d for i in range(out) for j in range(k)}
    return any(x not in seen for x in range(size))


def _centred(p: Any, k: int, s: int, d: int, op: int, forward: bool) -> int:
    """0 centred (or tiling), 1 as near as an even extent allows, 2 neither."""
    extent = dilated(k, d) - 1  # the padding a centred window needs in all
    if isinstance(p, str):
        word = p.lower()
        if word.startswith("same"):  # the framework's own centring
            return 0 if extent % 2 == 0 or not forward else 1
        if word != "valid":
            return 2  # causal: all of it before
        p = 0
    if isinstance(p, tuple):
        begin, end = p
        if begin != end:
            return 1 if begin + end == extent else 2
        p = begin
    if not forward:
        return 0 if 2 * p == extent + 1 + op - s else 2
    if 2 * p == extent or (k == s and p == 0 and d == 1):
        return 0
    return 1 if p == extent // 2 else 2


__all__ = ["STANDARD", "Look", "family", "look", "rank"]
