"""Shared machinery of the vector generator: spelling, running PyTorch, random helpers,
and the loops that turn case generators into rows."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SEED = 20250601


Shape = list[int]


LMAX = {1: 40, 2: 40, 3: 12}


# indexed by (spatial dims - 1)
CONV: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


CONVT: tuple[type[nn.Module], ...] = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


MAXPOOL: tuple[type[nn.Module], ...] = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)


AVGPOOL: tuple[type[nn.Module], ...] = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)


ADAPTIVE_AVG: tuple[type[nn.Module], ...] = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
)


ADAPTIVE_MAX: tuple[type[nn.Module], ...] = (
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)


BATCHNORM: tuple[type[nn.Module], ...] = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


INSTANCENORM: tuple[type[nn.Module], ...] = (
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)


class Speller:
    """Writes values in one of convcalc's equivalent spellings, chosen at random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def key(self, short: str, long: str) -> str:
        return self.rng.choice((short, long))

    def boolean(self, value: bool) -> str:
        return self.rng.choice(("true", "yes", "1") if value else ("false", "no", "0"))

    def ints(self, vals: Sequence[int | None], *, scalar: bool = True) -> str:
        """An int (when all entries are equal and ``scalar``) or a tuple in a random style."""
        if (
            scalar
            and None not in vals
            and len(set(vals)) == 1
            and (len(vals) == 1 or self.rng.random() < 0.5)
        ):
            return str(vals[0])
        items = ["None" if v is None else str(v) for v in vals]
        return self._tuple(items, plain="x" if all(v is not None and v >= 0 for v in vals) else "")

    def floats(self, vals: Sequence[float], *, scalar: bool = True) -> str:
        if scalar and len(set(vals)) == 1 and (len(vals) == 1 or self.rng.random() < 0.5):
            return self.float(vals[0])
        return self._tuple([self.float(v) for v in vals], plain="x")

    def float(self, value: float) -> str:
        if value == int(value) and self.rng.random() < 0.5:
            return str(int(value))
        return repr(float(value))

    def _tuple(self, items: list[str], plain: str) -> str:
        styles = [",", "()", "( )"] + ([plain] if plain else [])
        style = self.rng.choice(styles)
        if style == "x":
            return "x".join(items)
        if style == ",":
            return ",".join(items)
        if style == "()":
            return "(" + ",".join(items) + ")"
        return "(" + ", ".join(items) + ")"


def finish(kind: str, positional: list[str], opts: list[str], rng: random.Random) -> str:
    rng.shuffle(opts)
    return " ".join([kind, *positional, *opts])


@dataclass
class Layer:
    family: str  # statistics bucket
    text: str
    make: Callable[[], nn.Module]


def one(vals: Sequence[int], n: int) -> int | tuple[int, ...]:
    return vals[0] if n == 1 else tuple(vals)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def run_once(
    layer: Layer, x: torch.Tensor
) -> tuple[torch.Tensor | None, dict[str, Any] | None, dict[str, str] | None]:
    """Construct and run one layer: (output, record, error). MACs are what
    ``FlopCounterMode`` counts for the call, divided by 2 (docs/arithmetic.md#macs)."""
    try:
        m = layer.make()
        m.eval()
        with torch.no_grad():
            y = m(x)
    except Exception as exc:  # every rejection PyTorch raises counts
        return None, None, {"type": type(exc).__name__, "message": first_line(exc)}
    # Counted in a second call: under the counter's dispatch mode some ops take other code
    # paths (interpolate to a 0-sized output is accepted there, rejected without it). A
    # module whose forward hides work from the counter (attention's fused kernels) counts
    # with its ``counted_forward``, the same computation in ops the counter sees.
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        counted = getattr(m, "counted_forward", m)(x)
    assert counted.shape == y.shape, (layer.text, counted.shape, y.shape)
    flops = counter.get_total_flops()
    assert flops % 2 == 0, (layer.text, flops)
    rec = {
        "output": list(y.shape[1:]),
        "params": sum(p.numel() for p in m.parameters()),
        "buffers": sum(b.numel() for b in m.buffers()),
        "macs": flops // 2,
    }
    return y, rec, None


