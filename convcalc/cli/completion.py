"""Shell completion of layer words, on top of click's own mechanism.

:func:`suggest` is the pure logic (words typed so far + the word being typed →
candidates); :func:`complete_layers` adapts it to click. The bash and zsh
scripts are click's, told not to add a space after ``key=`` (so that ``k=3``
types straight on; fish adds none anyway). Nothing here imports Rich.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from click.shell_completion import (
    BashComplete,
    CompletionItem,
    ZshComplete,
    add_completion_class,
)

if TYPE_CHECKING:
    import click

    from convcalc.kinds.layer import Entry

PROG = "convcalc"
COMPLETE_VAR = "_CONVCALC_COMPLETE"

_SPLIT = re.compile(r"([;|\n])|\s+")


def _tokens(words: list[str]) -> list[str]:
    """Shell words → spec words, with ';' '|' and newlines kept as separators."""
    out: list[str] = []
    for word in words:
        out.extend(t for t in _SPLIT.split(word) if t)
    return out


# The graph statements, with what each does (README: "Whole networks").
KEYWORD_HELP = {
    "as": "name the current tensor",
    "from": "continue from a named tensor",
    "add": "add named tensors to the current one",
    "mul": "multiply the current tensor by named ones",
    "concat": "concatenate named tensors",
    "cat": "concatenate named tensors",
    "split": "split into named parts by sizes",
    "chunk": "split into a number of named parts",
    "crop": "centre-crop to a named tensor's size",
    "resize_to": "interpolate to a named tensor's size",
    "return": "the network's outputs: return out aux",
    "use": "apply a named layer again (shared weights)",
    "block": "define a block: block NAME PARAM… then end",
    "end": "end a block definition",
    "include": "take a family's blocks: include resnet",
    "subtract": "subtract named tensors from the current one",
    "bmm": "matrix product by a named tensor (torch.bmm)",
    "coords_grid": "RAFT's pixel-coordinate grid of the current map",
    "corr_lookup": "RAFT's correlation-pyramid lookup",
}
# Statements whose arguments are tensor names, and the one that names a tensor.
_TAKES_NAMES = frozenset(
    (
        *("from", "add", "subtract", "mul", "concat", "cat", "crop", "resize_to", "return"),
        *("bmm", "corr_lookup"),
    )
)


def _kinds(
    prefix: str,
    first: bool,
    blocks: dict[str, str] | None = None,
    registry: Mapping[str, Entry] | None = None,
    classes: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The kinds, statements and blocks that start with ``prefix``; ``classes``: the
    framework's own class names (Keras's Conv2D, ONNX's MaxPool), offered first,
    instead of the same words lower-cased."""
    if registry is None:
        from convcalc.kinds import REGISTRY

        registry = REGISTRY

    from convcalc.kinds.registry import summaries

    about = summaries(registry)  # PyTorch's without importing its kind modules
    classes = classes or {}
    items = [
        (name, about[word])
        for name, word in sorted(classes.items(), key=lambda item: item[1])
        if word.startswith(prefix)
    ]
    named = set(classes.values())
    items += [
        (word, text)
        for word, text in sorted(about.items())
        if word.startswith(prefix) and word not in named
    ]
    items += [(word, text) for word, text in KEYWORD_HELP.items() if word.startswith(prefix)]
    items += [(word, text) for word, text in (blocks or {}).items() if word.startswith(prefix)]
    if first and "input".startswith(prefix):
        items.insert(0, ("input", "the input shape, e.g. input 3x224x224"))
    if first and prefix and "framework".startswith(prefix):  # not on an empty word
        items.insert(0, ("framework", "whose conventions: torch, keras or onnx"))
    return items


def _registry(
    framework: str | None, tokens: list[str]
) -> tuple[Mapping[str, Entry], Mapping[str, str]]:
    """The kinds of the framework asked for, or declared by the words (framework
    keras …), or PyTorch's; and that framework's class names by the words they are
    (none for PyTorch's, whose words are lower-case)."""
    from convcalc.errors import SpecError
    from convcalc.kinds.frameworks import get

    if framework is None and len(tokens) >= 2 and tokens[0].lower() == "framework":
        framework = tokens[1]
    try:
        chosen = get(framework or "torch")
    except SpecError:
        chosen = get("torch")
    if chosen.name == "keras":
        from convcalc.kinds import keras

        return chosen.registry, keras.class_names()
    if chosen.name == "onnx":
        from convcalc.kinds import onnx

        return chosen.registry, onnx.class_names()
    return chosen.registry, {}


