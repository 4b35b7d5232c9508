"""Keras's reshaping layers: ZeroPadding, Cropping and UpSampling 1D/2D/3D,
Flatten and Reshape, channels last."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.errors import LayerError
from convcalc.kinds.args import INTS, Param
from convcalc.kinds.args import ChoiceType as Choice
from convcalc.kinds.keras.common import SPATIAL, KerasLayer, keras_signature, register, split
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, Window, fmt_shape, fmt_tuple, prod
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Padding, cropping, resampling and reshaping"


def _pairs(name: str, arg: str, values: tuple[int, ...], n: int) -> list[tuple[int, int]]:
    """Keras's per-side amounts: one number for every side; one per spatial axis
    (both sides; for 1-d layers two numbers are the two sides); or a pair per axis
    (``((top, bottom), (left, right))``, written flat or nested)."""
    if len(values) == 1:
        return [(values[0], values[0])] * n
    if len(values) == 2 * n:
        return [(values[2 * i], values[2 * i + 1]) for i in range(n)]
    if len(values) == n:
        return [(v, v) for v in values]
    raise LayerError(
        f"{name}: {arg} takes 1, {n} or {2 * n} numbers (one for all, one per axis, or "
        f"a pair per axis), got {len(values)}: {fmt_tuple(values)}"
    )


class _Edges(KerasLayer):
    """What ZeroPadding and Cropping share: a (before, after) pair along each spatial
    axis, added to it or cut from it, as --explain shows it."""

    SIGN: ClassVar[str] = "+"  # L + before + after, or − for a cut
    EDGE_ARG: ClassVar[str] = "padding"  # the constructor's argument holding the amounts
    # The note on an axis (before, after and the names of its sides).
    EDGES: ClassVar[str] = "{before} {lo}, {after} {hi}"

    def pairs(self, n: int) -> list[tuple[int, int]]:
        """(before, after) along each of the ``n`` spatial axes."""
        raise NotImplementedError

    def keras_values(self, shape: Shape) -> dict[str, Any]:
        """The (before, after) pairs as Keras takes them: one number when every side
        has it, the pair of a 1-d layer, else a pair per axis, nested."""
        n = len(shape) - 1
        pairs = self.pairs(n)
        first = pairs[0][0]
        if all(pair == (first, first) for pair in pairs):
            value: Any = first
        else:
            value = pairs[0] if n == 1 else tuple(pairs)
        return {**self.__dict__, self.EDGE_ARG: value}

    def explain(self, row: Row) -> list[Step]:
        """L + before + after (or − for a cut) per spatial axis."""
        from convcalc.kinds.explaining import Step, sides, spatial_sizes

        pairs = self.pairs(len(row.input) - 1)
        out: list[Step] = []
        for i, name, size, o in spatial_sizes(row, last=True):
            before, after = pairs[i]
            lo, hi = sides(name)
            expr = f"{size} {self.SIGN} {before} {self.SIGN} {after}"
            note = self.EDGES.format(before=before, after=after, lo=lo, hi=hi)
            out.append(Step(row.index, name, expr, o, note))
        return out


class ZeroPadding(_Edges):
    """ZeroPadding1D/2D/3D: zeros before and after each spatial axis."""

    CLASS = "ZeroPadding{n}D"
    PARAMS = (Param("padding", INTS, (1,), aliases=("p",), positional=True),)
    SUMMARY = "zero padding"
    KERAS = {f"ZeroPadding{n}D": keras_signature("padding", "data_format") for n in (1, 2, 3)}
    EXAMPLE = "1"

    dim: int | None
    padding: tuple[int, ...]

    def pairs(self, n: int) -> list[tuple[int, int]]:
        """(before, after) along each of the ``n`` spatial axes."""
        return _pairs(self.keras_name(n), "padding", self.padding, n)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, c = split(self, shape)
        name = self.keras_name(n)
        pairs = self.pairs(n)
        # (The 2-d and 3-d layers take one negative number at construction, and build;
        # running them fails.)
        if any(v < 0 for v in self.padding):
            raise LayerError(f"{name}: padding must not be negative, got {fmt_tuple(self.padding)}")
        out = [size + before + after for size, (before, after) in zip(spatial, pairs)]  # type: ignore[operator]
        wins: tuple[Window, ...] = tuple((1, 1, before) for before, _ in pairs)
        return Out(name, (*out, c), rf=wins)


register(
    ZeroPadding,
    names={
        **{f"zeropadding{n}d": {"dim": n} for n in (1, 2, 3)},
        "zeropadding": {"dim": None},
        "zeropad": {"dim": None},
    },
)


_CROPPING_HELP = "cut off each side: one number for all, one per axis, or a pair per axis"


class Cropping(_Edges):
    """Cropping1D/2D/3D: rows cut off before and after each spatial axis; at
    least one must remain."""

    CLASS = "Cropping{n}D"
    # Keras's default differs by class (registered below, each with its own): one
    # step off each end for Cropping1D, nothing for Cropping2D, one off every side
    # for Cropping3D.
    DEFAULTS: ClassVar[dict[int, int]] = {1: 1, 2: 0, 3: 1}
    PARAMS = (Param("cropping", INTS, None, positional=True),)
    SUMMARY = "cropping"
    KERAS = {
        "Cropping1D": keras_signature("cropping"),
        **{f"Cropping{n}D": keras_signature("cropping", "data_format") for n in (2, 3)},
    }
    EXAMPLE = "1"
    SIGN = "−"
    EDGE_ARG = "cropping"
    EDGES = "{before} off the {lo}, {after} off the {hi}"

    dim: int | None
    cropping: tuple[int, ...] | None

    def given(self, n: int) -> tuple[int, ...]:
        """``cropping``, or Keras's default for ``n`` spatial axes."""
        return self.cropping if self.cropping is not None else (self.DEFAULTS[n],)

    def pairs(self, n: int) -> list[tuple[int, int]]:
        """(before, after) along each of the ``n`` spatial axes."""
        return _pairs(self.keras_name(n), "cropping", self.given(n), n)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, c = split(self, shape)
        name = self.keras_name(n)
        given = self.given(n)
        pairs = self.pairs(n)
        if any(v < 0 for v in given):
            raise LayerError(f"{name}: cropping cannot be negative, got {fmt_tuple(given)}")
        out = []
        for i, (size, (before, after)) in enumerate(zip(spatial, pairs)):
            assert size is not None
            if before + after >= size:
                where = "" if n == 1 else f" along {SPATIAL[n][i]}"
                raise LayerError(
                    f"{name}: cropping must be smaller than the input{where}: "
                    f"{before} + {after} rows cut from {size}"
                )
            out.append(size - before - after)
        wins: tuple[Window, ...] = tuple((1, 1, -before) for before, _ in pairs)
        return Out(name, (*out, c), rf=wins)


