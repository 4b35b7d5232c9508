"""The PyTorch modules the transformer kinds mean (families/transformer.py): what the model
zoo uses — torchvision's ViT class token / position embedding and ``x[:, 0]``, ConvNeXt's
layer_scale, ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer`` with
``batch_first=True`` — plus permute and transpose as modules.

Attention's MACs: FlopCounterMode cannot see the matmuls of the fused kernels that eval mode
uses, so ``counted_forward`` (see common.run_once) runs the same computation in attention's
composite path with ``need_weights=True`` (grad enabled keeps PyTorch off its fast path);
QKᵀ and AV are then ``bmm`` calls, which the counter counts.
"""

from __future__ import annotations

import torch
from common import Shape
from torch import nn


class Permute(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class Transpose(nn.Module):
    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)


class Scale(nn.Module):
    """ConvNeXt's layer_scale generalised: torchvision's CNBlock multiplies an N×C×H×W tensor
    by a (C, 1, 1) parameter; here a (C, 1, …, 1) parameter lines up C with the batched dim
    ``dim`` (dim=-1: a (C,) parameter, timm's LayerScale on channels-last tokens)."""

    def __init__(self, shape: Shape, dim: int) -> None:
        super().__init__()
        batched = torch.empty(1, *shape)
        c = batched.size(dim)  # IndexError when dim is out of range
        trailing = batched.dim() - 1 - dim % batched.dim()
        self.layer_scale = nn.Parameter(torch.full((c, *[1] * trailing), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * x


class SelfAttention(nn.Module):
    """``mha(x, x, x)`` (need_weights=True, its default); eval + no_grad may take the fused
    fast path, which hides every matmul from FlopCounterMode."""

    def __init__(self, inner: nn.MultiheadAttention) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x, x, x)[0]

    def counted_forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():  # weights that require grad rule out the fast path
            return self.inner(x, x, x, need_weights=True)[0].detach()


class EncoderLayer(nn.Module):
    """nn.TransformerEncoderLayer; ``counted_forward`` is its composite path (the code of
    ``TransformerEncoderLayer.forward`` after the fast-path check) with self-attention run
    as in ``SelfAttention.counted_forward``."""

    def __init__(self, inner: nn.TransformerEncoderLayer) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)

    def counted_forward(self, x: torch.Tensor) -> torch.Tensor:
        layer = self.inner

        def sa(t: torch.Tensor) -> torch.Tensor:
            with torch.enable_grad():
                out = layer.self_attn(t, t, t, need_weights=True)[0].detach()
            return layer.dropout1(out)

        if layer.norm_first:
            x = x + sa(layer.norm1(x))
            return x + layer._ff_block(layer.norm2(x))
        x = layer.norm1(x + sa(x))
        return layer.norm2(x + layer._ff_block(x))


class ClassToken(nn.Module):
    """torchvision ViT: ``cat([class_token.expand(n, -1, -1), x], dim=1)``."""

    def __init__(self, e: int) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, e))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)


class PosEmbedding(nn.Module):
    """torchvision ViT's Encoder: asserts a 3-d input, adds a (1, L, E) parameter."""

    def __init__(self, length: int, e: int) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, length, e).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch._assert(x.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {x.shape}")
        return x + self.pos_embedding


class SelectToken(nn.Module):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]
