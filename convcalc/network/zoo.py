"""The built-in networks: spec files shipped in ``convcalc/models/``, written in
the spec language itself (they are its best examples). A model's first comment
line is its one-line description; its ``input`` line is its usual input."""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

from convcalc.errors import SpecError

__all__ = ["ModelInfo", "model_spec", "models"]

_SUFFIX = ".spec"


class ModelInfo(NamedTuple):
    name: str
    summary: str  # the spec's first comment line


def _folder():  # type: ignore[no-untyped-def]
    return resources.files("convcalc").joinpath("models")


def models() -> list[ModelInfo]:
    """Every built-in model, sorted by name."""
    out = []
    for entry in _folder().iterdir():
        if entry.name.endswith(_SUFFIX):
            first = entry.read_text(encoding="utf-8").split("\n", 1)[0]
            summary = first.lstrip("#").strip() if first.startswith("#") else ""
            out.append(ModelInfo(entry.name[: -len(_SUFFIX)], summary))
    return sorted(out)


def model_spec(name: str) -> str:
    """The spec text of a built-in model; SpecError naming the nearest ones if unknown."""
    key = name.strip().lower().replace("-", "_")
    entry = _folder().joinpath(key + _SUFFIX)
    if key and "/" not in key and entry.is_file():
        return entry.read_text(encoding="utf-8")
    import difflib  # only on the error path

    names = [m.name for m in models()]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise SpecError(f"no built-in model {name!r}{hint} (--list-models lists them)")