for _n, _default in Cropping.DEFAULTS.items():
    register(
        Cropping,
        names={f"cropping{_n}d": {"dim": _n}},
        params=(Param("cropping", INTS, (_default,), positional=True, help=_CROPPING_HELP),),
    )


class UpSampling(KerasLayer):
    """UpSampling1D/2D/3D: each spatial axis repeated ``size`` times."""

    CLASS = "UpSampling{n}D"
    PARAMS = (
        Param("size", INTS, (2,), positional=True, per_dim=True),
        Param(
            "interpolation",
            Choice("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"),
            "nearest",
        ),
    )
    SUMMARY = "upsampling by repetition"
    KERAS = {
        "UpSampling1D": keras_signature("size"),
        "UpSampling2D": keras_signature("size", "data_format", "interpolation"),
        "UpSampling3D": keras_signature("size", "data_format"),
    }
    EXAMPLE = "2"

    dim: int | None
    size: tuple[int, ...]
    interpolation: str

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, c = split(self, shape)
        name = self.keras_name(n)
        if len(self.size) not in (1, n):
            raise LayerError(f"{name}: size takes 1 or {n} numbers, got {fmt_tuple(self.size)}")
        size = self.size * n if len(self.size) == 1 else self.size
        if any(v <= 0 for v in size):
            raise LayerError(f"{name}: size must be positive, got {fmt_tuple(size)}")
        if self.interpolation != "nearest" and n != 2:
            raise LayerError(f"{name}: only UpSampling2D takes an interpolation")
        out = [L * f for L, f in zip(spatial, size)]  # type: ignore[operator]
        return Out(name, (*out, c), rf=None)

    def explain(self, row: Row) -> list[Step]:
        """L·size per spatial axis."""
        from convcalc.kinds.explaining import Step, spatial_sizes
        from convcalc.kinds.shapes import expand

        f = expand("size", self.size, len(row.input) - 1)
        return [
            Step(row.index, name, f"{size}·{f[i]}", o, "each repeated")
            for i, name, size, o in spatial_sizes(row, last=True)
        ]

    SOLVE = Solve(resample=(None, "size"))  # its size is a whole factor


