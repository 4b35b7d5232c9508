"""Fractional max pooling: nn.FractionalMaxPool2d and nn.FractionalMaxPool3d, drawn around
the rules PyTorch 2.13 applies to them:

* exactly one of output_size and output_ratio (both or neither: the constructor refuses);
* every ratio in (0, 1), both ends excluded (0, 1, negatives and ratios above 1 refused);
  the output size is ``int(L × ratio)``, which may be 0 (accepted);
* the windows must fit: ``output + kernel_size − 1 ≤ L`` along every spatial dimension in
  2-d, ``< L`` in 3-d (one more input position than the 2-d class needs);
* the 3-d class wants kernel_size > 0, the 2-d one takes any kernel_size that fits (0 and
  negatives included); a negative output_size is refused;
* kernel_size, output_size and output_ratio are an int or one value per dimension (a
  1-tuple or a tuple of another length is refused), the input C×H×W (C×D×H×W) — or, inside
  a network, the H×W (D×H×W) PyTorch reads as unbatched — and nothing empty but the batch;
* return_indices=True returns (output, indices), which convcalc does not follow.

The layers are written in convcalc's short form (with its keys or PyTorch's positional
order) and as PyTorch calls. Random single layers, a few chains (a conv stem before the pool;
the unbatched reading: a conv1d's C×L pooled as H×W, a conv2d's C×H×W as D×H×W; a pool to
a 0 size before another layer) and the set of rows they make (``SET``)."""

from __future__ import annotations

import random
from typing import Any

from common import (
    CaseSet,
    Chain,
    Layer,
    Shape,
    Speller,
    finish,
    rand_channels,
    rand_spatial,
    vec,
    weighted,
)
from torch import nn

from families.activation import act_layer
from families.conv import conv_layer
from families.corners import KeepBatch
from families.linear import linear_layer
from families.reshape import flatten_layer

FRACTIONAL: dict[int, type[nn.Module]] = {2: nn.FractionalMaxPool2d, 3: nn.FractionalMaxPool3d}

RATIOS = [0.5, 0.5, 0.25, 0.75, 0.3, 0.7, 0.29, 0.33, 0.6, 0.8, 0.9, 0.1, 0.05, 0.45, 0.66]


def _value(values: list[Any] | None, n: int, form: str) -> Any:
    """A per-dimension argument as PyTorch gets it: an int (all alike, ``form`` "one"), the
    tuple, or ``form`` "short": a 1-tuple (which PyTorch refuses for n > 1)."""
    if values is None:
        return None
    if form == "short":
        return (values[0],)
    if form == "one" and len(set(values)) == 1 and len(values) == n:
        return values[0]
    return tuple(values)


def _py(value: Any, rng: random.Random) -> str:
    """A value written as in Python source: ints, floats by repr, a tuple or a list."""
    if isinstance(value, tuple):
        items = [_py(v, rng) for v in value]
        if len(items) == 1:
            return f"({items[0]},)" if rng.random() < 0.7 else f"[{items[0]}]"
        if rng.random() < 0.25:
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ")"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def fractional_layer(
    rng: random.Random,
    sp: Speller,
    shape: Shape,
    n: int,
    k: list[int],
    *,
    size: list[int] | None = None,
    ratio: list[float] | None = None,
    style: str | None = None,
    form: str = "one",
    indices: bool | None = None,
) -> Layer:
    """``FractionalMaxPool{n}d(k, output_size=size, output_ratio=ratio)`` written in
    ``style``: "short" (convcalc's keys), "order" (PyTorch's positional order in the short
    form) or "call" (a PyTorch call); ``form`` "short" writes a 1-tuple (calls only)."""
    kv, sv, rv = _value(k, n, form), _value(size, n, form), _value(ratio, n, form)
    if style is None:
        style = weighted(rng, {"short": 45, "order": 10, "call": 45})
    one_value = any(v is not None and len(v) == 1 for v in (k, size, ratio))
    if form == "short" or indices is not None or (one_value and n > 1):
        style = "call"  # (the short form broadcasts a 1-tuple, and has no return_indices)
    if style == "order" and ratio is not None:
        style = "short"  # output_ratio is third: the order form would need a None before it
    if style == "call":
        text = _call_text(rng, n, kv, sv, rv, indices)
    else:
        names = [f"fractionalmaxpool{n}d", f"fractionalmaxpool{n}d", f"fractional_max_pool{n}d"]
        if len(shape) == n + 1:
            names.append("fractionalmaxpool")
        opts = []
        pos = []
        # A list of another length than n stays a tuple (one value would broadcast).
        if style == "order":
            pos.append(sp.ints(k, scalar=len(k) == n))
            if size is not None:
                pos.append(sp.ints(size, scalar=len(size) == n))
        else:
            if rng.random() < 0.6:
                pos.append(sp.ints(k, scalar=len(k) == n))
            else:
                opts.append(f"{sp.key('k', 'kernel_size')}={sp.ints(k, scalar=len(k) == n)}")
            if size is not None:
                value = sp.ints(size, scalar=len(size) == n)
                opts.append(f"{sp.key('size', 'output_size')}={value}")
        if ratio is not None:
            value = sp.floats(ratio, scalar=len(ratio) == n)
            opts.append(f"{sp.key('ratio', 'output_ratio')}={value}")
        text = finish(rng.choice(names), pos, opts, rng)

    def make() -> nn.Module:
        kw: dict[str, Any] = {"output_size": sv, "output_ratio": rv}
        if indices is not None:
            kw["return_indices"] = indices
        return KeepBatch(FRACTIONAL[n](kv, **kw))

    return Layer("fractionalmaxpool", text, make)


