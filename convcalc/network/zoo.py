"""The built-in networks: spec files shipped in ``convcalc/models/``, written in
the spec language itself (they are its best examples). A model's first comment
line is its one-line description; its ``input`` line is its usual input.

Variants of one architecture share a *family* file, ``convcalc/models/blocks/NAME.spec``,
which only defines blocks; a spec takes them with ``include NAME`` (any spec, not only a
built-in one). The family's text is appended to the spec's own before it is parsed, so
the spec's offsets (and its errors' lines) stay as written."""

from __future__ import annotations

import os
from typing import NamedTuple

from convcalc.errors import SpecError

__all__ = ["ModelInfo", "families", "family_spec", "model_spec", "models", "with_families"]

_SUFFIX = ".spec"
_FAMILIES = "blocks"  # the family files' folder, under the models'
# ``include NAME`` where a statement may start (as parse.block_names finds blocks).
_INCLUDE = r"(?im)(?:^|[;|\s])(include)(?:[^\S\n]+([^\s=;|(),#]+))?"


class ModelInfo(NamedTuple):
    name: str
    summary: str  # the spec's first comment line
    # The torchvision weights whose published figures it reproduces, from its
    # ``# weights: NAME`` comment line ("" for a network torchvision does not publish;
    # ``hf:NAME`` for a language model: Hugging Face's configuration of that name).
    weights: str = ""

    @property
    def task(self) -> str:
        """What its weights were trained for, by their data set (the title of its
        group in --list-models)."""
        for prefix, task in TASKS:
            if self.weights.startswith(prefix):
                return task
        return OTHER_TASK


# Weights' data sets (the start of their names) and the task they name.
# A language model's weights are named ``hf:NAME`` (Hugging Face's model of that name).
TASKS = (
    ("IMAGENET1K_", "Classification, ImageNet-1K"),
    ("COCO_WITH_VOC_LABELS_", "Semantic segmentation, COCO with VOC's 21 labels"),
    ("KINETICS400_", "Video classification, Kinetics-400"),
    ("COCO_V", "Object detection, COCO"),  # after COCO_WITH_VOC_LABELS_
    # RAFT's: trained on FlyingChairs (C) and FlyingThings3D (T), then fine-tuned on Sintel,
    # KITTI, HD1K and Things (SKHT).
    ("C_T_", "Optical flow"),
    ("hf:", "Language models"),
)
OTHER_TASK = "Not in torchvision's zoo"


# Where the spec files are: a folder of the installed package, read with os's calls.
# importlib.resources reads them from anywhere (a zip too), but its import brings in
# zipfile, tempfile and pathlib, a few milliseconds of every -m run: it is the fallback.
_MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")
_ON_DISK = os.path.isdir(_MODELS)


def _names(*folder: str) -> list[str]:
    """The names of the entries of a folder of the models'."""
    if _ON_DISK:
        return os.listdir(os.path.join(_MODELS, *folder))
    from importlib import resources

    return [e.name for e in resources.files("convcalc").joinpath("models", *folder).iterdir()]


def _text(*path: str) -> str | None:
    """A spec file's text (path under the models' folder), None if there is none."""
    if _ON_DISK:
        full = os.path.join(_MODELS, *path)
        if not os.path.isfile(full):
            return None
        with open(full, encoding="utf-8") as fh:
            return fh.read()
    from importlib import resources

    entry = resources.files("convcalc").joinpath("models", *path)
    return entry.read_text(encoding="utf-8") if entry.is_file() else None


def models() -> list[ModelInfo]:
    """Every built-in model, sorted by name."""
    out = []
    for name in _names():
        if name.endswith(_SUFFIX):
            text = _text(name)
            if text is None:
                continue  # a folder named *.spec
            lines = text.split("\n", 8)[:8]
            first = lines[0]
            summary = first.lstrip("#").strip() if first.startswith("#") else ""
            weights = next(
                (line.split()[2] for line in lines if line.startswith("# weights: ")), ""
            )
            out.append(ModelInfo(name[: -len(_SUFFIX)], summary, weights))
    return sorted(out)


def model_spec(name: str) -> str:
    """The spec text of a built-in model; SpecError naming the nearest ones if unknown."""
    key = name.strip().lower().replace("-", "_")
    text = _text(key + _SUFFIX) if key and "/" not in key and "\\" not in key else None
    if text is not None:
        return text
    import difflib  # only on the error path

    names = [m.name for m in models()]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise SpecError(f"no built-in model {name!r}{hint} (--list-models lists them)")


def families() -> list[str]:
    """The family files' names, sorted."""
    return sorted(n[: -len(_SUFFIX)] for n in _names(_FAMILIES) if n.endswith(_SUFFIX))


def family_spec(name: str) -> str | None:
    """A family file's text (only block definitions), None if there is none."""
    key = name.lower()
    if key and "/" not in key and "\\" not in key and "." not in key:
        return _text(_FAMILIES, key + _SUFFIX)
    return None


def with_families(source: str) -> str:
    """``source`` with the family file each ``include NAME`` names appended (once each,
    in the order first named); SpecError at the name if there is no such family."""
    if "include" not in source.lower():
        return source  # the common case
    import re

    uncommented = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), source)
    texts: dict[str, str] = {}
    for m in re.finditer(_INCLUDE, uncommented):
        name = m.group(2)
        if name is None:
            start, end = m.span(1)
            raise SpecError(
                "'include' needs a family's name: include NAME (convcalc/models/blocks/NAME.spec)",
                source=source,
                start=start,
                end=end,
            )
        key = name.lower()
        if key in texts:
            continue
        text = family_spec(key)
        if text is None:
            import difflib  # only on the error path

            known = families()
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SpecError(
                f"no model family {name!r}; {hint}(families: {', '.join(known)})",
                source=source,
                start=m.start(2),
                end=m.end(2),
            )
        texts[key] = text
    if not texts:
        return source
    return "\n".join([source, *(f"# family {k}\n{t}" for k, t in texts.items())])
