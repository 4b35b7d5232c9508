"""Shared fixtures: golden files (regenerate with --update-golden or
CONVCALC_UPDATE_GOLDEN=1), and the Hypothesis profiles (no deadline)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from tests.paths import GOLDEN

# Nothing in the suite passes or fails on a duration (speed lives in bench/): no
# Hypothesis deadline for any property test, nor its health check on slow data
# generation (a busy machine is no failure). Every profile has neither, and a test's
# own @settings inherit that (tests/test_properties.py checks that none sets one).
settings.register_profile("convcalc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# In CI (CI=true) the property tests draw the same examples every run, so a red
# build always reproduces; locally they explore new examples each time.
settings.register_profile(
    "ci", parent=settings.get_profile("convcalc"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "convcalc")


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
