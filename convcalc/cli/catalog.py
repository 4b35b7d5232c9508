"""The catalog of layer kinds as a user reads it: ``convcalc --list-layers`` and
``convcalc --help-layer KIND``, generated from the registry so that the tool and
the README (which shows their output) cannot drift apart. Plain text: neither
click nor rich. Every example is run through convcalc before it is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcalc.formats.text import exact, shape

if TYPE_CHECKING:
    from convcalc.kinds.args import Param
    from convcalc.kinds.frameworks import Framework
    from convcalc.kinds.layer import Entry
    from convcalc.network.analysis import Analysis

# The sections of the catalog, in the order they are listed; each kind module names
# its own (its SECTION), and one that names none is listed last, under OTHER.
SECTIONS = (
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation and dropout",
    "Resampling, reshaping and linear",
    "Embedding",
    "Sequences and transformers",
    "Padding, cropping, resampling and reshaping",  # Keras's
    "Core layers, normalization and activations",  # Keras's and ONNX's
)
# Whose names the long keys are, per framework.
LONG_KEYS = {"torch": "PyTorch's name", "keras": "Keras's name", "onnx": "ONNX's attribute name"}
OTHER = "Other layers"
SUMMARY_WIDTH = 30  # a longer summary takes a line of its own, the names under it

# Inputs to try for a kind's example (its class's EXAMPLE and EXAMPLE_INPUT say what to
# write and which input first): one for its dimensions, then these, until one works.
DIM_INPUTS = {1: "16x100", 2: "16x32x32", 3: "4x16x32x32"}
FALLBACK_INPUTS = ("16x32x32", "16x100", "4x16x32x32", "10x64", "784", "12")


def _family(entry: Entry) -> tuple[type, str]:
    return entry.cls, entry.summary


def _framework(framework: Framework | None) -> Framework:
    if framework is not None:
        return framework
    from convcalc.kinds.frameworks import TORCH

    return TORCH


def _sections(framework: Framework | None = None) -> dict[str, dict[tuple[type, str], list[str]]]:
    """Registry words by section, then by (class, summary): a family's names together."""
    sections: dict[str, dict[tuple[type, str], list[str]]] = {}
    for word, entry in _framework(framework).registry.items():
        section = getattr(sys.modules[entry.cls.__module__], "SECTION", OTHER)
        families = sections.setdefault(section, {})
        families.setdefault(_family(entry), []).append(word)
    order = {title: n for n, title in enumerate(SECTIONS)}
    return dict(sorted(sections.items(), key=lambda item: order.get(item[0], len(order))))


def _wrap(words: Sequence[str], width: int, indent: int) -> list[str]:
    """``words`` joined by ', ' in lines of ``width``, each indented by ``indent``."""
    lines: list[str] = []
    line = ""
    for word in words:
        if line and indent + len(line) + 2 + len(word) + 1 > width:  # +1: its comma
            lines.append(line + ",")
            line = word
        else:
            line = f"{line}, {word}" if line else word
    lines.append(line)
    return [" " * indent + text for text in lines]


def layer_list(width: int = 80, framework: Framework | None = None) -> str:
    """``--list-layers``: every layer kind with its summary, grouped by module (of
    ``framework``'s kinds, PyTorch's by default)."""
    sections = _sections(framework)
    summaries = [s for fams in sections.values() for _cls, s in fams]
    col = 2 + min(SUMMARY_WIDTH, max(map(len, summaries))) + 2
    out: list[str] = []
    for title, families in sections.items():
        out += [f"{title}:"] if not out else ["", f"{title}:"]
        for (_cls, summary), words in families.items():
            names = _wrap(words, max(width, col + 24), col)
            if 2 + len(summary) + 2 > col:
                out.append(f"  {summary}")
            else:
                names[0] = f"  {summary}".ljust(col) + names[0][col:]
            out += names
    fw = _framework(framework)
    flag = "" if fw.name == "torch" else f"--framework {fw.name} "
    out += ["", f"One kind in detail: convcalc {flag}--help-layer KIND"]
    return "\n".join(out) + "\n"


def _default(param: Param) -> str:
    if param.required:
        return "required"
    value = param.default
    if value is None:
        return ""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, tuple):
        value = str(value[0]) if len(set(value)) == 1 else "x".join(map(str, value))
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"default {value}"


