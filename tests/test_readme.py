"""Every command in README.md runs, and the outputs pasted there are the real ones.

- ```console blocks: each ``$ command`` runs (bash, repository root, this Python's
  scripts first on PATH, HOME in a temporary directory) and its output (stdout and
  stderr) must equal the lines under it. ``--update-golden`` rewrites them.
- ```pycon blocks run as doctests.
- ```sh blocks are the install, test and development commands: they run verbatim,
  in order, in a fresh copy of the repository (as on a new machine; needs PyPI),
  except that the test command only collects the suite (.ci/run runs it verbatim).
  Test runs they start skip this test (CONVCALC_README_NESTED).
"""

from __future__ import annotations

import csv
import doctest
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.M | re.S)
NESTED = "CONVCALC_README_NESTED"


def fenced(lang: str) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(README.read_text()) if m.group(1) == lang]


def sessions(block: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines with the output lines under each."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        else:
            assert out, f"output before any command in README block:\n{block}"
            out[-1][1].append(line)
    return out


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=600,
    )


def test_console_commands_and_their_outputs(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    update = request.config.getoption("--update-golden") or os.environ.get("CONVCALC_UPDATE_GOLDEN")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("NO_COLOR", None)
    text = README.read_text()
    problems = []
    for block in fenced("console"):
        rendered = []
        for command, expected in sessions(block):
            proc = shell(command, ROOT, env)
            actual = proc.stdout.splitlines()
            if proc.returncode != 0:
                problems.append(f"$ {command}\nexit status {proc.returncode}\n{proc.stdout}")
            elif actual != expected and not update:
                problems.append(
                    f"$ {command}\nREADME shows:\n"
                    + "\n".join(expected)
                    + "\nbut it prints:\n"
                    + proc.stdout
                )
            rendered.append("\n".join([f"$ {command}", *actual]))
        if update:
            text = text.replace(
                f"```console\n{block}```", "```console\n" + "\n".join(rendered) + "\n```", 1
            )
    if update:
        README.write_text(text)
    assert not problems, "\n\n".join(problems)


def test_python_examples() -> None:
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    blocks = fenced("pycon")
    assert blocks
    for n, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README pycon block {n + 1}", str(README), 0))
    assert runner.summarize(verbose=False).failed == 0


def test_ci_runs_the_readme_test_command() -> None:
    commands = [line for block in fenced("sh") for line in block.splitlines()]
    test_command = next(c for c in commands if c.endswith("-m pytest"))
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="inside the README's own test run")
@pytest.mark.skipif(shutil.which("python3") is None, reason="the README's commands use python3")
def test_install_and_development_commands_on_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "convcalc"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            ".hypothesis",
            "*.egg-info",
        ),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env[NESTED] = "1"
    commands = [line for block in fenced("sh") for line in block.splitlines() if line.strip()]
    assert len(commands) >= 4
    for command in commands:
        if command.endswith("-m pytest"):
            # The test command as written: set up and collect the suite. Running it
            # here would test everything twice; .ci/run runs it verbatim (see
            # test_ci_runs_the_readme_test_command).
            command += " --collect-only -q"
        proc = shell(command, copy, env)
        assert proc.returncode == 0, (
            f"$ {command}\nexit status {proc.returncode}\n{proc.stdout[-3000:]}"
        )
        if command.endswith("--collect-only -q"):
            assert " tests collected" in proc.stdout, proc.stdout[-3000:]
        if "convcalc -i" in command:
            assert "64×56×56" in proc.stdout


def test_tuples_are_shown_shell_safe_first() -> None:
    """The spec language shows k=3x5 before k=(3,5), and says when quotes are
    needed: bash itself rejects an unquoted k=(3,5)."""
    text = README.read_text()
    section = text.split("## The spec language", 1)[1].split("\n## ", 1)[0]
    assert section.index("`k=3x5`") < section.index("`k=(3,5)`")
    assert "quote it (`'k=(3,5)'`)" in section
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    bare = shell("convcalc -i 3x8x8 conv2d 4 k=(3,5) -o csv", ROOT, env)
    assert bare.returncode == 2
    assert "syntax error" in bare.stdout
    quoted = shell("convcalc -i 3x8x8 conv2d 4 'k=(3,5)' -o csv", ROOT, env)
    assert quoted.returncode == 0, quoted.stdout
    (row,) = csv.DictReader(io.StringIO(quoted.stdout))
    assert row["output"] == "4x6x4"
