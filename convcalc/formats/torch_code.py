"""PyTorch code for an analysed network (``-o torch``): a chain becomes an
``nn.Sequential``, a graph (branches, merges, blocks, shared layers) an ``nn.Module``
class with ``__init__`` and ``forward``. Every constructor argument is written out by
PyTorch's name, the ones the input fixes (in_channels, in_features, num_features, …)
taken from the propagated shapes, and every layer carries a comment with its output
shape. The code needs torch only: the few layers without an nn class (ViT's class
token, torchvision's LayerNorm2d and StochasticDepth, permute, …) come with a small
class of their own.

Every argument is explicit but ``device``/``dtype``, and the ``bias=`` that BatchNorm,
InstanceNorm and GroupNorm take since PyTorch 2.13, written only when it is False.

The code is what convcalc analysed, so it builds only from known figures: every size
must be known (an input with an unknown channel count cannot be written), and MaxUnpool,
which needs its pool's indices, has no place in it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.errors import ConvcalcError
from convcalc.formats.report import is_graph
from convcalc.kinds.shapes import Shape, fmt_shape

if TYPE_CHECKING:
    from convcalc.kinds.code import TorchCode
    from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["to_torch"]


class CodeError(ConvcalcError):
    """A network that -o torch cannot write."""


def _shape_text(shape: Shape) -> str:
    return fmt_shape(shape)


def _known(row: LayerResult) -> None:
    for shape in (row.input, row.output):
        if None in shape:
            raise CodeError(
                f"-o torch writes every size, and layer {row.index} ({row.spec}) has an "
                f"unknown one ({fmt_shape(shape)}): give the input's channel count "
                "(e.g. -i 3x32x32)"
            )


def _module(row: LayerResult) -> TorchCode:
    """The row's layer as a module (``nn.Conv2d(in_channels=3, …)``), asked of its kind."""
    _known(row)
    layer = row.layer
    if layer.TORCH_UNWRITABLE:
        raise CodeError(
            f"-o torch cannot write layer {row.index} ({row.spec}): {layer.TORCH_UNWRITABLE}"
        )
    code = layer.torch_module(row.kind, row.input)
    if code is None:  # pragma: no cover - every PyTorch kind has a class
        raise CodeError(f"-o torch cannot write layer {row.index} ({row.spec})")
    return code


def _add(helpers: list[str], code: TorchCode) -> None:
    """Note the helper ``code`` needs, once."""
    helper = textwrap.dedent(code.helper).strip("\n")
    if helper and helper not in helpers:
        helpers.append(helper)


# --------------------------------------------------------------------------------------------
# The file.


def _header(analysis: Analysis, note: str) -> list[str]:
    lines = [
        f"# PyTorch code convcalc wrote for the network it analysed: input "
        f"{_shape_text(analysis.input)} (the batch apart), output {_shape_text(analysis.output)},",
        f"# {analysis.params:,} parameters. Each layer's comment gives its output shape.",
    ]
    if note:
        lines.append(f"# {note}")
    return lines


def _example(analysis: Analysis, build: str) -> list[str]:
    sizes = ", ".join(str(s) for s in (1, *analysis.input))
    # An input of indices (an embedding reads it): long zeros, a valid index anywhere.
    make = (
        f"torch.zeros({sizes}, dtype=torch.long)" if analysis.indices else f"torch.randn({sizes})"
    )
    out = ", ".join(str(s) for s in (1, *analysis.output))
    first = "[0]" if analysis.outputs else ""  # 'return out aux': a tuple, the result first
    return [
        'if __name__ == "__main__":',
        f"    model = {build}.eval()",
        f"    x = {make}",
        "    with torch.no_grad():",
        f"        print(model(x){first}.shape)  # torch.Size([{out}])",
    ]


def _imports(helpers: Sequence[str], any_type: bool) -> list[str]:
    lines = []
    if any_type or any(re.search(r"\bAny\b", h) for h in helpers):  # a helper's annotation
        lines += ["from typing import Any", ""]
    return [*lines, "import torch", "from torch import nn"]


