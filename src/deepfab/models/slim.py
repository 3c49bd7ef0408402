"""``SlimResNet``: lecture 1's ResNet with a width per residual stage and per block, so a pruned net rebuilds.

Channel pruning (``deepfab.compress.channels``) removes filters from every conv, so a pruned
ResNet no longer has the widths w, 2w, 4w, 8w that ``ResNet(width=w)`` builds. ``SlimResNet`` takes
them as data instead: ``stem`` (the stem conv's output), ``widths[i]`` (the residual stream of
stage i: every block's second conv, its shortcut, and the next stage's input) and ``inner[i][j]``
(the first conv of block j of stage i). Its ``config`` holds them, so a pruned model rebuilds from
its config and a ``state_dict`` loaded with ``weights_only=True`` — no pickled code.

    from deepfab.models import SlimResNet, ResNet
    net = SlimResNet.like(ResNet(width=16))          # the same layers; loads the ResNet's state_dict
    small = SlimResNet(stem=8, widths=(8, 16, 32, 64), inner=((5,), (11,), (20,), (40,)))

Module names follow ``ResNet`` (``stem``, ``features.<k>.conv1`` ..., ``head.2``), so with the
ResNet's widths the two state_dicts have the same keys and shapes. A block has a 1x1 conv
shortcut when it changes the resolution or the width (``stem != widths[0]`` gives the first block one).

Introduced in lecture 12 (pruning and compression).

References: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016;
H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf, "Pruning Filters for Efficient ConvNets", ICLR 2017.
"""
from __future__ import annotations

from torch import nn

from .base import ZooNet, check_positive_ints, conv_bn
from .cnn_modern import BasicBlock


class SlimResNet(ZooNet):
    """ResNet of basic blocks with explicit widths: ``len(inner[i])`` blocks in stage i; stages 2.. halve
    the resolution. The defaults are ``ResNet(width=16, blocks=(1, 1, 1, 1))``."""

    arch = "slim_resnet"
    min_size = 16

    def __init__(self, in_channels: int = 2, num_classes: int = 9, stem: int = 16, widths: tuple = (16, 32, 64, 128),
                 inner: tuple = ((16,), (32,), (64,), (128,))):
        widths = tuple(widths)
        inner = tuple(tuple(stage) for stage in inner)
        check_positive_ints("slim_resnet", stem=stem, widths=widths)
        for i, stage in enumerate(inner):
            check_positive_ints("slim_resnet", **{f"inner[{i}]": stage})
        if len(inner) != len(widths):
            raise ValueError(f"slim_resnet: inner must have one tuple of block widths per stage ({len(widths)}); "
                             f"got {len(inner)}")
        super().__init__(in_channels, num_classes, stem=stem, widths=list(widths),
                         inner=[list(stage) for stage in inner])
        self.stem = conv_bn(in_channels, stem, 3)
        layers, cin = [], stem
        for i, (cout, mids) in enumerate(zip(widths, inner)):
            for j, mid in enumerate(mids):
                layers.append(BasicBlock(cin, cout, stride=2 if (i > 0 and j == 0) else 1, mid=mid))
                cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))

    def forward(self, x):
        self.check_input(x)                                   # (N, C, S, S)
        return self.head(self.features(self.stem(x)))         # (N, num_classes)

    @classmethod
    def like(cls, net: nn.Module) -> SlimResNet:
        """A SlimResNet with the layer shapes of ``net`` (a ``ResNet`` or ``SlimResNet``), untrained."""
        cfg = getattr(net, "config", None)
        if not isinstance(cfg, dict) or cfg.get("arch") not in ("resnet", "slim_resnet"):
            raise ValueError(f"SlimResNet.like needs a ResNet or SlimResNet; got {type(net).__name__}")
        if cfg["arch"] == "slim_resnet":
            return cls(**{k: v for k, v in cfg.items() if k != "arch"})
        w, blocks = cfg["width"], cfg["blocks"]
        widths = tuple(w * 2 ** i for i in range(len(blocks)))
        return cls(cfg["in_channels"], cfg["num_classes"], stem=w, widths=widths,
                   inner=tuple((c,) * n for c, n in zip(widths, blocks)))
