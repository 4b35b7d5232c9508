"""The graph operations that take or give more than one tensor: elementwise
``add``/``mul`` with PyTorch's broadcasting, ``concat``, the parts of ``split`` and
``chunk``, the centre ``crop`` of the 2015 U-Net, ``resize_to``, F.interpolate to
another tensor's size (DeepLab's and FCN's heads), and ``subtract`` (RAFT's ``bmm``,
``coords_grid`` and ``corr_lookup`` are in raft_ops.py).

They are not layer kinds (network/statements.py makes them from graph statements),
but they answer the same question a layer does — what comes out of these shapes —
and carry no parameters. Shapes exclude the batch; a dimension number counts the batch
as 0, as PyTorch's ``dim`` does (and Keras's and ONNX's ``axis``). Under Keras the
channels come last (``last``), which only the messages and ``crop`` need to know.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.interpolate import MODE_PARAMS, check_mode
from convcalc.kinds.layer import Layer, Out
from convcalc.kinds.shapes import Shape, Window, fmt_shape

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step


def _dim(kind: str, dim: int, rank: int, word: str = "dim") -> int:
    """``dim`` (PyTorch's numbering, batch = 0, negatives from the end) as an index
    into a batch-less shape of ``rank`` dims."""
    full = rank + 1
    if not -full <= dim < full:
        raise LayerError(
            f"{kind} {word}={dim} is out of range for a {full}-d tensor (batch included): "
            f"expected {-full} to {full - 1}"
        )
    d = dim % full
    if d == 0:
        raise LayerError(
            f"{kind} {word}={dim} is the batch {'axis' if word == 'axis' else 'dimension'}; "
            "convcalc keeps the batch apart"
        )
    return d - 1


def _dim_name(i: int, rank: int = 0, last: bool = False, word: str = "dim") -> str:
    """How a message names index ``i`` of a batch-less shape: the framework's
    number for it (the batch is 0), and which one holds the channels."""
    channels = i == rank - 1 if last else i == 0
    return f"{word} {i + 1}{' (channels)' if channels else ''}"


def _same_rank(kind: str, shapes: Sequence[Shape], labels: Sequence[str]) -> None:
    rank = len(shapes[0])
    for shape, label in zip(shapes[1:], labels[1:]):
        if len(shape) != rank:
            raise LayerError(
                f"{kind}: {fmt_shape(shapes[0])} ({labels[0]}) and {fmt_shape(shape)} "
                f"({label}) have different numbers of dimensions; PyTorch would broadcast "
                "one tensor's batch against the other's features"
            )


class GraphOp(Layer):
    """A graph operation: no weights, and not a layer kind a user names."""

    # Cuts, crops, concatenates, adds or multiplies: integer tensors give one.
    KEEPS_DTYPE = True


_SIGNS = {"add": " + ", "subtract": " - ", "mul": " * "}
_KERAS_MERGE = {"add": "Add", "subtract": "Subtract", "mul": "Multiply"}


class Elementwise(GraphOp):
    """``add`` / ``subtract`` / ``mul``: PyTorch's broadcasting, the batch kept apart. Sizes are
    aligned dimension by dimension; each pair must be equal or one of them 1.
    Under Keras (``last``) a tensor of fewer dimensions first gets size-1 ones
    after the batch, as Keras's Add and Multiply do: a C gate broadcasts over H×W×C."""

    op: str  # "add" | "subtract" | "mul"
    last: bool  # channels last (Keras)
    word: str  # what the framework calls a dimension: dim or axis

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        if self.last:
            rank = max(len(s) for s in shapes)
            shapes = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
        _same_rank(self.op, shapes, labels)
        out: list[int | None] = list(shapes[0])
        for shape, label in zip(shapes[1:], labels[1:]):
            for i, size in enumerate(shape):
                have = out[i]
                if have == size or size == 1:
                    continue
                if have == 1:
                    out[i] = size
                elif have is None or size is None:
                    out[i] = have if size is None else size  # an unknown size: assume they agree
                else:
                    j = next(k for k, s in enumerate(shapes) if s[i] == have)
                    raise LayerError(
                        f"cannot {self.op} {fmt_shape(shapes[j])} ({labels[j]}) and "
                        f"{fmt_shape(shape)} ({label}): "
                        f"{_dim_name(i, len(shape), self.last, self.word)} is {have} vs {size} "
                        "(sizes must be equal, or 1 to broadcast)"
                    )
        return Out(self.op, tuple(out), rf=())

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(_SIGNS[self.op].join(args))

    def keras_forward(self, args: list[str], shapes: list[Shape]) -> str | None:
        """Keras's Add, Subtract or Multiply layer, which broadcast as convcalc's Keras
        does (Subtract takes exactly two tensors)."""
        if self.op == "subtract" and len(args) != 2:
            return None
        return f"layers.{_KERAS_MERGE[self.op]}()([{', '.join(args)}])"

    def explain(self, row: Row) -> list[Step]:
        """A remark: the operands, the result and any broadcasting."""
        from convcalc.kinds.explaining import Step, dim_names, known, shape_text

        if not known(row.input):
            return []
        shapes = list(row.operands)
        sign = {"add": " + ", "subtract": " − ", "mul": " × "}[self.op]
        text = sign.join(shape_text(s) for s in shapes) + " → " + shape_text(row.output)
        names = dim_names(row.output, self.last)
        if self.last:  # Keras gives a tensor of fewer dimensions size-1 ones after the batch
            rank = len(row.output)
            shapes = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
        spread = [
            f"{names[i]}: 1 → {row.output[i]}"
            for i in range(len(row.output))
            if any(s[i] == 1 for s in shapes) and row.output[i] not in (1, None)
        ]
        if spread:
            text += " (broadcast " + ", ".join(spread) + ")"
        return [Step(row.index, "all", None, None, text)]


class Concat(GraphOp):
    """``concat``: torch.cat along ``dim``; every other size must match."""

    dim: int
    last: bool
    word: str

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        _same_rank("concat", shapes, labels)
        d = _dim("concat", self.dim, len(shapes[0]), self.word)
        total: int | None = 0
        for shape, label in zip(shapes, labels):
            for i, (a, b) in enumerate(zip(shape, shapes[0])):
                if i != d and a != b and a is not None and b is not None:
                    raise LayerError(
                        f"cannot concat {fmt_shape(shapes[0])} ({labels[0]}) and "
                        f"{fmt_shape(shape)} ({label}) along {self.word} {self.dim}: "
                        f"{_dim_name(i, len(shape), self.last, self.word)} "
                        f"is {b} vs {a} (every other size must match)"
                    )
            size = shape[d]
            total = None if total is None or size is None else total + size
        out = list(shapes[0])
        out[d] = total
        # Every other dimension may hold an unknown size in one operand only.
        for i in range(len(out)):
            if i != d and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return Out("concat", tuple(out), rf=())

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        """One listed tensor (``concat x`` after x): torch.cat([x]) is x."""
        return self.infer_many([shape], [""], batch)

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"torch.cat([{', '.join(args)}], dim={self.dim})")

    def keras_forward(self, args: list[str], shapes: list[Shape]) -> str:
        """Keras's Concatenate layer along the same axis (the batch is axis 0 there too)."""
        return f"layers.Concatenate(axis={self.dim})([{', '.join(args)}])"

    def explain(self, row: Row) -> list[Step]:
        """The sum of the operands' sizes along the concatenated dimension."""
        from convcalc.kinds.explaining import Step, dim_names, known

        if not known(row.input):
            return []
        rank = len(row.output)
        d = self.dim % (rank + 1) - 1
        names = dim_names(row.output, self.last)
        sizes = [s[d] for s in row.operands]
        others = [names[i] for i in range(rank) if i != d]
        rest = "×".join(str(row.output[i]) for i in range(rank) if i != d)
        note = f"concat along {names[d]}; the other dims ({'×'.join(others)} = {rest}) match"
        if any(v is None for v in sizes):
            return [Step(row.index, names[d], None, row.output[d], note)]
        return [Step(row.index, names[d], " + ".join(map(str, sizes)), row.output[d], note)]