register(
    UpSampling,
    names={**{f"upsampling{n}d": {"dim": n} for n in (1, 2, 3)}, "upsample": {"dim": None}},
)


class Flatten(Layer):
    """Flatten: every axis after the batch into one."""

    NAMES = {"flatten": {}}
    SUMMARY = "flatten"
    KERAS = {"Flatten": keras_signature("data_format")}

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        return Out("Flatten", (prod(shape),), rf=None if len(shape) > 1 else ())

    def explain(self, row: Row) -> list[Step]:
        """The product of every dimension but the batch."""
        from convcalc.kinds.explaining import merged

        return merged(row, row.input, "features", 0)


register(Flatten)


class Reshape(Layer):
    """Reshape(target_shape): the axes after the batch, one of them -1 (inferred)."""

    NAMES = {"reshape": {}}
    PARAMS = (Param("target_shape", INTS, positional=True, required=True),)
    SUMMARY = "reshape (the batch kept)"
    KERAS = {"Reshape": keras_signature("target_shape", required=1)}
    KERAS_TUPLES = ("target_shape",)
    EXAMPLE, EXAMPLE_INPUT = "16x64", "32x32"

    target_shape: tuple[int, ...]

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        target = self.target_shape
        text = fmt_tuple(target) if len(target) > 1 else f"({target[0]},)"
        if target.count(-1) > 1:
            raise LayerError(f"Reshape: target_shape={text} holds more than one -1")
        if any(v <= 0 and v != -1 for v in target):
            raise LayerError(
                f"Reshape: target_shape={text} may hold positive sizes and one -1, nothing else"
            )
        total = prod(shape)
        known = prod(v for v in target if v != -1)
        assert known is not None
        if -1 in target:
            if total is None:
                fill = None
            elif total % known:
                raise LayerError(
                    f"Reshape: the input's {total} elements ({fmt_shape(shape)}) cannot be "
                    f"divided into target_shape={text}"
                )
            else:
                fill = total // known
            out: Shape = tuple(fill if v == -1 else v for v in target)
        else:
            if total is not None and total != known:
                raise LayerError(
                    f"Reshape: the input has {total} elements ({fmt_shape(shape)}), "
                    f"target_shape={text} has {known}"
                )
            out = target
        return Out("Reshape", out, rf=None)

    def explain(self, row: Row) -> list[Step]:
        """The -1 of target_shape: the input's elements over the sizes given."""
        from convcalc.kinds.explaining import Step, shape_text

        target = self.target_shape
        if any(v is None for v in row.input):
            return []
        total = "·".join(map(str, row.input))
        if -1 not in target:
            note = (
                f"target_shape {shape_text(target)} holds the input's {total} = {prod(row.input)}"
            )
            return [Step(row.index, "all", None, None, note)]
        j = target.index(-1)
        known = [v for v in target if v != -1]
        if not known:
            expr = total
        else:
            expr = f"{total} / " + (
                f"({'·'.join(map(str, known))})" if len(known) > 1 else str(known[0])
            )
        return [Step(row.index, f"dim {j + 1}", expr, row.output[j], "the -1 size")]


register(Reshape)
