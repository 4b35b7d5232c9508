"""convcalc.ask.solve: hidden keys are found again, every answer reaches the target,
impossible targets report the truly nearest sizes.

The truth comes from two places: the single layers PyTorch ran
(tests/data/torch_cases.jsonl, with one key hidden and torch's output as the
target), and random layers whose forward output the engine computes (the engine
itself is checked against PyTorch by kinds/test_vectors.py)."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import pytest

import convcalc
from convcalc.ask.solve import Limits, NoSolution, Solution, solve, solve_chain
from convcalc.kinds import KINDS, REGISTRY
from convcalc.kinds.torch.conv_transpose import ConvTranspose
from convcalc.language import LayerStmt, parse
from tests.paths import ROOT

SHORT = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "output_padding": "op"}
SOLVABLE = {
    "Conv": ("kernel_size", "stride", "padding", "dilation"),
    "ConvTranspose": ("kernel_size", "stride", "padding", "output_padding", "dilation"),
    "MaxPool": ("kernel_size", "stride", "padding", "dilation"),
    "AvgPool": ("kernel_size", "stride", "padding"),
    "LPPool": ("kernel_size", "stride"),
    "MaxUnpool": ("kernel_size", "stride", "padding"),
}


def per_dim(value: Any, n: int) -> tuple[Any, ...]:
    if not isinstance(value, tuple):
        return (value,) * n
    return value * n if len(value) == 1 else value


def reaches(solution: Solution, input_shape: Any, target: tuple[int, ...]) -> None:
    """The answer's text, run by the engine anew, gives the target."""
    out = convcalc.analyze(solution.spec, input_shape).output
    assert out == solution.output
    assert out[-len(target) :] == target, (solution.spec, out, target)


# --------------------------------------------------------------------------
# The typical questions of the issue.


@pytest.mark.parametrize(
    ("layer", "input_shape", "output_shape", "first"),
    [
        # keep 224 with k=7 → p=3
        ("conv2d 64 k=7 p=?", "3x224x224", "64x224x224", "conv2d 64 k=7 p=3"),
        ("conv2d 64 k=7", "3x224x224", "64x224x224", "conv2d 64 k=7 p=3"),
        # conv k=3 s=2 from 224 to 112 → p=1 (simplest)
        ("conv2d 64 k=3 s=2 p=?", "3x224x224", "112", "conv2d 64 k=3 s=2 p=1"),
        ("conv2d 64 k=3 s=2", "3x224x224", "64x112x112", "conv2d 64 k=3 s=2 p=1"),
        # transposed k=4 s=2 from 7 to 14 → p=1
        ("convtranspose2d 64 k=4 s=2 p=?", "128x7x7", "64x14x14", "convtranspose2d 64 k=4 s=2 p=1"),
        ("convtranspose2d 64 k=4 s=2", "128x7x7", "64x14x14", "convtranspose2d 64 k=4 s=2 p=1"),
        # an even kernel keeps its size only with padding='same'
        ("conv2d 8 k=4 p=?", "3x32x32", "32", "conv2d 8 k=4 p=same"),
        # out_channels left out is taken from the target
        ("conv2d k=3 p=?", "3x32x32", "16x32x32", "conv2d 16 k=3 p=1"),
        ("conv2d ? k=3 p=1", "3x32x32", "16x32x32", "conv2d 16 k=3 p=1"),
        # pools: the stride defaults to the kernel
        ("maxpool k=?", "3x55x55", "27", "maxpool k=2"),
        ("maxpool k=2 ceil=true s=?", "3x55x55", "28", "maxpool k=2 ceil=true s=2"),
        ("adaptiveavgpool ?", "3x55x55", "7x5", "adaptiveavgpool 7,5"),
        ("adaptiveavgpool", "3x55x55", "6", "adaptiveavgpool 6"),
        ("upsample scale=?", "3x100x7", "200x14", "upsample scale=2"),
        ("upsample size=?", "3x100x7", "28x3", "upsample size=28,3"),
        ("upsample", "3x16x16", "32", "upsample scale=2"),
        # different sizes per dimension need a tuple
        ("conv2d 8 k=?", "3x10x12", "8x8x8", "conv2d 8 k=3,5"),
        # nothing left to solve: the layer as written, if it fits
        ("conv2d 8 k=3 s=1 p=1 d=1", "3x10x10", "8x10x10", "conv2d 8 k=3 s=1 p=1 d=1"),
    ],
)
def test_typical_questions(layer: str, input_shape: str, output_shape: str, first: str) -> None:
    found = solve(layer, input_shape, output_shape)
    assert found[0].spec == first
    target = convcalc.parse_shape(output_shape)
    for solution in found:
        reaches(solution, input_shape, target if len(target) > 1 else target * 2)


