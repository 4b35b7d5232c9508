"""A Keras model file read safely: JSON text (``model.to_json()``), or the
``config.json`` of a ``.keras`` zip archive, with the standard library, in memory and
within limits (the bytes, the archive's directory, the JSON's nesting), whatever the
file's headers say. What it holds becomes spec text in formats/keras_model.py."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any, BinaryIO

from convcalc.errors import SpecError

__all__ = ["MAX_BYTES", "load_config"]

# A model's configuration is a few megabytes at most (NASNetLarge's: ~5 MB).
MAX_BYTES = 64 * 2**20
_MAX_ENTRIES = 10_000  # files in a .keras archive (a real one holds three)


def _error(message: str) -> SpecError:
    return SpecError(message)


def load_config(data: bytes | BinaryIO | str) -> Any:
    """The configuration (a dict) in ``data``: JSON text, or a .keras archive (bytes, a
    binary file object, or a path). Raises SpecError for anything else."""
    if isinstance(data, str):
        try:
            with open(data, "rb") as opened:
                return load_config(opened)
        except OSError as exc:
            raise _error(f"cannot read it ({exc.strerror or exc})") from None
    handle: BinaryIO = io.BytesIO(data) if isinstance(data, bytes) else data
    head = handle.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        handle.seek(0)
        return _parse(_from_zip(handle), "config.json")
    if head.startswith(b"\x89HDF"):
        raise _error(
            "an HDF5 file (.h5), which convcalc does not read: give model.to_json() or a "
            ".keras archive (model.save('model.keras'))"
        )
    rest = handle.read(MAX_BYTES + 1 - len(head))
    text = head + rest
    if len(text) > MAX_BYTES:
        raise _error(
            f"larger than {MAX_BYTES // 2**20} MiB, far more than a model's configuration "
            "(is it a weights file?)"
        )
    return _parse(text, "the file")


def _from_zip(handle: BinaryIO) -> bytes:
    """config.json from a .keras archive, read within MAX_BYTES whatever its header says."""
    _check_directory(handle)
    try:
        with zipfile.ZipFile(handle) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise _error("a zip archive without config.json: not a .keras file") from None
            if info.file_size > MAX_BYTES:
                raise _error(
                    f"its config.json says it holds {info.file_size:,} bytes, more than the "
                    f"{MAX_BYTES // 2**20} MiB a model's configuration may take"
                )
            with archive.open(info) as member:
                data = member.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise _error(
                    f"its config.json unpacks to more than {MAX_BYTES // 2**20} MiB (a zip bomb?)"
                )
            return data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise _error(f"a damaged or unsupported zip archive ({exc})") from None
    except RuntimeError as exc:  # an encrypted member
        raise _error(f"a zip archive convcalc cannot read ({exc})") from None


def _check_directory(handle: BinaryIO) -> None:
    """Refuse an archive whose central directory lists more than _MAX_ENTRIES files or
    takes more than MAX_BYTES, before zipfile reads it all into memory."""
    end = handle.seek(0, io.SEEK_END)
    tail_at = max(0, end - (2**16 + 22))
    handle.seek(tail_at)
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _error("a damaged zip archive: no end of its central directory")
    entries, size = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or size == 0xFFFFFFFF:  # ZIP64: the sizes are in its own record
        loc = at - 20
        if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
            (record,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
            handle.seek(record)
            z64 = handle.read(56)
            if len(z64) == 56 and z64[:4] == b"PK\x06\x06":
                entries, size = struct.unpack("<QQ", z64[32:48])
    if entries > _MAX_ENTRIES or size > MAX_BYTES:
        raise _error(
            f"a zip archive listing {entries:,} files ({size:,} bytes of directory): a .keras "
            "file holds a few"
        )
    handle.seek(0)


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")


def _parse(data: bytes, what: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "expected model.to_json() or a .keras archive"
        ) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _error(
            f"{what} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): expected "
            "model.to_json() or a .keras archive"
        ) from None
    except RecursionError:
        raise _error(f"{what} is JSON nested too deep for a model's configuration") from None
    except ValueError as exc:  # NaN, Infinity, a number of thousands of digits
        raise _error(f"{what} is not a model's configuration: {exc}") from None
