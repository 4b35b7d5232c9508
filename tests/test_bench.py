"""bench/cli_bench.py finds PyTorch without a machine-specific path (issue 10,
item 17), and says why when it cannot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "cli_bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_path_from_one_machine() -> None:
    assert "/work/" not in BENCH.read_text()


def test_the_variable_names_a_python_with_torch(bench: ModuleType, tmp_path: Path) -> None:
    fake = tmp_path / "python"  # a "Python" whose 'import torch' succeeds
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(fake)}) == (
        str(fake),
        "CONVCALC_TORCH_PYTHON",
    )


def test_a_variable_that_does_not_work(bench: ModuleType, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "python"
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(missing)}) == (
        None,
        f"CONVCALC_TORCH_PYTHON={missing} is not an executable",
    )
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    assert bench.torch_python({"CONVCALC_TORCH_PYTHON": str(broken)}) == (
        None,
        f"CONVCALC_TORCH_PYTHON={broken} cannot import torch",
    )


def test_the_running_interpreter(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find(name: str, *args: object) -> object:
        return object() if name == "torch" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(bench.importlib.util, "find_spec", find)
    assert bench.torch_python({}) == (sys.executable, "the running interpreter")


def test_a_clear_skip_line(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONVCALC_TORCH_PYTHON", raising=False)
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name, *args: None)
    bench.torch_comparison(["convcalc"], runs=1)
    assert capsys.readouterr().out == (
        f"(d) skipped: no PyTorch: {sys.executable} cannot import torch; "
        "set CONVCALC_TORCH_PYTHON to a Python that can\n"
    )
