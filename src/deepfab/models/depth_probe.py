"""Why residual connections ease optimisation, measured: gradients at the first layer vs depth.

A plain stack of ``depth`` two-conv blocks and the same stack with identity shortcuts
(``BasicBlock``) are built with the same seed; one backward pass of the cross-entropy loss on a
batch gives the gradient norm at the stem conv (the first layer) and the loss itself. In the plain
stack the signal passes through 2 x depth random conv-BN-ReLU maps in both directions; with
shortcuts each block is x + F(x), so the Jacobian of a block is I + dF/dx and the first layer
keeps a direct path to the loss.

    rows = grad_norm_vs_depth(x, y, depths=(1, 4, 16))   # [{"depth", "kind", "grad_norm", "loss"}]

Introduced in lecture 1 (CNN architectures).

References: K. He, X. Zhang, S. Ren, J. Sun, CVPR 2016 (deep residual learning); D. Balduzzi et
al., "The shattered gradients problem", ICML 2017; G. Yang et al., "A mean field theory of batch
normalization", ICLR 2019 (gradient explosion in deep plain BN nets).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import conv_bn
from .cnn_modern import BasicBlock


class PlainBlock(BasicBlock):
    """A ``BasicBlock`` without its shortcut: y = ReLU(BN(conv(ReLU(BN(conv(x))))))."""

    def forward(self, x):
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


def stack(depth: int, residual: bool, in_channels: int = 2, num_classes: int = 9, width: int = 16) -> nn.Sequential:
    """Stem conv, ``depth`` blocks at constant width and resolution, global pool, linear."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int; got {depth!r}")
    block = BasicBlock if residual else PlainBlock
    return nn.Sequential(conv_bn(in_channels, width, 3), *[block(width, width) for _ in range(depth)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))


def grad_norm_vs_depth(x: torch.Tensor, y: torch.Tensor, depths=(1, 2, 4, 8, 16), width: int = 16,
                       seed: int = 0) -> list[dict]:
    """Gradient L2 norm of the first conv's weight at initialisation (train mode), and the loss,
    for plain and residual stacks of each depth; both kinds share the seed of each depth."""
    if x.ndim != 4 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, C, H, W) and y (N,); got {tuple(x.shape)} and {tuple(y.shape)}")
    rows = []
    for depth in depths:
        for kind in ("plain", "residual"):
            torch.manual_seed(seed)
            net = stack(depth, kind == "residual", x.shape[1], int(y.max()) + 1, width)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            g = net[0][0].weight.grad  # (width, C, 3, 3): the stem conv
            rows.append({"depth": depth, "kind": kind, "grad_norm": float(g.norm()), "loss": float(loss.detach())})
    return rows