def run_layer(
    layer: Layer, x: torch.Tensor
) -> tuple[torch.Tensor | None, dict[str, Any] | None, dict[str, str] | None, bool]:
    """Run on PyTorch's reference CPU path (oneDNN off); also report whether the default
    (oneDNN) path agrees on acceptance and output shape — ``False`` marks a backend-dependent
    case (e.g. ConvTranspose with a 0-sized output, accepted by oneDNN, rejected natively)."""
    with torch.backends.mkldnn.flags(enabled=False):
        y, rec, err = run_once(layer, x)
    with torch.backends.mkldnn.flags(enabled=True):
        y2, _, err2 = run_once(layer, x)
    stable = (err is None) == (err2 is None) and (y is None or y2 is None or y.shape == y2.shape)
    return y, rec, err, stable


class Chain:
    """Runs layers one by one on a batch-1 input, stopping at the first rejection."""

    def __init__(self, inp: Shape, inject_at: int | None = None) -> None:
        self.input = list(inp)
        self.x: torch.Tensor | None = torch.randn(1, *inp)
        self.layers: list[Layer] = []
        self.records: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None
        self.unstable = False  # some layer's outcome depends on the CPU backend
        self.inject_at = inject_at  # checkpoint at which a corner-case layer goes in
        self.checkpoints = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def shape(self) -> Shape:
        assert self.x is not None
        return list(self.x.shape[1:])

    def add(self, layer: Layer) -> bool:
        self.layers.append(layer)
        if self.error is not None or self.x is None:
            return False
        y, rec, err, stable = run_layer(layer, self.x)
        self.unstable |= not stable
        if err is not None:
            self.error = {"layer": len(self.layers), **err}
            self.x = None
            return False
        assert rec is not None
        self.records.append(rec)
        if y is not None and y is not self.x:
            y.from_layer = True  # type: ignore[attr-defined]  # what Lookup passes on as is
        self.x = y
        return True

    def probe(self, layer: Layer) -> tuple[bool, Shape | None, bool]:
        """Would ``layer`` succeed on the current tensor (without adding it)?"""
        assert self.x is not None
        y, _, err, stable = run_layer(layer, self.x)
        return err is None, (None if y is None else list(y.shape[1:])), stable