def _call_text(
    rng: random.Random, n: int, k: Any, size: Any, ratio: Any, indices: bool | None
) -> str:
    prefix = rng.choice(["", "", "nn.", "torch.nn."])
    args: list[str] = []
    keyed = rng.random() < 0.3
    args.append(f"kernel_size={_py(k, rng)}" if keyed else _py(k, rng))
    positional = not keyed and rng.random() < 0.25
    if positional:  # PyTorch's order: output_size, then output_ratio
        args.append(_py(size, rng) if size is not None else "None")
        if ratio is not None:
            args.append(_py(ratio, rng))
    else:
        if size is not None or rng.random() < 0.1:
            args.append(f"output_size={_py(size, rng) if size is not None else 'None'}")
        if ratio is not None or rng.random() < 0.1:
            args.append(f"output_ratio={_py(ratio, rng) if ratio is not None else 'None'}")
    if indices is not None:
        args.append(f"return_indices={indices}")
    elif rng.random() < 0.1:
        args.append("return_indices=False")
    if rng.random() < 0.05:
        args.append("_random_samples=None")
    return f"{prefix}FractionalMaxPool{n}d({', '.join(args)})"


def _fits(sizes: list[int], k: list[int]) -> list[int]:
    """The largest output each dimension holds: L − k + 1 in 2-d, L − k in 3-d."""
    strict = 1 if len(k) == 3 else 0
    return [L - ki + 1 - strict for L, ki in zip(sizes, k)]


def _kernel(rng: random.Random, n: int, sizes: list[int]) -> list[int]:
    return vec(rng, n, lambda i: rng.randint(1, max(1, min(5, sizes[i]))))


