"""The index of PyTorch's layer kinds (convcalc/layers/index.py): it must say which
module registers every word, or the parser would not know a new word and the
registry could not load it; and the registry it drives loads a module only when
one of its words is used, yet reads like the dict of every kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from convcalc.kinds import KINDS, REGISTRY
from convcalc.kinds.torch import index as layer_index
from convcalc.kinds.torch.registry import TORCH_CLASSES


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_index_is_current() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc.kinds.torch.make_index", "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_a_word_missing_from_the_index_fails_the_check(tmp_path: Path) -> None:
    text = Path(layer_index.__file__).read_text(encoding="utf-8")
    stale = tmp_path / "index.py"
    stale.write_text(text.replace('    "maxpool2d": "pool",\n', ""), encoding="utf-8")
    assert stale.read_text(encoding="utf-8") != text
    proc = _run(
        "import sys; from pathlib import Path; from convcalc.kinds.torch import make_index as m;"
        f"m.INDEX = Path({str(stale)!r}); sys.exit(m.main(['--check']))"
    )
    assert proc.returncode == 1
    assert "out of date: run python -m convcalc.kinds.torch.make_index" in proc.stderr


@pytest.mark.parametrize(
    ("word", "module"), [("relu", "activation"), ("conv2d", "conv"), ("Linear", "reshape")]
)
def test_a_lookup_loads_the_words_module_only(word: str, module: str) -> None:
    code = (
        "import sys\nfrom convcalc.kinds import REGISTRY, KINDS\n"
        "from convcalc.kinds.torch.registry import TORCH_CLASSES\n"
        f"word = TORCH_CLASSES.get({word!r}, {word!r})\n"
        "assert word in KINDS and word in REGISTRY\n"
        "loaded = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "    if m.startswith('convcalc.kinds.torch.') and m.count('.') == 3)\n"
        "print(loaded())\nprint(REGISTRY[word].word, REGISTRY.get(word).word, loaded())"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    word = TORCH_CLASSES.get(word, word)
    assert proc.stdout.splitlines() == [
        "['index', 'registry']",
        f"{word} {word} {sorted(['index', 'registry', module])}",
    ]


def test_the_registry_reads_as_every_kind() -> None:
    assert set(REGISTRY) == set(REGISTRY.keys()) == KINDS == set(layer_index.KIND_MODULES)
    assert len(REGISTRY) == len(KINDS)
    assert [w for w, _ in REGISTRY.items()] == list(layer_index.KIND_MODULES)  # index order
    assert all(e.word == w for w, e in zip(REGISTRY, REGISTRY.values()))
    assert {w: e.cls.__module__.rsplit(".", 1)[1] for w, e in REGISTRY.items()} == (
        layer_index.KIND_MODULES
    )
    assert {e.torch_name: w for w, e in REGISTRY.items() if e.torch_name} == TORCH_CLASSES
    assert "nope" not in REGISTRY and REGISTRY.get("nope") is None
    assert REGISTRY.get("nope", 3) == 3
    with pytest.raises(KeyError):
        REGISTRY["nope"]
