"""Common ground of the CNN zoo: a base class that checks its input and remembers its config.

Every zoo model takes ``(N, in_channels, S, S)`` float tensors (for wafer maps: 2 channels,
wafer area and fail dies; S = 32, 48 or 64) and returns ``(N, num_classes)`` logits. It stores its
constructor keyword arguments in ``model.config`` so a checkpoint (``state_dict`` plus config) can
be rebuilt with ``deepfab.models.build_model(**config)`` without pickling code.

Introduced in lecture 1 (CNN architectures).

References: Y. LeCun et al., Proc. IEEE 1998 (LeNet-5); S. Ioffe, C. Szegedy, ICML 2015 (batch norm).
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def eval_mode(model: nn.Module):
    """Put ``model`` in eval mode inside the block and restore its previous mode after (even on error).

        with eval_mode(net), torch.no_grad():
            logits = net(x)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


class ZooNet(nn.Module):
    """Base class: input check and ``config``. Subclasses set ``arch`` and ``min_size``."""

    arch = "zoo"
    min_size = 16  # smallest S whose feature maps stay >= 1x1 through every pooling stage

    def __init__(self, in_channels: int, num_classes: int, **kw):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_classes", num_classes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int; got {value!r}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.config = {"arch": self.arch, "in_channels": in_channels, "num_classes": num_classes, **kw}

    def check_input(self, x: torch.Tensor) -> None:
        if isinstance(x, torch.fx.Proxy):  # torch.fx symbolic tracing (int8 quantization): no shapes to check
            return
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != self.in_channels:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.arch}: expected input (N, {self.in_channels}, H, W); got {got}")
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(f"{self.arch}: input must be at least {self.min_size}x{self.min_size}; "
                             f"got {x.shape[-2]}x{x.shape[-1]}")


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias: BN's shift replaces it) -> BatchNorm -> ReLU, 'same' padding for odd k."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def check_positive_ints(owner: str, **values) -> None:
    """Raise a clear error unless every value (or every item of a tuple value) is a positive int."""
    for name, value in values.items():
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in items):
            raise ValueError(f"{owner}: {name} must be positive int(s); got {value!r}")
