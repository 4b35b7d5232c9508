"""The layer-kind protocol: ``Layer`` (an immutable record of a kind's arguments that
computes what it does to a shape), its result ``Out``, PyTorch's constructor
``Signature`` and the registry's ``Entry`` for one kind word."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from convcalc._records import NamedTuple
from convcalc.errors import LayerError
from convcalc.kinds.args import ArgType, Param
from convcalc.kinds.shapes import Shape, Window

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step
    from convcalc.kinds.windows import FloorFix, Probe, Solve, WindowDim


class Out(NamedTuple):
    """What one layer does to one input shape."""

    kind: str  # canonical kind with the dimension resolved, e.g. "conv2d"
    shape: Shape
    params: int | None = 0
    buffers: int | None = 0
    macs: int | None = 0
    # () = no change to the receptive field; None = the layer has no uniform
    # receptive-field step (it is not tracked past it); else one Window per dim.
    rf: tuple[Window, ...] | None = ()
    # Elements of ``buffers`` that PyTorch keeps as int64 whatever the model's
    # dtype (BatchNorm's num_batches_tracked): memory counts them at 8 bytes.
    int64_buffers: int | None = 0
    # Elements of ``params`` that are not trainable (Keras's BatchNormalization
    # moving statistics, which count_params() includes).
    non_trainable: int | None = 0


class Layer:
    """A layer kind: an immutable record of its arguments (its ``Param`` names plus
    the fixed ones its name implies, e.g. ``dim``: spatial dimensions, None = from
    the input) that computes what it does to a shape.

    Records compare and hash by value. They are plain classes rather than
    dataclasses because generating dataclass code for every kind would cost
    milliseconds at every start of the command."""

    PARAMS: ClassVar[tuple[Param, ...]] = ()
    # The names a user may write, each with the fixed arguments it implies,
    # e.g. {"conv2d": {"dim": 2}, "conv": {"dim": None}}.
    NAMES: ClassVar[dict[str, dict[str, Any]]] = {}
    SUMMARY: ClassVar[str] = ""
    # A remark for ``--help-layer`` on how convcalc reads the kind ("" = none).
    NOTE: ClassVar[str] = ""
    # PyTorch's classes of the kind, by class name: how their constructors take
    # arguments (a call ``Conv2d(3, 64, 7)``, and the short form's PyTorch order).
    TORCH: ClassVar[dict[str, Signature]] = {}
    # Keras's classes of the kind, by class name (a Keras kind's): how a call
    # ``Conv2D(64, 3, strides=2)`` or ``layers.Dense(10)`` takes its arguments, and the
    # short form's Keras order (kinds/keras/common.py's ``keras_signature``).
    KERAS: ClassVar[dict[str, Signature]] = {}

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    @classmethod
    def missing(cls, values: Mapping[str, Any]) -> str | None:
        """What a statement of this kind lacks that no one argument's ``required``
        says (a transformer stack needs d_model unless its call gives the layer): the
        rest of the binder's "KIND needs …" message (a malformed spec, exit 2), or
        None. ``values``: every argument's, given or default."""
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((type(self), frozenset(self.__dict__.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({args})"

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        """The output shape and figures for an input ``shape``; raises LayerError."""
        raise NotImplementedError

    def spatial_rank(self) -> int | None:
        """Number of spatial dims this layer needs, if its name fixes it (conv2d: 2)."""
        return None

    def class_name(self) -> str:
        """The framework's name for this kind: its class (or ONNX operator) name."""
        return type(self).__name__

    # -- dtypes (convcalc.network.analysis) --------------------------------------------
    # The engine tracks which tensors hold integer indices: the network's input does when
    # a kind that reads indices reads it, directly or through kinds that keep the dtype;
    # every other kind makes floats.

    # Reads integer indices (nn.Embedding) and refuses floats; the text: what the
    # framework says when given floats.
    READS_INDICES: ClassVar[str] = ""
    # Hands on its input's dtype: moves or selects elements without computing (flatten,
    # unflatten, permute, split, crop, identity, eval-mode dropout), or merges tensors
    # that keep an integer dtype when all of them have it (cat, +, ×).
    KEEPS_DTYPE: ClassVar[bool] = False

    # What the questions asked of a network (convcalc.ask, convcalc.formats) want to
    # know of a kind lives here, each with a neutral default that a kind overrides:
    # those modules ask the kind, and hold no per-kind tables of their own.

    # -- more inputs than one (convcalc.network.graph) ----------------------------------
    # Keys naming another tensor the layer reads beside its input, each required: key →
    # what the tensor is, for messages (a transformer decoder's ``memory=NAME``). The graph
    # takes them out of the statement; the layer then gets its shapes through
    # ``infer_many`` (its input first, then these in this order). {}: one input.
    TENSOR_KEYS: ClassVar[Mapping[str, str]] = MappingProxyType({})

    # -- memory (convcalc.network.memory) and tied weights (convcalc.network.weights) --

    def kv_cache(self, shape: Shape) -> int | None:
        """Elements per sample of the key/value cache the layer keeps when it decodes its
        input ``shape`` one token at a time (a causal attention: 2 · L · kv_heads ·
        head_dim); 0: none; None: a size it needs is unknown."""
        return 0

    def tie_weight(self, shape: Shape) -> tuple[int, ...] | None:
        """The shape of the ``weight`` another layer may share with this one (``tie=NAME``:
        nn.Linear's (out, in), nn.Embedding's (num, dim)) for an input ``shape``; None: it
        has no such weight, or a size is unknown."""
        return None

    # -- explain (convcalc.ask.explain) --------------------------------------------

    def explain(self, row: Row) -> list[Step]:
        """The arithmetic behind each size this kind computes on ``row``, one Step per
        dimension, written with the row's numbers (convcalc.kinds.explaining has the
        record and the phrases). No steps by default: a kind that keeps its shape, or whose
        sizes are given as such, has nothing to explain."""
        return []

    # -- lint (convcalc.ask.lint) ----------------------------------------------------
    # The warnings read these traits from the class (cheap: no layer module is imported
    # for them) and ask the methods below for the arithmetic a check needs.

    # The axis of its input the kind reads as channels, which makes the input's layout
    # matter when it comes first: "first" (PyTorch's and ONNX's convolutions and norms;
    # channels-last warns), "last" (Keras's spatial layers; channels-first warns); None:
    # the layout is not its concern.
    READS_CHANNELS: ClassVar[Literal["first", "last"] | None] = None
    # How its output is laid out (linear-on-map, tiny-map): MAKES_MAP, a channels ×
    # spatial map when it has 2 axes or more (convolutions, pools, norms over channels,
    # upsampling, crop); BREAKS_MAP, no longer a map (flatten, linear, token layers);
    # neither: as its input is. MAKES_MAP wins if both are set.
    MAKES_MAP: ClassVar[bool] = False
    BREAKS_MAP: ClassVar[bool] = False
    # Sets the spatial sizes of whatever it gets without making it a map (F.pad):
    # tiny-map looks at the sizes it leaves, as at a map maker's.
    RESIZES_MAP: ClassVar[bool] = False
    # Its output size is the user's own (adaptive pooling): a map it brings to 1 is meant.
    SIZE_IS_GIVEN: ClassVar[bool] = False
    # May enlarge a spatial size: a decoder stage (odd-skip looks at the encoder before).
    UPSAMPLES: ClassVar[bool] = False
    # Acts on the last axis only (nn.Linear): given a C×H×W map it acts on W
    # (linear-on-map).
    LINEAR_ON_LAST_AXIS: ClassVar[bool] = False
    # Crops a tensor to another's size: a skip it reads is cut to fit (odd-skip).
    CROPS_TO_FIT: ClassVar[bool] = False
    # Takes its number of spatial dimensions from its input when its name leaves it open
    # (conv, maxpool, ONNX's Conv): an input with a leading 1 read as a one-channel
    # volume (batch-in-input), or two sizes read as C×L (rank-guess), may be a misreading.
    RANK_FROM_INPUT: ClassVar[bool] = False
    # Reads an L×features input, steps first (nn.LSTM, nn.GRU, nn.RNN): given a C×L map
    # (a 1-d convolution's output) it takes the C channels for its steps (steps-on-channels).
    READS_STEPS: ClassVar[bool] = False

    def construction_warning(self) -> tuple[str, str] | None:
        """What the framework warns about when it builds the layer, which convcalc
        passes on (framework-warns): (what is wrong, what would fix it); None: nothing
        (an LSTM's dropout with one layer)."""
        return None

    def norms_last_axis(self) -> bool:
        """Whether it normalises the last axis alone for want of a normalized_shape
        (LayerNorm written without one): given a C×H×W map it normalises W (norm-on-map)."""
        return False

    def grows_maps(self) -> bool:
        """Whether the layer enlarges any map it gets (square-input: a lone number
        before it is more likely a latent vector than a square map)."""
        return False

    def windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        """Its sliding windows along each spatial axis of the C×spatial ``shape`` it
        turned into ``out`` (odd-skip, tiny-map, the encoder's downsampling); None: no
        windows. PyTorch's convolutions and pools give theirs; Keras's and ONNX's
        kinds give only ``floor_windows``, as the other checks follow PyTorch."""
        return None

    def floor_windows(self, shape: Shape, out: Shape) -> list[WindowDim] | None:
        """The windows, when the floor of the kind's size formula may leave the end of
        the input unseen (floor-drop): explicit or 'valid' padding, no ceil mode.
        None: every input is seen, or no windows."""
        return None

    def floor_fixes(self, shape: Shape, dims: list[WindowDim], short: list[int]) -> list[FloorFix]:
        """The framework's own settings that make the windows ``dims`` (from
        ``floor_windows``) reach the end along the axes ``short``, each with the sizes
        the layer's own shape code gives it; []: none of its own."""
        return []

    def same_kernels(self, shape: Shape, out: Shape) -> tuple[int, ...] | None:
        """The effective kernel per spatial axis if the layer pads 'same' as PyTorch
        does (the odd pad at the end, by copying the input; same-asymmetric), else None."""
        return None

    def ignored_channels(self, shape: Shape) -> int | None:
        """A channel count the layer was given that differs from its input's and that
        nothing in it depends on (a norm without weights or running statistics:
        PyTorch only warns; ignored-features), else None."""
        return None

    def variant_sizes(self, shape: Shape, space: slice, **changes: Any) -> tuple[int, ...] | None:
        """The spatial output sizes (``space`` of the output shape) of this layer with
        ``changes`` on ``shape``, by its own ``infer``; None if the kind rejects it or a
        size is not known (a floor fix's sizes)."""
        try:
            out = type(self)(**{**self.__dict__, **changes}).infer(shape, 1).shape[space]
        except LayerError:
            return None
        return None if None in out else out  # type: ignore[return-value]

    # -- solve (convcalc.ask.solve) --------------------------------------------------

    # The window keys ``solve`` may search on the kind, by their PyTorch names, and how
    # (kinds/windows.py's Solve record); None: not a windowed kind, nothing to search.
    SOLVE: ClassVar[Solve | None] = None

    def solve_size(self, probe: Probe) -> int | None:
        """The output size along one spatial dimension for the searched keys at
        ``probe.values`` (see windows.Probe), or None where the kind rejects them
        there. By default the layer itself runs on that one dimension; a kind that
        has its window arithmetic at hand answers from it."""
        from convcalc.kinds.windows import KEYS, one_dim_value

        solve = self.SOLVE
        assert solve is not None
        fields = dict(self.__dict__)
        if "dim" in fields:
            fields["dim"] = None  # one dimension, whatever the kind's name says
        values, size, channels, channels_last = (
            probe.values,
            probe.size,
            probe.channels,
            probe.channels_last,
        )
        i, rank = probe.axis
        for name in solve.per_axis:  # cut to the one dimension too
            value = fields.get(name)
            if isinstance(value, tuple) and len(value) == rank:
                fields[name] = (value[i],)
        for key, value in zip(KEYS, values):
            attr = solve.attrs.get(key)
            if attr is None or attr not in fields:
                continue
            if fields[attr] is None and value == solve.defaults.get(key):
                continue  # left out stays left out (ONNX: pads beside auto_pad=VALID)
            fields[attr] = one_dim_value(value)
        shape = (size, channels) if channels_last else (channels, size)
        try:
            out = type(self)(**fields).infer(shape, 1)
        except LayerError:
            return None
        return out.shape[0 if channels_last else 1]

    # -- PyTorch code (convcalc.formats.torch_code) and the catalog (convcalc.cli) ---

    # The source of a class (or function) of our own the kind is written with where
    # PyTorch has no nn class ("" = its class is nn's): written once at the top of the
    # file, its common indentation removed.
    TORCH_HELPER: ClassVar[str] = ""
    # Constructor arguments left out at these values (BatchNorm's bias=True: keyword-only
    # since PyTorch 2.13, so left at its default).
    TORCH_LEFT_OUT: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    # Why -o torch cannot write the kind ("" = it can).
    TORCH_UNWRITABLE: ClassVar[str] = ""
    # The catalog's example (``--help-layer``): the layer's arguments ("" = the word
    # alone) and the input to try first (None = one for its dimensions, then common ones).
    EXAMPLE: ClassVar[str] = ""
    EXAMPLE_INPUT: ClassVar[str | None] = None

    @classmethod
    def catalog_example(cls, word: str) -> tuple[str, str | None]:
        """The catalog's example of ``word``: (arguments, input to try first)."""
        return cls.EXAMPLE, cls.EXAMPLE_INPUT

    def torch_class(self, kind: str) -> tuple[str, Signature] | None:
        """PyTorch's class for the layer whose ``Out.kind`` is ``kind``: its name and
        signature (default: the kind's TORCH class named ``kind``; None = none)."""
        for name, sig in self.TORCH.items():
            if name.lower() == kind:
                return name, sig
        return None

    def torch_values(self, shape: Shape) -> dict[str, Any]:
        """The layer's values by Param name, with those its input ``shape`` fixes filled
        in (in_channels, a default num_features, …): what its constructor is given."""
        return dict(self.__dict__)

    def torch_module(self, kind: str, shape: Shape) -> TorchCode | None:
        """The layer as a PyTorch module for an input ``shape`` (every size known):
        ``nn.Conv2d(in_channels=3, …)`` and its helper; None = the kind has no PyTorch
        class. The default writes ``torch_class``'s constructor from its Signature."""
        from convcalc.kinds.args import PLACEMENT
        from convcalc.kinds.code import TorchCode, py, spatial_dims
        from convcalc.kinds.shapes import broadcast

        found = self.torch_class(kind)
        if found is None:
            return None
        cname, sig = found
        n = spatial_dims(kind, shape)
        params = {p.name: p for p in self.PARAMS}
        resolved = self.torch_values(shape)
        left_out = self.TORCH_LEFT_OUT
        args: list[str] = []
        for arg in (*sig.args, *sig.kwonly):
            if arg in PLACEMENT:
                continue
            if arg in sig.only:
                args.append(f"{arg}={py(sig.only[arg][0])}")
                continue
            if arg in sig.extra:
                continue
            param = sig.renames.get(arg, arg)
            if param not in resolved:
                continue
            value = resolved[param]
            if param in params and params[param].per_dim:
                value = broadcast(value, n)
            if arg in left_out and value is left_out[arg]:
                continue
            if arg in sig.scalar:
                value = value[0]  # LPPool1d multiplies by its kernel_size: an int
            args.append(f"{arg}={py(value)}")
        helper = self.TORCH_HELPER
        prefix = "" if helper else "nn."
        return TorchCode(f"{prefix}{cname}({', '.join(args)})", helper)

    def torch_call(self, module: str, args: list[str]) -> str:
        """How forward() calls the layer's module on its inputs' variables, in the
        graph's order (``self.conv_1(x0)``; a kind with ``TENSOR_KEYS`` may reorder them
        or add arguments)."""
        return f"{module}({', '.join(args)})"

    def torch_forward(self, args: list[str]) -> TorchCode | None:
        """A graph operation's expression in forward() over its inputs' variables
        (``x1 + x2``); None = the layer is a module, called on ``args[0]``."""
        return None

    # -- Keras code (convcalc.formats.keras_code) ------------------------------------

    # Constructor arguments written as a tuple even when they hold one value (Reshape's
    # target_shape); any other 1-tuple is written as its value, which Keras broadcasts.
    KERAS_TUPLES: ClassVar[tuple[str, ...]] = ()

    def keras_unwritable(self) -> str:
        """Why -o keras cannot write the layer ("" = it can)."""
        return ""

    def keras_values(self, shape: Shape) -> dict[str, Any]:
        """The layer's values by Param name, as its Keras constructor is given them."""
        return dict(self.__dict__)

    def keras_layer(self, kind: str, shape: Shape) -> str | None:
        """The layer as Keras's constructor for an input ``shape`` (every size known):
        ``layers.Conv2D(filters=64, kernel_size=3, …)``; None = the kind has no Keras
        class. The default writes the ``KERAS`` class named ``kind`` (its ``Out.kind``)
        from its Signature, every argument that sets a figure by Keras's name, the
        initializers, names and other arguments without effect left out."""
        from convcalc.kinds.code import keras_py

        sig = self.KERAS.get(kind)
        if sig is None:
            return None
        values = self.keras_values(shape)
        done: set[str] = set()
        args: list[str] = []
        for arg in (*sig.args, *sig.kwonly):
            if arg in sig.extra or arg in sig.only:
                continue
            param = sig.renames.get(arg, arg)
            if param not in values or param in done:
                continue
            done.add(param)
            value = values[param]
            if isinstance(value, tuple) and len(value) == 1 and arg not in self.KERAS_TUPLES:
                value = value[0]
            args.append(f"{arg}={keras_py(value)}")
        return f"layers.{kind}({', '.join(args)})"

    def keras_output(self) -> int | None:
        """Which of the tensors the Keras layer returns the network goes on with (an
        LSTM's ``return_state=True``: [output, h, c]); None = it returns one tensor."""
        return None

    def keras_forward(self, args: list[str], shapes: list[Shape]) -> str | None:
        """A graph operation's expression in Keras's functional API over its inputs'
        variables and shapes (``layers.Add()([x1, x2])``); None = the layer is a layer,
        called on ``args[0]``."""
        return None


class SpatialLayer(Layer):
    """A layer over C×spatial inputs whose name may fix the number of spatial
    dimensions (``dim``: conv2d → 2; conv → None, taken from the input)."""

    dim: int | None

    def spatial_rank(self) -> int | None:
        return self.dim


_NOTHING: Mapping[str, Any] = MappingProxyType({})


class WrittenTuple(tuple):  # type: ignore[type-arg]
    """A tuple a call wrote out where PyTorch does not broadcast one value to every
    dimension (``Upsample(scale_factor=(2.0,))`` on a 2-d input fails): a layer whose
    dimensions come from its input (Upsample) keeps it as it is."""

    __slots__ = ()


class Signature(NamedTuple):
    """A framework's constructor as convcalc reads it (PyTorch's, or Keras's): what a
    call ``Conv2d(3, 64, 7, stride=2)`` (``Conv2D(64, 3, strides=2)``) means, and the
    order of a short form's extra positional values (``conv2d 3 64 3``, ``bn 16``).
    Argument names are the framework's; an argument whose name is one of the kind's
    ``Param`` names sets that Param."""

    args: tuple[str, ...]  # positional-or-keyword arguments, in order
    required: int = 0  # how many of ``args`` PyTorch requires
    kwonly: tuple[str, ...] = ()  # keyword-only arguments
    renames: Mapping[str, str] = _NOTHING  # PyTorch's name → the Param's, where they differ
    # Accepted and type-checked, without effect on any figure (inplace=, device=).
    extra: Mapping[str, ArgType] = _NOTHING
    # Accepted at one value only: name → (value, why no other).
    only: Mapping[str, tuple[Any, str]] = _NOTHING
    anything: bool = False  # takes any arguments and ignores them (nn.Identity)
    # Per-dimension arguments PyTorch takes as one int or one value per dimension, never
    # a shorter tuple (Conv2d's kernel_size=(3,) fails), and those it takes as an int only
    # (LPPool1d multiplies by its kernel_size). The short form broadcasts a 1-tuple.
    whole: tuple[str, ...] = ()
    scalar: tuple[str, ...] = ()
    # Arguments that are ``whole`` unless another has a value: Conv2d's padding=(1,)
    # broadcasts, except with a padding_mode other than 'zeros' (F.pad needs 4 pads).
    whole_unless: Mapping[str, tuple[str, Any]] = _NOTHING


class Entry(NamedTuple):
    """What a kind word means: the class, the fixed arguments, the arguments."""

    word: str
    cls: type[Layer]
    fixed: dict[str, Any]
    params: tuple[Param, ...]
    by_key: dict[str, Param]
    flags: dict[str, tuple[Param, Any]]
    positional: tuple[Param, ...]
    # The framework's constructor the word follows (PyTorch's, or Keras's under Keras).
    torch: Signature | None = None
    torch_name: str = ""  # the framework's class name when the word is one (conv2d: Conv2d)
    # The class whose signature the word follows (bn: BatchNorm1d, dwconv2d: Conv2d).
    torch_class: str = ""
    # Whose classes ``torch`` describes, as messages name it: "PyTorch" or "Keras".
    framework: str = "PyTorch"

    @property
    def summary(self) -> str:
        """The kind in a few words, as the catalog and completion show it."""
        return self.cls.SUMMARY or self.cls.__name__.lower()