def test_the_order_is_simplest_first_among_alike_windows() -> None:
    # The dilation is not asked for (no d=?): d=1 first. With s=2, a dilation of 2 or 4
    # puts every tap on an even pixel (the odd ones are read by no window): those come
    # after d=3, whose taps reach both, and they are marked.
    found = solve("conv2d 64 k=3 s=2", "3x224x224", "112")
    assert [(s.values, s.skips_input) for s in found] == [
        ({"p": 1, "d": 1}, False),
        ({"p": 3, "d": 3}, False),
        ({"p": 2, "d": 2}, True),
        ({"p": 4, "d": 4}, True),
    ]
    found = solve("convtranspose2d 8 k=4 s=2", "8x7x7", "14")
    assert found[0].values == {"p": 1, "d": 1, "op": 0}
    assert all(
        s.values["op"] < max(2, s.values["d"])
        for s in found  # stride 2 is given
    )


def test_a_scale_is_the_shortest_decimal_that_floors_right() -> None:
    # 100 × 0.29 = 28.999999999999996 in float64 (docs/arithmetic.md#other-layers, a torch vector):
    # 0.29 gives 28, so the shortest scale that gives 29 has three decimals
    (solution,) = solve("upsample scale=?", "1x100", "1x29")
    assert solution.values["scale"] == 0.291
    assert convcalc.analyze("upsample scale=0.29", "1x100").output == (1, 28)
    (solution,) = solve("upsample scale=?", "1x100", "1x28")
    assert solution.values["scale"] == 0.28
    reaches(solution, "1x100", (1, 28))


def test_limits_widen_the_search() -> None:
    with pytest.raises(NoSolution):
        solve("conv2d 8 k=?", "3x40x40", "20")
    (solution,) = solve("conv2d 8 k=?", "3x40x40", "20", limits=Limits(kernel_size=21))
    assert solution.values == {"k": 21}
    assert Limits.parse("21") == Limits(21, 21, 21)
    assert Limits.parse("k=21,s=8") == Limits(kernel_size=21, stride=8)
    with pytest.raises(convcalc.SpecError):
        Limits.parse("q=3")


def test_results_are_capped() -> None:
    found = solve("conv2d", "3x224x225", "64x112x113", limits=Limits(results=10))
    assert len(found) == 10
    assert not any(isinstance(v, tuple) for v in found[0].values.values())


def test_to_dict() -> None:
    (solution,) = solve("conv2d 8 k=?", "3x10x12", "8x8x8")
    assert solution.to_dict() == {
        "spec": "conv2d 8 k=3,5",
        "k": [3, 5],
        "output": [8, 8, 8],
        "skips_input": False,
    }


# --------------------------------------------------------------------------
# Nothing fits.


def test_no_solution_names_the_nearest() -> None:
    with pytest.raises(NoSolution) as info:
        solve("conv2d k=3 s=2 p=?", "3x224x224", "150")
    err = info.value
    assert isinstance(err, convcalc.ShapeError)
    assert [s.output for s in err.nearest][:2] == [(3, 114, 114), (3, 113, 113)]
    assert "nearest: 3×114×114 with conv2d k=3 s=2 p=3" in str(err)


