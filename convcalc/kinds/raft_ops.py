"""RAFT's graph operations (torchvision's raft_large/raft_small): ``bmm``, torch.bmm of
two tensors (the all-pairs correlation), and the shape-only ``coords_grid`` and
``corr_lookup``. Like the merges (merge.py) they are not layer kinds:
network/statements.py makes them from graph statements; they carry no parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.errors import LayerError
from convcalc.kinds.layer import Out
from convcalc.kinds.merge import GraphOp
from convcalc.kinds.shapes import Shape, fmt_shape

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.kinds.explaining import Row, Step


class MatMul(GraphOp):
    """``bmm NAME``: ``torch.bmm(x, NAME)``, a matrix product per sample: n×k by k×m
    (each besides the batch) gives n×m, n·k·m MACs, as PyTorch's flop counter has it
    (RAFT's correlation volume, fmap1ᵀ·fmap2)."""

    KEEPS_DTYPE = False

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        a, b = shapes
        for shape, label in zip(shapes, labels):
            if len(shape) != 2:
                raise LayerError(
                    f"bmm multiplies matrices: n×k by k×m besides the batch, got "
                    f"{fmt_shape(shape)} ({label})"
                )
        n, k = a
        k2, m = b
        if k is not None and k2 is not None and k != k2:
            raise LayerError(
                f"cannot bmm {fmt_shape(a)} ({labels[0]}) by {fmt_shape(b)} ({labels[1]}): "
                f"{n}×{k} by {k2}×{m} (the first's columns must be the second's rows)"
            )
        macs = None if None in (n, k, m) else batch * (n or 0) * (k or 0) * (m or 0)
        return Out("bmm", (n, m), macs=macs, rf=None)

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"torch.bmm({args[0]}, {args[1]})")

    def explain(self, row: Row) -> list[Step]:
        """The operands' shapes and the product's: n·k·m MACs per sample."""
        from convcalc.kinds.explaining import Step, known, shape_text

        if not known(row.input):
            return []
        a, b = row.operands
        text = f"{shape_text(a)} @ {shape_text(b)} → {shape_text(row.output)}"
        return [Step(row.index, "all", None, None, text)]


class CoordsGrid(GraphOp):
    """``coords_grid``: RAFT's make_coords_grid at the current map's size, the 2×H×W
    pixel coordinates (x, then y) of its grid; shape only."""

    KEEPS_DTYPE = False

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        if len(shape) != 3:
            raise LayerError(
                f"coords_grid expects a C×H×W map, got {fmt_shape(shape)}: RAFT's "
                "make_coords_grid takes a height and a width"
            )
        return Out("coords_grid", (2, shape[1], shape[2]), rf=None)

    TORCH_HELPER = '''
    def coords_grid(x: torch.Tensor) -> torch.Tensor:
        """RAFT's make_coords_grid at x's size: (N, 2, H, W), x then y."""
        n, _, h, w = x.shape
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        return torch.stack([xs, ys]).float()[None].repeat(n, 1, 1, 1).to(x.device)
    '''

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        return TorchCode(f"coords_grid({args[0]})", self.TORCH_HELPER)


class CorrLookup(GraphOp):
    """``corr_lookup LEVEL… radius=R``: RAFT's CorrBlock.index_pyramid, the current
    tensor being the coordinates (2×H×W) and the named tensors the correlation pyramid,
    each level (H·W)×h×w (one channel per point of the first map: the volume PyTorch
    keeps as (N·H·W)×1×h×w). A bilinear grid_sample of the (2R+1)² window around each
    point on every level: L·(2R+1)² channels at H×W; shape only (no parameters and, as
    PyTorch's flop counter has grid_sample, no MACs)."""

    radius: int

    def infer_many(self, shapes: Sequence[Shape], labels: Sequence[str], batch: int = 1) -> Out:
        coords, *levels = shapes
        if self.radius < 0:
            raise LayerError(f"corr_lookup radius must not be negative, got {self.radius}")
        if len(coords) != 3 or coords[0] != 2:
            raise LayerError(
                f"corr_lookup expects the coordinates as 2×H×W, got {fmt_shape(coords)} "
                f"({labels[0]})"
            )
        _, h, w = coords
        points = None if h is None or w is None else h * w
        for shape, label in zip(levels, labels[1:]):
            if len(shape) != 3:
                raise LayerError(
                    f"corr_lookup expects each pyramid level as (H·W)×h×w, got "
                    f"{fmt_shape(shape)} ({label})"
                )
            if shape[0] is not None and points is not None and shape[0] != points:
                raise LayerError(
                    f"corr_lookup: level {fmt_shape(shape)} ({label}) has {shape[0]} channels, "
                    f"but the coordinates' {h}×{w} grid has {points} points (one channel each)"
                )
            if 0 in shape[1:]:
                raise LayerError(
                    f"corr_lookup: level {fmt_shape(shape)} ({label}) is empty; grid_sample "
                    "needs a non-empty map"
                )
        side = 2 * self.radius + 1
        return Out("corr_lookup", (len(levels) * side * side, h, w), rf=None)

    TORCH_HELPER = '''
    def corr_lookup(coords: torch.Tensor, levels: list[torch.Tensor], radius: int) -> torch.Tensor:
        """RAFT's CorrBlock.index_pyramid, each level (N, H·W, h, w)."""
        n, _, h, w = coords.shape
        side = 2 * radius + 1
        d = torch.linspace(-radius, radius, side, device=coords.device)
        delta = torch.stack(torch.meshgrid(d, d, indexing="ij"), dim=-1).view(1, side, side, 2)
        centres = coords.permute(0, 2, 3, 1).reshape(n * h * w, 1, 1, 2)
        out = []
        for level in levels:
            lh, lw = level.shape[-2:]
            gx, gy = (centres + delta).split([1, 1], dim=-1)
            gx = 2 * gx / (lw - 1) - 1
            gy = 2 * gy / (lh - 1) - 1 if lh > 1 else gy
            volume = level.reshape(n * h * w, 1, lh, lw)
            grid = torch.cat([gx, gy], dim=-1)
            sampled = nn.functional.grid_sample(volume, grid, mode="bilinear", align_corners=True)
            out.append(sampled.view(n, h, w, -1))
            centres = centres / 2
        return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous()
    '''

    def torch_forward(self, args: list[str]) -> TorchCode:
        from convcalc.kinds.code import TorchCode

        levels = ", ".join(args[1:])
        return TorchCode(
            f"corr_lookup({args[0]}, [{levels}], radius={self.radius})", self.TORCH_HELPER
        )


def bmm() -> MatMul:
    return MatMul()


def coords_grid() -> CoordsGrid:
    return CoordsGrid()


def corr_lookup(radius: int) -> CorrLookup:
    return CorrLookup(radius=radius)
