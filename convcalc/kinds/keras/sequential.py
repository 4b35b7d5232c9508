"""A pasted ``keras.Sequential([...])`` read as the chain it spells
(docs/frameworks.md#a-pasted-kerassequential), parsed and never run.

A Keras spec (``--framework keras``, a spec file or standard input) whose first
statement — after blank lines, comments and ``import``/``from … import`` lines — is
a call of ``Sequential`` (``keras.Sequential``, ``tf.keras.Sequential``,
``keras.models.Sequential``, ``models.Sequential``, optionally assigned: ``model =
…``) is such a paste. Its text is rewritten in place, every offset kept for the
error carets: the wrapper (``model = keras.Sequential([``, ``], name="m")``) and the
import lines become blanks, the commas between the list's layers become statement
separators, and a ``keras.Input(shape=(…))`` (``layers.Input``, ``InputLayer``)
becomes the chain's ``input`` statement, which ``-i`` overrides as usual (one that
leaves a size open, ``shape=(None, 8)``, is left out: ``-i`` gives the input). The layers
themselves are Keras's constructor calls, read as any Keras call is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.errors import SpecError
from convcalc.language import tokenize

if TYPE_CHECKING:
    from convcalc.kinds.layer import Layer

_SEQUENTIAL = frozenset(
    {
        "Sequential",
        "keras.Sequential",
        "tf.keras.Sequential",
        "keras.models.Sequential",
        "tf.keras.models.Sequential",
        "models.Sequential",
    }
)
_INPUTS = frozenset({"Input", "InputLayer"})
_BRACKETS = {"(": ")", "[": "]"}


def is_sequential(source: str) -> bool:
    """Whether the text is a pasted keras.Sequential([...]) (see the module's doc)."""
    if "Sequential" not in source:
        return False
    return _start(source, tokenize(source)) is not None


def _start(source: str, tokens: list[tuple[str, str, int, int]]) -> int | None:
    """The index of the ``Sequential`` callee's token, if the text is a paste."""
    i = _skip_imports(source, tokens)
    if i + 1 < len(tokens) and tokens[i + 1][1] == "=" and tokens[i][0] == "word":
        i += 2  # model = …
    if i + 1 < len(tokens) and tokens[i][1] in _SEQUENTIAL and tokens[i + 1][1] == "(":
        return i
    return None


def _skip_imports(source: str, tokens: list[tuple[str, str, int, int]]) -> int:
    """The index of the first token after the leading separators and import lines."""
    i = 0
    while i < len(tokens):
        kind, text, _, _ = tokens[i]
        if kind == "sep":
            i += 1
        elif kind == "word" and text in ("import", "from"):
            while i < len(tokens) and tokens[i][1] != "\n":
                i += 1
        else:
            break
    return i


def _close(tokens: list[tuple[str, str, int, int]], i: int, source: str) -> int:
    """The index of the bracket closing the one at ``i``."""
    opened = [i]
    j = i + 1
    while j < len(tokens):
        text = tokens[j][1]
        if tokens[j][0] == "punct" and text in _BRACKETS:
            opened.append(j)
        elif tokens[j][0] == "punct" and text in (")", "]"):
            if _BRACKETS[tokens[opened[-1]][1]] != text:
                break
            opened.pop()
            if not opened:
                return j
        j += 1
    start, end = tokens[opened[-1]][2:4]
    raise SpecError(
        f"{tokens[opened[-1]][1]!r} is never closed", source=source, start=start, end=end
    )


def rewrite(source: str) -> str:
    """The paste as convcalc's spec, of the same length (see the module's doc)."""
    every = tokenize(source)
    at = _start(source, every)
    assert at is not None
    # Newlines are blanks from here on: the statements are the list's items.
    tokens = [t for t in every if t[1] != "\n"]
    first = next(i for i, t in enumerate(tokens) if t[2] == every[at][2])
    out = list(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    blank(0, tokens[first][2])  # imports, comments and `model =` before it
    opening = first + 1
    closing = _close(tokens, opening, source)
    if closing + 1 < len(tokens):
        _, text, start, end = tokens[closing + 1]
        raise SpecError(
            "after keras.Sequential([...]) nothing more is read (model.summary(), "
            "model.add(…)): leave it out",
            source=source,
            start=start,
            end=tokens[-1][3],
        )
    # The layers' list: Sequential([...]) or Sequential(layers=[...]).
    k = opening + 1
    if k + 1 < closing and tokens[k][1] == "layers" and tokens[k + 1][1] == "=":
        k += 2
    if tokens[k][1] != "[":
        _, text, start, end = tokens[k]
        raise SpecError(
            "keras.Sequential takes its layers as a list: Sequential([layers.Dense(10), …])",
            source=source,
            start=start,
            end=end,
        )
    list_end = _close(tokens, k, source)
    blank(tokens[first][2], tokens[k][3])  # keras.Sequential([
    blank(tokens[list_end][2], tokens[closing][3])  # ], name="m")
    j = k + 1
    while j < list_end:
        kind, text, start, end = tokens[j]
        if kind == "punct" and text == ",":
            out[start] = ";"
            j += 1
        elif kind == "punct" and text in _BRACKETS:
            j = _close(tokens, j, source) + 1
        elif kind == "word" and text.rsplit(".", 1)[-1] in _INPUTS and tokens[j + 1][1] == "(":
            j = _input(tokens, j, source, out)
        else:
            j += 1
    return "".join(out)


def _input(tokens: list[tuple[str, str, int, int]], j: int, source: str, out: list[str]) -> int:
    """Rewrite ``keras.Input(shape=(…), …)`` at ``j`` as ``input (…)``; the index after it."""
    end = _close(tokens, j + 1, source)
    shape: tuple[int, int] | None = None
    k = j + 2
    positional = 0
    while k < end:
        kind, text, start, _ = tokens[k]
        keyed = kind == "word" and tokens[k + 1][1] == "="
        value = k + 2 if keyed else k
        last = _close(tokens, value, source) if tokens[value][1] in _BRACKETS else value
        if (keyed and text in ("shape", "input_shape", "batch_shape")) or (
            not keyed and positional == 0
        ):
            if keyed and text == "batch_shape":
                raise SpecError(
                    "batch_shape includes the batch; give shape= without it",
                    source=source,
                    start=start,
                    end=tokens[last][3],
                )
            shape = (tokens[value][2], tokens[last][3])
        if not keyed:
            positional += 1
        k = last + 1
        if k < end and tokens[k][1] == ",":
            k += 1
    callee_start, callee_end = tokens[j][2], tokens[end][3]
    if shape is None:
        raise SpecError(
            f"{tokens[j][1]}(…) needs shape=(…), the input without the batch",
            source=source,
            start=callee_start,
            end=callee_end,
        )
    if any(t[1].lower() == "none" for t in tokens if shape[0] <= t[2] < shape[1]):
        shape = (callee_start, callee_start)  # a size left open: -i gives the input
    for i in range(callee_start, callee_end):
        if not shape[0] <= i < shape[1] and out[i] != "\n":
            out[i] = " "
    if shape[1] > shape[0]:
        out[callee_start : callee_start + 5] = list("input")
    return end + 1


def refused(source: str, layers: Sequence[tuple[str, Layer]]) -> dict[int, str]:
    """In a pasted Sequential, the layers Keras refuses, by position, each with why:
    a Sequential hands each layer's output, whole, to the next, and a layer that
    returns several tensors (``return_state=True``, ``merge_mode=None``) hands on a
    list, which the next layer does not take (Keras: 'expects 1 input(s), but it
    received N input tensors'). A chain of convcalc's own goes on with the first
    (Layer.keras_output); the Sequential's last layer may return several (the
    model's outputs, convcalc shows the first). ``layers``: each layer's text and
    layer, in order."""
    if not is_sequential(source):
        return {}
    out = {}
    for pos in range(1, len(layers)):
        text, layer = layers[pos - 1]
        if layer.keras_output() is not None:
            out[pos] = (
                f"keras.Sequential hands it the whole output of {text}, which returns several "
                "tensors: Keras refuses it (it expects 1 input, but receives a list); leave "
                "return_state out (or merge_mode=None), or use Keras's functional API"
            )
    return out
