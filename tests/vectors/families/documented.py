"""The networks shown in docs/, the README and examples/, built by hand in PyTorch."""

from __future__ import annotations

from collections.abc import Callable

from common import Layer, Shape
from torch import nn

from families.linear import Lookup


def zoo_chains(
    layer: Callable[[str, Callable[[], nn.Module]], Layer],
    conv: Callable[..., Callable[[], nn.Module]],
) -> list[tuple[str, Shape, list[Layer]]]:
    """examples/*.spec (AlexNet, VGG-16, MobileNet v1, LeNet-5), built here layer by
    layer as torchvision and the papers define them; each spec is the file's layers
    joined by newlines (tests/test_examples.py checks the files say the same)."""
    relu = lambda: layer("relu", nn.ReLU)  # noqa: E731
    maxpool = lambda k, s: layer(  # noqa: E731
        f"maxpool k={k}" + (f" s={s}" if s != k else ""), lambda: nn.MaxPool2d(k, s)
    )

    def conv_relu(cin: int, cout: int, k: int, s: int = 1, p: int = 0) -> list[Layer]:
        text = f"conv2d {cout} k={k}" + (f" s={s}" if s != 1 else "") + (f" p={p}" if p else "")
        return [layer(text, conv(cin, cout, k, s, p)), relu()]

    def dropout_linear(fin: int, fout: int) -> list[Layer]:
        return [
            layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
            layer(f"linear {fout}", lambda: nn.Linear(fin, fout)),
        ]

    alexnet = [
        *conv_relu(3, 64, 11, 4, 2), maxpool(3, 2),
        *conv_relu(64, 192, 5, 1, 2), maxpool(3, 2),
        *conv_relu(192, 384, 3, 1, 1),
        *conv_relu(384, 256, 3, 1, 1),
        *conv_relu(256, 256, 3, 1, 1), maxpool(3, 2),
        layer("adaptiveavgpool 6", lambda: nn.AdaptiveAvgPool2d((6, 6))),
        layer("flatten", nn.Flatten),
        *dropout_linear(256 * 6 * 6, 4096), relu(),
        *dropout_linear(4096, 4096), relu(),
        layer("linear 1000", lambda: nn.Linear(4096, 1000)),
    ]  # fmt: skip
    vgg16: list[Layer] = []
    cin = 3
    for cfg in [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]:
        for cout in cfg:
            vgg16 += conv_relu(cin, cout, 3, 1, 1)
            cin = cout
        vgg16.append(maxpool(2, 2))
    vgg16 += [
        layer("adaptiveavgpool 7", lambda: nn.AdaptiveAvgPool2d((7, 7))),
        layer("flatten", nn.Flatten),
        layer("linear 4096", lambda: nn.Linear(512 * 7 * 7, 4096)), relu(),
        layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
        layer("linear 4096", lambda: nn.Linear(4096, 4096)), relu(),
        layer("dropout p=0.5", lambda: nn.Dropout(0.5)),
        layer("linear 1000", lambda: nn.Linear(4096, 1000)),
    ]  # fmt: skip

    def bn_relu(c: int) -> list[Layer]:
        return [layer("bn", lambda: nn.BatchNorm2d(c)), relu()]

    mobilenet = [layer("conv2d 32 k=3 s=2 p=1 bias=false", conv(3, 32, 3, 2, 1, bias=False))]
    mobilenet += bn_relu(32)
    cin = 32
    for cout, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                    (1024, 2), (1024, 1)]:  # fmt: skip
        c = cin
        mobilenet.append(
            layer(
                f"conv2d k=3 s={s} p=1 g=dw bias=false",
                lambda c=c, s=s: nn.Conv2d(c, c, 3, s, 1, groups=c, bias=False),
            )
        )
        mobilenet += bn_relu(cin)
        mobilenet.append(layer(f"conv2d {cout} k=1 bias=false", conv(cin, cout, 1, bias=False)))
        mobilenet += bn_relu(cout)
        cin = cout
    mobilenet += [
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 1000", lambda: nn.Linear(1024, 1000)),
    ]
    tanh = lambda: layer("tanh", nn.Tanh)  # noqa: E731
    lenet = [
        layer("conv2d 6 k=5", conv(1, 6, 5)), tanh(), layer("avgpool k=2", lambda: nn.AvgPool2d(2)),
        layer("conv2d 16 k=5", conv(6, 16, 5)), tanh(), layer("avgpool k=2", lambda: nn.AvgPool2d(2)),
        layer("flatten", nn.Flatten),
        layer("linear 120", lambda: nn.Linear(400, 120)), tanh(),
        layer("linear 84", lambda: nn.Linear(120, 84)), tanh(),
        layer("linear 10", lambda: nn.Linear(84, 10)),
    ]  # fmt: skip
    return [
        ("\n".join(x.text for x in chain), shape, chain)
        for chain, shape in [
            (alexnet, [3, 224, 224]),
            (vgg16, [3, 224, 224]),
            (mobilenet, [3, 224, 224]),
            (lenet, [1, 32, 32]),
        ]
    ]


