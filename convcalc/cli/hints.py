"""Hints under a spec error for the slips a newcomer makes: an input shape written
as the first layer word (``convcalc 3x224x224 conv2d …``: it goes after -i), a
built-in model's name as a layer word (``resnet50``: -m), and a Keras or ONNX
spec read under PyTorch's conventions (``Conv2D 64 3 padding=same``: --framework
keras). Asked only on the error path, so nothing here costs a working command
anything; the Keras and ONNX catalogs are imported only then."""

from __future__ import annotations

import re

from convcalc.errors import ConvcalcError, SpecError

# A statement's text before the offending word holds nothing but blanks, separators
# and comments: the word starts the spec.
_LEADING = re.compile(r"(?:[\s;|]+|#[^\n]*)*")


def spec_hints(exc: SpecError, spec: str, *, framework: str | None, in_file: bool) -> list[str]:
    """``hint: …`` lines for ``exc``, an error in ``spec`` (the whole text analysed:
    a file's and the command line's words); ``framework``: the one asked for with
    --framework (None: PyTorch's by default); ``in_file``: the offending word is in
    a spec file or stdin, not among the command line's words."""
    word = exc.word
    if not word:
        return []
    hints = [
        hint
        for hint in (
            _shape_first(exc, word, in_file),
            _model(word),
            _framework(exc, word, spec) if framework is None else None,
        )
        if hint
    ]
    return [f"hint: {hint}" for hint in hints]


def _shape_first(exc: SpecError, word: str, in_file: bool) -> str | None:
    """The spec starts with a shape: the input, given where a layer was expected."""
    assert exc.start is not None
    if _LEADING.fullmatch(exc.source, 0, exc.start) is None:
        return None
    from convcalc.network.analysis import parse_shape

    try:
        shape = parse_shape(word)
    except ConvcalcError:
        return None
    text = "x".join(map(str, shape))
    if in_file:
        return f"an input shape starts the spec as a statement: input {text}"
    return f"the input shape goes after -i: convcalc -i {text} …"


def _model(word: str) -> str | None:
    """A built-in model's name where a layer kind was expected."""
    from convcalc.network.zoo import models

    key = word.lower().replace("-", "_")
    if not any(m.name == key for m in models()):
        return None
    return f"{key} is a built-in model: convcalc -m {key} (--list-models lists them)"


def _framework(exc: SpecError, word: str, spec: str) -> str | None:
    """Keras's or ONNX's spelling under PyTorch's conventions: the offending word
    is no PyTorch word in that spelling (a kind, a class or an argument PyTorch
    names otherwise), and the spec does read under the other framework."""
    from convcalc.kinds import frameworks
    from convcalc.kinds.torch.registry import TORCH_CLASSES

    if frameworks.declared(spec) is not None:
        return None
    torch_kinds = frameworks.TORCH.kinds
    lower = word.lower()
    if not re.fullmatch(r"[A-Za-z_][\w.]*", word) or word in TORCH_CLASSES:
        return None
    if lower in torch_kinds and word == lower:
        return None  # PyTorch's own word: the slip is elsewhere
    if _is_call(exc):
        return _call(word, exc)
    assert exc.end is not None
    if not _spelled_by(word) and exc.source[exc.end : exc.end + 1] != "=":
        return None  # neither framework's word (a typo, an unknown name): no switch helps
    fits = [name for name in ("keras", "onnx") if _binds(spec, name)]
    if not fits:
        return None
    return _switch(exc, word, fits)


def _switch(exc: SpecError, word: str, fits: list[str]) -> str:
    """The hint naming the framework(s) whose conventions the spec reads under."""
    own = _spelled_by(word)
    named = [n for n in fits if n in own] or fits
    assert exc.end is not None
    if exc.source[exc.end : exc.end + 1] == "=":
        whose = f"{word}= is no argument of PyTorch's"
    elif named[0] in own:
        whose = f"{word} is {_WHOSE[named[0]]} spelling"
    else:
        whose = f"{word} is not PyTorch's spelling"
    ways = " or ".join(f"--framework {n}" for n in named)
    reads = " or ".join(_TITLE[n] for n in named)
    layout = " (its shapes are channels last, e.g. -i 224x224x3)" if named == ["keras"] else ""
    return f"{whose}; with {ways} the spec reads as {reads}{layout}"


_WHOSE = {"keras": "Keras's", "onnx": "ONNX's"}
_TITLE = {"keras": "Keras", "onnx": "ONNX"}


def _is_call(exc: SpecError) -> bool:
    assert exc.end is not None
    return exc.source[exc.end : exc.end + 1] == "("


def _call(word: str, exc: SpecError) -> str | None:
    """``Conv2D(64, 3)``: PyTorch has no such class, Keras has; Keras's layers are
    written as words (Conv2D 64 3), which is what the hint shows."""
    name = word.rsplit(".", 1)[-1]
    assert exc.end is not None
    words = _as_words(name, exc.source, exc.end)
    for fw in _spelled_by(name):
        way = f"or, for {_WHOSE[fw]} {name}: --framework {fw}, the layer written as words"
        if words is not None and _binds(words, fw):
            return f"{way}: {words}"
        return f"{way} (convcalc --framework {fw} --help-layer {name})"
    return None


def _as_words(name: str, source: str, open_at: int) -> str | None:
    """``Conv2D(64, 3, padding="same")`` as the short form ``Conv2D 64 3 padding=same``
    (None when the parentheses do not close on the line)."""
    depth = 0
    parts: list[str] = []
    current = ""
    for i in range(open_at, len(source)):
        ch = source[i]
        if ch == "\n":
            return None
        if ch in "([":
            depth += 1
            if depth == 1:
                continue
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                parts.append(current)
                words = [re.sub(r"""["'\s]""", "", p) for p in parts]
                return " ".join([name, *filter(None, words)])
        elif ch == "," and depth == 1:
            parts.append(current)
            current = ""
            continue
        current += ch
    return None


def _binds(spec: str, framework: str) -> bool:
    """Whether ``spec``'s words all bind under ``framework``'s kinds (its shapes
    aside: an input written for another layout is no reason to doubt the words)."""
    from convcalc.kinds import frameworks
    from convcalc.language import parse
    from convcalc.network.graph import build

    fw = frameworks.get(framework)
    try:
        build(parse(spec, fw.kinds, fw.word_kinds, fw.classes), fw)
    except SpecError:
        return False
    except ConvcalcError:  # pragma: no cover - build raises spec errors only
        return True
    return True


def _spelled_by(word: str) -> list[str]:
    """The frameworks (of Keras and ONNX) whose own class or operator is spelled
    ``word`` exactly (Conv2D: Keras; GlobalAveragePool: ONNX)."""
    from convcalc.kinds import keras, onnx

    return [
        name
        for name, package in (("keras", keras), ("onnx", onnx))
        if word in package.class_names()
    ]
