"""The branching CNNs of lecture 1: GoogLeNet (Inception), ResNet, MobileNet and DenseNet.

Sized for 2-channel wafer maps (S = 32..64): the ImageNet stems (7x7/2 conv + 3x3/2 pool) that
shrink 224 px to 56 px are replaced by one 3x3 conv (followed by one 3x3/2 pool in GoogLeNet and
DenseNet, whose blocks are the costliest per pixel), and widths are scaled down; each block
follows its paper. Every conv is followed by batch norm, as in the BN-era versions of these nets.

    from deepfab.models import build_model
    net = build_model("resnet", blocks=(2, 2, 2, 2))   # ResNet-18 layout at small widths

Introduced in lecture 1 (CNN architectures).

References: C. Szegedy et al., CVPR 2015 (GoogLeNet); K. He, X. Zhang, S. Ren, J. Sun, CVPR 2016
(ResNet); A. Howard et al., arXiv:1704.04861 2017 (MobileNet); G. Huang, Z. Liu, L. van der Maaten,
K. Weinberger, CVPR 2017 (DenseNet).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import ZooNet, check_positive_ints, conv_bn


class Inception(nn.Module):
    """Four parallel paths concatenated on channels: 1x1 | 1x1->3x3 | 1x1->5x5 | 3x3 pool->1x1.

    The 1x1 'reduce' convs shrink channels before the costly 3x3/5x5 convs (NiN's idea as a
    bottleneck). Output channels: c1 + c3 + c5 + cp.
    """

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, cp: int):
        super().__init__()
        self.b1 = conv_bn(cin, c1, 1)
        self.b3 = nn.Sequential(conv_bn(cin, c3r, 1), conv_bn(c3r, c3, 3))
        self.b5 = nn.Sequential(conv_bn(cin, c5r, 1), conv_bn(c5r, c5, 5))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), conv_bn(cin, cp, 1))
        self.out_channels = c1 + c3 + c5 + cp

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class GoogLeNet(ZooNet):
    """GoogLeNet at 1/8 of its widths: stem, inception 3a/3b, pool, 4a/4b, pool, 5a, global
    average pool, dropout, linear. (The auxiliary classifiers are left out; later work showed
    they matter little.)"""

    arch = "googlenet"
    min_size = 16

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 8, dropout: float = 0.2):
        check_positive_ints("googlenet", width=width)
        super().__init__(in_channels, num_classes, width=width, dropout=dropout)
        w = width  # GoogLeNet's widths divided by 64 and multiplied by w (w=8: 1/8 scale)

        def inc(cin, *cs):
            return Inception(cin, *(c * w // 8 for c in cs))

        self.stem = nn.Sequential(conv_bn(in_channels, 24 * w // 8, 3),      # (N, 24, S, S)
                                  nn.MaxPool2d(3, 2, padding=1))             # S -> S/2, as GoogLeNet's stem
        i3a = inc(24 * w // 8, 8, 12, 16, 2, 4, 4)                           # GoogLeNet 3a / 8
        i3b = inc(i3a.out_channels, 16, 16, 24, 4, 12, 8)                    # 3b / 8
        i4a = inc(i3b.out_channels, 24, 12, 26, 2, 6, 8)                     # 4a / 8
        i4b = inc(i4a.out_channels, 20, 14, 28, 3, 8, 8)                     # 4b / 8
        i5a = inc(i4b.out_channels, 32, 20, 40, 4, 16, 16)                   # 4e-5a / 8
        self.features = nn.Sequential(
            i3a, i3b, nn.MaxPool2d(3, 2, padding=1),                          # S/2 -> S/4
            i4a, i4b, nn.MaxPool2d(3, 2, padding=1),                          # -> S/8
            i5a,
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(i5a.out_channels, num_classes))

    def forward(self, x):
        self.check_input(x)
        return self.head(self.features(self.stem(x)))


class BasicBlock(nn.Module):
    """ResNet basic block: y = ReLU(F(x) + shortcut(x)), F = conv3x3-BN-ReLU-conv3x3-BN.

    The identity shortcut lets the gradient reach early layers unchanged (dL/dx = dL/dy (I + dF/dx)),
    so a deep stack starts near the identity map instead of near a random one. When the shape
    changes (stride 2 or more channels) the shortcut is a 1x1 strided conv + BN (option B).
    ``mid``: the channels between the two convs (default ``cout``; a channel-pruned block has fewer).
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, mid: int | None = None):
        super().__init__()
        mid = cout if mid is None else mid
        self.conv1 = nn.Conv2d(cin, mid, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(ZooNet):
    """ResNet with basic blocks: ``blocks=(1, 1, 1, 1)`` is ResNet-10, ``(2, 2, 2, 2)`` ResNet-18.
    Four stages, widths w, 2w, 4w, 8w; stages 2-4 halve the resolution."""

    arch = "resnet"
    min_size = 16

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 16,
                 blocks: tuple = (1, 1, 1, 1)):
        blocks = tuple(blocks)
        check_positive_ints("resnet", width=width, blocks=blocks)
        super().__init__(in_channels, num_classes, width=width, blocks=list(blocks))
        self.stem = conv_bn(in_channels, width, 3)
        layers, cin = [], width
        for i, n in enumerate(blocks):
            cout = width * 2 ** i
            for j in range(n):
                layers.append(BasicBlock(cin, cout, stride=2 if (i > 0 and j == 0) else 1))
                cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))

    def forward(self, x):
        self.check_input(x)
        return self.head(self.features(self.stem(x)))


