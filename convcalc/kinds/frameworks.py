"""The frameworks whose conventions convcalc follows. One engine and one spec
language; the framework decides which registry of layer kinds binds the words
(and so which shape and parameter rules they follow), the layout of a shape
(PyTorch and ONNX channels first, Keras channels last) and the default axis of
the graph statements that take one.

A spec may say what it is in its first statement, ``framework keras`` (ONNX:
``framework onnx opset=17``); :func:`resolve` reconciles that with what the
caller asked for. The Keras and ONNX catalogs are imported only when asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from convcalc._records import NamedTuple
from convcalc.errors import SpecError
from convcalc.kinds.torch.registry import KINDS, REGISTRY, TORCH_CLASSES

if TYPE_CHECKING:
    from convcalc.kinds.layer import Entry
    from convcalc.language import LayerStmt

__all__ = [
    "DEFAULT_OPSET",
    "FRAMEWORKS",
    "FRAMEWORK_ALIASES",
    "OPSETS",
    "Framework",
    "declared",
    "get",
]

FRAMEWORKS = ("torch", "keras", "onnx")
# Other spellings --framework and the framework statement accept.
FRAMEWORK_ALIASES = {
    "pytorch": "torch",
    "tf": "keras",
    "tensorflow": "keras",
    "tf.keras": "keras",
    "keras3": "keras",
}
# ONNX opsets convcalc models (shape rules changed in 18, 19 and 22; see convcalc.kinds.onnx).
OPSETS = range(13, 27)
DEFAULT_OPSET = 22


class Framework(NamedTuple):
    """One framework's conventions."""

    name: str  # torch | keras | onnx
    registry: Mapping[str, Entry]
    kinds: frozenset[str]
    # Kinds whose first value is a word that may itself name a kind (Activation relu).
    word_kinds: frozenset[str] = frozenset()
    channels_last: bool = False
    opset: int | None = None  # ONNX only
    # PyTorch's class names, for the hint on an unknown call (Conv2D(…) → Conv2d).
    classes: Mapping[str, str] = TORCH_CLASSES

    @property
    def axis(self) -> int:
        """The default axis of concat, split and chunk: the channels."""
        return -1 if self.channels_last else 1

    @property
    def axis_word(self) -> str:
        """What the framework calls a dimension number: PyTorch's dim, the others' axis."""
        return "dim" if self.name == "torch" else "axis"

    def describe(self) -> str:
        """``keras, channels last`` / ``onnx opset 22, channels first``: the table
        header's note (PyTorch's convention is the default and needs none)."""
        name = self.name if self.opset is None else f"{self.name} opset {self.opset}"
        return f"{name}, channels {'last' if self.channels_last else 'first'}"


TORCH = Framework("torch", REGISTRY, KINDS)


def get(name: str = "torch", opset: int | None = None) -> Framework:
    """The framework ``name`` (an alias is fine); ``opset`` for ONNX only."""
    key = FRAMEWORK_ALIASES.get(name.lower(), name.lower())
    if key not in FRAMEWORKS:
        from convcalc.language import suggest

        hint = suggest(key, [*FRAMEWORKS, *FRAMEWORK_ALIASES])
        message = f"unknown framework {name!r}: expected one of {', '.join(FRAMEWORKS)}"
        raise SpecError(message + (f" (did you mean {hint!r}?)" if hint else ""))
    if opset is not None and key != "onnx":
        raise SpecError(f"an opset is an ONNX setting; {key} has none")
    if key == "torch":
        return TORCH
    if key == "keras":
        from convcalc.kinds import keras

        return Framework("keras", keras.REGISTRY, keras.KINDS, keras.WORD_KINDS, True)
    from convcalc.kinds import onnx

    if opset is None:
        opset = DEFAULT_OPSET
    if opset not in OPSETS:
        raise SpecError(
            f"convcalc models ONNX opsets {OPSETS.start} to {OPSETS.stop - 1}, not {opset}"
        )
    return Framework("onnx", onnx.REGISTRY, onnx.KINDS, onnx.WORD_KINDS, False, opset)


# A leading 'framework WORD' statement, after blanks, separators and comments
# (compiled on first use, by re's cache: most specs have none).
_DECLARED = r"(?:[\s;|]+|#[^\n]*)*framework[^\S\n]+([^\s=;|(),#]+)"


def declared(source: str) -> str | None:
    """The framework word of a spec's leading ``framework`` statement, if any: it
    decides which words are layer kinds before the spec is parsed."""
    if "framework" not in source[:4096].lower():
        return None
    m = re.match(_DECLARED, source, re.IGNORECASE)
    return m.group(1) if m else None


def from_statement(
    stmt: LayerStmt, source: str, asked: str | None, asked_opset: int | None
) -> Framework:
    """The framework a spec's leading ``framework NAME [opset=N]`` statement
    declares, checked against the one the caller ``asked`` for (None: any)."""

    def fail(message: str, start: int, end: int) -> SpecError:
        return SpecError(message, source=source, start=start, end=end)

    names = [a for a in stmt.args if a.key is None]
    keys = {a.key: a for a in stmt.args if a.key is not None}
    if len(names) != 1 or names[0].value.kind != "name":
        raise fail(
            f"'framework' takes one name: {', '.join(FRAMEWORKS)} (e.g. framework keras)",
            stmt.start,
            stmt.end,
        )
    value = names[0].value
    word = str(value.value)
    for key, arg in keys.items():
        if key != "opset":
            raise fail(
                f"'framework' has no argument {key!r} (ONNX takes opset=)",
                arg.key_start,
                arg.value.end,
            )
    opset = None
    if "opset" in keys:
        arg = keys["opset"]
        if arg.value.kind != "int":
            raise fail("opset= takes a whole number, e.g. opset=17", arg.value.start, arg.value.end)
        opset = int(arg.value.value)  # type: ignore[arg-type]
    try:
        framework = get(word, opset)
    except SpecError as exc:
        where = keys["opset"].value if "opset" in keys and "opset" in exc.message.lower() else value
        raise fail(exc.message, where.start, where.end) from None
    if asked is not None and get(asked).name != framework.name:
        raise fail(
            f"the spec says 'framework {framework.name}', but {get(asked).name} was asked for",
            value.start,
            value.end,
        )
    if asked_opset is not None and opset is not None and asked_opset != opset:
        raise fail(
            f"the spec says opset {opset}, but opset {asked_opset} was asked for",
            keys["opset"].value.start,
            keys["opset"].value.end,
        )
    if asked_opset is not None and opset is None:
        if framework.name != "onnx":
            raise fail(
                f"an opset is an ONNX setting, and the spec says 'framework {framework.name}'",
                value.start,
                value.end,
            )
        framework = framework._replace(opset=get("onnx", asked_opset).opset)
    return framework


def prepared(fw: Framework, source: str) -> str:
    """The spec text as ``fw``'s parser reads it, of the same length: under Keras a
    pasted ``keras.Sequential([...])`` is rewritten as the chain it spells
    (kinds/keras/sequential.py); any other text is returned as it is."""
    if fw.name != "keras" or "Sequential" not in source:
        return source
    from convcalc.kinds.keras import sequential

    return sequential.rewrite(source) if sequential.is_sequential(source) else source
