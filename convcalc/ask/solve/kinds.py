"""What the solver knows of a windowed layer kind, in any framework: what the kind
declares in its ``SOLVE`` (convcalc.kinds.windows.Solve), for the arguments one
word of it takes.

The solver (:mod:`convcalc.ask.solve`) searches five keys, named here as PyTorch names
them: ``kernel_size``, ``stride``, ``padding``, ``dilation`` and ``output_padding``
(written k, s, p, d and op in every framework). A :class:`Kind` maps them to the
kind's own argument names (Keras's ``strides`` and ``dilation_rate``, ONNX's
``kernel_shape`` and ``pads``), gives their defaults, the padding words the kind
takes and which keys hold for every dimension at once (a Keras padding word, an
ONNX auto_pad, Keras's output_padding=None).

One dimension's output size for a candidate is the kind's to say
(``Layer.solve_size``): PyTorch's kinds answer from their window arithmetic
(convcalc.kinds.windows, docs/arithmetic.md#shapes); Keras's and ONNX's run the layer itself
on that one dimension, so the solver's candidates follow exactly the rules the engine
applies (ONNX's per-opset pooling included), and the engine then confirms every
answer on the whole shape.
"""

from __future__ import annotations

from typing import Any

from convcalc._records import NamedTuple
from convcalc.kinds import Layer
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.layer import Entry
from convcalc.kinds.windows import KEYS

__all__ = ["KEYS", "SHORT", "Kind", "kind_of"]

SHORT = {
    "kernel_size": "k",
    "stride": "s",
    "padding": "p",
    "dilation": "d",
    "output_padding": "op",
}


class Kind(NamedTuple):
    """A windowed kind as the solver sees it."""

    cls: type[Layer]
    framework: Framework
    attrs: dict[str, str]  # searched key → the layer's attribute
    # searched key → its default; stride None: the kernel size (a pool's default)
    defaults: dict[str, Any]
    words: tuple[str, ...]  # padding words tried besides numbers (the default first)
    numeric_pad: bool  # padding takes numbers
    half_pad: bool  # padding at most kernel_size // 2 (PyTorch's pools)
    channels: str | None  # the argument that sets the output channels
    layer_wide: frozenset[str]  # keys whose word (or None) holds for every dimension
    pads_pairs: bool  # per-dimension pads are written as every begin, then every end
    same: bool  # padding='same' offered beside the numbers (an even kernel)
    dilation_for_op: bool  # a 1-wide kernel's dilation only for op ≥ s
    per_axis: tuple[str, ...]  # per-dimension arguments not searched

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key in KEYS if key in self.attrs)

    @property
    def stride_follows_kernel(self) -> bool:
        return "stride" in self.attrs and self.defaults["stride"] is None

    @property
    def channels_last(self) -> bool:
        return self.framework.channels_last


def kind_of(entry: Entry, framework: Framework) -> Kind | None:
    """The kind of ``entry`` in ``framework``, or None when it is not windowed."""
    solve = entry.cls.SOLVE
    names = {p.name for p in entry.params}
    if solve is None or solve.attrs.get("kernel_size") not in names:
        return None  # not windowed (global pooling, dense, …)
    attrs = {key: solve.attrs[key] for key in KEYS if solve.attrs.get(key) in names}
    defaults: dict[str, Any] = {
        key: solve.defaults.get(key) for key in attrs if key != "kernel_size"
    }
    return Kind(
        entry.cls,
        framework,
        attrs,
        defaults,
        solve.words if "padding" in attrs else (),
        solve.numeric_pad,
        solve.half_pad,
        solve.channels if solve.channels in names else None,
        solve.layer_wide,
        solve.pads_pairs,
        solve.same,
        solve.dilation_for_op,
        solve.per_axis,
    )
