"""A printed PyTorch model as a tree of modules (formats/torch_print.py reads it), and
what the forwards that turn a module into graph steps (torch_blocks.py,
torch_windows.py) take: its children by name and a context."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Context", "Forward", "Module", "Steps"]


class Module(NamedTuple):
    """One module of the print: a leaf (``text``: its repr) or a container."""

    cls: str
    name: str  # as the parent prints it: "0", "features", "0-2"; "" at the top
    repeat: int  # "3 x": a run of identical modules
    start: int  # offset of the class name in the print
    text: str  # a leaf's repr ("" for a container)
    children: tuple[Module, ...]


# The steps of a module's graph from its children by name.
Forward = Callable[[dict[str, "Module"]], list["Module | str"]]
Steps = list["Module | str"]


class Context(NamedTuple):
    """What some forwards read besides the children: the module's name in its parent
    (Swin shifts its odd blocks' windows) and, for the print's top module, the print's
    input shape without the batch (MaxViT's partitions follow the input size)."""

    name: str = ""
    shape: tuple[int, ...] | None = None
