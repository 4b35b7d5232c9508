"""Every command in README.md and docs/*.md runs, and the outputs pasted there are
the real ones; every link between them leads somewhere.

- ```console blocks (README.md and each docs/*.md): each ``$ command`` runs (bash,
  repository root, this Python's scripts first on PATH, HOME in a temporary
  directory) and its output (stdout and stderr) must equal the lines under it.
  ``--update-golden`` rewrites them.
- ```pycon blocks (the same files) run as doctests.
- ```sh blocks (README.md) are the install, test and development commands: they run
  verbatim, in order, in a fresh copy of the repository (as on a new machine; needs
  PyPI), in the one virtual environment they all name, except that the test command
  only collects the suite (.ci/run runs it verbatim) and the benchmark is left to
  tests/test_bench.py (ELSEWHERE: its measurements on tiny inputs, never timed). Test
  runs they start skip this test (CONVCALC_README_NESTED).
- Relative links in the Markdown files, and the docs the code cites
  (``docs/….md#anchor``), point at files and headings that exist.
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
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.M | re.S)
NESTED = "CONVCALC_README_NESTED"
# README commands that another test exercises instead of the fresh copy: a word of
# the command → that test. The benchmark takes minutes, and its verdicts are no test's.
ELSEWHERE = {"bench/run.py": "tests/test_bench.py"}


def fenced(lang: str, path: Path = README) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(path.read_text()) if m.group(1) == lang]


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def sessions(block: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines with the output lines under each."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        else:
            assert out, f"output before any command in block:\n{block}"
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


def test_the_docs_are_found() -> None:
    assert len(DOCS) > 1
    assert all(fenced("console", path) for path in DOCS if path.name != "README.md")


@pytest.mark.parametrize("path", DOCS, ids=name)
def test_console_commands_and_their_outputs(
    path: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    update = request.config.getoption("--update-golden") or os.environ.get("CONVCALC_UPDATE_GOLDEN")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("NO_COLOR", None)
    text = path.read_text()
    problems = []
    for block in fenced("console", path):
        rendered = []
        for command, expected in sessions(block):
            proc = shell(command, ROOT, env)
            actual = proc.stdout.splitlines()
            if proc.returncode != 0:
                problems.append(f"$ {command}\nexit status {proc.returncode}\n{proc.stdout}")
            elif actual != expected and not update:
                problems.append(
                    f"$ {command}\n{name(path)} shows:\n"
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
        path.write_text(text)
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("path", DOCS, ids=name)
def test_python_examples(path: Path) -> None:
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    blocks = fenced("pycon", path)
    if path == README:
        assert blocks
    for n, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"{name(path)} pycon block {n + 1}", str(path), 0)
        runner.run(test)
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
    # One virtual environment, which every install command shares.
    assert {m for c in commands for m in re.findall(r"-m venv (\S+)", c)} == {".venv"}
    for command in commands:
        if any(word in command for word in ELSEWHERE):
            continue
        if command.endswith("-m pytest"):
            # The test command as written: set up and collect the suite. Running it
            # here would test everything twice; .ci/run runs it verbatim (see
            # test_ci_runs_the_readme_test_command).
            command += " --collect-only -q"
        before = pasted(copy) if "--update-golden" in command else None
        proc = shell(command, copy, env)
        assert proc.returncode == 0, (
            f"$ {command}\nexit status {proc.returncode}\n{proc.stdout[-3000:]}"
        )
        if command.endswith("--collect-only -q"):
            assert " tests collected" in proc.stdout, proc.stdout[-3000:]
        if "convcalc -i" in command:
            assert "64×56×56" in proc.stdout
        if before is not None:  # what it rewrites is what the suite compares
            assert pasted(copy) == before
    assert [p.parent.name for p in copy.rglob("pyvenv.cfg")] == [".venv"]


def pasted(root: Path) -> dict[str, str]:
    """The outputs pasted in the docs and the golden files, by path."""
    files = [root / "README.md", *(root / "docs").glob("*.md"), *(root / "tests/golden").iterdir()]
    return {f.relative_to(root).as_posix(): f.read_text(encoding="utf-8") for f in files}


def test_every_readme_command_is_exercised() -> None:
    """A command the fresh copy leaves out is one command, which the test ELSEWHERE
    names reads from the README (tests/test_bench.py: readme_command)."""
    commands = [line for block in fenced("sh") for line in block.splitlines() if line.strip()]
    for word, test in ELSEWHERE.items():
        assert len([c for c in commands if word in c]) == 1, word
        assert f'"{word}" in line' in (ROOT / test).read_text(), test


def test_tuples_are_shown_shell_safe_first() -> None:
    """The spec language shows k=3x5 before k=(3,5), and says when quotes are
    needed: bash itself rejects an unquoted k=(3,5)."""
    text = (ROOT / "docs" / "language.md").read_text()
    section = text.split("## Layers and keys", 1)[1].split("\n## ", 1)[0]
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


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)
# A doc cited from code: a path under docs/, or an upper-case name at the top
# (README.md).
CITATION = re.compile(r"(?<![\w./-])((?:docs/[\w./-]+|[A-Z][A-Z0-9_]*)\.md)(?:#([\w-]+))?")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    text = FENCE.sub("", path.read_text())
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(text):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken(target: Path, anchor: str | None) -> str | None:
    if not target.exists():
        return "no such file"
    if anchor and target.suffix == ".md" and anchor not in anchors(target):
        return f"no heading #{anchor} in {name(target)}"
    return None


@pytest.mark.parametrize("path", DOCS, ids=name)
def test_relative_links_lead_somewhere(path: Path) -> None:
    problems = []
    for link in LINK.findall(FENCE.sub("", path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto:
            continue
        file, _, anchor = link.partition("#")
        target = (path.parent / file).resolve() if file else path
        why = broken(target, anchor or None)
        if why:
            problems.append(f"{name(path)}: ({link}): {why}")
    assert not problems, "\n".join(problems)


def test_the_docs_the_code_cites_exist() -> None:
    """Docstrings and comments cite docs/….md#anchor (which is in the repository),
    never a document that is not."""
    problems = []
    for folder in ("convcalc", "tests", "bench"):
        for py in sorted((ROOT / folder).rglob("*.py")):
            for n, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
                for doc, anchor in CITATION.findall(line):
                    why = broken(ROOT / doc, anchor or None)
                    if why:
                        problems.append(
                            f"{name(py)}:{n}: {doc}{'#' + anchor if anchor else ''}: {why}"
                        )
    assert not problems, "\n".join(problems)
