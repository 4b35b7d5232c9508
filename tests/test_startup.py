"""What a start of the command imports (bench/cli_bench.py measures how long it takes):
a completion request needs the layer catalog, never the engine, the renderers nor Rich; the
package's API names load on first use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import convcalc
from convcalc.kinds.torch.index import KIND_MODULES

PROBE = """
import sys
from convcalc.cli.command import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print(sorted(m for m in sys.modules if m in WATCHED), file=sys.stderr)
"""
WATCHED = (
    "rich",
    "convcalc.network.analysis",
    "convcalc.network.graph",
    "convcalc.network.statements",
    "convcalc.network.failure",
    "convcalc.network.weights",
    "convcalc.kinds",
    "convcalc.formats.render",
    "convcalc.formats.table",
    "convcalc.formats.rows",
    "convcalc.formats.text",
    "convcalc.formats.markdown",
    "convcalc.formats.delimited",
    "convcalc.formats.jsonout",
    "convcalc.formats.diagram",
    "convcalc.formats.mermaid",
    "convcalc.formats.dot",
    "convcalc.formats.tree",
    "json",
)


def _modules(
    args: list[str], env: dict[str, str], watched: tuple[str, ...] = WATCHED
) -> tuple[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", f"WATCHED = {watched!r}\n{PROBE}", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return proc.stdout, proc.stderr.strip()


def test_completion_loads_the_catalog_only() -> None:
    env = {
        "_CONVCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcalc -i 3x32x32 conv2d k=3 p",
        "COMP_CWORD": "5",
    }
    out, modules = _modules([], env)
    assert "plain,p=" in out
    assert modules == "['convcalc.kinds']"


def test_json_loads_the_engine_not_rich() -> None:  # the probe itself sees imports
    out, modules = _modules(["-i", "3x8x8", "conv2d", "4", "k=3", "-o", "json"], {})
    assert '"output": [4, 6, 6]' in out
    assert modules == (
        "['convcalc.formats.jsonout', 'convcalc.kinds', 'convcalc.network.analysis', 'convcalc.network.graph']"
    )  # neither render.py nor the other writers nor the json package (formats/jsonenc.py)


@pytest.mark.parametrize("writer", ["mermaid", "dot", "tree"])
def test_a_drawing_loads_its_writer_not_rich(writer: str) -> None:
    out, modules = _modules(["-i", "3x8x8", "conv2d", "4", "k=3", "-o", writer], {"NO_COLOR": "1"})
    assert "4×6×6" in out
    assert modules == str(
        sorted(
            [
                "convcalc.formats.diagram",
                f"convcalc.formats.{writer}",
                "convcalc.formats.render",
                "convcalc.formats.rows",
                "convcalc.formats.text",
                "convcalc.kinds",
                "convcalc.network.analysis",
                "convcalc.network.graph",
            ]
        )
    )


def test_only_a_graph_loads_the_graph_statements() -> None:
    """A chain never imports network/statements.py; a spec with as/add does."""
    spec = ["-i", "3x8x8", "conv2d", "4", "k=3", "p=1", "as", "x", "relu", "add", "x"]
    out, modules = _modules([*spec, "-o", "json"], {}, ("convcalc.network.statements",))
    assert '"output": [4, 8, 8]' in out
    assert modules == "['convcalc.network.statements']"
    out, modules = _modules([*spec[:6], "-o", "json"], {}, ("convcalc.network.statements",))
    assert '"output": [4, 8, 8]' in out
    assert modules == "[]"


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["conv2d", "4", "k=3"], "[]"),
        (["conv2d", "4", "k=9"], "['convcalc.network.failure']"),
        (["linear", "8", "name=proj", "use", "proj"], "[]"),
        (
            ["linear", "8", "name=proj", "linear", "4", "use", "proj"],
            "['convcalc.network.failure', 'convcalc.network.weights']",
        ),
        (["linear", "8", "as", "x", "relu", "add", "x"], "[]"),
    ],
)
def test_the_engine_loads_its_failures_and_shared_weights_on_demand(
    args: list[str], loaded: str
) -> None:
    """A network that runs imports neither network/failure.py (a failing layer's
    error) nor, without use and tie=, network/weights.py."""
    watched = ("convcalc.network.failure", "convcalc.network.weights")
    _, stderr = _modules(["-i", "8x8", *args, "-o", "json"], {}, watched)
    assert stderr.splitlines()[-1] == loaded  # after the error message, if any


# Every module that registers layer kinds (the transformer layers among them).
LAYER_MODULES = tuple(f"convcalc.kinds.torch.{m}" for m in dict.fromkeys(KIND_MODULES.values()))


def test_json_loads_the_modules_of_the_kinds_it_uses() -> None:
    """Each kind's module is imported on its first use (layers/index.py), and the
    warnings' checks import none (lint.py)."""
    args = ["-i", "3x8x8", "conv2d", "4", "k=3", "relu", "maxpool", "k=2", "-o", "json"]
    out, modules = _modules(args, {}, LAYER_MODULES)
    assert '"output": [4, 3, 3]' in out
    assert modules == (
        "['convcalc.kinds.torch.activation', 'convcalc.kinds.torch.conv', 'convcalc.kinds.torch.pool']"
    )
    out, modules = _modules(["-i", "3x8x8", "Conv2d(3, 4, 3)", "-o", "json"], {}, LAYER_MODULES)
    assert '"output": [4, 6, 6]' in out
    assert modules == "['convcalc.kinds.torch.conv']"


