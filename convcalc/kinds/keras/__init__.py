"""Keras 3 (and tf.keras) conventions: its layer kinds under their class names
and argument names, channels-last shapes, 'same'/'valid'/'causal' padding, and
parameter counts as model.count_params() reports them (docs/frameworks.md#keras).
Importing the package registers every kind in :data:`REGISTRY`."""

from __future__ import annotations

from convcalc.kinds.keras import (  # noqa: F401  (registration)
    conv,
    core,
    pool,
    preprocessing,
    recurrent,
    shape,
    wrappers,
)
from convcalc.kinds.keras.common import REGISTRY
from convcalc.kinds.registry import class_names as registry_class_names

KINDS = frozenset(REGISTRY)
# Kinds whose first value is a word that may itself name a kind (Activation relu).
WORD_KINDS = frozenset({"activation"})

__all__ = ["KINDS", "REGISTRY", "WORD_KINDS", "class_names"]


def class_names() -> dict[str, str]:
    """Keras's class names (Conv2D, MaxPooling2D, Dense, …), each with the word that
    names its kind: the words that are a class name lower-cased (for the hint on a
    Keras spec read under PyTorch's conventions)."""
    return registry_class_names(REGISTRY)
