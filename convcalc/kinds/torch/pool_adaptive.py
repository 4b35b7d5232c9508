"""Adaptive pooling, and the global pools (gap, gmp): the output size is given
(docs/arithmetic.md#pooling)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import OPT_INTS, Param
from convcalc.kinds.layer import Out, Signature, SpatialLayer
from convcalc.kinds.shapes import Shape, expand, fmt_shape, fmt_tuple
from convcalc.kinds.torch.pool import ONE_OUTPUT, layout
from convcalc.kinds.torch.registry import register
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"


@register
class AdaptivePool(SpatialLayer):
    """AdaptiveAvg/MaxPool1d/2d/3d: the output size is given."""

    NAMES = {
        **{
            f"adaptive{op}pool{n}d": {"dim": n, "op": op}
            for op in ("avg", "max")
            for n in (1, 2, 3)
        },
        **{
            f"adaptive_{op}_pool{n}d": {"dim": n, "op": op}
            for op in ("avg", "max")
            for n in (1, 2, 3)
        },
        "adaptiveavgpool": {"dim": None, "op": "avg"},
        "adaptivemaxpool": {"dim": None, "op": "max"},
    }
    TORCH = {
        **{
            f"AdaptiveAvgPool{n}d": Signature(("output_size",), required=1, whole=("output_size",))
            for n in (1, 2, 3)
        },
        **{
            f"AdaptiveMaxPool{n}d": Signature(
                ("output_size", "return_indices"),
                required=1,
                only=ONE_OUTPUT,
                whole=("output_size",),
            )
            for n in (1, 2, 3)
        },
    }
    PARAMS = (Param("output_size", OPT_INTS, positional=True, required=True, per_dim=True),)
    SUMMARY = "adaptive pooling"

    dim: int | None
    op: str
    output_size: tuple[int | None, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        kind = f"adaptive{self.op}pool"
        mean = self._mean(shape)
        if mean is not None:
            return mean
        n, lead, spatial = layout(kind, self.dim, shape)
        if self.output_size == (None,):
            # nn.AdaptiveAvgPool2d(None) fails (len(None)); 1-d pools take no None at all.
            raise LayerError(
                "a lone None is not an output size in PyTorch: write one per dimension "
                "(None,None keeps both sizes of a 2-d input)"
                if n > 1
                else "1-d adaptive pooling takes no None in PyTorch; give the output size"
            )
        size = expand("output_size", self.output_size, n)
        if any(o is not None and o < 0 for o in size):
            raise LayerError(f"output_size must not be negative, got {fmt_tuple(size)}")
        out = [L if o is None else o for o, L in zip(size, spatial)]
        # Empty inputs: average pooling to all-ones sizes takes a shortcut (a mean) that
        # checks nothing; otherwise 1-d and 2-d average pooling check the spatial dims,
        # max pooling and 3-d average pooling every dimension but the batch.
        if self.op == "max" or any(o != 1 for o in out):
            checked = (*lead, *spatial) if self.op == "max" or n == 3 else spatial
            if 0 in checked:
                raise LayerError(
                    f"{kind}{n}d needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                    "accepts an empty batch only"
                    + (" or no channels" if checked is spatial and lead else "")
                )
        # Uniform windows (and so a receptive-field step) only when each size divides.
        rf: tuple[tuple[int, int, int], ...] | None = None
        if lead and all(o and L and L % o == 0 for o, L in zip(out, spatial)):  # type: ignore[operator]
            rf = tuple((L // o, L // o, 0) for o, L in zip(out, spatial))  # type: ignore[operator]
        return Out(f"{kind}{n}d", (*lead, *out), rf=rf)

    def _mean(self, shape: Shape) -> Out | None:
        """2-d and 3-d average pooling to all-ones sizes takes a shortcut, a mean over the
        last 2 or 3 dimensions, before it checks the input's rank: more leading dimensions
        pass (AdaptiveAvgPool2d(1) on C×D×H×W gives C×D×1×1)."""
        d = self.dim
        if self.op != "avg" or d not in (2, 3) or len(shape) <= d + 1:
            return None
        size = self.output_size * d if len(self.output_size) == 1 else self.output_size
        last = shape[-d:]
        if len(size) != d or any((L if o is None else o) != 1 for o, L in zip(size, last)):
            return None
        return Out(f"adaptiveavgpool{d}d", (*shape[:-d], *(1,) * d), rf=None)

    EXAMPLE = "7"

    def explain(self, row: Row) -> list[Step]:
        """The sizes are given; the notes say which windows give them."""
        from convcalc.kinds.explaining import Step, one_window, torch_sizes

        steps = []
        for _, name, size, out in torch_sizes(row):
            if out == 1:
                steps.append(one_window(row.index, name, size))
                continue
            if out == 0:
                note = "an empty output"
            elif size % out == 0:
                w = size // out
                note = f"{out} windows of {size}/{out} = {w}, stride {w}"
            else:
                starts = [i * size // out for i in range(out)]
                ends = [-(-(j + 1) * size // out) for j in range(out)]
                widths = [e - b for b, e in zip(starts, ends)]
                shown = " ".join(f"[{b},{e})" for b, e in list(zip(starts, ends))[:4])
                more = " …" if out > 4 else ""
                note = (
                    f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉): {shown}{more}, "
                    f"{min(widths)}–{max(widths)} wide"
                    if min(widths) != max(widths)
                    else f"{out} windows [⌊i·{size}/{out}⌋, ⌈(i+1)·{size}/{out}⌉), {widths[0]} "
                    f"wide, overlapping: {shown}{more}"
                )
            steps.append(Step(row.index, name, str(out), out, note))
        return steps

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    RANK_FROM_INPUT = True
    SIZE_IS_GIVEN = True

    SOLVE = Solve(output_size="output_size")


register(
    AdaptivePool,
    names={
        "gap": {"dim": None, "op": "avg", "output_size": (1,)},
        "globalavgpool": {"dim": None, "op": "avg", "output_size": (1,)},
        "gmp": {"dim": None, "op": "max", "output_size": (1,)},
        "globalmaxpool": {"dim": None, "op": "max", "output_size": (1,)},
    },
    params=(),
)