def _closed_values(entry: Entry, key: str, partial: str) -> list[str]:
    param = entry.by_key.get(key.lower().replace("-", "_"))
    if param is None:
        return []
    return [w for w in param.type.words if w.startswith(partial.lower())]


# Keys ``convcalc solve`` can solve for, by parameter name: after ``k=`` it offers ``?``.
UNKNOWN_KEYS = ("kernel_size", "stride", "padding", "dilation", "output_padding")
SOLVE_HELP = "find the missing k, s, p… that turn -i into -o (convcalc solve --help)"


def suggest(
    words: list[str],
    incomplete: str,
    framework: str | None = None,
    *,
    unknowns: bool = False,
) -> list[tuple[str, str]]:
    """Candidates (value, help) for ``incomplete`` after the layer ``words``;
    ``framework``'s kinds (or a leading ``framework NAME``'s; PyTorch's by default);
    ``unknowns``: for ``convcalc solve``, where ``k=?`` marks a key to solve for."""
    tokens = _tokens(words)
    if tokens and tokens[-1].lower() == "framework" and len(tokens) == 1:
        from convcalc.kinds.frameworks import FRAMEWORKS

        return [(name, "") for name in FRAMEWORKS if name.startswith(incomplete.lower())]
    registry, classes = _registry(framework, tokens)  # the framework's kinds
    entry: Entry | None = None
    in_input = False
    given: set[str] = set()
    statement = ""  # the graph keyword of the current statement, if it is one
    tensors: list[str] = ["input"]  # names given with 'as' and to parts so far
    layer_names: list[str] = []  # names given with name= so far (tie= takes one)
    blocks: dict[str, str] = {}
    previous = ""
    for tok in tokens:
        low = tok.lower()
        naming = previous == "as" or statement in ("split", "chunk")
        if naming and low not in KEYWORD_HELP and low not in registry and low[:1].isalpha():
            tensors.append(low)  # as NAME; chunk 2 NAME NAME
        if previous == "block":
            blocks[low] = "a block defined above"
        previous = low
        if tok in ";|\n":
            entry, in_input, statement = None, False, ""
        elif low in KEYWORD_HELP and "=" not in tok:
            entry, in_input, statement = None, False, low
        elif "=" in tok:
            key = low.split("=", 1)[0].replace("-", "_")
            if key == "name" and tok.split("=", 1)[1]:
                layer_names.append(tok.split("=", 1)[1])
            if entry is not None and key in entry.by_key:
                given.add(entry.by_key[key].name)
            elif entry is not None and key in entry.cls.TENSOR_KEYS:
                given.add(key)
        elif low == "input":
            entry, in_input = None, True
        elif low in registry or low in blocks:
            entry, in_input, given, statement = registry.get(low), False, set(), ""
        elif entry is not None and low in entry.flags:
            given.add(entry.flags[low][0].name)
        elif entry is not None and low in entry.by_key:
            given.add(entry.by_key[low].name)  # a bare boolean key, or bash's split 'key ='
    if in_input:
        return []  # a shape comes next
    prefix = incomplete.lower()
    if statement in _TAKES_NAMES:
        names = [
            (n, "a tensor named so far") for n in dict.fromkeys(tensors) if n.startswith(prefix)
        ]
        return names + (
            []
            if previous in _TAKES_NAMES
            else _kinds(prefix, first=False, blocks=blocks, registry=registry, classes=classes)
        )
    if statement and statement != "end":
        # 'as', 'use', 'block', 'split', 'chunk' take a new word first: nothing to offer.
        if previous == statement:
            return []
        return _kinds(prefix, first=False, blocks=blocks, registry=registry, classes=classes)
    if entry is None:
        return _kinds(prefix, first=not tokens, blocks=blocks, registry=registry, classes=classes)
    tensor_keys = entry.cls.TENSOR_KEYS  # memory=NAME: the names given so far
    if "=" in incomplete:
        key, partial = incomplete.split("=", 1)
        if key.lower() in tensor_keys:
            return [
                (f"{key}={n}", "a tensor named so far")
                for n in dict.fromkeys(tensors)
                if n.startswith(partial.lower())
            ]
        if key.lower() == "tie":
            return [
                (f"{key}={n}", "a layer named so far")
                for n in dict.fromkeys(layer_names)
                if n.lower().startswith(partial.lower())
            ]
        values = [(f"{key}={w}", "") for w in _closed_values(entry, key, partial)]
        param = entry.by_key.get(key.lower().replace("-", "_"))
        if unknowns and param is not None and param.name in UNKNOWN_KEYS and partial in ("", "?"):
            values.append((f"{key}=?", "solve for it"))
        return values
    items: list[tuple[str, str]] = [
        (f"{key}=", f"names {what}")
        for key, what in tensor_keys.items()
        if key.startswith(prefix) and key not in given
    ]
    for param in entry.params:
        if param.name in given:
            continue
        help_text = param.help or param.type.name
        items.extend((f"{key}=", help_text) for key in param.keys if key.startswith(prefix))
        items.extend(
            (word, f"sets {param.name}") for word in param.flags if word.startswith(prefix)
        )
    from convcalc.kinds.layer import Layer  # the registry has loaded it

    if entry.cls.tie_weight is not Layer.tie_weight and "tie=".startswith(prefix):
        items.append(("tie=", "use a layer's weight as its own (one given name=NAME)"))
    return items + _kinds(prefix, first=False, blocks=blocks, registry=registry, classes=classes)


