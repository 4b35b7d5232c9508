"""The command line's options, one decorator each: the ones ``convcalc solve``
shares with the main command (--help, --framework, --opset), then the main
command's own, in the order ``convcalc --help`` lists them (command.py applies
them in that order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from convcalc.cli.types import DTYPE_TYPE, FORMAT_TYPE, FRAMEWORK_TYPE, OPTIMIZER_TYPE, SpecFile

SHELLS = ("bash", "zsh", "fish")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _view(name: str) -> Callable[..., Any]:
    """views.py's callback ``name`` for an option that answers and exits, the module
    imported only when the option is given: click calls every option's callback at
    every start, most with no value (None, or False for a flag), for which each of
    them does nothing."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or value is False:
            return None
        from convcalc.cli import views

        return getattr(views, name)(ctx, param, value)

    callback.__name__ = callback.__qualname__ = name
    return callback


def _completer(name: str) -> Callable[..., Any]:
    """views.py's shell completer ``name``, the module imported when it is asked."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> Any:
        from convcalc.cli import views

        return getattr(views, name)(ctx, param, incomplete)

    complete.__name__ = complete.__qualname__ = name
    return complete


def _eager(*decls: str, callback: Callable[..., Any], **attrs: Any) -> Decorator:
    """An option that does its whole job (print something and exit) from its callback,
    as soon as click reads it: it hands the command no value."""
    return click.option(*decls, is_eager=True, expose_value=False, callback=callback, **attrs)


def _flag(*decls: str, help: str) -> Decorator:
    """An on/off switch the command receives as a bool."""
    return click.option(*decls, is_flag=True, help=help)


def _count(*decls: str, low: int, default: int | None, **attrs: Any) -> Decorator:
    """A whole number of at least ``low``, written N in --help."""
    return click.option(*decls, type=click.IntRange(min=low), default=default, metavar="N", **attrs)


# Shared with ``convcalc solve``.
HELP_OPTION = _eager(
    "-h",
    "--help",
    is_flag=True,
    callback=_view("_print_help"),
    help="Show this message and exit.",
)

FRAMEWORK_OPTION = click.option(
    "--framework",
    type=FRAMEWORK_TYPE,
    default=None,
    is_eager=True,
    help="Whose conventions: torch (PyTorch's, the default), keras (Keras 3, channels "
    "last: -i 224x224x3) or onnx. A spec may say it in its first statement: framework keras.",
)

OPSET_OPTION = _count(
    "--opset",
    low=1,
    default=None,
    is_eager=True,
    help="The ONNX opset (default 22; 13 and later); a spec may say framework onnx opset=N.",
)


# The main command's own.
LAYERS_ARGUMENT = click.argument(
    "layers", nargs=-1, metavar="[LAYER]...", shell_complete=_completer("_complete_layers")
)

INPUT_OPTION = click.option(
    "-i",
    "--input",
    "input_shape",
    metavar="SHAPE",
    help="Input shape without the batch: channels first under PyTorch and ONNX "
    "(3x224x224, 16x100), channels last under --framework keras (224x224x3, 100x16); "
    "32 alone is a map with unknown channels. Optional when the spec starts with "
    "'input SHAPE'.",
)

FILE_OPTION = click.option(
    "-f",
    "--file",
    "spec_file",
    type=SpecFile(),
    metavar="FILE",
    help="Read the chain from a spec file ('-' = stdin); layer words are added after it.",
)

FORMAT_OPTION = click.option(
    "-o",
    "--format",
    "fmt",
    type=FORMAT_TYPE,
    default="table",
    show_default=True,
    help="Output format (md = markdown).",
)

BATCH_OPTION = _count(
    "--batch",
    low=1,
    default=1,
    show_default=True,
    help="Batch size: sets the memory figures (MACs stay per sample; norms that use the "
    "batch's own statistics reject a batch of one value per channel, as PyTorch does).",
)

DTYPE_OPTION = click.option(
    "--dtype",
    type=DTYPE_TYPE,  # its words are network/memory.py's, imported when it is used
    default="float32",
    show_default=True,
    help="Element type for the memory figures (fp32, fp16, bf16, … are aliases).",
)

OPTIMIZER_OPTION = click.option(
    "--optimizer",
    type=OPTIMIZER_TYPE,
    default=None,
    help="Add a training-memory estimate: parameters, gradients, this optimizer's state "
    "(sgd none, momentum 1 copy, adam 2) and the activations kept for backward.",
)

DEPTH_OPTION = _count(
    "--depth",
    low=0,
    default=None,
    help="Fold block instances nested deeper than N into one row each "
    "(0: every top-level block is one row); the totals do not change.",
)

EXPLAIN_OPTION = _flag(
    "--explain",
    help="Show how each size is computed, with your numbers, under the table "
    '(JSON: "explain"; CSV/TSV: an explain column).',
)

RF_OPTION = _flag(
    "--rf",
    help="Receptive field in three columns (size, effective stride, start) and a "
    'summary against the input size (JSON: "receptive_field").',
)

WARNINGS_OPTION = click.option(
    "--warnings/--no-warnings",
    default=None,
    help="Report the classic mistakes (a floor that drops input rows, a channels-last "
    'input, …): on stderr, and in JSON a "warnings" list (with --warnings even when '
    "empty). On by default.",
)

STRICT_OPTION = _flag(
    "--strict",
    help="Make warnings errors: exit 1 and nothing on stdout.",
)

MODEL_OPTION = click.option(
    "-m",
    "--model",
    metavar="NAME",
    shell_complete=_completer("_complete_models"),
    help="Analyse a built-in network (resnet50, vit_b_16, unet, …) at its usual input "
    "(-i overrides it); layer words are added after it.",
)

FROM_TORCH_OPTION = click.option(
    "--from-torch",
    "from_torch",
    type=SpecFile(),
    metavar="FILE",
    help="Read the text print(model) shows ('-' = stdin): nn.Sequential and ModuleList "
    "containers around PyTorch layers. Give the input with -i.",
)

FROM_KERAS_OPTION = click.option(
    "--from-keras",
    "from_keras",
    type=SpecFile(),
    metavar="FILE",
    help="Read a Keras model: the JSON model.to_json() writes, or a .keras file ('-' = "
    "stdin, JSON only); Sequential or Functional. -i (channels last) replaces its input.",
)

ASSUME_SEQUENTIAL_OPTION = _flag(
    "--assume-sequential",
    help="With --from-torch: run the children of other containers (a model class) in "
    "print order; the output says so.",
)

LIST_MODELS_OPTION = _eager(
    "--list-models",
    is_flag=True,
    callback=_view("_print_model_list"),
    help="List the built-in networks and exit.",
)

MODEL_SPEC_OPTION = _eager(
    "--model-spec",
    metavar="NAME",
    callback=_view("_print_model_spec"),
    shell_complete=_completer("_complete_models"),
    help="Print a built-in network's spec file (a start for your own) and exit.",
)

LIST_LAYERS_OPTION = _eager(
    "--list-layers",
    is_flag=True,
    callback=_view("_print_layer_list"),
    help="List the layer kinds and exit.",
)

HELP_LAYER_OPTION = _eager(
    "--help-layer",
    metavar="KIND",
    callback=_view("_print_layer_help"),
    shell_complete=_completer("_complete_kinds"),
    help="Describe a layer kind (arguments, defaults, an example) and exit.",
)

COMPLETION_OPTION = _eager(
    "--completion",
    type=click.Choice(SHELLS),
    callback=_view("_print_completion"),
    help="Print the shell completion script for bash, zsh or fish, and exit.",
)

VERSION_OPTION = _eager(
    "-V",
    "--version",
    is_flag=True,
    callback=_view("_print_version"),
    help="Show the version and exit.",
)