class Part(GraphOp):
    """One part of ``split`` (sizes, or one size for equal parts) or ``chunk``
    (a number of parts), along ``dim``. ``count`` is how many parts the statement
    names; it must be how many PyTorch makes."""

    op: str  # "split" | "chunk"
    sizes: tuple[int, ...]  # split: the sizes, or (size,); chunk: (n,)
    dim: int
    part: int  # 0-based
    count: int
    word: str  # dim or axis

    def parts(self, length: int) -> list[int]:
        if self.op == "chunk":
            (n,) = self.sizes
            if n <= 0:
                raise LayerError(f"chunk needs a positive number of chunks, got {n}")
            if length == 0:
                return [0] * n
            each = -(-length // n)  # torch.chunk: ceil-sized chunks, fewer if they run out
            return [min(each, length - i) for i in range(0, length, each)]
        if len(self.sizes) == 1:
            (each,) = self.sizes
            if each <= 0:
                raise LayerError(f"split size must be positive, got {each}")
            return [min(each, length - i) for i in range(0, length, each)] or [0]
        if any(v < 0 for v in self.sizes):
            raise LayerError(f"split sizes must not be negative, got {list(self.sizes)}")
        if sum(self.sizes) != length:
            raise LayerError(
                f"split sizes {list(self.sizes)} add up to {sum(self.sizes)}, but "
                f"{self.word} {self.dim} has {length}"
            )
        return list(self.sizes)

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        d = _dim(self.op, self.dim, len(shape), self.word)
        length = shape[d]
        if length is None:
            raise LayerError(
                f"{self.op} along {self.word} {self.dim} needs its size, which is unknown"
            )
        parts = self.parts(length)
        if len(parts) != self.count:
            names = "name" if self.count == 1 else "names"
            raise LayerError(
                f"{self.op} makes {len(parts)} part{'s' if len(parts) != 1 else ''} of "
                f"{fmt_shape(shape)} along {self.word} {self.dim} "
                f"({', '.join(map(str, parts))}), "
                f"but {self.count} {names} are given"
            )
        out = list(shape)
        out[d] = parts[self.part]
        return Out(self.op, tuple(out), rf=())

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        sizes = self.sizes
        if self.op == "chunk":
            return TorchCode(f"torch.chunk({args[0]}, {sizes[0]}, dim={self.dim})[{self.part}]")
        amount = str(sizes[0]) if len(sizes) == 1 else "[" + ", ".join(map(str, sizes)) + "]"
        return TorchCode(f"torch.split({args[0]}, {amount}, dim={self.dim})[{self.part}]")

    def keras_forward(self, args: list[str], shapes: list[Shape]) -> str:
        """The part as a slice of the tensor along its axis (Keras has no split layer; a
        slice of a symbolic tensor is an operation of the functional model)."""
        shape = shapes[0]
        d = _dim(self.op, self.dim, len(shape), self.word)
        length = shape[d]
        assert length is not None
        parts = self.parts(length)
        start = sum(parts[: self.part])
        return f"{args[0]}[{':, ' * (d + 1)}{start}:{start + parts[self.part]}]"

    def explain(self, row: Row) -> list[Step]:
        """This part's size along the split dimension (the last part takes the rest)."""
        from convcalc.kinds.explaining import Step, dim_names, known

        if not known(row.input):
            return []
        rank = len(row.input)
        d = self.dim % (rank + 1) - 1
        names = dim_names(row.input, row.framework == "keras")
        size, out = row.input[d], row.output[d]
        if size is None or out is None:
            return []
        i = self.part
        if self.op == "chunk":
            (count,) = self.sizes
            each = -(-size // count) if size else 0
            whole = f"⌈{size} / {count}⌉"
            expr = whole if out == each else f"{size} − {i}·{whole}"
            note = (
                f"part {i + 1} of chunk {count}: chunks of ⌈{size}/{count}⌉, "
                "the last takes the rest"
            )
        elif len(self.sizes) == 1:
            (each,) = self.sizes
            expr = str(each) if out == each else f"{size} − {i}·{each}"
            note = f"part {i + 1}: split into {each}s, the last takes the rest"
        else:
            expr = str(out)
            note = f"part {i + 1} of {' + '.join(map(str, self.sizes))} = {size}"
        return [Step(row.index, names[d], expr, out, note)]


class Crop(GraphOp):
    """``crop NAME``: centre-crop the spatial dimensions to those of another tensor
    (the 2015 U-Net's crop before concatenating a skip connection); the left
    offset is ⌊(L − T)/2⌋. The channels are kept (first, or last under Keras)."""

    last: bool

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        shape, target = shapes
        _same_rank("crop", shapes, labels)
        if len(shape) < 2:
            raise LayerError(f"crop needs spatial dimensions; {fmt_shape(shape)} has none")
        windows: list[Window] = []
        out: list[int | None] = []
        spatial = (shape[:-1], target[:-1]) if self.last else (shape[1:], target[1:])
        for size, want in zip(*spatial):
            if size is not None and want is not None and want > size:
                raise LayerError(
                    f"cannot crop {fmt_shape(shape)} ({labels[0]}) to the size of "
                    f"{fmt_shape(target)} ({labels[1]}): {want} is larger than {size}"
                )
            out.append(want)
            left = 0 if size is None or want is None else (size - want) // 2
            windows.append((1, 1, -left))
        full = (*out, shape[-1]) if self.last else (shape[0], *out)
        return Out("crop", full, rf=tuple(windows))

    TORCH_HELPER = '''
    def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """x cropped to like's size in every dimension after the channels, centred (U-Net)."""
        index = [slice(None), slice(None)]
        for size, want in zip(x.shape[2:], like.shape[2:]):
            start = (size - want) // 2
            index.append(slice(start, start + want))
        return x[tuple(index)]
    '''

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"center_crop({args[0]}, {args[1]})", self.TORCH_HELPER)

    def keras_forward(self, args: list[str], shapes: list[Shape]) -> str | None:
        """Keras's Cropping layer with the centre crop's amounts (channels last only)."""
        shape, target = shapes
        n = len(shape) - 1
        if not self.last or not 1 <= n <= 3:
            return None
        pairs = []
        for size, want in zip(shape[:-1], target[:-1]):
            assert size is not None and want is not None
            before = (size - want) // 2
            pairs.append((before, size - want - before))
        amounts = pairs[0] if n == 1 else tuple(pairs)
        return f"layers.Cropping{n}D(cropping={amounts!r})({args[0]})"

    def explain(self, row: Row) -> list[Step]:
        """The centre crop per spatial dimension: what comes off each side."""
        from convcalc.kinds.explaining import Step, dim_names, known, sides

        shape = row.input
        if not known(shape):
            return []
        names = dim_names(shape, self.last)
        steps = []
        for i in range(len(shape) - 1) if self.last else range(1, len(shape)):
            size, want = shape[i], row.output[i]
            if size is None or want is None:
                continue
            cut = size - want
            lo, hi = sides(names[i])
            expr = f"{size} − ⌊({size} − {want}) / 2⌋ − ⌈({size} − {want}) / 2⌉"
            note = f"centre crop: {cut // 2} off the {lo}, {cut - cut // 2} off the {hi}"
            steps.append(Step(row.index, names[i], expr, want, note))
        return steps

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    CROPS_TO_FIT = True


RESIZE_PARAMS = MODE_PARAMS  # F.interpolate's mode and align_corners


class Resize(GraphOp):
    """``resize_to NAME [mode=…] [align_corners=…]``: ``F.interpolate(x, size=NAME.shape[2:],
    mode=…, align_corners=…)``, the current tensor's channels at the named tensor's
    spatial size (torchvision's segmentation heads resize to the input's H×W; DeepLab's
    image pooling back to the map it pooled). No parameters and, as PyTorch's flop
    counter has it, no MACs."""

    mode: str
    align_corners: bool | None

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        shape, target = shapes
        n = len(shape) - 1
        if not 1 <= n <= 3:
            raise LayerError(
                f"resize expects a C×L, C×H×W or C×D×H×W input, got {fmt_shape(shape)} "
                f"({labels[0]})"
            )
        if len(target) != len(shape):
            raise LayerError(
                f"cannot resize {fmt_shape(shape)} ({labels[0]}) to the size of "
                f"{fmt_shape(target)} ({labels[1]}): {n} spatial dimension"
                f"{'s' if n != 1 else ''} vs {len(target) - 1}"
            )
        check_mode(self.mode, self.align_corners, shape)
        spatial, out = shape[1:], target[1:]
        known = all(v is not None for v in (*spatial, *out))
        if self.mode == "area":
            if known and any(o != 1 for o in out) and 0 in (shape if n == 3 else spatial):
                raise LayerError(
                    f"mode='area' needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                    "accepts an empty batch only" + ("" if n == 3 else " or no channels")
                )
        elif known and (0 in spatial or 0 in out):
            raise LayerError(
                f"input and output sizes must be greater than 0: input {fmt_shape(spatial)}, "
                f"output {fmt_shape(out)} ({labels[1]})"
            )
        elif shape[0] == 0:
            raise LayerError(
                f"mode={self.mode!r} needs a non-empty input, got {fmt_shape(shape)}: PyTorch "
                "accepts an empty batch only"
            )
        return Out("resize", (shape[0], *out), rf=None)

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        align = "" if self.align_corners is None else f", align_corners={self.align_corners}"
        return TorchCode(
            f"nn.functional.interpolate({args[0]}, size={args[1]}.shape[2:], "
            f"mode={self.mode!r}{align})"
        )

    def explain(self, row: Row) -> list[Step]:
        """Each spatial size is the named tensor's."""
        from convcalc.kinds.explaining import Step, dim_names, known

        if not known(row.input):
            return []
        names = dim_names(row.output, False)
        return [
            Step(row.index, names[i], str(row.output[i]), row.output[i], "the named tensor's")
            for i in range(1, len(row.output))
        ]

    # -- lint (convcalc.ask.lint)
    MAKES_MAP = True
    UPSAMPLES = True


def resize(mode: str = "nearest", align_corners: bool | None = None) -> Resize:
    return Resize(mode=mode, align_corners=align_corners)


def elementwise(op: str, last: bool = False, word: str = "dim") -> Elementwise:
    return Elementwise(op=op, last=last, word=word)


def concat(dim: int, last: bool = False, word: str = "dim") -> Concat:
    return Concat(dim=dim, last=last, word=word)


def part(
    op: str, sizes: tuple[int, ...], dim: int, index: int, count: int, word: str = "dim"
) -> Part:
    return Part(op=op, sizes=sizes, dim=dim, part=index, count=count, word=word)


def crop(last: bool = False) -> Crop:
    return Crop(last=last)
