"""Keras's pooling: MaxPooling/AveragePooling1D/2D/3D (strides default to the
pool size) and the global poolings (which drop the spatial axes unless
``keepdims``), channels last."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, INTS, Param
from convcalc.kinds.keras.common import (
    KerasLayer,
    SlidingLayer,
    keras_signature,
    padding_param,
    positive,
    register,
    split,
    windows,
)
from convcalc.kinds.layer import Out
from convcalc.kinds.shapes import Shape, expand, fmt_tuple
from convcalc.kinds.windows import Solve

if TYPE_CHECKING:
    from convcalc.kinds.explaining import Row, Step

# The section of --list-layers the module's kinds are listed under.
SECTION = "Pooling"

_POOL = Param("pool_size", INTS, (2,), aliases=("k",), positional=True, per_dim=True)
# Keras's average poolings have no default pool size (its max poolings have 2).
_POOL_AVG = _POOL._replace(default=None, required=True)
_STRIDES = Param("strides", INTS, None, aliases=("s",), per_dim=True, help="default: pool_size")


class Pool(SlidingLayer):
    """MaxPooling/AveragePooling: valid ⌊(L − k)/s⌋ + 1, same ⌈L/s⌉ (an average
    over 'same' padding leaves the padded cells out of the divisor)."""

    PARAMS = (_POOL, _STRIDES, padding_param("valid", "same"))
    SUMMARY = "pooling"
    # Keras's AveragePooling needs its pool_size; MaxPooling's is 2 per axis.
    KERAS = {
        c.format(n=n): keras_signature(
            "pool_size", "strides", "padding", "data_format", "name", required=required
        )
        for classes, required in (
            (("MaxPooling{n}D", "MaxPool{n}D"), 0),
            (("AveragePooling{n}D", "AvgPool{n}D"), 1),
        )
        for c in classes
        for n in (1, 2, 3)
    }
    EXAMPLE = "2"
    NOTE = (
        "strides default to pool_size; MaxPooling's pool_size defaults to 2, AveragePooling "
        "has no default. An average over 'same' padding leaves the padded cells out."
    )

    dim: int | None
    op: str  # "Max" | "Average"
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] | None
    padding: str

    def keras_name(self, n: int | None = None) -> str:
        return f"{self.op}Pooling{n if n is not None else (self.dim or '')}D"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, c = split(self, shape)
        name = self.keras_name(n)
        k, s, _ = self.window_args(n)
        positive("pool_size", k)
        if any(v <= 0 for v in s):
            # Keras takes strides of 0 at construction; computing the size divides by it.
            raise LayerError(f"{name}: strides must be positive, got {fmt_tuple(s)}")
        out, wins = windows(name, spatial, k, s, (1,) * n, self.padding)
        return Out(name, (*out, c), rf=wins)

    def window_args(self, n: int) -> tuple[tuple[int, ...], ...]:
        """(pool_size, strides, no dilation): the pool size is the default stride."""
        k = expand("pool_size", self.pool_size, n)
        s = k if self.strides is None else expand("strides", self.strides, n)
        return k, s, (1,) * n

    # strides None: the pool size; the padding a word for every dimension
    SOLVE = Solve(
        {"kernel_size": "pool_size", "stride": "strides", "padding": "padding"},
        {"stride": None, "padding": "valid"},
        words=("valid", "same"),
        numeric_pad=False,
        layer_wide=frozenset({"padding", "output_padding"}),
    )


def _pool_names(op: str, keras: str, word: str) -> dict[str, dict[str, object]]:
    """A pool's words: Keras's class name and convcalc's word for each rank, then the
    word alone, taking the rank from its input."""
    names: dict[str, dict[str, object]] = {
        f"{w}{n}d": {"dim": n, "op": op} for w in (keras, word) for n in (1, 2, 3)
    }
    return {**names, word: {"dim": None, "op": op}}


register(Pool, names=_pool_names("Max", "maxpooling", "maxpool"))
register(
    Pool,
    names=_pool_names("Average", "averagepooling", "avgpool"),
    params=(_POOL_AVG, _STRIDES, padding_param("valid", "same")),
)


class GlobalPool(KerasLayer):
    """GlobalAveragePooling/GlobalMaxPooling1D/2D/3D: one value per channel."""

    PARAMS = (Param("keepdims", BOOL, False),)
    SUMMARY = "global pooling"
    KERAS = {
        f"{c}{n}D": keras_signature("data_format", "keepdims")
        for c in ("GlobalAveragePooling", "GlobalAvgPool", "GlobalMaxPooling", "GlobalMaxPool")
        for n in (1, 2, 3)
    }

    dim: int | None
    op: str
    keepdims: bool

    def keras_name(self, n: int | None = None) -> str:
        return f"Global{self.op}Pooling{n if n is not None else (self.dim or '')}D"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, spatial, c = split(self, shape)
        name = self.keras_name(n)
        out = (*(1,) * n, c) if self.keepdims else (c,)
        windows = tuple((size, size, 0) for size in spatial) if self.keepdims else None
        return Out(name, out, rf=windows)  # type: ignore[arg-type]

    def explain(self, row: Row) -> list[Step]:
        """One window over each spatial axis; without keepdims, the map pooled away."""
        from convcalc.kinds.explaining import Step, one_window, shape_text, spatial_sizes
        from convcalc.kinds.shapes import SPATIAL_NAMES

        if self.keepdims:
            return [
                one_window(row.index, name, size)
                for _, name, size, _ in spatial_sizes(row, last=True)
            ]
        names = SPATIAL_NAMES.get(len(row.input) - 1, ())
        sizes = row.input[:-1]
        c = row.output[-1]
        note = (
            f"keepdims=False: the {shape_text(sizes)} map is pooled away, "
            f"one value per channel ({'?' if c is None else c})"
        )
        return [Step(row.index, "×".join(names), None, None, note)]


register(
    GlobalPool,
    names={
        **{
            f"{word}{n}d": {"dim": n, "op": op}
            for op, words in (
                ("Average", ("globalaveragepooling", "globalavgpool")),
                ("Max", ("globalmaxpooling", "globalmaxpool")),
            )
            for word in words
            for n in (1, 2, 3)
        },
        **{w: {"dim": None, "op": "Average"} for w in ("globalavgpool", "gap")},
        **{w: {"dim": None, "op": "Max"} for w in ("globalmaxpool", "gmp")},
    },
)