def test_channels_that_cannot_change() -> None:
    with pytest.raises(NoSolution) as info:
        solve("maxpool k=?", "3x55x55", "8x27x27")
    assert info.value.nearest[0].output == (3, 27, 27)
    with pytest.raises(NoSolution):
        solve("conv2d 16 k=3 p=?", "3x32x32", "8x32x32")


def test_a_layer_that_fails_whatever_the_unknowns_are() -> None:
    with pytest.raises(convcalc.ShapeError, match="divisible by groups"):
        solve("conv2d 8 g=2 k=3 p=?", "3x32x32", "32")


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("relu; relu", "solve takes one layer"),
        ("conv2d 8 k=3,?", "whole value"),
        ("conv2d 8 k=3 bias=?", "cannot solve for bias"),
        ("relu ?", "no further positional"),
        ("conv2d 8 q=?", "no argument"),
    ],
)
def test_spec_errors(layer: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError, match=message):
        solve(layer, "3x32x32", "32")


def test_output_shape_of_the_wrong_rank() -> None:
    with pytest.raises(convcalc.SpecError, match="has 2 dimensions"):
        solve("conv3d 8 k=?", "3x8x8x8", "4x4")


# --------------------------------------------------------------------------
# Hidden keys: PyTorch's own single layers.


def _torch_layers() -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    out = []
    with (ROOT / "tests" / "data" / "torch_cases.jsonl").open() as fh:
        for line in fh:
            case = json.loads(line)
            spec = case["spec"]
            if case["error"] is not None or len(case["layers"]) != 1:
                continue
            stmts = parse(spec, KINDS).statements
            if len(stmts) != 1 or not isinstance(stmts[0], LayerStmt) or stmts[0].call:
                continue  # (the solver reads the short form, not PyTorch calls)
            if "none" in spec.lower():
                continue  # stride=None: no value to hide
            if REGISTRY[stmts[0].kind].cls.__name__ not in SOLVABLE:
                continue
            shape, target = tuple(case["input"]), tuple(case["layers"][0]["output"])
            if 0 in shape or 0 in target:
                continue  # an empty size is no question to solve
            out.append((spec, shape, target))
    return out


TORCH_LAYERS = _torch_layers()


def _hide(spec: str, key: str) -> str | None:
    """The spec with ``key``'s value replaced by '?', or None if it is not written."""
    (stmt,) = parse(spec, KINDS).statements
    assert isinstance(stmt, LayerStmt)
    entry = REGISTRY[stmt.kind]
    for arg in stmt.args:
        param = entry.by_key.get(arg.key) if arg.key is not None else None
        if param is not None and param.name == key:
            return spec[: arg.value.start] + "?" + spec[arg.value.end :]
    return None


def _limits_for(layer: Any, n: int) -> Limits:
    """Limits wide enough to hold the hidden truth."""
    k = max(per_dim(layer.kernel_size, n))
    s = max(per_dim(getattr(layer, "stride", None) or (1,), n))
    d = max(per_dim(getattr(layer, "dilation", (1,)), n))
    padding = getattr(layer, "padding", (0,))
    p = None
    if not isinstance(padding, str):
        pads = per_dim(padding, n)
        kernels = per_dim(layer.kernel_size, n)
        dilations = per_dim(getattr(layer, "dilation", (1,)), n)
        if any(pi > max(ki, di * (ki - 1)) for pi, ki, di in zip(pads, kernels, dilations)):
            p = max(pads)
    return Limits(max(11, k), max(4, s), max(4, d), p, results=100_000)


