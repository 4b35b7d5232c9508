"""Keras 3 code for an analysed Keras network (``-o keras``): a chain becomes a
``keras.Sequential`` that starts with ``keras.Input(shape=…)``, a graph (branches,
merges, named tensors, blocks, shared layers, a recurrent layer's states) a
functional ``keras.Model``. Each kind writes its own constructor (``Layer.keras_layer``:
every argument that sets a figure by Keras's name; initializers, names and the like
left out) and each graph operation its own call (``Layer.keras_forward``: Add,
Multiply, Concatenate, a slice for split, Cropping for crop); every layer carries a
comment with its output shape. The code needs keras only.

The code is what convcalc analysed, so it needs the whole input shape, channels last,
and a Keras spec (``--framework keras``); a PyTorch or ONNX spec is refused, as is a
layer Keras cannot hold as one (a Bidirectional's out=hidden). A side output (a branch
left behind under a name) is one more output of the model, so that Keras builds and
counts its layers as convcalc does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import ConvcalcError
from convcalc.formats.report import is_graph
from convcalc.kinds.shapes import Shape, fmt_shape

if TYPE_CHECKING:
    from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["CodeError", "to_keras"]

_WHOSE = {"torch": "PyTorch", "onnx": "ONNX"}


class CodeError(ConvcalcError):
    """A network that -o keras cannot write."""


def _check(analysis: Analysis) -> None:
    if analysis.framework != "keras":
        whose = _WHOSE.get(analysis.framework, analysis.framework)
        hint = "-o torch for PyTorch code" if analysis.framework == "torch" else "another -o"
        raise CodeError(
            f"-o keras writes Keras code only for Keras specs, and this one is {whose}; "
            f"give --framework keras (Keras's layer names, channels last), or {hint}"
        )
    if not analysis.layers:
        raise CodeError("-o keras needs at least one layer")
    if None in analysis.input:
        raise CodeError(
            f"-o keras writes keras.Input(shape=…) with every size, and the input "
            f"{fmt_shape(analysis.input)} has an unknown one: give its channels, last "
            "(e.g. -i 32x32x3)"
        )


def _comment(row: LayerResult) -> str:
    spec = " ".join(row.spec.split())
    return f"# {row.index}: {spec} -> {fmt_shape(row.output)}"


def _layer(row: LayerResult) -> str:
    """The row's layer as Keras's constructor, asked of its kind."""
    layer = row.layer
    why = layer.keras_unwritable()
    code = None if why else layer.keras_layer(row.kind, row.input)
    if code is None:
        reason = why or "Keras has no layer for it"
        raise CodeError(f"-o keras cannot write layer {row.index} ({row.spec}): {reason}")
    if row.frozen:
        code = code[:-1] + ("" if code.endswith("()") else ", ") + "trainable=False)"
    return code


def _shape_arg(shape: Shape) -> str:
    sizes = ", ".join(str(s) for s in shape)
    return f"({sizes},)" if len(shape) == 1 else f"({sizes})"


def to_keras(analysis: Analysis, note: str = "") -> str:
    """The network as Keras 3 code (see the module's docstring); ``note`` is a line for
    its header (how the network was read)."""
    _check(analysis)
    graph = (
        is_graph(analysis)
        or bool(analysis.outputs)
        or any(r.shared or r.layer.keras_output() is not None for r in analysis.layers)
    )
    body = _graph(analysis) if graph else _chain(analysis)
    head = [
        "# Keras 3 code convcalc wrote for the network it analysed: input "
        f"{fmt_shape(analysis.input)} (the batch apart), output {fmt_shape(analysis.output)},",
        f"# {analysis.params:,} parameters. Each layer's comment gives its output shape.",
    ]
    if note:
        head.append(f"# {note}")
    head += ["", "import keras", "from keras import layers"]
    several = bool(analysis.outputs or analysis.side_outputs) and graph
    first = "[0]" if several else ""
    example = [
        'if __name__ == "__main__":',
        f"    print(model.count_params())  # {analysis.params}",
        f"    print(model.output_shape{first})  # {(None, *analysis.output)}",
    ]
    return "\n\n\n".join(["\n".join(head), "\n".join(body), "\n".join(example)]) + "\n"


def _chain(analysis: Analysis) -> list[str]:
    lines = ["model = keras.Sequential(", "    ["]
    lines.append(f"        keras.Input(shape={_shape_arg(analysis.input)}),")
    for row in analysis.layers:
        code = _layer(row)
        lines.append(f"        {_comment(row)}")
        lines.append(f"        {code},")
    lines += ["    ]", ")"]
    return lines


def _graph(analysis: Analysis) -> list[str]:
    rows = analysis.layers
    shapes: dict[int, Shape] = {0: analysis.input, **{r.index: r.output for r in rows}}
    shared = {r.shared for r in rows if r.shared is not None}
    made: dict[int, str] = {}  # row index → the variable holding a layer used again
    starts = {b.first: b for b in analysis.blocks}
    lines = [f"x0 = keras.Input(shape={_shape_arg(analysis.input)})"]
    for row in rows:
        block = starts.get(row.index)
        if block is not None:
            lines.append(f"# {'/'.join(block.block)}: {' '.join(block.spec.split())}")
        args = [_var(t) for t in row.inputs]
        op = row.layer.keras_forward(args, [shapes[t] for t in row.inputs])
        named = f" (as {row.name})" if row.name else ""
        if op is not None:
            expr = op
        else:
            if row.shared is not None:
                call = made[row.shared]
            elif row.index in shared:
                call = made[row.index] = f"layer_{row.index}"
                lines.append(f"{call} = {_layer(row)}")
            else:
                call = _layer(row)
            expr = f"{call}({args[0]})"
            pick = row.layer.keras_output()
            if pick is not None:
                expr += f"[{pick}]"
        lines.append(f"{_var(row.index)} = {expr}  {_comment(row)}{named}")
    result = len(rows) if analysis.result == -1 else analysis.result
    ends = [result, *analysis.outputs]
    ends += [r.index for r in analysis.side_outputs if r.index not in ends]
    if len(ends) > 1:
        lines.append("# the result first, then the other outputs (a side output is one too)")
        outputs = "[" + ", ".join(_var(t) for t in ends) + "]"
    else:
        outputs = _var(result)
    lines.append(f"model = keras.Model(inputs=x0, outputs={outputs})")
    return lines


def _var(tensor: int) -> str:
    return f"x{tensor}"
