"""What the solver knows of a windowed layer kind, in any framework.

The solver (:mod:`convcalc.ask.solve`) searches five keys, named here as PyTorch names
them: ``kernel_size``, ``stride``, ``padding``, ``dilation`` and ``output_padding``
(written k, s, p, d and op in every framework). A :class:`Kind` maps them to the
kind's own argument names (Keras's ``strides`` and ``dilation_rate``, ONNX's
``kernel_shape`` and ``pads``), gives their defaults, the padding words the kind
takes and which keys hold for every dimension at once (a Keras padding word, an
ONNX auto_pad, Keras's output_padding=None).

PyTorch's kinds have their size arithmetic written out in the solver (docs/arithmetic.md#shapes).
Keras's and ONNX's do not: :func:`dim_size` gets one dimension's output size
by running the layer itself on that one dimension, so the solver's candidates follow
exactly the rules the engine applies (ONNX's per-opset pooling included), and the
engine then confirms every answer on the whole shape.
"""

from __future__ import annotations

from typing import Any

from convcalc._records import NamedTuple
from convcalc.errors import LayerError
from convcalc.kinds import Layer
from convcalc.kinds.frameworks import Framework
from convcalc.kinds.layer import Entry
from convcalc.kinds.torch.conv import Conv, ConvTranspose
from convcalc.kinds.torch.pool import AvgPool, LPPool, MaxPool, MaxUnpool

__all__ = ["KEYS", "SHORT", "Kind", "dim_size", "kind_of"]

# The searched keys, in the order they are reported and compared.
KEYS = ("kernel_size", "stride", "padding", "dilation", "output_padding")
SHORT = {
    "kernel_size": "k",
    "stride": "s",
    "padding": "p",
    "dilation": "d",
    "output_padding": "op",
}
# The long names of the searched keys, in the frameworks that name them otherwise.
_LONG = {
    "kernel_size": ("kernel_size", "pool_size", "kernel_shape"),
    "stride": ("strides", "stride"),
    "padding": ("padding", "pads"),
    "dilation": ("dilation_rate", "dilations", "dilation"),
    "output_padding": ("output_padding",),
}
_NEUTRAL = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}

# PyTorch's windowed kinds and the keys each has.
_TORCH: dict[type[Layer], tuple[str, ...]] = {
    Conv: ("kernel_size", "stride", "padding", "dilation"),
    ConvTranspose: ("kernel_size", "stride", "padding", "output_padding", "dilation"),
    MaxPool: ("kernel_size", "stride", "padding", "dilation"),
    AvgPool: ("kernel_size", "stride", "padding"),
    LPPool: ("kernel_size", "stride"),
    MaxUnpool: ("kernel_size", "stride", "padding"),
}
_TORCH_POOLS = (MaxPool, AvgPool, LPPool, MaxUnpool)  # stride defaults to the kernel size


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

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key in KEYS if key in self.attrs)

    @property
    def stride_follows_kernel(self) -> bool:
        return "stride" in self.attrs and self.defaults["stride"] is None

    @property
    def torch(self) -> bool:
        return self.framework.name == "torch"

    @property
    def channels_last(self) -> bool:
        return self.framework.channels_last


def kind_of(entry: Entry, framework: Framework) -> Kind | None:
    """The kind of ``entry`` in ``framework``, or None when it is not windowed."""
    cls = entry.cls
    names = {p.name for p in entry.params}
    channels = next((c for c in ("out_channels", "filters") if c in names), None)
    if framework.name == "torch":
        keys = _TORCH.get(cls)
        if keys is None:
            return None
        keys = tuple(k for k in KEYS if k in keys and k in names)
        defaults = {k: _NEUTRAL.get(k) for k in keys}
        if cls in _TORCH_POOLS:
            defaults["stride"] = None
        return Kind(
            cls,
            framework,
            {k: k for k in keys},
            defaults,
            (),
            True,
            cls in (MaxPool, AvgPool),
            channels if cls in (Conv, ConvTranspose) else None,
            frozenset(),
            False,
        )
    # A searched key by its short alias, else by the framework's long name (ONNX's
    # LpPool has no p=: its p is the norm's order).
    by_name = {p.name: p for p in entry.params}
    by_key = {alias: p for p in entry.params for alias in p.aliases}
    for key, short in SHORT.items():
        long = next((by_name[w] for w in _LONG[key] if w in by_name), None)
        if short not in by_key and long is not None:
            by_key[short] = long
    if "k" not in by_key:  # not windowed (global pooling, dense, …)
        return None
    attrs = {key: by_key[short].name for key, short in SHORT.items() if short in by_key}
    keras = framework.name == "keras"
    own: dict[str, Any] = {}
    for key in attrs:
        if key == "kernel_size":
            continue
        default = by_key[SHORT[key]].default
        if isinstance(default, tuple):
            default = default[0]
        if default is None and not keras:
            default = _NEUTRAL[key]  # ONNX: an attribute left out is its neutral value
        own[key] = default  # Keras: strides None = pool_size, output_padding None
    words: tuple[str, ...] = ()
    if "padding" in attrs:
        # Keras's words, 'valid' (the default) first; ONNX's SAME_UPPER (SAME_LOWER
        # gives the same sizes).
        words = tuple(getattr(by_key["p"].type, "choices", ())) if keras else ("same_upper",)
    return Kind(
        cls,
        framework,
        attrs,
        own,
        words,
        not keras,
        False,
        channels,
        frozenset({"padding", "output_padding"} if keras else {"padding"}),
        not keras,
    )


def _field(value: Any) -> Any:
    """A searched value as the layer's attribute holds it for one dimension."""
    if value is None or isinstance(value, (str, tuple)):
        return value  # a default, a padding word, or ONNX's (begin, end) pads
    return (value,)


# Other per-dimension attributes, cut to the one dimension too.
_PER_AXIS = ("output_shape",)  # ONNX ConvTranspose's


def dim_size(
    kind: Kind,
    layer: Layer,
    values: tuple[Any, ...],
    size: int,
    channels: int | None,
    axis: tuple[int, int] = (0, 1),
) -> int | None:
    """The output size the layer gives along one dimension of ``size`` (dimension
    ``axis[0]`` of ``axis[1]``) with the searched keys at ``values`` (in KEYS order;
    None where the kind lacks a key), or None when the framework rejects it there."""
    fields = dict(layer.__dict__)
    if "dim" in fields:
        fields["dim"] = None  # one dimension, whatever the kind's name says
    i, n = axis
    for name in _PER_AXIS:
        value = fields.get(name)
        if isinstance(value, tuple) and len(value) == n:
            fields[name] = (value[i],)
    for key, value in zip(KEYS, values):
        attr = kind.attrs.get(key)
        if attr is None or (fields[attr] is None and value == kind.defaults.get(key)):
            continue  # left out stays left out (ONNX: pads beside auto_pad=VALID)
        fields[attr] = _field(value)
    one = type(layer)(**fields)
    shape = (size, channels) if kind.channels_last else (channels, size)
    try:
        out = one.infer(shape, 1)
    except LayerError:
        return None
    return out.shape[0 if kind.channels_last else 1]
