"""Numbers, sizes and shapes as text, from exact integers: what every writer prints
(``1,234,567``, ``11.7 M``, ``3.8 MiB``, ``64x112x112``). Pure text: integer
arithmetic on finished figures, nothing computed about the network."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from convcalc.network.analysis import ReceptiveField

__all__ = [
    "UNKNOWN",
    "compact",
    "exact",
    "is_unicode",
    "rf_columns",
    "rf_text",
    "shape",
    "size",
]

UNKNOWN = "?"


def exact(n: int | None) -> str:
    """``1234567`` → ``1,234,567``; None → ``?``."""
    return UNKNOWN if n is None else f"{n:,}"


def _tenths(n: int, scale: int) -> int:
    """``n / scale`` in tenths, rounded half up (n ≥ 0): integers only."""
    return (n * 10 + scale // 2) // scale


def _one_decimal(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def _scientific(n: int) -> str:
    """``n`` (≥ 10) as ``1.2e24``, rounded half up with carry (9.96e23 → 1.0e24)."""
    exponent = len(str(n)) - 1
    mantissa = _tenths(n, 10**exponent)  # 10..100 tenths
    if mantissa == 100:
        exponent, mantissa = exponent + 1, 10
    return f"{_one_decimal(mantissa)}e{exponent}"


_DECIMAL_UNITS = ("K", "M", "G", "T", "P", "E")


def compact(n: int | None) -> str:
    """``11689512`` → ``11.7 M``: thousands up to E (10¹⁸), then ``1.2e24``; below
    a thousand the number as is. Rounding carries: 999,950 → ``1.0 M``."""
    if n is None:
        return UNKNOWN
    if n < 0:
        return "-" + compact(-n)
    if n < 1000:
        return str(n)
    for power, unit in enumerate(_DECIMAL_UNITS, start=1):
        tenths = _tenths(n, 1000**power)
        if tenths < 10_000:  # below 1000.0 once rounded
            return f"{_one_decimal(tenths)} {unit}"
    return _scientific(n)


_BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def size(n: int | None) -> str:
    """Bytes in binary units: ``4014080`` → ``3.8 MiB``; 1,048,575 → ``1.0 MiB``
    (rounding carries); beyond 1024 EiB ``1.2e24 B``."""
    if n is None:
        return UNKNOWN
    if n < 1024:
        return f"{n} B"
    for power, unit in enumerate(_BINARY_UNITS, start=1):
        tenths = _tenths(n, 1024**power)
        if tenths < 10_240:  # below 1024.0 once rounded
            return f"{_one_decimal(tenths)} {unit}"
    return f"{_scientific(n)} B"


def shape(dims: Iterable[int | None], sep: str = "x") -> str:
    """``(64, 112, 112)`` → ``64x112x112``; an unknown size is ``?``."""
    return sep.join(UNKNOWN if d is None else str(d) for d in dims)


def _dims(values: Sequence[int], sep: str) -> str:
    if len(set(values)) == 1 and len(values) > 1:
        return sep.join([str(values[0])] * len(values))
    return sep.join(str(v) for v in values)


def rf_columns(rf: ReceptiveField | None, sep: str = "×") -> tuple[str, str, str]:
    """``--rf``'s cells: the size (``11×11``), the effective stride (``4×4``) and the
    start (``-5,-5``), each per dimension."""
    if rf is None:
        return ("", "", "")
    return (
        sep.join(map(str, rf.size)),
        sep.join(map(str, rf.stride)),
        ",".join(map(str, rf.start)),
    )


def rf_text(rf: ReceptiveField | None, sep: str = "×") -> str:
    """``11×11 /4``: receptive-field size, then the effective stride (one number
    when it is the same along every dimension)."""
    if rf is None:
        return ""
    stride = rf.stride
    jump = str(stride[0]) if len(set(stride)) == 1 else sep.join(map(str, stride))
    return f"{_dims(rf.size, sep)} /{jump}"


def is_unicode(out: TextIO) -> bool:
    """Whether ``out`` takes Unicode (×, ⌊…⌋); else the table writes ASCII."""
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    return encoding.startswith(("utf", "cp65001"))
