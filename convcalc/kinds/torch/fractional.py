"""Fractional max pooling: nn.FractionalMaxPool2d and nn.FractionalMaxPool3d (Graham,
"Fractional Max-Pooling", 2014). The output size is given, or ``int(L × output_ratio)``;
the windows step pseudo-randomly between them, so they have no uniform stride and the
receptive field is not tracked past the layer (docs/arithmetic.md#pooling).

PyTorch's rules, read off torch 2.13 (torch/nn/modules/pooling.py,
torch/nn/functional.py and aten's FractionalMaxPool2d.cpp / 3d.cpp):

- the constructor wants exactly one of output_size and output_ratio, each ratio in
  (0, 1) exclusive; the 3-d class also wants every kernel_size above 0 (the 2-d one
  takes any kernel_size, even 0 or a negative one, as long as the output fits);
- the input is C×H×W or N×C×H×W (3-d: C×D×H×W or N×C×D×H×W) with no empty dimension
  but the batch;
- a ratio gives ``int(L × ratio)`` in float64 (100 × 0.29 → 28), which may be 0; a 0
  output is accepted, a negative output_size is not;
- along each spatial dimension the windows must fit: ``output + kernel_size − 1 ≤ L``
  in 2-d, and strictly ``< L`` in 3-d (aten's 3-d check is stricter by one: a 3-d
  output of 4 with kernel 2 needs 6 input positions, not 5).

No parameters, no buffers (the ``_random_samples`` buffer is None), and no work that
torch's FlopCounterMode counts: 0 MACs.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from convcalc.errors import LayerError, SpecError
from convcalc.kinds.args import FLOATS, INTS, ArgType, Param
from convcalc.kinds.layer import Out, Signature, SpatialLayer
from convcalc.kinds.shapes import (
    SPATIAL_NAMES,
    Shape,
    check_nonempty,
    expand,
    fmt_tuple,
    spatial_dims,
)
from convcalc.kinds.torch.registry import register

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step
    from convcalc.language import Value

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"

# What PyTorch's messages call each spatial dimension ("pool height 3 too large…").
_DIM_WORDS = {2: ("height", "width"), 3: ("time", "height", "width")}


class _NoSamples(ArgType):
    """``_random_samples``: PyTorch's tensor of window offsets, which changes the
    values and never the shape. A spec has no tensors: only None is read."""

    name = "None"

    def convert(self, value: Value, source: str) -> Any:
        raise SpecError(
            "a tensor of window offsets, which a spec cannot hold; convcalc reads only "
            "None (the offsets change the values, never the shape)",
            source=source,
            start=value.start,
            end=value.end,
        )


def _signature() -> Signature:
    return Signature(
        ("kernel_size", "output_size", "output_ratio", "return_indices", "_random_samples"),
        required=1,
        only={
            "return_indices": (
                False,
                "return_indices=True makes it return (output, indices); convcalc follows "
                "one tensor",
            )
        },
        extra={"_random_samples": _NoSamples()},
        # nn.FractionalMaxPool2d((3,), …) fails: an int or one value per dimension.
        whole=("kernel_size", "output_size", "output_ratio"),
    )


@register
class FractionalMaxPool(SpatialLayer):
    """FractionalMaxPool2d/3d: out = output_size, or int(L × output_ratio); the
    windows must fit (out + k − 1 ≤ L in 2-d, < L in 3-d)."""

    NAMES = {
        "fractionalmaxpool2d": {"dim": 2},
        "fractionalmaxpool3d": {"dim": 3},
        "fractionalmaxpool": {"dim": None},
        "fractional_max_pool2d": {"dim": 2},
        "fractional_max_pool3d": {"dim": 3},
    }
    TORCH = {f"FractionalMaxPool{n}d": _signature() for n in (2, 3)}
    PARAMS = (
        Param("kernel_size", INTS, aliases=("k",), positional=True, required=True, per_dim=True),
        Param("output_size", INTS, None, aliases=("size",), per_dim=True),
        Param(
            "output_ratio",
            FLOATS,
            None,
            aliases=("ratio",),
            per_dim=True,
            help="in (0, 1): out = int(L × ratio)",
        ),
    )
    SUMMARY = "fractional max pooling"
    NOTE = (
        "its windows step pseudo-randomly (a new draw at every call), so the "
        "receptive field is not tracked past it"
    )

    dim: int | None
    kernel_size: tuple[int, ...]
    output_size: tuple[int, ...] | None
    output_ratio: tuple[float, ...] | None

    def _layout(self, shape: Shape) -> tuple[int, Shape, Shape]:
        """(n, lead, spatial): C×spatial, or — for a kind whose name fixes n, given an
        n-dim shape — PyTorch's unbatched input, pooled whole (the batch stands for the
        channels)."""
        if self.dim is not None and len(shape) == self.dim:
            return self.dim, (), shape
        n = spatial_dims("fractionalmaxpool", self.dim, shape, lo=2, hi=3)
        return n, shape[:1], shape[1:]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        size, ratio = self.output_size, self.output_ratio
        if size is None and ratio is None:
            raise LayerError("give output_size= or output_ratio=: PyTorch needs one of them")
        if size is not None and ratio is not None:
            raise LayerError("give only one of output_size= and output_ratio=")
        n, lead, spatial = self._layout(shape)
        kind = f"fractionalmaxpool{n}d"
        k = expand("kernel_size", self.kernel_size, n)
        if n == 3 and any(ki <= 0 for ki in k):
            # nn.FractionalMaxPool3d checks it; the 2-d class takes any kernel that fits.
            raise LayerError(f"kernel_size must be positive, got {fmt_tuple(k)}")
        if ratio is not None:
            r = expand("output_ratio", ratio, n)
            if not all(0 < ri < 1 for ri in r):
                raise LayerError(
                    f"output_ratio must be between 0 and 1 (both excluded), got {fmt_tuple(r)}"
                )
            # Python's int() of the float64 product: 100 × 0.29 = 28.999… → 28.
            out = tuple(int(L * ri) for L, ri in zip(spatial, r))  # type: ignore[operator]
        else:
            assert size is not None
            out = expand("output_size", size, n)
        check_nonempty(kind, (*lead, *spatial))
        words = _DIM_WORDS[n]
        for i, (o, ki, L) in enumerate(zip(out, k, spatial)):
            assert L is not None
            # PyTorch's 3-d check is strict (aten's FractionalMaxPool3d.cpp), its 2-d not.
            if o + ki - 1 > L or (n == 3 and o + ki - 1 == L):
                need = f"< {L}" if n == 3 else f"≤ {L}"
                raise LayerError(
                    f"kernel_size {ki} is too large for output size {o} along the input's "
                    f"{words[i]} {L}: PyTorch needs {o} + {ki} − 1 = {o + ki - 1} {need}"
                )
        if any(o < 0 for o in out):
            raise LayerError(f"output_size must not be negative, got {fmt_tuple(out)}")
        return Out(kind, (*lead, *out), rf=None)

    EXAMPLE = "3 ratio=0.5"
    # A ratio or a size left out is not written (PyTorch wants exactly one).
    TORCH_LEFT_OUT = MappingProxyType({"output_size": None, "output_ratio": None})

    def explain(self, row: Row) -> list[Step]:
        """The size given, or ⌊L × ratio⌋ (Python's int() of the float64 product)."""
        from convcalc.kinds.explaining import Step

        shape = row.input
        first = 0 if self.dim is not None and len(shape) == self.dim else 1
        spatial, out = shape[first:], row.output[first:]
        if None in spatial or None in out:
            return []
        n = len(spatial)
        names = SPATIAL_NAMES.get(n, ())
        if len(names) != n:
            return []
        ratio = None if self.output_ratio is None else expand("output_ratio", self.output_ratio, n)
        steps = []
        for i in range(n):
            L, o = spatial[i], out[i]
            assert L is not None and o is not None
            k = self.kernel_size[0] if len(self.kernel_size) == 1 else self.kernel_size[i]
            fits = f"{o} windows of {k}, at pseudo-random steps"
            if ratio is None:
                steps.append(Step(row.index, names[i], str(o), o, f"output_size; {fits}"))
                continue
            product = float(L) * ratio[i]
            note = "" if product.is_integer() else f"the float64 product is {product!r}; "
            steps.append(Step(row.index, names[i], f"⌊{L} × {ratio[i]!r}⌋", o, f"{note}{fits}"))
        return steps

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    SIZE_IS_GIVEN = True

    # No SOLVE: the solver writes a solved output_size as the layer's first value
    # (adaptive pooling's), which here is kernel_size, and would add it beside a
    # written output_ratio; `solve` says it has nothing to search.