def gen_fractional(rng: random.Random, sp: Speller, shape: Shape, n: int) -> Layer:
    """One layer on ``shape``, around one of PyTorch's rules (about a third refused)."""
    sizes = shape[-n:]
    sc = weighted(
        rng,
        {
            "size": 24,
            "ratio": 26,
            "size_edge": 10,
            "ratio_edge": 7,
            "bad_ratio": 6,
            "both": 3,
            "neither": 3,
            "neg_size": 2,
            "kernel": 5,
            "zero": 3,
            "length": 4,
            "indices": 2,
        },
    )
    k = _kernel(rng, n, sizes)
    top = _fits(sizes, k)
    if sc == "size":
        size = vec(rng, n, lambda i: rng.randint(1, max(1, top[i])))
        return fractional_layer(rng, sp, shape, n, k, size=size)
    if sc == "ratio":
        if rng.random() < 0.6:
            ratio = [rng.choice(RATIOS)] * n
        else:
            ratio = [rng.choice(RATIOS) for _ in range(n)]
        return fractional_layer(rng, sp, shape, n, k, ratio=ratio)
    if sc == "size_edge":
        # At the limit, or one past it along one dimension.
        size = [max(0, t) for t in top]
        if rng.random() < 0.5:
            j = rng.randrange(n)
            size[j] += 1
        return fractional_layer(rng, sp, shape, n, k, size=size)
    if sc == "ratio_edge":
        ratio = vec(rng, n, lambda i: rng.choice([0.95, 0.99, 0.9, 0.85, 0.01, 0.02, 0.999]))
        return fractional_layer(rng, sp, shape, n, k, ratio=ratio)
    if sc == "bad_ratio":
        ratio = [rng.choice(RATIOS) for _ in range(n)]
        ratio[rng.randrange(n)] = rng.choice([0.0, 1.0, -0.5, 1.5, 2.0, -0.1])
        return fractional_layer(rng, sp, shape, n, k, ratio=ratio)
    if sc == "both":
        size = vec(rng, n, lambda i: rng.randint(1, max(1, top[i])))
        return fractional_layer(rng, sp, shape, n, k, size=size, ratio=[0.5] * n)
    if sc == "neither":
        return fractional_layer(rng, sp, shape, n, k)
    if sc == "neg_size":
        size = vec(rng, n, lambda i: rng.randint(1, max(1, top[i])))
        size[rng.randrange(n)] = -rng.randint(1, 3)
        return fractional_layer(rng, sp, shape, n, k, size=size)
    if sc == "kernel":
        # 0 or negative: nn.FractionalMaxPool3d refuses it, the 2-d class takes it if it fits.
        k[rng.randrange(n)] = rng.choice([0, -1, -2])
        size = vec(rng, n, lambda i: rng.randint(1, max(1, sizes[i] - k[i] + 1)))
        return fractional_layer(rng, sp, shape, n, k, size=size)
    if sc == "zero":
        if rng.random() < 0.5:
            size = vec(rng, n, lambda i: rng.choice([0, 1]))
            return fractional_layer(rng, sp, shape, n, k, size=size)
        ratio = vec(rng, n, lambda i: rng.choice([0.01, 0.05, 0.5]))
        return fractional_layer(rng, sp, shape, n, k, ratio=ratio)
    if sc == "length":
        # A 1-tuple (calls only) or one value too many or too few.
        ratio = [rng.choice(RATIOS)] * n
        size = vec(rng, n, lambda i: rng.randint(1, max(1, top[i])))
        if rng.random() < 0.5:
            what = rng.choice(["k", "size", "ratio"])
            chosen = {"k": k, "size": size, "ratio": ratio}[what]
            return fractional_layer(
                rng,
                sp,
                shape,
                n,
                chosen if what == "k" else k,
                size=size if what == "size" else None,
                ratio=ratio if what == "ratio" else None,
                form="short",
            )
        m = n + rng.choice([-1, 1])
        if rng.random() < 0.5:
            return fractional_layer(rng, sp, shape, n, k, size=(size * 2)[:m])
        return fractional_layer(rng, sp, shape, n, k, ratio=(ratio * 2)[:m])
    # indices
    ratio = [rng.choice(RATIOS)] * n
    return fractional_layer(rng, sp, shape, n, k, ratio=ratio, indices=rng.random() < 0.7)


def case_fractional(rng: random.Random, sp: Speller) -> tuple[Shape, Layer]:
    """C×H×W or C×D×H×W; rarely one spatial dimension too many (refused)."""
    n = rng.choices([2, 3], weights=[60, 40])[0]
    if rng.random() < 0.05:  # one spatial dimension too many
        shape = [rand_channels(rng), *[rng.randint(1, 12 if n == 2 else 6) for _ in range(n + 1)]]
    else:
        shape = [rand_channels(rng), *rand_spatial(rng, n)]
    return shape, gen_fractional(rng, sp, shape, n)


def pinned_cases(rng: random.Random, sp: Speller) -> list[tuple[str, Shape, Layer]]:
    """The documented examples, the float64 floor, the limits of the fit in 2-d and 3-d,
    kernels of 0 and below, 0-sized outputs, and the constructor's refusals."""
    r, s = rng, sp
    f = "fractionalmaxpool"
    return [
        (f, [16, 50, 32], fractional_layer(r, s, [16, 50, 32], 2, [3, 3], size=[13, 12])),
        (f, [16, 50, 32], fractional_layer(r, s, [16, 50, 32], 2, [3, 3], ratio=[0.5, 0.5])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], ratio=[0.5, 0.5])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], size=[8, 8])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], size=[9, 8])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], ratio=[0.9, 0.9])),
        (f, [1, 100, 100], fractional_layer(r, s, [1, 100, 100], 2, [2, 2], ratio=[0.29, 0.29])),
        (f, [2, 100, 50], fractional_layer(r, s, [2, 100, 50], 2, [1, 1], ratio=[0.29, 0.58])),
        (f, [2, 8, 9, 10], fractional_layer(r, s, [2, 8, 9, 10], 3, [2, 2, 2], size=[7, 8, 9])),
        (f, [2, 8, 9, 10], fractional_layer(r, s, [2, 8, 9, 10], 3, [2, 2, 2], size=[8, 8, 9])),
        (f, [2, 8, 9, 10], fractional_layer(r, s, [2, 8, 9, 10], 3, [2, 2, 2], ratio=[0.5] * 3)),
        (f, [2, 9, 9, 10], fractional_layer(r, s, [2, 9, 9, 10], 3, [2, 2, 2], size=[7, 7, 8])),
        (f, [1, 5, 5, 5], fractional_layer(r, s, [1, 5, 5, 5], 3, [5, 1, 1], size=[0, 1, 1])),
        (f, [1, 5, 5, 5], fractional_layer(r, s, [1, 5, 5, 5], 3, [1, 1, 1], size=[5, 4, 4])),
        (f, [1, 10, 10], fractional_layer(r, s, [1, 10, 10], 2, [-5, -5], size=[14, 14])),
        (f, [1, 10, 10], fractional_layer(r, s, [1, 10, 10], 2, [3, 3], size=[0, 0])),
        (f, [1, 10, 10], fractional_layer(r, s, [1, 10, 10], 2, [11, 11], size=[0, 0])),
        (f, [1, 5, 5, 5], fractional_layer(r, s, [1, 5, 5, 5], 3, [0, 2, 2], size=[2, 2, 2])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], ratio=[1.0, 0.5])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3])),
        (
            f,
            [3, 10, 10],
            fractional_layer(r, s, [3, 10, 10], 2, [3, 3], size=[5, 5], ratio=[0.5, 0.5]),
        ),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [3, 3], size=[-1, 3])),
        (f, [3, 10, 10], fractional_layer(r, s, [3, 10, 10], 2, [2, 2], size=[5], form="short")),
        (
            f,
            [3, 10, 10],
            fractional_layer(r, s, [3, 10, 10], 2, [2, 2], ratio=[0.5] * 2, indices=True),
        ),
        (
            f,
            [3, 10, 10],
            fractional_layer(r, s, [3, 10, 10], 2, [2, 2], ratio=[0.5] * 2, indices=False),
        ),
        (
            f,
            [2, 8, 8, 8],
            fractional_layer(r, s, [2, 8, 8, 8], 3, [2, 2, 2], size=[3, 3, 3], indices=True),
        ),
    ]