def test_the_api_loads_on_first_use() -> None:
    code = (
        "import sys, convcalc; print('convcalc.network.analysis' in sys.modules);"
        "print(convcalc.analyze('relu', (3,)).output, 'analyze' in dir(convcalc))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split("\n")[:2] == ["False", "(3,) True"]
    assert set(convcalc.__all__) <= set(dir(convcalc))
    for name in convcalc.__all__:
        assert getattr(convcalc, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'analyse'"):
        convcalc.analyse  # type: ignore[attr-defined]  # noqa: B018


def test_the_console_script_runs_without_the_cyclic_collector() -> None:
    """The console script (and ``python -m convcalc``) turns the cyclic collector off
    before click is imported (cli/script.py); ``convcalc.cli.main``, called in a
    process of someone else's, leaves it on."""
    from importlib.metadata import entry_points

    (installed,) = entry_points(group="console_scripts", name="convcalc")
    assert installed.value == "convcalc.cli.script:main"
    report = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.isenabled(), 'click' in sys.modules, file=sys.stderr))\n"
    )
    spec = ["-i", "3x8x8", "conv2d", "4", "k=3", "-o", "json"]
    script = "import convcalc.cli.script as m, sys; print('click' in sys.modules); m.main()"
    for entry, before, enabled in [
        (script, "False\n", "False"),  # click is imported after the collector is off
        ("from convcalc.cli import main; main()", "", "True"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-c", report + entry, *spec], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(before + "{")
        assert '"output": [4, 6, 6]' in proc.stdout
        assert proc.stderr.split() == [enabled, "True"]
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", *spec], capture_output=True, text=True, check=True
    )
    assert '"output": [4, 6, 6]' in proc.stdout


# Every convcalc module bench/cli_bench.py's (b) chain loads, as the console script
# runs it: each costs the start some 0.3 M instructions (about 70 µs) besides its code.
# A change that puts another module on this path updates the list, knowingly (the
# benchmark measures the time; this test says where the time would go).
CHAIN_MODULES = [
    "convcalc",
    "convcalc._gc",
    "convcalc._lazy",
    "convcalc._records",
    "convcalc.errors",
    "convcalc.language",
    "convcalc.language.parse",
    "convcalc.kinds",
    "convcalc.kinds.args",
    "convcalc.kinds.binding",
    "convcalc.kinds.frameworks",
    "convcalc.kinds.layer",
    "convcalc.kinds.registry",
    "convcalc.kinds.shapes",
    "convcalc.kinds.windows",
    "convcalc.kinds.torch",
    "convcalc.kinds.torch.conv",
    "convcalc.kinds.torch.index",
    "convcalc.kinds.torch.pool",
    "convcalc.kinds.torch.registry",
    "convcalc.network",
    "convcalc.network.analysis",
    "convcalc.network.graph",
    "convcalc.network.memory",
    "convcalc.ask",
    "convcalc.ask.lint",
    "convcalc.formats",
    "convcalc.formats.jsonenc",
    "convcalc.formats.jsonout",
    "convcalc.formats.names",
    "convcalc.formats.report",
    "convcalc.cli",
    "convcalc.cli.command",
    "convcalc.cli.dispatch",
    "convcalc.cli.errors",
    "convcalc.cli.options",
    "convcalc.cli.script",
    "convcalc.cli.sources",
    "convcalc.cli.types",
]


def test_the_benchmarked_chain_loads_these_modules_and_no_others() -> None:
    chain = "-i 3x224x224 conv2d 64 k=7 s=2 p=3 maxpool k=3 s=2 p=1 conv2d 128 k=3 s=2 p=1"
    code = (
        "import sys\n"
        "from convcalc.cli.script import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('convcalc'))), file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *chain.split(), "-o", "json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert '"output": [128, 28, 28]' in proc.stdout
    assert proc.stderr.split() == sorted(CHAIN_MODULES)
