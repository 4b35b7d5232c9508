"""Warnings about networks PyTorch accepts but that are probably not what was meant.

``lint(analysis, *, input_text=None) -> list[LintWarning]``
    The findings, in row order (network-wide ones first). ``input_text`` is the input
    shape as the user wrote it (``-i 100``): only with it can a lone number read as a
    square map be told apart from a shape written out.

``lint_error(exc, *, input_text=None) -> list[LintWarning]`` (in ``failure.py``)
    The same for the rows that ran before a ShapeError: the warnings often say why
    the failing layer failed (an odd size before a U-Net's skip concatenation).

Codes (``LintWarning.code``):

``floor-drop``       a convolution or a floor-mode pool whose windows never reach the last
                     input rows/columns (maxpool k=2 on 55): the fix keeps them
                     (``ceil=true``, more padding).
``channels-last``    an input shaped H×W×C (224x224x3) before a layer that reads channels
                     (PyTorch, ONNX).
``channels-first``   under Keras, an input shaped C×H×W (3x224x224) before a layer that
                     reads its axes (Keras is channels last).
``square-input``     a lone number (``-i 100``) read as a 100×100 map before a layer that
                     grows maps (a transposed conv fed a latent vector: ``-i 100x1x1``?).
``batch-in-input``   an input with a leading 1 (1x3x224x224) that a kind taking its
                     dimensions from the input (conv, maxpool, ONNX's Conv) reads as a
                     one-channel volume: the 1 is most likely the batch.
``rank-guess``       two sizes (224x224) that such a kind reads as C×L (a 1-d layer on 224
                     channels), where a 2-d kind reads them as H×W: when they are equal or
                     the first is above 16 (16x100 is a few channels of a signal).
``linear-on-map``    a linear layer applied to a C×H×W map: it acts on W only.
``norm-on-map``      a layernorm without normalized_shape on a C×H×W map: it normalises W only.
``odd-skip``         an odd size into a stride-2 stage of an encoder–decoder: the
                     upsampled path comes back one short and the skip concat fails.
``tiny-map``         a spatial size collapsed to 0 or 1 while later layers still work on it
                     (VGG on a 32×32 input).
``same-asymmetric``  ``padding='same'`` with an even kernel: one more pixel at the end.
``side-output``      a branch whose output nothing uses: eval mode does not run it
                     (an auxiliary head that ends in a vector is taken as deliberate).
``steps-on-channels`` a recurrent layer (L×features, steps first) given a C×L map, a 1-d
                     convolution's output: it takes the C channels for its steps.
``framework-warns``  what the framework itself warns about when it builds the layer (an
                     LSTM's dropout with num_layers=1: PyTorch's UserWarning).

Each check asks the layer's kind (the lint section of convcalc.kinds.layer.Layer): its
traits (``READS_CHANNELS``, ``MAKES_MAP``, ``UPSAMPLES``, …) and, where a check needs
the kind's own arithmetic, its methods (``windows``, ``floor_windows`` and
``floor_fixes``, ``grows_maps``, …). Under ``--framework keras`` and ``onnx`` the layout
checks, ``floor-drop`` (with the framework's fixes: Keras's ``padding='same'``, ONNX's
``ceil_mode=1`` or end ``pads``) and ``side-output`` apply; the others follow PyTorch's
kinds and stay silent there.

This module holds the checks every analysis runs, each as far as a network without
warnings gets; the rest loads only when needed: ``findings.py`` (``LintWarning``, which
this module names too, and the text of the findings about one row) once a check has
found something, ``inputs.py`` for an input that may be written otherwise than meant,
``graph.py`` for a network with an upsampling stage, a collapsed map or a side branch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc._gc import gc_paused
from convcalc._lazy import lazy
from convcalc.kinds.windows import unseen

if TYPE_CHECKING:
    from convcalc.ask.lint.findings import LintWarning
    from convcalc.network.analysis import Analysis, LayerResult

__all__ = ["LintWarning", "input_findings", "lint"]

__getattr__, __dir__ = lazy(globals(), {"LintWarning": "findings"}, __all__)


@gc_paused()
def lint(analysis: Analysis, *, input_text: str | None = None) -> list[LintWarning]:
    """Every finding about ``analysis`` (see the module docstring). The collector is
    paused: the checks make many small objects and no cycles."""
    rows = analysis.layers
    out: list[LintWarning] = input_findings(analysis, input_text)
    maps = _map_flags(analysis)
    consumers: list[list[int]] | None = None  # graph.consumers, once a check needs them
    upsampling_rows = [r.index for r in rows if _upsamples(r)]
    for pos, row in enumerate(rows):
        layer = row.layer
        odd: list[LintWarning] = []
        if upsampling_rows and upsampling_rows[-1] > row.index:
            from convcalc.ask.lint import graph

            if consumers is None:
                consumers = graph.consumers(analysis)
            odd = graph.odd_skip(analysis, row, consumers, upsampling_rows[0])
        # ceil=true would not mend the skip: the odd-size warning says what does.
        out += odd if odd else _floor_drop(row)
        out += _same_asymmetric(row)
        on_map = maps[row.inputs[0] if row.inputs else pos]
        if layer.LINEAR_ON_LAST_AXIS and on_map:
            from convcalc.ask.lint.findings import linear_on_map

            out += linear_on_map(row)
        if on_map and layer.norms_last_axis():
            from convcalc.ask.lint.findings import norm_on_map

            out += norm_on_map(row)
        if _tiny(row):
            from convcalc.ask.lint import graph

            if consumers is None:
                consumers = graph.consumers(analysis)
            out += graph.tiny_map(analysis, row, consumers)
        given = layer.ignored_channels(row.input)
        if given is not None:
            from convcalc.ask.lint.findings import ignored_features

            out += ignored_features(row, given)
        if layer.READS_STEPS and on_map:
            from convcalc.ask.lint.findings import steps_on_channels

            out += steps_on_channels(row)
        said = layer.construction_warning()
        if said is not None:
            from convcalc.ask.lint.findings import framework_warns

            out += framework_warns(row, said)
    if analysis.side_outputs:
        from convcalc.ask.lint.graph import side_outputs

        out += side_outputs(analysis)
    return out


# --------------------------------------------------------------------------


def input_findings(analysis: Analysis, input_text: str | None) -> list[LintWarning]:
    """The network-wide findings, about the input (inputs.py): channels-last or
    channels-first, square-input (only with ``input_text``, -i as written),
    batch-in-input, rank-guess, in that order. solve hints with them too."""
    shape = analysis.input
    out: list[LintWarning] = []
    image = _image_input(analysis)
    if image is not None:
        first, c, middle, last = image
        reads = first.layer.READS_CHANNELS
        if reads == "first":
            if last in (1, 3, 4) and c >= 8 and all(v is not None and v >= 8 for v in middle):
                from convcalc.ask.lint.inputs import channels_last

                out += channels_last(analysis, *image)
        elif reads == "last":  # Keras
            from convcalc.ask.lint.inputs import channels_first

            out += channels_first(analysis, *image)
    if input_text is not None and input_text.strip().isdecimal():  # \s*\d+\s*, no regex
        from convcalc.ask.lint.inputs import square_input

        out += square_input(analysis, input_text)
    if len(shape) == 4 and shape[0] == 1:
        from convcalc.ask.lint.inputs import batch_in_input

        out += batch_in_input(analysis)
    if len(shape) == 2 and None not in shape:
        from convcalc.ask.lint.inputs import rank_guess

        out += rank_guess(analysis)
    return out


def _image_input(
    analysis: Analysis,
) -> tuple[LayerResult, int, list[int | None], int] | None:
    """A known input of three or more sizes whose first reader takes the channels first
    or last: that row, and the input's first, middle and last sizes."""
    shape = analysis.input
    if len(shape) < 3 or any(v is None for v in shape):
        return None
    first = next((r for r in analysis.layers if 0 in r.inputs), None)
    if first is None or first.layer.READS_CHANNELS is None:
        return None
    c, *middle, last = shape
    assert c is not None and last is not None
    return first, c, middle, last


