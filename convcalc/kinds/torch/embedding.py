"""Embedding lookups (docs/arithmetic.md#other-layers): the input holds indices."""

from __future__ import annotations

from convcalc.errors import LayerError
from convcalc.kinds.args import BOOL, FLOAT, INT, PLACED, Param
from convcalc.kinds.layer import Layer, Out, Signature
from convcalc.kinds.shapes import Shape
from convcalc.kinds.torch.registry import register

# The section of --list-layers the module's kinds are listed under.
SECTION = "Embedding"


@register
class Embedding(Layer):
    """nn.Embedding(n, D): indices of any shape (*) → (*, D); n·D parameters."""

    NAMES = {"embedding": {}}
    TORCH = {
        "Embedding": Signature(
            (
                "num_embeddings",
                "embedding_dim",
                "padding_idx",
                "max_norm",
                "norm_type",
                "scale_grad_by_freq",
                "sparse",
            ),
            required=2,
            kwonly=tuple(PLACED),
            # How lookups renormalize, scale gradients and store them: no figure changes.
            extra={"norm_type": FLOAT, "scale_grad_by_freq": BOOL, "sparse": BOOL, **PLACED},
        )
    }
    PARAMS = (
        Param("num_embeddings", INT, positional=True, required=True),
        Param("embedding_dim", INT, positional=True, required=True),
        Param("padding_idx", INT, None),
        Param("max_norm", FLOAT, None),
    )
    SUMMARY = "embedding"

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None
    max_norm: float | None

    def infer(self, shape: Shape, batch: int = 1) -> Out:
        n, d = self.num_embeddings, self.embedding_dim
        if n < 0 or (n == 0 and 0 not in shape):
            # Every index would be out of range (an empty input has none).
            raise LayerError(f"num_embeddings must be positive, got {n}")
        if d < 0:
            raise LayerError(f"embedding_dim must not be negative, got {d}")
        if self.padding_idx is not None and not -n <= self.padding_idx < n:
            raise LayerError(
                f"padding_idx={self.padding_idx} must be within num_embeddings ({-n}..{n - 1})"
            )
        # A lookup multiplies nothing: 0 MACs.
        return Out("embedding", (*shape, d), params=n * d, rf=None)

    def tie_weight(self, shape: Shape) -> tuple[int, ...] | None:
        return (self.num_embeddings, self.embedding_dim)

    EXAMPLE, EXAMPLE_INPUT = "1000 64", "12"

    # -- dtypes (convcalc.network.analysis; -o torch's example input is long zeros)
    READS_INDICES = (
        "PyTorch's nn.Embedding raises \"Expected tensor for argument #1 'indices' to have "
        'one of the following scalar types: Long, Int; but got torch.FloatTensor"'
    )

    # -- lint (convcalc.ask.lint)
    BREAKS_MAP = True