def _check_hidden(spec: str, shape: tuple[int, ...], target: tuple[int, ...], key: str) -> bool:
    hidden = _hide(spec, key)
    if hidden is None:
        return False
    truth_layer = convcalc.analyze(spec, shape).layers[0].layer
    n = len(shape) - 1
    truth = per_dim(getattr(truth_layer, key), n)
    if any(
        isinstance(v, int) and v < (0 if key in ("padding", "output_padding") else 1) for v in truth
    ):
        return False  # max unpooling takes negative padding and zero kernels: not searched
    found = solve(hidden, shape, target, limits=_limits_for(truth_layer, n))
    assert found, spec
    answers = []
    for solution in found:
        assert solution.output == target, (spec, solution)
        answers.append(per_dim(solution.values[SHORT[key]], n))
    if isinstance(truth[0], str):
        # padding='same'/'valid' may come back as the integers it stands for
        return True
    assert_truth_found(truth_layer, key, shape, target, answers)
    return True


def assert_truth_found(
    layer: Any, key: str, shape: tuple[int, ...], target: tuple[int, ...], answers: list[Any]
) -> None:
    """The hidden value is among the answers. Dimensions alike in every respect (input,
    target, the other keys) share one answer by design, so a truth that differs
    between two such dimensions is found dimension by dimension."""
    n = len(shape) - 1
    truth = per_dim(getattr(layer, key), n)
    if key == "dilation":
        # a 1-wide kernel ignores its dilation: the solver offers d=1 only (unless a
        # transposed conv needs it for its output_padding), and then writes there the
        # other dimensions' dilation when they share one (d=2, not d=2,1)
        kernel = per_dim(layer.kernel_size, n)
        s = per_dim(getattr(layer, "stride", None) or kernel, n)
        op = per_dim(getattr(layer, "output_padding", (0,)), n)
        truth = tuple(1 if kernel[i] == 1 and op[i] < s[i] else truth[i] for i in range(n))
        if not isinstance(layer, ConvTranspose):
            rest = {truth[i] for i in range(n) if kernel[i] != 1}
            if len(rest) == 1:
                truth = (rest.pop(),) * n
    for i in range(n):
        assert truth[i] in {a[i] for a in answers}, (layer, key, truth, answers[:10])
    others = [k for k in SHORT if k != key and getattr(layer, k, None) is not None]
    sig = [
        (shape[i + 1], target[i + 1], *(per_dim(getattr(layer, k), n)[i] for k in others))
        for i in range(n)
    ]
    alike_but_different = any(
        sig[i] == sig[j] and truth[i] != truth[j] for i in range(n) for j in range(i)
    )
    if not alike_but_different:
        assert truth in answers, (layer, key, truth, answers[:10])


def test_hidden_keys_of_the_layers_torch_ran() -> None:
    rng = random.Random(9)
    checked = 0
    # 1,600 of the ~2,700 (each answer is run through the engine: keep the suite fast)
    for spec, shape, target in rng.sample(TORCH_LAYERS, 1600):
        stmt = parse(spec, KINDS).statements[0]
        assert isinstance(stmt, LayerStmt)
        keys = list(SOLVABLE[REGISTRY[stmt.kind].cls.__name__])
        rng.shuffle(keys)
        for key in keys:
            if _check_hidden(spec, shape, target, key):
                checked += 1
                break
    assert checked > 1400


def test_every_answer_to_a_torch_layer_runs_in_the_engine() -> None:
    """Re-run a sample of answers through analyze() from their text."""
    rng = random.Random(19)
    for spec, shape, target in rng.sample(TORCH_LAYERS, 150):
        stmt = parse(spec, KINDS).statements[0]
        assert isinstance(stmt, LayerStmt)
        for key in SOLVABLE[REGISTRY[stmt.kind].cls.__name__]:
            hidden = _hide(spec, key)
            if hidden is None:
                continue
            layer = convcalc.analyze(spec, shape).layers[0].layer
            for solution in solve(hidden, shape, target, limits=_limits_for(layer, len(shape) - 1))[
                :5
            ]:
                reaches(solution, shape, target)
            break


# --------------------------------------------------------------------------
# Hidden keys: random layers, the engine as the forward oracle.

