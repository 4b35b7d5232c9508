"""Drawing random graph descriptions: motifs (residuals, inception, dense, gates,
splits, crops, shared layers…), a share of them deliberately wrong
(tests/vectors/graphs.py)."""

from __future__ import annotations

import random

import torch
from graph_exec import Exec
from graph_spec import As, BlockDef, Crop, From, Graph, Inst, Layer, Merge, Split, Stmt, Use, Value

BAD_SHARE = 0.3


# --------------------------------------------------------------------------- generation

CHANNELS = (4, 8, 12, 16, 24, 32, 48, 64)


class Stop(Exception):
    """The description already fails: nothing after it needs a shape."""


def sizes_between(rng: random.Random, total: int, n: int) -> tuple[int, ...]:
    cuts = sorted(rng.sample(range(1, total), n - 1))
    return tuple(b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True))


class Gen:
    """Draws one description, running it as it grows so that choices fit the shapes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        if rng.random() < 0.2:
            shape: tuple[int, ...] = (rng.choice((1, 2, 4, 8)), rng.randint(12, 80))
        else:
            h = rng.randint(6, 36)
            w = h if rng.random() < 0.8 else rng.randint(6, 36)
            shape = (rng.choice((1, 3, 4, 8, 16)), h, w)
        style = rng.choices(("lines", "semicolons", "spaces"), (4, 4, 2))[0]
        self.g = Graph(shape, style=style)
        self.guide = Exec(self.g.blocks, torch.zeros(1, *shape))
        self.count = 0
        self.flat = False  # past the head's flatten
        self.intent: str | None = None  # the deliberate mismatch, if one was placed

    # -- helpers --------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return self.guide.failure is not None

    def emit(self, *stmts: Stmt) -> None:
        for s in stmts:
            self.g.body.append(s)
            self.guide.top(s)

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def shape(self) -> tuple[int, ...]:
        s = self.guide.shape()
        if s is None:
            raise Stop
        return s

    def shape_of(self, name: str) -> tuple[int, ...]:
        t = self.guide.tensors[self.guide.scope.get(name)]
        if t is None:
            raise Stop
        return tuple(t.shape[1:])

    @property
    def conv(self) -> str:
        return "conv1d" if len(self.shape()) == 2 else "conv2d"

    def spatial(self) -> int:
        return min(self.shape()[1:])

    def define(self, block: BlockDef) -> str:
        have = self.g.blocks.setdefault(block.name, block)
        assert have == block, block.name
        return block.name

    def conv_layer(
        self, out: Value, k: Value, s: Value = 1, p: Value = 0, g: Value = 1, bias: bool = True
    ) -> Layer:
        keys: list[tuple[str, Value]] = [("k", k)]
        if s != 1 or self.rng.random() < 0.1:
            keys.append(("s", s))
        if p != 0 or self.rng.random() < 0.1:
            keys.append(("p", p))
        if g != 1:
            keys.append(("g", g))
        if not bias:
            keys.append(("bias", False))
        return Layer(self.conv, (out,), tuple(keys))

    def chan(self, avoid: int | None = None) -> int:
        return self.rng.choice([c for c in CHANNELS if c != avoid])

    # -- motifs: each returns False, having emitted nothing, when it does not fit -----

    def m_conv(self, bad: bool) -> bool:
        if bad:
            return False
        rng, m, c = self.rng, self.spatial(), self.shape()[0]
        k = rng.choice((1, 3, 3, 5))
        p = k // 2 if rng.random() < 0.75 or k > m else 0
        s = 2 if m >= 6 and rng.random() < 0.3 else 1
        out, g = self.chan(), 1
        if rng.random() < 0.2:
            common = [d for d in range(2, 65) if c % d == 0 and out % d == 0]
            if common:
                g = rng.choice(common)
        if rng.random() < 0.1 and c > 1:
            out, g = c, c  # depthwise
        layer = self.conv_layer(out, k, s, p, g, rng.random() < 0.5)
        if rng.random() < 0.15 and s == 1 and 2 * p + 1 == k and g == 1:
            layer = Layer(layer.kind, layer.pos, layer.keys, repeat=rng.randint(2, 3))
        self.emit(layer)
        if rng.random() < 0.6:
            self.emit(Layer("bn"))
        if rng.random() < 0.7:
            self.emit(Layer("relu"))
        return True

    def m_pool(self, bad: bool) -> bool:
        if bad or self.spatial() < 2:
            return False
        rng = self.rng
        keys = rng.choice(
            ((("k", 2),), (("k", 3), ("s", 2), ("p", 1)), (("k", 3), ("s", 1), ("p", 1)))
        )
        self.emit(Layer(rng.choice(("maxpool", "avgpool")), (), keys))
        return True

    def m_residual(self, bad: bool) -> bool:
        """Inline basic block, with or without a projection shortcut."""
        rng, c, m = self.rng, self.shape()[0], self.spatial()
        x, y = self.fresh(), self.fresh()
        project = rng.random() < 0.5
        out = self.chan() if project else c
        stride = 2 if project and m >= 4 and rng.random() < 0.5 else 1
        short_out, short_stride = out, stride
        if bad:
            mode = rng.choice(("channels", "stride", "proj_stride", "proj_channels"))
            if m < 3 and mode in ("stride", "proj_stride"):
                mode = "channels"
            self.intent = f"residual:{mode}"
            if mode == "channels":  # no projection, the channels change
                project, out, stride = False, self.chan(avoid=c), 1
            elif mode == "stride":  # no projection, the size halves
                project, out, stride = False, c, 2
            elif mode == "proj_stride":  # projection without the stride
                project, stride, short_stride = True, 2, 1
            else:  # projection to other channels
                project, stride, short_stride = True, 1, 1
                short_out = self.chan(avoid=out)
        bias = rng.random() < 0.3
        self.emit(As(x), self.conv_layer(out, 3, stride, 1, bias=bias), Layer("bn"), Layer("relu"))
        self.emit(self.conv_layer(out, 3, 1, 1, bias=bias), Layer("bn"))
        if project:
            self.emit(As(y), From(x), self.conv_layer(short_out, 1, short_stride, bias=bias))
            self.emit(Layer("bn"), Merge("add", (y,)))
        else:
            self.emit(Merge("add", (x,)))
        self.emit(Layer("relu"))
        return True

    def m_resblock(self, bad: bool) -> bool:
        """ResNet blocks as defined blocks, instantiated (and repeated)."""
        rng, c, m = self.rng, self.shape()[0], self.spatial()
        conv, nd = self.conv, self.conv[-2]
        kind = rng.choice(("basic", "down", "bneck"))
        if kind == "basic":
            name = self.define(
                BlockDef(
                    f"basic{nd}",
                    (("C", None),),
                    (
                        As("sc"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Merge("add", ("sc",)),
                        Layer("relu"),
                    ),
                )
            )
            if bad:
                self.intent = "block:basic_channels"
                self.emit(Inst(name, (self.chan(avoid=c),)))
            else:
                self.emit(Inst(name, (c,), repeat=rng.choice((1, 1, 2, 3))))
            return True
        if kind == "down":
            if bad and m < 3:
                return False
            # S: the main path's stride, T: the shortcut's (normally equal)
            name = self.define(
                BlockDef(
                    f"down{nd}",
                    (("C", None), ("S", 2), ("T", 2)),
                    (
                        As("sc"),
                        Layer(conv, ("C",), (("k", 3), ("s", "S"), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1), ("bias", False))),
                        Layer("bn"),
                        As("mn"),
                        From("sc"),
                        Layer(conv, ("C",), (("k", 1), ("s", "T"), ("bias", False))),
                        Layer("bn"),
                        Merge("add", ("mn",)),
                        Layer("relu"),
                    ),
                )
            )
            if bad:
                self.intent = "block:down_strides"
                if rng.random() < 0.5:
                    self.emit(Inst(name, (self.chan(),), (("T", 1),)))
                else:
                    self.emit(Inst(name, (self.chan(), 1, 2)))
            elif m >= 2 and rng.random() < 0.7:
                self.emit(Inst(name, (self.chan(),)))
            else:
                self.emit(Inst(name, (self.chan(),), (("S", 1), ("T", 1))))
            return True
        if bad:
            return False
        name = self.define(
            BlockDef(
                f"bneck{nd}",
                (("C", None), ("M", None), ("S", 1)),
                (
                    As("sc"),
                    Layer(conv, ("M",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("M",), (("k", 3), ("s", "S"), ("p", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("C",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    As("mn"),
                    From("sc"),
                    Layer(conv, ("C",), (("k", 1), ("s", "S"), ("bias", False))),
                    Layer("bn"),
                    Merge("add", ("mn",)),
                    Layer("relu"),
                ),
            )
        )
        if m >= 2 and rng.random() < 0.5:
            self.emit(Inst(name, (self.chan(), self.chan()), (("S", 2),)))
        else:
            self.emit(Inst(name, (self.chan(), self.chan())))
        return True

    def m_inception(self, bad: bool) -> bool:
        """Parallel branches from one tensor, concatenated (Inception)."""
        rng, m = self.rng, self.spatial()
        x = self.fresh()
        nb = rng.randint(2, 4)
        wrong = rng.randrange(nb) if bad else -1
        if bad:
            self.intent = "concat:spatial"
        self.emit(As(x))
        branches = []
        for i in range(nb):
            if i:
                self.emit(From(x))
            if i == wrong:  # a branch that changes the spatial size
                if m >= 3 and rng.random() < 0.5:
                    self.emit(self.conv_layer(self.chan(), 3, 2, 1))
                else:
                    self.emit(self.conv_layer(self.chan(), 3, 1, 0 if m >= 3 else 2))
            else:
                form = rng.randrange(3)
                if form == 0:
                    self.emit(self.conv_layer(self.chan(), 1))
                elif form == 1:
                    k = rng.choice((3, 5))
                    self.emit(self.conv_layer(self.chan(), 1), Layer("relu"))
                    self.emit(self.conv_layer(self.chan(), k, 1, k // 2))
                else:
                    pool = rng.choice(("maxpool", "avgpool"))
                    self.emit(Layer(pool, (), (("k", 3), ("s", 1), ("p", 1))))
                    self.emit(self.conv_layer(self.chan(), 1))
            branches.append(self.fresh())
            self.emit(As(branches[-1]))
        # either the current tensor is listed (cat(branches)) or it goes first
        names = tuple(branches) if rng.random() < 0.5 else tuple(branches[:-1])
        self.emit(Merge(rng.choice(("concat", "concat", "cat")), names))
        return True

    def m_dense(self, bad: bool) -> bool:
        """DenseNet layers: each concatenates its new features to its input."""
        if bad:
            return False
        rng, conv = self.rng, self.conv
        name = self.define(
            BlockDef(
                f"dlayer{conv[-2]}",
                (("G", None), ("B", None)),
                (
                    As("d0"),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("B",), (("k", 1), ("bias", False))),
                    Layer("bn"),
                    Layer("relu"),
                    Layer(conv, ("G",), (("k", 3), ("p", 1), ("bias", False))),
                    As("d1"),
                    Merge("concat", ("d0", "d1")),
                ),
            )
        )
        g = rng.choice((4, 8, 12))
        self.emit(Inst(name, (g, 4 * g), repeat=rng.randint(1, 3)))
        return True

    def m_gate(self, bad: bool) -> bool:
        """SE gate (C,H,W)*(C,1,1), spatial gate (C,H,W)*(1,H,W), or both."""
        rng, c = self.rng, self.shape()[0]
        form = rng.randrange(4)
        if form == 0:  # SE as a block
            conv = self.conv
            name = self.define(
                BlockDef(
                    f"se{conv[-2]}",
                    (("C", None), ("R", None)),
                    (
                        As("u"),
                        Layer("gap"),
                        Layer(conv, ("R",), (("k", 1),)),
                        Layer("relu"),
                        Layer(conv, ("C",), (("k", 1),)),
                        Merge("mul", ("u",)),
                    ),
                )
            )
            r = max(1, c // 4)
            if bad:
                self.intent = "gate:channels"
                self.emit(Inst(name, (self.chan(avoid=c), r)))
            else:
                self.emit(Inst(name, (c,), (("R", r),)))
            return True
        x = self.fresh()
        self.emit(As(x))
        if form == 1:  # inline SE
            out = rng.choice((c, c, c, 1))
            if bad:
                out = self.chan(avoid=c)
                self.intent = "gate:channels"
            self.emit(Layer("gap"), self.conv_layer(max(1, c // 2), 1), Layer("relu"))
            self.emit(self.conv_layer(out, 1), Merge("mul", (x,)))
        elif form == 2:  # spatial gate
            if bad:
                self.intent = "gate:spatial"
                self.emit(self.conv_layer(1, 3, 1, 0 if self.spatial() >= 3 else 2))
            else:
                k = rng.choice((1, 3, 7))
                self.emit(self.conv_layer(1, k, 1, k // 2))
            self.emit(Merge("mul", (x,)))
        else:  # channel gate times spatial gate, times x (CBAM-like)
            y = self.fresh()
            self.emit(Layer("gap"), self.conv_layer(c, 1), As(y), From(x))
            if bad:
                self.intent = "gate:channels"
                self.emit(self.conv_layer(self.chan(avoid=c), 1))
            else:
                self.emit(self.conv_layer(1, 1))
            self.emit(Merge("mul", (y,)), Merge("mul", (x,)))
        return True

    def m_shuffle(self, bad: bool) -> bool:
        """ShuffleNet v2 unit: split the channels, transform one half, concatenate."""
        rng, c = self.rng, self.shape()[0]
        if c < 2:
            return False
        a, b, br = self.fresh(), self.fresh(), self.fresh()
        if bad:
            mode = rng.choice(("sum", "count", "count"))
            self.intent = f"split:{mode}"
            if mode == "sum":
                s1 = rng.randint(1, c)
                s2 = rng.choice([v for v in range(1, c + 3) if v != c - s1])
                self.emit(Split("split", (s1, s2), (a, b)))
            else:  # as many names as chunks asked for, but torch.chunk makes another number
                n = rng.randint(2, 5)
                made = len(torch.chunk(torch.zeros(c), n))
                count = made + rng.choice((-1, 1)) if made > 1 else made + 1
                self.emit(Split("chunk", (n,), tuple(self.fresh() for _ in range(count))))
                return True
        elif c % 2 == 0 and rng.random() < 0.6:
            self.emit(Split("chunk", (2,), (a, b)))
        else:
            self.emit(Split("split", sizes_between(rng, c, 2), (a, b)))
        self.emit(From(b))
        w = self.shape()[0]
        self.emit(self.conv_layer(w, 1, bias=False), Layer("bn"), Layer("relu"))
        self.emit(self.conv_layer(w, 3, 1, 1, g=w, bias=False), Layer("bn"))
        self.emit(self.conv_layer(w, 1, bias=False), Layer("relu"), As(br))
        if rng.random() < 0.5:
            self.emit(Merge("concat", (a, br)))
        else:
            self.emit(From(a), Merge("concat", (br,)))
        return True

    def m_split_many(self, bad: bool) -> bool:
        """split/chunk into 2-4 parts along the channels or a spatial dim; some parts are
        left unused, the others concatenated back along the same dim."""
        rng, shape = self.rng, self.shape()
        dim = 1 if rng.random() < 0.6 else rng.randrange(2, len(shape) + 1)
        size = shape[dim - 1]
        if bad or size < 3:
            return False
        n = rng.randint(2, min(4, size))
        written = None if dim == 1 else dim
        if rng.random() < 0.5:
            made = len(torch.chunk(torch.zeros(size), n))
            names = tuple(self.fresh() for _ in range(made))
            self.emit(Split("chunk", (n,), names, written))
        else:
            names = tuple(self.fresh() for _ in range(n))
            self.emit(Split("split", sizes_between(rng, size, n), names, written))
        keep = [nm for nm in names if rng.random() < 0.7] or [names[0]]
        self.emit(From(keep[0]))
        if len(keep) > 1:
            cat_dim = -1 if dim == len(shape) and rng.random() < 0.5 else written
            self.emit(Merge("concat", tuple(keep), cat_dim))
        return True

    def m_crop(self, bad: bool) -> bool:
        """U-Net crop-and-concat: the skip is cropped to the (smaller) decoder tensor."""
        rng, m = self.rng, self.spatial()
        e, d = self.fresh(), self.fresh()
        if bad:  # the "decoder" tensor grew: cropping the skip to it is impossible
            self.intent = "crop:larger"
            self.emit(As(e), self.conv_layer(self.chan(), 3, 1, 2), Layer("relu"), As(d))
            self.emit(From(e), Crop(d), Merge("concat", (d,)))
            return True
        if m < 5:
            return False
        if rng.random() < 0.4:  # as a block taking the skip's name as a parameter
            conv = self.conv
            name = self.define(
                BlockDef(
                    f"updec{conv[-2]}",
                    (("SKIP", None), ("C", None)),
                    (
                        Layer(conv, ("C",), (("k", 3),)),
                        Layer("relu"),
                        As("up"),
                        From("SKIP"),
                        Crop("up"),
                        Merge("concat", ("up",)),
                    ),
                )
            )
            self.emit(As(e), Inst(name, (e, self.chan())))
            return True
        self.emit(As(e), self.conv_layer(self.chan(), 3), Layer("relu"))
        if rng.random() < 0.5 and m >= 7:
            self.emit(self.conv_layer(self.chan(), 3), Layer("relu"))
        self.emit(As(d), From(e), Crop(d))
        if rng.random() < 0.5:
            self.emit(Merge("concat", (d,)))  # cat([crop(e), d])
        else:
            cropped = self.fresh()
            self.emit(As(cropped), From(d), Merge("concat", (cropped,)))  # cat([d, crop(e)])
        return True

    def m_shared(self, bad: bool) -> bool:
        """A layer (or block instance) named and applied again with the same weights."""
        rng, c, conv = self.rng, self.shape()[0], self.conv
        self.count += 1
        name = f"sh{self.count}"
        if bad:  # the shared conv maps c -> out, then meets out channels
            self.intent = "shared:channels"
            out = self.chan(avoid=c)
            self.emit(Layer(conv, (out,), (("k", 3), ("p", 1)), name=name))
            self.emit(Layer("relu"), Use(name))
            return True
        form = rng.randrange(4)
        if form == 0:  # a block instance used again
            block = self.define(
                BlockDef(
                    f"unit{conv[-2]}",
                    (("C", None),),
                    (
                        As("pa"),
                        Layer(conv, ("C",), (("k", 3), ("p", 1))),
                        Layer("relu"),
                        Merge("add", ("pa",)),
                    ),
                )
            )
            self.emit(Inst(block, (c,), name=name), Layer("relu"), Use(name))
        elif form == 1:  # recursive: the same conv again and again
            self.emit(Layer(conv, (c,), (("k", 3), ("p", 1)), name=name), Layer("relu"))
            for _ in range(rng.randint(1, 2)):
                self.emit(Use(name), Layer("relu"))
        else:  # siamese: the same conv on two branches, then merged
            x, y = self.fresh(), self.fresh()
            pool = rng.choice(("maxpool", "avgpool"))
            self.emit(As(x), Layer(pool, (), (("k", 3), ("s", 1), ("p", 1))))
            self.emit(Layer(conv, (self.chan(),), (("k", 3), ("p", 1)), name=name), As(y))
            self.emit(From(x), Use(name), Merge(rng.choice(("add", "mul", "concat")), (y,)))
        return True

    def m_side(self, bad: bool) -> bool:
        """A side output (an auxiliary head): named, never used."""
        if bad or self.guide.current == 0:  # a network is more than its side outputs
            return False
        rng = self.rng
        s, aux = self.fresh(), self.fresh()
        self.emit(As(s))
        if rng.random() < 0.2:
            self.emit(From("input"))  # a head on the network's input
        if rng.random() < 0.5:
            self.emit(self.conv_layer(self.chan(), 1), Layer("relu"))
        self.emit(Layer("gap"), Layer("flatten"), Layer("linear", (rng.choice((10, 100)),)))
        self.emit(As(aux), From(s))
        return True

    def m_cat_spatial(self, bad: bool) -> bool:
        """concat along a spatial dim (2, 3 or -1)."""
        rng, shape = self.rng, self.shape()
        c = shape[0]
        x = self.fresh()
        dim = rng.choice([*range(2, len(shape) + 1), -1])
        if bad and rng.random() < 0.3:
            self.intent = "concat:dim_range"
            self.emit(As(x), Layer("relu"), Merge("concat", (x,), len(shape) + 1))
        elif bad:
            self.intent = "concat:channels"
            self.emit(As(x), self.conv_layer(self.chan(avoid=c), 3, 1, 1))
            self.emit(Merge("concat", (x,), dim))
        else:
            self.emit(As(x), self.conv_layer(c, 3, 1, 1), Merge("concat", (x,), dim))
        return True

    def m_add3(self, bad: bool) -> bool:
        """An add or mul of three tensors (the current one first)."""
        rng, c = self.rng, self.shape()[0]
        x, a, b = self.fresh(), self.fresh(), self.fresh()
        self.emit(As(x), self.conv_layer(c, 3, 1, 1), As(a), From(x))
        if bad:
            self.intent = "add:channels"
            self.emit(self.conv_layer(self.chan(avoid=c), 1))
        else:
            self.emit(self.conv_layer(rng.choice((c, c, 1)), 1))
        self.emit(As(b), From(x), Merge(rng.choice(("add", "mul")), (a, b)))
        return True

    # -- the flat part, after flatten -------------------------------------------

    def m_head(self) -> None:
        rng = self.rng
        self.flat = True
        self.emit(Layer("gap"), Layer("flatten"), Layer("linear", (rng.choice((16, 32, 64)),)))
        if rng.random() < 0.3:
            self.emit(Layer("bn"))
        self.emit(Layer("relu"))

    def f_motif(self, bad: bool) -> bool:
        rng, f = self.rng, self.shape()[0]
        form = rng.randrange(4)
        if bad and form in (1, 2):
            return False
        h, q = self.fresh(), self.fresh()
        if form == 0:  # residual MLP
            out = f
            if bad:
                out = self.chan(avoid=f)
                self.intent = "flat:add"
            self.emit(As(h), Layer("linear", (f,)), Layer("relu"), Layer("linear", (out,)))
            self.emit(Merge("add", (h,)))
        elif form == 1:  # tied (shared) linear
            self.count += 1
            name = f"sh{self.count}"
            self.emit(Layer("linear", (f,), (("bias", False),), name=name), Layer("relu"))
            self.emit(Use(name))
        elif form == 2:  # two heads concatenated
            self.emit(As(h), Layer("linear", (self.chan(),)), As(q), From(h))
            self.emit(Layer("linear", (self.chan(),)), Merge("concat", (q,)))
        else:  # the features split in two
            if f < 2:
                return False
            a, b = self.fresh(), self.fresh()
            if bad:
                self.intent = "split:sum"
                self.emit(Split("split", (f // 2, f // 2 + 1), (a, b)))
            else:
                self.emit(Split("split", (f // 2, f - f // 2), (a, b), rng.choice((None, -1))))
            self.emit(Layer("linear", (self.chan(),)), As(q), From(b))
            self.emit(Layer("linear", (self.chan(),)), Merge("concat", (q,)))
        return True

    MOTIFS: tuple[tuple[str, int], ...] = (
        ("m_conv", 6),
        ("m_pool", 2),
        ("m_residual", 3),
        ("m_resblock", 3),
        ("m_inception", 2),
        ("m_dense", 2),
        ("m_gate", 2),
        ("m_shuffle", 2),
        ("m_split_many", 1),
        ("m_crop", 2),
        ("m_shared", 2),
        ("m_side", 1),
        ("m_cat_spatial", 1),
        ("m_add3", 1),
    )

    def motif(self, bad: bool) -> None:
        names = [m for m, _ in self.MOTIFS]
        weights = [w for _, w in self.MOTIFS]
        for _ in range(100):
            if getattr(self, self.rng.choices(names, weights)[0])(bad):
                return
        raise AssertionError("no motif fits")

    def draw(self) -> Graph:
        rng = self.rng
        bad = rng.random() < BAD_SHARE
        n = rng.randint(1, 4)
        head = rng.random() < 0.6
        bad_at = rng.randrange(n + head) if bad else -1
        try:
            for i in range(n):
                self.motif(i == bad_at)
            if head:
                self.m_head()
                for _ in range(rng.randint(0, 2)):
                    while not self.f_motif(False):
                        pass
                if bad_at == n:
                    while not self.f_motif(True):
                        pass
                if rng.random() < 0.8:
                    self.emit(Layer("linear", (rng.choice((2, 10)),)))
        except Stop:
            pass
        if self.failed and rng.random() < 0.5:
            # statements after the failure: convcalc must still stop at the first one
            if not self.flat:
                self.emit(Layer("relu"), Layer("gap"), Layer("flatten"))
            self.emit(Layer("relu"), Layer("linear", (10,)))
        return self.g