def _word(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# Inputs to try per spatial dimensionality, channels last (Keras).
DIM_INPUTS_LAST = {1: "100x16", 2: "32x32x16", 3: "16x32x32x4"}
FALLBACK_INPUTS_LAST = ("32x32x16", "100x16", "16x32x32x4", "10x64", "784")


def example(
    word: str, framework: Framework | None = None
) -> tuple[str, str | None, Analysis | None]:
    """A working example of ``word``: the layer's text, the input shape it was
    run on and the analysis (None, None when no candidate works)."""
    from convcalc.errors import ConvcalcError
    from convcalc.network.analysis import analyze

    fw = _framework(framework)
    entry = fw.registry[word]
    cls = entry.cls
    args, shape_text = cls.catalog_example(word)
    dim = entry.fixed.get("dim")
    dims, fallback = (
        (DIM_INPUTS_LAST, FALLBACK_INPUTS_LAST)
        if fw.channels_last
        else (
            DIM_INPUTS,
            FALLBACK_INPUTS,
        )
    )
    inputs = [s for s in (shape_text, dims.get(dim) if dim else None) if s]
    inputs += [s for s in fallback if s not in inputs]
    texts = [f"{word} {args}".strip(), word] if args else [word]
    conventions = {} if fw.name == "torch" else {"framework": fw.name, "opset": fw.opset}
    for text in texts:  # a bare word when the family's arguments do not apply (gap)
        for candidate in inputs:
            try:
                return text, candidate, analyze(text, candidate, **conventions)  # type: ignore[arg-type]
            except ConvcalcError:
                continue
    return texts[0], None, None


def _torch_usage(entry: Entry) -> list[str]:
    """The framework's spellings: positional values in its order, and the call."""
    sig = entry.torch
    if sig is None:
        return []
    out = []
    names = [p.name for p in entry.positional]
    mapped = [sig.renames.get(a, a) for a in sig.args]
    if len(mapped) > len(names) or mapped[: len(names)] != names:
        required = list(sig.args[: max(sig.required, len(names) + 1)])
        rest = " …" if len(sig.args) > len(required) else ""
        # A value written only as a call (TransformerEncoderLayer(…)) ends the values:
        # the framework's order cannot be written after it, only as the call below.
        params = [entry.by_key.get(sig.renames.get(a, a)) for a in required[:-1]]
        if not any(p is not None and p.type.call_only for p in params):
            order = f"{entry.word} {' '.join(required)}{rest}"
            out.append(f"   or: {order}  ({entry.framework}'s order)")
    cname = entry.torch_class
    if cname:
        shown = [*sig.args[: sig.required], *(f"{a}=…" for a in sig.args[sig.required :])]
        shown = [a for a in shown if a.split("=")[0] not in ("device", "dtype")]
        if len(shown) > 6:
            shown = [*shown[:6], "…"]
        out.append(f"   or: {cname}({', '.join(shown)})  (a {entry.framework} call)")
    return out


def layer_help(word: str, framework: Framework | None = None) -> str:
    """``--help-layer KIND``: the kind's summary and other names, its arguments
    (short and long keys, types, defaults), an example run through convcalc
    itself, and its note if it has one."""
    fw = _framework(framework)
    registry = fw.registry
    entry = registry[word]
    family = _family(entry)
    others = [w for w, e in registry.items() if _family(e) == family and w != word]
    lines = [f"{word}: {family[1]}"]
    if others and len(others) < 20:  # not the whole list of element-wise layers
        lines.append(f"  also: {', '.join(others)}")
    # A value written only as a call (layer=LSTM(64)) is given by its key in a short
    # form: the call would start a statement of its own.
    positional = [p for p in entry.params if p.positional and not p.type.call_only]
    keyed = [p for p in entry.params if p not in positional]
    usage = [word]
    usage += [p.name if p.required else f"[{p.name}]" for p in positional]
    usage += [f"{p.keys[0]}=…" for p in keyed if p.required]
    usage += ["[key=value …]"] if any(not p.required for p in keyed) else []
    lines += ["", f"usage: {' '.join(usage)}", *_torch_usage(entry)]
    rows: list[tuple[str, str, str]] = []
    for p in entry.params:
        short = ", ".join(f"{a}=" for a in p.aliases)
        name = f"{p.name} (value {positional.index(p) + 1})" if p in positional else f"{p.name}="
        said = [p.type.name, _default(p), p.help]
        by_value: dict[str, list[str]] = {}
        for flag, value in p.flags.items():
            by_value.setdefault(_word(value), []).append(flag)
        said += [
            f"the word{'s' if len(words) > 1 else ''} {', '.join(words)} alone: {p.name}={value}"
            for value, words in by_value.items()
        ]
        rows.append((short, name, "; ".join(s for s in said if s)))
    if rows:
        lines += ["", f"arguments (short key, long key = {LONG_KEYS[fw.name]}):"]
        w_short = max(len(r[0]) for r in rows)
        w_name = max(len(r[1]) for r in rows)
        lines += [f"  {s.ljust(w_short)}  {n.ljust(w_name)}  {d}".rstrip() for s, n, d in rows]
        boolean = next((p for p in keyed if p.type.name == "boolean"), None)
        if boolean is not None:
            key = boolean.keys[0]
            lines.append(f"A boolean key alone means true: {key} is {key}=true.")
    else:
        lines += ["", "arguments: none"]
    text, shape_text, result = example(word, fw)
    lines += ["", "example:"]
    flag = "" if fw.name == "torch" else f"--framework {fw.name} "
    if result is None or shape_text is None:
        lines.append(f"  convcalc {flag}{text}")
    else:
        last = result.layers[-1]
        lines.append(f"  convcalc {flag}-i {shape_text} {text}")
        lines.append(
            f"  → {shape(last.output, '×')}, {exact(last.params)} params, {exact(last.macs)} MACs"
        )
    note = getattr(entry.cls, "NOTE", "") or ""
    if note:
        import textwrap

        lines += ["", *textwrap.wrap(f"note: {note}", 80, subsequent_indent="      ")]
    return "\n".join(lines) + "\n"


def model_list() -> str:
    """``--list-models``: the built-in networks by task, then by the torchvision weights
    whose published figures they reproduce, with their parameters, GFLOPS (MACs / 1e9 to
    torchvision's three decimals) and default input — each figure analysed here, from
    the spec file ``-m`` runs."""
    from convcalc.network.analysis import analyze
    from convcalc.network.zoo import OTHER_TASK, TASKS, model_spec, models

    order = [task for _prefix, task in TASKS] + [OTHER_TASK]
    groups: dict[tuple[int, int, str], list[tuple[str, str, str, str, str]]] = {}
    for m in models():
        a = analyze(model_spec(m.name))
        thousandths = None if a.macs is None else (a.macs + 500_000) // 1_000_000
        gflops = "?" if thousandths is None else f"{thousandths // 1000}.{thousandths % 1000:03d}"
        params = "?" if a.params is None else exact(a.params)
        title = m.summary.split(", as torchvision.", 1)[0].split(", as Hugging Face's", 1)[0]
        weights = "" if m.weights.startswith("hf:") else m.weights  # one group
        key = (order.index(m.task), len(weights), weights)
        groups.setdefault(key, []).append((m.name, params, gflops, shape(a.input, "×"), title))
    rows = [row for group in groups.values() for row in group]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    head = ("model", "params", "GFLOPS", "input")
    widths = [max(w, len(h)) for w, h in zip(widths, head)]

    def line(cells: Sequence[str]) -> str:
        name, params, gflops, size, *rest = cells
        text = (
            f"  {name.ljust(widths[0])}  {params.rjust(widths[1])}  {gflops.rjust(widths[2])}"
            f"  {size.ljust(widths[3])}"
        )
        return f"{text}  {rest[0]}" if rest else text.rstrip()

    out = [line(head)]
    for (task, _n, weights), group in sorted(groups.items()):
        if weights:
            title = f"{order[task]}: torchvision's {weights} weights, their published figures"
        elif order[task] == "Language models":
            title = (
                f"{order[task]}: Hugging Face's configurations, their published parameter "
                "counts (GFLOPS at the input's length):"
            )
        else:
            title = f"{order[task]} (no published figures):"
        out += ["", title + ("" if title.endswith(":") else ":")]
        out += [line(row) for row in group]
    return "\n".join(out) + "\n"