def complete_layers(
    ctx: click.Context, param: click.Parameter, incomplete: str, *, unknowns: bool = False
) -> list[CompletionItem]:
    """click's ``shell_complete`` for the LAYER argument (``unknowns``: solve's). The
    first word of the command line may also be ``solve``."""
    words = [str(w) for w in ctx.params.get(param.name or "layers") or ()]
    items = [
        CompletionItem(value, help=help_text or None)
        for value, help_text in suggest(
            words, incomplete, ctx.params.get("framework"), unknowns=unknowns
        )
    ]
    if ctx.meta.get("convcalc.first_word") and "solve".startswith(incomplete.lower()):
        items.insert(0, CompletionItem("solve", help=SOLVE_HELP))
    return items


class ConvcalcBashComplete(BashComplete):
    """click's bash completion, minding bash's split of ``p=sa`` into ``p``,
    ``=``, ``sa`` (``=`` is in COMP_WORDBREAKS), and adding no space after ``k=``."""

    source_template = BashComplete.source_template.replace(
        "COMPREPLY+=($value)",
        "COMPREPLY+=($value)\n            [[ $value == *= ]] && compopt -o nospace",
    )
    _typed_key = ""

    def get_completion_args(self) -> tuple[list[str], str]:
        args, incomplete = super().get_completion_args()
        key = ""
        if incomplete == "=" and args and not args[-1].startswith("-"):
            key = args.pop()
            incomplete = ""
        elif len(args) >= 2 and args[-1] == "=" and not args[-2].startswith("-"):
            args.pop()
            key = args.pop()
        elif len(args) >= 2 and args[-1] == "=":
            args.pop()  # '--format = j': click wants '--format j'
        if key:
            # bash replaces only the text after '=': answer with the value alone.
            self._typed_key = key + "="
            incomplete = self._typed_key + incomplete
        return args, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        if self._typed_key and item.value.startswith(self._typed_key):
            item = CompletionItem(item.value[len(self._typed_key) :], type=item.type)
        return super().format_completion(item)


class ConvcalcZshComplete(ZshComplete):
    """click's zsh completion (same protocol: type, value, help), except that a
    candidate ending in ``=`` is added with no suffix, so no space follows it."""

    source_template = """\
#compdef %(prog_name)s

%(complete_func)s() {
    local -a completions completions_with_descriptions
    local -a keys keys_with_descriptions
    local -a response
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \
%(complete_var)s=zsh_complete %(prog_name)s)}")

    for type key descr in ${response}; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$key" == *= ]]; then
                if [[ "$descr" == "_" ]]; then
                    keys+=("$key")
                else
                    keys_with_descriptions+=("$key":"$descr")
                fi
            elif [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done

    # key= candidates: no suffix, so the value is typed straight on (k=3).
    if [ -n "$keys_with_descriptions" ]; then
        _describe -V unsorted keys_with_descriptions -U -S ''
    fi
    if [ -n "$keys" ]; then
        compadd -U -S '' -V unsorted -a keys
    fi
    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoload from fpath, call function directly
    %(complete_func)s "$@"
else
    # eval/source/. command, register function for later
    compdef %(complete_func)s %(prog_name)s
fi
"""


def register() -> None:
    add_completion_class(ConvcalcBashComplete, "bash")
    add_completion_class(ConvcalcZshComplete, "zsh")


def script(shell: str, cli: click.Command) -> str:
    """The completion script of the command ``cli`` for ``shell`` (what
    ``_CONVCALC_COMPLETE=bash_source`` prints)."""
    from click.shell_completion import get_completion_class

    register()
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the option's Choice guards this
        raise ValueError(f"unsupported shell {shell!r}")
    return cls(cli, {}, PROG, COMPLETE_VAR).source()
