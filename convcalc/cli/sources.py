"""Where the network comes from: layer words, a spec file, stdin, a built-in model
or a PyTorch print — read and checked, each failure worded as a :class:`Failure`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from convcalc.cli.errors import EXIT_USAGE, Failure, _stdin_is_terminal
from convcalc.errors import SpecError

if TYPE_CHECKING:
    from convcalc.formats.torch_count import Count
    from convcalc.formats.torch_print import Reading

SHORT_USAGE = """\
Usage: convcalc [OPTIONS] [LAYER]...
  convcalc -i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 gap flatten linear 10
  convcalc -f net.spec            cat net.spec | convcalc -i 3x32x32
Try 'convcalc --help' for help, 'convcalc --list-layers' for the layer kinds."""


def _read(path: str) -> tuple[str, str]:
    """The text of ``path`` ('-' = stdin) and the name to cite it by."""
    try:
        if path == "-":
            name = "<stdin>"
            stdin = sys.stdin
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        else:
            name = path
            with open(path, "rb") as handle:
                data = handle.read()
    except FileNotFoundError:
        raise Failure(f"{path}: no such file", EXIT_USAGE) from None
    except IsADirectoryError:
        raise Failure(f"{path}: is a directory, not a spec file", EXIT_USAGE) from None
    except PermissionError:
        raise Failure(f"{path}: permission denied", EXIT_USAGE) from None
    except OSError as exc:
        raise Failure(f"{path}: cannot read it ({exc.strerror or exc})", EXIT_USAGE) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Failure(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            EXIT_USAGE,
        ) from None
    if not text.strip():
        raise Failure(f"{name}: the spec is empty", EXIT_USAGE)
    return text, name


def _source(layers: tuple[str, ...], spec_file: str | None) -> tuple[str, str | None, str]:
    """The spec text, its file name (None for words on the command line) and,
    after a file, the extra layer words given on the command line."""
    if "-" in layers and (spec_file is not None or layers != ("-",)):
        raise Failure(
            "'-' reads the chain from stdin and must be the only layer word"
            + (" (with -f, give further layers as words)" if spec_file is not None else ""),
            EXIT_USAGE,
        )
    if spec_file is not None:
        text, name = _read(spec_file)
        return text, name, " ".join(layers)
    if layers == ("-",):
        return (*_read("-"), "")
    if layers:
        return " ".join(layers), None, ""
    if _stdin_is_terminal():
        raise Failure("no layers given", EXIT_USAGE, SHORT_USAGE)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    if not data.strip():
        raise Failure(
            "no layers given: none on the command line, and standard input is empty "
            "(write them after the options: convcalc -i 3x32x32 conv2d 16 k=3)",
            EXIT_USAGE,
        )
    try:
        return data.decode("utf-8-sig"), "<stdin>", ""
    except UnicodeDecodeError as exc:
        raise Failure(
            f"<stdin>: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            EXIT_USAGE,
        ) from None


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    from convcalc.network.analysis import parse_shape

    try:
        return parse_shape(text)
    except SpecError as exc:
        raise Failure(f"-i/--input {text!r}: {exc.message}", EXIT_USAGE, exc.excerpt()) from None


def _model_text(name: str) -> str:
    from convcalc.network.zoo import model_spec

    try:
        return model_spec(name)
    except SpecError as exc:
        raise Failure(f"-m/--model: {exc.message}", EXIT_USAGE) from None


def _torch_print(
    path: str | None,
    layers: tuple[str, ...],
    spec_file: str | None,
    model: str | None,
    assume_sequential: bool,
    shape: tuple[int, ...] | None = None,
) -> tuple[str, str, str, Reading | Count]:
    """--from-torch: the print read as spec text (formats/torch_print.py); or, when
    convcalc cannot place some of its modules in a forward order or does not know a
    leaf (and --assume-sequential is not given), its parameters and buffers alone
    (formats/torch_count.py)."""
    if path is None:
        raise Failure("--assume-sequential goes with --from-torch FILE", EXIT_USAGE)
    if spec_file is not None or model is not None:
        raise Failure("give --from-torch alone, without -f/--file or -m/--model", EXIT_USAGE)
    if "-" in layers:
        raise Failure("'-' reads stdin; with --from-torch give further layers as words", EXIT_USAGE)
    from convcalc.formats.torch_print import read_print

    text, name = _read(path)
    try:
        if not assume_sequential:
            from convcalc.formats.torch_count import count_print
            from convcalc.formats.torch_print import forward_known

            count = count_print(text, shape, placed=forward_known)
            if count.unplaced or count.unknown:
                return text, name, " ".join(layers), count
        reading = read_print(text, assume_sequential=assume_sequential, input_shape=shape)
    except SpecError as exc:
        exc = exc.located(name)
        raise Failure(str(exc), EXIT_USAGE, exc.excerpt()) from None
    return reading.spec, name, " ".join(layers), reading


def _keras_model(
    path: str,
    layers: tuple[str, ...],
    spec_file: str | None,
    model: str | None,
    sized: bool,
) -> tuple[str, str, str]:
    """--from-keras: the model's configuration read as spec text (formats/keras_model.py);
    ``sized``: -i gives the input."""
    if spec_file is not None or model is not None:
        raise Failure("give --from-keras alone, without -f/--file or -m/--model", EXIT_USAGE)
    if "-" in layers:
        raise Failure("'-' reads stdin; with --from-keras give further layers as words", EXIT_USAGE)
    from convcalc.formats.keras_model import MAX_BYTES, check_input, read_keras

    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            stdin = sys.stdin
            data = (
                stdin.buffer.read(MAX_BYTES + 1)
                if hasattr(stdin, "buffer")
                else stdin.read(MAX_BYTES + 1).encode()
            )
            reading = read_keras(data)
        else:
            with open(path, "rb") as handle:
                reading = read_keras(handle)
        check_input(reading, sized)
    except FileNotFoundError:
        raise Failure(f"{path}: no such file", EXIT_USAGE) from None
    except IsADirectoryError:
        raise Failure(f"{path}: is a directory, not a Keras model file", EXIT_USAGE) from None
    except PermissionError:
        raise Failure(f"{path}: permission denied", EXIT_USAGE) from None
    except OSError as exc:
        raise Failure(f"{path}: cannot read it ({exc.strerror or exc})", EXIT_USAGE) from None
    except SpecError as exc:
        raise Failure(f"{name}: {exc.message}", EXIT_USAGE) from None
    return reading.spec, name, " ".join(layers)