def _upsamples(row: LayerResult) -> bool:
    """Whether a row enlarges a spatial size (a decoder stage)."""
    if not row.layer.UPSAMPLES:
        return False
    return any(
        a is not None and b is not None and b > a for a, b in zip(row.input[1:], row.output[1:])
    )


def _map_flags(analysis: Analysis) -> list[bool]:
    """For tensor t (0: the input, i: row i's output), whether it is laid out as
    channels × spatial."""
    flags = [len(analysis.input) >= 3]
    for row in analysis.layers:
        layer = row.layer
        if layer.MAKES_MAP:
            flags.append(len(row.output) >= 2)
        elif layer.BREAKS_MAP:
            flags.append(False)
        else:
            flags.append(flags[row.inputs[0]] if row.inputs else False)
    return flags


def _floor_drop(row: LayerResult) -> list[LintWarning]:
    """floor-drop, if the row's windows leave the end of its input unseen."""
    dims = row.layer.floor_windows(row.input, row.output)
    if dims is None:
        return []
    missed_dims = unseen(dims)  # (dim, size, how many)
    if not missed_dims:
        return []
    from convcalc.ask.lint.findings import floor_drop

    return floor_drop(row, dims, missed_dims)


def _same_asymmetric(row: LayerResult) -> list[LintWarning]:
    """same-asymmetric, if the row pads 'same' as PyTorch does with an even kernel."""
    kernels = row.layer.same_kernels(row.input, row.output)
    if kernels is None or not any((dk - 1) % 2 for dk in kernels):
        return []
    from convcalc.ask.lint.findings import same_asymmetric

    return same_asymmetric(row, kernels)


def _tiny(row: LayerResult) -> bool:
    """Whether the row makes or resizes a map and leaves a spatial size 0 or 1
    (tiny-map then asks what comes after it)."""
    layer = row.layer
    if len(row.output) < 2 or not (layer.MAKES_MAP or layer.RESIZES_MAP):
        return False
    return any(v == 0 or v == 1 for v in row.output[1:])