def to_torch(analysis: Analysis, note: str = "") -> str:
    """The network as PyTorch code (see the module's docstring); ``note`` is a line for
    its header (how the network was read)."""
    if not analysis.layers:
        raise CodeError("-o torch needs at least one layer")
    # A frozen, shared (one module applied twice) or tied layer needs __init__ and forward too.
    graph = is_graph(analysis) or any(r.frozen or r.shared or r.tied for r in analysis.layers)
    body, helpers = _graph(analysis) if graph else _chain(analysis)
    head = [
        *_header(analysis, note),
        "",
        *_imports(helpers, any(r.side for r in analysis.layers) or bool(analysis.outputs)),
    ]
    parts = ["\n".join(head), *helpers, "\n".join(body)]
    parts.append("\n".join(_example(analysis, "Net()" if graph else "model")))
    return "\n\n\n".join(parts) + "\n"


def _chain(analysis: Analysis) -> tuple[list[str], list[str]]:
    helpers: list[str] = []
    lines = ["model = nn.Sequential("]
    for row in analysis.layers:
        module = _module(row)
        _add(helpers, module)
        lines.append(f"    # {row.index}: {row.spec} -> {_shape_text(row.output)}")
        lines.append(f"    {module.code},")
    lines.append(")")
    return lines, helpers


def _graph(analysis: Analysis) -> tuple[list[str], list[str]]:
    helpers: list[str] = []
    rows = analysis.layers
    attrs: dict[int, str] = {}  # row index → the attribute holding its module
    init: list[str] = []
    forward_main: list[str] = []
    forward_side: list[str] = []
    starts = {b.first: b for b in analysis.blocks}
    for row in rows:
        out = forward_side if row.side else forward_main
        args = [_var(t) for t in row.inputs]
        op = row.layer.torch_forward(args)  # a graph operation: an expression, no module
        block = starts.get(row.index)
        if block is not None:
            title = f"# {'/'.join(block.block)}: {block.spec}"
            out.append(title)
            if row.shared is None and op is None:
                init.append(title)
        comment = f"# {row.index}: {row.spec} -> {_shape_text(row.output)}"
        if op is not None:
            _add(helpers, op)
            expr = op.code
        else:
            if row.shared is not None:
                attr = attrs[row.shared]
            else:
                module = _module(row)
                _add(helpers, module)
                attr = f"{_attr_kind(row)}_{row.index}"
                init.append(comment)
                init.append(f"self.{attr} = {module.code}")
                if row.tied is not None:  # tie=NAME: one weight, two modules
                    init.append(f"self.{attr}.weight = self.{attrs[row.tied]}.weight")
                if row.frozen:
                    init.append(f"self.{attr}.requires_grad_(False)")
                comment = f"# -> {_shape_text(row.output)}"
            attrs[row.index] = attr
            expr = row.layer.torch_call(f"self.{attr}", args)
        named = f" (as {row.name})" if row.name else ""
        out.append(f"{_var(row.index)} = {expr}  {comment}{named}")
    result = len(rows) if analysis.result == -1 else analysis.result
    returned = ", ".join(_var(t) for t in (result, *analysis.outputs))
    returns = "Any" if forward_side or analysis.outputs else "torch.Tensor"
    lines = [
        "class Net(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
    ]
    lines += [f"        {line}" for line in init]
    lines += ["", f"    def forward(self, x0: torch.Tensor) -> {returns}:"]
    lines += [f"        {line}" for line in forward_main]
    if forward_side:
        ends = [_var(r.index) for r in analysis.side_outputs]
        lines.append("        if self.training:  # side outputs: eval mode does not run them")
        lines += [f"            {line}" for line in forward_side]
        lines.append(f"            return {returned}, {', '.join(ends)}")
    lines.append(f"        return {returned}")
    return lines, helpers


def _attr_kind(row: LayerResult) -> str:
    return row.kind.replace("-", "_")


def _var(tensor: int) -> str:
    return f"x{tensor}"
