"""Segmentation networks: a small FCN (FCN-8s style) and a U-Net, in plain torch.

Introduced in lecture 4 (image segmentation). Both map a wafer map ``(N, C_in, H, W)`` to per-die
logits ``(N, num_classes, H, W)`` of the same height and width, for any H and W: the input is
zero-padded up to a multiple of ``2**depth`` (a no-die border, as on a real map) and the output
cropped back. Both upsample with transposed convolutions (``nn.ConvTranspose2d``).

    from deepfab.models.segmentation import FCN, UNet, build_segmenter
    net = UNet(in_channels=2, num_classes=1, width=16, depth=3)
    logits = net(x)                         # (N, 1, H, W); mask = logits > 0
    net2 = build_segmenter(net.config)      # a fresh copy from its stored config

FCN: an encoder of ``depth`` stages (two 3x3 conv-BN-ReLU, then a 2x2 max-pool), a 1x1 "score"
convolution at the coarsest stride, then ``skips`` times: a stride-2 transposed convolution
(initialised to bilinear interpolation, as in the paper) plus the 1x1 score of the encoder stage
of that stride; a last transposed convolution upsamples by the remaining factor. With
``depth=4, skips=2`` it fuses strides 16, 8 and 4 as FCN-8s fuses 32, 16 and 8.

U-Net: the same encoder, a bottleneck, and a decoder that at each stride upsamples with a
2x2 stride-2 transposed convolution, concatenates the encoder features of that stride (the skip
connection) and applies two 3x3 convolutions. Convolutions are padded ("same"), unlike the
paper's unpadded ones, so no cropping of the skips is needed.

References:
    Long, Shelhamer & Darrell, "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015.
    Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation",
    MICCAI 2015.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def bilinear_kernel(channels: int, k: int) -> torch.Tensor:
    """(channels, channels, k, k) weights that make ``ConvTranspose2d(k, stride=k//2)`` bilinear upsampling."""
    factor = (k + 1) // 2
    center = factor - 1 if k % 2 == 1 else factor - 0.5
    r = torch.arange(k, dtype=torch.float32)
    f = 1 - (r - center).abs() / factor                    # (k,) tent filter
    w = torch.zeros(channels, channels, k, k)
    w[range(channels), range(channels)] = f[:, None] * f[None, :]
    return w


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU (padded: H, W unchanged)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _up(c_in: int, c_out: int, factor: int, bilinear: bool) -> nn.ConvTranspose2d:
    """Transposed conv that multiplies H and W by ``factor``: k = 2f, s = f, p = f/2 (f even) -> out = in * f."""
    k, p = (2 * factor, factor // 2) if factor > 1 else (1, 0)
    up = nn.ConvTranspose2d(c_in, c_out, k, stride=factor, padding=p, bias=False)
    if bilinear and c_in == c_out and factor > 1:
        with torch.no_grad():
            up.weight.copy_(bilinear_kernel(c_in, k))
    return up


class _PadCrop(nn.Module):
    """Pads the input to a multiple of ``2**depth`` (zeros at bottom/right) and crops the output back."""

    def __init__(self, depth: int, in_channels: int):
        super().__init__()
        self.multiple, self.in_channels = 2 ** depth, in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__} expects (N, {self.in_channels}, H, W); got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        y = self._body(F.pad(x, (0, pw, 0, ph)) if ph or pw else x)
        return y[..., :h, :w]


class FCN(_PadCrop):
    """Fully convolutional network with ``skips`` skip fusions (FCN-8s style); see the module docstring."""

    def __init__(self, in_channels: int = 2, num_classes: int = 1, width: int = 16, depth: int = 4, skips: int = 2):
        if not (1 <= depth <= 6) or not (0 <= skips < depth) or width < 1 or num_classes < 1:
            raise ValueError(f"FCN needs 1 <= depth <= 6, 0 <= skips < depth, width >= 1, num_classes >= 1; "
                             f"got depth={depth}, skips={skips}, width={width}, num_classes={num_classes}")
        super().__init__(depth, in_channels)
        self.config = {"arch": "fcn", "in_channels": in_channels, "num_classes": num_classes,
                       "width": width, "depth": depth, "skips": skips}
        chans = [width * 2 ** min(i, 3) for i in range(depth)]          # channels of stage i (stride 2**(i+1))
        self.stages = nn.ModuleList(_block(c_in, c) for c_in, c in zip([in_channels] + chans[:-1], chans))
        # 1x1 scores of the coarsest stage and of the ``skips`` stages above it (strides 2**depth, 2**(depth-1), ...)
        self.scores = nn.ModuleList(nn.Conv2d(chans[depth - 1 - j], num_classes, 1) for j in range(skips + 1))
        self.ups = nn.ModuleList(_up(num_classes, num_classes, 2, bilinear=True) for _ in range(skips))
        self.final = _up(num_classes, num_classes, 2 ** (depth - skips), bilinear=True)
        self.depth, self.skips = depth, skips

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for stage in self.stages:
            x = F.max_pool2d(stage(x), 2)                              # stride doubles at every stage
            feats.append(x)
        y = self.scores[0](feats[-1])                                   # (N, K, H/2^depth, W/2^depth)
        for j in range(self.skips):
            y = self.ups[j](y) + self.scores[j + 1](feats[-2 - j])     # x2, then add the finer score
        return self.final(y)                                            # (N, K, H, W)


class UNet(_PadCrop):
    """U-Net with ``depth`` down/up steps and concatenated skip connections; see the module docstring."""

    def __init__(self, in_channels: int = 2, num_classes: int = 1, width: int = 16, depth: int = 3):
        if not (1 <= depth <= 6) or width < 1 or num_classes < 1:
            raise ValueError(f"UNet needs 1 <= depth <= 6, width >= 1, num_classes >= 1; "
                             f"got depth={depth}, width={width}, num_classes={num_classes}")
        super().__init__(depth, in_channels)
        self.config = {"arch": "unet", "in_channels": in_channels, "num_classes": num_classes,
                       "width": width, "depth": depth}
        chans = [width * 2 ** i for i in range(depth + 1)]  # level i at stride 2**i; level depth = bottleneck
        self.down = nn.ModuleList(_block(c_in, c) for c_in, c in zip([in_channels] + chans[:-1], chans))
        self.ups = nn.ModuleList(_up(chans[i + 1], chans[i], 2, bilinear=False) for i in range(depth))
        self.dec = nn.ModuleList(_block(2 * chans[i], chans[i]) for i in range(depth))
        self.head = nn.Conv2d(chans[0], num_classes, 1)

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)                                             # level i: (N, width*2^i, H/2^i, W/2^i)
        x = skips.pop()                                                 # bottleneck
        for i in reversed(range(len(self.ups))):
            x = self.ups[i](x)                                          # x2 in H, W; channels halved
            x = self.dec[i](torch.cat([skips[i], x], dim=1))           # skip connection: concatenate
        return self.head(x)                                             # (N, K, H, W)


SEGMENTERS = {"fcn": FCN, "unet": UNet}


def build_segmenter(config: dict) -> nn.Module:
    """A fresh FCN or U-Net from a ``model.config`` dict (weights are loaded separately)."""
    if not isinstance(config, dict) or config.get("arch") not in SEGMENTERS:
        raise ValueError(f"config must be a dict with 'arch' in {sorted(SEGMENTERS)}; got {config!r}")
    kw = dict(config)
    return SEGMENTERS[kw.pop("arch")](**kw)