def depthwise_separable(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 depthwise conv (one filter per channel, groups=cin) then 1x1 pointwise conv, each with
    BN + ReLU. Cost per output pixel: 9*cin + cin*cout multiply-adds instead of 9*cin*cout."""
    return nn.Sequential(conv_bn(cin, cin, 3, stride=stride, groups=cin), conv_bn(cin, cout, 1))


class MobileNet(ZooNet):
    """MobileNet (v1): a 3x3 stride-2 stem then depthwise-separable blocks, global pool, linear.
    ``width`` is the stem width; MobileNet's width multiplier alpha scales it."""

    arch = "mobilenet"
    min_size = 16
    PLAN = ((2, 1), (4, 2), (4, 1), (8, 2), (8, 1), (16, 2), (16, 1))  # (channels in units of width, stride)

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 16, dropout: float = 0.2):
        check_positive_ints("mobilenet", width=width)
        super().__init__(in_channels, num_classes, width=width, dropout=dropout)
        layers, cin = [conv_bn(in_channels, width, 3, stride=2)], width  # stride-2 stem, as MobileNet's
        for mult, stride in self.PLAN:
            layers.append(depthwise_separable(cin, mult * width, stride))
            cin = mult * width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(cin, num_classes))

    def forward(self, x):
        self.check_input(x)
        return self.head(self.features(x))


class DenseLayer(nn.Module):
    """DenseNet-BC layer: BN-ReLU-1x1 conv (4k) - BN-ReLU-3x3 conv (k); output concatenated to input."""

    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth), nn.ReLU(inplace=True), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False),
        )

    def forward(self, x):
        return torch.cat([x, self.body(x)], dim=1)  # (N, cin + k, H, W): every later layer sees x


class DenseNet(ZooNet):
    """DenseNet-BC: dense blocks of ``block_layers`` layers with growth rate ``growth``, joined by
    transitions (BN-ReLU-1x1 conv halving channels, 2x2 average pool)."""

    arch = "densenet"
    min_size = 16

    def __init__(self, in_channels: int = 2, num_classes: int = 9, growth: int = 12,
                 block_layers: tuple = (4, 4, 4)):
        block_layers = tuple(block_layers)
        check_positive_ints("densenet", growth=growth, block_layers=block_layers)
        super().__init__(in_channels, num_classes, growth=growth, block_layers=list(block_layers))
        c = 2 * growth
        layers = [conv_bn(in_channels, c, 3), nn.MaxPool2d(3, 2, padding=1)]  # stem: S -> S/2, as DenseNet's
        for b, n in enumerate(block_layers):
            for _ in range(n):
                layers.append(DenseLayer(c, growth))
                c += growth
            if b < len(block_layers) - 1:  # transition: compression 0.5, then halve the resolution
                layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, c // 2, 1, bias=False),
                           nn.AvgPool2d(2)]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))

    def forward(self, x):
        self.check_input(x)
        return self.head(self.features(x))
