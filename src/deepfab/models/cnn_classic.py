"""The plain-chain CNNs of lecture 1: LeNet-5, an AlexNet-style net, VGG and Network-in-Network.

Each is a straight stack of layers, sized for small 2-channel wafer maps (S = 32..64) instead of
28x28 digits or 224x224 photographs. Widths are scaled down so that all four train on a CPU in a
minute; the *shapes* of the designs (kernel sizes, strides, where pooling sits, the classifier)
follow the papers.

    from deepfab.models import build_model
    net = build_model("vgg", in_channels=2, num_classes=9)   # (N, 2, S, S) -> (N, 9)

Introduced in lecture 1 (CNN architectures).

References: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, Proc. IEEE 86(11) 1998 (LeNet-5);
A. Krizhevsky, I. Sutskever, G. Hinton, NeurIPS 2012 (AlexNet); K. Simonyan, A. Zisserman,
ICLR 2015 (VGG); M. Lin, Q. Chen, S. Yan, ICLR 2014 (Network in Network).
"""
from __future__ import annotations

from torch import nn

from .base import ZooNet, check_positive_ints

VGG11_PLAN = (1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8, "M")  # VGG-11 "A": widths in units of `width`


class LeNet5(ZooNet):
    """LeNet-5: two 5x5 conv + average-pooling stages, then 120-84-classes fully connected.

    The 1998 net used squashing (tanh-like) units and subsampling; so does this one. The conv stack
    sees a 32x32 input exactly as in the paper (32 -> 28 -> 14 -> 10 -> 5); larger inputs are
    averaged down to the paper's 5x5 by an adaptive pool so the classifier keeps its 400 inputs.
    """

    arch = "lenet"

    def __init__(self, in_channels: int = 2, num_classes: int = 9):
        super().__init__(in_channels, num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.Tanh(), nn.AvgPool2d(2),  # (N, 6, 14, 14) at S=32
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),           # (N, 16, 5, 5)
            nn.AdaptiveAvgPool2d(5),                                   # identity at S=32
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        self.check_input(x)
        return self.classifier(self.features(x))


class AlexNetSmall(ZooNet):
    """AlexNet's recipe at wafer-map scale: five ReLU convs (big kernel first), overlapping 3x3/2
    max pooling, and a wide dropout-regularised fully connected classifier. (The 1998-2012 change:
    ReLU instead of tanh, max instead of average pooling, dropout, depth.) Local response
    normalisation is left out, as later work found it adds little."""

    arch = "alexnet"
    min_size = 24

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 32, hidden: int = 256,
                 dropout: float = 0.5):
        check_positive_ints("alexnet", width=width, hidden=hidden)
        super().__init__(in_channels, num_classes, width=width, hidden=hidden, dropout=dropout)
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),                                             # S=32: 32 -> 15
            nn.Conv2d(w, 2 * w, 5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),                                             # 15 -> 7
            nn.Conv2d(2 * w, 3 * w, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(3 * w, 3 * w, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(3 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),                                             # 7 -> 3
            nn.AdaptiveAvgPool2d(3),                                        # (N, 2w, 3, 3) for any S
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * w * 9, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        self.check_input(x)
        return self.classifier(self.features(x))


class VGG(ZooNet):
    """VGG: only 3x3 convs (two stacked 3x3 see what one 5x5 sees, with fewer weights and one more
    nonlinearity), doubling width after each 2x2 max pool. ``plan`` is VGG-11's configuration "A"
    with widths in units of ``width``; ``batch_norm`` adds BN after each conv (the common 'VGG-BN'
    variant, which trains in a few epochs without VGG's staged initialisation)."""

    arch = "vgg"
    min_size = 32

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 16, batch_norm: bool = True,
                 hidden: int = 128, dropout: float = 0.5):
        check_positive_ints("vgg", width=width, hidden=hidden)
        super().__init__(in_channels, num_classes, width=width, batch_norm=batch_norm, hidden=hidden,
                         dropout=dropout)
        layers, cin = [], in_channels
        for step in VGG11_PLAN:
            if step == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            cout = step * width
            layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
            cin = cout
        layers.append(nn.AdaptiveAvgPool2d(1))  # S=32 is already 1x1 after five pools
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        self.check_input(x)
        return self.classifier(self.features(x))


def nin_block(cin: int, cout: int, k: int) -> nn.Sequential:
    """One 'mlpconv' layer: a kxk conv followed by two 1x1 convs (a tiny MLP at every pixel)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True),
    )


class NiN(ZooNet):
    """Network in Network: mlpconv blocks, and no fully connected layer at all -- the last block
    emits one map per class and global average pooling turns each map into a logit."""

    arch = "nin"
    min_size = 16

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 32, dropout: float = 0.5):
        check_positive_ints("nin", width=width)
        super().__init__(in_channels, num_classes, width=width, dropout=dropout)
        w = width
        self.features = nn.Sequential(
            nin_block(in_channels, w, 5), nn.MaxPool2d(3, 2, padding=1),   # S=32: 32 -> 16
            nin_block(w, 2 * w, 5), nn.MaxPool2d(3, 2, padding=1),         # 16 -> 8
            nin_block(2 * w, 3 * w, 3), nn.MaxPool2d(3, 2, padding=1),     # 8 -> 4
            nn.Dropout(dropout),
            nn.Conv2d(3 * w, 3 * w, 3, padding=1), nn.ReLU(inplace=True),  # last mlpconv: the final
            nn.Conv2d(3 * w, 3 * w, 1), nn.ReLU(inplace=True),             # 1x1 maps to classes, no ReLU
            nn.Conv2d(3 * w, num_classes, 1),                              # (N, classes, 4, 4)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        self.check_input(x)
        return self.pool(self.features(x)).flatten(1)  # (N, classes)
