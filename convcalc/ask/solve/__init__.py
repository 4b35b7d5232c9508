"""Solve for the hyperparameters that turn one shape into another.

Two entry points:

``solve(layer, input_shape, output_shape, *, limits=None) -> list[Solution]``
    One layer, e.g. ``"conv2d 64 k=7 p=?"``. Its unknowns are the keys marked ``?``
    (``p=?``, ``k=?``, ``adaptiveavgpool ?``); when none is marked, every solvable key
    the text leaves out. Solvable keys: kernel_size ``k``, stride ``s``, padding ``p``,
    dilation ``d`` and output_padding ``op`` of convolutions, transposed convolutions,
    max/avg/LP pooling and max unpooling (whichever the kind takes); the output size
    of adaptive pooling; ``size`` or ``scale`` of upsample/interpolate. A conv's or
    transposed conv's ``out_channels``, when left out or marked ``?``, is set to the
    target's channel count.

``solve_chain(spec, input_shape, output_shape, *, limits=None) -> list[Solution]``
    A chain or graph in which ``?`` marks unknown integer keys (k, s, p, d, op) in one
    or more layers; ``output_shape`` is the network's final output. A spec that is a
    single layer statement is handed to ``solve``.

Both take ``framework`` and ``opset`` as ``analyze`` does (a spec may declare its
own in a leading ``framework`` statement): under Keras the keys are its own
(``strides``, ``dilation_rate``, ``padding=valid|same|causal`` — a word, searched
like a number), shapes and targets are channels last, and a Conv's ``filters`` is
the channels chosen; under ONNX ``pads`` may also come back as ``same_upper`` or as
uneven begin/end pads (``p=1,1,1,2``). Keras's UpSampling solves its ``size`` (a
whole factor per axis), ONNX's Resize its ``sizes`` or ``scales`` (the shortest
decimal whose float32 gives the size). Their candidates come from the layer itself
run on one dimension (Layer.solve_size), so they follow the framework's rules
exactly, ONNX's per-opset pooling included.

Both return every assignment within ``limits`` (default: k ≤ 11, s ≤ 4,
p ≤ max(k, d·(k−1)) — pools: p ≤ k//2 as PyTorch requires —, d ≤ 4,
op < max(s, d)) that the forward engine (``convcalc.analyze``) confirms turns the
input into exactly the output, as ``Solution`` records whose ``spec`` is the complete
runnable text. When none does they raise ``NoSolution`` (a ShapeError: exit 1),
whose ``nearest`` lists the closest reachable outputs and the specs that reach them.
Malformed text raises SpecError; a layer that fails whatever the unknowns are
raises the engine's ShapeError.

Order, as a designer would rank them (convcalc.ask.solve.design):

1. (one layer) assignments that use the same value in every spatial dimension before
   those that need a tuple (``k=3,5``);
2. the designer's criteria, each summed over the solved layers, worst first: windows
   that leave pixels between them unread (a stride longer than the taps reach:
   ``k=1 s=4``); a dilation above 1 not asked for (``d`` solved without ``d=?``); the
   last input rows read by no window (the floor drops them, as the floor-drop warning
   says); a window none of the well-known ones (3×3/2 p=1, ResNet's 7×7/2 p=3 stem and
   3×3/2 p=1 pool, the 4×4/4 patchify, 2×2/2, …; design.STANDARD), then the
   well-known in their table's order; padding that does not centre the window
   (``p = d·(k−1)/2``, a ``same`` word, or k = s with p = 0);
3. fewer solved keys away from their default (s=1, p=0, d=1, op=0; a pool's stride
   defaults to its kernel size; a kernel size has no default);
4. smaller total distance from the defaults (a kernel size counts k − 1);
5. the values themselves, in the order k, s, p, d, op.

A ``Solution`` whose windows leave some input pixels unread (the gaps of 2., or the
dropped last rows) has ``skips_input`` set; ``convcalc solve`` marks it.

``padding=same`` is offered (last) when the padding is unknown, the kernel and
dilation are known and the stride is or may be 1 — it is the only padding that keeps
a size under an even kernel. For upsample, an integer scale comes first, then
``size``, then the shortest decimal scale whose float64 product floors to the target.

How: for single layers the candidates are derived per spatial dimension with the
layer's output formula (docs/arithmetic.md#shapes), dimensions with the same input, target
and known values sharing one answer (so ``k=3`` is offered, not also ``k=3,5`` when
both would do); every candidate is then run through the engine. A 1-wide kernel's
dilation changes nothing, so only d=1 is offered for it (unless a transposed
convolution needs a larger dilation to allow its output_padding). Chains are
searched layer by layer, each candidate layer run on the shape that reaches it,
pruning what PyTorch rejects.
"""

from convcalc.ask.solve.chain import solve_chain
from convcalc.ask.solve.common import Limits, NoSolution, Solution
from convcalc.ask.solve.layer import solve

__all__ = ["Limits", "NoSolution", "Solution", "solve", "solve_chain"]
