"""The table streams (issue 15, item 3): a large network is a line a row with its
columns aligned; the rows go out a block at a time, each block flushed, the first
small; a closed pipe stops the writing at the first block."""

from __future__ import annotations

import io

import pytest

import convcalc
from convcalc.formats import text as numbers
from convcalc.formats.report import make_report
from convcalc.formats.rows import totals
from convcalc.formats.table import write_table

LAYERS = 20_000
SPEC = "conv2d 8 k=3 p=1\n" * LAYERS


@pytest.fixture(scope="module")
def analysis() -> convcalc.Analysis:
    return convcalc.analyze(SPEC, "8x32x32")


def test_a_large_network_is_a_line_a_row_in_aligned_columns(analysis: convcalc.Analysis) -> None:
    report = make_report(analysis)
    out = io.StringIO()
    write_table(report, out)
    title, header, rule, *rest = out.getvalue().splitlines()
    body, after = rest[:LAYERS], rest[LAYERS:]
    assert title == "input 8×32×32"
    assert header.split() == ["#", "layer", "output", "params", "MACs", "RF"]
    assert set(rule) == {"─"}
    assert after[0] == ""
    assert [line.split()[0] for line in after[1:] if line[:1].isalpha()] == [
        t.label for t in totals(report) if t.label
    ]
    assert len(after) == 1 + len(totals(report))
    # Every row's cells where the header puts their column: the number right-aligned
    # before the layer, the figures right-aligned under params and MACs, the RF last.
    layer_at, output_at, rf_at = (header.index(word) for word in ("layer", "output", "RF"))
    params_end = header.index("params") + len("params")
    macs_end = header.index("MACs") + len("MACs")
    assert len(rule) == max(len(line) for line in body)
    for n, (line, lay) in enumerate(zip(body, analysis.layers, strict=True), start=1):
        assert line[: layer_at - 3] == str(n).rjust(layer_at - 3)
        assert line[layer_at:output_at].rstrip() == lay.spec
        assert line[output_at:].split(" ", 1)[0] == numbers.shape(lay.output, "×")
        assert line[:params_end].rsplit(" ", 1)[1] == numbers.exact(lay.params)
        assert line[:macs_end].endswith(" " + numbers.compact(lay.macs))
        assert line[rf_at:] == numbers.rf_text(lay.rf)


class Recorder(io.StringIO):
    """An output that records its writes and flushes; ``closed_after``: the
    writes it takes before it acts as a pipe whose reader has gone."""

    def __init__(self, closed_after: int | None = None) -> None:
        super().__init__()
        self.events: list[str] = []
        self.closed_after = closed_after

    def write(self, text: str) -> int:
        if self.closed_after is not None and self.events.count("flush") >= self.closed_after:
            self.events.append("refused")
            raise BrokenPipeError
        self.events.append(text)
        return super().write(text)

    def flush(self) -> None:
        self.events.append("flush")


def test_the_rows_go_out_in_flushed_blocks_the_first_one_small(
    analysis: convcalc.Analysis,
) -> None:
    out = Recorder()
    write_table(make_report(analysis), out)
    writes = [e for e in out.events if e not in ("flush", "refused")]
    assert len(writes) > 10  # in blocks, not one string at the end
    assert "".join(writes) == out.getvalue()
    # Each block is flushed before the next is written: a reader sees it at once.
    assert out.events[1::2] == ["flush"] * len(writes)
    first = writes[0].splitlines()
    assert first[0] == "input 8×32×32"
    assert first[1].split() == ["#", "layer", "output", "params", "MACs", "RF"]
    assert first[3].split()[:2] == ["1", "conv2d"]
    assert 3 < len(first) < 100  # the header and the first rows, far from all
    assert all(w.endswith("\n") for w in writes)


def test_a_closed_pipe_stops_the_writing(analysis: convcalc.Analysis) -> None:
    out = Recorder(closed_after=1)
    with pytest.raises(BrokenPipeError):
        write_table(make_report(analysis), out)
    assert out.events[-1] == "refused"
    assert out.events.count("refused") == 1  # nothing more was tried
    assert len(out.getvalue().splitlines()) < 100