KINDS_2D = ("conv", "convtranspose", "maxpool", "avgpool", "lppool", "maxunpool")


def _random_layer(rng: random.Random) -> tuple[str, dict[str, int], tuple[int, ...]]:
    family = rng.choice(KINDS_2D)
    n = rng.choice((1, 2, 2, 3))
    k = rng.randint(1, 7)
    keys: dict[str, int] = {"kernel_size": k, "stride": rng.randint(1, 4)}
    if family in ("conv", "convtranspose", "maxpool"):
        keys["dilation"] = rng.randint(1, 3)
    if family in ("conv", "convtranspose", "maxunpool"):
        keys["padding"] = rng.randint(0, k)
    elif family in ("maxpool", "avgpool"):
        keys["padding"] = rng.randint(0, k // 2)
    if family == "convtranspose":
        keys["output_padding"] = rng.randrange(max(keys["stride"], keys["dilation"]))
    words = [f"{family}{n}d"]
    if family == "lppool":
        words.append("2")
    words += [f"{SHORT[key]}={value}" for key, value in keys.items()]
    if family in ("maxpool", "avgpool", "lppool") and rng.random() < 0.4:
        words.append("ceil=true")
    size = rng.randint(1, 40)
    shape = (2, *(size if rng.random() < 0.7 else rng.randint(1, 40) for _ in range(n)))
    return " ".join(words), keys, shape


def test_hidden_keys_of_random_layers() -> None:
    rng = random.Random(2024)
    checked = 0
    while checked < 1500:
        spec, keys, shape = _random_layer(rng)
        try:
            target = convcalc.analyze(spec, shape).output
        except convcalc.ShapeError:
            continue
        if 0 in target:
            continue  # max unpooling can empty a size: no question to solve
        key = rng.choice(list(keys))
        hidden = _hide(spec, key)
        assert hidden is not None
        n = len(shape) - 1
        found = solve(hidden, shape, target, limits=Limits(results=100_000))
        answers = [per_dim(s.values[SHORT[key]], n) for s in found]
        layer = convcalc.analyze(spec, shape).layers[0].layer
        assert_truth_found(layer, key, shape, target, answers)
        for solution in found:
            assert solution.output == target
        checked += 1


def test_impossible_targets_give_the_nearest_sizes() -> None:
    """Brute force over the hidden key's range with the engine: the reported nearest
    size is as near as any reachable one, and every reported one is reachable."""
    rng = random.Random(77)
    checked = 0
    while checked < 150:
        spec, keys, shape = _random_layer(rng)
        if len(shape) != 2:
            continue
        try:
            out = convcalc.analyze(spec, shape).output
        except convcalc.ShapeError:
            continue
        if 0 in out:
            continue
        key = rng.choice([k for k in keys if k != "output_padding"])
        hidden = _hide(spec, key)
        assert hidden is not None
        reachable = set()
        # the default limits, padding ≤ 11; a pool's stride may also be its kernel size
        strides = [*range(1, 5)] + ([keys["kernel_size"]] if "pool" in spec.split()[0] else [])
        span = {"kernel_size": range(1, 12), "stride": strides, "dilation": range(1, 5)}
        for value in span.get(key, range(12)):
            with contextlib.suppress(convcalc.ShapeError, convcalc.SpecError):
                reachable.add(convcalc.analyze(hidden.replace("?", str(value)), shape).output[1])
        misses = [t for t in range(1, 3 * out[1] + 20) if t not in reachable]
        target = rng.choice(misses)
        with pytest.raises(NoSolution) as info:
            solve(hidden, shape, (out[0], target), limits=Limits(padding=11))
        nearest = info.value.nearest
        assert nearest, (hidden, shape, target)
        best = min(abs(r - target) for r in reachable)
        assert abs(nearest[0].output[1] - target) == best, (hidden, shape, target, nearest)
        for solution in nearest:
            assert solution.output[1] in reachable
            reaches(solution, shape, solution.output)
        checked += 1


# --------------------------------------------------------------------------
# Chains.


def test_a_chain_with_one_unknown() -> None:
    found = solve_chain("conv2d 64 k=7 s=2 p=?; maxpool k=3 s=2 p=1", "3x224x224", "64x56x56")
    # ResNet's stem (p=3, centred) before p=2, which reaches 56 as well
    assert [s.values for s in found] == [{"1.p": 3}, {"1.p": 2}]
    for solution in found:
        reaches(solution, "3x224x224", (64, 56, 56))


def test_a_chain_with_its_own_input_and_a_block() -> None:
    spec = "input 3x64x64\nblock down C\n  conv2d C k=3 s=2 p=?\nend\ndown 16; down 32; as x; conv2d 32 k=1; add x"
    (solution,) = solve_chain(spec, None, "32x16x16")
    assert solution.values == {"1.p": 1}
    assert solution.spec == spec.replace("?", "1")
    reaches(solution, None, (32, 16, 16))


def test_a_single_layer_with_an_input_line_goes_to_solve() -> None:
    (solution,) = solve_chain("input 3x224x224; conv2d 64 k=7 p=?", None, "224")
    assert solution.spec == "input 3x224x224; conv2d 64 k=7 p=3"


def test_a_chain_without_a_solution() -> None:
    with pytest.raises(NoSolution) as info:
        solve_chain("conv2d 8 k=3 p=?; maxpool k=2", "3x32x32", "30")
    assert info.value.nearest[0].output[1:] in ((19, 19), (18, 18))


def test_a_chain_search_too_large_is_refused_at_once() -> None:
    spec = "conv2d 8 k=? s=? p=? d=?; conv2d 8 k=? s=? p=?"
    with pytest.raises(convcalc.SpecError, match="too many combinations"):
        solve_chain(spec, "3x64x64", "16")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv2d 8 k=3; relu", "nothing to solve"),
        ("conv2d 8 k=3; as ?", "not a layer"),
        ("conv2d 8 k=3 p=?; upsample scale=?", "not for upsample"),
    ],
)
def test_chain_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(convcalc.SpecError, match=message):
        solve_chain(spec, "3x32x32", "32")