def documented_chains() -> list[tuple[str, Shape, list[Layer]]]:
    """The networks shown in docs/, the README and examples/, built by hand in
    PyTorch: the figures users read in the docs are checked like every other case."""

    def layer(text: str, make: Callable[[], nn.Module]) -> Layer:
        return Layer("documented", text, make)

    def conv(
        cin: int, cout: int, k: int, s: int = 1, p: int = 0, bias: bool = True
    ) -> Callable[[], nn.Module]:
        return lambda: nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias)

    spec_chain = [
        layer("conv2d 64 k=7 s=2 p=3", conv(3, 64, 7, 2, 3)),
        layer("maxpool2d k=3 s=2 p=1", lambda: nn.MaxPool2d(3, 2, 1)),
        layer("conv2d 128 k=3 s=2 p=1", conv(64, 128, 3, 2, 1)),
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 10", lambda: nn.Linear(128, 10)),
    ]
    stem = [
        layer("conv2d 64 k=7 s=2 p=3 bias=false", conv(3, 64, 7, 2, 3, bias=False)),
        layer("bn", lambda: nn.BatchNorm2d(64)),
        layer("relu", nn.ReLU),
        layer("maxpool k=3 s=2 p=1", lambda: nn.MaxPool2d(3, 2, 1)),
    ]
    for _ in range(2):
        stem += [
            layer("conv2d 64 k=3 p=1 bias=false", conv(64, 64, 3, 1, 1, bias=False)),
            layer("bn", lambda: nn.BatchNorm2d(64)),
            layer("relu", nn.ReLU),
        ]
    mnist = [
        layer("conv2d 32 k=3", conv(1, 32, 3)),
        layer("relu", nn.ReLU),
        layer("conv2d 64 k=3", conv(32, 64, 3)),
        layer("relu", nn.ReLU),
        layer("maxpool k=2", lambda: nn.MaxPool2d(2)),
        layer("dropout p=0.25", lambda: nn.Dropout(0.25)),
        layer("flatten", nn.Flatten),
        layer("linear 128", lambda: nn.Linear(9216, 128)),
        layer("relu", nn.ReLU),
        layer("linear 10", lambda: nn.Linear(128, 10)),
    ]
    small = [
        layer("conv2d 16 k=3 p=1", conv(3, 16, 3, 1, 1)),
        layer("bn", lambda: nn.BatchNorm2d(16)),
        layer("relu", nn.ReLU),
        layer("gap", lambda: nn.AdaptiveAvgPool2d(1)),
        layer("flatten", nn.Flatten),
        layer("linear 10", lambda: nn.Linear(16, 10)),
    ]
    sequence = [
        layer("embedding 32000 512", lambda: Lookup(nn.Embedding(32000, 512))),
        layer("rmsnorm", lambda: nn.RMSNorm(512)),
        layer("linear 2048", lambda: nn.Linear(512, 2048)),
        layer("glu", nn.GLU),
        layer("linear 512", lambda: nn.Linear(1024, 512)),
    ]
    return [
        *zoo_chains(layer, conv),
        ("  ".join(x.text for x in spec_chain), [3, 224, 224], spec_chain),
        (" ".join(x.text for x in sequence), [128], sequence),
        ("\n".join(x.text for x in stem), [3, 224, 224], stem),
        ("\n".join(x.text for x in mnist), [1, 28, 28], mnist),
        (" ".join(x.text for x in small), [3, 32, 32], small),
        (" ; ".join(x.text for x in spec_chain[:2]), [3, 224, 224], spec_chain[:2]),
    ]
