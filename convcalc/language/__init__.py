"""The language: spec text → statements. It knows no framework and no layer kind;
the kinds that a word may name are handed to :func:`parse`."""

from convcalc.language.parse import (
    INT_LIMIT,
    KEYWORDS,
    NAME_KEYWORDS,
    Arg,
    InputStmt,
    LayerStmt,
    Located,
    Program,
    Value,
    block_names,
    parse,
    parse_value,
    spec_error,
    suggest,
    tokenize,
)

__all__ = [
    "INT_LIMIT",
    "KEYWORDS",
    "NAME_KEYWORDS",
    "Arg",
    "InputStmt",
    "LayerStmt",
    "Located",
    "Program",
    "Value",
    "block_names",
    "parse",
    "parse_value",
    "spec_error",
    "suggest",
    "tokenize",
]
