"""Random, equivalent spellings of layer arguments in convcalc's language, for the
Keras and ONNX vector generators (which must not import torch, as common.py does)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class Spell:
    """Writes one layer's text: its kind word, positional values and key=value
    pairs, each in one of convcalc's equivalent spellings chosen at random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))

    def boolean(self, value: bool) -> str:
        return self.rng.choice(("true", "yes", "1", "True") if value else ("false", "no", "0"))

    def number(self, value: float) -> str:
        if float(value).is_integer() and self.rng.random() < 0.5:
            return str(int(value))
        return repr(float(value))

    def ints(self, values: Sequence[int], scalar: bool = True) -> str:
        """An int when every value is equal (and ``scalar``), else a tuple."""
        if scalar and len(set(values)) == 1 and (len(values) == 1 or self.rng.random() < 0.5):
            return str(values[0])
        items = [str(v) for v in values]
        styles = [",", "()", "( )"]
        if len(items) > 1:
            styles.append("x")
        style = self.rng.choice(styles)
        if style == "x":
            return "x".join(items)
        if style == ",":
            return ",".join(items)
        if style == "()":
            return "(" + ",".join(items) + ")"
        return "(" + ", ".join(items) + ")"

    def pairs(self, pairs: Sequence[tuple[int, int]]) -> str:
        """Keras's ((a, b), (c, d)): nested, or flat."""
        if self.rng.random() < 0.5:
            return "(" + ",".join(f"({a},{b})" for a, b in pairs) + ")"
        return self.ints([v for p in pairs for v in p], scalar=False)

    def layer(
        self, kind: str, positional: Sequence[str], keyed: Sequence[tuple[Sequence[str], str]]
    ) -> str:
        """``kind`` then the positional values, then each (keys, value) as key=value
        with one of its keys (a key of '' means: the value alone, a flag)."""
        opts = []
        for keys, value in keyed:
            key = self.pick(keys)
            opts.append(value if key == "" else f"{key}={value}")
        self.rng.shuffle(opts)
        return " ".join([kind, *positional, *opts])


def dump(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """One JSON object per line, keys sorted: a byte-identical file on a re-run."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n")
