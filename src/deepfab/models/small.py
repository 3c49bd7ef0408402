"""SmallCNN: a three-block CNN with dropout and batch norm as switches, for regularization ablations.

Lecture 2 turns each regularizer on and off on the same network; this is that network. Each
block is conv 3x3 -> (BatchNorm) -> ReLU -> max-pool 2, widths w, 2w, 4w; then average pooling
to a ``head_pool`` x ``head_pool`` grid, (dropout) and one linear layer. The grid keeps *where*
on the wafer a feature fired (Center vs Edge-Loc differ only in place); ``head_pool=1`` is global
average pooling. About 11k parameters at w = 8 and 32 px, fast on a CPU.

    from deepfab.models.small import SmallCNN
    model = SmallCNN(in_channels=2, num_classes=9, width=8, dropout=0.3, batchnorm=True)
    logits = model(x)                      # x: (N, 2, S, S), S >= 8 -> (N, 9)

References: N. Srivastava et al., "Dropout", JMLR 15, 2014; S. Ioffe, C. Szegedy, "Batch
Normalization", ICML 2015; M. Lin, Q. Chen, S. Yan, "Network in Network", ICLR 2014 (global
average pooling).
"""
from __future__ import annotations

import torch
from torch import nn

from .base import ZooNet, check_positive_ints


class SmallCNN(ZooNet):
    """Three conv blocks + a pooled linear head; ``dropout`` and ``batchnorm`` switch regularizers."""

    arch = "small_cnn"
    min_size = 8  # three 2x poolings: 8 -> 1

    def __init__(self, in_channels: int = 2, num_classes: int = 9, width: int = 8,
                 dropout: float = 0.0, batchnorm: bool = False, head_pool: int = 4):
        check_positive_ints("SmallCNN", width=width, head_pool=head_pool)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"SmallCNN: dropout must be a probability in [0, 1); got {dropout!r}")
        if not isinstance(batchnorm, bool):
            raise ValueError(f"SmallCNN: batchnorm must be True or False; got {batchnorm!r}")
        super().__init__(in_channels, num_classes, width=width, dropout=float(dropout), batchnorm=batchnorm,
                         head_pool=head_pool)
        layers, cin = [], in_channels
        for cout in (width, 2 * width, 4 * width):
            layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=not batchnorm))  # BN's shift replaces the bias
            if batchnorm:
                layers.append(nn.BatchNorm2d(cout))
            layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)  # (N, 4w, S/8, S/8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(head_pool), nn.Flatten(),  # (N, 4w * head_pool^2)
                                  nn.Dropout(float(dropout)), nn.Linear(cin * head_pool ** 2, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.head(self.features(x))
