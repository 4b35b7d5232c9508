"""Where the tests' files are, whichever folder a test module sits in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # the repository
TESTS = ROOT / "tests"
DATA = TESTS / "data"  # the frameworks' answers, written by tests/vectors/*
GOLDEN = TESTS / "golden"
EXAMPLES = ROOT / "examples"


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The records of tests/data/<name>, one JSON object a line."""
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