def test_hidden_keys_of_random_chains() -> None:
    rng = random.Random(5)
    checked = 0
    while checked < 150:
        layers = []
        hidden_keys = []
        for _ in range(rng.randint(2, 3)):
            spec, keys, _shape = _random_layer(rng)
            spec = spec.replace("1d", "2d").replace("3d", "2d")
            layers.append(spec)
            hidden_keys.append((len(layers) - 1, keys))
        shape = (2, rng.randint(8, 40), rng.randint(8, 40))
        text = "; ".join(layers)
        try:
            target = convcalc.analyze(text, shape).output
        except convcalc.ShapeError:
            continue
        if 0 in target:
            continue
        # hide one key in one or two of the layers
        picks = rng.sample(hidden_keys, rng.randint(1, min(2, len(hidden_keys))))
        truth = {}
        for pos, keys in picks:
            # (a 1-wide kernel's dilation changes nothing: the solver offers d=1 only)
            key = rng.choice([k for k in keys if k != "dilation" or keys["kernel_size"] > 1])
            hidden = _hide(layers[pos], key)
            assert hidden is not None
            layers[pos] = hidden
            truth[(pos, key)] = keys[key]
        found = solve_chain("; ".join(layers), shape, target, limits=Limits(results=100_000))
        assert found
        for solution in found:
            assert solution.output == target
            assert convcalc.analyze(solution.spec, shape).output == target
        rows = sorted({pos for pos, _ in truth})
        wanted = {f"{pos + 1}.{SHORT[key]}": value for (pos, key), value in truth.items()}
        assert rows
        assert wanted in [s.values for s in found], (layers, shape, target, wanted)
        checked += 1
