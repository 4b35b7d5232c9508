"""Shared fixtures: golden files (regenerate with --update-golden or
CONVCALC_UPDATE_GOLDEN=1), and Hypothesis settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# In CI (CI=true) the property tests draw the same examples every run, so a red
# build always reproduces; locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/* from the output"
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)`` asserts ``text`` equals tests/golden/<name>."""
    update = request.config.getoption("--update-golden") or os.environ.get("CONVCALC_UPDATE_GOLDEN")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"{path} is missing; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), (
            f"{name} differs from the golden file; if the change is intended, "
            "run pytest --update-golden and review the diff"
        )

    return check