PLAN = [("fractionalmaxpool", 360, 0.33, case_fractional)]


# --------------------------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------------------------


def chain_stem(rng: random.Random, sp: Speller) -> Chain:
    """A conv (and activation) before one or two fractional pools, then sometimes a head."""
    n = rng.choice([2, 2, 3])
    b = Chain([rand_channels(rng), *rand_spatial(rng, n, 24 if n == 2 else 10)])
    c = rng.choice([4, 8])
    b.add(conv_layer(rng, sp, b.shape, n, c, [3] * n, p=[1] * n))
    if b.ok and rng.random() < 0.6:
        b.add(act_layer(rng.choice(["relu", "gelu"])))
    for _ in range(rng.randint(1, 2)):
        if not b.ok:
            break
        b.add(gen_fractional(rng, sp, b.shape, n))
        if b.ok and rng.random() < 0.5:
            b.add(act_layer("relu"))
    if b.ok and rng.random() < 0.5:
        b.add(flatten_layer(rng, sp, None, None))
        if b.ok:
            b.add(linear_layer(rng, sp, b.shape, rng.choice([4, 10])))
    return b


def chain_unbatched(rng: random.Random, sp: Speller) -> Chain:
    """A tensor with as many dims as the pool has spatial dims, which PyTorch reads as
    unbatched: a conv1d's C×L pooled as H×W, a conv2d's C×H×W as D×H×W."""
    n = rng.choice([2, 3])
    m = n - 1
    b = Chain([rand_channels(rng), *rand_spatial(rng, m, 24 if m == 1 else 10)])
    b.add(conv_layer(rng, sp, b.shape, m, rng.randint(2, 8), [3] * m, p=[1] * m))
    if b.ok:
        b.add(gen_fractional(rng, sp, b.shape, n))
    if b.ok and rng.random() < 0.5:
        b.add(act_layer("relu"))
    return b


def chain_empty(rng: random.Random, sp: Speller) -> Chain:
    """A fractional pool to a 0 size, then a layer on the empty map: another fractional
    pool (which wants every dimension but the batch non-empty) or an activation."""
    n = rng.choice([2, 3])
    b = Chain([rand_channels(rng), *rand_spatial(rng, n, 16 if n == 2 else 8)])
    b.add(conv_layer(rng, sp, b.shape, n, rng.choice([2, 4]), [3] * n, p=[1] * n))
    if b.ok:
        size = [rng.randint(1, 2) for _ in range(n)]
        size[rng.randrange(n)] = 0
        b.add(fractional_layer(rng, sp, b.shape, n, [1] * n, size=size))
    if b.ok:
        if rng.random() < 0.7:
            b.add(fractional_layer(rng, sp, b.shape, n, [1] * n, size=[0] * n))
        else:
            b.add(act_layer("relu"))
    return b


def chains(rng: random.Random, sp: Speller) -> Chain:
    r = rng.random()
    if r < 0.6:
        return chain_stem(rng, sp)
    return chain_unbatched(rng, sp) if r < 0.9 else chain_empty(rng, sp)


SET = CaseSet(pinned=pinned_cases, plan=PLAN, chains=chains, chain_count=60)