def weighted(rng: random.Random, table: Mapping[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def vec(rng: random.Random, n: int, fn: Callable[[int], int], same: float = 0.5) -> list[int]:
    """Per-dim values; with probability ``same`` every dim gets the same value."""
    if n > 1 and rng.random() < same:
        return [fn(0)] * n
    return [fn(i) for i in range(n)]


def rand_len(rng: random.Random, hi: int) -> int:
    r = rng.random()
    if r < 0.35:
        return rng.randint(1, min(8, hi))
    if r < 0.8:
        return rng.randint(min(5, hi), min(hi, 20))
    return rng.randint(min(10, hi), hi)


def rand_spatial(rng: random.Random, n: int, hi: int | None = None) -> list[int]:
    top = hi or LMAX[n]
    if n > 1 and rng.random() < 0.35:
        return [rand_len(rng, top)] * n
    return [rand_len(rng, top) for _ in range(n)]


def rand_channels(rng: random.Random) -> int:
    return rng.choice([1, 1, 2, 3, 3, 4, 5, 6, 8])


def maybe_bias(rng: random.Random) -> bool | None:
    r = rng.random()
    return False if r < 0.25 else (True if r < 0.35 else None)


def divisors(c: int) -> list[int]:
    return [i for i in range(1, c + 1) if c % i == 0]


CaseGen = Callable[[random.Random, Speller], tuple[Shape, Layer]]


def pick_n(rng: random.Random) -> int:
    return rng.choices([1, 2, 3], weights=[35, 40, 25])[0]


def spatial_input(rng: random.Random, n: int, *, mismatch: float = 0.0) -> Shape:
    """[C, *spatial] for an n-d layer; with probability ``mismatch`` one extra spatial dim."""
    extra = 1 if rng.random() < mismatch and n < 3 else 0
    return [rand_channels(rng), *rand_spatial(rng, n + extra)]


def any_input(rng: random.Random) -> Shape:
    r = rng.randint(1, 4)
    if r == 1:
        return [rng.randint(1, 40)]
    return [rand_channels(rng), *rand_spatial(rng, r - 1)]


def try_inject(
    rng: random.Random,
    b: Chain,
    fail_rate: float,
    candidates: Callable[[Shape, int], list[Callable[[], Layer]]],
) -> None:
    """Add one corner-case layer drawn from ``candidates(shape, n_spatial)``: one that
    PyTorch rejects with probability ``fail_rate``, else one it accepts."""
    if not b.ok:
        return
    want_fail = rng.random() < fail_rate
    shape = b.shape
    n = len(shape) - 1
    for _ in range(15):
        choices = candidates(shape, n)
        layer = rng.choice(choices)()
        ok, out, stable = b.probe(layer)
        if not stable:
            continue
        if ok and (out is None or 0 in out or math.prod(out) > 200_000 or len(out) != len(shape)):
            continue
        if ok != want_fail:
            b.add(layer)
            return


def join_chain(rng: random.Random, texts: list[str]) -> str:
    out = texts[0]
    for t in texts[1:]:
        out += rng.choice([" ", " ", " ", " ; ", " | ", "\n"]) + t
    return out


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def single_rows(
    rng: random.Random,
    sp: Speller,
    pinned: list[tuple[str, Shape, Layer]],
    plan: list[tuple[str, int, float, CaseGen]],
    seen: set[tuple[str, tuple[int, ...]]],
    stats: Counter[str],
    rejected: Counter[str],
    unstable_seen: list[str],
) -> list[dict[str, Any]]:
    """The pinned cases, then ``plan``'s random single-layer cases."""
    rows: list[dict[str, Any]] = []
    for family, shape, layer in pinned:
        b = Chain(shape)
        b.add(layer)
        if b.unstable:
            unstable_seen.append(f"{layer.text}  on {shape}")
            continue
        seen.add((layer.text, tuple(shape)))
        stats[family] += 1
        rejected[family] += not b.ok
        rows.append({"spec": layer.text, "input": shape, "layers": b.records, "error": b.error})
    for family, count, reject_rate, gen in plan:
        for _ in range(count):
            want_fail = rng.random() < reject_rate
            best: tuple[Shape, Layer, Chain] | None = None
            for _attempt in range(40):
                shape, layer = gen(rng, sp)
                key = (layer.text, tuple(shape))
                if key in seen:
                    continue
                b = Chain(shape)
                b.add(layer)
                if b.unstable:
                    unstable_seen.append(f"{layer.text}  on {shape}")
                    continue
                if b.ok and math.prod(b.shape) > 200_000:
                    continue
                best = (shape, layer, b)
                if (not b.ok) == want_fail:
                    break
            if best is None:
                continue
            shape, layer, b = best
            seen.add((layer.text, tuple(shape)))
            stats[family] += 1
            rejected[family] += not b.ok
            rows.append({"spec": layer.text, "input": shape, "layers": b.records, "error": b.error})
    return rows


def chain_rows(
    rng: random.Random,
    sp: Speller,
    make: Callable[[random.Random, Speller], Chain],
    count: int,
    seen: set[tuple[str, tuple[int, ...]]],
    chain_stats: Counter[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        b = make(rng, sp)
        if not 2 <= len(b.layers) <= 12 or b.unstable:
            continue
        texts = [layer.text for layer in b.layers]
        spec = join_chain(rng, texts)
        key = (spec, tuple(b.input))
        if key in seen:
            continue
        seen.add(key)
        chain_stats["failed" if b.error else "ok"] += 1
        rows.append({"spec": spec, "input": b.input, "layers": b.records, "error": b.error})
    return rows


Pinned = Callable[[random.Random, Speller], list[tuple[str, Shape, Layer]]]
FixedChains = Callable[[], list[tuple[str, Shape, list[Layer]]]]
RfCase = Callable[[random.Random, Speller], "dict[str, Any] | None"]


@dataclass
class CaseSet:
    """One block of rows, drawn from a random stream of its own (see generate.py). In file
    order: the pinned cases, the random single layers of ``plan``, ``chain_count`` chains from
    ``chains``, the hand-built ``fixed_chains``; ``rf_count`` receptive-field cases go to the
    RF file."""

    pinned: Pinned
    # (family, count, wanted fraction rejected, generator); family is a statistics bucket
    plan: list[tuple[str, int, float, CaseGen]]
    chains: Callable[[random.Random, Speller], Chain] | None = None
    chain_count: int = 0
    fixed_chains: FixedChains | None = None
    rf_case: RfCase | None = None
    rf_count: int = 0
